/*
 * server.cpp -- build the lws context, run the service loop, shut down.
 *
 * One context, one vhost, one listening port for HTTP and WebSocket, one
 * thread. TLS (when configured) is OpenSSL through lws, TLS 1.2+ with AEAD
 * ciphers only, and ALPN offers only http/1.1 (Vonage speaks HTTP/1.1
 * WebSockets; h2 would need a different write discipline for no gain).
 * Shutdown: a 100 ms timer notices the stop flag, refuses new sockets, asks
 * every audio socket to close with 1001 and leaves the loop when they are
 * gone or after a grace period.
 */
#include "server.h"

#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "ws_audio.h"

#define TICK_US (100 * LWS_US_PER_MS)
#define SHUTDOWN_GRACE_US (1500 * LWS_US_PER_MS)

/* Mozilla "intermediate" TLS 1.2 suites; TLS 1.3 uses OpenSSL's defaults. */
static const char TLS12_CIPHERS[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

static struct lws_protocols protocols[] = {
	{ "http", http_callback, sizeof(struct http_pss), 0, 0, NULL, 0 },
	{ "audio", ws_audio_callback, 0 /* set from config */, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Make "audio" the vhost default: upgrades without a subprotocol bind to it. */
static const struct lws_protocol_vhost_options pvo_default = { NULL, NULL, "default", "1" };
static const struct lws_protocol_vhost_options pvo_audio = { NULL, &pvo_default, "audio", "" };

int server_client_addr(struct lws *wsi, char *buf, size_t len, struct addr *out)
{
	const struct config *cfg = app_from_wsi(wsi)->cfg;
	struct addr a;
	char peer[ADDR_STR_MAX + 8], xff[256];

	/* lws gives IPv4 peers on a dual-stack socket as ::ffff:a.b.c.d; addr
	 * maps both to one form */
	if (!lws_get_peer_simple(wsi, peer, sizeof peer) || addr_parse(peer, &a)) {
		snprintf(buf, len, "?");
		return -1;
	}
	if (cfg->n_trusted_proxy && cidr_list_match(cfg->trusted_proxy, cfg->n_trusted_proxy, &a)) {
		/* the right-most entry is the one our proxy appended; anything left
		 * of it came from the client and proves nothing */
		int n = lws_hdr_copy(wsi, xff, sizeof xff, WSI_TOKEN_X_FORWARDED_FOR);
		if (n > 0) {
			const char *last = strrchr(xff, ',');
			last = last ? last + 1 : xff;
			struct addr fwd;
			if (!addr_parse_n(last, strlen(last), &fwd))
				a = fwd;
		}
	}
	if (out)
		*out = a;
	addr_format(&a, buf, len);
	return 0;
}

void server_peer(struct lws *wsi, char *buf, size_t len)
{
	server_client_addr(wsi, buf, len, NULL);
}

/*
 * Per-address count of connections that are not calls. lws tells us of a
 * new connection in three steps: FILTER_NETWORK_CONNECTION with the peer
 * address (on the listening wsi), then SERVER_NEW_CLIENT_INSTANTIATED on
 * the new wsi (WSI_CREATE comes earlier, but lws 4.1.6 overwrites the
 * opaque pointer after it: adopt.c:154), and at the very end WSI_DESTROY. The slot counted at the first step rides to
 * the second in app->accept_slot (one thread, nothing in between) and is
 * kept in the wsi's opaque user pointer until the connection becomes a call
 * (server_conn_upgraded) or is destroyed.
 */
int server_conn_filter(struct app *app, const void *filter_args)
{
	const struct lws_filter_network_conn_args *f = (const struct lws_filter_network_conn_args *)filter_args;
	const struct config *cfg = app->cfg;
	struct addr a;
	char peer[ADDR_STR_MAX];

	/* an adoption that failed before WSI_CREATE never claimed its slot */
	guard_conn_done(&app->guard, app->accept_slot);
	app->accept_slot = GUARD_NO_SLOT;
	if (!f || addr_from_sockaddr((const struct sockaddr *)&f->cli_addr, &a))
		return 0;
	/* a proxy carries many clients' connections: its clients are limited
	 * at the handshake, by their forwarded address */
	if (cidr_list_match(cfg->trusted_proxy, cfg->n_trusted_proxy, &a))
		return 0;
	enum guard_result r = guard_conn_open(&app->guard, &a, (uint64_t)(lws_now_usecs() / 1000), &app->accept_slot);
	if (r == GUARD_OK)
		return 0;
	int reason = r == GUARD_CONNS ? REJECT_ADDR_CONNS : REJECT_ADDR_TABLE_FULL;
	app->stats.rejected[reason]++;
	addr_format(&a, peer, sizeof peer);
	log_limited(&app->reject_log, time(NULL), "refused connection from %s: %s (closed at accept)", peer,
		    stats_reject_str(reason));
	return 1;   /* lws closes the socket; nothing was read from it */
}

void server_conn_created(struct lws *wsi)
{
	struct app *app = app_from_wsi(wsi);
	if (app->accept_slot == GUARD_NO_SLOT)
		return;
	lws_set_opaque_user_data(wsi, (void *)(uintptr_t)(app->accept_slot + 1));
	app->accept_slot = GUARD_NO_SLOT;
}

void server_conn_upgraded(struct lws *wsi)
{
	uintptr_t v = (uintptr_t)lws_get_opaque_user_data(wsi);
	if (!v)
		return;
	guard_conn_done(&app_from_wsi(wsi)->guard, (uint32_t)(v - 1));
	lws_set_opaque_user_data(wsi, NULL);
}

void server_conn_destroyed(struct lws *wsi)
{
	server_conn_upgraded(wsi);   /* same release; at most once per wsi */
}

int server_tls_setup(void *ssl_ctx)
{
	/* lws only sets NO_SSLv2/3; pin the floor here as well as via options */
	if (ssl_ctx && !SSL_CTX_set_min_proto_version((SSL_CTX *)ssl_ctx, TLS1_2_VERSION)) {
		log_err("TLS: cannot set minimum protocol version");
		return 1;
	}
	return 0;
}

/* lws's own log lines, folded into ours. */
static void lws_emit(int level, const char *line)
{
	enum log_level l = level & LLL_ERR ? LOG_ERROR : level & LLL_WARN ? LOG_WARN
			   : level & (LLL_NOTICE | LLL_USER) ? LOG_INFO : LOG_DEBUG;
	/* lws prefixes its own timestamp "[YYYY/MM/DD hh:mm:ss.mmmm] X: "; drop it */
	const char *p = line;
	if (*p == '[') {
		const char *q = strstr(p, "] ");
		if (q) {
			p = q + 2;
			if (p[0] && p[1] == ':' && p[2] == ' ')
				p += 3;
		}
	}
	LOG(l, "lws: %s", p);
}

static void tick(lws_sorted_usec_list_t *sul);

static const char *loop_name(enum event_loop l)
{
	return l == LOOP_LIBEV ? "libev" : l == LOOP_LIBUV ? "libuv" : "poll";
}

static void begin_shutdown(struct app *app)
{
	app->shutting_down = 1;
	app->shutdown_deadline = lws_now_usecs() + SHUTDOWN_GRACE_US;
	log_info("shutting down: closing %u audio connection(s) with 1001", app->stats.connections_open);
	lws_callback_on_writable_all_protocol(app->ctx, &protocols[1]);
}

static volatile const sig_atomic_t *stop_flag;
static volatile sig_atomic_t evlib_stop;

/*
 * libuv and libev install their own signal watchers (libuv's stops the loop
 * on SIGTERM without our 1001 closes); with signal_cb set they report here
 * instead, and the tick starts the same graceful shutdown.
 */
static void evlib_signal(void *handle, int signum)
{
	(void)handle;
	if (signum == SIGINT || signum == SIGTERM)
		evlib_stop = 1;
}

static int stop_requested(void)
{
	return (stop_flag && *stop_flag) || evlib_stop;
}

static void tick(lws_sorted_usec_list_t *sul)
{
	struct app *app = lws_container_of(sul, struct app, tick);

	app->now_s = time(NULL);
	if (++app->ticks % 10 == 0 && !app->shutting_down)
		ws_audio_sweep(app);   /* once a second: idle calls, message-rate windows */

	if (!app->shutting_down && stop_requested())
		begin_shutdown(app);
	if (app->shutting_down) {
		if (!app->stats.connections_open || lws_now_usecs() > app->shutdown_deadline) {
			app->done = 1;
			if (app->loop == LOOP_POLL) {
				lws_cancel_service(app->ctx);
			} else {
				/*
				 * An event library's run loop does not return to
				 * lws_service() by itself; the first stage of a context
				 * destroy stops it (as lws's eventlib example does from
				 * its signal callback). server_destroy() finishes it.
				 */
				lws_context_destroy(app->ctx);
			}
			return;
		}
		/* sockets that were mid-write when we asked get asked again */
		lws_callback_on_writable_all_protocol(app->ctx, &protocols[1]);
	}
	lws_sul_schedule(app->ctx, 0, &app->tick, tick, TICK_US);
}

int server_create(struct app *app, const struct config *cfg)
{
	struct lws_context_creation_info info;
	static lws_retry_bo_t retry;

	app->cfg = cfg;
	app->auth.secret = cfg->secret;
	app->auth.secret_len = cfg->secret_len;
	app->auth.max_age_s = cfg->jwt_max_age_s;
	app->auth.leeway_s = cfg->jwt_leeway_s;
	app->auth.application_id = cfg->application_id;
	stats_init(&app->stats, time(NULL));
	app->now_s = time(NULL);

	/* keyed hashes: clients cannot pick addresses or jtis that collide */
	uint64_t seeds[2];
	if (RAND_bytes((unsigned char *)seeds, (int)sizeof seeds) != 1) {
		log_err("cannot start: no randomness for the hash seeds");
		return -1;
	}
	struct guard_cfg gc = { (uint32_t)cfg->max_calls_per_addr, (uint32_t)cfg->handshake_rate,
				(uint32_t)cfg->handshake_burst, (uint32_t)cfg->max_pending_per_addr,
				cfg->limit_exempt, cfg->n_limit_exempt };
	app->accept_slot = GUARD_NO_SLOT;
	guard_init(&app->guard, &gc, seeds[0], (uint64_t)(lws_now_usecs() / 1000));
	replay_init(&app->replay, seeds[1]);

	int lws_levels = LLL_ERR | LLL_WARN | (cfg->log_level >= LOG_DEBUG ? LLL_NOTICE | LLL_INFO : 0);
	lws_set_log_level(lws_levels, lws_emit);

	protocols[1].per_session_data_size = ws_audio_pss_size(cfg);
	protocols[1].rx_buffer_size = ws_audio_rx_buffer_size(cfg);

	/* ping to keep NATs open and find dead peers; hang up if no pong */
	retry.secs_since_valid_ping = (uint16_t)cfg->ping_s;
	retry.secs_since_valid_hangup = (uint16_t)(cfg->ping_s * 2 + 10);

	memset(&info, 0, sizeof info);
	info.port = cfg->port;
	info.iface = cfg->listen[0] ? cfg->listen : NULL;
	info.protocols = protocols;
	info.pvo = &pvo_audio;
	info.user = app;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.timeout_secs = (unsigned)cfg->handshake_timeout_s; /* headers / handshake deadline */
	/* one buffer per connection in the handshake: a bigger header block is
	 * refused instead of growing it (slow or oversized requests) */
	info.max_http_header_data = (unsigned short)cfg->max_header_bytes;
	info.timeout_secs_ah_idle = (unsigned)cfg->handshake_timeout_s; /* connected, sending nothing */
	info.keepalive_timeout = 5;
	info.retry_and_idle_policy = &retry;
	info.alpn = "http/1.1";
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
		       LWS_SERVER_OPTION_DISABLE_IPV6;
	if (cfg->listen[0] && strchr(cfg->listen, ':'))
		info.options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
	if (cfg->loop == LOOP_LIBEV)
		info.options |= LWS_SERVER_OPTION_LIBEV;
	else if (cfg->loop == LOOP_LIBUV)
		info.options |= LWS_SERVER_OPTION_LIBUV;
	if (cfg->loop != LOOP_POLL)
		info.signal_cb = evlib_signal;
	if (cfg->tls_cert[0]) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cfg->tls_cert;
		info.ssl_private_key_filepath = cfg->tls_key;
		info.ssl_cipher_list = TLS12_CIPHERS;
		info.ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
				       SSL_OP_NO_RENEGOTIATION;
	}
	/*
	 * No fd_limit_per_thread: setting it makes lws 4.1 look sockets up by a
	 * linear scan of every slot on each event (wsi_from_fd, 7% of the CPU
	 * at 1,000 calls). lws sizes its table from RLIMIT_NOFILE instead, which
	 * main() sets to max_calls + 256.
	 */

	app->loop = cfg->loop;
	app->ctx = lws_create_context(&info);
	if (!app->ctx && cfg->loop != LOOP_POLL) {
		/* the event-library plugin is a separate Debian package; keep serving */
		log_warn("cannot start the %s event loop (is libwebsockets-evlib-%s installed?); using poll",
			 loop_name(cfg->loop), cfg->loop == LOOP_LIBEV ? "ev" : "uv");
		info.options &= ~(uint64_t)(LWS_SERVER_OPTION_LIBEV | LWS_SERVER_OPTION_LIBUV);
		info.signal_cb = NULL;
		app->loop = LOOP_POLL;
		app->ctx = lws_create_context(&info);
	}
	if (!app->ctx) {
		log_err("cannot start: libwebsockets context creation failed (port %d in use? bad TLS files?)",
			cfg->port);
		return -1;
	}
	lws_sul_schedule(app->ctx, 0, &app->tick, tick, TICK_US);
	log_info("listening on %s:%d (%s, %s loop), NCCO uri from %s, rate %d, ring %u x %u bytes, max %d calls, secret from %s",
		 cfg->listen[0] ? cfg->listen : "*", cfg->port, cfg->tls_cert[0] ? "https/wss" : "http/ws",
		 loop_name(app->loop),
		 cfg->public_base[0] ? cfg->public_url : "Host header", cfg->rate, cfg->ring_slots,
		 cfg->slot_bytes, cfg->max_calls, cfg->secret_source);
	return 0;
}

void server_run(struct app *app, volatile const sig_atomic_t *stop)
{
	stop_flag = stop;
	while (!app->done) {
		if (lws_service(app->ctx, 0) < 0)
			break;
		if (stop_requested() && !app->shutting_down)
			begin_shutdown(app);   /* don't wait for the tick after a signal */
	}
}

void server_destroy(struct app *app)
{
	if (!app->ctx)
		return;
	lws_sul_cancel(&app->tick);
	lws_sul_cancel(&app->flush_sul);
	lws_context_destroy(app->ctx);
	app->ctx = NULL;
}
