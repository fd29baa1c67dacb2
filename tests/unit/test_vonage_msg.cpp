/*
 * test_vonage_msg.cpp -- unit tests for src/vonage_msg.cpp (WebSocket text events and
 * event-webhook bodies).
 *
 * Inputs arrive from lws as (buf, len) without a terminating NUL, so every
 * parser call here goes through parse_ws()/parse_hook(), which copy the input
 * to the very end of a page followed by a PROT_NONE page (picohttpparser's
 * trick): reading one byte past len crashes the test. The output struct is
 * pre-filled with 0xAA so "always fills *ev" is checked, not assumed.
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
#include <sys/mman.h>
#include <unistd.h>

#include "vonage_msg.h"

#define GUARD_PAGES 4   /* room for the long-input cases */

struct fixture {
	uint8_t *map;       /* GUARD_PAGES readable pages, then one PROT_NONE page */
	size_t page;
	struct ws_event ev;
	struct hook_event hook;
};

static int setup_events(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->page = (size_t)sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, (GUARD_PAGES + 1) * f->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect((uint8_t *)m + GUARD_PAGES * f->page, f->page, PROT_NONE)) {
		free(f);
		return -1;
	}
	f->map = (uint8_t *)m;
	*state = f;
	return 0;
}

static int teardown_events(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	munmap(f->map, (GUARD_PAGES + 1) * f->page);
	free(f);
	return 0;
}

/* Copy len bytes so they end exactly at the guard page; no NUL after them. */
static const char *at_page_end(struct fixture *f, const char *s, size_t len)
{
	assert_true(len <= GUARD_PAGES * f->page);
	char *at = (char *)f->map + GUARD_PAGES * f->page - len;
	memcpy(at, s, len);
	return at;
}

static enum ws_event_type parse_ws_len(struct fixture *f, const char *s, size_t len)
{
	memset(&f->ev, 0xAA, sizeof f->ev);
	enum ws_event_type t = vonage_msg_parse_ws(at_page_end(f, s, len), len, &f->ev);
	assert_int_equal(t, f->ev.type);
	return t;
}

static enum ws_event_type parse_ws(struct fixture *f, const char *s)
{
	return parse_ws_len(f, s, strlen(s));
}

static int parse_hook(struct fixture *f, const char *s)
{
	size_t len = strlen(s);
	memset(&f->hook, 0xAA, sizeof f->hook);
	return vonage_msg_parse_event_webhook(at_page_end(f, s, len), len, &f->hook);
}

static void assert_ws_zeroed(const struct ws_event *ev)
{
	assert_int_equal(ev->type, WS_EV_INVALID);
	assert_string_equal(ev->name, "");
	assert_string_equal(ev->content_type, "");
	assert_string_equal(ev->uuid, "");
	assert_int_equal(ev->rate, 0);
	assert_int_equal(ev->digit, 0);
}

/* --- websocket:connected ------------------------------------------------ */

static void test_vonage_msg_parse_ws_connected_each_rate(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const int rates[] = { 8000, 16000, 24000 };
	char msg[256], ct[64];

	for (size_t i = 0; i < 3; i++) {
		snprintf(ct, sizeof ct, "audio/l16;rate=%d", rates[i]);
		snprintf(msg, sizeof msg,
			 "{\"event\":\"websocket:connected\",\"content-type\":\"%s\",\"uuid\":\"abc-123\"}", ct);
		assert_int_equal(parse_ws(f, msg), WS_EV_CONNECTED);
		assert_string_equal(f->ev.name, "websocket:connected");
		assert_string_equal(f->ev.content_type, ct);
		assert_int_equal(f->ev.rate, rates[i]);
		assert_string_equal(f->ev.uuid, "abc-123");
		assert_int_equal(f->ev.digit, 0);
	}
}

static void test_vonage_msg_parse_ws_connected_vonage_shape(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	/* what Vonage sends: NCCO headers copied to the top level */
	assert_int_equal(parse_ws(f, "{\n  \"event\": \"websocket:connected\",\n"
				     "  \"content-type\": \"audio/l16;rate=16000\",\n"
				     "  \"uuid\": \"aaaaaaaa-bbbb-cccc-dddd-0123456789ab\",\n"
				     "  \"from\": \"447700900001\", \"to\": \"447700900000\"\n}\n"),
			 WS_EV_CONNECTED);
	assert_int_equal(f->ev.rate, 16000);
	assert_string_equal(f->ev.uuid, "aaaaaaaa-bbbb-cccc-dddd-0123456789ab");
	assert_string_equal(f->ev.from, "447700900001");   /* the caller, for /stats */
	assert_string_equal(f->ev.to, "447700900000");     /* our number, for the app */
	/* from is sanitised like the rest, and absent or not a string gives "" */
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:connected\",\"from\":\"<+44 7700>\"}"),
			 WS_EV_CONNECTED);
	assert_string_equal(f->ev.from, "?+44 7700?");
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:connected\",\"from\":447700900001}"),
			 WS_EV_CONNECTED);
	assert_string_equal(f->ev.from, "");
}

static void test_vonage_msg_parse_ws_connected_unknown_content_type(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=44100\"}"),
			 WS_EV_CONNECTED);
	assert_int_equal(f->ev.rate, 0);
	assert_string_equal(f->ev.content_type, "audio/l16;rate=44100");
	assert_string_equal(f->ev.uuid, "");
	/* exact match only: case, spacing and prefixes do not count */
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:connected\",\"content-type\":\"audio/L16;rate=16000\"}"),
			 WS_EV_CONNECTED);
	assert_int_equal(f->ev.rate, 0);
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16; rate=16000\"}"),
			 WS_EV_CONNECTED);
	assert_int_equal(f->ev.rate, 0);
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=160000\"}"),
			 WS_EV_CONNECTED);
	assert_int_equal(f->ev.rate, 0);
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=1600\"}"),
			 WS_EV_CONNECTED);
	assert_int_equal(f->ev.rate, 0);
	/* missing or not a string */
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:connected\"}"), WS_EV_CONNECTED);
	assert_int_equal(f->ev.rate, 0);
	assert_string_equal(f->ev.content_type, "");
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:connected\",\"content-type\":16000,\"uuid\":7}"),
			 WS_EV_CONNECTED);
	assert_int_equal(f->ev.rate, 0);
	assert_string_equal(f->ev.content_type, "");
	assert_string_equal(f->ev.uuid, "");
}

/* --- websocket:dtmf ----------------------------------------------------- */

static void expect_digit(struct fixture *f, const char *digit_json, char want)
{
	char msg[128];
	snprintf(msg, sizeof msg, "{\"event\":\"websocket:dtmf\",\"digit\":%s,\"duration\":260}", digit_json);
	assert_int_equal(parse_ws(f, msg), WS_EV_DTMF);
	assert_string_equal(f->ev.name, "websocket:dtmf");
	if (f->ev.digit != want)
		print_error("digit %s: got %d, want %d\n", digit_json, f->ev.digit, want);
	assert_int_equal(f->ev.digit, want);
}

static void test_vonage_msg_parse_ws_dtmf_digits(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	expect_digit(f, "\"5\"", '5');
	expect_digit(f, "\"0\"", '0');
	expect_digit(f, "\"9\"", '9');
	expect_digit(f, "\"#\"", '#');
	expect_digit(f, "\"*\"", '*');
	expect_digit(f, "\"A\"", 'A');
	expect_digit(f, "\"D\"", 'D');
}

static void test_vonage_msg_parse_ws_dtmf_invalid_digit(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	expect_digit(f, "\"55\"", 0);
	expect_digit(f, "\"x\"", 0);
	expect_digit(f, "\"E\"", 0);
	expect_digit(f, "\"a\"", 0);
	expect_digit(f, "\"\"", 0);
	expect_digit(f, "\" 5\"", 0);
	expect_digit(f, "5", 0);          /* a number, not a string */
	expect_digit(f, "null", 0);
	expect_digit(f, "\"\\u0000\"", 0);
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:dtmf\"}"), WS_EV_DTMF);
	assert_int_equal(f->ev.digit, 0);
}

/* --- other event names -------------------------------------------------- */

static void test_vonage_msg_parse_ws_cleared_and_notify(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:cleared\"}"), WS_EV_CLEARED);
	assert_string_equal(f->ev.name, "websocket:cleared");
	assert_int_equal(f->ev.rate, 0);
	assert_string_equal(f->ev.uuid, "");
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:notify\",\"payload\":{\"a\":1}}"), WS_EV_NOTIFY);
	assert_string_equal(f->ev.name, "websocket:notify");
	assert_string_equal(f->ev.payload, "{\"a\":1}");
	assert_string_equal(f->ev.uuid, "");
	/* a notify carrying connected-looking fields does not fill them */
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:notify\",\"content-type\":\"audio/l16;rate=8000\","
				     "\"uuid\":\"u\"}"),
			 WS_EV_NOTIFY);
	assert_int_equal(f->ev.rate, 0);
	assert_string_equal(f->ev.content_type, "");
	assert_string_equal(f->ev.uuid, "");
}

static void test_vonage_msg_parse_ws_unknown_event_keeps_name(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:media:update\"}"), WS_EV_UNKNOWN);
	assert_string_equal(f->ev.name, "websocket:media:update");
	assert_int_equal(parse_ws(f, "{\"event\":\"\"}"), WS_EV_UNKNOWN);
	assert_string_equal(f->ev.name, "");
	/* exact, case-sensitive names */
	assert_int_equal(parse_ws(f, "{\"event\":\"WEBSOCKET:CONNECTED\",\"content-type\":\"audio/l16;rate=8000\"}"),
			 WS_EV_UNKNOWN);
	assert_string_equal(f->ev.name, "WEBSOCKET:CONNECTED");
	assert_int_equal(f->ev.rate, 0);
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:connected \"}"), WS_EV_UNKNOWN);
	/* the name is sanitised */
	assert_int_equal(parse_ws(f, "{\"event\":\"<b>\\\"x\\\"\\n\"}"), WS_EV_UNKNOWN);
	assert_string_equal(f->ev.name, "?b??x??");
}

/* --- invalid input ------------------------------------------------------ */

static void test_vonage_msg_parse_ws_invalid_json(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const char *const bad[] = {
		"not json",
		"{\"event\":\"websocket:connected\"",   /* unterminated */
		"{event:\"websocket:cleared\"}",
		"[{\"event\":\"websocket:cleared\"}]",  /* array */
		"\"websocket:cleared\"",                /* a bare string */
		"42",
		"null",
		"{}",
		"{\"Event\":\"websocket:cleared\"}",    /* key is case-sensitive */
		"{\"event\":5}",
		"{\"event\":null}",
		"{\"event\":[\"websocket:cleared\"]}",
		"{\"event\":{\"name\":\"websocket:cleared\"}}",
		"{\"type\":\"websocket:cleared\"}",
		" ",
		"{\"event\":\"websocket:cleared\"}}",   /* trailing bytes after the value */
		"{\"event\":\"websocket:cleared\"} x",
		"{\"event\":\"websocket:cleared\"}{}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse_ws(f, bad[i]) != WS_EV_INVALID)
			print_error("expected invalid: %s\n", bad[i]);
		assert_ws_zeroed(&f->ev);
	}
	/* empty input */
	assert_int_equal(parse_ws_len(f, "", 0), WS_EV_INVALID);
	assert_ws_zeroed(&f->ev);
}

static void test_vonage_msg_parse_ws_not_nul_terminated(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	const char *msg = "{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=24000\",\"uuid\":\"u-9\"}";
	size_t len = strlen(msg);

	/* the whole message ends at the guard page */
	assert_int_equal(parse_ws_len(f, msg, len), WS_EV_CONNECTED);
	assert_int_equal(f->ev.rate, 24000);
	assert_string_equal(f->ev.uuid, "u-9");
	/* every proper prefix is an incomplete object: invalid, and no overread */
	for (size_t k = 0; k < len; k++) {
		assert_int_equal(parse_ws_len(f, msg, k), WS_EV_INVALID);
		assert_ws_zeroed(&f->ev);
	}
	/* len shorter than the string: bytes after len are ignored */
	char buf[256];
	snprintf(buf, sizeof buf, "%s{\"event\":\"websocket:cleared\"}", "{\"event\":\"websocket:notify\"}");
	assert_int_equal(vonage_msg_parse_ws(buf, strlen("{\"event\":\"websocket:notify\"}"), &f->ev), WS_EV_NOTIFY);
}

static void test_vonage_msg_parse_ws_every_prefix_of_tricky_input(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	/* escapes, unicode and numbers cut at every byte must not read past the end */
	const char *msgs[] = {
		"{\"event\":\"websocket:dtmf\",\"digit\":\"\\u0035\",\"duration\":1.5e2,\"x\":[true,false,null]}",
		"{\"event\":\"websocket:notify\",\"s\":\"\\ud83d\\ude00 \\\"q\\\" \\\\\",\"n\":-0.000001}",
	};
	for (size_t i = 0; i < 2; i++) {
		size_t len = strlen(msgs[i]);
		for (size_t k = 0; k < len; k++)
			assert_int_equal(parse_ws_len(f, msgs[i], k), WS_EV_INVALID);
	}
	assert_int_equal(parse_ws(f, msgs[0]), WS_EV_DTMF);
	assert_int_equal(f->ev.digit, '5');   /* "\u0035" is "5" */
	assert_int_equal(parse_ws(f, msgs[1]), WS_EV_NOTIFY);
}

/* --- sanitising --------------------------------------------------------- */

static void test_vonage_msg_sanitize_replaces_unsafe_bytes(void **state)
{
	(void)state;
	char out[128];
	const char in[] = "a\"b<c>d\\e&f'g\x01h\x7fi\n\t\xc3\xa9z";

	memset(out, 'X', sizeof out);
	vonage_msg_sanitize(out, sizeof out, in, sizeof in - 1);
	assert_string_equal(out, "a?b?c?d?e?f?g?h?i????z");
	/* printable ASCII passes through unchanged */
	const char ok[] = "websocket:connected audio/l16;rate=16000 {}[]()=+-_.,;:!#$%*/@^`|~";
	vonage_msg_sanitize(out, sizeof out, ok, sizeof ok - 1);
	assert_string_equal(out, ok);
	/* an embedded NUL inside len becomes '?' rather than ending the copy */
	vonage_msg_sanitize(out, sizeof out, "ab\0cd", 5);
	assert_string_equal(out, "ab?cd");
}

static void test_vonage_msg_sanitize_truncates(void **state)
{
	(void)state;
	char out[16];

	memset(out, 'X', sizeof out);
	vonage_msg_sanitize(out, 8, "0123456789abcdef", 16);
	assert_string_equal(out, "0123456");   /* cap - 1 bytes, then NUL */
	assert_int_equal(out[8], 'X');         /* nothing written past cap */
	vonage_msg_sanitize(out, 1, "abc", 3);
	assert_string_equal(out, "");
	assert_int_equal(out[1], '1');         /* untouched from the previous call */
	memset(out, 'X', sizeof out);
	vonage_msg_sanitize(out, 0, "abc", 3);     /* cap 0: nothing written at all */
	assert_int_equal(out[0], 'X');
	vonage_msg_sanitize(out, sizeof out, NULL, 5);
	assert_string_equal(out, "");
	vonage_msg_sanitize(out, sizeof out, "abc", 0);
	assert_string_equal(out, "");
	vonage_msg_sanitize(out, sizeof out, "abc", 2);
	assert_string_equal(out, "ab");
}

static void test_vonage_msg_parse_ws_sanitises_and_truncates_fields(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char msg[1024], uuid[201];

	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=8000\","
				     "\"uuid\":\"<script>\\\"x\\\"&'\\u0001\\r\\n</script>\"}"),
			 WS_EV_CONNECTED);
	assert_string_equal(f->ev.uuid, "?script??x???????" "/script?");
	assert_int_equal(f->ev.rate, 8000);

	/* a 200-character uuid keeps its first VONAGE_UUID_MAX - 1 characters */
	for (int i = 0; i < 200; i++)
		uuid[i] = (char)('a' + i % 26);
	uuid[200] = '\0';
	snprintf(msg, sizeof msg, "{\"event\":\"websocket:connected\",\"uuid\":\"%s\"}", uuid);
	assert_int_equal(parse_ws(f, msg), WS_EV_CONNECTED);
	assert_int_equal(strlen(f->ev.uuid), VONAGE_UUID_MAX - 1);
	assert_memory_equal(f->ev.uuid, uuid, VONAGE_UUID_MAX - 1);

	/* a long content type is truncated and does not match any rate */
	snprintf(msg, sizeof msg, "{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=16000%s\"}",
		 ";charset=something-long");
	assert_int_equal(parse_ws(f, msg), WS_EV_CONNECTED);
	assert_int_equal(f->ev.rate, 0);
	assert_int_equal(strlen(f->ev.content_type), VONAGE_CTYPE_MAX - 1);
	assert_string_equal(f->ev.content_type, "audio/l16;rate=16000;charset=something-");

	/* a long unknown event name is truncated to VONAGE_NAME_MAX - 1 */
	snprintf(msg, sizeof msg, "{\"event\":\"websocket:%s\"}", uuid);
	assert_int_equal(parse_ws(f, msg), WS_EV_UNKNOWN);
	assert_int_equal(strlen(f->ev.name), VONAGE_NAME_MAX - 1);
	assert_memory_equal(f->ev.name, "websocket:", 10);
	assert_memory_equal(f->ev.name + 10, uuid, VONAGE_NAME_MAX - 11);
}

static void test_vonage_msg_parse_ws_large_message(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t cap = GUARD_PAGES * f->page;
	char *msg = (char *)malloc(cap + 1);

	assert_non_null(msg);
	int n = snprintf(msg, cap, "{\"event\":\"websocket:cleared\",\"pad\":\"");
	memset(msg + n, 'p', cap - (size_t)n - 2);
	memcpy(msg + cap - 2, "\"}", 2);
	msg[cap] = '\0';
	assert_int_equal(parse_ws_len(f, msg, cap), WS_EV_CLEARED);
	free(msg);
}

/* --- event webhook ------------------------------------------------------ */

static void test_vonage_msg_parse_webhook_status_and_uuid(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_int_equal(parse_hook(f, "{\"status\":\"answered\",\"uuid\":\"u-1\",\"call_uuid\":\"c-1\","
				       "\"conversation_uuid\":\"CON-1\",\"direction\":\"inbound\"}"),
			 0);
	assert_string_equal(f->hook.status, "answered");
	assert_string_equal(f->hook.uuid, "u-1");
}

static void test_vonage_msg_parse_webhook_call_uuid_fallback(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_int_equal(parse_hook(f, "{\"status\":\"completed\",\"call_uuid\":\"c-2\"}"), 0);
	assert_string_equal(f->hook.status, "completed");
	assert_string_equal(f->hook.uuid, "c-2");
	/* a non-string uuid falls back as well */
	assert_int_equal(parse_hook(f, "{\"status\":\"ringing\",\"uuid\":12,\"call_uuid\":\"c-3\"}"), 0);
	assert_string_equal(f->hook.uuid, "c-3");
}

static void test_vonage_msg_parse_webhook_missing_fields(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_int_equal(parse_hook(f, "{}"), 0);
	assert_string_equal(f->hook.status, "");
	assert_string_equal(f->hook.uuid, "");
	assert_int_equal(parse_hook(f, "{\"status\":200,\"uuid\":null,\"call_uuid\":[\"x\"]}"), 0);
	assert_string_equal(f->hook.status, "");
	assert_string_equal(f->hook.uuid, "");
}

static void test_vonage_msg_parse_webhook_sanitises(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char msg[512];

	assert_int_equal(parse_hook(f, "{\"status\":\"<img src=x>\",\"uuid\":\"a\\\"b\\nc\"}"), 0);
	assert_string_equal(f->hook.status, "?img src=x?");
	assert_string_equal(f->hook.uuid, "a?b?c");
	snprintf(msg, sizeof msg, "{\"status\":\"%s\"}",
		 "0123456789012345678901234567890123456789-overflow");
	assert_int_equal(parse_hook(f, msg), 0);
	assert_string_equal(f->hook.status, "012345678901234567890123456789012345678");
}

static void test_vonage_msg_parse_webhook_rejects_non_object(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const char *const bad[] = {
		"[]", "[{\"status\":\"answered\"}]", "\"answered\"", "42", "null", "not json",
		"{\"status\":\"answered\"", "status=answered&uuid=u-1", " ",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse_hook(f, bad[i]), -1);
		assert_string_equal(f->hook.status, "");
		assert_string_equal(f->hook.uuid, "");
	}
	memset(&f->hook, 0xAA, sizeof f->hook);
	assert_int_equal(vonage_msg_parse_event_webhook(at_page_end(f, "", 0), 0, &f->hook), -1);
	assert_string_equal(f->hook.status, "");
}

static void test_vonage_msg_parse_webhook_every_prefix(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	const char *msg = "{\"status\":\"answered\",\"uuid\":\"u-1\"}";
	size_t len = strlen(msg);

	for (size_t k = 0; k < len; k++) {
		memset(&f->hook, 0xAA, sizeof f->hook);
		assert_int_equal(vonage_msg_parse_event_webhook(at_page_end(f, msg, k), k, &f->hook), -1);
	}
	assert_int_equal(vonage_msg_parse_event_webhook(at_page_end(f, msg, len), len, &f->hook), 0);
	assert_string_equal(f->hook.uuid, "u-1");
}

static void test_vonage_msg_parse_exactly_one_value(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct call_info ci;

	/* trailing whitespace is still one JSON value */
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:cleared\"} \r\n"), WS_EV_CLEARED);
	assert_int_equal(vonage_msg_parse_event_webhook("{\"status\":\"answered\"}\n", 21, &f->hook), 0);
	assert_string_equal(f->hook.status, "answered");
	/* anything else after the value is malformed, for every parser */
	assert_int_equal(vonage_msg_parse_event_webhook("{\"a\":1}}", 8, &f->hook), -1);
	assert_int_equal(vonage_msg_parse_answer("{\"to\":\"1\"} x", 12, &ci), -1);
	assert_int_equal(vonage_msg_parse_answer("{\"to\":\"1\",\"uuid\":\"u\"}", 21, &ci), 0);
	assert_string_equal(ci.to, "1");
	assert_string_equal(ci.uuid, "u");
}

/* One query argument at a time, as http.cpp hands lws's fragments over. */
static void test_vonage_msg_answer_arg(void **state)
{
	(void)state;
	struct call_info ci;
	char longv[400];

	memset(&ci, 0, sizeof ci);
	assert_int_equal(vonage_msg_answer_arg(&ci, "uuid=u-1", 8), 0);
	assert_int_equal(vonage_msg_answer_arg(&ci, "from=447700900001", 17), 0);
	assert_int_equal(vonage_msg_answer_arg(&ci, "to=447700900000&x", 15), 0);   /* len bounds it */
	assert_int_equal(vonage_msg_answer_arg(&ci, "conversation_uuid=CON-1", 23), 0);
	assert_string_equal(ci.uuid, "u-1");
	assert_string_equal(ci.from, "447700900001");
	assert_string_equal(ci.to, "447700900000");
	assert_string_equal(ci.conversation_uuid, "CON-1");
	/* the first occurrence wins; names match whole, not as prefixes */
	assert_int_equal(vonage_msg_answer_arg(&ci, "uuid=u-2", 8), 0);
	assert_string_equal(ci.uuid, "u-1");
	memset(&ci, 0, sizeof ci);
	assert_int_equal(vonage_msg_answer_arg(&ci, "uuidx=1", 7), 0);
	assert_int_equal(vonage_msg_answer_arg(&ci, "xuuid=1", 7), 0);
	assert_int_equal(vonage_msg_answer_arg(&ci, "uuid", 4), 0);     /* no '=': empty value */
	assert_string_equal(ci.uuid, "");
	assert_int_equal(vonage_msg_answer_arg(&ci, "from=<b>&\"", 10), 0);
	assert_string_equal(ci.from, "?b???");                       /* sanitised */
	/* too long: cut to the field (63 bytes), reported once */
	int n = snprintf(longv, sizeof longv, "to=");
	memset(longv + n, '7', 300);
	assert_int_equal(vonage_msg_answer_arg(&ci, longv, (size_t)n + 300), 1);
	assert_int_equal(strlen(ci.to), VONAGE_UUID_MAX - 1);
	memset(&ci, 0, sizeof ci);
	assert_int_equal(vonage_msg_answer_arg(&ci, longv, (size_t)n + VONAGE_UUID_MAX - 1), 0);   /* 63 fits */
	memset(&ci, 0, sizeof ci);
	assert_int_equal(vonage_msg_answer_arg(&ci, longv, (size_t)n + VONAGE_UUID_MAX), 1);       /* 64 does not */
	/* a long argument that is not ours is nobody's business */
	memcpy(longv, "SipH=", 5);
	assert_int_equal(vonage_msg_answer_arg(&ci, longv, 300), 0);
	/* POST bodies count their cut values the same way */
	assert_int_equal(vonage_msg_parse_answer("{\"uuid\":\"0123456789012345678901234567890123456789012345678901234567890123\","
					     "\"to\":\"1\"}", 84, &ci), 1);
	assert_string_equal(ci.to, "1");
}

static void test_vonage_msg_notify_payload_forms(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char big[400];

	/* printed compactly, whatever the spacing it came with */
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:notify\",\"payload\": { \"parrot\" : 12 , \"s\":\"<x>\"} }"),
			 WS_EV_NOTIFY);
	assert_string_equal(f->ev.payload, "{\"parrot\":12,\"s\":\"<x>\"}");
	/* absent, not an object, or too long: "" (the event still counts) */
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:notify\"}"), WS_EV_NOTIFY);
	assert_string_equal(f->ev.payload, "");
	assert_int_equal(parse_ws(f, "{\"event\":\"websocket:notify\",\"payload\":\"str\"}"), WS_EV_NOTIFY);
	assert_string_equal(f->ev.payload, "");
	int n = snprintf(big, sizeof big, "{\"event\":\"websocket:notify\",\"payload\":{\"k\":\"%0300d\"}}", 1);
	assert_true(n > 0 && (size_t)n < sizeof big);
	assert_int_equal(parse_ws(f, big), WS_EV_NOTIFY);
	assert_string_equal(f->ev.payload, "");
}

static void test_vonage_msg_notify_command(void **state)
{
	char out[128];
	(void)state;

	assert_int_equal(vonage_msg_notify(out, sizeof out, "{ \"parrot\": 3 }", 15), 42);
	assert_string_equal(out, "{\"action\":\"notify\",\"payload\":{\"parrot\":3}}");
	assert_int_equal(vonage_msg_notify(out, sizeof out, "{}", 2), 32);
	assert_string_equal(out, "{\"action\":\"notify\",\"payload\":{}}");
	/* only one JSON object is a payload */
	assert_int_equal(vonage_msg_notify(out, sizeof out, "[1]", 3), -1);
	assert_int_equal(vonage_msg_notify(out, sizeof out, "3", 1), -1);
	assert_int_equal(vonage_msg_notify(out, sizeof out, "{} {}", 5), -1);
	assert_int_equal(vonage_msg_notify(out, sizeof out, "{", 1), -1);
	assert_int_equal(vonage_msg_notify(out, sizeof out, "", 0), -1);
	/* and it must fit */
	assert_int_equal(vonage_msg_notify(out, 32, "{}", 2), -1);
	assert_int_equal(vonage_msg_notify(out, 33, "{}", 2), 32);
	assert_string_equal(VONAGE_CLEAR, "{\"action\":\"clear\"}");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_events, teardown_events)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_vonage_msg_parse_ws_connected_each_rate),
		T(test_vonage_msg_answer_arg),
		T(test_vonage_msg_parse_ws_connected_vonage_shape),
		T(test_vonage_msg_parse_ws_connected_unknown_content_type),
		T(test_vonage_msg_parse_ws_dtmf_digits),
		T(test_vonage_msg_parse_ws_dtmf_invalid_digit),
		T(test_vonage_msg_parse_ws_cleared_and_notify),
		T(test_vonage_msg_parse_ws_unknown_event_keeps_name),
		T(test_vonage_msg_parse_ws_invalid_json),
		T(test_vonage_msg_parse_ws_not_nul_terminated),
		T(test_vonage_msg_parse_ws_every_prefix_of_tricky_input),
		T(test_vonage_msg_sanitize_replaces_unsafe_bytes),
		T(test_vonage_msg_sanitize_truncates),
		T(test_vonage_msg_parse_ws_sanitises_and_truncates_fields),
		T(test_vonage_msg_parse_ws_large_message),
		T(test_vonage_msg_parse_webhook_status_and_uuid),
		T(test_vonage_msg_parse_webhook_call_uuid_fallback),
		T(test_vonage_msg_parse_webhook_missing_fields),
		T(test_vonage_msg_parse_webhook_sanitises),
		T(test_vonage_msg_parse_webhook_rejects_non_object),
		T(test_vonage_msg_parse_webhook_every_prefix),
		T(test_vonage_msg_parse_exactly_one_value),
		T(test_vonage_msg_notify_payload_forms),
		T(test_vonage_msg_notify_command),
	};
	return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
