/*
 * http_reply.cpp -- the answer and the body of one request; see http_reply.h.
 */
#include "http_reply.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server_state.h"
#include "stats_page.h"

#define CHUNK 16384

const char HTTP_TEXT[] = "text/plain; charset=utf-8";
const char HTTP_JSON[] = "application/json";

int http_reply(struct lws *wsi, struct http_pss *pss, unsigned status, const char *ctype, const char *body, size_t len,
	       int owned, const char *allow)
{
	uint8_t buf[LWS_PRE + 1024], *start = &buf[LWS_PRE], *p = start, *end = &buf[sizeof buf - 1];

	if (!owned && len) {
		if (len >= sizeof pss->text)
			len = sizeof pss->text - 1;
		memcpy(pss->text, body, len);
		body = pss->text;
	}
	pss->resp = (char *)body;
	pss->resp_len = len;
	pss->resp_off = 0;
	pss->resp_owned = owned;
	pss->replied = 1;

	if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end))
		return -1;
	if (lws_add_http_header_by_name(wsi, (const uint8_t *)"cache-control:", (const uint8_t *)"no-store", 8, &p,
					end) ||
	    lws_add_http_header_by_name(wsi, (const uint8_t *)"x-content-type-options:", (const uint8_t *)"nosniff", 7,
					&p, end))
		return -1;
	if (!strncmp(ctype, "text/html", 9)) {
		const char *csp = stats_page_csp();   /* /stats is the only page */
		if (lws_add_http_header_by_name(wsi, (const uint8_t *)"content-security-policy:", (const uint8_t *)csp,
						(int)strlen(csp), &p, end))
			return -1;
	}
	if (allow && lws_add_http_header_by_name(wsi, (const uint8_t *)"allow:", (const uint8_t *)allow,
						 (int)strlen(allow), &p, end))
		return -1;
	/* draining: move keep-alive clients on to the processes still serving */
	if (server_from_wsi(wsi)->draining)
		pss->close_after = 1;
	if (pss->close_after &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const uint8_t *)"close", 5, &p, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (!len) {
		if (pss->close_after)
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

int http_reply_text(struct lws *wsi, struct http_pss *pss, unsigned status, const char *msg)
{
	return http_reply(wsi, pss, status, HTTP_TEXT, msg, strlen(msg), 0, NULL);
}

int http_reply_json_error(struct lws *wsi, struct http_pss *pss, unsigned status, const char *why)
{
	char *out = NULL;
	cJSON *o = cJSON_CreateObject();

	if (o && cJSON_AddStringToObject(o, "error", why))
		out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!out)
		return http_reply_text(wsi, pss, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
	return http_reply(wsi, pss, status, HTTP_JSON, out, strlen(out), 1, NULL);
}

int http_writeable(struct lws *wsi, struct http_pss *pss)
{
	uint8_t buf[LWS_PRE + CHUNK];
	size_t n = pss->resp_len - pss->resp_off;

	if (!pss->resp)
		return 0;
	if (n > CHUNK)
		n = CHUNK;
	int last = pss->resp_off + n == pss->resp_len;
	memcpy(&buf[LWS_PRE], pss->resp + pss->resp_off, n);
	if (lws_write(wsi, &buf[LWS_PRE], n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return -1;
	pss->resp_off += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (pss->resp_owned)
		free(pss->resp);
	pss->resp = NULL;
	if (pss->close_after)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/*
 * --body-timeout passed with the body still incomplete. Runs outside any of
 * the connection's callbacks: answer 408 in one small write (nothing else
 * was sent on this request) and have lws close the connection;
 * http_body_data() refuses whatever still arrives meanwhile.
 */
static void body_deadline(lws_sorted_usec_list_t *sul)
{
	struct http_pss *pss = lws_container_of(sul, struct http_pss, body_sul);
	struct lws *wsi = pss->wsi;
	static const char resp[] = "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\n"
				   "Content-Length: 16\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
				   "request timeout\n";
	uint8_t buf[LWS_PRE + sizeof resp];

	pss->timed_out = 1;
	if (pss->on_timeout)
		pss->on_timeout(wsi, pss);   /* before the body goes: it says how much came */
	free(pss->body);
	pss->body = NULL;
	memcpy(&buf[LWS_PRE], resp, sizeof resp - 1);
	if (lws_write(wsi, &buf[LWS_PRE], sizeof resp - 1, LWS_WRITE_HTTP_HEADERS) != (int)sizeof resp - 1)
		log_debug("408: short write");
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

int http_body_begin(struct lws *wsi, struct http_pss *pss, size_t expect, int timeout_s,
		    void (*on_timeout)(struct lws *wsi, struct http_pss *pss))
{
	/* memory for what arrives, not for what the header claims */
	pss->body_expect = expect;
	pss->body_cap = expect < HTTP_BODY_FIRST ? expect : HTTP_BODY_FIRST;
	pss->body = (char *)malloc(pss->body_cap);
	if (!pss->body)
		return -1;
	pss->body_len = 0;
	pss->wsi = wsi;
	pss->on_timeout = on_timeout;
	lws_sul_schedule(lws_get_context(wsi), 0, &pss->body_sul, body_deadline,
			 (lws_usec_t)timeout_s * LWS_US_PER_SEC);
	return 0;   /* lws delivers HTTP_BODY, then HTTP_BODY_COMPLETION */
}

int http_body_data(struct http_pss *pss, const void *in, size_t len)
{
	if (pss->timed_out)
		return -1;   /* 408 sent: the connection is on its way out */
	/* already answered (refused before the body): lws still hands over what
	 * was on the wire; drop it, so the answer's own body gets written before
	 * the connection closes */
	if (pss->replied && !pss->body)
		return 0;
	if (!pss->body || len > pss->body_expect - pss->body_len)
		return -1;   /* more than Content-Length promised: lws should not let this happen */
	if (len > pss->body_cap - pss->body_len) {
		size_t cap = pss->body_cap * 2;
		if (cap < pss->body_len + len)
			cap = pss->body_len + len;
		if (cap > pss->body_expect)
			cap = pss->body_expect;
		char *nb = (char *)realloc(pss->body, cap);
		if (!nb)
			return -1;
		pss->body = nb;
		pss->body_cap = cap;
	}
	memcpy(pss->body + pss->body_len, in, len);
	pss->body_len += len;
	return 0;
}

char *http_body_take(struct http_pss *pss, size_t *len)
{
	char *b = pss->body;

	lws_sul_cancel(&pss->body_sul);
	pss->body = NULL;
	*len = b ? pss->body_len : 0;
	return b;
}

void http_release(struct http_pss *pss)
{
	lws_sul_cancel(&pss->body_sul);
	free(pss->body);
	pss->body = NULL;
	if (pss->resp_owned)
		free(pss->resp);
	pss->resp = NULL;
	pss->resp_owned = 0;
}

/* admission composes its refusals in the verdict; http_reply must copy them whole */
static_assert(sizeof(((struct adm_verdict *)0)->text) <= HTTP_TEXT_MAX, "a composed refusal fits pss->text");
