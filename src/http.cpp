/*
 * http.cpp -- answer webhook, event webhook, /stats, /stats.json, /metrics,
 * /healthz.
 *
 * Routing is a small table of (path, allowed methods). Every response goes
 * through reply(): status line and headers are written in the HTTP callback,
 * the body from HTTP_WRITEABLE in pieces of at most CHUNK bytes so lws never
 * has to buffer a large remainder. Bodies of POST requests are accepted only
 * with a Content-Length within HTTP_BODY_MAX (lws 4.1 would otherwise
 * expect up to 100 MiB) and without Transfer-Encoding, gathered into a
 * buffer that grows with what arrived (not with what the header promised)
 * against a deadline (--body-timeout: lws restarts its own timer at every
 * byte, so a trickle would hold the connection for ever), and parsed once
 * complete. The operator's actions (/admin/, admin.h) share the same path.
 */
#include "http.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "admin.h"
#include "calls.h"
#include "vonage_msg.h"
#include "host.h"
#include "metrics.h"
#include "ncco.h"
#include "server_state.h"
#include "peer.h"
#include "tls_server.h"
#include "stats_page.h"
#include "ws_audio.h"

#define CHUNK 16384

enum route { R_NONE = 0, R_ANSWER, R_EVENTS, R_STATS, R_STATS_JSON, R_HEALTHZ, R_METRICS,
	     R_ADMIN_HANGUP, R_ADMIN_BLOCK, R_ADMIN_UNBLOCK, R_ADMIN_BLOCKS };

static_assert(ADMIN_HANGUP == 0 && ADMIN_BLOCK == 1 && ADMIN_UNBLOCK == 2 && ADMIN__COUNT == STATS_ADMIN_OPS,
	      "stats counts admin actions in enum admin_op's order");

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
	{ "/admin/hangup", R_ADMIN_HANGUP, M_POST, "POST" },
	{ "/admin/block", R_ADMIN_BLOCK, M_POST, "POST" },
	{ "/admin/unblock", R_ADMIN_UNBLOCK, M_POST, "POST" },
	{ "/admin/blocks", R_ADMIN_BLOCKS, M_GET, "GET" },
};

static int is_admin(int route)
{
	return route >= R_ADMIN_HANGUP && route <= R_ADMIN_BLOCKS;
}

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

/*
 * Query argument idx, "name=value" as lws decoded it, into buf (which holds
 * any header block lws accepts). Its length, or -1 past the last one.
 * lws_get_urlarg_by_name() is not used: it stops at the first argument
 * longer than its buffer, silently losing every one after it.
 */
static int query_arg_at(struct lws *wsi, int idx, char *buf, int cap)
{
	return lws_hdr_copy_fragment(wsi, buf, cap, WSI_TOKEN_HTTP_URI_ARGS, idx);
}

/* The answer webhook's GET query -> ci. Returns how many values were cut. */
static int answer_from_query(struct lws *wsi, struct call_info *ci)
{
	static char arg[CONFIG_HEADER_BYTES_MAX + 1];   /* one thread: no need for the stack */
	int n, cut = 0;

	memset(ci, 0, sizeof *ci);
	for (int i = 0; (n = query_arg_at(wsi, i, arg, (int)sizeof arg)) >= 0; i++)
		cut += vonage_msg_answer_arg(ci, arg, (size_t)n);
	return cut;
}

/* The NCCO's WebSocket URI from this request (host_ws_uri has the rule). */
static int ws_uri(struct lws *wsi, const struct config *cfg, char *out, size_t cap)
{
	char host[HOST_MAX + 2], proto[16];
	int n = cfg->public_base[0] ? 0 : lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST);
	int p = lws_hdr_custom_copy(wsi, proto, sizeof proto, "x-forwarded-proto:", 18);

	return host_ws_uri(cfg->public_base, cfg->public_secure, host, n > 0 ? (size_t)n : 0, lws_is_ssl(wsi),
			   p > 0 ? proto : NULL, out, cap) < 0 ? -1 : 0;
}

static int refuse_http(struct lws *wsi, struct http_pss *pss, int reason, unsigned status, const char *why,
		       const char *hint);

static int answer(struct lws *wsi, struct http_pss *pss, const struct call_info *ci, int cut)
{
	struct server *srv = server_from_wsi(wsi);
	const struct config *cfg = srv->cfg;
	char uri[512], peer[ADDR_STR_MAX];

	peer_addr(wsi, peer, sizeof peer, NULL);
	/* draining alone: the socket the NCCO names would refuse the call */
	if (srv->draining && !cfg->reuse_port)
		return refuse_http(wsi, pss, REJECT_SHUTTING_DOWN, HTTP_STATUS_SERVICE_UNAVAILABLE, "draining\n", NULL);
	if (cut) {
		/* the call goes on with what fits: uuid, from and to are short in
		 * every real Vonage request, so this is a client sending junk */
		srv->stats.params_truncated += (uint64_t)cut;
		log_limited(&srv->bad_input_log, clock_wall_s(), "answer from %s: %d value(s) longer than %d bytes, cut",
			    peer, cut, VONAGE_UUID_MAX - 1);
	}
	if (ws_uri(wsi, cfg, uri, sizeof uri)) {
		log_limited(&srv->bad_input_log, clock_wall_s(), "answer from %s: missing or malformed Host header",
			    peer);
		return reply_text(wsi, pss, HTTP_STATUS_BAD_REQUEST, "malformed Host header\n");
	}
	/* each app explains itself to the caller unless the operator says otherwise */
	struct ncco_params np = { cfg->talk_text_set ? cfg->talk_text : srv->start_app->talk_text,
				  cfg->from_number, uri, cfg->rate,
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
	struct server *srv = server_from_wsi(wsi);
	srv->stats.events_received++;
	stats_event_record(&srv->stats, clock_wall_s(), ev->status, ev->uuid);
	const struct log_field lf[] = { LOG_STR("status", ev->status), LOG_STR("uuid", ev->uuid) };
	LOG_FIELDS(LOG_INFO, "event_webhook", lf, "event: status %s uuid %s", ev->status[0] ? ev->status : "-",
		   ev->uuid[0] ? ev->uuid : "-");
	return reply(wsi, pss, HTTP_STATUS_NO_CONTENT, TEXT, NULL, 0, 0, NULL);
}

/* 400 for a webhook body we cannot use; `why` goes to the log and the client. */
static int bad_body(struct lws *wsi, struct http_pss *pss, const char *why)
{
	struct server *srv = server_from_wsi(wsi);
	char peer[ADDR_STR_MAX];
	peer_addr(wsi, peer, sizeof peer, NULL);
	log_limited(&srv->bad_input_log, clock_wall_s(), "%s webhook from %s: %s",
		    pss->route == R_ANSWER ? "answer" : "event", peer, why);
	return reply_text(wsi, pss, HTTP_STATUS_BAD_REQUEST, why);
}

/* ---- guards: signed webhooks, stats access ------------------------------ */

static const char *route_name(int route)
{
	switch (route) {
	case R_ANSWER: return "answer webhook";
	case R_EVENTS: return "event webhook";
	case R_STATS: case R_STATS_JSON: case R_METRICS: return "stats";
	case R_ADMIN_HANGUP: case R_ADMIN_BLOCK: case R_ADMIN_UNBLOCK: case R_ADMIN_BLOCKS: return "admin";
	default: return "request";
	}
}

/* A refusal: counted and charged to the client (peer_refused), logged (rate-limited). */
static int refuse_http(struct lws *wsi, struct http_pss *pss, int reason, unsigned status, const char *why,
		       const char *hint)
{
	struct server *srv = server_from_wsi(wsi);
	char peer[ADDR_STR_MAX];
	struct addr client;

	peer_addr(wsi, peer, sizeof peer, &client);
	peer_refused(srv, &client, reason);
	const struct log_field lf[] = { LOG_STR("remote", peer), LOG_STR("reason", refusal_name(reason)),
					LOG_NUM("status", status) };
	peer_log(srv, &srv->reject_log, &client, lf, sizeof lf / sizeof lf[0],
			   "refused %s from %s: %s (HTTP %u)%s%s", route_name(pss->route), peer,
			   refusal_name(reason), status, hint ? " token " : "", hint ? hint : "");
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
	static char frag[CONFIG_HEADER_BYTES_MAX + 1];
	int idx = 0, ok = 0;
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return 0;
	while (query_arg_at(wsi, idx, frag, (int)sizeof frag) >= 0) {
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
 * Spend the webhook token's jti (the replay table is the WebSocket's too:
 * Vonage signs both kinds alike, so a token is good for one use, either
 * one). 0 = first use, else the refusal's result.
 */
static int spend_jti(struct lws *wsi, struct http_pss *pss, const char *jti, long long expires, int *refused)
{
	struct server *srv = server_from_wsi(wsi);

	*refused = 1;
	if (!jti[0])
		return refuse_http(wsi, pss, REJECT_MISSING_JTI, HTTP_STATUS_UNAUTHORIZED, "token has no jti\n", NULL);
	switch (replay_store_check(&srv->replay, jti, strlen(jti), clock_wall_s(), (time_t)expires)) {
	case REPLAY_NEW:
		*refused = 0;
		return 0;
	case REPLAY_SEEN:
		return refuse_http(wsi, pss, REJECT_REPLAY, HTTP_STATUS_UNAUTHORIZED, "token already used\n", NULL);
	case REPLAY_UNAVAILABLE:
		return refuse_http(wsi, pss, REJECT_REPLAY_UNAVAILABLE, HTTP_STATUS_SERVICE_UNAVAILABLE,
				   "try again later\n", NULL);
	case REPLAY_FULL:
	default:
		return refuse_http(wsi, pss, REJECT_REPLAY_FULL, HTTP_STATUS_SERVICE_UNAVAILABLE, "try again later\n",
				   NULL);
	}
}

/*
 * --verify-webhooks: the request must carry Vonage's signed JWT. Returns 0
 * to go on, or the result of the refusal. A GET is checked whole here
 * (query against payload_hash, jti spent). A POST with a body must name
 * its payload_hash; the body is checked against it, and only then the jti
 * spent, in on_body_complete(): a body that does not match must not use up
 * the genuine request's token.
 */
static int verify_webhook(struct lws *wsi, struct http_pss *pss, int is_post, int *refused)
{
	struct server *srv = server_from_wsi(wsi);
	const struct config *cfg = srv->cfg;
	char authz[AUTH_TOKEN_MAX + 64], hint[9], cl[32];
	struct auth_claims claims;
	enum auth_result r = AUTH_MISSING;
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);

	*refused = 1;
	if (n > 0 && (size_t)n < sizeof authz && (n = lws_hdr_copy(wsi, authz, sizeof authz, WSI_TOKEN_HTTP_AUTHORIZATION)) > 0)
		r = auth_jwt_check_claims(&srv->auth, authz, (size_t)n, clock_wall_s(), &claims);
	else if (n > 0)
		r = AUTH_MALFORMED;
	if (r != AUTH_OK) {
		if (n > 0 && r != AUTH_MALFORMED)
			log_token_hint(authz, (size_t)n, hint);
		pss->close_after = is_post;   /* the body stays unread */
		return refuse_http(wsi, pss, REJECT_WEBHOOK_AUTH, HTTP_STATUS_UNAUTHORIZED, "unauthorized\n",
				   n > 0 && r != AUTH_MALFORMED ? hint : NULL);
	}
	long long expires = claims.iat + cfg->jwt_max_age_s + cfg->jwt_leeway_s;
	if (is_post) {
		int has_body = lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 && strcmp(cl, "0");
		if (has_body && !claims.has_payload_hash) {
			/* without it the token would vouch for any body at all */
			pss->close_after = 1;
			return refuse_http(wsi, pss, REJECT_MISSING_PAYLOAD_HASH, HTTP_STATUS_UNAUTHORIZED,
					   "token has no payload_hash for the body\n", NULL);
		}
		pss->check_hash = claims.has_payload_hash;
		memcpy(pss->payload_hash, claims.payload_hash, sizeof pss->payload_hash);
		memcpy(pss->jti, claims.jti, sizeof pss->jti);
		pss->jti_expires = expires;
		*refused = 0;
		return 0;
	}
	if (claims.has_payload_hash && !query_hash_matches(wsi, claims.payload_hash))
		return refuse_http(wsi, pss, REJECT_PAYLOAD_HASH, HTTP_STATUS_UNAUTHORIZED,
				   "payload_hash does not match\n", NULL);
	return spend_jti(wsi, pss, claims.jti, expires, refused);
}

/* Authorization: Bearer <token>, compared in constant time: the comparison
 * must not tell how much of a guess was right. */
static int bearer_is(struct lws *wsi, const char *token)
{
	char authz[160];
	size_t tl = strlen(token);

	if (!tl || tl + 8 > sizeof authz)
		return 0;
	int n = lws_hdr_copy(wsi, authz, sizeof authz, WSI_TOKEN_HTTP_AUTHORIZATION);
	return n == (int)(7 + tl) && !strncasecmp(authz, "Bearer ", 7) && !CRYPTO_memcmp(authz + 7, token, tl);
}

/*
 * The operator at this host, without a token: the TCP peer itself is
 * loopback, nothing was forwarded (peer_is_local), and the Host header is a
 * loopback name. The last part closes DNS rebinding: a web page of
 * evil.example whose name now points at 127.0.0.1 is a loopback peer in
 * the browser of anyone on this host (or at the end of an SSH tunnel), but
 * its requests still say "Host: evil.example".
 */
static int operator_here(struct lws *wsi, const struct peer *who)
{
	char host[HOST_MAX + 2];
	int n;

	if (!who->local)
		return 0;
	n = lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST);
	return n > 0 && host_is_loopback_name(host, (size_t)n);
}

/* /stats, /stats.json, /metrics: the operator here, or the --stats-token bearer. 1 = allowed. */
static int stats_allowed(struct lws *wsi, const struct config *cfg, const struct peer *who)
{
	return operator_here(wsi, who) || bearer_is(wsi, cfg->stats_token);
}

/*
 * /admin/: the --admin-token bearer from anywhere (the stats token never
 * opens it), or the operator here without one (operator_here). That way is
 * also closed to any request with an Origin header: no web page a browser
 * on this host shows can act for it. 0 = allowed, else why not.
 */
static const char *admin_refusal(struct lws *wsi, const struct config *cfg, const struct peer *who, int *loopback)
{
	*loopback = 0;
	if (bearer_is(wsi, cfg->admin_token))
		return NULL;
	if (!who->local)
		return cfg->admin_token[0] ? "admin token required"
		       : who->proxied ? "admin API is for loopback clients only, never through a proxy"
				      : "admin API is for loopback clients only";
	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0)
		return "request from a web page (Origin): send the admin token";
	if (!operator_here(wsi, who))
		return "Host is not a loopback name: send the admin token";
	*loopback = 1;
	return NULL;
}

/* 400/404/413/415/503 from an admin action: {"error": why}. */
static int admin_error(struct lws *wsi, struct http_pss *pss, unsigned status, const char *why)
{
	char *out = NULL;
	cJSON *o = cJSON_CreateObject();

	/* a request refused for what it is (not a strike: only the operator gets this far) */
	if (status == HTTP_STATUS_BAD_REQUEST || status == HTTP_STATUS_REQ_ENTITY_TOO_LARGE ||
	    status == HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE)
		server_from_wsi(wsi)->stats.rejected[REJECT_ADMIN_BAD_REQUEST]++;

	if (o && cJSON_AddStringToObject(o, "error", why))
		out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!out)
		return reply_text(wsi, pss, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
	return reply(wsi, pss, status, JSON, out, strlen(out), 1, NULL);
}

/* Log, count and remember one operator action; answer 200 with `o` (consumed). */
static int admin_done(struct lws *wsi, struct http_pss *pss, int op, const char *target, const char *result,
		      cJSON *o)
{
	struct server *srv = server_from_wsi(wsi);
	char peer[ADDR_STR_MAX];
	char *out = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	peer_addr(wsi, peer, sizeof peer, NULL);
	stats_admin_record(&srv->stats, clock_wall_s(), op, admin_op_str(op), target, peer, result);
	const struct log_field lf[] = { LOG_STR("action", admin_op_str(op)), LOG_STR("target", target),
					LOG_STR("by", peer), LOG_STR("result", result) };
	LOG_FIELDS(LOG_WARN, "admin_action", lf, "admin: %s %s by %s: %s", admin_op_str(op), target, peer, result);
	if (!out)
		return reply_text(wsi, pss, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
	return reply(wsi, pss, HTTP_STATUS_OK, JSON, out, strlen(out), 1, NULL);
}

static int admin_action(struct lws *wsi, struct http_pss *pss, const char *body, size_t len)
{
	struct server *srv = server_from_wsi(wsi);
	enum admin_op op = pss->route == R_ADMIN_HANGUP ? ADMIN_HANGUP
			   : pss->route == R_ADMIN_BLOCK ? ADMIN_BLOCK : ADMIN_UNBLOCK;
	struct admin_req rq;
	char err[160], target[80], result[80], peer[ADDR_STR_MAX];
	uint64_t first = 0;
	time_t now = clock_wall_s();
	cJSON *o;

	if (admin_parse(op, body, len, &rq, err, sizeof err)) {
		peer_addr(wsi, peer, sizeof peer, NULL);
		log_limited(&srv->bad_input_log, now, "admin %s from %s: %s", admin_op_str(op), peer, err);
		return admin_error(wsi, pss, HTTP_STATUS_BAD_REQUEST, err);
	}
	if (op == ADMIN_HANGUP) {
		if (rq.call)
			snprintf(target, sizeof target, "call %llu", (unsigned long long)rq.call);
		else
			snprintf(target, sizeof target, "uuid %s", rq.uuid);
		int n = calls_hangup_matching(&srv->calls, rq.call, rq.uuid, NULL, rq.code, "closed by the operator", &first);
		if (!n)
			return admin_error(wsi, pss, HTTP_STATUS_NOT_FOUND, "no open call matches");
		snprintf(result, sizeof result, "%d call(s) closed with %d", n, rq.code);
		o = cJSON_CreateObject();
		if (o && !(cJSON_AddNumberToObject(o, "hung_up", n) && cJSON_AddNumberToObject(o, "call", (double)first) &&
			   cJSON_AddNumberToObject(o, "code", rq.code)))
			cJSON_Delete(o), o = NULL;
		return admin_done(wsi, pss, op, target, result, o);
	}
	cidr_format(&rq.net, target, sizeof target);
	if (op == ADMIN_UNBLOCK) {
		if (block_remove(&srv->blocks, &rq.net))
			return admin_error(wsi, pss, HTTP_STATUS_NOT_FOUND, "not blocked (give the CIDR as listed)");
		o = cJSON_CreateObject();
		if (o && !cJSON_AddStringToObject(o, "unblocked", target))
			cJSON_Delete(o), o = NULL;
		return admin_done(wsi, pss, op, target, "unblocked", o);
	}
	peer_addr(wsi, peer, sizeof peer, NULL);
	time_t expires = rq.seconds ? now + rq.seconds : 0;
	enum block_add_result br = block_add(&srv->blocks, &rq.net, now, expires, BLOCK_MANUAL,
					     rq.reason[0] ? rq.reason : "operator", peer);
	if (br == BLOCK_FULL)
		return admin_error(wsi, pss, HTTP_STATUS_SERVICE_UNAVAILABLE,
				   "block table full of the operator's blocks: unblock some first");
	int n = rq.hangup ? calls_hangup_matching(&srv->calls, 0, NULL, &rq.net, LWS_CLOSE_STATUS_POLICY_VIOLATION,
						  "closed by the operator", &first) : 0;
	if (expires) {
		char until[32];
		stats_iso8601(expires, until, sizeof until);
		snprintf(result, sizeof result, "until %s, %d call(s) closed", until, n);
	} else {
		snprintf(result, sizeof result, "until unblocked, %d call(s) closed", n);
	}
	o = cJSON_CreateObject();
	if (o && !(cJSON_AddStringToObject(o, "blocked", target) && cJSON_AddNumberToObject(o, "expires", (double)expires) &&
		   cJSON_AddBoolToObject(o, "updated", br == BLOCK_UPDATED) && cJSON_AddNumberToObject(o, "hung_up", n)))
		cJSON_Delete(o), o = NULL;
	return admin_done(wsi, pss, op, target, result, o);
}

static void body_deadline_cancel(struct http_pss *pss)
{
	lws_sul_cancel(&pss->body_sul);
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
	int bad, refused;

	body_deadline_cancel(pss);
	pss->body = NULL;
	if (pss->check_hash && !hash_matches(pss->payload_hash, b, pss->body_len)) {
		free(body);
		return refuse_http(wsi, pss, REJECT_PAYLOAD_HASH, HTTP_STATUS_UNAUTHORIZED,
				   "payload_hash does not match\n", NULL);
	}
	if (pss->spend_jti) {
		int r = spend_jti(wsi, pss, pss->jti, pss->jti_expires, &refused);
		if (refused) {
			free(body);
			return r;
		}
	}

	if (is_admin(pss->route)) {
		int r = admin_action(wsi, pss, b, pss->body_len);
		free(body);
		return r;
	}
	if (pss->route == R_ANSWER) {
		struct call_info ci;
		bad = vonage_msg_parse_answer(b, pss->body_len, &ci);
		free(body);
		return bad < 0 ? bad_body(wsi, pss, "malformed JSON body\n") : answer(wsi, pss, &ci, bad);
	}
	struct hook_event ev;
	bad = vonage_msg_parse_event_webhook(b, pss->body_len, &ev);
	free(body);
	return bad ? bad_body(wsi, pss, "malformed JSON body\n") : event(wsi, pss, &ev);
}

/*
 * --body-timeout passed with the body still incomplete. lws restarts its
 * own timer (PENDING_TIMEOUT_HTTP_CONTENT) at every byte of body, so this
 * deadline is ours, fixed when the headers ended. Runs outside any of the
 * connection's callbacks: answer 408 in one small write (nothing else was
 * sent on this request) and have lws close the connection; on_body()
 * refuses whatever still arrives meanwhile.
 */
static void body_deadline(lws_sorted_usec_list_t *sul)
{
	struct http_pss *pss = lws_container_of(sul, struct http_pss, body_sul);
	struct lws *wsi = pss->wsi;
	struct server *srv = server_from_wsi(wsi);
	static const char resp[] = "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\n"
				   "Content-Length: 16\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
				   "request timeout\n";
	uint8_t buf[LWS_PRE + sizeof resp];
	char peer[ADDR_STR_MAX];
	struct addr client;

	pss->timed_out = 1;
	free(pss->body);
	pss->body = NULL;
	peer_addr(wsi, peer, sizeof peer, &client);
	peer_refused(srv, &client, REJECT_BODY_TIMEOUT);
	const struct log_field lf[] = { LOG_STR("remote", peer), LOG_STR("reason", "body_timeout"), LOG_NUM("status", 408) };
	peer_log(srv, &srv->reject_log, &client, lf, sizeof lf / sizeof lf[0],
			   "refused %s from %s: body_timeout (HTTP 408, %zu of %zu bytes in %d s)",
			   route_name(pss->route), peer, pss->body_len, pss->body_expect, srv->cfg->body_timeout_s);
	memcpy(&buf[LWS_PRE], resp, sizeof resp - 1);
	if (lws_write(wsi, &buf[LWS_PRE], sizeof resp - 1, LWS_WRITE_HTTP_HEADERS) != (int)sizeof resp - 1)
		log_debug("408: short write");
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static int start_post(struct lws *wsi, struct http_pss *pss)
{
	struct server *srv = server_from_wsi(wsi);
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
	if (v > (is_admin(pss->route) ? ADMIN_BODY_MAX : HTTP_BODY_MAX)) {
		pss->close_after = 1;   /* we will not read it: the connection cannot be reused */
		if (is_admin(pss->route))
			return admin_error(wsi, pss, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "body too large");
		return bad_body(wsi, pss, "body too large\n");
	}
	if (!v)
		return on_body_complete(wsi, pss);
	/* memory for what arrives, not for what the header claims */
	pss->body_expect = (size_t)v;
	pss->body_cap = v < HTTP_BODY_FIRST ? (size_t)v : HTTP_BODY_FIRST;
	pss->body = (char *)malloc(pss->body_cap);
	if (!pss->body)
		return -1;
	pss->body_len = 0;
	pss->wsi = wsi;
	lws_sul_schedule(srv->ctx, 0, &pss->body_sul, body_deadline,
			 (lws_usec_t)srv->cfg->body_timeout_s * LWS_US_PER_SEC);
	return 0;   /* lws delivers HTTP_BODY, then HTTP_BODY_COMPLETION */
}

static int on_body(struct http_pss *pss, const void *in, size_t len)
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

static int render_stats(struct lws *wsi, struct http_pss *pss)
{
	struct server *srv = server_from_wsi(wsi);
	struct stats_view view;
	size_t n = 0;

	stats_view_default(&view);
	if (pss->route == R_STATS || pss->route == R_STATS_JSON) {
		static char arg[CONFIG_HEADER_BYTES_MAX + 1];   /* any argument lws accepted */
		const char *why = NULL;
		int l;
		for (int k = 0; (l = query_arg_at(wsi, k, arg, (int)sizeof arg)) >= 0; k++)
			if (stats_view_arg(&view, arg, (size_t)l, &why))
				break;
		if (why) {
			char msg[160], peer[ADDR_STR_MAX];
			srv->stats.rejected[REJECT_STATS_BAD_QUERY]++;   /* not a strike: a stats reader's typo */
			peer_addr(wsi, peer, sizeof peer, NULL);
			log_limited(&srv->bad_input_log, clock_wall_s(), "%s from %s: %s",
				    pss->route == R_STATS ? "/stats" : "/stats.json", peer, why);
			snprintf(msg, sizeof msg, "%s\n", why);
			return reply_text(wsi, pss, HTTP_STATUS_BAD_REQUEST, msg);
		}
	}
	/* counters their owners keep, read now */
	srv->stats.log_suppressed = srv->reject_log.suppressed_total + srv->limit_log.suppressed_total;
	srv->stats.pending_evicted = srv->conns.evicted;
	srv->stats.clients_evicted = srv->guard.evicted;
		const char *ctype = pss->route == R_STATS_JSON ? JSON
			    : pss->route == R_METRICS  ? METRICS_CONTENT_TYPE
			    : pss->route == R_ADMIN_BLOCKS ? JSON
						       : "text/html; charset=utf-8";
	time_t now = clock_wall_s();
	char *b = pss->route == R_STATS_JSON ? stats_render_json_view(&srv->stats, &srv->calls, &srv->blocks, &view, now, &n)
		  : pss->route == R_METRICS  ? metrics_render(&srv->stats, &srv->calls, &srv->blocks, now, &n)
		  : pss->route == R_ADMIN_BLOCKS ? block_render_json(&srv->blocks, now, &n)
						 : stats_page_render_view(&srv->stats, &srv->calls, &srv->blocks, &view, now, &n);
	if (!b)
		return reply_text(wsi, pss, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
	return reply(wsi, pss, HTTP_STATUS_OK, ctype, b, n, 1, NULL);
}

static int on_http(struct lws *wsi, struct http_pss *pss)
{
	struct server *srv = server_from_wsi(wsi);
	char *uri;
	int ulen, m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	size_t i;

	body_deadline_cancel(pss);   /* a keep-alive connection's previous request */
	memset(pss, 0, sizeof *pss);
	if (m < 0)
		return reply_text(wsi, pss, HTTP_STATUS_BAD_REQUEST, "bad request\n");
	struct peer who;
	peer_identify(wsi, &who);
	peer_note_request(srv, &who);
	/* a request we refuse may still have a body on the wire that we will
	 * not read: then the connection cannot be reused for another request */
	int has_body = m == LWSHUMETH_POST || m == LWSHUMETH_PUT || m == LWSHUMETH_PATCH;

	/*
	 * We read bodies by Content-Length only (lws 4.1.6 has no chunked
	 * request decoding). With Transfer-Encoding the request is ambiguous:
	 * a proxy that honours it sees other request boundaries than we do,
	 * so chunk data could be run here as a request of its own -- carrying
	 * its own X-Forwarded-For (RFC 9112 6.3). Refuse, and close.
	 */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
		pss->close_after = 1;
		int with_cl = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
		return refuse_http(wsi, pss, REJECT_TRANSFER_ENCODING,
				   with_cl ? HTTP_STATUS_BAD_REQUEST : HTTP_STATUS_LENGTH_REQUIRED,
				   with_cl ? "Transfer-Encoding with Content-Length\n"
					   : "Transfer-Encoding not supported: send Content-Length\n", NULL);
	}
	for (i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if ((size_t)ulen == strlen(routes[i].path) && !memcmp(uri, routes[i].path, (size_t)ulen))
			break;
	/* a blocked loopback or proxied client (others never get this far):
	 * everything but /admin/ from the operator's own host, so the operator
	 * can unblock */
	if (srv->blocks.n && peer_blocked(srv, &who.client) &&
	    !(i < sizeof routes / sizeof routes[0] && is_admin(routes[i].route) && who.local)) {
		pss->close_after = has_body;
		return refuse_http(wsi, pss, REJECT_BLOCKED, HTTP_STATUS_FORBIDDEN, "forbidden\n", NULL);
	}
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
	if (srv->cfg->verify_webhooks && (pss->route == R_ANSWER || pss->route == R_EVENTS)) {
		int refused, r = verify_webhook(wsi, pss, m == LWSHUMETH_POST, &refused);
		if (refused)
			return r;
		pss->spend_jti = m == LWSHUMETH_POST;
	}
	if ((pss->route == R_STATS || pss->route == R_STATS_JSON || pss->route == R_METRICS) &&
	    !stats_allowed(wsi, srv->cfg, &who))
		return refuse_http(wsi, pss, REJECT_STATS_ACCESS, HTTP_STATUS_FORBIDDEN, "forbidden\n", NULL);
	if (is_admin(pss->route)) {
		const char *why = admin_refusal(wsi, srv->cfg, &who, &pss->admin_loopback);
		char ct[64];
		if (why) {
			pss->close_after = has_body;
			char msg[96];
			snprintf(msg, sizeof msg, "forbidden: %s\n", why);
			return refuse_http(wsi, pss, REJECT_ADMIN_ACCESS, HTTP_STATUS_FORBIDDEN, msg, NULL);
		}
		/* JSON only: an HTML form (any site's) cannot send it */
		if (m == LWSHUMETH_POST && (lws_hdr_copy(wsi, ct, sizeof ct, WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0 ||
					    strncasecmp(ct, "application/json", 16) || (ct[16] && ct[16] != ';'))) {
			pss->close_after = 1;
			return admin_error(wsi, pss, HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE,
					   "Content-Type must be application/json");
		}
	}
	if (m == LWSHUMETH_POST)
		return start_post(wsi, pss);

	switch (pss->route) {
	case R_ANSWER: {
		struct call_info ci;
		int cut = answer_from_query(wsi, &ci);
		return answer(wsi, pss, &ci, cut);
	}
	case R_EVENTS: {
		static char arg[CONFIG_HEADER_BYTES_MAX + 1];
		struct hook_event ev;
		int n;
		memset(&ev, 0, sizeof ev);
		for (int k = 0; (n = query_arg_at(wsi, k, arg, (int)sizeof arg)) >= 0; k++) {
			if (n > 7 && !memcmp(arg, "status=", 7) && !ev.status[0])
				vonage_msg_sanitize(ev.status, sizeof ev.status, arg + 7, (size_t)n - 7);
			else if (n > 5 && !memcmp(arg, "uuid=", 5) && !ev.uuid[0])
				vonage_msg_sanitize(ev.uuid, sizeof ev.uuid, arg + 5, (size_t)n - 5);
		}
		return event(wsi, pss, &ev);
	}
	case R_STATS:
	case R_STATS_JSON:
	case R_METRICS:
	case R_ADMIN_BLOCKS:
		return render_stats(wsi, pss);
	case R_HEALTHZ:
		/* a load balancer takes this process out while its calls finish */
		if (srv->shutting_down)
			return reply_text(wsi, pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "shutting down\n");
		if (srv->draining)
			return reply_text(wsi, pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "draining\n");
		return reply_text(wsi, pss, HTTP_STATUS_OK, "ok\n");
	default:
		return reply_text(wsi, pss, HTTP_STATUS_NOT_FOUND, "not found\n");
	}
}

static void release(struct http_pss *pss)
{
	body_deadline_cancel(pss);
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
		/* refused early, or out of time: nothing to parse */
		return pss->replied || pss->timed_out ? 0 : on_body_complete(wsi, pss);
	case LWS_CALLBACK_HTTP_WRITEABLE:       return on_writeable(wsi, pss);
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
			release(pss);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}
