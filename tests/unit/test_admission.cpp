/*
 * test_admission.cpp -- unit tests for src/admission.cpp: tables of
 * requests walked through the one decision, with the real tables it
 * consults (guard, the jti store in memory, blocks) and real HS256 tokens.
 *
 * The upgrade: each refusal reason with its status, one at a time; the
 * order (a request that fails two checks gets the earlier one's refusal;
 * every refusal before the token leaves the jti unspent, so the genuine
 * request still gets in). HTTP: 404/405, blocks and the operator's way out,
 * Transfer-Encoding, the views' and the admin API's access rules
 * (loopback peer, no proxy headers, loopback Host, no Origin, the tokens),
 * signed webhooks (GET checked whole, POST in two steps: the body's hash,
 * then the jti), Content-Length, and the drain.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "block.h"
#include "config.h"
#include "guard.h"
#include "replay.h"
#include "replay_store.h"

#define T_NOW 1700000000L
#define SECRET "test-secret-0123456789-0123456789-abcdef"

struct fixture {
	struct config cfg;
	struct auth_cfg auth;
	struct guard *guard;
	struct replay *table;
	struct replay_store store;
	struct block_table blocks;
	struct admission a;
	char tok[2048];
	char authz[2100];
};

static int setup(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	assert_non_null(f);
	f->cfg.max_calls = 10;
	f->cfg.jwt_max_age_s = 300;
	f->cfg.jwt_leeway_s = 30;
	f->auth.secret = (const unsigned char *)SECRET;
	f->auth.secret_len = strlen(SECRET);
	f->auth.max_age_s = 300;
	f->auth.leeway_s = 30;
	f->auth.issuer = "Vonage";
	f->guard = (struct guard *)calloc(1, sizeof *f->guard);
	struct guard_cfg gc = { 1000, 50, 200, 128, NULL, 0, 64 };
	guard_init(f->guard, &gc, 1, (uint64_t)T_NOW * 1000);
	f->table = replay_create(REPLAY_SLOTS_MIN);
	assert_non_null(f->table);
	replay_store_memory(&f->store, f->table, 7);
	f->a.cfg = &f->cfg;
	f->a.auth = &f->auth;
	f->a.guard = f->guard;
	f->a.replay = &f->store;
	f->a.blocks = &f->blocks;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	replay_store_close(&f->store);
	replay_destroy(f->table);
	free(f->guard);
	free(f);
	return 0;
}

/* --- tokens ------------------------------------------------------------------ */

static size_t b64url(const unsigned char *in, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	for (int i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	out[n] = '\0';
	return (size_t)n;
}

/* "Bearer <HS256 JWT>" with these claims (a JSON object's members, no braces) into f->authz. */
static const char *bearer(struct fixture *f, const char *claims)
{
	static const char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char payload[1024];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	snprintf(payload, sizeof payload, "{%s}", claims);
	size_t n = b64url((const unsigned char *)hdr, strlen(hdr), f->tok);
	f->tok[n++] = '.';
	n += b64url((const unsigned char *)payload, strlen(payload), f->tok + n);
	assert_non_null(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)f->tok, n, mac, &maclen));
	f->tok[n++] = '.';
	b64url(mac, maclen, f->tok + n);
	snprintf(f->authz, sizeof f->authz, "Bearer %s", f->tok);
	return f->authz;
}

/* A good token's claims, with jti j. */
static const char *good(struct fixture *f, const char *jti)
{
	char c[256];
	snprintf(c, sizeof c, "\"iat\":%ld,\"iss\":\"Vonage\",\"jti\":\"%s\"", T_NOW - 5, jti);
	return bearer(f, c);
}

/* --- requests ------------------------------------------------------------------- */

static struct adm_request upgrade_rq(const char *authz)
{
	struct adm_request rq;
	memset(&rq, 0, sizeof rq);
	rq.kind = ADM_UPGRADE;
	addr_parse("198.51.100.7", &rq.client);
	rq.client_known = 1;
	rq.method = HTTP_GET;
	rq.path = "/socket";
	rq.path_len = 7;
	rq.authorization = authz;
	rq.authorization_len = authz ? strlen(authz) : 0;
	rq.now = T_NOW;
	rq.now_ms = (uint64_t)T_NOW * 1000;
	return rq;
}

static struct adm_request http_rq(enum http_method m, const char *path)
{
	struct adm_request rq;
	memset(&rq, 0, sizeof rq);
	rq.kind = ADM_HTTP;
	addr_parse("127.0.0.1", &rq.client);
	rq.client_known = 1;
	rq.local = 1;
	rq.method = m;
	rq.has_body = m == HTTP_POST;
	rq.path = path;
	rq.path_len = strlen(path);
	rq.host = "127.0.0.1:8080";
	rq.host_len = strlen(rq.host);
	rq.now = T_NOW;
	rq.now_ms = (uint64_t)T_NOW * 1000;
	return rq;
}

static void set_auth(struct adm_request *rq, const char *authz)
{
	rq->authorization = authz;
	rq->authorization_len = authz ? strlen(authz) : 0;
}

static void expect(struct fixture *f, const struct adm_request *rq, int reason, unsigned status)
{
	struct adm_verdict v;
	int admit = admission_decide(&f->a, rq, &v);
	if (admit != !status || v.reason != reason || (status && v.status != status))
		print_error("want %s/%u, got admit %d reason %s status %u\n", refusal_name(reason), status, admit,
			    refusal_name(v.reason), v.status);
	assert_int_equal(admit, !status);
	assert_int_equal(v.reason, reason);
	if (status)
		assert_int_equal(v.status, status);
}

/* --- the upgrade ----------------------------------------------------------------- */

static void test_upgrade_admits_a_good_token_once(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct adm_request rq = upgrade_rq(good(f, "one"));
	expect(f, &rq, 0, 0);
	expect(f, &rq, REJECT_REPLAY, 401);   /* shared by sockets and webhooks: one use */
}

/* Each refusal of the upgrade, alone: its reason and status. */
static void test_upgrade_each_refusal(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const char *const allowed = "https://ops.example.com";
	snprintf(f->cfg.allow_origin[0], sizeof f->cfg.allow_origin[0], "%s", allowed);
	f->cfg.n_allow_origin = 1;
	struct adm_request rq;

	rq = upgrade_rq(good(f, "a")); rq.shutting_down = 1;      expect(f, &rq, REJECT_SHUTTING_DOWN, 503);
	rq = upgrade_rq(good(f, "a")); rq.draining = 1;           expect(f, &rq, REJECT_SHUTTING_DOWN, 503);
	rq = upgrade_rq(good(f, "a")); rq.transfer_encoding = 1;  expect(f, &rq, REJECT_TRANSFER_ENCODING, 400);
	rq = upgrade_rq(good(f, "a")); rq.path = "/sockets"; rq.path_len = 8; expect(f, &rq, REJECT_BAD_PATH, 404);
	rq = upgrade_rq(good(f, "a")); rq.path = NULL;            expect(f, &rq, REJECT_BAD_PATH, 404);
	rq = upgrade_rq(good(f, "a")); rq.origin = "https://evil.example"; rq.origin_len = 20;
	expect(f, &rq, REJECT_ORIGIN, 403);
	rq = upgrade_rq(good(f, "a")); rq.protocol = "http";      expect(f, &rq, REJECT_SUBPROTOCOL, 400);
	rq = upgrade_rq(good(f, "a")); rq.protocol = "";          expect(f, &rq, REJECT_SUBPROTOCOL, 400);
	rq = upgrade_rq(good(f, "a")); rq.calls_open = 10;        expect(f, &rq, REJECT_CAPACITY, 503);
	rq = upgrade_rq(NULL);                                    expect(f, &rq, AUTH_MISSING, 401);
	rq = upgrade_rq("Basic abc");                             expect(f, &rq, AUTH_NOT_BEARER, 401);
	rq = upgrade_rq(good(f, "a")); rq.authorization_too_long = 1; expect(f, &rq, AUTH_MALFORMED, 401);
	rq = upgrade_rq(bearer(f, "\"iss\":\"Vonage\",\"jti\":\"x\""));   expect(f, &rq, AUTH_NO_IAT, 401);
	rq = upgrade_rq(bearer(f, "\"iat\":1700000000,\"jti\":\"x\""));   expect(f, &rq, AUTH_BAD_ISSUER, 401);
	rq = upgrade_rq(bearer(f, "\"iat\":1699990000,\"iss\":\"Vonage\",\"jti\":\"x\"")); expect(f, &rq, AUTH_IAT_TOO_OLD, 401);
	rq = upgrade_rq(bearer(f, "\"iat\":1700000000,\"iss\":\"Vonage\""));             expect(f, &rq, REJECT_MISSING_JTI, 401);
	/* with --reuse-port a draining process still takes what reaches it */
	rq = upgrade_rq(good(f, "drain-reuse")); rq.draining = 1; rq.reuse_port = 1; expect(f, &rq, 0, 0);
	/* an allowed Origin (case-insensitive) goes on to the token */
	rq = upgrade_rq(good(f, "origin-ok")); rq.origin = "HTTPS://OPS.example.com"; rq.origin_len = strlen(allowed);
	expect(f, &rq, 0, 0);
	rq = upgrade_rq(good(f, "audio")); rq.protocol = "audio"; expect(f, &rq, 0, 0);
}

/* Blocked, and the per-address limits (the bucket is taken before the token). */
static void test_upgrade_blocked_and_limited(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct cidr net;
	struct adm_request rq = upgrade_rq(good(f, "b"));

	assert_int_equal(cidr_parse("198.51.100.0/24", &net), 0);
	assert_int_equal(block_add(&f->blocks, &net, T_NOW, 0, BLOCK_MANUAL, "t", "op"), BLOCK_ADDED);
	struct adm_verdict v;
	assert_int_equal(admission_decide(&f->a, &rq, &v), 0);
	assert_int_equal(v.reason, REJECT_BLOCKED);
	assert_int_equal(v.status, 403);
	assert_int_equal(v.charge, 0);   /* already blocked: nothing more to charge it with */
	assert_int_equal(block_remove(&f->blocks, &net), 0);
	/* a bad-token flood from one address: 200 (the burst) reach the token check, then 429 */
	rq = upgrade_rq("Bearer x.y.z");
	for (int i = 0; i < 200; i++)
		expect(f, &rq, AUTH_MALFORMED, 401);
	expect(f, &rq, REJECT_ADDR_RATE, 429);
	assert_int_equal(admission_decide(&f->a, &rq, &v), 0);
	assert_int_equal(v.charge, 1);
}

/*
 * The order: a request that fails several checks gets the first one's
 * refusal, and every refusal decided before the token leaves its jti
 * unspent -- the same token then gets in.
 */
static void test_upgrade_order_and_the_jti(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	const char *tok = good(f, "order");
	struct adm_request rq;

	rq = upgrade_rq(tok); rq.transfer_encoding = 1; rq.path = "/x"; rq.path_len = 2; rq.protocol = "http";
	rq.calls_open = 99;
	expect(f, &rq, REJECT_TRANSFER_ENCODING, 400);
	rq.transfer_encoding = 0;                         expect(f, &rq, REJECT_BAD_PATH, 404);
	rq.path = "/socket"; rq.path_len = 7;
	rq.origin = "https://evil.example"; rq.origin_len = 20; expect(f, &rq, REJECT_ORIGIN, 403);
	rq.origin = NULL;                                 expect(f, &rq, REJECT_SUBPROTOCOL, 400);
	rq.protocol = NULL;                               expect(f, &rq, REJECT_CAPACITY, 503);
	/* nothing so far spent the token */
	rq.calls_open = 0;                                expect(f, &rq, 0, 0);
	expect(f, &rq, REJECT_REPLAY, 401);
	/* draining comes before everything, the block before the bucket */
	rq = upgrade_rq(good(f, "order2")); rq.draining = 1; rq.path = "/x"; rq.path_len = 2;
	expect(f, &rq, REJECT_SHUTTING_DOWN, 503);
}

/* --- HTTP ------------------------------------------------------------------------ */

static void test_http_routes_methods_and_blocks(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct adm_request rq;
	struct adm_verdict v;

	rq = http_rq(HTTP_GET, "/healthz");     expect(f, &rq, 0, 0);
	rq = http_rq(HTTP_GET, "/nothing");     expect(f, &rq, 0, 404);
	rq = http_rq(HTTP_POST, "/nothing");
	admission_decide(&f->a, &rq, &v);
	assert_int_equal(v.close, 1);          /* the body stays unread */
	rq = http_rq(HTTP_POST, "/healthz");
	admission_decide(&f->a, &rq, &v);
	assert_int_equal(v.status, 405);
	assert_string_equal(v.allow, "GET");
	rq = http_rq(HTTP_GET, "/admin/block"); admission_decide(&f->a, &rq, &v);
	assert_string_equal(v.allow, "POST");
	/* Transfer-Encoding: 400 with Content-Length, 411 without; counted, closes */
	rq = http_rq(HTTP_POST, "/webhooks/events"); rq.transfer_encoding = 1; rq.content_length = "3";
	expect(f, &rq, REJECT_TRANSFER_ENCODING, 400);
	rq.content_length = NULL;              expect(f, &rq, REJECT_TRANSFER_ENCODING, 411);
	/* blocked: everything, but /admin/ from this host itself */
	struct cidr net;
	assert_int_equal(cidr_parse("127.0.0.1", &net), 0);
	block_add(&f->blocks, &net, T_NOW, 0, BLOCK_MANUAL, "t", "op");
	rq = http_rq(HTTP_GET, "/healthz");    expect(f, &rq, REJECT_BLOCKED, 403);
	rq = http_rq(HTTP_GET, "/admin/blocks"); expect(f, &rq, 0, 0);
	rq.local = 0;                          expect(f, &rq, REJECT_BLOCKED, 403);
	block_remove(&f->blocks, &net);
}

/* The read views and the admin API: this host's operator, or the tokens. */
static void test_http_access_rules(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct adm_request rq;
	struct adm_verdict v;
	snprintf(f->cfg.stats_token, sizeof f->cfg.stats_token, "stats-token-0123456789");
	snprintf(f->cfg.admin_token, sizeof f->cfg.admin_token, "admin-token-0123456789");

	static const char *const views[] = { "/stats", "/stats.json", "/metrics" };
	for (int i = 0; i < 3; i++) {
		rq = http_rq(HTTP_GET, views[i]);                   expect(f, &rq, 0, 0);
		rq.proxied = 1; rq.local = 0;                       expect(f, &rq, REJECT_STATS_ACCESS, 403);
		rq = http_rq(HTTP_GET, views[i]); rq.host = "evil.example"; rq.host_len = 12;
		expect(f, &rq, REJECT_STATS_ACCESS, 403);          /* DNS rebinding */
		rq.host = NULL;                                     expect(f, &rq, REJECT_STATS_ACCESS, 403);
		set_auth(&rq, "Bearer stats-token-0123456789");     expect(f, &rq, 0, 0);
		set_auth(&rq, "Bearer stats-token-012345678");      expect(f, &rq, REJECT_STATS_ACCESS, 403);
		set_auth(&rq, "Bearer admin-token-0123456789");     expect(f, &rq, REJECT_STATS_ACCESS, 403);
	}
	rq = http_rq(HTTP_GET, "/admin/blocks");
	assert_int_equal(admission_decide(&f->a, &rq, &v), 1);
	assert_int_equal(v.operator_here, 1);
	rq.origin = "http://127.0.0.1:8080"; rq.origin_len = 21;   expect(f, &rq, REJECT_ADMIN_ACCESS, 403);
	admission_decide(&f->a, &rq, &v);
	assert_string_equal(v.body, "forbidden: request from a web page (Origin): send the admin token\n");
	rq = http_rq(HTTP_GET, "/admin/blocks"); rq.host = "rebound.example"; rq.host_len = 15;
	admission_decide(&f->a, &rq, &v);
	assert_string_equal(v.body, "forbidden: Host is not a loopback name: send the admin token\n");
	rq = http_rq(HTTP_GET, "/admin/blocks"); rq.local = 0; rq.proxied = 1;
	expect(f, &rq, REJECT_ADMIN_ACCESS, 403);
	set_auth(&rq, "Bearer admin-token-0123456789");
	assert_int_equal(admission_decide(&f->a, &rq, &v), 1);
	assert_int_equal(v.operator_here, 0);
	set_auth(&rq, "Bearer stats-token-0123456789");       expect(f, &rq, REJECT_ADMIN_ACCESS, 403);
	/* JSON only, and a body within the admin API's limit */
	rq = http_rq(HTTP_POST, "/admin/block"); rq.content_length = "20"; rq.content_type = "text/plain";
	admission_decide(&f->a, &rq, &v);
	assert_int_equal(v.status, 415);
	assert_int_equal(v.json, 1);
	assert_int_equal(v.reason, REJECT_ADMIN_BAD_REQUEST);
	assert_int_equal(v.charge, 0);
	rq.content_type = "application/json; charset=utf-8";
	assert_int_equal(admission_decide(&f->a, &rq, &v), 1);
	assert_int_equal(v.body_len, 20);
	rq.content_length = "4097";
	admission_decide(&f->a, &rq, &v);
	assert_int_equal(v.status, 413);
	assert_int_equal(v.json, 1);
}

/* Content-Length of a POST: required, digits only, within the limit. */
static void test_http_post_length(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct adm_request rq = http_rq(HTTP_POST, "/webhooks/events");
	struct adm_verdict v;

	expect(f, &rq, 0, 411);
	rq.content_length = "12a";               expect(f, &rq, 0, 400);
	rq.content_length = "-1";                expect(f, &rq, 0, 400);
	rq.content_length = "16385";             expect(f, &rq, 0, 400);
	admission_decide(&f->a, &rq, &v);
	assert_string_equal(v.body, "body too large\n");
	assert_int_equal(v.close, 1);
	rq.content_length = "99999999999999999999999"; admission_decide(&f->a, &rq, &v);
	assert_string_equal(v.body, "body too large\n");
	rq.content_length = "16384";
	assert_int_equal(admission_decide(&f->a, &rq, &v), 1);
	assert_int_equal(v.body_len, 16384);
	assert_int_equal(v.close, 0);
	rq.content_length = "0";
	assert_int_equal(admission_decide(&f->a, &rq, &v), 1);
	assert_int_equal(v.body_len, 0);
}

static void sha256_hex(const char *s, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(s, len, md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* --verify-webhooks: GET whole; POST in two steps, the jti spent only once the body matched. */
static void test_http_signed_webhooks(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct adm_request rq;
	struct adm_verdict v, b;
	char h[65], claims[256];
	f->cfg.verify_webhooks = 1;

	rq = http_rq(HTTP_GET, "/webhooks/answer");          expect(f, &rq, REJECT_WEBHOOK_AUTH, 401);
	set_auth(&rq, "Bearer nope");                        expect(f, &rq, REJECT_WEBHOOK_AUTH, 401);
	/* GET with a payload_hash: of the query as a JSON object */
	const char *q = "{\"uuid\":\"u1\"}";
	sha256_hex(q, strlen(q), h);
	snprintf(claims, sizeof claims, "\"iat\":%ld,\"iss\":\"Vonage\",\"jti\":\"g1\",\"payload_hash\":\"%s\"", T_NOW, h);
	rq = http_rq(HTTP_GET, "/webhooks/answer"); set_auth(&rq, bearer(f, claims));
	rq.query_json = "{\"uuid\":\"u2\"}"; rq.query_json_len = strlen(rq.query_json); rq.query_nargs = 1;
	expect(f, &rq, REJECT_PAYLOAD_HASH, 401);            /* another query: and g1 is not spent */
	rq.query_json = q; rq.query_json_len = strlen(q);
	expect(f, &rq, 0, 0);
	expect(f, &rq, REJECT_REPLAY, 401);
	/* with no parameters, "" and "{}" are both accepted */
	sha256_hex("", 0, h);
	snprintf(claims, sizeof claims, "\"iat\":%ld,\"iss\":\"Vonage\",\"jti\":\"g2\",\"payload_hash\":\"%s\"", T_NOW, h);
	rq = http_rq(HTTP_GET, "/webhooks/events"); set_auth(&rq, bearer(f, claims));
	rq.query_json = "{}"; rq.query_json_len = 2;
	expect(f, &rq, 0, 0);
	/* POST: a body needs a payload_hash; without one, refused and closed */
	rq = http_rq(HTTP_POST, "/webhooks/events"); rq.content_length = "17"; set_auth(&rq, good(f, "p0"));
	admission_decide(&f->a, &rq, &v);
	assert_int_equal(v.reason, REJECT_MISSING_PAYLOAD_HASH);
	assert_int_equal(v.close, 1);
	const char *body = "{\"status\":\"ok\"} ";
	sha256_hex(body, strlen(body), h);
	snprintf(claims, sizeof claims, "\"iat\":%ld,\"iss\":\"Vonage\",\"jti\":\"p1\",\"payload_hash\":\"%s\"", T_NOW, h);
	set_auth(&rq, bearer(f, claims));
	assert_int_equal(admission_decide(&f->a, &rq, &v), 1);
	assert_int_equal(v.body_check.active, 1);
	/* another body: refused, and the genuine request's token is not used up */
	assert_int_equal(admission_body(&f->a, &v.body_check, "{\"status\":\"no\"} ", 17, &rq, &b), 0);
	assert_int_equal(b.reason, REJECT_PAYLOAD_HASH);
	assert_int_equal(admission_body(&f->a, &v.body_check, body, strlen(body), &rq, &b), 1);
	assert_int_equal(admission_body(&f->a, &v.body_check, body, strlen(body), &rq, &b), 0);
	assert_int_equal(b.reason, REJECT_REPLAY);
	/* a webhook's token and a socket's share one jti table */
	struct adm_request up = upgrade_rq(good(f, "shared"));
	expect(f, &up, 0, 0);
	rq = http_rq(HTTP_GET, "/webhooks/events"); set_auth(&rq, good(f, "shared"));
	expect(f, &rq, REJECT_REPLAY, 401);
}

/* Draining alone: the answer webhook refused (after its body, for a POST); with --reuse-port not. */
static void test_http_answer_while_draining(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct adm_request rq = http_rq(HTTP_GET, "/webhooks/answer");
	struct adm_verdict v, b;

	rq.draining = 1;
	expect(f, &rq, REJECT_SHUTTING_DOWN, 503);
	rq.reuse_port = 1;
	expect(f, &rq, 0, 0);
	rq = http_rq(HTTP_GET, "/webhooks/events"); rq.draining = 1;
	expect(f, &rq, 0, 0);
	rq = http_rq(HTTP_POST, "/webhooks/answer"); rq.content_length = "2";
	assert_int_equal(admission_decide(&f->a, &rq, &v), 1);
	rq.draining = 1;
	assert_int_equal(admission_body(&f->a, &v.body_check, "{}", 2, &rq, &b), 0);
	assert_int_equal(b.reason, REJECT_SHUTTING_DOWN);
	admission_body_timeout(&b);
	assert_int_equal(b.reason, REJECT_BODY_TIMEOUT);
	assert_int_equal(b.status, 408);
	assert_int_equal(b.close, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_upgrade_admits_a_good_token_once),
		T(test_upgrade_each_refusal),
		T(test_upgrade_blocked_and_limited),
		T(test_upgrade_order_and_the_jti),
		T(test_http_routes_methods_and_blocks),
		T(test_http_access_rules),
		T(test_http_post_length),
		T(test_http_signed_webhooks),
		T(test_http_answer_while_draining),
	};
	return cmocka_run_group_tests_name("admission", tests, NULL, NULL);
}
