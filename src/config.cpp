/*
 * config.cpp -- defaults -> environment -> flags -> validation; see config.h.
 *
 * One table describes every option (flag, environment name, kind, range), so
 * parsing, range checks and --help cannot drift apart. The voice apps'
 * options are rows of it too: each app declares its own (voice_app.h) and
 * options() joins them in after --app, in the list's order, pointing into
 * the app's storage instead of struct config.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps.h"
#include "fileperm.h"
#include "host.h"
#include "replay.h"
#include "secret.h"

enum kind { K_INT, K_STR, K_RATE, K_LEVEL, K_LOOP, K_SECRET_FILE, K_ORIGINS, K_CIDRS, K_BOOL, K_LOG_FORMAT, K_APP,
	    K_TALK, K_TOKEN, K_TOKEN_FILE };

struct opt {
	const char *flag;     /* without the leading "--" */
	const char *arg;      /* its value's name in the docs ("N", "ADDR"); NULL for a switch */
	const char *env;      /* NULL = flag only */
	enum kind   kind;
	size_t      off;      /* offsetof(struct config, field) */
	size_t      size;     /* for strings: buffer size; for ints: sizeof field */
	long long   min, max;
	const char *def;      /* the default, as it would be given; NULL = unset ... */
	const char *unset;    /* ... meaning this (for --help and docs/options.md) */
	const char *help;
	void       *ext;      /* an app's option: its storage (off unused); NULL = in struct config */
};

#define F(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)

/* The one list of options: parsing, ranges, defaults, --help and
 * docs/options.md (--help-markdown) all come from here (through options(),
 * which adds the apps' rows). Why the abuse limits' defaults are what they
 * are: SECURITY.md. */
static const struct opt core_opts[] = {
	{ "listen", "ADDR", "LISTEN", K_STR, F(listen), 0, 0, NULL, "all interfaces", "address to bind" },
	{ "port", "N", "PORT", K_INT, F(port), 1, 65535, "8080", NULL, "one TCP port for HTTP and the WebSocket" },
	{ "tls-cert", "FILE", "TLS_CERT", K_STR, F(tls_cert), 0, 0, NULL, "no TLS",
	  "PEM certificate chain; with --tls-key serves https/wss" },
	{ "tls-key", "FILE", "TLS_KEY", K_STR, F(tls_key), 0, 0, NULL, "no TLS", "PEM private key" },
	{ "public-url", "URL", "PUBLIC_URL", K_STR, F(public_url), 0, 0, NULL, "from the Host header",
	  "external base URL for the NCCO, e.g. https://echo.example.com[/prefix]" },
	{ "from-number", "NUM", "VONAGE_VIRTUAL_NUMBER", K_STR, F(from_number), 0, 0, NULL, "omitted",
	  "your Vonage number, the NCCO connect 'from'" },
	{ "secret-file", "FILE", "VONAGE_SIGNATURE_SECRET_FILE", K_SECRET_FILE, F(secret_source), 0, 0, NULL,
	  "none; required unless VONAGE_SIGNATURE_SECRET is set", "file holding the signature secret" },
	{ "application-id", "ID", "VONAGE_APPLICATION_ID", K_STR, F(application_id), 0, 0, NULL, "not checked",
	  "the JWT's application_id must equal it" },
	{ "talk-text", "TEXT", "TALK_TEXT", K_TALK, F(talk_text), 0, 0, NULL, "the app's own",
	  "what the caller hears first (\"\" = no talk action)" },
	{ "rate", "HZ", "AUDIO_RATE", K_RATE, F(rate), 0, 0, "24000", NULL, "8000, 16000 or 24000: the NCCO content-type" },
	{ "ring-slots", "N", NULL, K_INT, F(ring_slots), 2, RING_SLOTS_MAX, "8", NULL, "frames buffered per call" },
	{ "slot-bytes", "N", NULL, K_INT, F(slot_bytes), 2, 65536, "960", NULL, "largest audio message, bytes" },
	{ "max-calls", "N", "MAX_CALLS", K_INT, F(max_calls), 1, 100000, "2000", NULL,
	  "concurrent audio sockets; more get 503" },
	{ "jwt-max-age", "S", NULL, K_INT, F(jwt_max_age_s), 1, 86400, "300", NULL, "oldest JWT iat accepted, seconds" },
	{ "jwt-leeway", "S", NULL, K_INT, F(jwt_leeway_s), 0, 300, "30", NULL, "clock skew allowed on exp/nbf/iat, seconds" },
	{ "call-rate", "N", "CALL_RATE", K_INT, F(call_rate), 1, 100000, NULL, "--max-calls / 180, rounded up",
	  "new calls a second the jti table is sized for (a call spends 1 token, 6 with --verify-webhooks, each kept "
	  "--jwt-max-age + --jwt-leeway s)" },
	{ "ping-interval", "S", NULL, K_INT, F(ping_s), 5, 3600, "30", NULL,
	  "WebSocket ping interval; no pong for 2xS+10 s hangs up" },
	{ "log-level", "L", "LOG_LEVEL", K_LEVEL, F(log_level), 0, 0, "info", NULL, "error, warn, info or debug" },
	{ "log-format", "F", "LOG_FORMAT", K_LOG_FORMAT, F(log_format), 0, 0, "plain", NULL,
	  "plain lines, or json: one JSON object per line" },
	{ "event-loop", "L", "EVENT_LOOP", K_LOOP, F(loop), 0, 0, "libev", NULL,
	  "libev (epoll), poll or libuv: the lws event-library plugin" },
	/* voice apps (docs/apps.md); options() puts the apps' own options
	 * right after --app, and writes the help of --app and --dtmf-switch
	 * from the list (src/apps/list.h) */
	{ "app", "NAME", "APP", K_APP, F(app), 0, 0, "echo", NULL, NULL },
	{ "app-memory-max", "MB", "APP_MEMORY_MAX", K_INT, F(app_memory_max_mb), 0, 65536, "128", NULL,
	  "MiB all calls' app buffers (delay, parrot) may take together; past it a switch is refused (0 = none)" },
	{ "dtmf-switch", NULL, "DTMF_SWITCH", K_BOOL, F(dtmf_switch), 0, 1, "1", NULL, NULL },
	{ "drain-timeout", "S", "DRAIN_TIMEOUT", K_INT, F(drain_timeout_s), 0, 86400, "600", NULL,
	  "after SIGTERM, open calls go on up to S s while no new connection is taken (0 = close them at once)" },
	/* replay protection beyond this process (replay_store.h) */
	{ "replay-file", "PATH", "REPLAY_FILE", K_STR, F(replay_file), 0, 0, NULL, "this process's memory",
	  "keep accepted tokens' jti in PATH, shared by every process that names it and kept across restarts" },
	{ "replay-redis", "HOST:PORT", "REPLAY_REDIS", K_STR, F(replay_redis), 0, 0, NULL, "none",
	  "keep them in Redis instead, for servers on several machines" },
	{ "replay-redis-timeout", "MS", "REPLAY_REDIS_TIMEOUT", K_INT, F(replay_redis_timeout_ms), 1, 5000, "50", NULL,
	  "longest a whole Redis round trip (a reconnect, TLS, AUTH and the SET) may hold a handshake (and the event loop)" },
	{ "replay-redis-down", "MODE", "REPLAY_REDIS_DOWN", K_STR, F(replay_redis_down), 0, 0, "refuse", NULL,
	  "when Redis does not answer: refuse (503) or local (check in this process only)" },
	{ "replay-redis-tls", NULL, "REPLAY_REDIS_TLS", K_BOOL, F(replay_redis_tls), 0, 1, "0", NULL,
	  "TLS to Redis, its certificate verified for the HOST given (needed, with a password, unless Redis is on loopback)" },
	{ "replay-redis-ca", "FILE", "REPLAY_REDIS_CA", K_STR, F(replay_redis_ca), 0, 0, NULL, "the system trust store",
	  "PEM CA certificate(s) Redis's certificate must chain to" },
	{ "replay-redis-password-file", "FILE", "REPLAY_REDIS_PASSWORD_FILE", K_STR, F(replay_redis_password_file), 0, 0,
	  NULL, "no AUTH", "file holding the Redis password (AUTH); not readable by others, not writable by the group" },
	{ "replay-redis-user", "NAME", "REPLAY_REDIS_USER", K_STR, F(replay_redis_user), 0, 0, NULL, "Redis's default user",
	  "Redis 6+ ACL user to AUTH as, with the password" },
	/* abuse limits; list options repeat (env: comma-separated) */
	{ "allow-origin", "ORIGIN", "ALLOW_ORIGINS", K_ORIGINS, F(allow_origin), 0, CONFIG_ORIGINS_MAX, NULL, "none",
	  "an Origin allowed to open /socket, repeatable; others get 403 (Vonage sends none)" },
	{ "max-calls-per-addr", "N", "MAX_CALLS_PER_ADDR", K_INT, F(max_calls_per_addr), 0, 100000, "1000", NULL,
	  "open calls per client address; more get 429 (0 = off)" },
	{ "handshake-rate", "R", "HANDSHAKE_RATE", K_INT, F(handshake_rate), 0, 100000, "50", NULL,
	  "WebSocket upgrades per second per address; more get 429 (0 = off)" },
	{ "handshake-burst", "B", "HANDSHAKE_BURST", K_INT, F(handshake_burst), 1, 100000, "200", NULL,
	  "upgrades one address may make at once" },
	{ "max-conns-per-addr", "N", "MAX_CONNS_PER_ADDR", K_INT, F(max_pending_per_addr), 0, 100000, "128", NULL,
	  "connections per address that are not (yet) calls; more are closed at accept (0 = off)" },
	{ "ipv6-prefix", "BITS", "IPV6_PREFIX", K_INT, F(ipv6_prefix), 32, 128, "64", NULL,
	  "an IPv6 client is its /BITS network: per-address limits, strikes and automatic blocks count it whole" },
	{ "limit-exempt", "CIDR", "LIMIT_EXEMPT", K_CIDRS, F(limit_exempt), 0, CONFIG_EXEMPT_MAX, NULL, "none",
	  "addresses exempt from the per-address limits and automatic blocks, repeatable" },
	{ "trusted-proxy", "CIDR", "TRUSTED_PROXIES", K_CIDRS, F(trusted_proxy), 0, CONFIG_PROXIES_MAX, NULL, "none",
	  "a reverse proxy whose X-Forwarded-For is believed, repeatable" },
	{ "max-msg-rate", "N", "MAX_MSG_RATE", K_INT, F(max_msg_rate), 0, 100000, "250", NULL,
	  "messages per second per call; more close it with 1008 (0 = off)" },
	{ "idle-timeout", "S", "IDLE_TIMEOUT", K_INT, F(idle_timeout_s), 0, 86400, "10", NULL,
	  "a call silent for more than S seconds is closed with 1001 (0 = off)" },
	{ "handshake-timeout", "S", "HANDSHAKE_TIMEOUT", K_INT, F(handshake_timeout_s), 1, 60, "5", NULL,
	  "time a client has to send its request headers" },
	{ "body-timeout", "S", "BODY_TIMEOUT", K_INT, F(body_timeout_s), 1, 300, "10", NULL,
	  "time a client then has to send its request body; past it, 408 and close" },
	{ "max-header-bytes", "N", "MAX_HEADER_BYTES", K_INT, F(max_header_bytes), 1024, CONFIG_HEADER_BYTES_MAX,
	  "4096", NULL, "largest request header block" },
	{ "verify-webhooks", NULL, "VERIFY_WEBHOOKS", K_BOOL, F(verify_webhooks), 0, 1, "0", NULL,
	  "answer/event webhooks need Vonage's signed JWT, used once, bound to the body" },
	{ "stats-token", "T", "STATS_TOKEN", K_TOKEN, F(stats_token), 0, 0, NULL, "loopback only",
	  "bearer token that lets other clients read /stats, /stats.json, /metrics (as a flag ps shows it: "
	  "prefer the file or the environment)" },
	{ "stats-token-file", "FILE", "STATS_TOKEN_FILE", K_TOKEN_FILE, F(stats_token), 0, 0, NULL, "none",
	  "read the stats token from FILE (one trailing newline dropped, like --secret-file)" },
	{ "admin-token", "T", "ADMIN_TOKEN", K_TOKEN, F(admin_token), 0, 0, NULL, "loopback only",
	  "bearer token that lets other clients use /admin/ (must differ from the stats token; as a flag ps "
	  "shows it: prefer the file or the environment)" },
	{ "admin-token-file", "FILE", "ADMIN_TOKEN_FILE", K_TOKEN_FILE, F(admin_token), 0, 0, NULL, "none",
	  "read the admin token from FILE (one trailing newline dropped, like --secret-file)" },
	{ "block-after", "N", "BLOCK_AFTER", K_INT, F(block_after), 0, 100000, "20", NULL,
	  "refusals within --block-window that block an address automatically (0 = off)" },
	{ "block-window", "S", "BLOCK_WINDOW", K_INT, F(block_window_s), 1, 86400, "60", NULL,
	  "seconds over which --block-after counts" },
	{ "block-seconds", "S", "BLOCK_SECONDS", K_INT, F(block_seconds), 1, 31622400, "600", NULL,
	  "how long an automatic block lasts" },
	{ "block-file", "PATH", "BLOCK_FILE", K_STR, F(block_file), 0, 0, NULL, "memory only",
	  "keep blocks in this file across restarts" },
	{ "worker-id", "ID", "WORKER_ID", K_STR, F(worker_id), 0, 0, NULL, "none",
	  "names this process in /stats.json and every log line, [A-Za-z0-9._:-]" },
	{ "reuse-port", NULL, "REUSE_PORT", K_BOOL, F(reuse_port), 0, 1, "0", NULL,
	  "several processes serve one port (SO_REUSEPORT)" },
	{ "worker-port", "N", "WORKER_PORT", K_INT, F(worker_port), 0, 65535, NULL, "none",
	  "with --reuse-port: also serve on N, this process alone (its /stats.json)" },
};

static void fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int set_value(struct config *c, const struct opt *o, const char *v, const char *origin, char *err,
		     size_t errlen);

#define CORE_OPTS (sizeof core_opts / sizeof core_opts[0])
#define APP_OPTS_MAX 32   /* all the apps' options together */

static struct {
	struct opt row[CORE_OPTS + APP_OPTS_MAX];
	size_t     n;
	char       app_help[256], dtmf_help[256];
	char       bad[160];  /* why the joined table is unusable ("": it is fine) */
} table;

/* An app's row as a row of the table. */
static struct opt app_row(const struct voice_opt *v)
{
	struct opt o = { v->flag, v->arg, v->env, K_INT, 0, sizeof(int), v->min, v->max, v->def, NULL, v->help,
			 v->value };

	if (v->kind == VOICE_OPT_SWITCH) {
		o.kind = K_BOOL;
		o.min = 0;
		o.max = 1;
	} else if (v->kind == VOICE_OPT_STR) {
		o.kind = K_STR;
		o.size = v->size;
	}
	return o;
}

/* "echo, delay, parrot or robot" (last = " or ") or "echo, delay, parrot, robot". */
static void app_names(char *out, size_t cap, const char *last)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < apps_switchable_n && n < cap; i++) {
		int r = snprintf(out + n, cap - n, "%s%s", !i ? "" : i == apps_switchable_n - 1 ? last : ", ",
				 apps_switchable[i]->name);
		if (r > 0)
			n += (size_t)r;
	}
}

/* Two options may not share a flag or an environment name (an app's could meet another's). */
static int clash(const struct opt *a, const struct opt *b)
{
	return !strcmp(a->flag, b->flag) || (a->env && b->env && !strcmp(a->env, b->env));
}

/* What --app and --dtmf-switch say about the apps, from the list. */
static void write_app_help(void)
{
	char names[160];

	app_names(names, sizeof names, " or ");
	snprintf(table.app_help, sizeof table.app_help, "the voice app calls start in: %s", names);
	app_names(names, sizeof names, ", ");
	if (apps_switchable_n == 1)
		snprintf(table.dtmf_help, sizeof table.dtmf_help,
			 "key 1 switches a call to %s (--dtmf-switch=0: every digit goes to the app)", names);
	else
		snprintf(table.dtmf_help, sizeof table.dtmf_help,
			 "keys 1-%d switch a call to %s (--dtmf-switch=0: every digit goes to the app)",
			 apps_switchable_n, names);
}

/*
 * The whole option table: core_opts with every listed app's rows after
 * --app, built once. A clash or too many app options is a build mistake:
 * table.bad says which, and config_load refuses to start (exit 2).
 */
static const struct opt *options(size_t *n)
{
	if (table.n) {
		*n = table.n;
		return table.row;
	}
	write_app_help();
	size_t napp = 0;
	for (size_t i = 0; i < CORE_OPTS; i++) {
		struct opt *o = &table.row[table.n++];
		*o = core_opts[i];
		if (o->kind == K_BOOL && o->off == offsetof(struct config, dtmf_switch))
			o->help = table.dtmf_help;
		if (o->kind != K_APP)
			continue;
		o->help = table.app_help;
		for (int a = 0; a < apps_switchable_n; a++)
			for (const struct voice_opt *v = apps_switchable[a]->opts; v && v->flag; v++) {
				if (napp == APP_OPTS_MAX) {   /* the table is full: refuse to start */
					snprintf(table.bad, sizeof table.bad, "the apps declare more than %d options "
						 "(APP_OPTS_MAX in config.cpp)", APP_OPTS_MAX);
					continue;
				}
				table.row[table.n++] = app_row(v);
				napp++;
			}
	}
	for (size_t i = 0; i < table.n && !table.bad[0]; i++)
		for (size_t j = 0; j < i; j++)
			if (clash(&table.row[i], &table.row[j])) {
				snprintf(table.bad, sizeof table.bad, "options --%s and --%s share a flag or an "
					 "environment name", table.row[j].flag, table.row[i].flag);
				break;
			}
	*n = table.n;
	return table.row;
}

/* Every option's default, from the table (a bad one is a build mistake: exit 2). */
static int defaults(struct config *c, char *err, size_t errlen)
{
	size_t n;
	const struct opt *opts = options(&n);

	if (table.bad[0]) {
		fail(err, errlen, "%s", table.bad);
		return -1;
	}
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < n; i++) {
		if (opts[i].ext)   /* an app's storage: unset is 0 or "", as for struct config */
			memset(opts[i].ext, 0, opts[i].size);
		if (opts[i].def && set_value(c, &opts[i], opts[i].def, "built-in default", err, errlen))
			return -1;
	}
	return 0;
}

/* Count field that follows a list field in struct config (n_<list>). */
static int *list_count(struct config *c, const struct opt *o)
{
	if (o->off == offsetof(struct config, allow_origin))
		return &c->n_allow_origin;
	if (o->off == offsetof(struct config, limit_exempt))
		return &c->n_limit_exempt;
	return &c->n_trusted_proxy;
}

/* Append one list item (already split at commas and trimmed). */
static int add_item(struct config *c, const struct opt *o, const char *v, size_t n, const char *origin,
		    char *err, size_t errlen)
{
	int *count = list_count(c, o);
	char item[CONFIG_ORIGIN_LEN];

	if (*count >= o->max) {
		fail(err, errlen, "%s: more than %lld values", origin, o->max);
		return -1;
	}
	if (!n || n >= sizeof item) {
		fail(err, errlen, "%s: empty or too long value", origin);
		return -1;
	}
	memcpy(item, v, n);
	item[n] = '\0';
	if (o->kind == K_ORIGINS) {
		/* an Origin is scheme://host[:port]: no path, no spaces */
		const char *sep = strstr(item, "://");
		if (!sep || sep == item || !sep[3] || strpbrk(sep + 3, "/ \t?#")) {
			fail(err, errlen, "%s: '%s' is not an origin like https://example.com", origin, item);
			return -1;
		}
		memcpy(c->allow_origin[*count], item, n + 1);
	} else {
		struct cidr *list = (struct cidr *)((char *)c + o->off);
		if (cidr_parse(item, &list[*count])) {
			fail(err, errlen, "%s: '%s' is not an address or CIDR like 192.0.2.0/24", origin, item);
			return -1;
		}
	}
	(*count)++;
	return 0;
}

/* A comma-separated list; the first value from a new source replaces the old list. */
static int set_list(struct config *c, const struct opt *o, const char *v, const char *origin, int append,
		    char *err, size_t errlen)
{
	if (!append)
		*list_count(c, o) = 0;
	for (const char *p = v;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		const char *q = p;
		while (n && (*q == ' ' || *q == '\t')) {
			q++;
			n--;
		}
		while (n && (q[n - 1] == ' ' || q[n - 1] == '\t'))
			n--;
		if (n && add_item(c, o, q, n, origin, err, errlen))
			return -1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* The same rule as caller-sim's (secret.h); the limit matches the environment's. */
static int read_secret_file(struct config *c, const char *path, char *err, size_t errlen)
{
	int n = secret_read_file(path, c->secret, sizeof c->secret, err, errlen);
	if (n < 0)
		return -1;
	c->secret_len = (size_t)n;
	return 0;
}

/*
 * A file holding a secret: the state files' rule (fileperm.h: ours or
 * root's, writable by no one else) and, since it is a secret, not readable
 * by every user either (group-readable is fine: root:caller-echo 0640 is
 * how a package ships one). Checked on the open descriptor, so what is
 * checked is what is read.
 */
static int check_private_file(int fd, const char *what, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char why[160];

	if (fstat(fd, &st)) {
		fail(err, errlen, "%s: cannot stat '%s': %s", what, path, strerror(errno));
		return -1;
	}
	if (fileperm_check_stat(&st, geteuid(), 0, why, sizeof why)) {
		fail(err, errlen, "%s: '%s' %s (chmod 600 it)", what, path, why);
		return -1;
	}
	if (st.st_mode & S_IROTH) {
		fail(err, errlen, "%s: '%s' is readable by every user (mode %04o): chmod 600 it", what, path,
		     (unsigned)st.st_mode & 07777);
		return -1;
	}
	return 0;
}

/* The Redis password: the file's bytes minus one line ending (secret.h's rule). */
static int read_redis_password(struct config *c, char *err, size_t errlen)
{
	const char *what = "--replay-redis-password-file", *path = c->replay_redis_password_file;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		fail(err, errlen, "%s: cannot open '%s': %s", what, path, strerror(errno));
		return -1;
	}
	if (check_private_file(fd, what, path, err, errlen)) {
		close(fd);
		return -1;
	}
	char *buf = c->replay_redis_password;
	size_t cap = sizeof c->replay_redis_password, n = 0;
	ssize_t r;
	while (n < cap && (r = read(fd, buf + n, cap - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fail(err, errlen, "%s: cannot read '%s': %s", what, path, strerror(errno));
			close(fd);
			return -1;
		}
		n += (size_t)r;
	}
	close(fd);
	if (n && buf[n - 1] == '\n') {
		n--;
		if (n && buf[n - 1] == '\r')
			n--;
	}
	if (n >= cap - 2) {
		explicit_bzero(buf, cap);
		fail(err, errlen, "%s: '%s' holds more than %zu bytes", what, path, cap - 3);
		return -1;
	}
	if (!n) {
		fail(err, errlen, "%s: '%s' is empty", what, path);
		return -1;
	}
	c->replay_redis_password_len = n;
	return 0;
}

/*
 * A bearer token, from a flag, the environment or a file: what a client
 * can send in one Authorization header, so printable ASCII without spaces
 * (a NUL from a file would cut it short unseen).
 */
static int set_token(char *field, size_t size, const char *v, size_t n, const char *origin, char *err,
		     size_t errlen)
{
	if (n >= size) {
		fail(err, errlen, "%s: token too long (max %zu bytes)", origin, size - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f) {
			fail(err, errlen, "%s: a token is printable ASCII without spaces or control characters", origin);
			return -1;
		}
	memcpy(field, v, n);
	field[n] = '\0';
	return 0;
}

/*
 * The token file rule is the secret file's (secret.h: one trailing newline
 * dropped); who may read or replace it, the Redis password's
 * (check_private_file).
 */
static int read_token_file(char *field, size_t size, const char *path, const char *origin, char *err,
			   size_t errlen)
{
	unsigned char buf[CONFIG_TOKEN_MAX];
	char why[CONFIG_PATH_MAX + 96];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		fail(err, errlen, "%s: cannot open '%s': %s", origin, path, strerror(errno));
		return -1;
	}
	if (check_private_file(fd, origin, path, err, errlen)) {
		close(fd);
		return -1;
	}
	int n = secret_read_fd(fd, path, buf, sizeof buf, why, sizeof why);

	if (n < 0) {
		fail(err, errlen, "%s: %s", origin, why);
		return -1;
	}
	if (!n) {
		fail(err, errlen, "%s: '%s' is empty (no file means no token: loopback only)", origin, path);
		return -1;
	}
	int r = set_token(field, size, (const char *)buf, (size_t)n, origin, err, errlen);
	memset(buf, 0, sizeof buf);
	return r;
}

static int set_value(struct config *c, const struct opt *o, const char *v, const char *origin,
		     char *err, size_t errlen)
{
	char *field = o->ext ? (char *)o->ext : (char *)c + o->off;

	switch (o->kind) {
	case K_TOKEN:
		return set_token(field, o->size, v, strlen(v), origin, err, errlen);
	case K_TOKEN_FILE:
		return read_token_file(field, o->size, v, origin, err, errlen);
	case K_STR: {
		size_t n = strlen(v);
		if (n >= o->size) {
			fail(err, errlen, "%s: value too long (max %zu bytes)", origin, o->size - 1);
			return -1;
		}
		memcpy(field, v, n + 1);
		return 0;
	}
	case K_INT: {
		char *end;
		errno = 0;
		long long x = strtoll(v, &end, 10);
		/* strtoll alone would also take " +80": only plain digits are a number */
		if (!((*v >= '0' && *v <= '9') || (*v == '-' && v[1] >= '0' && v[1] <= '9')) || *end ||
		    errno || x < o->min || x > o->max) {
			fail(err, errlen, "%s: '%s' is not a whole number in %lld..%lld", origin, v, o->min,
			     o->max);
			return -1;
		}
		if (o->size == sizeof(int))
			*(int *)field = (int)x;
		else if (o->size == sizeof(long))
			*(long *)field = (long)x;
		else
			return -1;
		return 0;
	}
	case K_RATE:
		if (strcmp(v, "8000") && strcmp(v, "16000") && strcmp(v, "24000")) {
			fail(err, errlen, "%s: '%s' is not 8000, 16000 or 24000", origin, v);
			return -1;
		}
		c->rate = atoi(v);
		return 0;
	case K_LEVEL:
		if (log_level_parse(v, &c->log_level)) {
			fail(err, errlen, "%s: '%s' is not error, warn, info or debug", origin, v);
			return -1;
		}
		return 0;
	case K_LOG_FORMAT:
		if (log_format_parse(v, &c->log_format)) {
			fail(err, errlen, "%s: '%s' is not plain or json", origin, v);
			return -1;
		}
		return 0;
	case K_APP:
		if (!apps_find(v)) {
			fail(err, errlen, "%s: '%s' is not an app: %s", origin, v, apps_names());
			return -1;
		}
		snprintf(c->app, sizeof c->app, "%s", v);
		return 0;
	case K_TALK: {
		size_t n = strlen(v);
		if (n >= o->size) {
			fail(err, errlen, "%s: value too long (max %zu bytes)", origin, o->size - 1);
			return -1;
		}
		memcpy(field, v, n + 1);
		c->talk_text_set = 1;
		return 0;
	}
	case K_LOOP:
		if (!strcmp(v, "poll"))
			c->loop = LOOP_POLL;
		else if (!strcmp(v, "libev"))
			c->loop = LOOP_LIBEV;
		else if (!strcmp(v, "libuv"))
			c->loop = LOOP_LIBUV;
		else {
			fail(err, errlen, "%s: '%s' is not poll, libev or libuv", origin, v);
			return -1;
		}
		return 0;
	case K_SECRET_FILE:
		if (read_secret_file(c, v, err, errlen))
			return -1;
		snprintf(c->secret_source, sizeof c->secret_source, "file %s", v);
		return 0;
	case K_ORIGINS:
	case K_CIDRS:
		return set_list(c, o, v, origin, 0, err, errlen);
	case K_BOOL:
		if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"))
			*(int *)field = 1;
		else if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !*v)
			*(int *)field = 0;
		else {
			fail(err, errlen, "%s: '%s' is not 1 or 0", origin, v);
			return -1;
		}
		return 0;
	}
	return -1;
}

static const struct opt *find_flag(const char *name, size_t len)
{
	size_t n;
	const struct opt *opts = options(&n);

	for (size_t i = 0; i < n; i++)
		if (strlen(opts[i].flag) == len && !strncmp(opts[i].flag, name, len))
			return &opts[i];
	return NULL;
}

/* Cross-field checks once everything is in. */
static int validate(struct config *c, char *err, size_t errlen)
{
	if (!c->secret_len) {
		fail(err, errlen, "no signature secret: set VONAGE_SIGNATURE_SECRET or --secret-file "
				  "(make run creates a development one)");
		return -1;
	}
	if (strcmp(c->replay_redis_down, "refuse") && strcmp(c->replay_redis_down, "local")) {
		fail(err, errlen, "--replay-redis-down: '%s' is not refuse or local", c->replay_redis_down);
		return -1;
	}
	if (c->replay_file[0] && c->replay_redis[0]) {
		fail(err, errlen, "--replay-file and --replay-redis: choose one place for the tokens");
		return -1;
	}
	if (!c->replay_redis[0] && (c->replay_redis_tls || c->replay_redis_ca[0] || c->replay_redis_user[0] ||
				    c->replay_redis_password_file[0])) {
		fail(err, errlen, "%s needs --replay-redis",
		     c->replay_redis_tls ? "--replay-redis-tls" : c->replay_redis_ca[0] ? "--replay-redis-ca"
								 : c->replay_redis_user[0] ? "--replay-redis-user"
											   : "--replay-redis-password-file");
		return -1;
	}
	if (c->replay_redis_ca[0] && !c->replay_redis_tls) {
		fail(err, errlen, "--replay-redis-ca needs --replay-redis-tls");
		return -1;
	}
	if (c->replay_redis_ca[0] && access(c->replay_redis_ca, R_OK)) {
		fail(err, errlen, "--replay-redis-ca: cannot read '%s': %s", c->replay_redis_ca, strerror(errno));
		return -1;
	}
	if (c->replay_redis_user[0] && !c->replay_redis_password_file[0]) {
		fail(err, errlen, "--replay-redis-user needs --replay-redis-password-file");
		return -1;
	}
	if (c->replay_redis_password_file[0] && read_redis_password(c, err, errlen))
		return -1;
	if (!!c->tls_cert[0] != !!c->tls_key[0]) {
		fail(err, errlen, "%s", c->tls_cert[0] ? "--tls-cert needs --tls-key" : "--tls-key needs --tls-cert");
		return -1;
	}
	if (c->tls_cert[0] && access(c->tls_cert, R_OK)) {
		fail(err, errlen, "--tls-cert: cannot read '%s': %s", c->tls_cert, strerror(errno));
		return -1;
	}
	if (c->tls_key[0] && access(c->tls_key, R_OK)) {
		fail(err, errlen, "--tls-key: cannot read '%s': %s", c->tls_key, strerror(errno));
		return -1;
	}
	if (c->public_url[0] &&
	    host_parse_public_url(c->public_url, &c->public_secure, c->public_base, sizeof c->public_base)) {
		fail(err, errlen, "--public-url: '%s' is not http(s)://host[:port][/path]", c->public_url);
		return -1;
	}
	if (c->worker_port && (!c->reuse_port || c->worker_port == c->port)) {
		fail(err, errlen, "--worker-port: needs --reuse-port and a port other than --port");
		return -1;
	}
	/* it lands in JSON, HTML and log lines unescaped by some readers: keep it plain */
	for (const char *p = c->worker_id; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == ':' || *p == '-')) {
			fail(err, errlen, "--worker-id: '%s' may only hold A-Z a-z 0-9 . _ : -", c->worker_id);
			return -1;
		}
	}
	/* the stats token only reads: it must never also be the key to act */
	if (c->admin_token[0] && !strcmp(c->admin_token, c->stats_token)) {
		fail(err, errlen, "--admin-token: must differ from --stats-token");
		return -1;
	}
	struct replay_sizing rz;
	if (config_replay_sizing(c, &rz)) {
		fail(err, errlen, "the jti table for %u new calls/s x %u token(s) x %u s (%llu live tokens) would take "
				  "%llu slots, more than %u (%u GiB): lower --call-rate (or --max-calls), --jwt-max-age or "
				  "--jwt-leeway, or keep tokens in Redis", rz.call_rate, rz.tokens_per_call, rz.lifetime_s,
		     (unsigned long long)rz.live, (unsigned long long)rz.slots, REPLAY_SLOTS_MAX,
		     (unsigned)((uint64_t)REPLAY_SLOTS_MAX * REPLAY_SLOT_BYTES >> 30));
		return -1;
	}
	uint32_t frame = (uint32_t)c->rate / 50u * 2u;   /* 20 ms of 16-bit mono */
	if (c->slot_bytes < frame) {
		fail(err, errlen, "--slot-bytes: %u is smaller than one 20 ms frame at %d Hz (%u bytes)",
		     c->slot_bytes, c->rate, frame);
		return -1;
	}
	return 0;
}

int config_replay_sizing(const struct config *c, struct replay_sizing *out)
{
	/* a call lasts about three minutes: --max-calls of them open means
	 * max_calls / 180 new ones a second (SECURITY.md "Defaults") */
	uint32_t rate = c->call_rate ? (uint32_t)c->call_rate : ((uint32_t)c->max_calls + 179) / 180;
	uint32_t tokens = REPLAY_TOKENS_SOCKET + (c->verify_webhooks ? REPLAY_TOKENS_WEBHOOKS : 0);
	return replay_size(rate, tokens, (uint32_t)(c->jwt_max_age_s + c->jwt_leeway_s), out);
}

int config_load(struct config *c, int argc, char **argv, char *err, size_t errlen)
{
	char origin[96];

	if (errlen)
		err[0] = '\0';
	if (defaults(c, err, errlen))
		return CONFIG_ERR;

	/* environment first, so flags override it */
	const char *s = getenv("VONAGE_SIGNATURE_SECRET");
	if (s && *s) {
		size_t n = strlen(s);
		if (n >= sizeof c->secret) {
			fail(err, errlen, "VONAGE_SIGNATURE_SECRET: longer than 511 bytes");
			return CONFIG_ERR;
		}
		memcpy(c->secret, s, n);
		c->secret_len = n;
		snprintf(c->secret_source, sizeof c->secret_source, "environment");
	}
	/* a token and a file for it from one source: which was meant? */
	static const char *const pairs[][2] = { { "STATS_TOKEN", "STATS_TOKEN_FILE" }, { "ADMIN_TOKEN", "ADMIN_TOKEN_FILE" } };
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		const char *a = getenv(pairs[i][0]), *b = getenv(pairs[i][1]);
		if (a && *a && b && *b) {
			fail(err, errlen, "%s and %s: give the token one way", pairs[i][0], pairs[i][1]);
			return CONFIG_ERR;
		}
	}
	size_t nopts;
	const struct opt *opts = options(&nopts);
	for (size_t i = 0; i < nopts; i++) {
		if (!opts[i].env || !(s = getenv(opts[i].env)))
			continue;
		if (opts[i].kind == K_TOKEN_FILE && !*s)
			continue;   /* STATS_TOKEN_FILE= (empty): not set */
		snprintf(origin, sizeof origin, "%s", opts[i].env);
		if (set_value(c, &opts[i], s, origin, err, errlen))
			return CONFIG_ERR;
	}

	uint8_t listed[CORE_OPTS + APP_OPTS_MAX] = { 0 };   /* list options already given as flags: later ones append */
	int token_flags[2][2] = { { 0, 0 }, { 0, 0 } };   /* [stats, admin][value, file] */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return CONFIG_HELP;
		if (!strcmp(a, "--help-markdown"))
			return CONFIG_HELP_MARKDOWN;
		if (strncmp(a, "--", 2)) {
			fail(err, errlen, "unexpected argument '%s' (try --help)", a);
			return CONFIG_ERR;
		}
		a += 2;
		const char *eq = strchr(a, '=');
		const struct opt *o = find_flag(a, eq ? (size_t)(eq - a) : strlen(a));
		if (!o) {
			fail(err, errlen, "unknown option '%s' (try --help)", argv[i]);
			return CONFIG_ERR;
		}
		if (eq) {
			v = eq + 1;
		} else if (o->kind == K_BOOL) {
			v = "1";   /* a switch: the next argument is not its value */
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			fail(err, errlen, "--%s: needs a value", o->flag);
			return CONFIG_ERR;
		}
		snprintf(origin, sizeof origin, "--%s", o->flag);
		if (o->kind == K_TOKEN || o->kind == K_TOKEN_FILE) {
			int admin = o->off == offsetof(struct config, admin_token);
			token_flags[admin][o->kind == K_TOKEN_FILE] = 1;
			if (token_flags[admin][0] && token_flags[admin][1]) {
				fail(err, errlen, "--%s and --%s-file: give the token one way", admin ? "admin-token" : "stats-token",
				     admin ? "admin-token" : "stats-token");
				return CONFIG_ERR;
			}
			if (o->kind == K_TOKEN && *v)
				c->tokens_in_argv |= admin ? CONFIG_ARGV_ADMIN_TOKEN : CONFIG_ARGV_STATS_TOKEN;
		}
		if (o->kind == K_ORIGINS || o->kind == K_CIDRS) {
			/* flags replace the environment's list, then accumulate */
			if (set_list(c, o, v, origin, listed[o - opts], err, errlen))
				return CONFIG_ERR;
			listed[o - opts] = 1;
			continue;
		}
		if (set_value(c, o, v, origin, err, errlen))
			return CONFIG_ERR;
	}
	return validate(c, err, errlen) ? CONFIG_ERR : CONFIG_OK;
}

int config_scrub_argv(int argc, char **argv)
{
	int n = 0;

	/* the same walk as config_load's: a value is never taken for a flag */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2))
			continue;
		const char *eq = strchr(a + 2, '=');
		const struct opt *o = find_flag(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		char *v = eq ? argv[i] + (eq - a) + 1 : NULL;
		if (!o)
			continue;
		if (!eq && o->kind != K_BOOL && i + 1 < argc)
			v = argv[++i];
		if (o->kind == K_TOKEN && v && *v) {
			memset(v, 'x', strlen(v));
			n++;
		}
	}
	return n;
}

/* The default as the docs show it: "8080", "off", or what unset means. */
static void default_text(const struct opt *o, char *out, size_t cap)
{
	if (o->kind == K_BOOL)
		snprintf(out, cap, "%s", o->def && !strcmp(o->def, "1") ? "on" : "off");
	else if (o->def)
		snprintf(out, cap, "%s", o->def);
	else
		snprintf(out, cap, "%s", o->unset ? o->unset : "none");
}

const char *config_usage(void)
{
	static char buf[16384];
	char flag[48], def[96];
	size_t n = 0;
	int r = snprintf(buf, sizeof buf,
			 "usage: caller-echo [options]\n"
			 "Echoes Vonage Voice API WebSocket audio back to the caller.\n\n");
	if (r > 0)
		n = (size_t)r;
	size_t nopts;
	const struct opt *opts = options(&nopts);
	for (size_t i = 0; i < nopts && n < sizeof buf; i++) {
		const struct opt *o = &opts[i];
		snprintf(flag, sizeof flag, "--%s%s%s", o->flag, o->arg ? " " : "", o->arg ? o->arg : "");
		default_text(o, def, sizeof def);
		r = snprintf(buf + n, sizeof buf - n, "  %-26s %s (default: %s)%s%s%s\n", flag, o->help, def,
			     o->env ? " [env " : "", o->env ? o->env : "", o->env ? "]" : "");
		if (r > 0)
			n += (size_t)r;
	}
	if (n < sizeof buf)
		snprintf(buf + n, sizeof buf - n,
			 "  %-26s %s\n\nThe secret may also come from VONAGE_SIGNATURE_SECRET (never a flag: ps would "
			 "show it).\nList options repeat; their environment variables take comma-separated lists.\n"
			 "Switches take no value; their environment variables take 1/0. Exit status 2 on a bad option.\n",
			 "--help", "this text");
	return buf;
}

const char *config_markdown(void)
{
	static char buf[16384];
	char flag[48], def[96];
	size_t n = 0;
	int r = snprintf(buf, sizeof buf,
			 "| flag | environment | default | meaning |\n|---|---|---|---|\n");
	if (r > 0)
		n = (size_t)r;
	size_t nopts;
	const struct opt *opts = options(&nopts);
	for (size_t i = 0; i < nopts && n < sizeof buf; i++) {
		const struct opt *o = &opts[i];
		snprintf(flag, sizeof flag, "--%s%s%s", o->flag, o->arg ? " " : "", o->arg ? o->arg : "");
		default_text(o, def, sizeof def);
		r = snprintf(buf + n, sizeof buf - n, "| `%s` | %s%s%s%s | %s | %s |\n", flag, o->env ? "`" : "",
			     o->env ? o->env : "", o->kind == K_BOOL && o->env ? "=1" : "", o->env ? "`" : "", def, o->help);
		if (r > 0)
			n += (size_t)r;
	}
	if (n < sizeof buf)
		snprintf(buf + n, sizeof buf - n,
			 "| | `VONAGE_SIGNATURE_SECRET` | | the secret itself (never a flag: `ps` would show it) |\n");
	return buf;
}
