/*
 * auth_jwt.cpp -- "Bearer <JWT>" -> enum auth_result.
 *
 * Flow: scheme and shape checks on the raw string -> decode the JOSE header
 * ourselves and require alg == "HS256" exactly (libjwt 1.10.2 matches alg
 * case-insensitively and lets the token choose it) -> jwt_decode() with the
 * secret verifies the HMAC (constant-time compare in Debian's
 * 1.10.2-1+deb12u1) -> jwt_get_alg() must still say HS256 -> time claims.
 * The secret is never empty here (config refuses that): libjwt treats an
 * empty key as "skip the signature check".
 */
#include "auth_jwt.h"

#include <cjson/cJSON.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const result_names[AUTH__COUNT] = {
	"ok", "missing", "not_bearer", "malformed", "bad_alg", "bad_signature",
	"expired", "not_yet_valid", "no_iat", "iat_too_old", "iat_in_future", "wrong_application",
	"bad_issuer",
};

const char *auth_result_str(enum auth_result r)
{
	return (r >= 0 && r < AUTH__COUNT) ? result_names[r] : "unknown";
}

static int is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/*
 * base64url (no padding) -> bytes, through OpenSSL's decoder. out must hold
 * len*3/4 + 3 bytes. Returns decoded length or -1.
 */
static int b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	char tmp[AUTH_TOKEN_MAX + 4];
	size_t n = 0;

	if (len % 4 == 1 || len + 4 > sizeof tmp || (len / 4 + 1) * 3 > cap)
		return -1;
	for (size_t i = 0; i < len; i++)
		tmp[n++] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	size_t pad = (4 - len % 4) % 4;
	for (size_t i = 0; i < pad; i++)
		tmp[n++] = '=';
	int r = EVP_DecodeBlock(out, (const unsigned char *)tmp, (int)n);
	if (r < 0)
		return -1;
	return r - (int)pad;   /* EVP_DecodeBlock counts the padding as zero bytes */
}

/* 1 if two members of object o share a name (cJSON keeps both; jansson the last). */
static int has_duplicate_keys(const cJSON *o)
{
	for (const cJSON *a = o->child; a; a = a->next)
		for (const cJSON *b = a->next; b; b = b->next)
			if (a->string && b->string && !strcmp(a->string, b->string))
				return 1;
	return 0;
}

/*
 * Decode one segment and parse it as a JSON object with nothing after it and
 * no repeated member names, so that we and libjwt (jansson) cannot read two
 * different meanings into the same bytes. NULL on failure.
 */
static cJSON *decode_json_segment(const char *seg, size_t len)
{
	unsigned char buf[AUTH_TOKEN_MAX];
	const char *end = NULL;
	int n = b64url_decode(seg, len, buf, sizeof buf);

	if (n <= 0)
		return NULL;
	cJSON *j = cJSON_ParseWithLengthOpts((const char *)buf, (size_t)n, &end, 0);
	if (j && (!cJSON_IsObject(j) || end != (const char *)buf + n || has_duplicate_keys(j))) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/* Header must be {"alg":"HS256"[,"typ":"JWT"]...}; exact, case-sensitive. */
static enum auth_result check_header(const char *seg, size_t len)
{
	cJSON *h = decode_json_segment(seg, len);
	enum auth_result r = AUTH_OK;

	if (!h)
		return AUTH_MALFORMED;
	const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
	const cJSON *typ = cJSON_GetObjectItemCaseSensitive(h, "typ");
	if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "HS256"))
		r = AUTH_BAD_ALG;
	else if (typ && (!cJSON_IsString(typ) || strcasecmp(typ->valuestring, "JWT")))
		r = AUTH_MALFORMED;
	else if (cJSON_GetObjectItemCaseSensitive(h, "crit"))
		r = AUTH_MALFORMED;   /* RFC 7515 4.1.11: we understand no extensions */
	cJSON_Delete(h);
	return r;
}

/*
 * Read an integer claim as libjwt parsed it. Returns 1 and sets *v when
 * present and integral, 0 when absent, -1 when present but not an integer
 * (jwt_get_grant_int() in 1.10.2 would silently say 0 for a string).
 */
static int claim_int(jwt_t *jwt, const char *name, long long *v)
{
	char *js = jwt_get_grants_json(jwt, name);   /* malloc'd, free() it */
	int ret = -1;

	if (!js)
		return 0;
	cJSON *j = cJSON_Parse(js);
	if (cJSON_IsNumber(j) && isfinite(j->valuedouble) && j->valuedouble == floor(j->valuedouble) &&
	    fabs(j->valuedouble) < 9.0e15) {
		*v = (long long)j->valuedouble;
		ret = 1;
	}
	cJSON_Delete(j);
	free(js);
	return ret;
}

/*
 * Copy a string claim. 1 when present, 0 when absent, -1 when not a string
 * or too long. jwt_get_grant() answers NULL for a non-string, so absence is
 * told apart through the claim's JSON.
 */
static int claim_str(jwt_t *jwt, const char *name, char *out, size_t cap)
{
	const char *v = jwt_get_grant(jwt, name);
	out[0] = '\0';
	if (!v) {
		char *js = jwt_get_grants_json(jwt, name);
		free(js);
		return js ? -1 : 0;
	}
	size_t n = strlen(v);
	if (n >= cap)
		return -1;
	memcpy(out, v, n + 1);
	return 1;
}

static enum auth_result check_claims(const struct auth_cfg *cfg, jwt_t *jwt, time_t now,
				     struct auth_claims *out)
{
	long long exp, nbf, iat;
	int n;

	n = claim_int(jwt, "exp", &exp);
	if (n < 0)
		return AUTH_MALFORMED;
	if (n > 0 && (long long)now > exp + cfg->leeway_s)
		return AUTH_EXPIRED;

	n = claim_int(jwt, "nbf", &nbf);
	if (n < 0)
		return AUTH_MALFORMED;
	if (n > 0 && (long long)now + cfg->leeway_s < nbf)
		return AUTH_NOT_YET_VALID;

	if (claim_int(jwt, "iat", &iat) <= 0)
		return AUTH_NO_IAT;
	if (iat > (long long)now + cfg->leeway_s)
		return AUTH_IAT_IN_FUTURE;
	if ((long long)now - iat > cfg->max_age_s)
		return AUTH_IAT_TOO_OLD;

	if (cfg->application_id && cfg->application_id[0]) {
		const char *app = jwt_get_grant(jwt, "application_id");
		if (!app || strcmp(app, cfg->application_id))
			return AUTH_WRONG_APP;
	}
	/* Vonage always signs with iss "Vonage": a token with the right key but
	 * another issuer was minted by something else that holds the secret */
	if (cfg->issuer && cfg->issuer[0]) {
		const char *iss = jwt_get_grant(jwt, "iss");
		if (!iss || strcmp(iss, cfg->issuer))
			return AUTH_BAD_ISSUER;
	}
	if (out) {
		out->iat = iat;
		if (claim_str(jwt, "jti", out->jti, sizeof out->jti) < 0)
			return AUTH_MALFORMED;
		n = claim_str(jwt, "payload_hash", out->payload_hash, sizeof out->payload_hash);
		if (n < 0)
			return AUTH_MALFORMED;
		out->has_payload_hash = n;
	}
	return AUTH_OK;
}

enum auth_result auth_jwt_check(const struct auth_cfg *cfg, const char *authz, size_t len,
				time_t now)
{
	return auth_jwt_check_claims(cfg, authz, len, now, NULL);
}

enum auth_result auth_jwt_check_claims(const struct auth_cfg *cfg, const char *authz, size_t len,
				       time_t now, struct auth_claims *out)
{
	char token[AUTH_TOKEN_MAX + 1];
	size_t i = 0, tlen, dots[2], ndots = 0;

	if (!authz || !len)
		return AUTH_MISSING;
	if (!cfg->secret || !cfg->secret_len)
		return AUTH_BAD_SIGNATURE;   /* never verify against an empty key */

	/* RFC 6750: "Bearer" 1*SP token; the scheme is case-insensitive */
	if (len < 7 || strncasecmp(authz, "Bearer", 6) || authz[6] != ' ')
		return AUTH_NOT_BEARER;
	i = 6;
	while (i < len && authz[i] == ' ')
		i++;
	tlen = len - i;
	while (tlen && (authz[i + tlen - 1] == ' ' || authz[i + tlen - 1] == '\t'))
		tlen--;
	if (!tlen || tlen > AUTH_TOKEN_MAX)
		return AUTH_MALFORMED;

	for (size_t k = 0; k < tlen; k++) {
		char c = authz[i + k];
		if (c == '.') {
			if (ndots == 2)
				return AUTH_MALFORMED;
			dots[ndots++] = k;
		} else if (!is_b64url(c)) {
			return AUTH_MALFORMED;
		}
	}
	/* three parts, header and payload non-empty; an empty signature (how alg
	 * "none" looks) is refused after the header check below */
	if (ndots != 2 || dots[0] == 0 || dots[1] == dots[0] + 1)
		return AUTH_MALFORMED;
	memcpy(token, authz + i, tlen);
	token[tlen] = '\0';

	enum auth_result r = check_header(token, dots[0]);
	if (r != AUTH_OK)
		return r;
	if (dots[1] + 1 == tlen)
		return AUTH_MALFORMED;   /* HS256 header with no signature */

	cJSON *payload = decode_json_segment(token + dots[0] + 1, dots[1] - dots[0] - 1);
	if (!payload)
		return AUTH_MALFORMED;
	cJSON_Delete(payload);

	jwt_t *jwt = NULL;
	if (cfg->secret_len > (size_t)0x7fffffff ||
	    jwt_decode(&jwt, token, cfg->secret, (int)cfg->secret_len) || !jwt)
		return AUTH_BAD_SIGNATURE;   /* shape was checked above: the HMAC failed */
	/* belt and braces: libjwt must have verified with HS256, not skipped it */
	if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
		jwt_free(jwt);
		return AUTH_BAD_ALG;
	}
	r = check_claims(cfg, jwt, now, out);
	jwt_free(jwt);
	return r;
}
