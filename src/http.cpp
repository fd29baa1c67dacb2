/*
 * http.cpp -- the http protocol: every plain HTTP request, from lws's
 * callback to the route that answers it.
 *
 * A request: who sent it (peer.h), what it says (the request line and the
 * headers admission needs), the one verdict (admission.h: the route, or a
 * refusal -- counted, charged to the client, logged, answered), then the
 * route: the read views (/stats, /stats.json, /metrics: stats.h,
 * stats_page.h, metrics.h), /healthz, the Vonage webhooks (webhooks.h) and
 * the admin API (admin.h). A POST's body is gathered first (http_reply.h,
 * against --body-timeout), then a signed webhook's body is checked against
 * its token and its jti spent (admission_body) before the route sees it.
 */
#include "http.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admission.h"
#include "clock.h"
#include "host.h"
#include "http_reply.h"
#include "metrics.h"
#include "peer.h"
#include "server_state.h"
#include "stats_page.h"
#include "tls_server.h"
#include "webhooks.h"
#include "ws_audio.h"

/* ---- the request, as admission needs it --------------------------------------- */

static enum http_method method_of(int m)
{
	return m == LWSHUMETH_GET ? HTTP_GET : m == LWSHUMETH_POST ? HTTP_POST : HTTP_OTHER;
}

/*
 * A GET webhook's query parameters as a JSON object in their original
 * order, without whitespace: what Vonage hashes into payload_hash
 * (reference A.9). malloc'd; NULL without memory. *nargs: how many.
 */
static char *query_json(struct lws *wsi, int *nargs)
{
	static char frag[CONFIG_HEADER_BYTES_MAX + 1];
	cJSON *o = cJSON_CreateObject();
	int idx = 0;

	*nargs = 0;
	if (!o)
		return NULL;
	while (webhooks_query_arg(wsi, idx, frag, (int)sizeof frag) >= 0) {
		char *eq = strchr(frag, '=');
		if (eq)
			*eq = '\0';
		if (!cJSON_AddStringToObject(o, frag, eq ? eq + 1 : "")) {
			cJSON_Delete(o);
			return NULL;
		}
		idx++;
	}
	char *js = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	*nargs = idx;
	return js;
}

/* Header h into buf (cap bytes): its value, or NULL when absent or too long. */
static const char *header(struct lws *wsi, enum lws_token_indexes h, char *buf, int cap, size_t *len)
{
	int n = lws_hdr_total_length(wsi, h);

	*len = 0;
	if (n <= 0 || n >= cap || lws_hdr_copy(wsi, buf, cap, h) != n)
		return NULL;
	*len = (size_t)n;
	return buf;
}

/* The request's part of rq; the buffers are the caller's (static: one thread, too big for the stack). */
struct req_bufs {
	char host[HOST_MAX + 2], origin[CONFIG_ORIGIN_LEN + 1], cl[32], ct[64];
	char authz[AUTH_TOKEN_MAX + 64];
};

static void fill_request(struct lws *wsi, struct server *srv, const struct peer *who, int m, char *uri, int ulen,
			 struct req_bufs *b, struct adm_request *rq)
{
	size_t n;

	memset(rq, 0, sizeof *rq);
	rq->kind = ADM_HTTP;
	rq->client = who->client;
	rq->client_known = who->known;
	rq->local = who->local;
	rq->proxied = who->proxied;
	rq->method = method_of(m);
	rq->has_body = m == LWSHUMETH_POST || m == LWSHUMETH_PUT || m == LWSHUMETH_PATCH;
	rq->path = uri;
	rq->path_len = ulen > 0 ? (size_t)ulen : 0;
	rq->host = header(wsi, WSI_TOKEN_HOST, b->host, sizeof b->host, &rq->host_len);
	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0) {
		rq->origin = header(wsi, WSI_TOKEN_ORIGIN, b->origin, sizeof b->origin, &rq->origin_len);
		if (!rq->origin)
			rq->origin = "";   /* present: that is what matters here */
	}
	int an = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (an > 0) {
		rq->authorization = header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, b->authz, sizeof b->authz,
					   &rq->authorization_len);
		rq->authorization_too_long = !rq->authorization;
		if (!rq->authorization)
			rq->authorization = "";
	}
	rq->transfer_encoding = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
	rq->content_length = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0
				     ? (header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, b->cl, sizeof b->cl, &n) ?: "x")
				     : NULL;
	rq->content_type = header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, b->ct, sizeof b->ct, &n);
	rq->shutting_down = srv->shutting_down;
	rq->draining = srv->draining;
	rq->reuse_port = srv->cfg->reuse_port;
	rq->calls_open = srv->calls.open;
	rq->now = clock_wall_s();
	rq->now_ms = clock_mono_ms();
}

/* ---- acting on a refusal -------------------------------------------------------- */

/* Counted (and charged to the client when the verdict says so), logged, answered. */
static int refuse(struct lws *wsi, struct http_pss *pss, const struct adm_verdict *v)
{
	struct server *srv = server_from_wsi(wsi);
	char peer[ADDR_STR_MAX];
	struct addr client;

	pss->close_after = pss->close_after || v->close;
	if (v->json) {
		/* the admin API's own 413/415: counted, answered as its errors are */
		if (v->reason)
			peer_refused(srv, NULL, v->reason);
		return http_reply_json_error(wsi, pss, v->status, v->body);
	}
	if (!v->reason) {
		if (!strcmp(v->body, "body too large\n") && route_is_webhook(v->route)) {
			peer_addr(wsi, peer, sizeof peer, NULL);
			log_limited(&srv->bad_input_log, clock_wall_s(), "%s webhook from %s: %s",
				    v->route == ROUTE_ANSWER ? "answer" : "event", peer, v->body);
		}
		return http_reply(wsi, pss, v->status, HTTP_TEXT, v->body, strlen(v->body), 0, v->allow);
	}
	peer_addr(wsi, peer, sizeof peer, &client);
	peer_refused(srv, v->charge ? &client : NULL, v->reason);
	const struct log_field lf[] = { LOG_STR("remote", peer), LOG_STR("reason", refusal_name(v->reason)),
					LOG_NUM("status", v->status) };
	peer_log(srv, &srv->reject_log, &client, lf, sizeof lf / sizeof lf[0], "refused %s from %s: %s (HTTP %u)%s%s",
		 route_name(v->route), peer, refusal_name(v->reason), v->status, v->hint[0] ? " token " : "", v->hint);
	return http_reply_text(wsi, pss, v->status, v->body);
}

/* --body-timeout passed (http_reply.h): the 408 is admission's refusal too. */
static void body_timed_out(struct lws *wsi, struct http_pss *pss)
{
	struct server *srv = server_from_wsi(wsi);
	struct adm_verdict v;
	char peer[ADDR_STR_MAX];
	struct addr client;

	admission_body_timeout(&v);
	peer_addr(wsi, peer, sizeof peer, &client);
	peer_refused(srv, &client, v.reason);
	const struct log_field lf[] = { LOG_STR("remote", peer), LOG_STR("reason", refusal_name(v.reason)),
					LOG_NUM("status", v.status) };
	peer_log(srv, &srv->reject_log, &client, lf, sizeof lf / sizeof lf[0],
		 "refused %s from %s: body_timeout (HTTP 408, %zu of %zu bytes in %d s)", route_name(pss->route), peer,
		 pss->body_len, pss->body_expect, srv->cfg->body_timeout_s);
}

/* ---- the routes ------------------------------------------------------------------------- */

/* /stats, /stats.json, /metrics, /admin/blocks: rendered from the counters now. */
static int view(struct lws *wsi, struct http_pss *pss)
{
	struct server *srv = server_from_wsi(wsi);
	struct stats_view sv;
	size_t n = 0;

	stats_view_default(&sv);
	if (pss->route == ROUTE_STATS || pss->route == ROUTE_STATS_JSON) {
		static char arg[CONFIG_HEADER_BYTES_MAX + 1];   /* any argument lws accepted */
		const char *why = NULL;
		int l;
		for (int k = 0; (l = webhooks_query_arg(wsi, k, arg, (int)sizeof arg)) >= 0; k++)
			if (stats_view_arg(&sv, arg, (size_t)l, &why))
				break;
		if (why) {
			char msg[160], peer[ADDR_STR_MAX];
			srv->stats.rejected[REJECT_STATS_BAD_QUERY]++;   /* not a strike: a stats reader's typo */
			peer_addr(wsi, peer, sizeof peer, NULL);
			log_limited(&srv->bad_input_log, clock_wall_s(), "%s from %s: %s",
				    pss->route == ROUTE_STATS ? "/stats" : "/stats.json", peer, why);
			snprintf(msg, sizeof msg, "%s\n", why);
			return http_reply_text(wsi, pss, HTTP_STATUS_BAD_REQUEST, msg);
		}
	}
	/* counters their owners keep, read now */
	srv->stats.log_suppressed = srv->reject_log.suppressed_total + srv->limit_log.suppressed_total;
	srv->stats.pending_evicted = srv->conns.evicted;
	srv->stats.clients_evicted = srv->guard.evicted;
	const char *ctype = pss->route == ROUTE_STATS_JSON || pss->route == ROUTE_ADMIN_BLOCKS ? HTTP_JSON
			    : pss->route == ROUTE_METRICS ? METRICS_CONTENT_TYPE
							   : "text/html; charset=utf-8";
	time_t now = clock_wall_s();
	char *b = pss->route == ROUTE_STATS_JSON ? stats_render_json_view(&srv->stats, &srv->calls, &srv->blocks, &sv, now, &n)
		  : pss->route == ROUTE_METRICS ? metrics_render(&srv->stats, &srv->calls, &srv->blocks, now, &n)
		  : pss->route == ROUTE_ADMIN_BLOCKS ? block_render_json(&srv->blocks, now, &n)
						     : stats_page_render_view(&srv->stats, &srv->calls, &srv->blocks, &sv, now, &n);
	if (!b)
		return http_reply_text(wsi, pss, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
	return http_reply(wsi, pss, HTTP_STATUS_OK, ctype, b, n, 1, NULL);
}

static int healthz(struct lws *wsi, struct http_pss *pss)
{
	struct server *srv = server_from_wsi(wsi);

	/* a load balancer takes this process out while its calls finish */
	if (srv->shutting_down)
		return http_reply_text(wsi, pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "shutting down\n");
	if (srv->draining)
		return http_reply_text(wsi, pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "draining\n");
	return http_reply_text(wsi, pss, HTTP_STATUS_OK, "ok\n");
}

static int admin(struct lws *wsi, struct http_pss *pss, const char *body, size_t len)
{
	struct server *srv = server_from_wsi(wsi);
	struct admin_world w = { &srv->calls, &srv->blocks, &srv->stats, &srv->bad_input_log };
	struct admin_answer a;
	char peer[ADDR_STR_MAX];
	enum admin_op op = pss->route == ROUTE_ADMIN_HANGUP ? ADMIN_HANGUP
			   : pss->route == ROUTE_ADMIN_BLOCK ? ADMIN_BLOCK : ADMIN_UNBLOCK;

	peer_addr(wsi, peer, sizeof peer, NULL);
	if (admin_act(&w, op, body ? body : "", len, clock_wall_s(), peer, &a) != HTTP_STATUS_OK)
		return http_reply_json_error(wsi, pss, a.status, a.error);
	return http_reply(wsi, pss, HTTP_STATUS_OK, HTTP_JSON, a.json, strlen(a.json), 1, NULL);
}

/* The route admission let the request through to; body: a POST's (else NULL). */
static int route(struct lws *wsi, struct http_pss *pss, const char *body, size_t len)
{
	switch (pss->route) {
	case ROUTE_ANSWER:  return webhooks_answer(wsi, pss, body, len);
	case ROUTE_EVENTS:  return webhooks_event(wsi, pss, body, len);
	case ROUTE_HEALTHZ: return healthz(wsi, pss);
	case ROUTE_ADMIN_HANGUP:
	case ROUTE_ADMIN_BLOCK:
	case ROUTE_ADMIN_UNBLOCK:
		return admin(wsi, pss, body, len);
	case ROUTE_STATS:
	case ROUTE_STATS_JSON:
	case ROUTE_METRICS:
	case ROUTE_ADMIN_BLOCKS:
		return view(wsi, pss);
	default:
		return http_reply_text(wsi, pss, HTTP_STATUS_NOT_FOUND, "not found\n");
	}
}

/*
 * The POST body is complete (or empty): its check, then the route. The body
 * is freed after the route answered from it: the answer may complete the
 * transaction and let lws reset pss, but the body is no longer there.
 */
static int body_complete(struct lws *wsi, struct http_pss *pss)
{
	struct server *srv = server_from_wsi(wsi);
	struct adm_request situation;
	struct adm_verdict v;
	size_t len;
	char *body = http_body_take(pss, &len);
	struct adm_body_check bc = pss->body_check;

	memset(&situation, 0, sizeof situation);
	situation.draining = srv->draining;
	situation.shutting_down = srv->shutting_down;
	situation.reuse_port = srv->cfg->reuse_port;
	situation.now = clock_wall_s();
	int r;
	if (!admission_body(&srv->admission, &bc, body ? body : "", len, &situation, &v))
		r = refuse(wsi, pss, &v);
	else
		r = route(wsi, pss, body ? body : "", len);
	free(body);
	return r;
}

static int on_http(struct lws *wsi, struct http_pss *pss)
{
	struct server *srv = server_from_wsi(wsi);
	static struct req_bufs bufs;
	struct adm_request rq;
	struct adm_verdict v;
	char *uri;
	int ulen, m = lws_http_get_uri_and_method(wsi, &uri, &ulen);

	http_release(pss);   /* a keep-alive connection's previous request */
	memset(pss, 0, sizeof *pss);
	if (m < 0)
		return http_reply_text(wsi, pss, HTTP_STATUS_BAD_REQUEST, "bad request\n");
	struct peer who;
	peer_identify(wsi, &who);
	peer_note_request(srv, &who);
	fill_request(wsi, srv, &who, m, uri, ulen, &bufs, &rq);
	char *qjs = NULL;
	if (srv->cfg->verify_webhooks && rq.method == HTTP_GET) {
		int ok;
		const char *allow;
		enum route r = routes_find(rq.path, rq.path_len, rq.method, &ok, &allow);
		if (route_is_webhook(r) && !(qjs = query_json(wsi, &rq.query_nargs)))
			return http_reply_text(wsi, pss, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
		rq.query_json = qjs;
		rq.query_json_len = qjs ? strlen(qjs) : 0;
	}
	int admitted = admission_decide(&srv->admission, &rq, &v);
	cJSON_free(qjs);
	pss->route = v.route;
	if (!admitted)
		return refuse(wsi, pss, &v);
	pss->operator_here = v.operator_here;
	pss->body_check = v.body_check;
	if (rq.method != HTTP_POST)
		return route(wsi, pss, NULL, 0);
	if (!v.body_len)
		return body_complete(wsi, pss);
	return http_body_begin(wsi, pss, v.body_len, srv->cfg->body_timeout_s, body_timed_out);
}

int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct http_pss *pss = (struct http_pss *)user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:                 return on_http(wsi, pss);
	case LWS_CALLBACK_HTTP_BODY:            return http_body_data(pss, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		/* refused early, or out of time: nothing to parse */
		return pss->replied || pss->timed_out ? 0 : body_complete(wsi, pss);
	case LWS_CALLBACK_HTTP_WRITEABLE:       return http_writeable(wsi, pss);
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: return ws_audio_confirm_upgrade(wsi, (const char *)in);
	/* connection lifetime, for the per-address connection count (peer.cpp) */
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		return peer_conn_filter(server_from_wsi(wsi), user);
	case LWS_CALLBACK_WSI_DESTROY:
		peer_conn_destroyed(wsi);
		return 0;
	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
		return tls_server_setup(server_from_wsi(wsi), user);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (pss)
			http_release(pss);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}
