/*
 * auth_jwt.h -- decide whether a WebSocket handshake may proceed.
 *
 * Input is the raw Authorization header value Vonage sends when the NCCO
 * endpoint has authorization {"type":"vonage"}: "Bearer <JWT>", HS256, signed
 * with the account signature secret. Output is one auth_result; anything but
 * AUTH_OK refuses the upgrade. libjwt 1.10.2 verifies the signature; the
 * checks it does not do (pinning the algorithm, exp/nbf/iat) are done here.
 * Pure: no sockets, no lws, no logging of the token; callable from tests.
 */
#pragma once
#include <stddef.h>
#include <time.h>

#define AUTH_TOKEN_MAX 4096   /* libjwt decodes with alloca(): bound the input */

struct auth_cfg {
	const unsigned char *secret;   /* HMAC key, not owned; must be non-empty */
	size_t               secret_len;
	long                 max_age_s;      /* iat may be at most this old */
	long                 leeway_s;       /* clock skew allowed on exp/nbf/iat */
	const char          *application_id; /* if non-empty, claim must match */
	const char          *issuer;         /* if non-empty, iss must equal it ("Vonage") */
};

enum auth_result {
	AUTH_OK = 0,
	AUTH_MISSING,          /* no Authorization header */
	AUTH_NOT_BEARER,       /* some other scheme */
	AUTH_MALFORMED,        /* not three base64url parts of JSON, or too long */
	AUTH_BAD_ALG,          /* header alg is not exactly HS256 (none, HS512, RS256...) */
	AUTH_BAD_SIGNATURE,    /* signed with another key, or tampered */
	AUTH_EXPIRED,          /* exp in the past (beyond leeway) */
	AUTH_NOT_YET_VALID,    /* nbf in the future (beyond leeway) */
	AUTH_NO_IAT,           /* iat missing or not an integer */
	AUTH_IAT_TOO_OLD,      /* iat older than max_age_s */
	AUTH_IAT_IN_FUTURE,    /* iat ahead of now (beyond leeway) */
	AUTH_WRONG_APP,        /* application_id does not match the configured one */
	AUTH_BAD_ISSUER,       /* iss missing or not the configured issuer (RFC 8725 3.8) */
	AUTH__COUNT
};

#define AUTH_CLAIM_MAX 128

/* Claims the caller acts on after a successful check (replay, payload hash). */
struct auth_claims {
	long long iat;
	char      jti[AUTH_CLAIM_MAX];          /* "" when absent */
	char      payload_hash[AUTH_CLAIM_MAX]; /* as sent; "" when absent */
	int       has_payload_hash;
};

/*
 * Check `authz` (len bytes, need not be NUL-terminated; NULL or len 0 means no
 * header) against cfg at time `now`. Never logs, never keeps the token.
 */
[[nodiscard]] enum auth_result auth_jwt_check(const struct auth_cfg *cfg, const char *authz,
					      size_t len, time_t now);

/*
 * The same check; on AUTH_OK also fills *out (if not NULL). A jti or
 * payload_hash that is not a string or is AUTH_CLAIM_MAX bytes or longer
 * makes the token AUTH_MALFORMED.
 */
[[nodiscard]] enum auth_result auth_jwt_check_claims(const struct auth_cfg *cfg, const char *authz,
						     size_t len, time_t now, struct auth_claims *out);

/* Stable snake_case name, used as the stats key and in log lines. */
const char *auth_result_str(enum auth_result r);
