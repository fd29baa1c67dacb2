/*
 * http.h -- the plain HTTP routes: answer and event webhooks, stats, health.
 *
 * Request -> route (path + method) -> for POST, the body is gathered into a
 * buffer sized from Content-Length (bounded) -> handler builds the response
 * body -> headers are written at once, the body on the next WRITEABLE.
 * Guards in front: a request with Transfer-Encoding is refused (we read
 * bodies by Content-Length only, so a proxy that reads chunks could see
 * another request in it); a body must arrive within --body-timeout; with
 * --verify-webhooks a webhook needs Vonage's signed JWT, used once (its
 * jti), bound to its body by payload_hash; /stats and friends answer
 * loopback clients, others only with the --stats-token bearer; /admin/
 * (the operator's actions) loopback or the --admin-token bearer.
 */
#pragma once
#include <libwebsockets.h>

#define HTTP_BODY_MAX 16384   /* webhook bodies are a few hundred bytes */
#define HTTP_BODY_FIRST 1024  /* first allocation; grown as bytes arrive, never to what a header claims */

struct http_pss {
	struct lws *wsi;          /* for the body deadline's timer */
	lws_sorted_usec_list_t body_sul;  /* fires --body-timeout after the headers */
	int    route;             /* enum route in http.cpp */
	char  *body;              /* request body being gathered (malloc'd, grown as it comes) */
	size_t body_len, body_cap, body_expect;
	char  *resp;              /* response body (malloc'd or static) */
	size_t resp_len, resp_off;
	int    resp_owned;        /* free(resp) when done */
	int    close_after;       /* unread request body: close instead of keep-alive */
	int    replied;           /* reply() ran: later body callbacks are only drained */
	int    timed_out;         /* the body deadline passed: 408 sent, closing */
	int    check_hash;        /* --verify-webhooks: body must match payload_hash */
	char   payload_hash[128]; /* from the webhook's JWT (AUTH_CLAIM_MAX) */
	char   jti[128];          /* ... and its jti, spent once the body proved it (AUTH_CLAIM_MAX) */
	long long jti_expires;
	int    spend_jti;         /* --verify-webhooks POST: spend jti once the body matched */
	int    admin_loopback;    /* /admin/ request let in as loopback (no token) */
};

/* Protocol callback for protocols[0]. */
int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len);
