/*
 * http.h -- the plain HTTP routes: answer and event webhooks, stats, health.
 *
 * Request -> route (path + method) -> for POST, the body is gathered into a
 * buffer sized from Content-Length (bounded) -> handler builds the response
 * body -> headers are written at once, the body on the next WRITEABLE.
 * Guards in front: with --verify-webhooks a webhook needs Vonage's signed
 * JWT (and a body matching its payload_hash); /stats and friends answer
 * loopback clients, others only with the --stats-token bearer.
 */
#pragma once
#include <libwebsockets.h>

#define HTTP_BODY_MAX 16384   /* webhook bodies are a few hundred bytes */

struct http_pss {
	int    route;             /* enum route in http.cpp */
	char  *body;              /* request body being gathered (malloc'd) */
	size_t body_len, body_cap;
	char  *resp;              /* response body (malloc'd or static) */
	size_t resp_len, resp_off;
	int    resp_owned;        /* free(resp) when done */
	int    close_after;       /* unread request body: close instead of keep-alive */
	int    replied;           /* reply() ran: later body callbacks are only drained */
	int    check_hash;        /* --verify-webhooks: body must match payload_hash */
	char   payload_hash[128]; /* from the webhook's JWT (AUTH_CLAIM_MAX) */
};

/* Protocol callback for protocols[0]. */
int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len);
