/*
 * ws_audio.cpp -- the audio WebSocket that Vonage opens after our NCCO: the
 * transport under the voice apps (voice.h).
 *
 * Handshake: HTTP_CONFIRM_UPGRADE checks the client address's limits
 * (guard), path, Origin, capacity, the Authorization JWT (auth_jwt) and its
 * jti (replay) and refuses with an HTTP status before the 101 -- an
 * unauthenticated client never gets a WebSocket.
 * In: RECEIVE hands each fragment to audio_msg, which appends binary ones
 * into the receive slot of pss->ring (one copy, no malloc); a complete
 * frame goes to the call's voice app (voice_frame), which echoes it (the
 * slot joins the send queue), or uses it and sends audio of its own. Text
 * messages are small JSON events: parsed here (stats, logs) and handed to
 * the app (voice_event_in). Apps that pace their output get a 20 ms tick
 * from one per-vhost timer (tick_all_cb).
 * Out: whenever the app queues something the connection goes on the
 * vhost's flush list (lws per-vhost data, an lws_dll2 list), and at the end
 * of the event-loop pass flush_all_cb sends each listed connection's queue
 * straight from its slots (the slot's headroom is lws's LWS_PRE), corked
 * into one TCP segment when there are several. Only when lws still holds
 * unsent bytes for a socket (the peer is not reading) do messages wait for
 * WRITEABLE, one lws_write per callback. If the queue fills meanwhile, the
 * oldest frame is dropped and counted: the caller hears a 20 ms gap instead
 * of ever-growing latency.
 */
#include "ws_audio.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "apps.h"
#include "admission.h"
#include "audio_msg.h"
#include "call_rules.h"
#include "calls.h"
#include "vonage_msg.h"
#include "quality.h"
#include "ring.h"
#include "server_state.h"
#include "peer.h"
#include "voice.h"

static_assert(RING_HEADROOM >= LWS_PRE, "ring headroom must fit lws's LWS_PRE");

/*
 * lws_write()'s opcode for a close frame. lws 4.1.6 keeps it private
 * (lib/roles/ws/private-lib-roles-ws.h: "#define LWS_WRITE_CLOSE 4"; the
 * public header says lws_close_reason() handles closes) but its ws writer
 * takes it from any caller. We need it to answer a peer's close frame at
 * once (on_peer_close). Pinned to the Debian package's lws; the close
 * tests in test_attack_round2.py fail if it ever means something else.
 */
#define WRITE_CLOSE ((enum lws_write_protocol)4)

/*
 * The protocol's per-vhost data (lws allocates it at PROTOCOL_INIT): the
 * connections with frames to send at the end of this event-loop pass.
 */
struct audio_vhd {
	struct lws_context    *ctx;
	lws_dll2_owner_t       flush;       /* struct audio_pss, by flush_link */
	lws_sorted_usec_list_t flush_sul;
	int                    flush_scheduled;
	lws_dll2_owner_t       tickers;     /* calls whose app wants a 20 ms tick, by tick_link */
	lws_sorted_usec_list_t tick_sul;
	int                    tick_scheduled;
};

#define APP_TICK_US (VOICE_FRAME_MS * 1000)

/*
 * The session data: the call's record (calls.h: counters, rules, ring,
 * voice app, client -- all of it), then what only this transport needs.
 */
struct audio_pss {
	struct call       call;
	struct lws       *wsi;         /* for the end-of-batch flush */
	struct audio_vhd *vhd;
	lws_dll2_t        flush_link;  /* on vhd->flush while frames wait for the pass's end */
	lws_dll2_t        tick_link;   /* on vhd->tickers while the app wants ticks */
	struct audio_msg_text text;    /* fragmented text message being gathered */
	uint8_t           opened;      /* ESTABLISHED ran (the call is in srv->calls) */
	alignas(8) uint32_t ring_order[]; /* ring_order_size(slots); the slots themselves are srv->pool's */
};

size_t ws_audio_pss_size(const struct config *cfg)
{
	return sizeof(struct audio_pss) + ring_order_size(cfg->ring_slots);
}

size_t ws_audio_rx_buffer_size(const struct config *cfg)
{
	/* one frame: lws reads at most this much per wakeup, and a bigger
	 * message arrives in pieces that on_binary() reassembles */
	return cfg->slot_bytes < 1024 ? 1024 : cfg->slot_bytes;
}

size_t ws_audio_conn_bytes(const struct config *cfg)
{
	/* lws allocates the rx buffer with LWS_PRE and 4 bytes of slack */
	return ws_audio_pss_size(cfg) + ws_audio_rx_buffer_size(cfg) + LWS_PRE + 4;
}

/* ---- handshake --------------------------------------------------------- */

/*
 * Answer a refused upgrade with a complete HTTP/1.1 response and close.
 * lws_return_http_status() is not usable here: lws learns the request's HTTP
 * version only for plain requests, so for an upgrade it answers "HTTP/1.0",
 * which strict WebSocket clients reject as "not a valid HTTP response"
 * instead of reporting the status. The response is tiny and sent at once on
 * a fresh connection; returning 1 lets lws finish and close (no keep-alive).
 */
static int send_refusal(struct lws *wsi, unsigned status)
{
	static const struct { unsigned code; const char *line, *extra, *body; } r[] = {
		{ 400, "400 Bad Request", "", "bad request\n" },
		{ 401, "401 Unauthorized", "WWW-Authenticate: Bearer\r\n", "unauthorized\n" },
		{ 403, "403 Forbidden", "", "forbidden\n" },
		{ 404, "404 Not Found", "", "not found\n" },
		{ 429, "429 Too Many Requests", "Retry-After: 1\r\n", "too many requests\n" },
		{ 503, "503 Service Unavailable", "Retry-After: 5\r\n", "unavailable\n" },
	};
	uint8_t buf[LWS_PRE + 512];
	size_t i = 0;

	while (i < sizeof r / sizeof r[0] - 1 && r[i].code != status)
		i++;
	int n = snprintf((char *)&buf[LWS_PRE], sizeof buf - LWS_PRE,
			 "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s"
			 "Cache-Control: no-store\r\nConnection: close\r\n\r\n%s",
			 r[i].line, strlen(r[i].body), r[i].extra, r[i].body);
	if (n < 0 || (size_t)n >= sizeof buf - LWS_PRE)
		return -1;
	if (lws_write(wsi, &buf[LWS_PRE], (size_t)n, LWS_WRITE_HTTP_HEADERS) != n)
		return -1;
	return 1;
}

/* client: the address the refusal is charged to (NULL before it is known) */
static int refuse(struct lws *wsi, struct server *srv, const struct addr *client, int reason, unsigned status,
		  const char *hint)
{
	char peer[ADDR_STR_MAX];
	struct addr who;

	peer_refused(srv, client, reason);
	peer_addr(wsi, peer, sizeof peer, &who);
	const struct log_field lf[] = { LOG_STR("remote", peer), LOG_STR("reason", refusal_name(reason)),
					LOG_NUM("status", status) };
	peer_log(srv, &srv->reject_log, client ? client : &who, lf, sizeof lf / sizeof lf[0],
			   "refused WebSocket from %s: %s (HTTP %u)%s%s", peer, refusal_name(reason), status,
			   hint ? " token " : "", hint ? hint : "");
	return send_refusal(wsi, status);
}

/*
 * lws binds an upgrade to the first protocol named in Sec-WebSocket-Protocol
 * that it knows -- "http" or "listener" as well as "audio" -- and closes the
 * connection without a word when it knows none of them. Walk the list the
 * way lws does (server-ws.c, lws_process_ws_upgrade) and say where it will
 * land, for admission to decide: NULL with no header (the vhost default,
 * "audio"), the name of our protocol it binds to, or "" for none of ours or
 * a list lws would not take.
 */
static const char *landing_protocol(struct lws *wsi, char *name, size_t cap)
{
	char buf[128];
	struct lws_tokenize ts;
	lws_tokenize_elem e;

	int n = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL);
	if (n <= 0)
		return NULL;
	if (n >= (int)sizeof buf - 1 || lws_hdr_copy(wsi, buf, sizeof buf - 1, WSI_TOKEN_PROTOCOL) != n)
		return "";   /* lws would hang up on a list this long */
	lws_tokenize_init(&ts, buf, LWS_TOKENIZE_F_COMMA_SEP_LIST | LWS_TOKENIZE_F_MINUS_NONTERM |
				    LWS_TOKENIZE_F_DOT_NONTERM | LWS_TOKENIZE_F_RFC7230_DELIMS);
	ts.len = (size_t)n;
	do {
		e = lws_tokenize(&ts);
		if (e == LWS_TOKZE_TOKEN) {
			if (lws_tokenize_cstr(&ts, name, cap))
				return "";
			const struct lws_protocols *p = lws_vhost_name_to_protocol(lws_get_vhost(wsi), name);
			if (p)
				return p->name;
		} else if (e != LWS_TOKZE_DELIMITER && e != LWS_TOKZE_ENDED) {
			return "";   /* malformed list */
		}
	} while (e > 0);
	return "";   /* none of ours */
}

/*
 * The upgrade to /socket: lws's own part (the Upgrade header), then what
 * admission decides (admission.h, in SECURITY.md's order), then the answer.
 */
int ws_audio_confirm_upgrade(struct lws *wsi, const char *upgrade)
{
	struct server *srv = server_from_wsi(wsi);
	const struct config *cfg = srv->cfg;
	if (upgrade && !strcasecmp(upgrade, "h2c")) {
		/*
		 * An HTTP/2 upgrade on an ordinary request (RFC 7540 3.2) may be
		 * ignored and the request answered over HTTP/1.1 (RFC 9110 7.8).
		 * lws 4.1.6 would switch to h2c on 0 and hang up on -1; after our
		 * callback it only compares this very header value (server.c
		 * ~2195), so emptying it makes lws serve the request as plain
		 * HTTP.
		 */
		((char *)upgrade)[0] = '\0';
		return 0;
	}
	if (!upgrade || strcasecmp(upgrade, "websocket"))
		return -1;   /* lws answered 403 already (unknown Upgrade) */
	struct peer who;
	peer_identify(wsi, &who);
	peer_note_request(srv, &who);

	/* what admission needs to know (admission.h), and its one verdict */
	struct adm_request rq;
	struct adm_verdict v;
	char path[64], origin[CONFIG_ORIGIN_LEN + 1], proto[64];
	static char authz[AUTH_TOKEN_MAX + 64];   /* one thread; too big for the stack of every callback */
	memset(&rq, 0, sizeof rq);
	rq.kind = ADM_UPGRADE;
	rq.client = who.client;
	rq.client_known = who.known;
	rq.local = who.local;
	rq.proxied = who.proxied;
	int n = lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI);
	rq.path = n > 0 ? path : NULL;
	rq.path_len = n > 0 ? (size_t)n : 0;
	n = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
	if (n > 0) {
		/* longer than any allowed Origin: it cannot match one */
		int c = (size_t)n < sizeof origin ? lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) : -1;
		rq.origin = c > 0 ? origin : "";
		rq.origin_len = (size_t)n;
	}
	n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 0) {
		rq.authorization = authz;
		rq.authorization_too_long = (size_t)n >= sizeof authz;
		int c = rq.authorization_too_long ? -1 : lws_hdr_copy(wsi, authz, sizeof authz, WSI_TOKEN_HTTP_AUTHORIZATION);
		rq.authorization_len = c > 0 ? (size_t)c : 0;
	}
	rq.transfer_encoding = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
	rq.protocol = landing_protocol(wsi, proto, sizeof proto);
	rq.shutting_down = srv->shutting_down;
	rq.draining = srv->draining;
	rq.reuse_port = cfg->reuse_port;
	rq.calls_open = srv->calls.open;
	rq.now = clock_wall_s();
	rq.now_ms = clock_mono_ms();
	if (admission_decide(&srv->admission, &rq, &v))
		return 0;
	return refuse(wsi, srv, v.charge ? &rq.client : NULL, v.reason, v.status, v.hint[0] ? v.hint : NULL);
}

/* ---- established connection ------------------------------------------ */

static int close_with(struct lws *wsi, struct audio_pss *pss, enum lws_close_status code,
		      const char *why)
{
	if (!call_rules_begin_close(&pss->call.rules))
		return -1;   /* a WRITEABLE queued before the close may still arrive */
	if (pss->opened && call_rules_count_close(&pss->call.rules))
		stats_close_record(&server_from_wsi(wsi)->stats, CLOSE_BY_SERVER, (int)code);
	const struct log_field lf[] = { LOG_NUM("call", pss->call.id), LOG_STR("uuid", calls_uuid(&pss->call)),
					LOG_NUM("code", code), LOG_STR("reason", why) };
	LOG_FIELDS(LOG_INFO, "call_closing", lf, "call %llu (%s): closing %d: %s", (unsigned long long)pss->call.id,
		   calls_uuid(&pss->call)[0] ? calls_uuid(&pss->call) : "-", (int)code, why);
	lws_close_reason(wsi, code, (unsigned char *)why, strlen(why));
	return -1;
}

/* ---- the voice app's transport (voice.h) ---------------------------------- */

static void flush_enqueue(struct audio_pss *pss);
static void ask_close(struct audio_pss *pss);
static void tick_all_cb(lws_sorted_usec_list_t *sul);

/*
 * Something was queued. Steady state: lws holds no unsent bytes for this
 * socket, so the kernel almost surely has room. Send at the end of this
 * loop pass instead of asking for WRITEABLE: that round trip (epoll
 * interest on, a wakeup, interest off) cost more than the send itself, and
 * sending after all of the pass's reads lets several frames of one socket
 * share a segment (docs/benchmarks.md). A socket with bytes stuck in lws,
 * or shutting down, takes the WRITEABLE path, which keeps order and never
 * writes over buffered bytes.
 */
static void tp_kick(void *arg)
{
	struct audio_pss *pss = (struct audio_pss *)arg;
	struct lws *wsi = pss->wsi;

	if (!lws_partial_buffered(wsi) && !server_from_wsi(wsi)->shutting_down)
		flush_enqueue(pss);
	else
		lws_callback_on_writable(wsi);
}

static void tp_hangup(void *arg, int code, const char *why)
{
	struct audio_pss *pss = (struct audio_pss *)arg;

	if (call_rules_ask_close(&pss->call.rules, code, why))
		ask_close(pss);
}

static void tp_ticking(void *arg, int on)
{
	struct audio_pss *pss = (struct audio_pss *)arg;
	struct audio_vhd *vhd = pss->vhd;

	if (!on) {
		lws_dll2_remove(&pss->tick_link);
		return;
	}
	if (lws_dll2_is_detached(&pss->tick_link))
		lws_dll2_add_tail(&pss->tick_link, &vhd->tickers);
	if (!vhd->tick_scheduled) {
		vhd->tick_scheduled = 1;
		lws_sul_schedule(vhd->ctx, 0, &vhd->tick_sul, tick_all_cb, APP_TICK_US);
	}
}

static const struct voice_transport transport = { tp_kick, tp_hangup, tp_ticking };

/* What others may do to the call (calls.h): the sweep, the operator. */
static void call_send_close(struct call *c)
{
	ask_close((struct audio_pss *)c->tx_arg);
}

static const struct call_transport call_tx = { call_send_close };

/* Every 20 ms while some call's app paces its own output. */
static void tick_all_cb(lws_sorted_usec_list_t *sul)
{
	struct audio_vhd *vhd = lws_container_of(sul, struct audio_vhd, tick_sul);
	uint64_t now = (uint64_t)clock_mono_us();

	vhd->tick_scheduled = 0;
	lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1, vhd->tickers.head) {
		struct audio_pss *pss = lws_container_of(d, struct audio_pss, tick_link);
		pss->call.voice.now_us = now;
		pss->call.ring.now_us = (uint32_t)now;
		voice_tick(&pss->call.voice);
	} lws_end_foreach_dll_safe(d, d1);
	if (vhd->tickers.count) {
		vhd->tick_scheduled = 1;
		lws_sul_schedule(vhd->ctx, 0, &vhd->tick_sul, tick_all_cb, APP_TICK_US);
	}
}

static int on_established(struct lws *wsi, struct audio_pss *pss)
{
	struct server *srv = server_from_wsi(wsi);
	char peer[ADDR_STR_MAX];

	call_rules_open(&pss->call.rules, clock_wall_s());
	if (ring_attach(&pss->call.ring, &srv->pool, pss->ring_order, srv->cfg->ring_slots, srv->cfg->slot_bytes))
		return close_with(wsi, pss, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "ring setup failed");
	peer_conn_upgraded(wsi);
	/* the headers are still readable here, X-Forwarded-For included: this is
	 * the address the handshake was limited under, unknown (::) included */
	peer_addr(wsi, peer, sizeof peer, &pss->call.client);
	guard_call_open(&srv->guard, &pss->call.client);
	calls_open(&srv->calls, &pss->call, &pss->call.client, peer, clock_wall_s(), &call_tx, pss);
	pss->opened = 1;
	pss->wsi = wsi;
	pss->vhd = (struct audio_vhd *)lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));
	voice_init(&pss->call.voice, &pss->call.ring, &transport, pss, &srv->voice, srv->start_app, apps_switchable,
		   apps_switchable_n, pss->call.id);
	const struct log_field lf[] = { LOG_NUM("call", pss->call.id), LOG_STR("remote", peer),
					LOG_NUM("open", srv->calls.open) };
	LOG_FIELDS(LOG_INFO, "call_open", lf, "call %llu: WebSocket open from %s (%u open)",
		   (unsigned long long)pss->call.id, peer, srv->calls.open);
	return 0;
}

static void log_connected(const struct audio_pss *pss, const struct ws_event *ev)
{
	const struct log_field lf[] = { LOG_NUM("call", pss->call.id), LOG_STR("uuid", ev->uuid),
					LOG_STR("from", ev->from), LOG_STR("content_type", ev->content_type) };
	LOG_FIELDS(LOG_INFO, "call_connected", lf, "call %llu: connected, uuid %s, %s%s, from %s",
		   (unsigned long long)pss->call.id, ev->uuid[0] ? ev->uuid : "-",
		   ev->content_type[0] ? ev->content_type : "no content-type",
		   ev->rate ? "" : " (not L16 8/16/24 kHz)", ev->from[0] ? ev->from : "-");
}

static void log_dtmf(const struct audio_pss *pss, char d)
{
	char digit[2] = { d, 0 };
	const struct log_field lf[] = { LOG_NUM("call", pss->call.id), LOG_STR("digit", digit) };
	LOG_FIELDS(LOG_INFO, "dtmf", lf, "call %llu: DTMF %c", (unsigned long long)pss->call.id, d ? d : '?');
}

/*
 * Every line here can be caused again and again from inside the call (the
 * peer may send any event as often as --max-msg-rate allows), so each asks
 * the call's own log budget first (voice_log_ok): a few callers pressing
 * keys cannot fill the log, and what was left out is counted.
 */
static void on_event(struct lws *wsi, struct audio_pss *pss, const char *msg, size_t len)
{
	struct server *srv = server_from_wsi(wsi);
	struct voice_call *v = &pss->call.voice;
	struct ws_event ev;

	v->now_us = (uint64_t)clock_mono_us();   /* the budget's clock, and the app's */
	pss->call.ring.now_us = (uint32_t)v->now_us;
	switch (vonage_msg_parse_ws(msg, len, &ev)) {
	case WS_EV_CONNECTED:
		memcpy(pss->call.content_type, ev.content_type, sizeof pss->call.content_type);
		if (voice_log_ok(v, LOG_INFO))
			log_connected(pss, &ev);
		break;
	case WS_EV_DTMF:
		if (ev.digit) {
			pss->call.dtmf_count++;
			pss->call.last_dtmf = ev.digit;
		}
		if (voice_log_ok(v, LOG_INFO))
			log_dtmf(pss, ev.digit);
		break;
	case WS_EV_CLEARED:
	case WS_EV_NOTIFY:
		if (voice_log_ok(v, LOG_DEBUG))
			log_debug("call %llu: %s", (unsigned long long)pss->call.id, ev.name);
		break;
	case WS_EV_UNKNOWN:
		if (voice_log_ok(v, LOG_INFO))
			log_info("call %llu: ignoring event '%s'", (unsigned long long)pss->call.id, ev.name);
		break;
	case WS_EV_INVALID:
		pss->call.invalid_messages++;
		/* the call's budget first: one call must not spend the shared limiter */
		if (voice_log_ok(v, LOG_WARN))
			log_limited(&srv->bad_input_log, clock_wall_s(),
				    "call %llu: text message is not a JSON event (%zu bytes)",
				    (unsigned long long)pss->call.id, len);
		return;
	}
	voice_event_in(v, &ev, msg, len);
}

static int on_text(struct lws *wsi, struct audio_pss *pss, const char *in, size_t len, int final)
{
	struct audio_msg_out out;

	switch (audio_msg_receive(&pss->call.ring, &pss->text, in, len, 0, final, &out)) {
	case AUDIO_MSG_TEXT:
		on_event(wsi, pss, out.text, out.text_len);
		audio_msg_text_done(&pss->text);
		return 0;
	case AUDIO_MSG_CLOSE:
		return close_with(wsi, pss, (enum lws_close_status)out.close_code, out.why);
	default:
		return 0;
	}
}

/*
 * Send the oldest queued message straight from its slot and count it (audio
 * frames as packets; commands are counted by the app's seam). lws_write
 * needs LWS_PRE bytes before the payload: that is the slot's headroom. If
 * the kernel takes only part, lws keeps the rest and holds back WRITEABLE
 * until it has flushed it.
 */
static int send_oldest(struct lws *wsi, struct audio_pss *pss, uint32_t now_us)
{
	struct ring_slot *s = ring_peek(&pss->call.ring);

	if (!s)
		return 0;
	if (lws_write(wsi, s->buf + RING_HEADROOM, s->len, s->text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY) <
	    (int)s->len)
		return close_with(wsi, pss, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "write failed");
	if (!s->text) {
		pss->call.packets_sent++;
		pss->call.bytes_sent += s->len;
		quality_dwell(&pss->call.q, now_us - s->queued_us);   /* 32-bit µs: wraps cleanly */
	}
	ring_pop(&pss->call.ring);
	return 0;
}

/* TCP_CORK on/off; best effort (a failure only costs extra segments). */
static void cork(struct lws *wsi, int on)
{
	int fd = lws_get_socket_fd(wsi);
	if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on))
		log_debug("TCP_CORK %d failed on fd %d", on, fd);
}

/*
 * End of an event-loop pass (a 1 us timer, which lws runs after the I/O it
 * is handling): send what each listed connection received during the pass.
 * Several frames for one socket go out corked, in one TCP segment instead
 * of one each. A failed write cannot return -1 to lws here, so the
 * connection is closed asynchronously instead.
 */
static void flush_all_cb(lws_sorted_usec_list_t *sul)
{
	struct audio_vhd *vhd = lws_container_of(sul, struct audio_vhd, flush_sul);
	uint32_t now = (uint32_t)clock_mono_us();   /* one clock read for the pass's dwell times */

	vhd->flush_scheduled = 0;
	while (vhd->flush.head) {
		struct audio_pss *pss = lws_container_of(vhd->flush.head, struct audio_pss, flush_link);
		struct lws *wsi = pss->wsi;
		lws_dll2_remove(&pss->flush_link);
		int batch = ring_count(&pss->call.ring) > 1;
		if (batch)
			cork(wsi, 1);
		while (ring_count(&pss->call.ring) && !lws_partial_buffered(wsi))
			if (send_oldest(wsi, pss, now)) {
				lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
				break;
			}
		if (batch)
			cork(wsi, 0);
		if (ring_count(&pss->call.ring))
			lws_callback_on_writable(wsi);
	}
}

static void flush_enqueue(struct audio_pss *pss)
{
	struct audio_vhd *vhd = pss->vhd;

	if (!lws_dll2_is_detached(&pss->flush_link))
		return;   /* already listed for this pass */
	lws_dll2_add_tail(&pss->flush_link, &vhd->flush);
	if (!vhd->flush_scheduled) {
		vhd->flush_scheduled = 1;
		lws_sul_schedule(vhd->ctx, 0, &vhd->flush_sul, flush_all_cb, 1);
	}
}

static int on_binary(struct lws *wsi, struct audio_pss *pss, const void *in, size_t len, int final)
{
	struct audio_msg_out out;
	enum audio_msg_action a = audio_msg_receive(&pss->call.ring, &pss->text, in, len, 1, final, &out);

	if (a == AUDIO_MSG_CLOSE)
		return close_with(wsi, pss, (enum lws_close_status)out.close_code, out.why);
	pss->call.bytes_received += len;
	if (a != AUDIO_MSG_FRAME)
		return 0;
	pss->call.packets_received++;
	pss->call.voice.now_us = (uint64_t)clock_mono_us();
	pss->call.ring.now_us = (uint32_t)pss->call.voice.now_us;
	quality_frame(&pss->call.q, pss->call.voice.now_us, ring_rx_data(&pss->call.ring), ring_rx_len(&pss->call.ring));
	voice_frame(&pss->call.voice);   /* the app echoes it (tp_kick) or uses it */
	return 0;
}

static int on_receive(struct lws *wsi, struct audio_pss *pss, const void *in, size_t len)
{
	/* a message ends with the FIN frame's last byte; lws may split a frame */
	int final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
	struct server *srv = server_from_wsi(wsi);

	/* every WebSocket frame counts against the rate cap once, at its last byte;
	 * over it by the tick's clock, ask a fresh one: after a stall of the loop
	 * (SIGTSTP, a starved machine) the peer's queued frames arrive before the
	 * tick has seen the time */
	if (call_rules_rx(&pss->call.rules, clock_wall_s(), !lws_remaining_packet_payload(wsi), srv->cfg->max_msg_rate) &&
	    call_rules_rate_over(&pss->call.rules, clock_wall_s(), srv->cfg->max_msg_rate)) {
		peer_refused(srv, &pss->call.client, REJECT_MSG_RATE);
		const struct log_field lf[] = { LOG_STR("remote", pss->call.remote), LOG_STR("reason", "msg_rate"),
						LOG_NUM("call", pss->call.id) };
		peer_log(srv, &srv->limit_log, &pss->call.client, lf, sizeof lf / sizeof lf[0],
				   "call %llu from %s: more than %d messages in a second, closing 1008",
				   (unsigned long long)pss->call.id, pss->call.remote, srv->cfg->max_msg_rate);
		return close_with(wsi, pss, LWS_CLOSE_STATUS_POLICY_VIOLATION, "message rate limit");
	}

	if (lws_frame_is_binary(wsi))
		return on_binary(wsi, pss, in, len, final);
	return on_text(wsi, pss, (const char *)in, len, final);
}

static int on_writeable(struct lws *wsi, struct audio_pss *pss)
{
	struct server *srv = server_from_wsi(wsi);

	if (srv->shutting_down)
		return close_with(wsi, pss, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
	if (pss->call.rules.pending_close)
		return close_with(wsi, pss, (enum lws_close_status)pss->call.rules.pending_close, pss->call.rules.pending_why);
	/* one lws_write per WRITEABLE; ask again while frames wait */
	if (send_oldest(wsi, pss, (uint32_t)clock_mono_us()))
		return -1;
	if (ring_count(&pss->call.ring))
		lws_callback_on_writable(wsi);
	return 0;
}

static void on_closed(struct lws *wsi, struct audio_pss *pss)
{
	struct server *srv = server_from_wsi(wsi);

	audio_msg_text_release(&pss->text);
	lws_dll2_remove(&pss->flush_link);   /* a no-op when not listed */
	lws_dll2_remove(&pss->tick_link);
	if (!pss->opened) {
		ring_detach(&pss->call.ring);   /* a no-op unless attached */
		return;
	}
	voice_close(&pss->call.voice);
	/* after the app's close, which may still queue something; CLOSED is
	 * the last callback that could reach the ring */
	ring_detach(&pss->call.ring);
	guard_call_close(&srv->guard, &pss->call.client);
	if (call_rules_count_close(&pss->call.rules))   /* no close frame either way: the TCP connection just ended */
		stats_close_record(&srv->stats, CLOSE_BY_PEER, 1006);
	struct quality_report qr;
	char mos[16], jit[16], lvl[16], sil[16];
	quality_read(&pss->call.q, &qr);
	snprintf(sil, sizeof sil, "%.1f", qr.silent_pct);
	snprintf(mos, sizeof mos, "%.2f", qr.mos);
	snprintf(jit, sizeof jit, "%.2f", qr.jitter_ms);
	snprintf(lvl, sizeof lvl, "%.1f", qr.level_dbfs);
	const struct log_field lf[] = { LOG_NUM("call", pss->call.id), LOG_STR("uuid", calls_uuid(&pss->call)),
					LOG_NUM("frames_in", pss->call.packets_received),
					LOG_NUM("frames_out", pss->call.packets_sent),
					LOG_NUM("frames_dropped", pss->call.ring.dropped),
					LOG_DEC("mos", mos), LOG_DEC("jitter_ms", jit),
					LOG_NUM("gaps", qr.gaps), LOG_NUM("gap_frames", qr.gap_frames),
					LOG_NUM("burst_frames", qr.burst_frames), LOG_NUM("behind_frames", qr.behind),
					LOG_DEC("level_dbfs", lvl), LOG_DEC("silent_pct", sil),
					LOG_NUM("clipped_samples", qr.clipped),
					LOG_NUM("log_suppressed", calls_log_suppressed(&pss->call)) };
	char lost[64] = "";
	if (calls_log_suppressed(&pss->call))
		snprintf(lost, sizeof lost, "; %u log line(s) about it not written", calls_log_suppressed(&pss->call));
	/* once per call, never budgeted: it carries the count of what was */
	LOG_FIELDS(LOG_INFO, "call_closed", lf,
		   "call %llu (%s): closed after %llu frames in, %llu out, %llu dropped; "
		   "score %s, jitter %s ms, %u gaps (%u frames), level %s dBFS%s",
		   (unsigned long long)pss->call.id, calls_uuid(&pss->call)[0] ? calls_uuid(&pss->call) : "-",
		   (unsigned long long)pss->call.packets_received, (unsigned long long)pss->call.packets_sent,
		   (unsigned long long)pss->call.ring.dropped, mos, jit, qr.gaps, qr.gap_frames, lvl, lost);
	calls_close(&srv->calls, &pss->call);
	pss->opened = 0;
}

/*
 * The peer sent a close frame. lws would queue its answer for WRITEABLE,
 * but a peer that half-closes TCP right after its close frame (the npm
 * "websocket" package does) makes lws read EOF first and drop the
 * connection without answering. So we answer here, at once: frames still
 * waiting for this socket first, then the close frame -- the peer's own
 * code and reason echoed (what lws would send), or 1002 for a payload no
 * endpoint may send: one byte, or a code outside the valid ranges (lws
 * 4.1.6 answers 1002 to some of those itself: it rewrites 0-999, 1004-1006
 * and 1012-2999 in the payload before we see it, but not 5000 and up).
 * Returning -1 then lets lws close the TCP connection, which RFC 6455 7.1.1
 * asks of the server once both close frames have been sent.
 */
static int on_peer_close(struct lws *wsi, struct audio_pss *pss, const uint8_t *in, size_t len)
{
	struct server *srv = server_from_wsi(wsi);
	uint8_t buf[LWS_PRE + 128];
	int code, bad = !call_rules_peer_close_ok(in, len, &code);

	if (pss->opened && call_rules_count_close(&pss->call.rules))
		stats_close_record(&srv->stats, CLOSE_BY_PEER, code);
	const struct log_field lf[] = { LOG_NUM("call", pss->call.id), LOG_NUM("code", code) };
	LOG_FIELDS(LOG_INFO, "peer_close", lf, "call %llu: peer closed with %d%s", (unsigned long long)pss->call.id,
		   code, bad ? " (not a valid close payload: answering 1002)" : "");
	if (bad) {
		peer_refused(srv, &pss->call.client, REJECT_BAD_CLOSE);
		const struct log_field rf[] = { LOG_STR("remote", pss->call.remote), LOG_STR("reason", "bad_close"),
						LOG_NUM("call", pss->call.id) };
		peer_log(srv, &srv->limit_log, &pss->call.client, rf, sizeof rf / sizeof rf[0],
				   "call %llu from %s: invalid close frame (%s), closing 1002",
				   (unsigned long long)pss->call.id, pss->call.remote, len == 1 ? "1-byte payload" : "bad code");
		buf[LWS_PRE] = LWS_CLOSE_STATUS_PROTOCOL_ERR >> 8;
		buf[LWS_PRE + 1] = LWS_CLOSE_STATUS_PROTOCOL_ERR & 0xff;
		len = 2;
	} else if (len) {
		memcpy(&buf[LWS_PRE], in, len < 125 ? len : 125);   /* lws caps control payloads below that */
		len = len < 125 ? len : 125;
	}
	call_rules_begin_close(&pss->call.rules);
	uint32_t now = (uint32_t)clock_mono_us();
	while (ring_count(&pss->call.ring) && !lws_partial_buffered(wsi))
		if (send_oldest(wsi, pss, now))
			return -1;
	/* bytes stuck in lws: a close frame now would overtake them; hang up */
	if (!lws_partial_buffered(wsi))
		lws_write(wsi, &buf[LWS_PRE], len, WRITE_CLOSE);
	return -1;
}

/*
 * A close asked for from outside the call's own callbacks (call_rules_sweep,
 * call_rules_ask_close): WRITEABLE sends it, in order after any frame already
 * being written.
 */
static void ask_close(struct audio_pss *pss)
{
	lws_callback_on_writable(pss->wsi);
	/* if the peer does not read either, WRITEABLE may never come */
	lws_set_timeout(pss->wsi, PENDING_TIMEOUT_USER_OK, 5);
}

int ws_audio_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct audio_pss *pss = (struct audio_pss *)user;

	switch (reason) {
	case LWS_CALLBACK_PROTOCOL_INIT: {
		struct audio_vhd *vhd = (struct audio_vhd *)lws_protocol_vh_priv_zalloc(
			lws_get_vhost(wsi), lws_get_protocol(wsi), sizeof(struct audio_vhd));
		if (!vhd)
			return -1;
		vhd->ctx = lws_get_context(wsi);
		return 0;
	}
	case LWS_CALLBACK_PROTOCOL_DESTROY: {
		struct audio_vhd *vhd = (struct audio_vhd *)lws_protocol_vh_priv_get(lws_get_vhost(wsi),
										     lws_get_protocol(wsi));
		if (vhd) {
			lws_sul_cancel(&vhd->flush_sul);
			lws_sul_cancel(&vhd->tick_sul);
		}
		return 0;
	}
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: return ws_audio_confirm_upgrade(wsi, (const char *)in);
	/* lws binds a new connection to the vhost's default protocol (this one)
	 * before it announces it */
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		peer_conn_created(wsi);
		return 0;
	case LWS_CALLBACK_ESTABLISHED:          return on_established(wsi, pss);
	case LWS_CALLBACK_RECEIVE:              return on_receive(wsi, pss, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:     return on_writeable(wsi, pss);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		return on_peer_close(wsi, pss, (const uint8_t *)in, len);
	case LWS_CALLBACK_CLOSED:
		on_closed(wsi, pss);
		return 0;
	default:
		return 0;
	}
}
