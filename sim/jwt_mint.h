/*
 * jwt_mint.h -- the JWT Vonage puts in "Authorization: Bearer ..." when an
 * NCCO websocket endpoint says {"authorization":{"type":"vonage"}}.
 *
 * Shape of Vonage's signed-webhook tokens: header {"alg":"HS256","typ":"JWT"},
 * claims iat (now), jti (a fresh UUID), iss "Vonage", application_id; signed
 * with HMAC-SHA256 using the account's signature secret. libjwt does the
 * encoding; its allocations live and die inside jwt_mint(), once per call,
 * never per frame.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define JWT_MINT_MAX 1024   /* token bytes, comfortably above the ~300 we produce */

/*
 * Write a token into out[cap]. secret must not be empty (libjwt would then
 * sign nothing). Returns the token length, or -1 (out is "" then).
 */
int jwt_mint(const uint8_t *secret, size_t secret_len, const char *application_id, time_t now,
	     char *out, size_t cap);
