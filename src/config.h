/*
 * config.h -- everything the server is told at start-up, validated once.
 *
 * Filled in this order: built-in defaults, then the environment (the names
 * the Vonage sample uses: PORT, VONAGE_VIRTUAL_NUMBER,
 * VONAGE_SIGNATURE_SECRET...), then command-line flags. Every value is range-
 * checked in config_load(); after that the struct is read-only and passed
 * around as `const struct config *`. The signature secret comes from the
 * environment or a file (never argv, where `ps` would show it). The voice
 * apps' options are rows of the same table, declared by each app
 * (voice_app.h); config_load writes them into the app's own storage.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "log.h"
#include "ring.h"


#define CONFIG_PATH_MAX 512
#define CONFIG_SECRET_MAX 512
#define CONFIG_TOKEN_MAX 128    /* the stats and admin bearer tokens, with the NUL */
#define CONFIG_ORIGINS_MAX 16
#define CONFIG_ORIGIN_LEN 128
#define CONFIG_EXEMPT_MAX 32
#define CONFIG_PROXIES_MAX 16
#define CONFIG_HEADER_BYTES_MAX 16384   /* --max-header-bytes' ceiling */

enum event_loop { LOOP_POLL = 0, LOOP_LIBEV, LOOP_LIBUV };

struct config {
	char     listen[64];                 /* "" = all interfaces */
	int      port;
	char     tls_cert[CONFIG_PATH_MAX];  /* both set = TLS on */
	char     tls_key[CONFIG_PATH_MAX];
	char     public_url[256];            /* as given, for logs */
	char     public_base[256];           /* authority[/path] from public_url, "" = use Host */
	int      public_secure;              /* public_url scheme is https/wss */
	char     from_number[64];            /* VONAGE_VIRTUAL_NUMBER */
	char     talk_text[512];
	int      talk_text_set;              /* given: it replaces the app's own talk text */
	int      rate;                       /* 8000/16000/24000 for the NCCO content-type */
	uint32_t ring_slots;                 /* frames buffered per call */
	uint32_t slot_bytes;                 /* largest audio message accepted */
	int      max_calls;                  /* concurrent audio sockets */
	long     jwt_max_age_s;
	long     jwt_leeway_s;
	int      call_rate;                  /* new calls a second the jti table is sized for, 0 = from max_calls */
	char     application_id[128];        /* optional: must match the JWT claim */
	unsigned char secret[CONFIG_SECRET_MAX];
	size_t   secret_len;
	char     secret_source[CONFIG_PATH_MAX + 32]; /* where it came from, for the log */
	enum log_level log_level;
	enum log_format log_format;          /* plain (default) or json lines */
	int      ping_s;                     /* WebSocket ping interval */
	enum event_loop loop;

	/* voice apps (docs/apps.md); each app's own options are in the app */
	char     app[16];                    /* the app every call starts in */
	int      dtmf_switch;                /* digits 1..n switch a call between the apps on the list */
	int      app_memory_max_mb;          /* all calls' app buffers together, MiB */

	int      drain_timeout_s;            /* SIGTERM: how long open calls may go on, 0 = none */

	/* where accepted tokens' jti are kept (replay_store.h) */
	char     replay_file[CONFIG_PATH_MAX];   /* "" = this process's memory */
	char     replay_redis[256];          /* HOST:PORT, "" = none */
	int      replay_redis_timeout_ms;
	char     replay_redis_down[8];       /* "refuse" or "local" */
	int      replay_redis_tls;           /* TLS to Redis, verified */
	char     replay_redis_ca[CONFIG_PATH_MAX];   /* "" = the system trust store */
	char     replay_redis_user[128];     /* ACL user, "" = AUTH <password> only */
	char     replay_redis_password_file[CONFIG_PATH_MAX];   /* "" = no AUTH */
	char     replay_redis_password[CONFIG_SECRET_MAX];      /* read from it, never logged */
	size_t   replay_redis_password_len;

	/* abuse limits (SECURITY.md says what each one stops) */
	char     allow_origin[CONFIG_ORIGINS_MAX][CONFIG_ORIGIN_LEN]; /* Origins allowed to open audio */
	int      n_allow_origin;
	int      max_calls_per_addr;         /* open calls per client address, 0 = off */
	int      handshake_rate;             /* upgrades per second per address, 0 = off */
	int      handshake_burst;
	int      max_pending_per_addr;       /* connections per address that are not calls, 0 = off */
	int      ipv6_prefix;                /* IPv6 clients are limited and blocked per this prefix */
	struct cidr limit_exempt[CONFIG_EXEMPT_MAX];   /* skip the per-address limits */
	int      n_limit_exempt;
	struct cidr trusted_proxy[CONFIG_PROXIES_MAX]; /* believe X-Forwarded-For from these */
	int      n_trusted_proxy;
	int      max_msg_rate;               /* messages per second per call, 0 = off */
	int      idle_timeout_s;             /* close a call silent this long, 0 = off */
	int      handshake_timeout_s;        /* headers + upgrade must finish in this */
	int      max_header_bytes;           /* lws header buffer: longer requests are refused */
	int      verify_webhooks;            /* answer/event webhooks need Vonage's signed JWT */
	char     stats_token[CONFIG_TOKEN_MAX]; /* bearer for /stats from non-loopback, "" = none */
	char     worker_id[64];              /* names this process in stats and logs; "" = none */
	int      reuse_port;                 /* 1: share the port with other processes (SO_REUSEPORT) */
	int      worker_port;                /* with reuse_port: a port of this process alone, 0 = none */
	int      body_timeout_s;             /* a request body must be complete this long after its headers */

	/* intervening (SECURITY.md "Intervene"): admin API and blocks */
	char     admin_token[CONFIG_TOKEN_MAX]; /* bearer for /admin/ from non-loopback, "" = loopback only */
	int      tokens_in_argv;             /* CONFIG_ARGV_*: a token given as a flag (main warns) */
	int      block_after;                /* refusals that block an address automatically, 0 = off */
	int      block_window_s;             /* ... counted within this many seconds */
	int      block_seconds;              /* how long an automatic block lasts */
	char     block_file[CONFIG_PATH_MAX];/* where blocks are kept across restarts, "" = memory only */
};

enum { CONFIG_OK = 0, CONFIG_HELP = 1, CONFIG_ERR = -1, CONFIG_HELP_MARKDOWN = 2 };
enum { CONFIG_ARGV_STATS_TOKEN = 1, CONFIG_ARGV_ADMIN_TOKEN = 2 };

/*
 * Fill *c from defaults, environment and argv. Returns CONFIG_OK,
 * CONFIG_HELP (--help: nothing else to do) or CONFIG_ERR with a one-line
 * reason naming the bad option in err.
 */
int config_load(struct config *c, int argc, char **argv, char *err, size_t errlen);

/*
 * What the jti table must hold (replay.h): --call-rate (or --max-calls /
 * 180), tokens a call (--verify-webhooks), --jwt-max-age + --jwt-leeway.
 * 0, or -1 when that is past REPLAY_SLOTS_MAX (config_load refuses it).
 */
struct replay_sizing;
int config_replay_sizing(const struct config *c, struct replay_sizing *out);

/*
 * Blank the values of --stats-token and --admin-token in argv (after
 * config_load has copied them), so /proc/PID/cmdline and ps stop showing
 * them. Someone who looked before this ran has seen them: hence main's
 * warning, and the file and environment forms. argv must be writable
 * (main's own). Returns how many values were blanked.
 */
int config_scrub_argv(int argc, char **argv);

/* The --help text. */
const char *config_usage(void);

/* The options as a Markdown table (docs/options.md is this; --help-markdown prints it). */
const char *config_markdown(void);
