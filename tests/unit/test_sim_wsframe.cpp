/*
 * test_sim_wsframe.cpp -- unit tests for sim/wsframe.cpp (caller-sim's
 * RFC 6455 client framing and handshake).
 *
 * Known answers come from RFC 6455 itself (section 1.3's key/accept pair,
 * section 5.7's frame examples). Partial input is fed one byte at a time
 * (picohttpparser's per-byte idea): every proper prefix of a header or a
 * response must say "need more", never a wrong answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdio.h>
#include <string.h>

#include "url.h"
#include "wsframe.h"

#define RFC_KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };

static void test_wsf_client_header_length_forms(void **state)
{
	uint8_t h[WSF_CLIENT_HDR_MAX];

	(void)state;
	/* RFC 6455 5.7: masked "Hello" = 0x81 0x85 0x37 0xfa 0x21 0x3d ... */
	assert_int_equal(wsf_client_header(h, WSF_OP_TEXT, 5, mask), 6);
	const uint8_t hello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d };
	assert_memory_equal(h, hello, 6);

	assert_int_equal(wsf_client_header(h, WSF_OP_BINARY, 125, mask), 6);
	assert_int_equal(h[1], 0x80 | 125);
	assert_int_equal(wsf_client_header(h, WSF_OP_BINARY, 126, mask), 8);
	assert_int_equal(h[1], 0x80 | 126);
	assert_int_equal(h[2] << 8 | h[3], 126);
	assert_int_equal(wsf_client_header(h, WSF_OP_BINARY, 960, mask), 8);
	assert_int_equal(h[2] << 8 | h[3], 960);
	assert_memory_equal(h + 4, mask, 4);
	assert_int_equal(wsf_client_header(h, WSF_OP_BINARY, 65535, mask), 8);
	assert_int_equal(wsf_client_header(h, WSF_OP_BINARY, 65536, mask), 14);
	assert_int_equal(h[1], 0x80 | 127);
	assert_int_equal(h[7], 1);   /* 0x00..00 01 00 00 big-endian */
	assert_int_equal(h[8], 0);
}

static void test_wsf_mask_copy_matches_rfc_example_and_any_phase(void **state)
{
	uint8_t out[5], buf[300], want[300], src[300];

	(void)state;
	wsf_mask_copy(out, (const uint8_t *)"Hello", 5, mask, 0);
	const uint8_t masked[] = { 0x7f, 0x9f, 0x4d, 0x51, 0x58 };   /* RFC 6455 5.7 */
	assert_memory_equal(out, masked, 5);

	for (size_t i = 0; i < sizeof src; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	for (size_t phase = 0; phase < 8; phase++) {
		for (size_t len = 0; len < 40; len++) {
			for (size_t i = 0; i < len; i++)
				want[i] = src[i] ^ mask[(phase + i) & 3];
			wsf_mask_copy(buf, src, len, mask, phase);
			assert_memory_equal(buf, want, len);
		}
	}
	/* in place, twice = identity */
	memcpy(buf, src, sizeof src);
	wsf_mask_copy(buf, buf, sizeof buf, mask, 1);
	wsf_mask_copy(buf, buf, sizeof buf, mask, 1);
	assert_memory_equal(buf, src, sizeof src);
}

static void test_wsf_parse_header_reads_server_frames(void **state)
{
	struct wsf_hdr h;
	const uint8_t small[] = { 0x82, 0x05 };
	const uint8_t mid[] = { 0x82, 126, 0x03, 0xc0 };
	const uint8_t big[] = { 0x02, 127, 0, 0, 0, 0, 0, 1, 0, 0 };
	const uint8_t close_[] = { 0x88, 0x02 };

	(void)state;
	assert_int_equal(wsf_parse_header(small, sizeof small, &h), 2);
	assert_int_equal(h.fin, 1);
	assert_int_equal(h.opcode, WSF_OP_BINARY);
	assert_int_equal(h.masked, 0);
	assert_int_equal(h.len, 5);
	assert_int_equal(wsf_parse_header(mid, sizeof mid, &h), 4);
	assert_int_equal(h.len, 960);
	assert_int_equal(wsf_parse_header(big, sizeof big, &h), 10);
	assert_int_equal(h.fin, 0);
	assert_int_equal(h.len, 65536);
	assert_int_equal(wsf_parse_header(close_, sizeof close_, &h), 2);
	assert_int_equal(h.opcode, WSF_OP_CLOSE);
}

static void test_wsf_parse_header_needs_more_for_every_prefix(void **state)
{
	struct wsf_hdr h;
	const uint8_t masked[] = { 0x81, 0xfe, 0x01, 0x00, 1, 2, 3, 4 };
	const uint8_t big[] = { 0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0 };

	(void)state;
	for (size_t n = 0; n < sizeof masked; n++)
		assert_int_equal(wsf_parse_header(masked, n, &h), 0);
	assert_int_equal(wsf_parse_header(masked, sizeof masked, &h), 8);
	assert_int_equal(h.masked, 1);
	assert_int_equal(h.len, 256);
	assert_int_equal(h.mask[3], 4);
	for (size_t n = 0; n < sizeof big; n++)
		assert_int_equal(wsf_parse_header(big, n, &h), 0);
}

static void test_wsf_parse_header_rejects_what_no_server_may_send(void **state)
{
	struct wsf_hdr h;
	const uint8_t rsv[] = { 0xc2, 0x01 };                  /* RSV1 without an extension */
	const uint8_t op3[] = { 0x83, 0x01 };                  /* reserved data opcode */
	const uint8_t opb[] = { 0x8b, 0x01 };                  /* reserved control opcode */
	const uint8_t ping_frag[] = { 0x09, 0x01 };            /* fragmented control frame */
	const uint8_t ping_big[] = { 0x89, 126, 0x00, 0x7e };  /* control frame over 125 */
	const uint8_t top_bit[] = { 0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1 };

	(void)state;
	assert_int_equal(wsf_parse_header(rsv, 2, &h), -1);
	assert_int_equal(wsf_parse_header(op3, 2, &h), -1);
	assert_int_equal(wsf_parse_header(opb, 2, &h), -1);
	assert_int_equal(wsf_parse_header(ping_frag, 2, &h), -1);
	assert_int_equal(wsf_parse_header(ping_big, 4, &h), -1);
	assert_int_equal(wsf_parse_header(top_bit, sizeof top_bit, &h), -1);
}

static void test_wsf_accept_rfc_example(void **state)
{
	char out[WSF_ACCEPT_LEN + 1];

	(void)state;
	assert_int_equal(wsf_accept(RFC_KEY, out), 0);
	assert_string_equal(out, RFC_ACCEPT);
}

static void test_wsf_key_is_base64_of_sixteen_bytes(void **state)
{
	const uint8_t nonce[16] = { 't', 'h', 'e', ' ', 's', 'a', 'm', 'p', 'l', 'e', ' ', 'n', 'o', 'n', 'c', 'e' };
	char key[WSF_KEY_LEN + 1];

	(void)state;
	wsf_key(nonce, key);
	assert_string_equal(key, RFC_KEY);
}

static void test_wsf_request_has_upgrade_headers_and_authorization(void **state)
{
	struct url u;
	char err[200], req[1024];

	(void)state;
	assert_int_equal(url_parse("ws://127.0.0.1:8080/socket?x=1", &u, err, sizeof err), 0);
	int n = wsf_request(req, sizeof req, &u, RFC_KEY, "Bearer a.b.c");
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(req));
	assert_non_null(strstr(req, "GET /socket?x=1 HTTP/1.1\r\n"));
	assert_non_null(strstr(req, "\r\nHost: 127.0.0.1:8080\r\n"));
	assert_non_null(strstr(req, "\r\nUpgrade: websocket\r\n"));
	assert_non_null(strstr(req, "\r\nConnection: Upgrade\r\n"));
	assert_non_null(strstr(req, "\r\nSec-WebSocket-Key: " RFC_KEY "\r\n"));
	assert_non_null(strstr(req, "\r\nSec-WebSocket-Version: 13\r\n"));
	assert_non_null(strstr(req, "\r\nAuthorization: Bearer a.b.c\r\n"));
	assert_null(strstr(req, "Origin"));   /* Vonage is not a browser; the server refuses Origin */
	assert_string_equal(req + n - 4, "\r\n\r\n");

	n = wsf_request(req, sizeof req, &u, RFC_KEY, NULL);
	assert_null(strstr(req, "Authorization"));
	assert_int_equal(wsf_request(req, (size_t)n, &u, RFC_KEY, NULL), -1);   /* no room for the NUL */
}

#define GOOD_101                                                                                     \
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"             \
	"Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n"

static void test_wsf_response_accepts_101_after_every_prefix(void **state)
{
	char buf[512], err[200];
	int status;
	const char *resp = GOOD_101 "\x82\x02hi";   /* a frame may follow in the same read */
	size_t head = strlen(GOOD_101);

	(void)state;
	for (size_t n = 0; n < head; n++) {
		memcpy(buf, resp, n);
		assert_int_equal(wsf_response(buf, n, RFC_KEY, &status, err, sizeof err), 0);
	}
	assert_int_equal(wsf_response(resp, strlen(resp), RFC_KEY, &status, err, sizeof err), (int)head);
	assert_int_equal(status, 101);
	const char *lower = "HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
			    "sec-websocket-accept:" RFC_ACCEPT "\r\n\r\n";
	assert_int_equal(wsf_response(lower, strlen(lower), RFC_KEY, &status, err, sizeof err), (int)strlen(lower));
}

static void test_wsf_response_refusal_names_the_status(void **state)
{
	char err[200];
	int status;
	const char *r401 = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 13\r\n\r\nunauthorized\n";
	const char *r503 = "HTTP/1.1 503 Service Unavailable\r\n";

	(void)state;
	assert_int_equal(wsf_response(r401, strlen(r401), RFC_KEY, &status, err, sizeof err), -1);
	assert_int_equal(status, 401);
	assert_string_equal(err, "handshake refused: HTTP 401 Unauthorized");
	/* the status line alone is enough to refuse */
	assert_int_equal(wsf_response(r503, strlen(r503), RFC_KEY, &status, err, sizeof err), -1);
	assert_string_equal(err, "handshake refused: HTTP 503 Service Unavailable");
}

static void test_wsf_response_rejects_bad_101(void **state)
{
	char err[200];
	int status;
	const char *wrong = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			    "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n";
	const char *no_upgrade = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
				 "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n";
	const char *ext = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			  "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
	const char *junk = "SSH-2.0-OpenSSH_9.2\r\n";

	(void)state;
	assert_int_equal(wsf_response(wrong, strlen(wrong), RFC_KEY, &status, err, sizeof err), -1);
	assert_string_equal(err, "handshake failed: wrong or missing Sec-WebSocket-Accept");
	assert_int_equal(wsf_response(no_upgrade, strlen(no_upgrade), RFC_KEY, &status, err, sizeof err), -1);
	assert_string_equal(err, "handshake failed: 101 without \"Upgrade: websocket\"");
	assert_int_equal(wsf_response(ext, strlen(ext), RFC_KEY, &status, err, sizeof err), -1);
	assert_non_null(strstr(err, "permessage-deflate"));
	assert_int_equal(wsf_response(junk, strlen(junk), RFC_KEY, &status, err, sizeof err), -1);
	assert_non_null(strstr(err, "not HTTP"));
	assert_int_equal(status, 0);
}

static void test_wsf_response_refuses_endless_head(void **state)
{
	static char buf[WSF_RESPONSE_MAX + 64];
	char err[200];
	int status;

	(void)state;
	memset(buf, 'x', sizeof buf);
	assert_int_equal(wsf_response(buf, sizeof buf, RFC_KEY, &status, err, sizeof err), -1);
	int n = snprintf(buf, sizeof buf, "HTTP/1.1 101 Switching Protocols\r\n");
	memset(buf + n, 'x', sizeof buf - (size_t)n);
	assert_int_equal(wsf_response(buf, sizeof buf, RFC_KEY, &status, err, sizeof err), -1);
	assert_non_null(strstr(err, "over 4096 bytes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wsf_client_header_length_forms),
		cmocka_unit_test(test_wsf_mask_copy_matches_rfc_example_and_any_phase),
		cmocka_unit_test(test_wsf_parse_header_reads_server_frames),
		cmocka_unit_test(test_wsf_parse_header_needs_more_for_every_prefix),
		cmocka_unit_test(test_wsf_parse_header_rejects_what_no_server_may_send),
		cmocka_unit_test(test_wsf_accept_rfc_example),
		cmocka_unit_test(test_wsf_key_is_base64_of_sixteen_bytes),
		cmocka_unit_test(test_wsf_request_has_upgrade_headers_and_authorization),
		cmocka_unit_test(test_wsf_response_accepts_101_after_every_prefix),
		cmocka_unit_test(test_wsf_response_refusal_names_the_status),
		cmocka_unit_test(test_wsf_response_rejects_bad_101),
		cmocka_unit_test(test_wsf_response_refuses_endless_head),
	};
	return cmocka_run_group_tests_name("sim_wsframe", tests, NULL, NULL);
}
