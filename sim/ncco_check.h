/*
 * ncco_check.h -- is this answer-webhook body an NCCO caller-sim can play,
 * and what does the call need from it?
 *
 * Input: the raw body. Output: struct ncco_ws -- the websocket endpoint's
 * uri, content type and rate, the Authorization the handshake must carry,
 * and the exact websocket:connected message to send first (content-type
 * plus the endpoint's "headers" copied to the top level, as Vonage does).
 * Accepted shape: a JSON array of talk and connect actions with one connect
 * whose first endpoint is a websocket. Anything else is refused with one
 * line naming the action and field at fault. Pure: cJSON only, the tree
 * is freed before returning.
 */
#pragma once
#include <stddef.h>

#define NCCO_URI_MAX       1024
#define NCCO_CTYPE_MAX     32
#define NCCO_AUTH_MAX      1024
#define NCCO_CONNECTED_MAX 1024   /* Vonage caps "headers" at 512 bytes */
#define NCCO_HEADERS_MAX   512

enum ncco_auth {
	NCCO_AUTH_NONE = 0,    /* no "authorization": Vonage sends no Authorization header */
	NCCO_AUTH_VONAGE,      /* {"type":"vonage"}: Bearer <signed-webhook JWT> */
	NCCO_AUTH_CUSTOM,      /* {"type":"custom","value":V}: V verbatim */
};

struct ncco_ws {
	char uri[NCCO_URI_MAX];
	char content_type[NCCO_CTYPE_MAX];
	int  rate;                              /* 8000, 16000 or 24000 */
	enum ncco_auth auth;
	char auth_value[NCCO_AUTH_MAX];         /* custom only */
	char connected[NCCO_CONNECTED_MAX];     /* websocket:connected JSON, no whitespace */
	int  talk_actions;                      /* talk actions seen (not played) */
};

/*
 * Check body (len bytes, need not be terminated). Returns 0 with *out
 * filled, or -1 with the reason in err; *out is unspecified then.
 */
int ncco_check(const char *body, size_t len, struct ncco_ws *out, char *err, size_t errlen);

/* The rate of an "audio/l16;rate=N" content type (N = 8000/16000/24000), else 0. */
int ncco_rate_of(const char *content_type);

/*
 * Fill out as if an NCCO had named this endpoint: no headers, no talk.
 * For --ws-url. Returns 0, or -1 if rate is not 8000/16000/24000 or the
 * uri does not fit.
 */
int ncco_direct(const char *uri, int rate, enum ncco_auth auth, struct ncco_ws *out);
