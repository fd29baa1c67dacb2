/*
 * test_ncco.cpp -- unit tests for src/ncco.cpp (the NCCO the answer webhook returns).
 *
 * The output is compared byte for byte against the shape documented in
 * ncco.h; escaped output is parsed back with cJSON to prove it is valid JSON
 * carrying the original text. The buffer-size tests put `out` at the end of a
 * page followed by a PROT_NONE page so a write past cap crashes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ncco.h"

#define FULL_NCCO                                                                                  \
	"[{\"action\":\"talk\",\"text\":\"Hi\"},{\"action\":\"connect\",\"from\":\"447700900000\","   \
	"\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"wss://echo.example.com/socket\","             \
	"\"content-type\":\"audio/l16;rate=24000\",\"headers\":{\"uuid\":\"abc\","                      \
	"\"from\":\"447700900001\",\"to\":\"447700900000\"},\"authorization\":{\"type\":\"vonage\"}}]}]"

struct fixture {
	struct ncco_params p;
	char out[NCCO_MAX];
};

static int setup_ncco(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->p.talk_text = "Hi";
	f->p.from_number = "447700900000";
	f->p.ws_uri = "wss://echo.example.com/socket";
	f->p.rate = 24000;
	f->p.uuid = "abc";
	f->p.call_from = "447700900001";
	f->p.call_to = "447700900000";
	memset(f->out, 'X', sizeof f->out);   /* so "out is empty" is a real check */
	*state = f;
	return 0;
}

static int teardown_ncco(void **state)
{
	free(*state);
	return 0;
}

static void assert_built(struct fixture *f, const char *want)
{
	int n = ncco_build(&f->p, f->out, sizeof f->out);
	assert_string_equal(f->out, want);
	assert_int_equal(n, strlen(want));
	assert_int_equal(n, strlen(f->out));
}

/* --- exact output ------------------------------------------------------- */

static void test_ncco_build_full_parameter_set(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	assert_built(f, FULL_NCCO);
}

static void test_ncco_build_omits_talk_when_no_text(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	const char *want =
		"[{\"action\":\"connect\",\"from\":\"447700900000\",\"endpoint\":[{\"type\":\"websocket\","
		"\"uri\":\"wss://echo.example.com/socket\",\"content-type\":\"audio/l16;rate=24000\","
		"\"headers\":{\"uuid\":\"abc\",\"from\":\"447700900001\",\"to\":\"447700900000\"},"
		"\"authorization\":{\"type\":\"vonage\"}}]}]";

	f->p.talk_text = NULL;
	assert_built(f, want);
	f->p.talk_text = "";
	assert_built(f, want);
}

static void test_ncco_build_omits_from_when_no_number(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	const char *want =
		"[{\"action\":\"talk\",\"text\":\"Hi\"},{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\","
		"\"uri\":\"wss://echo.example.com/socket\",\"content-type\":\"audio/l16;rate=24000\","
		"\"headers\":{\"uuid\":\"abc\",\"from\":\"447700900001\",\"to\":\"447700900000\"},"
		"\"authorization\":{\"type\":\"vonage\"}}]}]";

	f->p.from_number = NULL;
	assert_built(f, want);
	f->p.from_number = "";
	assert_built(f, want);
}

static void test_ncco_build_omits_unknown_header_keys(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	f->p.uuid = NULL;
	f->p.call_from = "";
	f->p.call_to = NULL;
	assert_built(f, "[{\"action\":\"talk\",\"text\":\"Hi\"},{\"action\":\"connect\",\"from\":\"447700900000\","
			"\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"wss://echo.example.com/socket\","
			"\"content-type\":\"audio/l16;rate=24000\",\"headers\":{},"
			"\"authorization\":{\"type\":\"vonage\"}}]}]");
	f->p.uuid = "u-1";
	assert_built(f, "[{\"action\":\"talk\",\"text\":\"Hi\"},{\"action\":\"connect\",\"from\":\"447700900000\","
			"\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"wss://echo.example.com/socket\","
			"\"content-type\":\"audio/l16;rate=24000\",\"headers\":{\"uuid\":\"u-1\"},"
			"\"authorization\":{\"type\":\"vonage\"}}]}]");
	f->p.uuid = NULL;
	f->p.call_to = "15550001111";
	assert_built(f, "[{\"action\":\"talk\",\"text\":\"Hi\"},{\"action\":\"connect\",\"from\":\"447700900000\","
			"\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"wss://echo.example.com/socket\","
			"\"content-type\":\"audio/l16;rate=24000\",\"headers\":{\"to\":\"15550001111\"},"
			"\"authorization\":{\"type\":\"vonage\"}}]}]");
}

static void test_ncco_build_minimal(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	f->p.talk_text = NULL;
	f->p.from_number = NULL;
	f->p.uuid = f->p.call_from = f->p.call_to = NULL;
	f->p.ws_uri = "ws://127.0.0.1:8080/socket";
	f->p.rate = 8000;
	assert_built(f, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\","
			"\"uri\":\"ws://127.0.0.1:8080/socket\",\"content-type\":\"audio/l16;rate=8000\","
			"\"headers\":{},\"authorization\":{\"type\":\"vonage\"}}]}]");
}

/* --- rates -------------------------------------------------------------- */

static void test_ncco_build_rates(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const int rates[] = { 8000, 16000, 24000 };

	for (size_t i = 0; i < 3; i++) {
		char want[1024], ct[32];
		f->p.rate = rates[i];
		snprintf(ct, sizeof ct, "audio/l16;rate=%d", rates[i]);
		snprintf(want, sizeof want,
			 "[{\"action\":\"talk\",\"text\":\"Hi\"},{\"action\":\"connect\",\"from\":\"447700900000\","
			 "\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"wss://echo.example.com/socket\","
			 "\"content-type\":\"%s\",\"headers\":{\"uuid\":\"abc\","
			 "\"from\":\"447700900001\",\"to\":\"447700900000\"},\"authorization\":{\"type\":\"vonage\"}}]}]",
			 ct);
		assert_built(f, want);
	}
}

static void test_ncco_build_rejects_invalid_rate(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const int bad[] = { 11025, 0, -1, 8001, 44100, 48000, 23999 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(f->out, 'X', sizeof f->out);
		f->p.rate = bad[i];
		assert_int_equal(ncco_build(&f->p, f->out, sizeof f->out), -1);
		assert_string_equal(f->out, "");
	}
}

static void test_ncco_build_rejects_missing_uri(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	f->p.ws_uri = NULL;
	assert_int_equal(ncco_build(&f->p, f->out, sizeof f->out), -1);
	assert_string_equal(f->out, "");
	memset(f->out, 'X', sizeof f->out);
	f->p.ws_uri = "";
	assert_int_equal(ncco_build(&f->p, f->out, sizeof f->out), -1);
	assert_string_equal(f->out, "");
}

static void test_ncco_content_type_values(void **state)
{
	(void)state;
	char out[32];

	assert_int_equal(ncco_content_type(8000, out, sizeof out), 19);
	assert_string_equal(out, "audio/l16;rate=8000");
	assert_int_equal(ncco_content_type(16000, out, sizeof out), 20);
	assert_string_equal(out, "audio/l16;rate=16000");
	assert_int_equal(ncco_content_type(24000, out, sizeof out), 20);
	assert_string_equal(out, "audio/l16;rate=24000");
	assert_int_equal(ncco_content_type(11025, out, sizeof out), -1);
	assert_int_equal(ncco_content_type(0, out, sizeof out), -1);
	/* cap: needs len + 1 */
	assert_int_equal(ncco_content_type(24000, out, 21), 20);
	assert_int_equal(ncco_content_type(24000, out, 20), -1);
	assert_int_equal(ncco_content_type(8000, out, 20), 19);
	assert_int_equal(ncco_content_type(8000, out, 19), -1);
}

/* --- escaping ----------------------------------------------------------- */

static void test_ncco_build_escapes_text(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	const char *text = "Say \"hi\" \\ now\n\t\x01\x1f</script>";

	f->p.talk_text = text;
	f->p.from_number = NULL;
	f->p.uuid = "a\"b";
	f->p.call_from = "\\";
	f->p.call_to = "x\ry";
	assert_built(f, "[{\"action\":\"talk\",\"text\":\"Say \\\"hi\\\" \\\\ now\\n\\t\\u0001\\u001f</script>\"},"
			"{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\","
			"\"uri\":\"wss://echo.example.com/socket\",\"content-type\":\"audio/l16;rate=24000\","
			"\"headers\":{\"uuid\":\"a\\\"b\",\"from\":\"\\\\\",\"to\":\"x\\ry\"},"
			"\"authorization\":{\"type\":\"vonage\"}}]}]");

	/* parse it back: valid JSON, and the strings survive the round trip */
	cJSON *root = cJSON_Parse(f->out);
	assert_non_null(root);
	assert_true(cJSON_IsArray(root));
	assert_int_equal(cJSON_GetArraySize(root), 2);
	const cJSON *talk = cJSON_GetArrayItem(root, 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(talk, "text")->valuestring, text);
	const cJSON *conn = cJSON_GetArrayItem(root, 1);
	assert_null(cJSON_GetObjectItemCaseSensitive(conn, "from"));
	const cJSON *ep = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(conn, "endpoint"), 0);
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(ep, "headers");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(h, "uuid")->valuestring, "a\"b");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(h, "from")->valuestring, "\\");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(h, "to")->valuestring, "x\ry");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(ep, "uri")->valuestring,
			    "wss://echo.example.com/socket");
	cJSON_Delete(root);
}

static void test_ncco_build_escaped_text_cannot_inject_actions(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	f->p.talk_text = "\"},{\"action\":\"record\",\"x\":\"";
	int n = ncco_build(&f->p, f->out, sizeof f->out);
	assert_true(n > 0);
	cJSON *root = cJSON_Parse(f->out);
	assert_non_null(root);
	assert_int_equal(cJSON_GetArraySize(root), 2);   /* still talk + connect only */
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(root, 0), "text")->valuestring,
			    f->p.talk_text);
	cJSON_Delete(root);
}

/* --- buffer size -------------------------------------------------------- */

static void test_ncco_build_too_small_buffer(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len = strlen(FULL_NCCO);
	char small[sizeof FULL_NCCO];

	/* cap 0: nothing written, nothing read */
	assert_int_equal(ncco_build(&f->p, NULL, 0), -1);
	for (size_t cap = 1; cap <= len; cap++) {
		memset(small, 'X', sizeof small);
		assert_int_equal(ncco_build(&f->p, small, cap), -1);
		assert_string_equal(small, "");
		/* nothing written past cap */
		for (size_t k = cap; k < sizeof small; k++)
			assert_int_equal(small[k], 'X');
	}
}

static void test_ncco_build_never_truncates_at_page_end(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = strlen(FULL_NCCO);
	int ok_seen = 0;

	uint8_t *map = (uint8_t *)mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				       -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, page, PROT_NONE), 0);
	/* every cap from 1 to len + 16: either the whole NCCO or -1 with "" */
	for (size_t cap = 1; cap <= len + 16; cap++) {
		char *out = (char *)map + page - cap;
		memset(out, 'X', cap);
		int n = ncco_build(&f->p, out, cap);
		if (n < 0) {
			assert_int_equal(n, -1);
			assert_string_equal(out, "");
			assert_false(ok_seen);   /* once it fits, a bigger buffer fits too */
		} else {
			assert_int_equal(n, len);
			assert_string_equal(out, FULL_NCCO);
			ok_seen = 1;
		}
	}
	/*
	 * Some cap up to len + 16 must be enough. (ncco.cpp keeps cJSON's 5-byte
	 * safety margin, so today the smallest cap that works is len + 7, not
	 * len + 1; see the report. Not asserted either way here.)
	 */
	assert_true(ok_seen);
	munmap(map, 2 * page);
}

static void test_ncco_build_long_text_needs_big_buffer(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static char text[NCCO_MAX];

	memset(text, 'a', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	f->p.talk_text = text;
	assert_int_equal(ncco_build(&f->p, f->out, sizeof f->out), -1);   /* 4095 chars + wrapping */
	assert_string_equal(f->out, "");
	text[1000] = '\0';
	int n = ncco_build(&f->p, f->out, sizeof f->out);
	assert_int_equal(n, strlen(FULL_NCCO) - 2 + 1000);
	assert_int_equal(n, strlen(f->out));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_ncco, teardown_ncco)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ncco_build_full_parameter_set),
		T(test_ncco_build_omits_talk_when_no_text),
		T(test_ncco_build_omits_from_when_no_number),
		T(test_ncco_build_omits_unknown_header_keys),
		T(test_ncco_build_minimal),
		T(test_ncco_build_rates),
		T(test_ncco_build_rejects_invalid_rate),
		T(test_ncco_build_rejects_missing_uri),
		T(test_ncco_content_type_values),
		T(test_ncco_build_escapes_text),
		T(test_ncco_build_escaped_text_cannot_inject_actions),
		T(test_ncco_build_too_small_buffer),
		T(test_ncco_build_never_truncates_at_page_end),
		T(test_ncco_build_long_text_needs_big_buffer),
	};
	return cmocka_run_group_tests_name("ncco", tests, NULL, NULL);
}
