/*
 * webhooks.cpp -- the answer and event webhooks; see webhooks.h.
 */
#include "webhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "host.h"
#include "log.h"
#include "ncco.h"
#include "peer.h"
#include "server_state.h"
#include "vonage_msg.h"

int webhooks_query_arg(struct lws *wsi, int idx, char *buf, int cap)
{
	return lws_hdr_copy_fragment(wsi, buf, cap, WSI_TOKEN_HTTP_URI_ARGS, idx);
}

/* The answer webhook's GET query -> ci. Returns how many values were cut. */
static int answer_from_query(struct lws *wsi, struct call_info *ci)
{
	static char arg[CONFIG_HEADER_BYTES_MAX + 1];   /* one thread: no need for the stack */
	int n, cut = 0;

	memset(ci, 0, sizeof *ci);
	for (int i = 0; (n = webhooks_query_arg(wsi, i, arg, (int)sizeof arg)) >= 0; i++)
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

/* 400 for a webhook body we cannot use; `why` goes to the log and the client. */
static int bad_body(struct lws *wsi, struct http_pss *pss, const char *why)
{
	struct server *srv = server_from_wsi(wsi);
	char peer[ADDR_STR_MAX];

	peer_addr(wsi, peer, sizeof peer, NULL);
	log_limited(&srv->bad_input_log, clock_wall_s(), "%s webhook from %s: %s",
		    pss->route == ROUTE_ANSWER ? "answer" : "event", peer, why);
	return http_reply_text(wsi, pss, HTTP_STATUS_BAD_REQUEST, why);
}

static int answer(struct lws *wsi, struct http_pss *pss, const struct call_info *ci, int cut)
{
	struct server *srv = server_from_wsi(wsi);
	const struct config *cfg = srv->cfg;
	char uri[512], peer[ADDR_STR_MAX];

	peer_addr(wsi, peer, sizeof peer, NULL);
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
		return http_reply_text(wsi, pss, HTTP_STATUS_BAD_REQUEST, "malformed Host header\n");
	}
	/* each app explains itself to the caller unless the operator says otherwise */
	struct ncco_params np = { cfg->talk_text_set ? cfg->talk_text : srv->start_app->talk_text,
				  cfg->from_number, uri, cfg->rate,
				  ci->uuid, ci->from, ci->to };
	char *out = (char *)malloc(NCCO_MAX);
	if (!out)
		return http_reply_text(wsi, pss, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
	int n = ncco_build(&np, out, NCCO_MAX);
	if (n < 0) {
		free(out);
		log_err("answer: NCCO does not fit in %d bytes", NCCO_MAX);
		return http_reply_text(wsi, pss, HTTP_STATUS_INTERNAL_SERVER_ERROR, "cannot build NCCO\n");
	}
	const struct log_field lf[] = { LOG_STR("remote", peer), LOG_STR("uuid", ci->uuid),
					LOG_STR("from", ci->from), LOG_STR("to", ci->to), LOG_STR("uri", uri) };
	LOG_FIELDS(LOG_INFO, "answer", lf, "answer from %s: call %s from %s to %s -> %s", peer,
		   ci->uuid[0] ? ci->uuid : "-", ci->from[0] ? ci->from : "-", ci->to[0] ? ci->to : "-", uri);
	return http_reply(wsi, pss, HTTP_STATUS_OK, HTTP_JSON, out, (size_t)n, 1, NULL);
}

int webhooks_answer(struct lws *wsi, struct http_pss *pss, const char *body, size_t len)
{
	struct call_info ci;
	int cut;

	if (!body) {
		cut = answer_from_query(wsi, &ci);
		return answer(wsi, pss, &ci, cut);
	}
	cut = vonage_msg_parse_answer(body, len, &ci);
	return cut < 0 ? bad_body(wsi, pss, "malformed JSON body\n") : answer(wsi, pss, &ci, cut);
}

int webhooks_event(struct lws *wsi, struct http_pss *pss, const char *body, size_t len)
{
	struct server *srv = server_from_wsi(wsi);
	struct hook_event ev;

	if (body) {
		if (vonage_msg_parse_event_webhook(body, len, &ev))
			return bad_body(wsi, pss, "malformed JSON body\n");
	} else {
		static char arg[CONFIG_HEADER_BYTES_MAX + 1];
		int n;
		memset(&ev, 0, sizeof ev);
		for (int k = 0; (n = webhooks_query_arg(wsi, k, arg, (int)sizeof arg)) >= 0; k++) {
			if (n > 7 && !memcmp(arg, "status=", 7) && !ev.status[0])
				vonage_msg_sanitize(ev.status, sizeof ev.status, arg + 7, (size_t)n - 7);
			else if (n > 5 && !memcmp(arg, "uuid=", 5) && !ev.uuid[0])
				vonage_msg_sanitize(ev.uuid, sizeof ev.uuid, arg + 5, (size_t)n - 5);
		}
	}
	srv->stats.events_received++;
	stats_event_record(&srv->stats, clock_wall_s(), ev.status, ev.uuid);
	const struct log_field lf[] = { LOG_STR("status", ev.status), LOG_STR("uuid", ev.uuid) };
	LOG_FIELDS(LOG_INFO, "event_webhook", lf, "event: status %s uuid %s", ev.status[0] ? ev.status : "-",
		   ev.uuid[0] ? ev.uuid : "-");
	return http_reply(wsi, pss, HTTP_STATUS_NO_CONTENT, HTTP_TEXT, NULL, 0, 0, NULL);
}
