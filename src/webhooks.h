/*
 * webhooks.h -- the answer and event webhooks Vonage calls for each call.
 *
 * Answer: the call's uuid, from and to (a GET's query or a POST's JSON
 * body) become the NCCO (ncco.h) that tells Vonage to open the audio
 * WebSocket to us -- its URI from --public-url or the request's Host
 * (host.h) -- after the voice app's talk text. Event: the call's status is
 * counted and remembered for the page (stats.h). Whether the request may
 * be answered at all admission.h has decided before these run.
 */
#pragma once
#include <libwebsockets.h>
#include <stddef.h>

#include "http_reply.h"

/* The answer webhook: body is the POST's (NULL for a GET: the query). */
int webhooks_answer(struct lws *wsi, struct http_pss *pss, const char *body, size_t len);

/* The event webhook, likewise. */
int webhooks_event(struct lws *wsi, struct http_pss *pss, const char *body, size_t len);

/*
 * Query argument idx, "name=value" as lws decoded it, into buf (which must
 * hold any header block lws accepts). Its length, or -1 past the last one.
 * lws_get_urlarg_by_name() is not used: it stops at the first argument
 * longer than its buffer, silently losing every one after it.
 */
int webhooks_query_arg(struct lws *wsi, int idx, char *buf, int cap);
