/*
 * http_reply.h -- one HTTP request's plumbing: the answer, and the body.
 *
 * The answer: status line and headers are written at once (with
 * Cache-Control: no-store, nosniff, the page's CSP, Allow for a 405, and
 * Connection: close when the request left a body unread or the server
 * drains), the body from HTTP_WRITEABLE in pieces of at most 16 KiB, so
 * lws never has to buffer a large remainder.
 * The body of a POST: gathered into a buffer that grows with what arrived
 * (never to what Content-Length claims), against a deadline fixed when the
 * headers ended (--body-timeout: lws restarts its own timer at every byte,
 * so a trickle would hold the connection for ever). When it passes, the
 * caller's on_timeout is told (it counts and logs the refusal), a 408 goes
 * out in one small write, and lws closes the connection.
 * The routes' modules (webhooks.h, admin.h, http.cpp's views) answer
 * through here; admission.h has decided before they run.
 */
#pragma once
#include <libwebsockets.h>

#include "admission.h"

#define HTTP_BODY_FIRST 1024  /* first allocation; grown as bytes arrive */

/* The session data of the http protocol: one request at a time. */
/* The longest answer http_reply copies (every plain-text refusal and error). */
#define HTTP_TEXT_MAX 192

struct http_pss {
	struct lws *wsi;          /* for the body deadline's timer */
	lws_sorted_usec_list_t body_sul;  /* fires --body-timeout after the headers */
	void (*on_timeout)(struct lws *wsi, struct http_pss *pss);
	char  *body;              /* request body being gathered (malloc'd, grown as it comes) */
	size_t body_len, body_cap, body_expect;
	char  *resp;              /* response body (malloc'd or static) */
	size_t resp_len, resp_off;
	int    resp_owned;        /* free(resp) when done */
	char   text[HTTP_TEXT_MAX];  /* a short answer copied here: it outlives the caller's buffer */
	int    close_after;       /* unread request body: close instead of keep-alive */
	int    replied;           /* an answer was written: later body callbacks are only drained */
	int    timed_out;         /* the body deadline passed: 408 sent, closing */
	/* what admission decided about this request */
	enum route route;
	int    operator_here;     /* an admin request let in as this host's operator */
	struct adm_body_check body_check;
};

extern const char HTTP_TEXT[];   /* "text/plain; charset=utf-8" */
extern const char HTTP_JSON[];   /* "application/json" */

/*
 * Write status + headers now and queue body for HTTP_WRITEABLE. owned: body
 * was malloc'd and is free()d when sent or when the connection closes; else
 * it is copied into pss->text now (at most HTTP_TEXT_MAX - 1 bytes, longer
 * is cut), because it is sent on a later writeable callback, when a buffer
 * on the caller's stack is gone. Returns 0, or -1 to close the connection.
 */
int http_reply(struct lws *wsi, struct http_pss *pss, unsigned status, const char *ctype, const char *body, size_t len,
	       int owned, const char *allow);
int http_reply_text(struct lws *wsi, struct http_pss *pss, unsigned status, const char *msg);
/* {"error": why}: how the admin API answers what it refuses */
int http_reply_json_error(struct lws *wsi, struct http_pss *pss, unsigned status, const char *why);

/* HTTP_WRITEABLE: the next piece of the answer's body. */
int http_writeable(struct lws *wsi, struct http_pss *pss);

/*
 * Start gathering a body of expect bytes (not 0), within timeout_s; past
 * it on_timeout runs, then the 408. Returns 0, or -1 (no memory: close).
 */
int http_body_begin(struct lws *wsi, struct http_pss *pss, size_t expect, int timeout_s,
		    void (*on_timeout)(struct lws *wsi, struct http_pss *pss));

/* HTTP_BODY: append; 0, or -1 to close (past the deadline, more than promised, no memory). */
int http_body_data(struct http_pss *pss, const void *in, size_t len);

/* The body is whole: take it (the caller frees it) and stop the deadline. */
char *http_body_take(struct http_pss *pss, size_t *len);

/* The connection's request is over: cancel the deadline, free what is held. */
void http_release(struct http_pss *pss);
