/*
 * fuzz_auth_jwt.cpp -- libFuzzer harness for src/auth_jwt.cpp auth_jwt_check.
 *
 * Fixed secret, clock (NOW) and limits (300 s max age, 30 s leeway,
 * application_id required, iss "Vonage"). The first input byte picks a mode:
 *   0: the rest is the raw Authorization header value;
 *   1: the rest is a JWT payload (claims), sent as a correctly signed HS256
 *      token -- this reaches the claim checks behind the HMAC, which random
 *      tokens never pass;
 *   2: the rest is a JOSE header, with a valid payload, correctly signed.
 * Both entry points run: auth_jwt_check and auth_jwt_check_claims (which
 * also hands back iat, jti and payload_hash for the replay table and the
 * webhook body check).
 * Checks: the result is a known value; AUTH_OK only for a token whose
 * header alg is exactly "HS256" and whose claims satisfy the time and
 * application and issuer rules (recomputed here with cJSON, independently of libjwt);
 * the claims handed back are NUL-terminated and equal the token's; the two
 * entry points agree except that check_claims may refuse a bad jti or
 * payload_hash as malformed.
 * ASan/UBSan watch the base64 decoding, libjwt's alloca() and the cJSON
 * parsing of both segments.
 */
#include "fuzz.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth_jwt.h"

#define NOW 1700000000L
#define APP_ID "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
static const unsigned char SECRET[] = "fuzz-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

static const struct auth_cfg CFG = { SECRET, sizeof SECRET - 1, 300, 30, APP_ID, "Vonage" };

static size_t b64url(const uint8_t *in, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = 0, i = 0;

	for (; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[n++] = tab[v >> 18 & 63];
		out[n++] = tab[v >> 12 & 63];
		out[n++] = tab[v >> 6 & 63];
		out[n++] = tab[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[n++] = tab[v >> 18 & 63];
		out[n++] = tab[v >> 12 & 63];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[n++] = tab[v >> 18 & 63];
		out[n++] = tab[v >> 12 & 63];
		out[n++] = tab[v >> 6 & 63];
	}
	return n;
}

/* "Bearer " + b64(header) "." b64(payload) "." b64(HMAC-SHA256) into out. */
static size_t sign(const char *hdr, size_t hlen, const char *pl, size_t plen, char *out)
{
	unsigned char mac[32];
	unsigned int maclen = 0;
	size_t n = 7;

	memcpy(out, "Bearer ", 7);
	n += b64url((const uint8_t *)hdr, hlen, out + n);
	out[n++] = '.';
	n += b64url((const uint8_t *)pl, plen, out + n);
	if (!HMAC(EVP_sha256(), SECRET, (int)(sizeof SECRET - 1), (const unsigned char *)out + 7,
		  n - 7, mac, &maclen))
		abort();
	out[n++] = '.';
	n += b64url(mac, maclen, out + n);
	return n;
}

/* The integer claim k: 1 and *v if an integral number, 0 if absent, -1 if not. */
static int int_claim(const cJSON *o, const char *k, double *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!it)
		return 0;
	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble != floor(it->valuedouble))
		return -1;
	*v = it->valuedouble;
	return 1;
}

/* A string claim handed back: "" when absent, else exactly the token's. */
static void check_str_claim(const cJSON *p, const char *k, const char *got, size_t cap)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(p, k);
	FUZZ_CHECK(memchr(got, '\0', cap));
	if (!it)
		FUZZ_CHECK(!got[0]);
	else
		FUZZ_CHECK(cJSON_IsString(it) && !strcmp(it->valuestring, got));
}

/* What an accepted token must satisfy, checked on its decoded JSON. */
static void check_accepted(const char *hdr, size_t hlen, const char *pl, size_t plen,
			   const struct auth_claims *cl)
{
	cJSON *h = cJSON_ParseWithLength(hdr, hlen), *p = cJSON_ParseWithLength(pl, plen);
	const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
	double exp, nbf, iat;

	FUZZ_CHECK(cJSON_IsObject(h) && cJSON_IsObject(p));
	FUZZ_CHECK(cJSON_IsString(alg) && !strcmp(alg->valuestring, "HS256"));
	FUZZ_CHECK(!cJSON_GetObjectItemCaseSensitive(h, "crit"));
	FUZZ_CHECK(int_claim(p, "iat", &iat) == 1 && iat <= NOW + 30 && NOW - iat <= 300);
	int e = int_claim(p, "exp", &exp), b = int_claim(p, "nbf", &nbf);
	FUZZ_CHECK(e == 0 || (e == 1 && NOW <= exp + 30));
	FUZZ_CHECK(b == 0 || (b == 1 && NOW + 30 >= nbf));
	const cJSON *app = cJSON_GetObjectItemCaseSensitive(p, "application_id");
	FUZZ_CHECK(cJSON_IsString(app) && !strcmp(app->valuestring, APP_ID));
	const cJSON *iss = cJSON_GetObjectItemCaseSensitive(p, "iss");
	FUZZ_CHECK(cJSON_IsString(iss) && !strcmp(iss->valuestring, "Vonage"));
	if (cl) {
		FUZZ_CHECK(cl->iat == (long long)iat);
		check_str_claim(p, "jti", cl->jti, sizeof cl->jti);
		check_str_claim(p, "payload_hash", cl->payload_hash, sizeof cl->payload_hash);
		FUZZ_CHECK(cl->has_payload_hash == !!cJSON_GetObjectItemCaseSensitive(p, "payload_hash"));
	}
	cJSON_Delete(h);
	cJSON_Delete(p);
}

/* Decode segment i (0 header, 1 payload) of "Bearer a.b.c" for the oracle. */
static size_t segment(const char *authz, size_t len, int i, char *out, size_t cap)
{
	const char *p = authz + 7, *end = authz + len;
	while (p < end && *p == ' ')
		p++;
	for (int k = 0; k < i; k++) {
		p = (const char *)memchr(p, '.', (size_t)(end - p));
		if (!p)
			return 0;
		p++;
	}
	const char *q = (const char *)memchr(p, '.', (size_t)(end - p));
	size_t n = q ? (size_t)(q - p) : 0, o = 0;
	char tmp[AUTH_TOKEN_MAX + 4];
	if (n + 4 > sizeof tmp)
		return 0;
	for (size_t k = 0; k < n; k++)
		tmp[k] = p[k] == '-' ? '+' : p[k] == '_' ? '/' : p[k];
	while (n % 4)
		tmp[n++] = '=';
	int r = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)tmp, (int)n);
	if (r < 0 || (size_t)r > cap)
		return 0;
	o = (size_t)r;
	while (o && n && tmp[n - 1] == '=') {   /* DecodeBlock counts padding as bytes */
		o--;
		n--;
	}
	return o;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char tok[3 * AUTH_TOKEN_MAX];
	static const char HDR[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char pl[256];
	size_t n;

	if (!size || size > AUTH_TOKEN_MAX)
		return 0;
	int mode = data[0] % 3;
	const char *rest = (const char *)data + 1;
	size_t rlen = size - 1;

	if (mode == 0) {
		n = rlen;
		memcpy(tok, rest, n);
	} else if (mode == 1) {
		n = sign(HDR, sizeof HDR - 1, rest, rlen, tok);
	} else {
		int m = snprintf(pl, sizeof pl, "{\"iat\":%ld,\"jti\":\"j\",\"iss\":\"Vonage\",\"application_id\":\"%s\"}",
				 NOW - 5, APP_ID);
		n = sign(rest, rlen, pl, (size_t)m, tok);
	}
	/* exactly sized heap copy, no NUL: auth_jwt_check takes (ptr, len) */
	char *authz = (char *)malloc(n ? n : 1);
	if (!authz)
		return 0;
	memcpy(authz, tok, n);
	enum auth_result r = auth_jwt_check(&CFG, authz, n, NOW);
	FUZZ_CHECK(r >= AUTH_OK && r < AUTH__COUNT);
	FUZZ_CHECK(strcmp(auth_result_str(r), "unknown"));
	struct auth_claims cl;
	memset(&cl, 0x5a, sizeof cl);   /* not NUL-terminated unless filled */
	enum auth_result rc = auth_jwt_check_claims(&CFG, authz, n, NOW, &cl);
	FUZZ_CHECK(rc == r || (r == AUTH_OK && rc == AUTH_MALFORMED));

	if (r == AUTH_OK) {
		static char h[AUTH_TOKEN_MAX], p[AUTH_TOKEN_MAX];
		size_t hl = segment(authz, n, 0, h, sizeof h), plen = segment(authz, n, 1, p, sizeof p);
		check_accepted(h, hl, p, plen, rc == AUTH_OK ? &cl : NULL);
	}
	free(authz);
	return 0;
}
