/*
 * test_sim_ncco_check.cpp -- unit tests for sim/ncco_check.cpp (is an answer
 * body an NCCO caller-sim can play, and what does the call need from it).
 *
 * The accepted case is caller-echo's own NCCO, byte for byte as
 * docs/behaviour.md specifies it. Each refusal test asserts the exact
 * message, because the message is the product: it must name the action and
 * the field at fault. url_parse is linked in (the endpoint uri is checked
 * with it), and tested here for the shapes the NCCO check relies on.
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

#include "ncco_check.h"
#include "url.h"

#define SERVER_NCCO                                                                                          \
	"[{\"action\":\"talk\",\"text\":\"Connecting you to the echo server. You will hear yourself.\"},"       \
	"{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"ws://127.0.0.1:8080/socket\","  \
	"\"content-type\":\"audio/l16;rate=24000\",\"headers\":{\"uuid\":\"abc\",\"from\":\"2\",\"to\":\"1\"},"  \
	"\"authorization\":{\"type\":\"vonage\"}}]}]"

static int setup_out(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)malloc(sizeof *n);
	if (!n)
		return -1;
	memset(n, 0x5a, sizeof *n);
	*state = n;
	return 0;
}

static int teardown_out(void **state)
{
	free(*state);
	return 0;
}

/* Run the check on s; return the error text ("" when accepted). */
static const char *check(struct ncco_ws *out, const char *s)
{
	static char err[256];

	err[0] = '\0';
	if (ncco_check(s, strlen(s), out, err, sizeof err) == 0)
		return "";
	assert_true(err[0] != '\0');   /* a refusal always says why */
	return err;
}

static void test_ncco_check_accepts_server_ncco(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)*state;

	assert_string_equal(check(n, SERVER_NCCO), "");
	assert_string_equal(n->uri, "ws://127.0.0.1:8080/socket");
	assert_string_equal(n->content_type, "audio/l16;rate=24000");
	assert_int_equal(n->rate, 24000);
	assert_int_equal(n->auth, NCCO_AUTH_VONAGE);
	assert_int_equal(n->talk_actions, 1);
	/* headers flattened into the first message, in their order (reference A.3) */
	assert_string_equal(n->connected, "{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=24000\","
					  "\"uuid\":\"abc\",\"from\":\"2\",\"to\":\"1\"}");
}

static void test_ncco_check_accepts_connect_only_without_headers_or_auth(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)*state;

	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\","
				     "\"uri\":\"wss://echo.example.com/socket\",\"content-type\":\"audio/l16;rate=8000\"}]}]"),
			    "");
	assert_int_equal(n->rate, 8000);
	assert_int_equal(n->auth, NCCO_AUTH_NONE);
	assert_int_equal(n->talk_actions, 0);
	assert_string_equal(n->connected, "{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=8000\"}");
}

static void test_ncco_check_keeps_nested_header_values(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)*state;

	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\","
				     "\"uri\":\"ws://h/s\",\"content-type\":\"audio/l16;rate=16000\","
				     "\"headers\":{\"app\":{\"id\":7,\"tags\":[\"a\"]}}}]}]"),
			    "");
	assert_string_equal(n->connected, "{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=16000\","
					  "\"app\":{\"id\":7,\"tags\":[\"a\"]}}");
}

static void test_ncco_check_custom_authorization_value(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)*state;

	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"ws://h/s\","
				     "\"content-type\":\"audio/l16;rate=16000\","
				     "\"authorization\":{\"type\":\"custom\",\"value\":\"Bearer abc123\"}}]}]"),
			    "");
	assert_int_equal(n->auth, NCCO_AUTH_CUSTOM);
	assert_string_equal(n->auth_value, "Bearer abc123");
	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"ws://h/s\","
				     "\"content-type\":\"audio/l16;rate=16000\",\"authorization\":{\"type\":\"custom\"}}]}]"),
			    "websocket endpoint: custom authorization needs a string \"value\" under 1024 bytes");
	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"ws://h/s\","
				     "\"content-type\":\"audio/l16;rate=16000\",\"authorization\":{\"type\":\"basic\"}}]}]"),
			    "websocket endpoint: authorization type \"basic\" is not vonage or custom");
}

static void test_ncco_check_refuses_shapes_that_are_not_an_action_array(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)*state;

	assert_string_equal(check(n, "<html>not found</html>"), "NCCO is not valid JSON");
	assert_string_equal(check(n, "{\"action\":\"talk\",\"text\":\"hi\"}"), "NCCO is an object, not a JSON array of actions");
	assert_string_equal(check(n, "[]"), "NCCO has no connect action (0 actions: empty array)");
	assert_string_equal(check(n, "[42]"), "NCCO action 0 has no string \"action\"");
	assert_string_equal(check(n, "[{\"text\":\"hi\"}]"), "NCCO action 0 has no string \"action\"");
}

static void test_ncco_check_refuses_talk_only(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)*state;

	assert_string_equal(check(n, "[{\"action\":\"talk\",\"text\":\"hello\"}]"),
			    "NCCO has no connect action (1 action: talk only)");
	assert_string_equal(check(n, "[{\"action\":\"talk\"}]"), "NCCO action 0 (talk): \"text\" is missing, not a string");
}

static void test_ncco_check_refuses_unsupported_action(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)*state;

	assert_string_equal(check(n, "[{\"action\":\"talk\",\"text\":\"x\"},{\"action\":\"record\"}]"),
			    "NCCO action 1: \"record\" is not supported (caller-sim plays talk and connect)");
}

static void test_ncco_check_refuses_bad_endpoint(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)*state;

	assert_string_equal(check(n, "[{\"action\":\"connect\"}]"),
			    "NCCO action 0 (connect): \"endpoint\" is missing, not a non-empty array");
	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[]}]"),
			    "NCCO action 0 (connect): \"endpoint\" is an empty array, not a non-empty array");
	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"phone\",\"number\":\"447700900000\"}]}]"),
			    "connect action: endpoint type is \"phone\", not \"websocket\"");
	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[\"ws://h/s\"]}]"),
			    "connect action: endpoint 0 is a string, not an object");
}

static void test_ncco_check_refuses_bad_uri(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)*state;

	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\","
				     "\"content-type\":\"audio/l16;rate=8000\"}]}]"),
			    "websocket endpoint: \"uri\" is missing, not a string");
	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\","
				     "\"uri\":\"https://h/s\",\"content-type\":\"audio/l16;rate=8000\"}]}]"),
			    "websocket endpoint: uri \"https://h/s\" is not ws:// or wss://");
	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\","
				     "\"uri\":\"ws://h:99999/s\",\"content-type\":\"audio/l16;rate=8000\"}]}]"),
			    "websocket endpoint: URL 'ws://h:99999/s': port is not 1..65535");
}

static void test_ncco_check_refuses_unknown_content_type(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)*state;

	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\","
				     "\"uri\":\"ws://h/s\",\"content-type\":\"audio/l16;rate=44100\"}]}]"),
			    "websocket endpoint: content-type \"audio/l16;rate=44100\" is not audio/l16;rate=8000, 16000 or 24000");
	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"ws://h/s\"}]}]"),
			    "websocket endpoint: \"content-type\" is missing, not a string");
}

static void test_ncco_check_refuses_bad_headers(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)*state;
	char big[1200];

	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"ws://h/s\","
				     "\"content-type\":\"audio/l16;rate=8000\",\"headers\":[1]}]}]"),
			    "websocket endpoint: \"headers\" is an array, not an object");
	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"ws://h/s\","
				     "\"content-type\":\"audio/l16;rate=8000\",\"headers\":{\"event\":\"x\"}}]}]"),
			    "websocket endpoint: header \"event\" would clash with the connected event's own key");
	/* {"k":"000..."}: 8 bytes of framing + 504 = 512 fits; + 505 = 513 does not */
	snprintf(big, sizeof big, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"ws://h/s\","
				  "\"content-type\":\"audio/l16;rate=8000\",\"headers\":{\"k\":\"%0504d\"}}]}]", 0);
	assert_string_equal(check(n, big), "");
	snprintf(big, sizeof big, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"ws://h/s\","
				  "\"content-type\":\"audio/l16;rate=8000\",\"headers\":{\"k\":\"%0505d\"}}]}]", 0);
	assert_string_equal(check(n, big), "websocket endpoint: \"headers\" is 513 bytes, over Vonage's 512-byte limit");
}

static void test_ncco_check_first_connect_wins(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)*state;

	assert_string_equal(check(n, "[{\"action\":\"connect\",\"endpoint\":[{\"type\":\"websocket\",\"uri\":\"ws://a/1\","
				     "\"content-type\":\"audio/l16;rate=8000\"}]},"
				     "{\"action\":\"connect\",\"endpoint\":[{\"type\":\"phone\"}]}]"),
			    "");
	assert_string_equal(n->uri, "ws://a/1");
}

static void test_ncco_direct_builds_plain_connected_message(void **state)
{
	struct ncco_ws *n = (struct ncco_ws *)*state;

	assert_int_equal(ncco_direct("ws://127.0.0.1:9/socket", 16000, NCCO_AUTH_NONE, n), 0);
	assert_string_equal(n->content_type, "audio/l16;rate=16000");
	assert_string_equal(n->connected, "{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=16000\"}");
	assert_int_equal(ncco_direct("ws://h/s", 44100, NCCO_AUTH_NONE, n), -1);
	assert_int_equal(ncco_rate_of("audio/l16;rate=24000"), 24000);
	assert_int_equal(ncco_rate_of("audio/L16;rate=24000"), 0);
}

static void test_url_parse_splits_host_port_path(void **state)
{
	struct url u;
	char err[300];

	(void)state;
	assert_int_equal(url_parse("http://127.0.0.1:8080/webhooks/answer?x=1#frag", &u, err, sizeof err), 0);
	assert_int_equal(u.scheme, URL_HTTP);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.host_header, "127.0.0.1:8080");
	assert_string_equal(u.path, "/webhooks/answer?x=1");

	assert_int_equal(url_parse("wss://[::1]/socket", &u, err, sizeof err), 0);
	assert_int_equal(u.tls, 1);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.host_header, "[::1]");

	assert_int_equal(url_parse("ws://example.com?q", &u, err, sizeof err), 0);
	assert_string_equal(u.path, "/?q");
	assert_int_equal(u.port, 80);

	assert_int_equal(url_parse("ftp://h/", &u, err, sizeof err), -1);
	assert_string_equal(err, "URL 'ftp://h/': scheme is not http, https, ws or wss");
	assert_int_equal(url_parse("127.0.0.1:8080", &u, err, sizeof err), -1);
	assert_int_equal(url_parse("http://user@h/", &u, err, sizeof err), -1);
	assert_int_equal(url_parse("http:///x", &u, err, sizeof err), -1);
	assert_int_equal(url_parse("http://h:/x", &u, err, sizeof err), -1);
	assert_int_equal(url_parse("http://h/a b", &u, err, sizeof err), -1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_out, teardown_out)
	const struct CMUnitTest tests[] = {
		T(test_ncco_check_accepts_server_ncco),
		T(test_ncco_check_accepts_connect_only_without_headers_or_auth),
		T(test_ncco_check_keeps_nested_header_values),
		T(test_ncco_check_custom_authorization_value),
		T(test_ncco_check_refuses_shapes_that_are_not_an_action_array),
		T(test_ncco_check_refuses_talk_only),
		T(test_ncco_check_refuses_unsupported_action),
		T(test_ncco_check_refuses_bad_endpoint),
		T(test_ncco_check_refuses_bad_uri),
		T(test_ncco_check_refuses_unknown_content_type),
		T(test_ncco_check_refuses_bad_headers),
		T(test_ncco_check_first_connect_wins),
		T(test_ncco_direct_builds_plain_connected_message),
		cmocka_unit_test(test_url_parse_splits_host_port_path),
	};
#undef T
	return cmocka_run_group_tests_name("sim_ncco_check", tests, NULL, NULL);
}
