/*
 * jwt_mint.cpp -- HS256 Vonage-style tokens through libjwt; see jwt_mint.h.
 */
#include "jwt_mint.h"

#include <jwt.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int jwt_mint(const uint8_t *secret, size_t secret_len, const char *application_id, time_t now,
	     char *out, size_t cap)
{
	char jti[UTIL_UUID_LEN + 1];
	jwt_t *jwt = NULL;
	char *tok = NULL;
	int ret = -1;

	if (cap)
		out[0] = '\0';
	if (!secret || !secret_len || secret_len > 0x7fffffff || util_uuid4(jti))
		return -1;
	if (jwt_new(&jwt))
		return -1;
	if (jwt_add_grant_int(jwt, "iat", (long)now) || jwt_add_grant(jwt, "jti", jti) ||
	    jwt_add_grant(jwt, "iss", "Vonage") ||
	    (application_id && application_id[0] && jwt_add_grant(jwt, "application_id", application_id)) ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, secret, (int)secret_len))
		goto out;
	tok = jwt_encode_str(jwt);
	if (!tok)
		goto out;
	{
		size_t n = strlen(tok);
		if (n >= cap)
			goto out;
		memcpy(out, tok, n + 1);
		ret = (int)n;
	}
out:
	if (tok)
		free(tok);   /* libjwt 1.10: plain malloc, caller frees */
	jwt_free(jwt);
	return ret;
}
