/*
 * test_config.cpp -- unit tests for src/config.cpp (defaults -> env -> flags -> validation).
 *
 * setup clears every environment variable config.cpp reads and makes a
 * private temporary directory for secret and TLS files; teardown removes
 * both. Arguments are passed through load(f, "--flag", "value", NULL), which
 * supplies argv[0]. Error cases assert CONFIG_ERR *and* that err names the
 * offending option, since that line is all the operator sees.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps.h"
#include "config.h"
#include "replay.h"

#define DEV_SECRET "dev-secret-0123456789"

/* An app's option as config_load left it (in the app's own storage). */
static int app_opt(const char *flag)
{
	const struct voice_opt *o = apps_option(flag);

	assert_non_null(o);
	assert_int_equal(o->kind, VOICE_OPT_INT);
	return *(const int *)o->value;
}

struct fixture {
	struct config c;
	char err[256];
	char dir[64];
	char path[256];   /* scratch path inside dir */
};

/* Unset every variable the server reads: the names --help lists as
 * "[env NAME]" (from the option table itself, so none can be missed),
 * and the secret, which has no flag. */
static void clear_env(void)
{
	const char *u = config_usage(), *p;
	char name[64];

	while ((p = strstr(u, "[env "))) {
		size_t n = strcspn(p + 5, "]");
		if (n < sizeof name) {
			memcpy(name, p + 5, n);
			name[n] = '\0';
			unsetenv(name);
		}
		u = p + 5 + n;
	}
	unsetenv("VONAGE_SIGNATURE_SECRET");
}

static int setup_config(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	clear_env();
	snprintf(f->dir, sizeof f->dir, "/tmp/test_config.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown_config(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char cmd[128];

	clear_env();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* config_load with argv = { "caller-echo", args..., NULL }. */
static int load(struct fixture *f, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)"caller-echo";
	va_start(ap, f);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
		assert_true(argc < 31);
		argv[argc++] = (char *)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	memset(f->err, 'X', sizeof f->err);
	f->err[sizeof f->err - 1] = '\0';
	return config_load(&f->c, argc, argv, f->err, sizeof f->err);
}

/* Write `content` (len bytes) to dir/name; the path is left in f->path. */
static const char *write_file(struct fixture *f, const char *name, const char *content, size_t len)
{
	snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
	FILE *fp = fopen(f->path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(content, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(f->path, 0600), 0);   /* secret files must be (check_private_file) */
	return f->path;
}

static void assert_err_mentions(struct fixture *f, const char *what)
{
	if (!strstr(f->err, what))
		print_error("err \"%s\" does not mention \"%s\"\n", f->err, what);
	assert_non_null(strstr(f->err, what));
}

/* Expect CONFIG_ERR with `what` in err. */
#define EXPECT_ERR(f, what, ...)                                 \
	do {                                                     \
		assert_int_equal(load((f), __VA_ARGS__), CONFIG_ERR); \
		assert_err_mentions((f), (what));                \
	} while (0)

/* --- defaults and precedence -------------------------------------------- */

static void test_config_load_defaults(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_string_equal(f->err, "");
	assert_string_equal(f->c.listen, "");
	assert_int_equal(f->c.port, 8080);
	assert_string_equal(f->c.tls_cert, "");
	assert_string_equal(f->c.tls_key, "");
	assert_string_equal(f->c.public_url, "");
	assert_string_equal(f->c.public_base, "");
	assert_int_equal(f->c.public_secure, 0);
	assert_string_equal(f->c.from_number, "");
	assert_string_equal(f->c.talk_text, "");
	assert_int_equal(f->c.talk_text_set, 0);   /* the app's own talk text */
	assert_int_equal(f->c.rate, 24000);
	assert_int_equal(f->c.ring_slots, 8);
	assert_int_equal(f->c.slot_bytes, 960);
	assert_int_equal(f->c.max_calls, 2000);
	assert_int_equal(f->c.jwt_max_age_s, 300);
	assert_int_equal(f->c.jwt_leeway_s, 30);
	assert_string_equal(f->c.application_id, "");
	assert_int_equal(f->c.secret_len, strlen(DEV_SECRET));
	assert_memory_equal(f->c.secret, DEV_SECRET, strlen(DEV_SECRET));
	assert_string_equal(f->c.secret_source, "environment");
	assert_int_equal(f->c.log_level, LOG_INFO);
	assert_int_equal(f->c.log_format, LOG_FORMAT_PLAIN);
	assert_int_equal(f->c.ping_s, 30);
	assert_int_equal(f->c.loop, LOOP_LIBEV);
	/* abuse limits: on by default (SECURITY.md "Defaults and how they were chosen" says why) */
	assert_int_equal(f->c.n_allow_origin, 0);
	assert_int_equal(f->c.max_calls_per_addr, 1000);
	assert_int_equal(f->c.handshake_rate, 50);
	assert_int_equal(f->c.handshake_burst, 200);
	assert_int_equal(f->c.max_pending_per_addr, 128);
	assert_int_equal(f->c.n_limit_exempt, 0);
	assert_int_equal(f->c.n_trusted_proxy, 0);
	assert_int_equal(f->c.max_msg_rate, 250);
	assert_int_equal(f->c.idle_timeout_s, 10);
	assert_int_equal(f->c.handshake_timeout_s, 5);
	assert_int_equal(f->c.max_header_bytes, 4096);
	assert_int_equal(f->c.verify_webhooks, 0);
	assert_string_equal(f->c.stats_token, "");
	/* voice apps */
	assert_string_equal(f->c.app, "echo");
	assert_int_equal(app_opt("echo-max-ms"), 160);
	assert_int_equal(app_opt("delay-ms"), 1000);
	assert_int_equal(app_opt("parrot-max-ms"), 10000);
	assert_int_equal(app_opt("parrot-level"), 1024);
	assert_int_equal(f->c.dtmf_switch, 1);
	assert_int_equal(f->c.app_memory_max_mb, 128);
}

static void test_config_load_lists_from_flags_and_env(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct addr a;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	setenv("ALLOW_ORIGINS", " https://a.example , https://b.example:8443", 1);
	setenv("LIMIT_EXEMPT", "216.147.0.0/18,2001:db8::/32", 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_int_equal(f->c.n_allow_origin, 2);
	assert_string_equal(f->c.allow_origin[0], "https://a.example");
	assert_string_equal(f->c.allow_origin[1], "https://b.example:8443");
	assert_int_equal(f->c.n_limit_exempt, 2);
	assert_int_equal(addr_parse("216.147.63.255", &a), 0);
	assert_true(cidr_match(&f->c.limit_exempt[0], &a));
	assert_int_equal(addr_parse("216.147.64.0", &a), 0);
	assert_false(cidr_list_match(f->c.limit_exempt, f->c.n_limit_exempt, &a));

	/* flags replace the environment's list, and repeat to add */
	assert_int_equal(load(f, "--allow-origin", "https://c.example", "--trusted-proxy", "127.0.0.1",
			      "--allow-origin=https://d.example", "--trusted-proxy", "10.0.0.0/8,::1", NULL),
			 CONFIG_OK);
	assert_int_equal(f->c.n_allow_origin, 2);
	assert_string_equal(f->c.allow_origin[0], "https://c.example");
	assert_string_equal(f->c.allow_origin[1], "https://d.example");
	assert_int_equal(f->c.n_trusted_proxy, 3);
	assert_int_equal(f->c.n_limit_exempt, 2);   /* untouched by flags of other lists */
}

static void test_config_load_rejects_bad_list_values(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	assert_int_equal(load(f, "--allow-origin", "example.com", NULL), CONFIG_ERR);
	assert_non_null(strstr(f->err, "--allow-origin"));
	assert_int_equal(load(f, "--allow-origin", "https://example.com/path", NULL), CONFIG_ERR);
	assert_int_equal(load(f, "--limit-exempt", "10.0.0.0/40", NULL), CONFIG_ERR);
	assert_non_null(strstr(f->err, "--limit-exempt"));
	assert_int_equal(load(f, "--trusted-proxy", "proxy.local", NULL), CONFIG_ERR);
	assert_non_null(strstr(f->err, "--trusted-proxy"));
	setenv("TRUSTED_PROXIES", "127.0.0.1,nonsense", 1);
	assert_int_equal(load(f, NULL), CONFIG_ERR);
	assert_non_null(strstr(f->err, "TRUSTED_PROXIES"));
	unsetenv("TRUSTED_PROXIES");
	/* more than the fixed list holds */
	char many[40 * 20] = "";
	for (int i = 0; i < CONFIG_EXEMPT_MAX + 1; i++) {
		char one[24];
		snprintf(one, sizeof one, "%s10.0.%d.0/24", i ? "," : "", i);
		strcat(many, one);
	}
	assert_int_equal(load(f, "--limit-exempt", many, NULL), CONFIG_ERR);
	assert_non_null(strstr(f->err, "more than"));
}

static void test_config_load_switches_and_limits(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	/* --verify-webhooks takes no value: the next flag is still a flag */
	assert_int_equal(load(f, "--verify-webhooks", "--idle-timeout", "0", "--max-msg-rate", "0",
			      "--max-calls-per-addr", "0", "--handshake-rate", "0", "--stats-token", "tok",
			      "--handshake-timeout", "2", "--max-header-bytes", "2048", NULL),
			 CONFIG_OK);
	assert_int_equal(f->c.verify_webhooks, 1);
	assert_int_equal(f->c.idle_timeout_s, 0);
	assert_int_equal(f->c.max_msg_rate, 0);
	assert_int_equal(f->c.max_calls_per_addr, 0);
	assert_int_equal(f->c.handshake_rate, 0);
	assert_string_equal(f->c.stats_token, "tok");
	assert_int_equal(f->c.handshake_timeout_s, 2);
	assert_int_equal(f->c.max_header_bytes, 2048);
	assert_int_equal(load(f, "--verify-webhooks=0", NULL), CONFIG_OK);
	assert_int_equal(f->c.verify_webhooks, 0);
	setenv("VERIFY_WEBHOOKS", "1", 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_int_equal(f->c.verify_webhooks, 1);
	setenv("VERIFY_WEBHOOKS", "maybe", 1);
	assert_int_equal(load(f, NULL), CONFIG_ERR);
	assert_non_null(strstr(f->err, "VERIFY_WEBHOOKS"));
	unsetenv("VERIFY_WEBHOOKS");
	assert_int_equal(load(f, "--handshake-timeout", "0", NULL), CONFIG_ERR);
	assert_int_equal(load(f, "--max-header-bytes", "100", NULL), CONFIG_ERR);
	assert_int_equal(load(f, "--handshake-burst", "0", NULL), CONFIG_ERR);
}

/* --worker-id, --reuse-port, --worker-port (README "Deploy") */
static void test_config_load_worker_options(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_string_equal(f->c.worker_id, "");
	assert_int_equal(f->c.reuse_port, 0);
	assert_int_equal(f->c.worker_port, 0);
	/* --reuse-port is a switch: the next flag is still a flag */
	assert_int_equal(load(f, "--reuse-port", "--worker-id", "w-1.a_b:2", "--worker-port", "9101",
			      NULL), CONFIG_OK);
	assert_int_equal(f->c.reuse_port, 1);
	assert_string_equal(f->c.worker_id, "w-1.a_b:2");
	assert_int_equal(f->c.worker_port, 9101);
	setenv("REUSE_PORT", "1", 1);
	setenv("WORKER_ID", "env-worker", 1);
	setenv("WORKER_PORT", "9102", 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_int_equal(f->c.reuse_port, 1);
	assert_string_equal(f->c.worker_id, "env-worker");
	assert_int_equal(f->c.worker_port, 9102);
	/* the worker port needs the shared port, and must differ from it */
	EXPECT_ERR(f, "--worker-port", "--reuse-port=0", NULL);
	EXPECT_ERR(f, "--worker-port", "--port", "9102", NULL);
	unsetenv("WORKER_PORT");
	/* the id lands in JSON, HTML and logs: plain characters only */
	EXPECT_ERR(f, "--worker-id", "--worker-id", "a b", NULL);
	EXPECT_ERR(f, "--worker-id", "--worker-id", "<b>", NULL);
	EXPECT_ERR(f, "--worker-id", "--worker-id", "w\"1", NULL);
	setenv("REUSE_PORT", "2", 1);
	EXPECT_ERR(f, "REUSE_PORT", NULL);
}

static void test_config_load_flag_overrides_env(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	setenv("PORT", "7000", 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_int_equal(f->c.port, 7000);
	assert_int_equal(load(f, "--port", "9000", NULL), CONFIG_OK);
	assert_int_equal(f->c.port, 9000);
	assert_int_equal(load(f, "--port=9001", NULL), CONFIG_OK);
	assert_int_equal(f->c.port, 9001);
	/* the last flag wins */
	assert_int_equal(load(f, "--port", "1", "--port=2", NULL), CONFIG_OK);
	assert_int_equal(f->c.port, 2);
}

static void test_config_load_reads_every_env_name(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	setenv("LISTEN", "127.0.0.1", 1);
	setenv("VONAGE_VIRTUAL_NUMBER", "447700900000", 1);
	setenv("VONAGE_APPLICATION_ID", "app-1", 1);
	setenv("TALK_TEXT", "", 1);
	setenv("AUDIO_RATE", "16000", 1);
	setenv("MAX_CALLS", "10", 1);
	setenv("LOG_LEVEL", "debug", 1);
	setenv("EVENT_LOOP", "libuv", 1);
	setenv("PUBLIC_URL", "wss://echo.example.com:8443/x/", 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_string_equal(f->c.listen, "127.0.0.1");
	assert_string_equal(f->c.from_number, "447700900000");
	assert_string_equal(f->c.application_id, "app-1");
	assert_string_equal(f->c.talk_text, "");
	assert_int_equal(f->c.talk_text_set, 1);   /* "" set on purpose: no talk action */
	assert_int_equal(f->c.rate, 16000);
	assert_int_equal(f->c.max_calls, 10);
	assert_int_equal(f->c.log_level, LOG_DEBUG);
	assert_int_equal(f->c.loop, LOOP_LIBUV);
	assert_string_equal(f->c.public_url, "wss://echo.example.com:8443/x/");
	assert_string_equal(f->c.public_base, "echo.example.com:8443/x");
	assert_int_equal(f->c.public_secure, 1);
}

static void test_config_load_every_flag(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	assert_int_equal(load(f, "--listen", "::1", "--from-number=15550001111", "--application-id", "app-2",
			      "--talk-text", "Hello there", "--rate", "8000", "--ring-slots", "2", "--slot-bytes",
			      "320", "--max-calls", "100000", "--jwt-max-age", "86400", "--jwt-leeway", "0",
			      "--ping-interval", "3600", "--log-level", "WARN", "--event-loop", "poll", "--call-rate", "40",
			      NULL),
			 CONFIG_OK);
	assert_string_equal(f->c.listen, "::1");
	assert_string_equal(f->c.from_number, "15550001111");
	assert_string_equal(f->c.application_id, "app-2");
	assert_string_equal(f->c.talk_text, "Hello there");
	assert_int_equal(f->c.rate, 8000);
	assert_int_equal(f->c.ring_slots, 2);
	assert_int_equal(f->c.slot_bytes, 320);
	assert_int_equal(f->c.max_calls, 100000);
	assert_int_equal(f->c.jwt_max_age_s, 86400);
	assert_int_equal(f->c.jwt_leeway_s, 0);
	assert_int_equal(f->c.ping_s, 3600);
	assert_int_equal(f->c.log_level, LOG_WARN);
	assert_int_equal(f->c.loop, LOOP_POLL);
	assert_int_equal(f->c.call_rate, 40);
	/* the upper ends of the slot ranges */
	assert_int_equal(load(f, "--ring-slots", "4096", "--slot-bytes", "65536", NULL), CONFIG_OK);
	assert_int_equal(f->c.ring_slots, RING_SLOTS_MAX);
	assert_int_equal(f->c.slot_bytes, 65536);
}

/* The jti table is sized from --call-rate (or --max-calls / 180), the
 * tokens a call spends and their lifetime; a configuration past its bound
 * is refused at start with what it asked. */
static void test_config_replay_sizing(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_sizing z;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_int_equal(config_replay_sizing(&f->c, &z), 0);
	assert_int_equal(z.call_rate, 12);         /* 2000 / 180, rounded up */
	assert_int_equal(z.tokens_per_call, 1);
	assert_int_equal(z.lifetime_s, 330);
	assert_int_equal(load(f, "--verify-webhooks", NULL), CONFIG_OK);
	assert_int_equal(config_replay_sizing(&f->c, &z), 0);
	assert_int_equal(z.tokens_per_call, 6);
	assert_int_equal(z.live, 23760);
	assert_int_equal(load(f, "--max-calls", "10", "--call-rate", "50", "--jwt-max-age", "20", "--jwt-leeway", "0",
			      NULL), CONFIG_OK);
	assert_int_equal(config_replay_sizing(&f->c, &z), 0);
	assert_int_equal(z.call_rate, 50);
	assert_int_equal(z.live, 1000);
	assert_int_equal(z.slots, REPLAY_SLOTS_MIN);
	assert_int_equal(load(f, "--max-calls", "1", NULL), CONFIG_OK);
	assert_int_equal(config_replay_sizing(&f->c, &z), 0);
	assert_int_equal(z.call_rate, 1);
	EXPECT_ERR(f, "the jti table for 556 new calls/s x 6 token(s) x 86400 s", "--max-calls", "100000",
		   "--verify-webhooks", "--jwt-max-age", "86400", "--jwt-leeway", "0", NULL);
	assert_err_mentions(f, "lower --call-rate");
	EXPECT_ERR(f, "--call-rate", "--call-rate", "0", NULL);
}

/* --- bad values --------------------------------------------------------- */

static void test_config_load_rejects_bad_port(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	EXPECT_ERR(f, "--port", "--port", "0", NULL);
	EXPECT_ERR(f, "--port", "--port", "70000", NULL);
	EXPECT_ERR(f, "--port", "--port", "65536", NULL);
	EXPECT_ERR(f, "--port", "--port", "abc", NULL);
	EXPECT_ERR(f, "--port", "--port", "80x", NULL);
	EXPECT_ERR(f, "--port", "--port", "-1", NULL);
	EXPECT_ERR(f, "--port", "--port", " 80", NULL);   /* strtoll would skip the space */
	EXPECT_ERR(f, "--port", "--port", "+80", NULL);
	EXPECT_ERR(f, "--port", "--port=", NULL);
	EXPECT_ERR(f, "--port", "--port", "99999999999999999999999", NULL);
	assert_err_mentions(f, "1..65535");
	assert_int_equal(load(f, "--port", "65535", NULL), CONFIG_OK);
	assert_int_equal(load(f, "--port", "1", NULL), CONFIG_OK);
	/* from the environment the error names the variable */
	setenv("PORT", "abc", 1);
	EXPECT_ERR(f, "PORT", NULL);
	assert_err_mentions(f, "'abc'");
}

static void test_config_load_rejects_bad_rate(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	EXPECT_ERR(f, "--rate", "--rate", "11025", NULL);
	EXPECT_ERR(f, "--rate", "--rate", "24000x", NULL);
	EXPECT_ERR(f, "--rate", "--rate", "0", NULL);
	EXPECT_ERR(f, "--rate", "--rate", " 8000", NULL);
	setenv("AUDIO_RATE", "44100", 1);
	EXPECT_ERR(f, "AUDIO_RATE", NULL);
}

static void test_config_load_rejects_bad_log_level(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	EXPECT_ERR(f, "--log-level", "--log-level", "loud", NULL);
	EXPECT_ERR(f, "--log-level", "--log-level", "", NULL);
	setenv("LOG_LEVEL", "verbose", 1);
	EXPECT_ERR(f, "LOG_LEVEL", NULL);
}

static void test_config_load_log_format(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	setenv("LOG_FORMAT", "json", 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_int_equal(f->c.log_format, LOG_FORMAT_JSON);
	/* the flag wins over the environment */
	assert_int_equal(load(f, "--log-format", "plain", NULL), CONFIG_OK);
	assert_int_equal(f->c.log_format, LOG_FORMAT_PLAIN);
	assert_int_equal(load(f, "--log-format=json", NULL), CONFIG_OK);
	assert_int_equal(f->c.log_format, LOG_FORMAT_JSON);
	unsetenv("LOG_FORMAT");
	EXPECT_ERR(f, "--log-format", "--log-format", "JSON", NULL);
	EXPECT_ERR(f, "--log-format", "--log-format", "", NULL);
	setenv("LOG_FORMAT", "logfmt", 1);
	EXPECT_ERR(f, "LOG_FORMAT", NULL);
}

static void test_config_load_rejects_bad_event_loop(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	EXPECT_ERR(f, "--event-loop", "--event-loop", "select", NULL);
	EXPECT_ERR(f, "--event-loop", "--event-loop", "POLL", NULL);
	setenv("EVENT_LOOP", "epoll", 1);
	EXPECT_ERR(f, "EVENT_LOOP", NULL);
}

static void test_config_load_rejects_bad_ranges(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	EXPECT_ERR(f, "--ring-slots", "--ring-slots", "1", NULL);
	EXPECT_ERR(f, "--ring-slots", "--ring-slots", "4097", NULL);
	EXPECT_ERR(f, "--slot-bytes", "--slot-bytes", "65537", NULL);
	EXPECT_ERR(f, "--max-calls", "--max-calls", "0", NULL);
	EXPECT_ERR(f, "--max-calls", "--max-calls", "100001", NULL);
	EXPECT_ERR(f, "--jwt-max-age", "--jwt-max-age", "0", NULL);
	EXPECT_ERR(f, "--jwt-max-age", "--jwt-max-age", "86401", NULL);
	EXPECT_ERR(f, "--jwt-leeway", "--jwt-leeway", "-1", NULL);
	EXPECT_ERR(f, "--jwt-leeway", "--jwt-leeway", "301", NULL);
	EXPECT_ERR(f, "--ping-interval", "--ping-interval", "4", NULL);
	EXPECT_ERR(f, "--ping-interval", "--ping-interval", "3601", NULL);
	setenv("MAX_CALLS", "many", 1);
	EXPECT_ERR(f, "MAX_CALLS", NULL);
}

static void test_config_load_rejects_slot_smaller_than_frame(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	/* 20 ms of 16-bit mono: 960 bytes at 24 kHz, 640 at 16 kHz, 320 at 8 kHz */
	EXPECT_ERR(f, "--slot-bytes", "--slot-bytes", "959", NULL);
	assert_err_mentions(f, "960");
	assert_int_equal(load(f, "--slot-bytes", "960", NULL), CONFIG_OK);
	EXPECT_ERR(f, "--slot-bytes", "--rate", "16000", "--slot-bytes", "639", NULL);
	assert_int_equal(load(f, "--rate", "16000", "--slot-bytes", "640", NULL), CONFIG_OK);
	EXPECT_ERR(f, "--slot-bytes", "--rate", "8000", "--slot-bytes", "319", NULL);
	assert_int_equal(load(f, "--rate", "8000", "--slot-bytes", "320", NULL), CONFIG_OK);
	/* order of the flags does not matter: checked after all are read */
	EXPECT_ERR(f, "--slot-bytes", "--slot-bytes", "320", "--rate", "16000", NULL);
}

static void test_config_load_rejects_too_long_string(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char v[128];

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	memset(v, 'a', 64);
	v[64] = '\0';
	EXPECT_ERR(f, "--listen", "--listen", v, NULL);
	assert_err_mentions(f, "too long");
	v[63] = '\0';   /* 63 characters fit in listen[64] */
	assert_int_equal(load(f, "--listen", v, NULL), CONFIG_OK);
	assert_string_equal(f->c.listen, v);
}

/* --- argument syntax ---------------------------------------------------- */

static void test_config_load_rejects_unknown_option(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	EXPECT_ERR(f, "--nope", "--nope", "1", NULL);
	EXPECT_ERR(f, "--por", "--por", "80", NULL);           /* no prefix matching */
	EXPECT_ERR(f, "--portx=80", "--portx=80", NULL);
	EXPECT_ERR(f, "--secret", "--secret", "s3cr3t", NULL); /* the secret is never a flag */
	EXPECT_ERR(f, "'-p'", "-p", "80", NULL);
	EXPECT_ERR(f, "'8080'", "8080", NULL);
}

static void test_config_load_flag_without_value(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	EXPECT_ERR(f, "--port", "--port", NULL);
	assert_err_mentions(f, "needs a value");
	EXPECT_ERR(f, "--talk-text", "--rate", "8000", "--talk-text", NULL);
	assert_err_mentions(f, "needs a value");
}

static void test_config_load_help(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	/* no secret needed to ask for help */
	assert_int_equal(load(f, "--help", NULL), CONFIG_HELP);
	assert_int_equal(load(f, "-h", NULL), CONFIG_HELP);
	assert_int_equal(load(f, "--port", "81", "--help", NULL), CONFIG_HELP);
	/* a bad option before --help is still reported */
	EXPECT_ERR(f, "--port", "--port", "0", "--help", NULL);
}

static void test_config_load_small_err_buffer(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char small[8];
	char *argv[] = { (char *)"caller-echo", (char *)"--port", (char *)"0", NULL };

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	memset(small, 'X', sizeof small);
	assert_int_equal(config_load(&f->c, 3, argv, small, sizeof small), CONFIG_ERR);
	assert_string_equal(small, "--port:");   /* truncated, NUL-terminated */
	assert_int_equal(config_load(&f->c, 3, argv, NULL, 0), CONFIG_ERR);
}

/* --- the secret --------------------------------------------------------- */

static void test_config_load_requires_secret(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	EXPECT_ERR(f, "VONAGE_SIGNATURE_SECRET", NULL);
	assert_int_equal(f->c.secret_len, 0);
	setenv("VONAGE_SIGNATURE_SECRET", "", 1);   /* set but empty counts as missing */
	EXPECT_ERR(f, "VONAGE_SIGNATURE_SECRET", NULL);
	EXPECT_ERR(f, "VONAGE_SIGNATURE_SECRET", "--port", "8081", NULL);
}

static void test_config_load_secret_from_env(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char big[600];

	setenv("VONAGE_SIGNATURE_SECRET", "abc", 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_int_equal(f->c.secret_len, 3);
	assert_memory_equal(f->c.secret, "abc", 3);
	assert_string_equal(f->c.secret_source, "environment");
	/* 511 bytes is the longest */
	memset(big, 's', 511);
	big[511] = '\0';
	setenv("VONAGE_SIGNATURE_SECRET", big, 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_int_equal(f->c.secret_len, 511);
	big[511] = 's';
	big[512] = '\0';
	setenv("VONAGE_SIGNATURE_SECRET", big, 1);
	EXPECT_ERR(f, "VONAGE_SIGNATURE_SECRET", NULL);
	assert_err_mentions(f, "511");
}

static void test_config_load_secret_from_file(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char want_source[CONFIG_PATH_MAX + 32];

	const char *p = write_file(f, "secret", "file-secret\n", 12);
	assert_int_equal(load(f, "--secret-file", p, NULL), CONFIG_OK);
	assert_int_equal(f->c.secret_len, 11);                 /* newline stripped */
	assert_memory_equal(f->c.secret, "file-secret", 11);
	snprintf(want_source, sizeof want_source, "file %s", p);
	assert_string_equal(f->c.secret_source, want_source);
	assert_null(strstr(f->c.secret_source, "file-secret"));  /* never the secret itself */

	/* CRLF */
	p = write_file(f, "secret-crlf", "crlf-secret\r\n", 13);
	assert_int_equal(load(f, "--secret-file", p, NULL), CONFIG_OK);
	assert_int_equal(f->c.secret_len, 11);
	assert_memory_equal(f->c.secret, "crlf-secret", 11);

	/* no newline at all; inner newlines and spaces are kept */
	p = write_file(f, "secret-raw", "a b\nc", 5);
	assert_int_equal(load(f, "--secret-file", p, NULL), CONFIG_OK);
	assert_int_equal(f->c.secret_len, 5);
	assert_memory_equal(f->c.secret, "a b\nc", 5);
}

static void test_config_load_secret_file_overrides_env(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	const char *p = write_file(f, "secret", "from-file\n", 10);
	assert_int_equal(load(f, "--secret-file", p, NULL), CONFIG_OK);
	assert_int_equal(f->c.secret_len, 9);
	assert_memory_equal(f->c.secret, "from-file", 9);
	/* and through VONAGE_SIGNATURE_SECRET_FILE */
	unsetenv("VONAGE_SIGNATURE_SECRET");
	setenv("VONAGE_SIGNATURE_SECRET_FILE", p, 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_int_equal(f->c.secret_len, 9);
	assert_memory_equal(f->c.secret, "from-file", 9);
}

static void test_config_load_secret_file_errors(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char missing[256], big[700];

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	/* does not exist (the tests run as root, so chmod 000 would still be readable) */
	snprintf(missing, sizeof missing, "%s/no-such-file", f->dir);
	EXPECT_ERR(f, missing, "--secret-file", missing, NULL);
	assert_err_mentions(f, "secret file");
	assert_err_mentions(f, "No such file");
	/* a directory opens but cannot be read */
	EXPECT_ERR(f, "read error", "--secret-file", f->dir, NULL);
	/* too long */
	memset(big, 'x', sizeof big);
	const char *p = write_file(f, "big", big, sizeof big);
	EXPECT_ERR(f, "longer than 511 bytes", "--secret-file", p, NULL);
	/* 511 bytes plus a newline is fine */
	big[511] = '\n';
	p = write_file(f, "max", big, 512);
	assert_int_equal(load(f, "--secret-file", p, NULL), CONFIG_OK);
	assert_int_equal(f->c.secret_len, 511);
	/* 512 bytes is too long whatever the source: file without newline, env */
	p = write_file(f, "max512", big, 512);
	big[511] = 'x';
	p = write_file(f, "max512", big, 512);
	EXPECT_ERR(f, "longer than 511 bytes", "--secret-file", p, NULL);
	big[512] = '\0';
	setenv("VONAGE_SIGNATURE_SECRET", big, 1);
	EXPECT_ERR(f, "longer than 511 bytes", NULL);
	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	/* only one line ending is dropped: "s\r\n\n" keeps "s\r\n" */
	p = write_file(f, "crlf", "s\r\n\n", 4);
	assert_int_equal(load(f, "--secret-file", p, NULL), CONFIG_OK);
	assert_int_equal(f->c.secret_len, 3);
	p = write_file(f, "crlf1", "s\r\n", 3);
	assert_int_equal(load(f, "--secret-file", p, NULL), CONFIG_OK);
	assert_int_equal(f->c.secret_len, 1);
	/* 512 bytes is too long whatever the source: here a file without newline */
	memset(big, 'x', 512);
	p = write_file(f, "max512", big, 512);
	EXPECT_ERR(f, "longer than 511 bytes", "--secret-file", p, NULL);
	/* only one line ending is dropped: "s\r\n\n" keeps "s\r\n" */
	p = write_file(f, "crlf", "s\r\n\n", 4);
	assert_int_equal(load(f, "--secret-file", p, NULL), CONFIG_OK);
	assert_int_equal(f->c.secret_len, 3);
	p = write_file(f, "crlf1", "s\r\n", 3);
	assert_int_equal(load(f, "--secret-file", p, NULL), CONFIG_OK);
	assert_int_equal(f->c.secret_len, 1);
	/* an empty file leaves no secret */
	p = write_file(f, "empty", "", 0);
	EXPECT_ERR(f, "VONAGE_SIGNATURE_SECRET", "--secret-file", p, NULL);
	p = write_file(f, "newline", "\n", 1);
	EXPECT_ERR(f, "VONAGE_SIGNATURE_SECRET", "--secret-file", p, NULL);
}

/* --- Redis: TLS, AUTH and the password file ------------------------------- */

static const char *private_file(struct fixture *f, const char *name, const char *content, mode_t mode)
{
	const char *p = write_file(f, name, content, strlen(content));
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

static void test_config_load_redis_password_file(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char path[256];

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	snprintf(path, sizeof path, "%s", private_file(f, "pw", "s3cret\n", 0600));
	assert_int_equal(load(f, "--replay-redis", "127.0.0.1:6379", "--replay-redis-password-file", path, NULL),
			 CONFIG_OK);
	assert_int_equal(f->c.replay_redis_password_len, 6);
	assert_memory_equal(f->c.replay_redis_password, "s3cret", 6);
	/* group-readable is how a package ships it; 0400 too */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(load(f, "--replay-redis", "127.0.0.1:6379", "--replay-redis-password-file", path, NULL),
			 CONFIG_OK);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(load(f, "--replay-redis", "127.0.0.1:6379", "--replay-redis-password-file", path, NULL),
			 CONFIG_OK);
	/* what another user could read or replace */
	static const struct { mode_t mode; const char *why; } bad[] = {
		{ 0644, "is readable by every user (mode 0644)" }, { 0604, "is readable by every user (mode 0604)" },
		{ 0660, "with mode 0660; needed:" },  { 0620, "with mode 0620; needed:" },
		{ 0602, "with mode 0602; needed:" }, { 0666, "with mode 0666; needed:" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(chmod(path, bad[i].mode), 0);
		EXPECT_ERR(f, bad[i].why, "--replay-redis", "127.0.0.1:6379", "--replay-redis-password-file", path, NULL);
		assert_err_mentions(f, "--replay-redis-password-file");
		assert_null(strstr(f->err, "s3cret"));
	}
	/* owned by someone else (the tests run as root: give it away) */
	assert_int_equal(chmod(path, 0600), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 12345, 12345), 0);
		EXPECT_ERR(f, "is owned by uid 12345 with mode 0600; needed:", "--replay-redis",
			   "127.0.0.1:6379", "--replay-redis-password-file", path, NULL);
	}
	/* not there, a directory, empty, only a newline, too long */
	char missing[300];
	snprintf(missing, sizeof missing, "%s/none", f->dir);
	EXPECT_ERR(f, "cannot open", "--replay-redis", "h:1", "--replay-redis-password-file", missing, NULL);
	EXPECT_ERR(f, "is not a regular file", "--replay-redis", "h:1", "--replay-redis-password-file", f->dir, NULL);
	EXPECT_ERR(f, "is empty", "--replay-redis", "h:1", "--replay-redis-password-file",
		   private_file(f, "empty", "", 0600), NULL);
	EXPECT_ERR(f, "is empty", "--replay-redis", "h:1", "--replay-redis-password-file",
		   private_file(f, "nl", "\r\n", 0600), NULL);
	char big[600];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	EXPECT_ERR(f, "holds more than 509 bytes", "--replay-redis", "h:1", "--replay-redis-password-file",
		   private_file(f, "big", big, 0600), NULL);
	big[509] = '\0';
	assert_int_equal(load(f, "--replay-redis", "h:1", "--replay-redis-password-file",
			      private_file(f, "max", big, 0600), NULL), CONFIG_OK);
	assert_int_equal(f->c.replay_redis_password_len, 509);
	/* from the environment too */
	setenv("REPLAY_REDIS_PASSWORD_FILE", private_file(f, "env", "from-env", 0600), 1);
	assert_int_equal(load(f, "--replay-redis", "h:1", NULL), CONFIG_OK);
	assert_memory_equal(f->c.replay_redis_password, "from-env", 8);
	unsetenv("REPLAY_REDIS_PASSWORD_FILE");
}

static void test_config_load_redis_options_need_each_other(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char ca[256], pw[256];

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	snprintf(ca, sizeof ca, "%s", write_file(f, "ca.pem", "CA\n", 3));
	snprintf(pw, sizeof pw, "%s", private_file(f, "pw", "pw", 0600));
	EXPECT_ERR(f, "--replay-redis-tls needs --replay-redis", "--replay-redis-tls", NULL);
	EXPECT_ERR(f, "--replay-redis-ca needs --replay-redis", "--replay-redis-ca", ca, NULL);
	EXPECT_ERR(f, "--replay-redis-user needs --replay-redis", "--replay-redis-user", "u", NULL);
	EXPECT_ERR(f, "--replay-redis-password-file needs --replay-redis", "--replay-redis-password-file", pw, NULL);
	EXPECT_ERR(f, "--replay-redis-ca needs --replay-redis-tls", "--replay-redis", "h:1", "--replay-redis-ca", ca,
		   NULL);
	EXPECT_ERR(f, "--replay-redis-ca: cannot read", "--replay-redis", "h:1", "--replay-redis-tls",
		   "--replay-redis-ca", "/nonexistent/ca.pem", NULL);
	EXPECT_ERR(f, "--replay-redis-user needs --replay-redis-password-file", "--replay-redis", "h:1",
		   "--replay-redis-user", "u", NULL);
	assert_int_equal(load(f, "--replay-redis", "h:1", "--replay-redis-tls", "--replay-redis-ca", ca,
			      "--replay-redis-user", "alice", "--replay-redis-password-file", pw, NULL), CONFIG_OK);
	assert_int_equal(f->c.replay_redis_tls, 1);
	assert_string_equal(f->c.replay_redis_ca, ca);
	assert_string_equal(f->c.replay_redis_user, "alice");
	/* the defaults: no TLS, no AUTH */
	assert_int_equal(load(f, "--replay-redis", "h:1", NULL), CONFIG_OK);
	assert_int_equal(f->c.replay_redis_tls, 0);
	assert_int_equal(f->c.replay_redis_password_len, 0);
}

/* --- TLS and the public URL --------------------------------------------- */

static void test_config_load_tls_needs_both(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char cert[256], key[256];

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	snprintf(cert, sizeof cert, "%s", write_file(f, "cert.pem", "CERT\n", 5));
	snprintf(key, sizeof key, "%s", write_file(f, "key.pem", "KEY\n", 4));
	EXPECT_ERR(f, "--tls-cert needs --tls-key", "--tls-cert", cert, NULL);
	EXPECT_ERR(f, "--tls-key needs --tls-cert", "--tls-key", key, NULL);
	assert_int_equal(load(f, "--tls-cert", cert, "--tls-key", key, NULL), CONFIG_OK);
	assert_string_equal(f->c.tls_cert, cert);
	assert_string_equal(f->c.tls_key, key);
	setenv("TLS_CERT", cert, 1);
	setenv("TLS_KEY", key, 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_string_equal(f->c.tls_key, key);
}

static void test_config_load_tls_unreadable(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char cert[256], key[256], missing[256];

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	snprintf(cert, sizeof cert, "%s", write_file(f, "cert.pem", "CERT\n", 5));
	snprintf(key, sizeof key, "%s", write_file(f, "key.pem", "KEY\n", 4));
	snprintf(missing, sizeof missing, "%s/missing.pem", f->dir);
	EXPECT_ERR(f, "--tls-cert: cannot read", "--tls-cert", missing, "--tls-key", key, NULL);
	assert_err_mentions(f, missing);
	EXPECT_ERR(f, "--tls-key: cannot read", "--tls-cert", cert, "--tls-key", missing, NULL);
	assert_err_mentions(f, missing);
}

static void test_config_load_public_url(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	assert_int_equal(load(f, "--public-url", "https://echo.example.com/", NULL), CONFIG_OK);
	assert_string_equal(f->c.public_url, "https://echo.example.com/");
	assert_string_equal(f->c.public_base, "echo.example.com");
	assert_int_equal(f->c.public_secure, 1);
	assert_int_equal(load(f, "--public-url", "http://10.0.0.5:8080/echo", NULL), CONFIG_OK);
	assert_string_equal(f->c.public_base, "10.0.0.5:8080/echo");
	assert_int_equal(f->c.public_secure, 0);
	EXPECT_ERR(f, "--public-url", "--public-url", "ftp://echo.example.com", NULL);
	assert_err_mentions(f, "ftp://echo.example.com");
	EXPECT_ERR(f, "--public-url", "--public-url", "https://evil.com/a?b", NULL);
	EXPECT_ERR(f, "--public-url", "--public-url", "echo.example.com", NULL);
	setenv("PUBLIC_URL", "https://bad host", 1);
	EXPECT_ERR(f, "--public-url", NULL);
}

/* --- usage -------------------------------------------------------------- */

static void test_config_usage_mentions_every_flag(void **state)
{
	(void)state;
	static const char *const flags[] = {
		"--listen ", "--port ", "--tls-cert ", "--tls-key ", "--public-url ", "--from-number ",
		"--secret-file ", "--application-id ", "--talk-text ", "--rate ", "--ring-slots ",
		"--slot-bytes ", "--max-calls ", "--jwt-max-age ", "--jwt-leeway ", "--ping-interval ",
		"--log-level ", "--log-format ", "--event-loop ", "--help ", "--allow-origin ", "--max-calls-per-addr ",
		"--handshake-rate ", "--handshake-burst ", "--limit-exempt ", "--trusted-proxy ", "--max-conns-per-addr ",
		"--max-msg-rate ", "--idle-timeout ", "--handshake-timeout ", "--max-header-bytes ",
		"--verify-webhooks ", "--stats-token ", "--app ", "--echo-max-ms ", "--delay-ms ", "--parrot-max-ms ",
		"--parrot-level ", "--dtmf-switch ",
	};
	static const char *const env_names[] = {
		"LISTEN", "PORT", "TLS_CERT", "TLS_KEY", "PUBLIC_URL", "VONAGE_VIRTUAL_NUMBER",
		"VONAGE_SIGNATURE_SECRET_FILE", "VONAGE_APPLICATION_ID", "TALK_TEXT", "AUDIO_RATE", "MAX_CALLS",
		"LOG_LEVEL", "EVENT_LOOP", "LOG_FORMAT", "ALLOW_ORIGINS", "MAX_CALLS_PER_ADDR", "HANDSHAKE_RATE",
		"HANDSHAKE_BURST", "LIMIT_EXEMPT", "TRUSTED_PROXIES", "MAX_CONNS_PER_ADDR", "MAX_MSG_RATE",
		"IDLE_TIMEOUT", "HANDSHAKE_TIMEOUT", "MAX_HEADER_BYTES", "VERIFY_WEBHOOKS", "STATS_TOKEN",
		"WORKER_ID", "REUSE_PORT", "WORKER_PORT", "APP", "ECHO_MAX_MS", "DELAY_MS", "PARROT_MAX_MS",
		"PARROT_LEVEL", "DTMF_SWITCH", "APP_MEMORY_MAX", "VONAGE_SIGNATURE_SECRET",
	};
	const char *u = config_usage();

	assert_non_null(u);
	assert_true(strncmp(u, "usage: caller-echo", 18) == 0);
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		if (!strstr(u, flags[i]))
			print_error("usage does not mention %s\n", flags[i]);
		assert_non_null(strstr(u, flags[i]));
	}
	for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++) {
		if (!strstr(u, env_names[i]))
			print_error("usage does not mention %s\n", env_names[i]);
		assert_non_null(strstr(u, env_names[i]));
	}
	assert_int_equal(u[strlen(u) - 1], '\n');
	/* stable across calls */
	assert_string_equal(config_usage(), u);
}

static void test_config_load_voice_apps(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	setenv("APP", "delay", 1);
	setenv("DTMF_SWITCH", "0", 1);
	assert_int_equal(load(f, "--delay-ms", "250", "--echo-max-ms", "0", "--parrot-max-ms", "2000",
			      "--parrot-level", "300", NULL), CONFIG_OK);
	assert_string_equal(f->c.app, "delay");
	assert_int_equal(f->c.dtmf_switch, 0);
	assert_int_equal(app_opt("delay-ms"), 250);
	assert_int_equal(app_opt("echo-max-ms"), 0);
	assert_int_equal(app_opt("parrot-max-ms"), 2000);
	assert_int_equal(app_opt("parrot-level"), 300);
	assert_int_equal(load(f, "--app", "parrot", "--dtmf-switch", NULL), CONFIG_OK);
	assert_string_equal(f->c.app, "parrot");
	assert_int_equal(f->c.dtmf_switch, 1);
	/* each load starts from the defaults, in the apps' storage too */
	assert_int_equal(app_opt("delay-ms"), 1000);
	assert_int_equal(app_opt("echo-max-ms"), 160);
	/* an app's option from its environment variable, a flag over it */
	setenv("PARROT_LEVEL", "500", 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_int_equal(app_opt("parrot-level"), 500);
	assert_int_equal(load(f, "--parrot-level", "600", NULL), CONFIG_OK);
	assert_int_equal(app_opt("parrot-level"), 600);
	setenv("PARROT_LEVEL", "0", 1);
	assert_int_equal(load(f, NULL), CONFIG_ERR);
	assert_string_equal(f->err, "PARROT_LEVEL: '0' is not a whole number in 1..32767");
	unsetenv("PARROT_LEVEL");
	/* a name that is not an app: the error lists the apps */
	assert_int_equal(load(f, "--app", "karaoke", NULL), CONFIG_ERR);
	char want[256];
	snprintf(want, sizeof want, "--app: 'karaoke' is not an app: %s", apps_names());
	assert_string_equal(f->err, want);
	assert_non_null(strstr(f->err, "echo, delay, parrot, robot"));
	assert_int_equal(load(f, "--delay-ms", "10", NULL), CONFIG_ERR);
	assert_non_null(strstr(f->err, "--delay-ms"));
	assert_int_equal(load(f, "--parrot-level", "0", NULL), CONFIG_ERR);
	assert_int_equal(load(f, "--parrot-max-ms", "999", NULL), CONFIG_ERR);
	unsetenv("APP");
	unsetenv("DTMF_SWITCH");
}

/* The apps' options are rows of the one table: --help and docs/options.md
 * show each app's own, right after --app and in the list's order, and what
 * --app and --dtmf-switch say about the apps comes from the list. */
static void test_config_app_options_join_the_table(void **state)
{
	(void)state;
	const char *u = config_usage(), *md = config_markdown();
	const char *at = strstr(u, "  --app NAME ");
	char want[512], names[256];
	int n = apps_switchable_n;

	assert_non_null(at);
	/* "echo, delay, parrot or robot", from the list (docs/options.md holds today's words: test_docs) */
	snprintf(names, sizeof names, "%s", apps_names());
	char *last = strrchr(names, ',');
	assert_non_null(last);
	snprintf(want, sizeof want, "the voice app calls start in: %.*s or %s (default: echo) [env APP]",
		 (int)(last - names), names, last + 2);
	assert_non_null(strstr(u, want));
	snprintf(want, sizeof want, "keys 1-%d switch a call to %s (--dtmf-switch=0: every digit goes to the app) "
		 "(default: on) [env DTMF_SWITCH]", n, apps_names());
	assert_non_null(strstr(u, want));
	/* every listed app's rows follow --app, app by app */
	for (int i = 0; i < apps_switchable_n; i++)
		for (const struct voice_opt *o = apps_switchable[i]->opts; o && o->flag; o++) {
			char line[96];
			snprintf(line, sizeof line, "  --%s %s ", o->flag, o->arg);
			const char *p = strstr(u, line);
			if (!p)
				print_error("--help does not list %s\n", line);
			assert_non_null(p);
			assert_true(p > at);
			at = p;
			snprintf(line, sizeof line, "[env %s]", o->env);
			assert_non_null(strstr(p, line));
			snprintf(line, sizeof line, "| `--%s %s` | `%s` | %s | %s |", o->flag, o->arg, o->env, o->def, o->help);
			assert_non_null(strstr(md, line));
		}
	/* ... and then the rest of the apps' section */
	assert_true(strstr(u, "  --app-memory-max MB ") > at);
	assert_null(apps_option("port"));      /* apps_option finds the apps' rows only */
	assert_null(apps_option("echo-max"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_config, teardown_config)

/* --- tokens from files (issue 19: a token given as a flag shows in ps) ----- */

static void test_config_load_tokens_from_files(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char admin_path[256];

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	/* the secret file's rule: one trailing newline (or CRLF) dropped */
	snprintf(admin_path, sizeof admin_path, "%s", write_file(f, "admin", "adm-0123456789abcdef\r\n", 22));
	write_file(f, "stats", "sts-0123456789\n", 15);
	assert_int_equal(load(f, "--admin-token-file", admin_path, "--stats-token-file", f->path, NULL), CONFIG_OK);
	assert_string_equal(f->c.admin_token, "adm-0123456789abcdef");
	assert_string_equal(f->c.stats_token, "sts-0123456789");
	assert_int_equal(f->c.tokens_in_argv, 0);   /* nothing to warn about */
	/* the environment's names */
	setenv("ADMIN_TOKEN_FILE", admin_path, 1);
	setenv("STATS_TOKEN_FILE", f->path, 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_string_equal(f->c.admin_token, "adm-0123456789abcdef");
	assert_string_equal(f->c.stats_token, "sts-0123456789");
	/* a flag overrides the environment's file, and is remembered for the warning */
	assert_int_equal(load(f, "--admin-token", "flag-token-000", NULL), CONFIG_OK);
	assert_string_equal(f->c.admin_token, "flag-token-000");
	assert_int_equal(f->c.tokens_in_argv, CONFIG_ARGV_ADMIN_TOKEN);
	assert_int_equal(load(f, "--stats-token=flag-stats-1", NULL), CONFIG_OK);
	assert_int_equal(f->c.tokens_in_argv, CONFIG_ARGV_STATS_TOKEN);
	/* an empty name in the environment file is "not set" */
	setenv("ADMIN_TOKEN_FILE", "", 1);
	unsetenv("STATS_TOKEN_FILE");
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_string_equal(f->c.admin_token, "");
	/* the token in the environment still works */
	setenv("ADMIN_TOKEN", "env-token-12345", 1);
	assert_int_equal(load(f, NULL), CONFIG_OK);
	assert_string_equal(f->c.admin_token, "env-token-12345");
	assert_int_equal(f->c.tokens_in_argv, 0);
	/* the file's token must still differ from the stats token */
	unsetenv("ADMIN_TOKEN");
	write_file(f, "same", "env-token-12345\n", 16);
	setenv("STATS_TOKEN", "env-token-12345", 1);
	EXPECT_ERR(f, "must differ from --stats-token", "--admin-token-file", f->path, NULL);
}

static void test_config_load_token_file_errors(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	setenv("VONAGE_SIGNATURE_SECRET", DEV_SECRET, 1);
	EXPECT_ERR(f, "--admin-token-file: cannot open '/nonexistent/tok'", "--admin-token-file", "/nonexistent/tok", NULL);
	write_file(f, "empty", "", 0);
	EXPECT_ERR(f, "is empty", "--admin-token-file", f->path, NULL);
	write_file(f, "newline", "\n", 1);
	EXPECT_ERR(f, "is empty", "--stats-token-file", f->path, NULL);
	/* what no client could send in one header: a space, a NUL, a control character, 8-bit bytes */
	static const char *const bad[] = { "two words", "nul\0after", "tab\there", "caf\xc3\xa9", "a\nb" };
	static const size_t bad_len[] = { 9, 9, 8, 5, 3 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_file(f, "bad", bad[i], bad_len[i]);
		EXPECT_ERR(f, "a token is printable ASCII without spaces or control characters", "--admin-token-file",
			   f->path, NULL);
	}
	char big[CONFIG_TOKEN_MAX + 1];
	memset(big, 'a', sizeof big);
	write_file(f, "big", big, sizeof big);
	EXPECT_ERR(f, "longer than 127 bytes", "--admin-token-file", f->path, NULL);
	EXPECT_ERR(f, "a token is printable ASCII", "--admin-token", "with space", NULL);
	/* one token, one way: both forms from one source is a mistake */
	write_file(f, "ok", "tok-0123456789\n", 15);
	EXPECT_ERR(f, "--admin-token and --admin-token-file: give the token one way", "--admin-token", "x-1234567",
		   "--admin-token-file", f->path, NULL);
	EXPECT_ERR(f, "--stats-token and --stats-token-file: give the token one way", "--stats-token-file", f->path,
		   "--stats-token", "x-1234567", NULL);
	setenv("STATS_TOKEN", "s-123456789", 1);
	setenv("STATS_TOKEN_FILE", f->path, 1);
	EXPECT_ERR(f, "STATS_TOKEN and STATS_TOKEN_FILE: give the token one way", NULL);
}

static void test_config_scrub_argv_blanks_only_token_values(void **state)
{
	(void)state;
	char a0[] = "caller-echo", a1[] = "--admin-token", a2[] = "secret-admin", a3[] = "--stats-token=secret-stats",
	     a4[] = "--talk-text", a5[] = "--admin-token", a6[] = "--stats-token-file", a7[] = "/etc/tok",
	     a8[] = "--verify-webhooks", a9[] = "--admin-token";
	char *argv[] = { a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, NULL };

	/* --talk-text's value happens to read "--admin-token": it is a value, not a flag;
	 * the last --admin-token has no value left */
	assert_int_equal(config_scrub_argv(10, argv), 2);
	assert_string_equal(a2, "xxxxxxxxxxxx");
	assert_string_equal(a3, "--stats-token=xxxxxxxxxxxx");
	assert_string_equal(a5, "--admin-token");
	assert_string_equal(a6, "--stats-token-file");
	assert_string_equal(a7, "/etc/tok");
	assert_string_equal(a9, "--admin-token");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_load_defaults),
		T(test_config_load_flag_overrides_env),
		T(test_config_load_reads_every_env_name),
		T(test_config_load_every_flag),
		T(test_config_replay_sizing),
		T(test_config_load_rejects_bad_port),
		T(test_config_load_rejects_bad_rate),
		T(test_config_load_rejects_bad_log_level),
		T(test_config_load_log_format),
		T(test_config_load_rejects_bad_event_loop),
		T(test_config_load_rejects_bad_ranges),
		T(test_config_load_rejects_slot_smaller_than_frame),
		T(test_config_load_rejects_too_long_string),
		T(test_config_load_rejects_unknown_option),
		T(test_config_load_flag_without_value),
		T(test_config_load_help),
		T(test_config_load_small_err_buffer),
		T(test_config_load_requires_secret),
		T(test_config_load_secret_from_env),
		T(test_config_load_secret_from_file),
		T(test_config_load_secret_file_overrides_env),
		T(test_config_load_secret_file_errors),
		T(test_config_load_redis_password_file),
		T(test_config_load_redis_options_need_each_other),
		T(test_config_load_tls_needs_both),
		T(test_config_load_tls_unreadable),
		T(test_config_load_public_url),
		T(test_config_usage_mentions_every_flag),
		T(test_config_load_lists_from_flags_and_env),
		T(test_config_load_rejects_bad_list_values),
		T(test_config_load_switches_and_limits),
		T(test_config_load_worker_options),
		T(test_config_load_voice_apps),
		T(test_config_app_options_join_the_table),
		T(test_config_load_tokens_from_files),
		T(test_config_load_token_file_errors),
		T(test_config_scrub_argv_blanks_only_token_values),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
