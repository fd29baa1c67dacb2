/*
 * test_log.cpp -- unit tests for src/log.cpp (levels, line format, rate limiting,
 * token fingerprints, the JSON line format and its escaper).
 *
 * setup points fd 2 at a fresh temporary file (dup2) and resets
 * log_threshold; captured() reads back what was written so lines are
 * checked byte for byte. teardown restores stderr and replays anything in
 * the capture that is not a log line (cmocka's own failure messages also go
 * to stderr), so a failing assertion is still visible.
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
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"

#define PREFIX_LEN 31   /* "2024-01-02T03:04:05.678Z warn  " */
#define CAP_MAX 65536

struct fixture {
	int saved_stderr;
	int fd;
	char path[64];
	char buf[CAP_MAX];
};

static int setup_log(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->path, sizeof f->path, "/tmp/test_log.XXXXXX");
	f->fd = mkstemp(f->path);
	f->saved_stderr = dup(STDERR_FILENO);
	if (f->fd < 0 || f->saved_stderr < 0 || dup2(f->fd, STDERR_FILENO) < 0) {
		free(f);
		return -1;
	}
	log_threshold = LOG_INFO;
	*state = f;
	return 0;
}

/* Everything written to stderr since setup, NUL-terminated. */
static const char *captured(struct fixture *f)
{
	ssize_t n = pread(f->fd, f->buf, sizeof f->buf - 1, 0);
	assert_true(n >= 0);
	f->buf[n] = '\0';
	return f->buf;
}

static int teardown_log(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	const char *s = captured(f);

	dup2(f->saved_stderr, STDERR_FILENO);
	close(f->saved_stderr);
	/* replay lines that are not ours: cmocka's failure details */
	for (const char *line = s; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
		if (!(len > 4 && line[0] == '2' && line[4] == '-') && strncmp(line, "{\"time\":", 8))
			fprintf(stderr, "%.*s", (int)len, line);
		line += len;
	}
	close(f->fd);
	unlink(f->path);
	log_threshold = LOG_INFO;
	log_format = LOG_FORMAT_PLAIN;
	free(f);
	return 0;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The i-th line (0-based) without its prefix, into out. */
static const char *line_body(const char *s, size_t i, char *out, size_t cap)
{
	for (; i; i--) {
		s = strchr(s, '\n');
		assert_non_null(s);
		s++;
	}
	const char *nl = strchr(s, '\n');
	assert_non_null(nl);
	size_t len = (size_t)(nl - s);
	assert_true(len >= PREFIX_LEN);
	len -= PREFIX_LEN;
	assert_true(len < cap);
	memcpy(out, s + PREFIX_LEN, len);
	out[len] = '\0';
	return out;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ " then the padded level. */
static void assert_prefix(const char *line, const char *level_padded)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ ";
	for (size_t i = 0; i < sizeof shape - 1; i++) {
		if (shape[i] == 'd')
			assert_true(line[i] >= '0' && line[i] <= '9');
		else
			assert_int_equal(line[i], shape[i]);
	}
	assert_memory_equal(line + 25, level_padded, 6);
	/* the timestamp is now, in UTC (a minute's slack: under qemu on a busy
	 * machine a test can take seconds; a wrong zone is off by hours) */
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	assert_non_null(strptime(line, "%Y-%m-%dT%H:%M:%S", &tm));
	time_t t = timegm(&tm);
	time_t now = time(NULL);
	assert_true(t <= now && now - t <= 60);
}

/* --- levels ------------------------------------------------------------- */

static void test_log_level_parse_known_names(void **state)
{
	(void)state;
	enum log_level l = LOG_DEBUG;

	assert_int_equal(log_level_parse("error", &l), 0);
	assert_int_equal(l, LOG_ERROR);
	assert_int_equal(log_level_parse("warn", &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(log_level_parse("info", &l), 0);
	assert_int_equal(l, LOG_INFO);
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(log_level_parse("ERROR", &l), 0);   /* case-insensitive */
	assert_int_equal(l, LOG_ERROR);
	assert_int_equal(log_level_parse("Info", &l), 0);
	assert_int_equal(l, LOG_INFO);
}

static void test_log_level_parse_rejects_unknown(void **state)
{
	(void)state;
	static const char *const bad[] = { "loud", "", "warning", "inf", "info ", " info", "err", "debug2", "3" };
	enum log_level l = LOG_WARN;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(log_level_parse(bad[i], &l), -1);
		assert_int_equal(l, LOG_WARN);   /* untouched */
	}
}

static void test_log_level_str_round_trip(void **state)
{
	(void)state;
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (int i = LOG_ERROR; i <= LOG_DEBUG; i++) {
		enum log_level l = LOG_ERROR;
		assert_string_equal(log_level_str((enum log_level)i), names[i]);
		assert_int_equal(log_level_parse(log_level_str((enum log_level)i), &l), 0);
		assert_int_equal(l, i);
	}
	assert_string_equal(log_level_str((enum log_level)4), "?");
	assert_string_equal(log_level_str((enum log_level)-1), "?");
}

/* --- log_token_hint ----------------------------------------------------- */

static void test_log_token_hint_known_values(void **state)
{
	(void)state;
	char out[9];

	/* FNV-1a 32-bit reference values */
	log_token_hint("", 0, out);
	assert_string_equal(out, "811c9dc5");
	log_token_hint("a", 1, out);
	assert_string_equal(out, "e40c292c");
	log_token_hint("foobar", 6, out);
	assert_string_equal(out, "bf9cf968");
}

static void test_log_token_hint_deterministic_and_distinct(void **state)
{
	(void)state;
	const char *tok = "eyJhbGciOiJIUzI1NiJ9.eyJpYXQiOjE3MDAwMDAwMDB9.c2lnbmF0dXJl";
	char a[9], b[9], c[9];

	memset(a, 'X', sizeof a);
	log_token_hint(tok, strlen(tok), a);
	log_token_hint(tok, strlen(tok), b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 8);
	for (int i = 0; i < 8; i++)
		assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
	/* one character different -> different hint */
	log_token_hint("eyJhbGciOiJIUzI1NiJ9.eyJpYXQiOjE3MDAwMDAwMDB9.c2lnbmF0dXJm", strlen(tok), c);
	assert_string_not_equal(a, c);
	log_token_hint("abc", 3, b);
	log_token_hint("abd", 3, c);
	assert_string_not_equal(b, c);
	/* only len bytes count */
	log_token_hint("abcdef", 3, c);
	assert_string_equal(b, c);
	/* never the token's own text */
	assert_null(strstr(tok, a));
}

/* --- log_write and the macros ------------------------------------------- */

static int evaluated;
static int side_effect(void)
{
	return ++evaluated;
}

static void test_log_write_respects_threshold(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char body[256];

	log_threshold = LOG_WARN;
	evaluated = 0;
	log_debug("debug %d", side_effect());
	log_info("info %d", side_effect());
	assert_int_equal(evaluated, 0);   /* disabled levels do not even format */
	log_warn("warn %d", 1);
	log_err("error %s", "two");
	const char *s = captured(f);
	assert_int_equal(count_lines(s), 2);
	assert_prefix(s, "warn  ");
	assert_string_equal(line_body(s, 0, body, sizeof body), "warn 1");
	assert_prefix(strchr(s, '\n') + 1, "error ");
	assert_string_equal(line_body(s, 1, body, sizeof body), "error two");

	log_threshold = LOG_DEBUG;
	log_debug("d %d", side_effect());
	assert_int_equal(evaluated, 1);
	s = captured(f);
	assert_int_equal(count_lines(s), 3);
	assert_string_equal(line_body(s, 2, body, sizeof body), "d 1");

	log_threshold = LOG_ERROR;
	log_warn("nope");
	log_info("nope");
	assert_int_equal(count_lines(captured(f)), 3);
}

static void test_log_write_line_format(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char body[256];

	log_write(LOG_INFO, "port %d, %s", 8080, "ready");
	const char *s = captured(f);
	assert_prefix(s, "info  ");
	assert_int_equal(strlen(s), PREFIX_LEN + strlen("port 8080, ready") + 1);
	assert_string_equal(line_body(s, 0, body, sizeof body), "port 8080, ready");
	/* log_write itself writes whatever level it is given (the macros filter) */
	log_threshold = LOG_ERROR;
	log_write(LOG_DEBUG, "direct");
	s = captured(f);
	assert_prefix(strchr(s, '\n') + 1, "debug ");
	assert_string_equal(line_body(s, 1, body, sizeof body), "direct");
}

static void test_log_write_one_trailing_newline(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char body[256];

	log_info("a\n");
	log_info("b\n\n\n");
	log_info("%s", "");
	const char *s = captured(f);
	assert_int_equal(count_lines(s), 3);
	assert_string_equal(line_body(s, 0, body, sizeof body), "a");
	assert_string_equal(line_body(s, 1, body, sizeof body), "b");
	assert_string_equal(line_body(s, 2, body, sizeof body), "");
	assert_int_equal(s[strlen(s) - 1], '\n');
}

static void test_log_write_truncates_long_line(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static char msg[2001];

	memset(msg, 'x', 2000);
	msg[2000] = '\0';
	log_info("%s", msg);
	const char *s = captured(f);
	/* the 1024-byte line buffer, minus its NUL: 1022 characters and one '\n' */
	assert_int_equal(strlen(s), 1023);
	assert_int_equal(count_lines(s), 1);
	assert_int_equal(s[1022], '\n');
	assert_int_equal(s[1021], 'x');
	assert_prefix(s, "info  ");
	/* a message whose newline would fall past the end still gets exactly one */
	memset(msg, 'y', 2000);
	msg[1500] = '\n';
	log_warn("%s", msg);
	s = captured(f) + 1023;
	assert_int_equal(strlen(s), 1023);
	assert_int_equal(count_lines(s), 1);
	assert_int_equal(s[1022], '\n');
}

static void test_log_write_longest_untruncated_line(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char msg[1100], body[1100];

	/* 31-byte prefix + 991 characters + '\n' = 1023: fits exactly */
	memset(msg, 'm', 991);
	msg[990] = 'E';
	msg[991] = '\0';
	log_info("%s", msg);
	const char *s = captured(f);
	assert_int_equal(strlen(s), 1023);
	assert_string_equal(line_body(s, 0, body, sizeof body), msg);
	/* one more character and the last one is cut */
	msg[990] = 'm';
	msg[991] = 'L';
	msg[992] = '\0';
	log_info("%s", msg);
	s = captured(f) + 1023;
	assert_int_equal(strlen(s), 1023);
	msg[991] = '\0';
	assert_string_equal(line_body(s, 0, body, sizeof body), msg);
}

/* --- log_limited -------------------------------------------------------- */

static void test_log_limited_burst_then_suppress(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct log_limit lim;
	char body[256], want[64];

	memset(&lim, 0, sizeof lim);
	for (int i = 0; i < LOG_LIMIT_BURST; i++)
		assert_int_equal(log_limited(&lim, 1000, "refused %d", i), 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(log_limited(&lim, 1000, "refused %d", 100 + i), 0);
	const char *s = captured(f);
	assert_int_equal(count_lines(s), LOG_LIMIT_BURST);
	for (int i = 0; i < LOG_LIMIT_BURST; i++) {
		snprintf(want, sizeof want, "refused %d", i);
		assert_string_equal(line_body(s, (size_t)i, body, sizeof body), want);
	}
	assert_prefix(s, "warn  ");   /* security lines are WARN */
	assert_null(strstr(s, "refused 100"));
	assert_int_equal(lim.suppressed, 5);
}

static void test_log_limited_resets_next_second(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct log_limit lim;
	char body[256];

	memset(&lim, 0, sizeof lim);
	for (int i = 0; i < LOG_LIMIT_BURST + 7; i++)
		(void)log_limited(&lim, 1000, "flood %d", i);
	/* next second: the count of suppressed lines first, then the new line */
	assert_int_equal(log_limited(&lim, 1001, "after"), 1);
	const char *s = captured(f);
	assert_int_equal(count_lines(s), LOG_LIMIT_BURST + 2);
	assert_string_equal(line_body(s, LOG_LIMIT_BURST, body, sizeof body), "(7 similar lines suppressed)");
	assert_string_equal(line_body(s, LOG_LIMIT_BURST + 1, body, sizeof body), "after");
	/* a full burst is allowed again in the new second */
	for (int i = 1; i < LOG_LIMIT_BURST; i++)
		assert_int_equal(log_limited(&lim, 1001, "again %d", i), 1);
	assert_int_equal(log_limited(&lim, 1001, "too many"), 0);
	/* a later second without earlier suppression writes no summary... */
	assert_int_equal(log_limited(&lim, 1005, "quiet"), 1);
	s = captured(f);
	assert_int_equal(count_lines(s), 2 * LOG_LIMIT_BURST + 3);
	assert_string_equal(line_body(s, 2 * LOG_LIMIT_BURST + 1, body, sizeof body),
			    "(1 similar lines suppressed)");
	assert_string_equal(line_body(s, 2 * LOG_LIMIT_BURST + 2, body, sizeof body), "quiet");
	/* ...and the one after it none at all */
	assert_int_equal(log_limited(&lim, 1006, "calm"), 1);
	s = captured(f);
	assert_int_equal(count_lines(s), 2 * LOG_LIMIT_BURST + 4);
	assert_string_equal(line_body(s, 2 * LOG_LIMIT_BURST + 3, body, sizeof body), "calm");
}

static void test_log_limited_kinds_are_independent(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct log_limit a, b;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	for (int i = 0; i < LOG_LIMIT_BURST; i++)
		assert_int_equal(log_limited(&a, 2000, "a %d", i), 1);
	assert_int_equal(log_limited(&a, 2000, "a over"), 0);
	assert_int_equal(log_limited(&b, 2000, "b first"), 1);   /* b has its own budget */
	const char *s = captured(f);
	assert_int_equal(count_lines(s), LOG_LIMIT_BURST + 1);
	assert_non_null(strstr(s, "b first\n"));
}

static void test_log_limited_respects_threshold(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct log_limit lim;

	memset(&lim, 0, sizeof lim);
	log_threshold = LOG_ERROR;
	for (int i = 0; i < LOG_LIMIT_BURST; i++)
		(void)log_limited(&lim, 3000, "hidden %d", i);
	/* the burst is still counted: the next one is suppressed */
	assert_int_equal(log_limited(&lim, 3000, "hidden over"), 0);
	(void)log_limited(&lim, 3001, "hidden next");   /* no summary line either */
	assert_string_equal(captured(f), "");
}

/* --- JSON lines ---------------------------------------------------------- */

/* Line n of the capture parsed as JSON (caller cJSON_Delete()s it). */
static cJSON *json_line(const char *s, int n)
{
	for (int i = 0; i < n && s; i++)
		s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL;
	assert_non_null(s);
	const char *nl = strchr(s, '\n');
	assert_non_null(nl);
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(s, (size_t)(nl - s), &end, 0);
	assert_non_null(j);
	assert_ptr_equal(end, nl);   /* the object is the whole line */
	return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
	assert_true(cJSON_IsString(it));
	return it->valuestring;
}

static void test_log_format_parse_names(void **state)
{
	(void)state;
	enum log_format f = LOG_FORMAT_JSON;
	assert_int_equal(log_format_parse("plain", &f), 0);
	assert_int_equal(f, LOG_FORMAT_PLAIN);
	assert_int_equal(log_format_parse("json", &f), 0);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("JSON ", &f), -1);
	assert_int_equal(log_format_parse("", &f), -1);
	assert_int_equal(f, LOG_FORMAT_JSON);   /* unchanged on error */
}

static void test_log_json_line_shape(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	log_format = LOG_FORMAT_JSON;
	log_write_ev(LOG_WARN, "call_open", "call %d from %s", 7, "a \"quoted\" \\ path\n");
	log_info("plain call site %s", "x");
	log_threshold = LOG_WARN;
	log_info_ev("hidden", "filtered before formatting");
	const char *s = captured(f);
	assert_int_equal(count_lines(s), 2);
	assert_true(!strncmp(s, "{\"time\":\"", 9));

	cJSON *j = json_line(s, 0);
	assert_int_equal(cJSON_GetArraySize(j), 4);
	assert_string_equal(j->child->string, "time");   /* fixed key order */
	assert_string_equal(j->child->next->string, "level");
	assert_string_equal(j->child->next->next->string, "event");
	assert_string_equal(j->child->next->next->next->string, "fields");
	const char *t = jstr(j, "time");
	assert_int_equal(strlen(t), 24);   /* 2024-01-02T03:04:05.678Z */
	assert_true(t[4] == '-' && t[10] == 'T' && t[19] == '.' && t[23] == 'Z');
	assert_string_equal(jstr(j, "level"), "warn");
	assert_string_equal(jstr(j, "event"), "call_open");
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(j, "fields");
	assert_true(cJSON_IsObject(fields));
	/* the trailing newline is dropped, as in plain lines */
	assert_string_equal(jstr(fields, "msg"), "call 7 from a \"quoted\" \\ path");
	cJSON_Delete(j);

	j = json_line(s, 1);
	assert_string_equal(jstr(j, "level"), "info");
	assert_string_equal(jstr(j, "event"), "log");   /* call sites without a name */
	assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(j, "fields"), "msg"), "plain call site x");
	cJSON_Delete(j);
}

static void test_log_json_every_byte_stays_one_valid_line(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char msg[256];

	for (int i = 1; i < 256; i++)
		msg[i - 1] = (char)i;
	msg[255] = '\0';
	log_format = LOG_FORMAT_JSON;
	log_info_ev("bytes", "%s", msg);
	const char *s = captured(f);
	assert_int_equal(count_lines(s), 1);
	for (const char *p = s; *p; p++)
		assert_true((unsigned char)*p >= 0x20 || *p == '\n');   /* no raw control bytes */
	cJSON *j = json_line(s, 0);
	const char *m = jstr(cJSON_GetObjectItemCaseSensitive(j, "fields"), "msg");
	/* 1..127 come back as they were (the newline, byte 10, was escaped, not dropped) */
	assert_memory_equal(m, msg, 127);
	cJSON_Delete(j);
}

static void test_log_json_long_message_is_cut_and_still_valid(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static char msg[5000];

	memset(msg, '"', sizeof msg - 1);   /* every byte doubles when escaped */
	log_format = LOG_FORMAT_JSON;
	log_err_ev("long", "%s", msg);
	memset(msg, '\x01', sizeof msg - 1);   /* every byte becomes 6 */
	log_err_ev("long", "%s", msg);
	const char *s = captured(f);
	assert_int_equal(count_lines(s), 2);
	cJSON *j = json_line(s, 0);
	const char *m = jstr(cJSON_GetObjectItemCaseSensitive(j, "fields"), "msg");
	assert_int_equal(strlen(m), 1023);
	assert_int_equal(m[0], '"');
	cJSON_Delete(j);
	j = json_line(s, 1);
	assert_int_equal(strlen(jstr(cJSON_GetObjectItemCaseSensitive(j, "fields"), "msg")), 1023);
	cJSON_Delete(j);
}

static void test_log_json_escape_controls_and_quotes(void **state)
{
	(void)state;
	char out[128];
	const char in[] = "a\"b\\c\x01\b\t\n\v\f\r\x1f\x7f/";

	size_t n = log_json_escape(out, sizeof out, in, sizeof in - 1);
	assert_string_equal(out, "a\\\"b\\\\c\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f\x7f/");
	assert_int_equal(n, strlen(out));
	/* an embedded NUL is data, not the end */
	n = log_json_escape(out, sizeof out, "x\0y", 3);
	assert_string_equal(out, "x\\u0000y");
}

static void test_log_json_escape_utf8(void **state)
{
	(void)state;
	char out[256];

	/* valid 2-, 3- and 4-byte sequences pass through */
	const char ok[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";
	log_json_escape(out, sizeof out, ok, sizeof ok - 1);
	assert_string_equal(out, ok);
	static const struct { const char *in; size_t len; const char *want; } bad[] = {
		{ "\xff", 1, "\\ufffd" },
		{ "\x80x", 2, "\\ufffdx" },                          /* lone continuation */
		{ "\xc0\xaf", 2, "\\ufffd\\ufffd" },                 /* overlong '/' */
		{ "\xe0\x80\xaf", 3, "\\ufffd\\ufffd\\ufffd" },      /* overlong, 3 bytes */
		{ "\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd" },      /* UTF-16 surrogate */
		{ "\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd" }, /* > U+10FFFF */
		{ "\xf5\x80", 2, "\\ufffd\\ufffd" },
		{ "a\xe2\x82", 3, "a\\ufffd\\ufffd" },               /* cut off at the end */
		{ "\xc3(", 2, "\\ufffd(" },                          /* bad continuation */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		log_json_escape(out, sizeof out, bad[i].in, bad[i].len);
		assert_string_equal(out, bad[i].want);
	}
}

static void test_log_json_escape_never_splits_a_character(void **state)
{
	(void)state;
	char out[8];

	memset(out, 'X', sizeof out);
	assert_int_equal(log_json_escape(out, 0, "abc", 3), 0);
	assert_int_equal(out[0], 'X');   /* cap 0: nothing written */
	assert_int_equal(log_json_escape(out, 4, "ab\"", 3), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(log_json_escape(out, 3, "\xc3\xa9", 2), 2);
	assert_string_equal(out, "\xc3\xa9");
	assert_int_equal(log_json_escape(out, 2, "\xc3\xa9", 2), 0);
	assert_string_equal(out, "");
	assert_int_equal(log_json_escape(out, 6, "\x01", 1), 0);   /* needs 6 + NUL */
	assert_int_equal(log_json_escape(out, 7, "\x01", 1), 6);
	assert_string_equal(out, "\\u0001");
}

static void test_log_limited_json_uses_the_limit_event(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct log_limit named = {}, unnamed = {};
	time_t now = 1700000000;

	named.event = "handshake_refused";
	log_format = LOG_FORMAT_JSON;
	for (int i = 0; i < LOG_LIMIT_BURST + 2; i++)
		log_limited(&named, now, "refused %d", i);
	log_limited(&named, now + 1, "after");
	log_limited(&unnamed, now, "no name");
	const char *s = captured(f);
	assert_int_equal(count_lines(s), LOG_LIMIT_BURST + 3);
	for (int i = 0; i < LOG_LIMIT_BURST + 2; i++) {
		cJSON *j = json_line(s, i);
		assert_string_equal(jstr(j, "event"), "handshake_refused");
		assert_string_equal(jstr(j, "level"), "warn");
		cJSON_Delete(j);
	}
	cJSON *j = json_line(s, LOG_LIMIT_BURST);
	assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(j, "fields"), "msg"),
			    "(2 similar lines suppressed)");
	cJSON_Delete(j);
	j = json_line(s, LOG_LIMIT_BURST + 2);
	assert_string_equal(jstr(j, "event"), "security");
	cJSON_Delete(j);
}

static void test_log_json_fields_follow_msg(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	const char *none = NULL;
	const struct log_field lf[] = { LOG_NUM("call", 5000000000ull), LOG_STR("uuid", "a\"b\n"),
					LOG_NUM("code", -1), LOG_STR("from", none) };

	log_format = LOG_FORMAT_JSON;
	LOG_FIELDS(LOG_INFO, "call_open", lf, "call %d", 1);
	log_threshold = LOG_WARN;
	LOG_FIELDS(LOG_INFO, "call_open", lf, "filtered");
	const char *s = captured(f);
	assert_int_equal(count_lines(s), 1);
	assert_non_null(strstr(s, "\"fields\":{\"msg\":\"call 1\",\"call\":5000000000,\"uuid\":\"a\\\"b\\n\",\"code\":-1,"
				  "\"from\":\"\"}}\n"));
	cJSON *j = json_line(s, 0);
	const cJSON *fl = cJSON_GetObjectItemCaseSensitive(j, "fields");
	assert_int_equal(cJSON_GetArraySize(fl), 5);
	assert_string_equal(jstr(fl, "uuid"), "a\"b\n");
	cJSON_Delete(j);
}

/* LOG_DEC: a formatted number goes out unquoted; anything else as null */
static void test_log_json_decimal_fields(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	const struct log_field lf[] = { LOG_DEC("mos", "4.41"), LOG_DEC("level_dbfs", "-23.5"),
					LOG_DEC("bad", "1\"}"), LOG_DEC("empty", "") };

	log_format = LOG_FORMAT_JSON;
	LOG_FIELDS(LOG_INFO, "call_closed", lf, "closed");
	const char *s = captured(f);
	assert_non_null(strstr(s, ",\"mos\":4.41,\"level_dbfs\":-23.5,\"bad\":null,\"empty\":null}}\n"));
	cJSON *j = json_line(s, 0);
	const cJSON *fl = cJSON_GetObjectItemCaseSensitive(j, "fields");
	assert_true(cJSON_GetObjectItemCaseSensitive(fl, "mos")->valuedouble == 4.41);
	cJSON_Delete(j);
}

static void test_log_json_fields_never_break_the_line(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static char msg[5000], big[4000];

	memset(msg, '\x01', sizeof msg - 1);    /* the longest escaped message */
	memset(big, '\x02', sizeof big - 1);    /* and fields that cannot all fit */
	const struct log_field lf[] = { LOG_STR("a", big), LOG_STR("b", big), LOG_NUM("c", 7) };
	log_format = LOG_FORMAT_JSON;
	LOG_FIELDS(LOG_WARN, "long", lf, "%s", msg);
	LOG_FIELDS(LOG_WARN, "short", lf, "ok");
	const char *s = captured(f);
	assert_int_equal(count_lines(s), 2);
	cJSON *j = json_line(s, 0);   /* cut, but one valid object */
	assert_int_equal(strlen(jstr(cJSON_GetObjectItemCaseSensitive(j, "fields"), "msg")), 1023);
	cJSON_Delete(j);
	j = json_line(s, 1);
	const cJSON *fl = cJSON_GetObjectItemCaseSensitive(j, "fields");
	assert_string_equal(jstr(fl, "msg"), "ok");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(fl, "a"));
	cJSON_Delete(j);
}

static void test_log_json_worker_tag_is_a_field(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	const struct log_field lf[] = { LOG_NUM("call", 3) };

	log_set_tag("w1");
	log_format = LOG_FORMAT_JSON;
	LOG_FIELDS(LOG_INFO, "call_open", lf, "open");
	log_format = LOG_FORMAT_PLAIN;
	log_info("plain");
	log_set_tag(NULL);
	const char *s = captured(f);
	assert_non_null(strstr(s, "\"fields\":{\"msg\":\"open\",\"worker\":\"w1\",\"call\":3}}\n"));
	assert_non_null(strstr(s, " info  [w1] plain\n"));
}

static void test_log_plain_ignores_event_names(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char body[256];

	log_info_ev("call_open", "call %d", 3);
	const char *s = captured(f);
	assert_prefix(s, "info  ");
	assert_string_equal(line_body(s, 0, body, sizeof body), "call 3");
}

static void test_log_limited_fields(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct log_limit lim = { 0, 0, 0, "handshake_refused" };
	const struct log_field lf[] = { LOG_STR("remote", "203.0.113.9"), LOG_STR("reason", "bad_signature"),
					LOG_NUM("status", 401) };

	log_format = LOG_FORMAT_JSON;
	for (int i = 0; i < LOG_LIMIT_BURST + 3; i++)
		log_limited_fields(&lim, 100, lf, 3, "refused %d", i);
	log_limited_fields(&lim, 101, lf, 3, "refused again");
	const char *s = captured(f);
	assert_int_equal(count_lines(s), LOG_LIMIT_BURST + 2);   /* + the "suppressed" line */
	cJSON *j = json_line(s, 0);
	assert_string_equal(jstr(j, "event"), "handshake_refused");
	assert_string_equal(jstr(j, "level"), "warn");
	const cJSON *fl = cJSON_GetObjectItemCaseSensitive(j, "fields");
	assert_string_equal(jstr(fl, "msg"), "refused 0");
	assert_string_equal(jstr(fl, "remote"), "203.0.113.9");
	assert_string_equal(jstr(fl, "reason"), "bad_signature");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(fl, "status")->valueint, 401);
	/* fixed order: msg, then the fields as given (what fail2ban's filter reads) */
	assert_string_equal(fl->child->string, "msg");
	assert_string_equal(fl->child->next->string, "remote");
	assert_string_equal(fl->child->next->next->string, "reason");
	cJSON_Delete(j);
	j = json_line(s, LOG_LIMIT_BURST);
	assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(j, "fields"), "msg"), "(3 similar lines suppressed)");
	cJSON_Delete(j);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_log, teardown_log)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_log_level_parse_known_names),
		T(test_log_level_parse_rejects_unknown),
		T(test_log_level_str_round_trip),
		T(test_log_token_hint_known_values),
		T(test_log_token_hint_deterministic_and_distinct),
		T(test_log_write_respects_threshold),
		T(test_log_write_line_format),
		T(test_log_write_one_trailing_newline),
		T(test_log_write_truncates_long_line),
		T(test_log_write_longest_untruncated_line),
		T(test_log_limited_burst_then_suppress),
		T(test_log_limited_resets_next_second),
		T(test_log_limited_kinds_are_independent),
		T(test_log_limited_respects_threshold),
		T(test_log_format_parse_names),
		T(test_log_json_line_shape),
		T(test_log_limited_fields),
		T(test_log_json_every_byte_stays_one_valid_line),
		T(test_log_json_long_message_is_cut_and_still_valid),
		T(test_log_json_escape_controls_and_quotes),
		T(test_log_json_escape_utf8),
		T(test_log_json_escape_never_splits_a_character),
		T(test_log_limited_json_uses_the_limit_event),
		T(test_log_plain_ignores_event_names),
		T(test_log_json_worker_tag_is_a_field),
		T(test_log_json_fields_follow_msg),
		T(test_log_json_decimal_fields),
		T(test_log_json_fields_never_break_the_line),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
