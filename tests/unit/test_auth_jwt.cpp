/*
 * test_auth_jwt.cpp -- unit tests for src/auth_jwt.cpp ("Bearer <JWT>" -> auth_result).
 *
 * Tokens are built here, independently of libjwt, with OpenSSL's HMAC and a
 * local base64url encoder, so any header (alg none, HS512, duplicate keys...)
 * can be crafted and signed with any key. Every case asserts the exact enum.
 * Time is fixed at T_NOW; the config in setup is the server default
 * (max age 300 s, leeway 30 s, no application id).
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
#include <sys/mman.h>
#include <unistd.h>

#include "auth_jwt.h"

#define T_NOW 1700000000L
#define T_SECRET "s3cr3t-signature-secret"
#define T_APP "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
#define HS256_HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define TOK_CAP (2 * AUTH_TOKEN_MAX + 64)

struct fixture {
	struct auth_cfg cfg;
	char tok[TOK_CAP];
	char authz[TOK_CAP + 64];
};

static int setup_auth(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->cfg.secret = (const unsigned char *)T_SECRET;
	f->cfg.secret_len = strlen(T_SECRET);
	f->cfg.max_age_s = 300;
	f->cfg.leeway_s = 30;
	f->cfg.application_id = NULL;
	*state = f;
	return 0;
}

static int teardown_auth(void **state)
{
	free(*state);
	return 0;
}

/* --- token construction ------------------------------------------------- */

/* base64url without padding; returns length written (out NUL-terminated). */
static size_t b64url(const unsigned char *in, size_t len, char *out, size_t cap)
{
	size_t need = 4 * ((len + 2) / 3) + 1;
	assert_true(need <= cap);
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	assert_true(n >= 0);
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (int i = 0; i < n; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return (size_t)n;
}

/*
 * header.payload.signature into out, the signature an HMAC with `md` over
 * the first two parts using key/keylen. Returns the token length.
 */
static size_t make_token_md(char *out, size_t cap, const char *header_json, const char *payload_json,
			    const void *key, size_t keylen, const EVP_MD *md)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t n = b64url((const unsigned char *)header_json, strlen(header_json), out, cap);

	assert_true(n + 2 < cap);
	out[n++] = '.';
	n += b64url((const unsigned char *)payload_json, strlen(payload_json), out + n, cap - n);
	assert_non_null(HMAC(md, key, (int)keylen, (const unsigned char *)out, n, mac, &maclen));
	assert_true(n + 2 < cap);
	out[n++] = '.';
	n += b64url(mac, maclen, out + n, cap - n);
	return n;
}

static size_t make_token(char *out, size_t cap, const char *header_json, const char *payload_json,
			 const char *key)
{
	return make_token_md(out, cap, header_json, payload_json, key, strlen(key), EVP_sha256());
}

/* header.payload. + literal signature text (may be ""). */
static size_t make_token_sig(char *out, size_t cap, const char *header_json, const char *payload_json,
			     const char *sig)
{
	size_t n = b64url((const unsigned char *)header_json, strlen(header_json), out, cap);
	out[n++] = '.';
	n += b64url((const unsigned char *)payload_json, strlen(payload_json), out + n, cap - n);
	out[n++] = '.';
	assert_true(n + strlen(sig) < cap);
	memcpy(out + n, sig, strlen(sig) + 1);
	return n + strlen(sig);
}

/* Run the check on "Bearer <tok>". */
static enum auth_result check_bearer(struct fixture *f, const char *tok)
{
	int n = snprintf(f->authz, sizeof f->authz, "Bearer %s", tok);
	assert_true(n > 0 && (size_t)n < sizeof f->authz);
	return auth_jwt_check(&f->cfg, f->authz, (size_t)n, T_NOW);
}

static enum auth_result check_raw(struct fixture *f, const char *authz)
{
	return auth_jwt_check(&f->cfg, authz, strlen(authz), T_NOW);
}

/* A payload with the given iat only. */
static const char *payload_iat(long iat)
{
	static char buf[128];
	snprintf(buf, sizeof buf, "{\"iat\":%ld,\"jti\":\"a1b2\"}", iat);
	return buf;
}

static void assert_result(enum auth_result got, enum auth_result want)
{
	if (got != want)
		print_error("auth result %s, expected %s\n", auth_result_str(got), auth_result_str(want));
	assert_int_equal(got, want);
}

/* --- the happy path ----------------------------------------------------- */

static void test_auth_jwt_check_accepts_valid_token(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_OK);
}

static void test_auth_jwt_check_accepts_vonage_shaped_token(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char payload[512];

	f->cfg.application_id = T_APP;
	snprintf(payload, sizeof payload,
		 "{\"iat\":%ld,\"jti\":\"0f4ecb40-6e31-4cf7-9a0c-4ad7f2e5c2d1\",\"iss\":\"Vonage\","
		 "\"application_id\":\"%s\",\"api_key\":\"abcd1234\","
		 "\"payload_hash\":\"d6f6b8e0a5f2f93c1b5cbb3e0c9b3c5b8e1b7d2f9a0c4e6b8d0f2a4c6e8b0d2f\"}",
		 T_NOW - 2, T_APP);
	make_token(f->tok, sizeof f->tok, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_OK);
}

static void test_auth_jwt_check_accepts_header_without_typ(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	make_token(f->tok, sizeof f->tok, "{\"alg\":\"HS256\"}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_OK);
	make_token(f->tok, sizeof f->tok, "{\"typ\":\"jwt\",\"alg\":\"HS256\"}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_OK);
}

static void test_auth_jwt_check_accepts_lowercase_bearer(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char authz[TOK_CAP + 64];

	make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), T_SECRET);
	snprintf(authz, sizeof authz, "bearer %s", f->tok);
	assert_result(check_raw(f, authz), AUTH_OK);
	snprintf(authz, sizeof authz, "BEARER %s", f->tok);
	assert_result(check_raw(f, authz), AUTH_OK);
}

static void test_auth_jwt_check_tolerates_extra_spaces(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char authz[TOK_CAP + 64];

	make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), T_SECRET);
	snprintf(authz, sizeof authz, "Bearer    %s  \t ", f->tok);
	assert_result(check_raw(f, authz), AUTH_OK);
}

static void test_auth_jwt_check_reads_only_len_bytes(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char authz[TOK_CAP + 64];

	make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), T_SECRET);
	int n = snprintf(authz, sizeof authz, "Bearer %s.extra", f->tok);
	/* the header value is not NUL-terminated at len: bytes after it must be ignored */
	assert_result(auth_jwt_check(&f->cfg, authz, (size_t)n - 6, T_NOW), AUTH_OK);
	assert_result(auth_jwt_check(&f->cfg, authz, (size_t)n, T_NOW), AUTH_MALFORMED);
}

static void test_auth_jwt_check_no_overread_at_page_end(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char authz[TOK_CAP + 64];

	make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), T_SECRET);
	int n = snprintf(authz, sizeof authz, "Bearer %s", f->tok);
	uint8_t *map = (uint8_t *)mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				       -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, page, PROT_NONE), 0);
	char *at = (char *)map + page - n;
	memcpy(at, authz, (size_t)n);   /* no NUL: the next byte is unreadable */
	assert_result(auth_jwt_check(&f->cfg, at, (size_t)n, T_NOW), AUTH_OK);
	/* cut short at every interesting length: never reads past the end */
	for (int k = 1; k < n; k++) {
		at = (char *)map + page - k;
		memcpy(at, authz, (size_t)k);
		enum auth_result r = auth_jwt_check(&f->cfg, at, (size_t)k, T_NOW);
		assert_true(r != AUTH_OK);
		if (k < 7)
			assert_result(r, AUTH_NOT_BEARER);
		else if (k == 7)
			assert_result(r, AUTH_MALFORMED);
	}
	munmap(map, 2 * page);
}

static void test_auth_jwt_check_secret_may_contain_nul(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const unsigned char key[] = { 'a', 'b', 0, 'c', 'd' };

	f->cfg.secret = key;
	f->cfg.secret_len = sizeof key;
	make_token_md(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), key, sizeof key, EVP_sha256());
	assert_result(check_bearer(f, f->tok), AUTH_OK);
	/* signed with the key cut at the NUL: must not verify */
	make_token_md(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), key, 2, EVP_sha256());
	assert_result(check_bearer(f, f->tok), AUTH_BAD_SIGNATURE);
}

/* --- scheme and shape --------------------------------------------------- */

static void test_auth_jwt_check_missing_header(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_result(auth_jwt_check(&f->cfg, NULL, 0, T_NOW), AUTH_MISSING);
	assert_result(auth_jwt_check(&f->cfg, NULL, 10, T_NOW), AUTH_MISSING);
	assert_result(auth_jwt_check(&f->cfg, "Bearer x.y.z", 0, T_NOW), AUTH_MISSING);
}

static void test_auth_jwt_check_rejects_other_schemes(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), T_SECRET);
	assert_result(check_raw(f, "Basic xyz"), AUTH_NOT_BEARER);
	assert_result(check_raw(f, "Bearerabc"), AUTH_NOT_BEARER);
	assert_result(check_raw(f, "Bearer"), AUTH_NOT_BEARER);
	assert_result(check_raw(f, "Bear"), AUTH_NOT_BEARER);
	assert_result(check_raw(f, f->tok), AUTH_NOT_BEARER);   /* bare token, no scheme */
	char authz[TOK_CAP + 64];
	snprintf(authz, sizeof authz, "Bearer\t%s", f->tok);    /* RFC 6750: 1*SP */
	assert_result(check_raw(f, authz), AUTH_NOT_BEARER);
	snprintf(authz, sizeof authz, " Bearer %s", f->tok);
	assert_result(check_raw(f, authz), AUTH_NOT_BEARER);
	snprintf(authz, sizeof authz, "Token %s", f->tok);
	assert_result(check_raw(f, authz), AUTH_NOT_BEARER);
}

static void test_auth_jwt_check_rejects_garbage(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_result(check_raw(f, "Bearer "), AUTH_MALFORMED);
	assert_result(check_raw(f, "Bearer      "), AUTH_MALFORMED);
	assert_result(check_raw(f, "Bearer garbage"), AUTH_MALFORMED);
	assert_result(check_raw(f, "Bearer !!!"), AUTH_MALFORMED);
	assert_result(check_raw(f, "Bearer ..."), AUTH_MALFORMED);
	assert_result(check_raw(f, "Bearer .."), AUTH_MALFORMED);
	assert_result(check_raw(f, "Bearer a.b.c"), AUTH_MALFORMED);   /* not base64 of JSON */
}

static void test_auth_jwt_check_rejects_wrong_part_count(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char two[TOK_CAP + 64], four[TOK_CAP + 64];

	size_t n = make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), T_SECRET);
	/* two parts: header.payload */
	memcpy(two, f->tok, n + 1);
	*strrchr(two, '.') = '\0';
	assert_result(check_bearer(f, two), AUTH_MALFORMED);
	/* four parts: a valid token plus one more segment */
	snprintf(four, sizeof four, "%s.%s", f->tok, "c2ln");
	assert_result(check_bearer(f, four), AUTH_MALFORMED);
	snprintf(four, sizeof four, "%s.", f->tok);
	assert_result(check_bearer(f, four), AUTH_MALFORMED);
	/* one part */
	*strchr(two, '.') = '\0';
	assert_result(check_bearer(f, two), AUTH_MALFORMED);
}

static void test_auth_jwt_check_rejects_empty_segments(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char t[TOK_CAP + 64];

	make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), T_SECRET);
	const char *d1 = strchr(f->tok, '.');
	const char *d2 = strrchr(f->tok, '.');
	/* empty header */
	snprintf(t, sizeof t, "%s", d1);
	assert_result(check_bearer(f, t), AUTH_MALFORMED);
	/* empty payload */
	snprintf(t, sizeof t, "%.*s.%s", (int)(d1 - f->tok), f->tok, d2);
	assert_result(check_bearer(f, t), AUTH_MALFORMED);
	/* HS256 header with an empty signature */
	snprintf(t, sizeof t, "%.*s", (int)(d2 - f->tok + 1), f->tok);
	assert_result(check_bearer(f, t), AUTH_MALFORMED);
}

static void test_auth_jwt_check_rejects_bad_characters(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const char bad[] = { '+', '/', '=', '"', '<', '%', '\0' };
	char t[TOK_CAP + 64];

	size_t n = make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), T_SECRET);
	for (size_t k = 0; bad[k]; k++) {
		/* in the header, the payload and the signature */
		size_t at[3] = { 2, (size_t)(strchr(f->tok, '.') - f->tok) + 2, n - 2 };
		for (int j = 0; j < 3; j++) {
			memcpy(t, f->tok, n + 1);
			t[at[j]] = bad[k];
			assert_result(check_bearer(f, t), AUTH_MALFORMED);
		}
	}
	/* standard base64 padding on the signature */
	snprintf(t, sizeof t, "%s=", f->tok);
	assert_result(check_bearer(f, t), AUTH_MALFORMED);
	/* a space inside the token */
	memcpy(t, f->tok, n + 1);
	t[5] = ' ';
	assert_result(check_bearer(f, t), AUTH_MALFORMED);
	/* a NUL inside the given length */
	char authz[TOK_CAP + 64];
	int m = snprintf(authz, sizeof authz, "Bearer %s", f->tok);
	authz[20] = '\0';
	assert_result(auth_jwt_check(&f->cfg, authz, (size_t)m, T_NOW), AUTH_MALFORMED);
}

static void test_auth_jwt_check_rejects_non_json_segments(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	/* header is not JSON */
	make_token(f->tok, sizeof f->tok, "alg=HS256", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
	/* header is a JSON array / string */
	make_token(f->tok, sizeof f->tok, "[\"HS256\"]", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
	make_token(f->tok, sizeof f->tok, "\"HS256\"", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
	/* payload is not JSON, even though correctly signed */
	make_token(f->tok, sizeof f->tok, HS256_HDR, "iat=1700000000", T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
	/* payload is a JSON array */
	make_token(f->tok, sizeof f->tok, HS256_HDR, "[1700000000]", T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
	/* a segment whose length is 1 mod 4 is not base64 at all */
	make_token_sig(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), "abcde");
	char t[TOK_CAP + 64];
	snprintf(t, sizeof t, "e.%s", strchr(f->tok, '.') + 1);
	assert_result(check_bearer(f, t), AUTH_MALFORMED);
}

static void test_auth_jwt_check_rejects_bad_typ(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	make_token(f->tok, sizeof f->tok, "{\"alg\":\"HS256\",\"typ\":\"JOSE\"}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
	make_token(f->tok, sizeof f->tok, "{\"alg\":\"HS256\",\"typ\":1}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
}

/* Build a correctly signed token of exactly `target` characters. */
static size_t make_token_of_length(char *out, size_t cap, size_t target)
{
	char hdr[64], payload[AUTH_TOKEN_MAX];

	for (int kid = 0; kid < 4; kid++) {
		snprintf(hdr, sizeof hdr, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%.*s\"}", kid, "kkkk");
		for (int pad = 0; pad < AUTH_TOKEN_MAX; pad++) {
			int n = snprintf(payload, sizeof payload, "{\"iat\":%ld,\"pad\":\"", T_NOW);
			if (n + pad + 3 > (int)sizeof payload)
				break;
			memset(payload + n, 'p', (size_t)pad);
			memcpy(payload + n + pad, "\"}", 3);
			size_t len = make_token(out, cap, hdr, payload, T_SECRET);
			if (len == target)
				return len;
			if (len > target)
				break;
		}
	}
	fail_msg("could not build a token of %zu characters", target);
	return 0;
}

static void test_auth_jwt_check_token_length_limit(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_int_equal(make_token_of_length(f->tok, sizeof f->tok, AUTH_TOKEN_MAX), AUTH_TOKEN_MAX);
	assert_result(check_bearer(f, f->tok), AUTH_OK);                    /* exactly the limit */
	assert_int_equal(make_token_of_length(f->tok, sizeof f->tok, AUTH_TOKEN_MAX + 1), AUTH_TOKEN_MAX + 1);
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);             /* one over */
	/* far over: a huge run of valid characters */
	memset(f->tok, 'A', 2 * AUTH_TOKEN_MAX);
	f->tok[100] = '.';
	f->tok[200] = '.';
	f->tok[2 * AUTH_TOKEN_MAX] = '\0';
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
}

/* --- signature ---------------------------------------------------------- */

static void test_auth_jwt_check_rejects_other_key(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), "another-secret");
	assert_result(check_bearer(f, f->tok), AUTH_BAD_SIGNATURE);
	/* a key that only shares a prefix with ours */
	make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), "s3cr3t-signature-secre");
	assert_result(check_bearer(f, f->tok), AUTH_BAD_SIGNATURE);
	make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), T_SECRET "x");
	assert_result(check_bearer(f, f->tok), AUTH_BAD_SIGNATURE);
}

static void test_auth_jwt_check_rejects_tampered_payload(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char good[1024], forged[1024], t[2048];

	/* sign one payload, then swap in another with the same signature */
	make_token(good, sizeof good, HS256_HDR, payload_iat(T_NOW - 1000), T_SECRET);
	make_token(forged, sizeof forged, HS256_HDR, payload_iat(T_NOW), "whatever");
	const char *good_sig = strrchr(good, '.');
	snprintf(t, sizeof t, "%.*s%s", (int)(strrchr(forged, '.') - forged), forged, good_sig);
	assert_result(check_bearer(f, t), AUTH_BAD_SIGNATURE);
	/* the untouched original is only "too old", proving the signature itself was fine */
	assert_result(check_bearer(f, good), AUTH_IAT_TOO_OLD);
}

static void test_auth_jwt_check_rejects_tampered_signature(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), T_SECRET);
	char *sig = strrchr(f->tok, '.') + 1;
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	assert_result(check_bearer(f, f->tok), AUTH_BAD_SIGNATURE);
	/* truncated signature */
	sig[0] = '\0';
	make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), T_SECRET);
	f->tok[strlen(f->tok) - 4] = '\0';
	assert_result(check_bearer(f, f->tok), AUTH_BAD_SIGNATURE);
}

static void test_auth_jwt_check_empty_secret_never_ok(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	/* libjwt treats an empty key as "skip verification": must not reach it */
	make_token_md(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), "", 0, EVP_sha256());
	f->cfg.secret = (const unsigned char *)"";
	f->cfg.secret_len = 0;
	assert_result(check_bearer(f, f->tok), AUTH_BAD_SIGNATURE);
	f->cfg.secret = NULL;
	assert_result(check_bearer(f, f->tok), AUTH_BAD_SIGNATURE);
	make_token_sig(f->tok, sizeof f->tok, "{\"alg\":\"none\"}", payload_iat(T_NOW), "");
	assert_result(check_bearer(f, f->tok), AUTH_BAD_SIGNATURE);
	/* a non-NULL secret pointer with length 0 */
	f->cfg.secret = (const unsigned char *)T_SECRET;
	make_token(f->tok, sizeof f->tok, HS256_HDR, payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_BAD_SIGNATURE);
}

/* --- algorithm pinning -------------------------------------------------- */

static void test_auth_jwt_check_rejects_alg_none(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	/* the classic: alg none, empty signature (header is checked before the empty sig) */
	make_token_sig(f->tok, sizeof f->tok, "{\"alg\":\"none\",\"typ\":\"JWT\"}", payload_iat(T_NOW), "");
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
	/* alg none with a junk signature */
	make_token_sig(f->tok, sizeof f->tok, "{\"alg\":\"none\",\"typ\":\"JWT\"}", payload_iat(T_NOW), "c2lnbmF0dXJl");
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
	/* alg none with a real HS256 signature over the parts */
	make_token(f->tok, sizeof f->tok, "{\"alg\":\"none\"}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
	/* other spellings */
	make_token_sig(f->tok, sizeof f->tok, "{\"alg\":\"NONE\"}", payload_iat(T_NOW), "");
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
	make_token_sig(f->tok, sizeof f->tok, "{\"alg\":\"None\"}", payload_iat(T_NOW), "c2ln");
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
}

static void test_auth_jwt_check_rejects_alg_case_variants(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	/* correctly signed with HS256 and our secret, but the alg is not exactly "HS256" */
	make_token(f->tok, sizeof f->tok, "{\"alg\":\"hs256\",\"typ\":\"JWT\"}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
	make_token(f->tok, sizeof f->tok, "{\"alg\":\"Hs256\"}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
	make_token(f->tok, sizeof f->tok, "{\"alg\":\"HS256 \"}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
}

static void test_auth_jwt_check_rejects_hs512(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	make_token_md(f->tok, sizeof f->tok, "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", payload_iat(T_NOW),
		      T_SECRET, strlen(T_SECRET), EVP_sha512());
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
	make_token_md(f->tok, sizeof f->tok, "{\"alg\":\"HS384\",\"typ\":\"JWT\"}", payload_iat(T_NOW),
		      T_SECRET, strlen(T_SECRET), EVP_sha384());
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
}

static void test_auth_jwt_check_rejects_rs256(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	/* key-confusion attempt: RS256 header, HMAC'd with the (public) secret */
	make_token(f->tok, sizeof f->tok, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
	make_token(f->tok, sizeof f->tok, "{\"alg\":\"ES256\"}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
}

static void test_auth_jwt_check_rejects_missing_or_non_string_alg(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	make_token(f->tok, sizeof f->tok, "{\"typ\":\"JWT\"}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
	make_token(f->tok, sizeof f->tok, "{\"alg\":256,\"typ\":\"JWT\"}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
	make_token(f->tok, sizeof f->tok, "{\"alg\":null}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
	make_token(f->tok, sizeof f->tok, "{}", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_BAD_ALG);
}

static void test_auth_jwt_check_rejects_duplicate_alg_keys(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	/*
	 * cJSON reads the first "alg", libjwt's jansson keeps the last: a header
	 * that says two things is malformed before either parser decides.
	 */
	make_token_md(f->tok, sizeof f->tok, "{\"alg\":\"HS256\",\"alg\":\"HS512\"}", payload_iat(T_NOW),
		      T_SECRET, strlen(T_SECRET), EVP_sha512());
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
	make_token(f->tok, sizeof f->tok, "{\"alg\":\"HS256\",\"alg\":\"HS256\"}", payload_iat(T_NOW),
		   T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
	make_token_sig(f->tok, sizeof f->tok, "{\"alg\":\"HS256\",\"alg\":\"none\"}", payload_iat(T_NOW), "c2ln");
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
	make_token_sig(f->tok, sizeof f->tok, "{\"alg\":\"none\",\"alg\":\"HS256\"}", payload_iat(T_NOW), "");
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
	/* the same in the payload: two iat claims */
	make_token(f->tok, sizeof f->tok, "{\"alg\":\"HS256\"}", "{\"iat\":1700000000,\"iat\":1}", T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
}

static void test_auth_jwt_check_rejects_trailing_bytes_after_json(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	/*
	 * Correctly signed, but the header / payload has bytes after the JSON
	 * object: malformed, not a signature problem.
	 */
	make_token(f->tok, sizeof f->tok, "{\"alg\":\"HS256\"}xyz", payload_iat(T_NOW), T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
	make_token(f->tok, sizeof f->tok, HS256_HDR, "{\"iat\":1700000000}xyz", T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
	/* a critical extension we cannot honour */
	make_token(f->tok, sizeof f->tok, "{\"alg\":\"HS256\",\"crit\":[\"x\"],\"x\":1}", payload_iat(T_NOW),
		   T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_MALFORMED);
}

/* --- time claims -------------------------------------------------------- */

static enum auth_result check_payload(struct fixture *f, const char *payload)
{
	make_token(f->tok, sizeof f->tok, HS256_HDR, payload, T_SECRET);
	return check_bearer(f, f->tok);
}

static void test_auth_jwt_check_exp(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char p[128];

	snprintf(p, sizeof p, "{\"iat\":%ld,\"exp\":%ld}", T_NOW - 100, T_NOW - 31);
	assert_result(check_payload(f, p), AUTH_EXPIRED);          /* past, beyond 30 s leeway */
	snprintf(p, sizeof p, "{\"iat\":%ld,\"exp\":%ld}", T_NOW - 100, T_NOW - 30);
	assert_result(check_payload(f, p), AUTH_OK);               /* past, within leeway */
	snprintf(p, sizeof p, "{\"iat\":%ld,\"exp\":%ld}", T_NOW - 100, T_NOW + 60);
	assert_result(check_payload(f, p), AUTH_OK);
	snprintf(p, sizeof p, "{\"iat\":%ld,\"exp\":0}", T_NOW);
	assert_result(check_payload(f, p), AUTH_EXPIRED);
	/* checked before iat: an expired token without iat reports the expiry */
	snprintf(p, sizeof p, "{\"exp\":%ld}", T_NOW - 1000);
	assert_result(check_payload(f, p), AUTH_EXPIRED);
	/* exp that is not an integer is malformed, not ignored */
	snprintf(p, sizeof p, "{\"iat\":%ld,\"exp\":\"%ld\"}", T_NOW, T_NOW + 60);
	assert_result(check_payload(f, p), AUTH_MALFORMED);
	snprintf(p, sizeof p, "{\"iat\":%ld,\"exp\":%ld.5}", T_NOW, T_NOW + 60);
	assert_result(check_payload(f, p), AUTH_MALFORMED);
}

static void test_auth_jwt_check_exp_respects_configured_leeway(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char p[128];

	f->cfg.leeway_s = 0;
	snprintf(p, sizeof p, "{\"iat\":%ld,\"exp\":%ld}", T_NOW - 100, T_NOW - 1);
	assert_result(check_payload(f, p), AUTH_EXPIRED);
	snprintf(p, sizeof p, "{\"iat\":%ld,\"exp\":%ld}", T_NOW - 100, T_NOW);
	assert_result(check_payload(f, p), AUTH_OK);
}

static void test_auth_jwt_check_nbf(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char p[128];

	snprintf(p, sizeof p, "{\"iat\":%ld,\"nbf\":%ld}", T_NOW, T_NOW + 31);
	assert_result(check_payload(f, p), AUTH_NOT_YET_VALID);    /* future, beyond leeway */
	snprintf(p, sizeof p, "{\"iat\":%ld,\"nbf\":%ld}", T_NOW, T_NOW + 30);
	assert_result(check_payload(f, p), AUTH_OK);               /* within leeway */
	snprintf(p, sizeof p, "{\"iat\":%ld,\"nbf\":%ld}", T_NOW, T_NOW - 5);
	assert_result(check_payload(f, p), AUTH_OK);
	snprintf(p, sizeof p, "{\"iat\":%ld,\"nbf\":\"soon\"}", T_NOW);
	assert_result(check_payload(f, p), AUTH_MALFORMED);
}

static void test_auth_jwt_check_requires_iat(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char p[128];

	assert_result(check_payload(f, "{\"jti\":\"x\"}"), AUTH_NO_IAT);
	assert_result(check_payload(f, "{}"), AUTH_NO_IAT);
	snprintf(p, sizeof p, "{\"exp\":%ld}", T_NOW + 60);
	assert_result(check_payload(f, p), AUTH_NO_IAT);
}

static void test_auth_jwt_check_rejects_non_integer_iat(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char p[128];

	assert_result(check_payload(f, "{\"iat\":\"123\"}"), AUTH_NO_IAT);
	snprintf(p, sizeof p, "{\"iat\":\"%ld\"}", T_NOW);   /* a string holding a good time */
	assert_result(check_payload(f, p), AUTH_NO_IAT);
	snprintf(p, sizeof p, "{\"iat\":%ld.5}", T_NOW);
	assert_result(check_payload(f, p), AUTH_NO_IAT);
	assert_result(check_payload(f, "{\"iat\":null}"), AUTH_NO_IAT);
	assert_result(check_payload(f, "{\"iat\":true}"), AUTH_NO_IAT);
	snprintf(p, sizeof p, "{\"iat\":[%ld]}", T_NOW);
	assert_result(check_payload(f, p), AUTH_NO_IAT);
	assert_result(check_payload(f, "{\"iat\":1e300}"), AUTH_NO_IAT);
}

static void test_auth_jwt_check_iat_too_old(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_result(check_payload(f, payload_iat(T_NOW - 301)), AUTH_IAT_TOO_OLD);
	assert_result(check_payload(f, payload_iat(T_NOW - 300)), AUTH_OK);
	assert_result(check_payload(f, payload_iat(0)), AUTH_IAT_TOO_OLD);
	assert_result(check_payload(f, payload_iat(-5)), AUTH_IAT_TOO_OLD);
	f->cfg.max_age_s = 10;
	assert_result(check_payload(f, payload_iat(T_NOW - 11)), AUTH_IAT_TOO_OLD);
	assert_result(check_payload(f, payload_iat(T_NOW - 10)), AUTH_OK);
}

static void test_auth_jwt_check_iat_in_future(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_result(check_payload(f, payload_iat(T_NOW + 31)), AUTH_IAT_IN_FUTURE);
	assert_result(check_payload(f, payload_iat(T_NOW + 30)), AUTH_OK);
	assert_result(check_payload(f, payload_iat(T_NOW + 100000000)), AUTH_IAT_IN_FUTURE);
}

/* --- application id ----------------------------------------------------- */

static void test_auth_jwt_check_application_id(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char p[256];

	f->cfg.application_id = T_APP;
	snprintf(p, sizeof p, "{\"iat\":%ld,\"application_id\":\"%s\"}", T_NOW, T_APP);
	assert_result(check_payload(f, p), AUTH_OK);
	snprintf(p, sizeof p, "{\"iat\":%ld,\"application_id\":\"%s\"}", T_NOW,
		 "aaaaaaaa-bbbb-cccc-dddd-0123456789ac");
	assert_result(check_payload(f, p), AUTH_WRONG_APP);         /* mismatch */
	snprintf(p, sizeof p, "{\"iat\":%ld,\"application_id\":\"%s\"}", T_NOW,
		 "AAAAAAAA-BBBB-CCCC-DDDD-0123456789AB");
	assert_result(check_payload(f, p), AUTH_WRONG_APP);         /* exact, case-sensitive */
	snprintf(p, sizeof p, "{\"iat\":%ld,\"application_id\":\"%s-x\"}", T_NOW, T_APP);
	assert_result(check_payload(f, p), AUTH_WRONG_APP);         /* not a prefix match */
	assert_result(check_payload(f, payload_iat(T_NOW)), AUTH_WRONG_APP);   /* missing */
	snprintf(p, sizeof p, "{\"iat\":%ld,\"application_id\":\"\"}", T_NOW);
	assert_result(check_payload(f, p), AUTH_WRONG_APP);
	snprintf(p, sizeof p, "{\"iat\":%ld,\"application_id\":12345}", T_NOW);
	assert_result(check_payload(f, p), AUTH_WRONG_APP);         /* not a string */
}

static void test_auth_jwt_check_application_id_unset_is_not_checked(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char p[256];

	snprintf(p, sizeof p, "{\"iat\":%ld,\"application_id\":\"someone-else\"}", T_NOW);
	f->cfg.application_id = NULL;
	assert_result(check_payload(f, p), AUTH_OK);
	f->cfg.application_id = "";
	assert_result(check_payload(f, p), AUTH_OK);
}

/* --- issuer (RFC 8725 3.8) --------------------------------------------- */

static void test_auth_jwt_check_issuer(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char p[256];

	f->cfg.issuer = "Vonage";
	snprintf(p, sizeof p, "{\"iat\":%ld,\"iss\":\"Vonage\"}", T_NOW);
	assert_result(check_payload(f, p), AUTH_OK);
	assert_result(check_payload(f, payload_iat(T_NOW)), AUTH_BAD_ISSUER);      /* missing */
	snprintf(p, sizeof p, "{\"iat\":%ld,\"iss\":\"vonage\"}", T_NOW);
	assert_result(check_payload(f, p), AUTH_BAD_ISSUER);                      /* exact */
	snprintf(p, sizeof p, "{\"iat\":%ld,\"iss\":\"Vonage \"}", T_NOW);
	assert_result(check_payload(f, p), AUTH_BAD_ISSUER);
	snprintf(p, sizeof p, "{\"iat\":%ld,\"iss\":\"attacker\"}", T_NOW);
	assert_result(check_payload(f, p), AUTH_BAD_ISSUER);
	snprintf(p, sizeof p, "{\"iat\":%ld,\"iss\":1}", T_NOW);
	assert_result(check_payload(f, p), AUTH_BAD_ISSUER);                      /* not a string */
	/* the signature is checked first: a forged token says bad_signature */
	snprintf(p, sizeof p, "{\"iat\":%ld,\"iss\":\"attacker\"}", T_NOW);
	make_token(f->tok, sizeof f->tok, HS256_HDR, p, "another-secret");
	assert_result(check_bearer(f, f->tok), AUTH_BAD_SIGNATURE);
	f->cfg.issuer = NULL;   /* unset: not checked */
	snprintf(p, sizeof p, "{\"iat\":%ld,\"iss\":\"attacker\"}", T_NOW);
	assert_result(check_payload(f, p), AUTH_OK);
	assert_string_equal(auth_result_str(AUTH_BAD_ISSUER), "bad_issuer");
}

/* --- auth_result_str ---------------------------------------------------- */

static void test_auth_jwt_result_str_names(void **state)
{
	(void)state;
	static const char *const want[] = {
		"ok", "missing", "not_bearer", "malformed", "bad_alg", "bad_signature",
		"expired", "not_yet_valid", "no_iat", "iat_too_old", "iat_in_future", "wrong_application",
		"bad_issuer",
	};
	assert_int_equal(sizeof want / sizeof want[0], AUTH__COUNT);
	assert_string_equal(auth_result_str(AUTH_OK), "ok");
	assert_string_equal(auth_result_str(AUTH_MISSING), "missing");
	assert_string_equal(auth_result_str(AUTH_NOT_BEARER), "not_bearer");
	assert_string_equal(auth_result_str(AUTH_MALFORMED), "malformed");
	assert_string_equal(auth_result_str(AUTH_BAD_ALG), "bad_alg");
	assert_string_equal(auth_result_str(AUTH_BAD_SIGNATURE), "bad_signature");
	assert_string_equal(auth_result_str(AUTH_EXPIRED), "expired");
	assert_string_equal(auth_result_str(AUTH_NOT_YET_VALID), "not_yet_valid");
	assert_string_equal(auth_result_str(AUTH_NO_IAT), "no_iat");
	assert_string_equal(auth_result_str(AUTH_IAT_TOO_OLD), "iat_too_old");
	assert_string_equal(auth_result_str(AUTH_IAT_IN_FUTURE), "iat_in_future");
	assert_string_equal(auth_result_str(AUTH_WRONG_APP), "wrong_application");
	for (int i = 0; i < AUTH__COUNT; i++)
		assert_string_equal(auth_result_str((enum auth_result)i), want[i]);
	assert_string_equal(auth_result_str(AUTH__COUNT), "unknown");
	assert_string_equal(auth_result_str((enum auth_result)-1), "unknown");
	assert_string_equal(auth_result_str((enum auth_result)1000), "unknown");
}

/* --- claims handed back for replay and payload checks ------------------ */

static enum auth_result check_claims_of(struct fixture *f, const char *payload, struct auth_claims *c)
{
	make_token(f->tok, sizeof f->tok, HS256_HDR, payload, T_SECRET);
	int n = snprintf(f->authz, sizeof f->authz, "Bearer %s", f->tok);
	memset(c, 'Z', sizeof *c);
	return auth_jwt_check_claims(&f->cfg, f->authz, (size_t)n, T_NOW, c);
}

static void test_auth_jwt_claims_returned(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct auth_claims c;
	char payload[256];

	snprintf(payload, sizeof payload,
		 "{\"iat\":%ld,\"jti\":\"0f4ecb40-6e31\",\"payload_hash\":\"ABCDEF0123\"}", T_NOW - 5);
	assert_result(check_claims_of(f, payload, &c), AUTH_OK);
	assert_int_equal(c.iat, T_NOW - 5);
	assert_string_equal(c.jti, "0f4ecb40-6e31");
	assert_int_equal(c.has_payload_hash, 1);
	assert_string_equal(c.payload_hash, "ABCDEF0123");

	snprintf(payload, sizeof payload, "{\"iat\":%ld}", T_NOW);
	assert_result(check_claims_of(f, payload, &c), AUTH_OK);
	assert_string_equal(c.jti, "");
	assert_int_equal(c.has_payload_hash, 0);
	assert_string_equal(c.payload_hash, "");
}

static void test_auth_jwt_claims_wrong_types_malformed(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct auth_claims c;
	char payload[512], big[AUTH_CLAIM_MAX + 1];

	snprintf(payload, sizeof payload, "{\"iat\":%ld,\"jti\":42}", T_NOW);
	assert_result(check_claims_of(f, payload, &c), AUTH_MALFORMED);
	snprintf(payload, sizeof payload, "{\"iat\":%ld,\"jti\":\"x\",\"payload_hash\":[1]}", T_NOW);
	assert_result(check_claims_of(f, payload, &c), AUTH_MALFORMED);
	memset(big, 'j', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(payload, sizeof payload, "{\"iat\":%ld,\"jti\":\"%s\"}", T_NOW, big);
	assert_result(check_claims_of(f, payload, &c), AUTH_MALFORMED);
	big[sizeof big - 2] = '\0';   /* AUTH_CLAIM_MAX - 1 bytes fit */
	snprintf(payload, sizeof payload, "{\"iat\":%ld,\"jti\":\"%s\"}", T_NOW, big);
	assert_result(check_claims_of(f, payload, &c), AUTH_OK);
	assert_int_equal(strlen(c.jti), AUTH_CLAIM_MAX - 1);
	/* the plain check does not look at them: a NULL out is allowed */
	snprintf(payload, sizeof payload, "{\"iat\":%ld,\"jti\":42}", T_NOW);
	make_token(f->tok, sizeof f->tok, HS256_HDR, payload, T_SECRET);
	assert_result(check_bearer(f, f->tok), AUTH_OK);
}

/* A refused token leaves no claims to act on: the caller must not read them. */
static void test_auth_jwt_claims_not_filled_on_failure(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct auth_claims c;
	char payload[128];

	snprintf(payload, sizeof payload, "{\"iat\":%ld,\"jti\":\"abc\"}", T_NOW - 10000);
	assert_result(check_claims_of(f, payload, &c), AUTH_IAT_TOO_OLD);
	assert_int_equal((unsigned char)c.jti[0], 'Z');
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_auth, teardown_auth)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_auth_jwt_claims_returned),
		T(test_auth_jwt_claims_wrong_types_malformed),
		T(test_auth_jwt_claims_not_filled_on_failure),
		T(test_auth_jwt_check_accepts_valid_token),
		T(test_auth_jwt_check_accepts_vonage_shaped_token),
		T(test_auth_jwt_check_accepts_header_without_typ),
		T(test_auth_jwt_check_accepts_lowercase_bearer),
		T(test_auth_jwt_check_tolerates_extra_spaces),
		T(test_auth_jwt_check_reads_only_len_bytes),
		T(test_auth_jwt_check_no_overread_at_page_end),
		T(test_auth_jwt_check_secret_may_contain_nul),
		T(test_auth_jwt_check_missing_header),
		T(test_auth_jwt_check_rejects_other_schemes),
		T(test_auth_jwt_check_rejects_garbage),
		T(test_auth_jwt_check_rejects_wrong_part_count),
		T(test_auth_jwt_check_rejects_empty_segments),
		T(test_auth_jwt_check_rejects_bad_characters),
		T(test_auth_jwt_check_rejects_non_json_segments),
		T(test_auth_jwt_check_rejects_bad_typ),
		T(test_auth_jwt_check_token_length_limit),
		T(test_auth_jwt_check_rejects_other_key),
		T(test_auth_jwt_check_rejects_tampered_payload),
		T(test_auth_jwt_check_rejects_tampered_signature),
		T(test_auth_jwt_check_empty_secret_never_ok),
		T(test_auth_jwt_check_rejects_alg_none),
		T(test_auth_jwt_check_rejects_alg_case_variants),
		T(test_auth_jwt_check_rejects_hs512),
		T(test_auth_jwt_check_rejects_rs256),
		T(test_auth_jwt_check_rejects_missing_or_non_string_alg),
		T(test_auth_jwt_check_rejects_duplicate_alg_keys),
		T(test_auth_jwt_check_rejects_trailing_bytes_after_json),
		T(test_auth_jwt_check_exp),
		T(test_auth_jwt_check_exp_respects_configured_leeway),
		T(test_auth_jwt_check_nbf),
		T(test_auth_jwt_check_requires_iat),
		T(test_auth_jwt_check_rejects_non_integer_iat),
		T(test_auth_jwt_check_iat_too_old),
		T(test_auth_jwt_check_iat_in_future),
		T(test_auth_jwt_check_application_id),
		T(test_auth_jwt_check_application_id_unset_is_not_checked),
		T(test_auth_jwt_check_issuer),
		T(test_auth_jwt_result_str_names),
	};
	return cmocka_run_group_tests_name("auth_jwt", tests, NULL, NULL);
}
