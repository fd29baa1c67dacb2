/*
 * http.cpp -- answer webhook, event webhook, /stats, /stats.json, /metrics,
 * /healthz.
 *
 * Routing is a small table of (path, allowed methods). Every response goes
 * through reply(): status line and headers are written in the HTTP callback,
 * the body from HTTP_WRITEABLE in pieces of at most CHUNK bytes so lws never
 * has to buffer a large remainder. Bodies of POST requests are accepted only
 * with a Content-Length within HTTP_BODY_MAX (lws 4.1 would otherwise
 * expect up to 100 MiB), gathered, and parsed once complete.
 */
#include "http.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "events.h"
#include "host.h"
#include "metrics.h"
#include "ncco.h"
#include "server.h"
#include "stats_page.h"
#include "ws_audio.h"

#define CHUNK 16384

enum route { R_NONE = 0, R_ANSWER, R_EVENTS, R_STATS, R_STATS_JSON, R_HEALTHZ, R_METRICS };

enum { M_GET = 1 << LWSHUMETH_GET, M_POST = 1 << LWSHUMETH_POST };

static const struct {
	const char *path;
	enum route  route;
	unsigned    methods;
	const char *allow;       /* Allow header for 405 */
} routes[] = {
	{ "/webhooks/answer", R_ANSWER, M_GET | M_POST, "GET, POST" },
	{ "/webhooks/events", R_EVENTS, M_GET | M_POST, "GET, POST" },
	{ "/stats", R_STATS, M_GET, "GET" },
	{ "/stats.json", R_STATS_JSON, M_GET, "GET" },
	{ "/healthz", R_HEALTHZ, M_GET, "GET" },
	{ "/metrics", R_METRICS, M_GET, "GET" },
};

static const char TEXT[] = "text/plain; charset=utf-8";
static const char JSON[] = "application/json";

/*
 * Write status + headers now and queue `body` for HTTP_WRITEABLE. If owned,
 * body is free()d when sent or when the connection closes. Returns 0, or -1
 * to close the connection.
 */
static int reply(struct lws *wsi, struct http_pss *pss, unsigned status, const char *ctype,
		 const char *body, size_t len, int owned, const char *allow)
{
	uint8_t buf[LWS_PRE + 1024], *start = &buf[LWS_PRE], *p = start, *end = &buf[sizeof buf - 1];

	pss->resp = (char *)body;
	pss->resp_len = len;
	pss->resp_off = 0;
	pss->resp_owned = owned;
	pss->replied = 1;

	if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end))
		return -1;
	if (lws_add_http_header_by_name(wsi, (const uint8_t *)"cache-control:",
					(const uint8_t *)"no-store", 8, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const uint8_t *)"x-content-type-options:",
					(const uint8_t *)"nosniff", 7, &p, end))
		return -1;
	if (!strncmp(ctype, "text/html", 9)) {
		const char *csp = stats_page_csp();   /* /stats is the only page */
		if (lws_add_http_header_by_name(wsi, (const uint8_t *)"content-security-policy:",
						(const uint8_t *)csp, (int)strlen(csp), &p, end))
			return -1;
	}
	if (allow && lws_add_http_header_by_name(wsi, (const uint8_t *)"allow:", (const uint8_t *)allow,
						 (int)strlen(allow), &p, end))
		return -1;
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

static int reply_text(struct lws *wsi, struct http_pss *pss, unsigned status, const char *msg)
{
	return reply(wsi, pss, status, TEXT, msg, strlen(msg), 0, NULL);
}

static int on_writeable(struct lws *wsi, struct http_pss *pss)
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

/* Copy a query argument (already URL-decoded by lws), sanitised. */
static void query_arg(struct lws *wsi, const char *name, char *out, size_t cap)
{
	char frag[256];
	const char *v = lws_get_urlarg_by_name(wsi, name, frag, (int)sizeof frag);
	events_sanitize(out, cap, v, v ? strlen(v) : 0);
}

/*
 * "ws[s]://<host>/socket". The host is --public-url's, else the validated
 * Host header. The scheme is ws only when nothing says the outside world
 * reaches us over TLS: not our own listener, not an X-Forwarded-Proto: https
 * proxy, not an https --public-url.
 */
static int ws_uri(struct lws *wsi, const struct config *cfg, char *out, size_t cap)
{
	char host[HOST_MAX + 2], proto[16];
	const char *authority = cfg->public_base;
	int secure, n;

	if (!authority[0]) {
		n = lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST);
		if (n <= 0 || host_validate(host, (size_t)n))
			return -1;
		authority = host;
	}
	secure = lws_is_ssl(wsi) || (cfg->public_base[0] && cfg->public_secure);
	if (!secure && lws_hdr_custom_copy(wsi, proto, sizeof proto, "x-forwarded-proto:", 18) > 0)
		secure = !strcasecmp(proto, "https");
	n = snprintf(out, cap, "%s://%s/socket", secure ? "wss" : "ws", authority);
	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static int answer(struct lws *wsi, struct http_pss *pss, const struct call_info *ci)
{
	struct app *app = app_from_wsi(wsi);
	const struct config *cfg = app->cfg;
	char uri[512], peer[ADDR_STR_MAX];

	server_peer(wsi, peer, sizeof peer);
	if (ws_uri(wsi, cfg, uri, sizeof uri)) {
		log_limited(&app->bad_input_log, time(NULL), "answer from %s: missing or malformed Host header",
			    peer);
		return reply_text(wsi, pss, HTTP_STATUS_BAD_REQUEST, "malformed Host header\n");
	}
	struct ncco_params np = { cfg->talk_text, cfg->from_number, uri, cfg->rate,
				  ci->uuid, ci->from, ci->to };
	char *out = (char *)malloc(NCCO_MAX);
	if (!out)
		return reply_text(wsi, pss, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
	int n = ncco_build(&np, out, NCCO_MAX);
	if (n < 0) {
		free(out);
		log_err("answer: NCCO does not fit in %d bytes", NCCO_MAX);
		return reply_text(wsi, pss, HTTP_STATUS_INTERNAL_SERVER_ERROR, "cannot build NCCO\n");
	}
	const struct log_field lf[] = { LOG_STR("remote", peer), LOG_STR("uuid", ci->uuid),
					LOG_STR("from", ci->from), LOG_STR("to", ci->to), LOG_STR("uri", uri) };
	LOG_FIELDS(LOG_INFO, "answer", lf, "answer from %s: call %s from %s to %s -> %s", peer,
		   ci->uuid[0] ? ci->uuid : "-", ci->from[0] ? ci->from : "-", ci->to[0] ? ci->to : "-", uri);
	return reply(wsi, pss, HTTP_STATUS_OK, JSON, out, (size_t)n, 1, NULL);
}

static int event(struct lws *wsi, struct http_pss *pss, const struct hook_event *ev)
{
	struct app *app = app_from_wsi(wsi);
	app->stats.events_received++;
	stats_event_record(&app->stats, time(NULL), ev->status, ev->uuid);
	const struct log_field lf[] = { LOG_STR("status", ev->status), LOG_STR("uuid", ev->uuid) };
	LOG_FIELDS(LOG_INFO, "event_webhook", lf, "event: status %s uuid %s", ev->status[0] ? ev->status : "-",
		   ev->uuid[0] ? ev->uuid : "-");
	return reply(wsi, pss, HTTP_STATUS_NO_CONTENT, TEXT, NULL, 0, 0, NULL);
}

/* 400 for a webhook body we cannot use; `why` goes to the log and the client. */
static int bad_body(struct lws *wsi, struct http_pss *pss, const char *why)
{
	struct app *app = app_from_wsi(wsi);
	char peer[ADDR_STR_MAX];
	server_peer(wsi, peer, sizeof peer);
	log_limited(&app->bad_input_log, time(NULL), "%s webhook from %s: %s",
		    pss->route == R_ANSWER ? "answer" : "event", peer, why);
	return reply_text(wsi, pss, HTTP_STATUS_BAD_REQUEST, why);
}

/* ---- guards: signed webhooks, stats access ------------------------------ */

/* 401/403 for a request a guard refused: counted, logged (rate-limited). */
static int refuse_http(struct lws *wsi, struct http_pss *pss, int reason, unsigned status, const char *why,
		       const char *hint)
{
	struct app *app = app_from_wsi(wsi);
	char peer[ADDR_STR_MAX];

	app->stats.rejected[reason]++;
	server_peer(wsi, peer, sizeof peer);
	log_limited(&app->reject_log, time(NULL), "refused %s from %s: %s (HTTP %u)%s%s",
		    pss->route == R_ANSWER ? "answer webhook" : pss->route == R_EVENTS ? "event webhook" : "stats",
		    peer, stats_reject_str(reason), status, hint ? " token " : "", hint ? hint : "");
	return reply_text(wsi, pss, status, why);
}

/* Lowercase hex SHA-256 of data. out holds 65 bytes. */
static int sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -1;
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int hash_matches(const char *claim, const void *data, size_t len)
{
	char hex[65];
	return !sha256_hex(data, len, hex) && !strcasecmp(hex, claim);
}

/*
 * Vonage's payload_hash for a GET webhook: SHA-256 of the query parameters
 * as a JSON object, in their original order, without whitespace
 * (reference A.9). With no parameters, "" and "{}" are both accepted.
 */
static int query_hash_matches(struct lws *wsi, const char *claim)
{
	char frag[512];
	int idx = 0, ok = 0;
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return 0;
	while (lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, idx) >= 0) {
		char *eq = strchr(frag, '=');
		if (eq)
			*eq = '\0';
		if (!cJSON_AddStringToObject(o, frag, eq ? eq + 1 : "")) {
			cJSON_Delete(o);
			return 0;
		}
		idx++;
	}
	char *js = cJSON_PrintUnformatted(o);
	if (js) {
		ok = hash_matches(claim, js, strlen(js)) || (!idx && hash_matches(claim, "", 0));
		cJSON_free(js);
	}
	cJSON_Delete(o);
	return ok;
}

/*
 * --verify-webhooks: the request must carry Vonage's signed JWT. Returns 0
 * to go on (pss->check_hash set when a POST body must match), or the
 * result of the refusal.
 */
static int verify_webhook(struct lws *wsi, struct http_pss *pss, int is_post, int *refused)
{
	struct app *app = app_from_wsi(wsi);
	char authz[AUTH_TOKEN_MAX + 64], hint[9];
	struct auth_claims claims;
	enum auth_result r = AUTH_MISSING;
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);

	*refused = 1;
	if (n > 0 && (size_t)n < sizeof authz && (n = lws_hdr_copy(wsi, authz, sizeof authz, WSI_TOKEN_HTTP_AUTHORIZATION)) > 0)
		r = auth_jwt_check_claims(&app->auth, authz, (size_t)n, time(NULL), &claims);
	else if (n > 0)
		r = AUTH_MALFORMED;
	if (r != AUTH_OK) {
		if (n > 0 && r != AUTH_MALFORMED)
			log_token_hint(authz, (size_t)n, hint);
		pss->close_after = is_post;   /* the body stays unread */
		return refuse_http(wsi, pss, REJECT_WEBHOOK_AUTH, HTTP_STATUS_UNAUTHORIZED, "unauthorized\n",
				   n > 0 && r != AUTH_MALFORMED ? hint : NULL);
	}
	if (claims.has_payload_hash) {
		if (is_post) {
			pss->check_hash = 1;
			memcpy(pss->payload_hash, claims.payload_hash, sizeof pss->payload_hash);
		} else if (!query_hash_matches(wsi, claims.payload_hash)) {
			return refuse_http(wsi, pss, REJECT_PAYLOAD_HASH, HTTP_STATUS_UNAUTHORIZED,
					   "payload_hash does not match\n", NULL);
		}
	}
	*refused = 0;
	return 0;
}

/* /stats, /stats.json, /metrics: loopback, or the --stats-token bearer. 1 = allowed. */
static int stats_allowed(struct lws *wsi, const struct config *cfg)
{
	struct addr a;
	char peer[ADDR_STR_MAX], authz[sizeof cfg->stats_token + 16];

	if (!server_client_addr(wsi, peer, sizeof peer, &a) && addr_is_loopback(&a))
		return 1;
	size_t tl = strlen(cfg->stats_token);
	if (!tl)
		return 0;
	int n = lws_hdr_copy(wsi, authz, sizeof authz, WSI_TOKEN_HTTP_AUTHORIZATION);
	/* constant time: the comparison must not tell how much of a guess was right */
	return n == (int)(7 + tl) && !strncasecmp(authz, "Bearer ", 7) && !CRYPTO_memcmp(authz + 7, cfg->stats_token, tl);
}

/*
 * The POST body is complete (or empty): parse and answer. The body is freed
 * before replying: a reply that completes the transaction lets lws reset
 * the session data (pss) under us, so nothing may touch pss after it.
 */
static int on_body_complete(struct lws *wsi, struct http_pss *pss)
{
	char *body = pss->body;
	const char *b = body ? body : "";
	int bad;

	pss->body = NULL;
	if (pss->check_hash && !hash_matches(pss->payload_hash, b, pss->body_len)) {
		free(body);
		return refuse_http(wsi, pss, REJECT_PAYLOAD_HASH, HTTP_STATUS_UNAUTHORIZED,
				   "payload_hash does not match\n", NULL);
	}

	if (pss->route == R_ANSWER) {
		struct call_info ci;
		bad = events_parse_answer(b, pss->body_len, &ci);
		free(body);
		return bad ? bad_body(wsi, pss, "malformed JSON body\n") : answer(wsi, pss, &ci);
	}
	struct hook_event ev;
	bad = events_parse_webhook(b, pss->body_len, &ev);
	free(body);
	return bad ? bad_body(wsi, pss, "malformed JSON body\n") : event(wsi, pss, &ev);
}

static int start_post(struct lws *wsi, struct http_pss *pss)
{
	char cl[32], *end;
	int n = lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH);

	if (n <= 0) {
		pss->close_after = 1;
		return reply_text(wsi, pss, HTTP_STATUS_LENGTH_REQUIRED, "Content-Length required\n");
	}
	unsigned long long v = strtoull(cl, &end, 10);
	if (*end || cl[0] < '0' || cl[0] > '9') {
		pss->close_after = 1;
		return reply_text(wsi, pss, HTTP_STATUS_BAD_REQUEST, "bad Content-Length\n");
	}
	if (v > HTTP_BODY_MAX) {
		pss->close_after = 1;   /* we will not read it: the connection cannot be reused */
		return bad_body(wsi, pss, "body too large\n");
	}
	if (!v)
		return on_body_complete(wsi, pss);
	pss->body = (char *)malloc((size_t)v);
	if (!pss->body)
		return -1;
	pss->body_cap = (size_t)v;
	pss->body_len = 0;
	return 0;   /* lws delivers HTTP_BODY, then HTTP_BODY_COMPLETION */
}

static int on_body(struct http_pss *pss, const void *in, size_t len)
{
	/* already answered (refused before the body): lws still hands over what
	 * was on the wire; drop it, so the answer's own body gets written before
	 * the connection closes */
	if (pss->replied && !pss->body)
		return 0;
	if (!pss->body || len > pss->body_cap - pss->body_len)
		return -1;   /* more than Content-Length promised: lws should not let this happen */
	memcpy(pss->body + pss->body_len, in, len);
	pss->body_len += len;
	return 0;
}

static int on_http(struct lws *wsi, struct http_pss *pss)
{
	struct app *app = app_from_wsi(wsi);
	char *uri;
	int ulen, m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	size_t i;

	memset(pss, 0, sizeof *pss);
	if (m < 0)
		return reply_text(wsi, pss, HTTP_STATUS_BAD_REQUEST, "bad request\n");
	/* a request we refuse may still have a body on the wire that we will
	 * not read: then the connection cannot be reused for another request */
	int has_body = m == LWSHUMETH_POST || m == LWSHUMETH_PUT || m == LWSHUMETH_PATCH;
	for (i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if ((size_t)ulen == strlen(routes[i].path) && !memcmp(uri, routes[i].path, (size_t)ulen))
			break;
	if (i == sizeof routes / sizeof routes[0]) {
		pss->close_after = has_body;
		return reply_text(wsi, pss, HTTP_STATUS_NOT_FOUND, "not found\n");
	}
	if (!(routes[i].methods & (1u << m))) {
		pss->close_after = has_body;
		return reply(wsi, pss, HTTP_STATUS_METHOD_NOT_ALLOWED, TEXT, "method not allowed\n", 19, 0,
			     routes[i].allow);
	}
	pss->route = routes[i].route;
	if (app->cfg->verify_webhooks && (pss->route == R_ANSWER || pss->route == R_EVENTS)) {
		int refused, r = verify_webhook(wsi, pss, m == LWSHUMETH_POST, &refused);
		if (refused)
			return r;
	}
	if ((pss->route == R_STATS || pss->route == R_STATS_JSON || pss->route == R_METRICS) &&
	    !stats_allowed(wsi, app->cfg))
		return refuse_http(wsi, pss, REJECT_STATS_ACCESS, HTTP_STATUS_FORBIDDEN, "forbidden\n", NULL);
	if (m == LWSHUMETH_POST)
		return start_post(wsi, pss);

	switch (pss->route) {
	case R_ANSWER: {
		struct call_info ci;
		query_arg(wsi, "uuid=", ci.uuid, sizeof ci.uuid);
		query_arg(wsi, "conversation_uuid=", ci.conversation_uuid, sizeof ci.conversation_uuid);
		query_arg(wsi, "from=", ci.from, sizeof ci.from);
		query_arg(wsi, "to=", ci.to, sizeof ci.to);
		return answer(wsi, pss, &ci);
	}
	case R_EVENTS: {
		struct hook_event ev;
		query_arg(wsi, "status=", ev.status, sizeof ev.status);
		query_arg(wsi, "uuid=", ev.uuid, sizeof ev.uuid);
		return event(wsi, pss, &ev);
	}
	case R_STATS:
	case R_STATS_JSON:
	case R_METRICS: {
		size_t n = 0;
		const char *ctype = pss->route == R_STATS_JSON ? JSON
				    : pss->route == R_METRICS  ? METRICS_CONTENT_TYPE
							       : "text/html; charset=utf-8";
		char *b = pss->route == R_STATS_JSON ? stats_render_json(&app->stats, time(NULL), &n)
			  : pss->route == R_METRICS  ? metrics_render(&app->stats, time(NULL), &n)
						     : stats_page_render(&app->stats, time(NULL), &n);
		if (!b)
			return reply_text(wsi, pss, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
		return reply(wsi, pss, HTTP_STATUS_OK, ctype, b, n, 1, NULL);
	}
	case R_HEALTHZ:
		if (app->shutting_down)
			return reply_text(wsi, pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "shutting down\n");
		return reply_text(wsi, pss, HTTP_STATUS_OK, "ok\n");
	default:
		return reply_text(wsi, pss, HTTP_STATUS_NOT_FOUND, "not found\n");
	}
}

static void release(struct http_pss *pss)
{
	free(pss->body);
	pss->body = NULL;
	if (pss->resp_owned)
		free(pss->resp);
	pss->resp = NULL;
	pss->resp_owned = 0;
}

int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct http_pss *pss = (struct http_pss *)user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:                 return on_http(wsi, pss);
	case LWS_CALLBACK_HTTP_BODY:            return on_body(pss, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return pss->replied ? 0 : on_body_complete(wsi, pss);   /* refused early: nothing to parse */
	case LWS_CALLBACK_HTTP_WRITEABLE:       return on_writeable(wsi, pss);
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: return ws_audio_confirm_upgrade(wsi, (const char *)in);
	/* connection lifetime, for the per-address connection count (server.cpp) */
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		return server_conn_filter(app_from_wsi(wsi), user);
	case LWS_CALLBACK_WSI_DESTROY:
		server_conn_destroyed(wsi);
		return 0;
	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
		return server_tls_setup(user);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (pss)
			release(pss);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}
