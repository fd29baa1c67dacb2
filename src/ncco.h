/*
 * ncco.h -- the NCCO our answer webhook returns.
 *
 * Shape (one line, no whitespace; cJSON escapes every string):
 *   [{"action":"talk","text":T},
 *    {"action":"connect","from":F,"endpoint":[{"type":"websocket","uri":U,
 *      "content-type":"audio/l16;rate=R","headers":{"uuid":..,"from":..,"to":..},
 *      "authorization":{"type":"vonage"}}]}]
 * "from" is left out when no virtual number is configured; header keys are
 * left out when the call did not tell us them. Vonage copies `headers` into
 * the socket's first message, which is how a socket is tied to its call.
 */
#pragma once
#include <stddef.h>

#define NCCO_MAX 4096   /* Vonage caps endpoint headers at 512 bytes; this is ample */

struct ncco_params {
	const char *talk_text;    /* spoken before connecting; NULL/"" = no talk action */
	const char *from_number;  /* VONAGE_VIRTUAL_NUMBER; NULL/"" = omitted */
	const char *ws_uri;       /* "wss://host/socket" */
	int         rate;         /* 8000, 16000 or 24000 */
	const char *uuid;         /* call leg uuid from the webhook, may be NULL */
	const char *call_from;    /* caller's number, may be NULL */
	const char *call_to;      /* dialled number, may be NULL */
};

/*
 * Render the NCCO into out (cap bytes, NUL-terminated). Returns the JSON
 * length, or -1 if it does not fit with the 5 spare bytes cJSON's
 * preallocated printer asks for (cap >= length + 7), or a parameter is
 * invalid; out is then an empty string. Allocates only cJSON's temporary tree.
 */
int ncco_build(const struct ncco_params *p, char *out, size_t cap);

/* "audio/l16;rate=R" into out; returns length or -1. */
int ncco_content_type(int rate, char *out, size_t cap);
