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
 * Reload (SIGHUP): the same timer swaps the certificate and key inside the
 * vhost's SSL_CTX; SSL objects made from then on use the new pair, existing
 * connections keep theirs (OpenSSL copies the pair into each SSL at SSL_new).
 * --reuse-port: we bind the listening socket ourselves with SO_REUSEPORT
 * (lws 4.1.6 sets it only for multi-threaded contexts), watch it through lws
 * as a raw descriptor and hand each accepted socket to lws, which then treats
 * it exactly as one from its own listener.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "ws_audio.h"

#define TICK_US (100 * LWS_US_PER_MS)
#define CONNS_RESERVE 64   /* descriptors kept back from accepted connections */
#define SHUTDOWN_GRACE_US (1500 * LWS_US_PER_MS)

/* Mozilla "intermediate" TLS 1.2 suites; TLS 1.3 uses OpenSSL's defaults. */
static const char TLS12_CIPHERS[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

static int listener_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			     void *in, size_t len);

static struct lws_protocols protocols[] = {
	{ "http", http_callback, sizeof(struct http_pss), 0, 0, NULL, 0 },
	{ "audio", ws_audio_callback, 0 /* set from config */, 0, 0, NULL, 0 },
	{ "listener", listener_callback, 0, 0, 0, NULL, 0 },   /* --reuse-port only */
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Make "audio" the vhost default: upgrades without a subprotocol bind to it. */
static const struct lws_protocol_vhost_options pvo_default = { NULL, NULL, "default", "1" };
static const struct lws_protocol_vhost_options pvo_audio = { NULL, &pvo_default, "audio", "" };

/* The address we use when we cannot tell: never loopback, one shared bucket. */
static int unknown_addr(char *buf, size_t len, struct addr *out)
{
	snprintf(buf, len, "?");
	if (out)
		memset(out, 0, sizeof *out);
	return -1;
}

int server_client_addr(struct lws *wsi, char *buf, size_t len, struct addr *out)
{
	const struct config *cfg = app_from_wsi(wsi)->cfg;
	struct addr a;
	char peer[ADDR_STR_MAX + 8];

	/* lws gives IPv4 peers on a dual-stack socket as ::ffff:a.b.c.d; addr
	 * maps both to one form */
	if (!lws_get_peer_simple(wsi, peer, sizeof peer) || addr_parse(peer, &a))
		return unknown_addr(buf, len, out);
	if (cfg->n_trusted_proxy && cidr_list_match(cfg->trusted_proxy, cfg->n_trusted_proxy, &a) &&
	    lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) > 0) {
		/*
		 * The right-most entry is the one our proxy appended; anything left
		 * of it came from the client and proves nothing. lws joins repeated
		 * headers with commas; the buffer holds any header block lws
		 * accepted (--max-header-bytes), so a long client-made prefix cannot
		 * make the copy fail. A last entry that is not an address is not
		 * taken to mean the proxy itself: that would make a remote client
		 * "loopback" behind a local proxy.
		 */
		char xff[16384 + 1];
		int n = lws_hdr_copy(wsi, xff, sizeof xff, WSI_TOKEN_X_FORWARDED_FOR);
		if (n <= 0)
			return unknown_addr(buf, len, out);
		const char *last = strrchr(xff, ',');
		last = last ? last + 1 : xff;
		if (addr_parse_n(last, strlen(last), &a))
			return unknown_addr(buf, len, out);
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
/*
 * The wsi's opaque pointer holds what must be released for it: bit 0 says it
 * counts in app->conns_open, the rest is its guard slot + 1 (0 = none).
 */
static void release_accept(struct app *app)
{
	guard_conn_done(&app->guard, app->accept_slot);
	app->accept_slot = GUARD_NO_SLOT;
	if (app->accept_counted && app->conns_open)
		app->conns_open--;
	app->accept_counted = 0;
}

void server_refused(struct app *app, const struct addr *a, int reason)
{
	time_t now = time(NULL);

	app->stats.rejected[reason]++;
	if (!a || !block_strike(&app->blocks, &app->guard, &app->block_policy, a, reason, now,
				(uint64_t)(lws_now_usecs() / 1000)))
		return;
	char peer[ADDR_STR_MAX], until[32], result[48];
	addr_format(a, peer, sizeof peer);
	stats_iso8601(now + app->block_policy.seconds, until, sizeof until);
	snprintf(result, sizeof result, "until %s", until);
	stats_admin_record(&app->stats, now, -1, "auto_block", peer, "auto", result);
	const struct log_field lf[] = { LOG_STR("remote", peer), LOG_STR("reason", stats_reject_str(reason)),
					LOG_NUM("seconds", app->block_policy.seconds) };
	log_limited_fields(&app->block_log, now, lf, sizeof lf / sizeof lf[0],
			   "blocked %s for %u s: %u refusals within %u s (last: %s)", peer,
			   app->block_policy.seconds, app->block_policy.after, app->block_policy.window_s,
			   stats_reject_str(reason));
}

int server_blocked(struct app *app, const struct addr *a)
{
	return app->blocks.n && block_match(&app->blocks, a, time(NULL));
}

static int refuse_at_accept(struct app *app, const struct addr *a, int reason)
{
	char peer[ADDR_STR_MAX];

	release_accept(app);
	server_refused(app, a, reason);
	if (a)
		addr_format(a, peer, sizeof peer);
	const struct log_field lf[] = { LOG_STR("remote", a ? peer : "?"), LOG_STR("reason", stats_reject_str(reason)) };
	log_limited_fields(&app->reject_log, time(NULL), lf, sizeof lf / sizeof lf[0],
			   "refused connection from %s: %s (closed at accept)", a ? peer : "?", stats_reject_str(reason));
	return 1;   /* lws closes the socket; nothing was read from it */
}

int server_conn_filter(struct app *app, const void *filter_args)
{
	const struct lws_filter_network_conn_args *f = (const struct lws_filter_network_conn_args *)filter_args;
	const struct config *cfg = app->cfg;
	struct addr a;
	int have_addr;

	/* an adoption that failed before NEW_CLIENT_INSTANTIATED never claimed these */
	release_accept(app);
	have_addr = f && !addr_from_sockaddr((const struct sockaddr *)&f->cli_addr, &a);

	/*
	 * A blocked address is shut out before it can send a byte. Not a
	 * trusted proxy (its clients are judged one by one, by their forwarded
	 * address) and not loopback: a blocked loopback client is refused per
	 * request, so the operator on this host can always reach /admin/unblock.
	 */
	if (have_addr && app->blocks.n && !addr_is_loopback(&a) &&
	    !cidr_list_match(cfg->trusted_proxy, cfg->n_trusted_proxy, &a) && server_blocked(app, &a))
		return refuse_at_accept(app, &a, REJECT_BLOCKED);

	/*
	 * Never let accept() run out of descriptors: lws 4.1.6 then leaves the
	 * listening socket readable and spins, logging each failure. Closing
	 * the newest connection at once keeps a margin free for the process.
	 */
	if (app->conns_open >= app->conns_max)
		return refuse_at_accept(app, have_addr ? &a : NULL, REJECT_CONNS_FULL);
	app->conns_open++;
	app->accept_counted = 1;
	if (!have_addr)
		return 0;
	/* a proxy carries many clients' connections: its clients are limited
	 * at the handshake, by their forwarded address */
	if (cidr_list_match(cfg->trusted_proxy, cfg->n_trusted_proxy, &a))
		return 0;
	enum guard_result r = guard_conn_open(&app->guard, &a, (uint64_t)(lws_now_usecs() / 1000), &app->accept_slot);
	if (r == GUARD_OK)
		return 0;
	return refuse_at_accept(app, &a, r == GUARD_CONNS ? REJECT_ADDR_CONNS : REJECT_ADDR_TABLE_FULL);
}

void server_conn_created(struct lws *wsi)
{
	struct app *app = app_from_wsi(wsi);
	if (app->accept_slot == GUARD_NO_SLOT && !app->accept_counted)
		return;
	uintptr_t slot = app->accept_slot == GUARD_NO_SLOT ? 0 : (uintptr_t)app->accept_slot + 1;
	lws_set_opaque_user_data(wsi, (void *)(slot << 1 | (uintptr_t)app->accept_counted));
	app->accept_slot = GUARD_NO_SLOT;
	app->accept_counted = 0;
}

void server_conn_upgraded(struct lws *wsi)
{
	uintptr_t v = (uintptr_t)lws_get_opaque_user_data(wsi);
	if (!(v >> 1))
		return;
	guard_conn_done(&app_from_wsi(wsi)->guard, (uint32_t)((v >> 1) - 1));
	lws_set_opaque_user_data(wsi, (void *)(v & 1));   /* still an open descriptor */
}

void server_conn_destroyed(struct lws *wsi)
{
	struct app *app = app_from_wsi(wsi);

	server_conn_upgraded(wsi);
	if ((uintptr_t)lws_get_opaque_user_data(wsi) & 1 && app->conns_open)
		app->conns_open--;
	lws_set_opaque_user_data(wsi, NULL);
}

/* The one vhost's SSL_CTX (lws owns it), kept for the SIGHUP reload. */
static SSL_CTX *live_tls_ctx;

int server_tls_setup(void *ssl_ctx)
{
	/* lws only sets NO_SSLv2/3; pin the floor here as well as via options */
	if (ssl_ctx && !SSL_CTX_set_min_proto_version((SSL_CTX *)ssl_ctx, TLS1_2_VERSION)) {
		log_err("TLS: cannot set minimum protocol version");
		return 1;
	}
	live_tls_ctx = (SSL_CTX *)ssl_ctx;
	return 0;
}

static void log_tls_errors(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	ERR_error_string_n(e, buf, sizeof buf);
	log_err("TLS reload: %s: %s; still serving the previous certificate", what, e ? buf : "?");
	ERR_clear_error();
}

/*
 * Load the pair into a scratch SSL_CTX first, so a half-written or
 * mismatched pair never reaches the live one; then install certificate,
 * chain and key in one call, which checks they belong together. A new key
 * type would only fill a second slot next to the old pair (OpenSSL keeps one
 * per type and may still pick the old one), so that needs a restart.
 */
static int tls_reload(const struct config *cfg)
{
	SSL_CTX *fresh;
	STACK_OF(X509) *chain = NULL;
	X509 *x;
	EVP_PKEY *k, *old;
	int ok = 0;

	if (!live_tls_ctx) {
		log_info("reload: no TLS configured, nothing to reload");
		return 0;
	}
	ERR_clear_error();
	fresh = SSL_CTX_new(TLS_server_method());
	if (!fresh) {
		log_tls_errors("out of memory");
		return -1;
	}
	if (SSL_CTX_use_certificate_chain_file(fresh, cfg->tls_cert) != 1)
		log_tls_errors(cfg->tls_cert);
	else if (SSL_CTX_use_PrivateKey_file(fresh, cfg->tls_key, SSL_FILETYPE_PEM) != 1)
		log_tls_errors(cfg->tls_key);
	else if (SSL_CTX_check_private_key(fresh) != 1)
		log_tls_errors("the key does not match the certificate");
	else
		ok = 1;
	x = SSL_CTX_get0_certificate(fresh);
	k = SSL_CTX_get0_privatekey(fresh);
	old = SSL_CTX_get0_privatekey(live_tls_ctx);
	if (ok && old && EVP_PKEY_get_base_id(old) != EVP_PKEY_get_base_id(k)) {
		log_err("TLS reload: the new key is of another type (%s, was %s); restart to change it; "
			"still serving the previous certificate", EVP_PKEY_get0_type_name(k),
			EVP_PKEY_get0_type_name(old));
		ok = 0;
	}
	if (ok && (!SSL_CTX_get0_chain_certs(fresh, &chain) ||
		   SSL_CTX_use_cert_and_key(live_tls_ctx, x, k, chain, 1) != 1)) {
		log_tls_errors("cannot install the new pair");
		ok = 0;
	}
	if (ok) {
		char subject[256], serial[80] = "?", until[64] = "?";
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
		char *hex = bn ? BN_bn2hex(bn) : NULL;
		BIO *mem = BIO_new(BIO_s_mem());

		X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof subject);
		if (hex)
			snprintf(serial, sizeof serial, "%s", hex);
		if (mem && ASN1_TIME_print(mem, X509_get0_notAfter(x)) > 0) {
			int n = BIO_read(mem, until, sizeof until - 1);
			until[n > 0 ? n : 0] = '\0';
		}
		log_info("TLS reload: new connections get %s serial %s, valid until %s", subject, serial, until);
		OPENSSL_free(hex);
		BN_free(bn);
		BIO_free(mem);
	}
	SSL_CTX_free(fresh);
	return ok ? 0 : -1;
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
	/*
	 * lws reports some per-connection failures at error level with no
	 * throttle of its own -- e.g. one line per failed accept() while the
	 * descriptors are exhausted -- so a flood could fill a disk through it.
	 * Warnings and errors get the same burst-per-second cap as our own
	 * refusal lines; debug output (asked for explicitly) is not capped.
	 */
	static struct { time_t window; uint32_t in_window, suppressed; } lim;
	if (l <= LOG_WARN) {
		time_t now = time(NULL);
		if (now != lim.window) {
			if (lim.suppressed)
				LOG_EV(LOG_WARN, "lws", "lws: (%u similar lines suppressed)", lim.suppressed);
			lim.window = now;
			lim.in_window = lim.suppressed = 0;
		}
		if (lim.in_window >= LOG_LIMIT_BURST) {
			lim.suppressed++;
			return;
		}
		lim.in_window++;
	}
	LOG_EV(l, "lws", "lws: %s", p);
}

static void tick(lws_sorted_usec_list_t *sul);

/* Once a second: forget expired blocks, and save the table if it changed
 * (a flood of automatic blocks costs one write a second, not one each). */
static void blocks_tick(struct app *app)
{
	char err[640];

	block_expire(&app->blocks, app->now_s);
	if (!app->blocks.dirty || !app->cfg->block_file[0])
		return;
	if (block_save(&app->blocks, app->cfg->block_file, app->now_s, err, sizeof err)) {
		app->blocks.dirty = 0;   /* tried; the next change tries again */
		log_limited(&app->bad_input_log, app->now_s, "blocks not saved: %s", err);
	}
}

static const char *loop_name(enum event_loop l)
{
	return l == LOOP_LIBEV ? "libev" : l == LOOP_LIBUV ? "libuv" : "poll";
}

static void begin_shutdown(struct app *app)
{
	app->shutting_down = 1;
	app->shutdown_deadline = lws_now_usecs() + SHUTDOWN_GRACE_US;
	log_info_ev("shutdown", "shutting down: closing %u audio connection(s) with 1001", app->stats.connections_open);
	lws_callback_on_writable_all_protocol(app->ctx, &protocols[1]);
	if (app->listen_wsi) {
		/*
		 * Leave the SO_REUSEPORT group now, not at exit: the kernel then
		 * gives new connections to the other workers instead of to us, who
		 * would refuse them (503) for the whole grace period. lws closes the
		 * descriptor with its wsi.
		 */
		lws_set_timeout(app->listen_wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		app->listen_wsi = NULL;
		app->listen_fd = -1;
		log_info("left the shared port: new connections go to the other workers");
	}
}

static volatile const sig_atomic_t *stop_flag;
static volatile sig_atomic_t evlib_stop;
static volatile sig_atomic_t reload_requested;

void server_request_reload(void)
{
	reload_requested = 1;
}

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
	else if (signum == SIGHUP)
		reload_requested = 1;
}

static int stop_requested(void)
{
	return (stop_flag && *stop_flag) || evlib_stop;
}

static void tick(lws_sorted_usec_list_t *sul)
{
	struct app *app = lws_container_of(sul, struct app, tick);

	app->now_s = time(NULL);
	if (++app->ticks % 10 == 0 && !app->shutting_down) {
		ws_audio_sweep(app);   /* once a second: idle calls, message-rate windows */
		blocks_tick(app);
	}

	if (!app->shutting_down && stop_requested())
		begin_shutdown(app);
	stats_sample(&app->stats, app->now_s);   /* per-second history for /stats */
	if (reload_requested) {
		reload_requested = 0;
		tls_reload(app->cfg);
	}
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

/*
 * --reuse-port: a listening socket several processes can bind at once; the
 * kernel spreads new connections over them. Same address rules as lws:
 * all IPv4 interfaces by default, else the literal address given.
 */
static int listen_socket_open(const struct config *cfg, int port, int shared)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd;

	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (!cfg->listen[0] || inet_pton(AF_INET, cfg->listen, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		sl = sizeof *a4;
	} else if (inet_pton(AF_INET6, cfg->listen, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		sl = sizeof *a6;
	} else {
		log_err("--reuse-port needs --listen to be an IP address, not '%s'", cfg->listen);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    (shared && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)) ||
	    bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, SOMAXCONN)) {
		log_err("cannot listen on %s:%d%s: %s%s", cfg->listen[0] ? cfg->listen : "*", port,
			shared ? " with SO_REUSEPORT" : "", strerror(errno),
			shared ? " (a process without --reuse-port holds the port?)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * One of our listening sockets is readable: accept what is queued (bounded per
 * wakeup, like lws's own listener), let the http protocol filter it as lws
 * would, and adopt each as an HTTP(S) server connection of the vhost.
 */
static int listener_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			     void *in, size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	if (reason != LWS_CALLBACK_RAW_RX_FILE)
		return 0;
	struct app *app = app_from_wsi(wsi);
	int lfd = lws_get_socket_fd(wsi);   /* the raw descriptor: shared or worker port */
	for (int i = 0; i < 64; i++) {
		struct lws_filter_network_conn_args filt;
		lws_sock_file_fd_type d;
		int one = 1;

		memset(&filt, 0, sizeof filt);
		filt.clilen = sizeof filt.cli_addr;
		filt.accept_fd = accept4(lfd, (struct sockaddr *)&filt.cli_addr, &filt.clilen,
					 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (filt.accept_fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_limited(&app->bad_input_log, time(NULL), "accept: %s", strerror(errno));
			break;
		}
		setsockopt(filt.accept_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (protocols[0].callback(wsi, LWS_CALLBACK_FILTER_NETWORK_CONNECTION, &filt,
					  (void *)(intptr_t)filt.accept_fd, 0)) {
			close(filt.accept_fd);
			continue;
		}
		d.sockfd = filt.accept_fd;
		/* on failure lws has closed the socket already */
		lws_adopt_descriptor_vhost(app->vhost, (lws_adoption_type)(LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP |
					   LWS_ADOPT_ALLOW_SSL), d, NULL, NULL);
	}
	return 0;
}

/* Put a listening socket of ours into lws's loop (any event library) as a raw descriptor. */
static struct lws *listener_adopt(struct app *app, int fd)
{
	lws_sock_file_fd_type d;
	struct lws *wsi;

	d.filefd = fd;
	wsi = lws_adopt_descriptor_vhost(app->vhost, LWS_ADOPT_RAW_FILE_DESC, d, "listener", NULL);
	if (!wsi)
		log_err("cannot watch the listening socket");
	return wsi;
}

static void listeners_close(struct app *app)
{
	if (app->listen_fd >= 0)
		close(app->listen_fd);
	if (app->worker_fd >= 0)
		close(app->worker_fd);
	app->listen_fd = app->worker_fd = -1;
}

int server_create(struct app *app, const struct config *cfg)
{
	struct lws_context_creation_info info;
	static lws_retry_bo_t retry;

	app->cfg = cfg;
	app->listen_fd = app->worker_fd = -1;
	app->auth.secret = cfg->secret;
	app->auth.secret_len = cfg->secret_len;
	app->auth.max_age_s = cfg->jwt_max_age_s;
	app->auth.leeway_s = cfg->jwt_leeway_s;
	app->auth.application_id = cfg->application_id;
	stats_init(&app->stats, time(NULL));
	app->reject_log.event = "handshake_refused";
	app->bad_input_log.event = "bad_input";
	app->limit_log.event = "call_limit";
	snprintf(app->stats.worker, sizeof app->stats.worker, "%s", cfg->worker_id);
	app->stats.pid = (long)getpid();
	app->now_s = time(NULL);

	/* keyed hashes: clients cannot pick addresses or jtis that collide */
	/* getrandom, not RAND_bytes: starting OpenSSL's DRBG pulls ~1 MiB of
	 * libcrypto into RSS for 16 bytes (plain http never needs it) */
	uint64_t seeds[2];
	if (getrandom(seeds, sizeof seeds, 0) != (ssize_t)sizeof seeds) {
		log_err("cannot start: no randomness for the hash seeds");
		return -1;
	}
	struct guard_cfg gc = { (uint32_t)cfg->max_calls_per_addr, (uint32_t)cfg->handshake_rate,
				(uint32_t)cfg->handshake_burst, (uint32_t)cfg->max_pending_per_addr,
				cfg->limit_exempt, cfg->n_limit_exempt };
	app->accept_slot = GUARD_NO_SLOT;
	guard_init(&app->guard, &gc, seeds[0], (uint64_t)(lws_now_usecs() / 1000));
	/* accepted connections stop CONNS_RESERVE short of the open-file limit
	 * (main() sets it to --max-calls + 256): listeners, logs, certificate
	 * files and the event library keep the rest */
	struct rlimit rl;
	rlim_t lim = getrlimit(RLIMIT_NOFILE, &rl) ? 1024 : rl.rlim_cur;
	if (lim > (1u << 20))
		lim = 1u << 20;
	app->conns_max = lim > CONNS_RESERVE ? (uint32_t)(lim - CONNS_RESERVE) : 1;
	replay_init(&app->replay, seeds[1]);
	app->block_policy.after = (uint32_t)cfg->block_after;
	app->block_policy.window_s = (uint32_t)cfg->block_window_s;
	app->block_policy.seconds = (uint32_t)cfg->block_seconds;
	app->block_log.event = "auto_block";
	app->auth.issuer = "Vonage";
	if (cfg->block_file[0]) {
		char err[640];
		if (block_load(&app->blocks, cfg->block_file, time(NULL), err, sizeof err)) {
			log_err("cannot start: %s", err);
			return -1;
		}
		if (app->blocks.n)
			log_info_ev("blocks_loaded", "%u block(s) loaded from %s", app->blocks.n, cfg->block_file);
	}

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

	if (cfg->reuse_port) {
		app->listen_fd = listen_socket_open(cfg, cfg->port, 1);
		if (app->listen_fd >= 0 && cfg->worker_port)
			app->worker_fd = listen_socket_open(cfg, cfg->worker_port, 0);
		if (app->listen_fd < 0 || (cfg->worker_port && app->worker_fd < 0)) {
			listeners_close(app);
			return -1;
		}
		/* a TLS-capable vhost without a listener of its own */
		info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
		info.iface = NULL;
	}

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
		listeners_close(app);
		return -1;
	}
	app->vhost = lws_get_vhost_by_name(app->ctx, "default");
	if (app->listen_fd >= 0 &&
	    (!app->vhost || !(app->listen_wsi = listener_adopt(app, app->listen_fd)) ||
	     (app->worker_fd >= 0 && !listener_adopt(app, app->worker_fd)))) {
		/* a descriptor lws adopted is closed by the context destroy */
		server_destroy(app);
		return -1;
	}
	/*
	 * With an event library, lws 4.1 runs the protocol init from inside its
	 * loop, when the listening socket already accepts: an upgrade arriving
	 * in between binds to protocol 0 (http, as "audio" is not yet the vhost
	 * default) and is never echoed. Under valgrind that window lasts ~0.5 s
	 * after /healthz already answers. Doing the init now closes it; lws
	 * skips a vhost whose protocols are initialised.
	 */
	if (lws_protocol_init(app->ctx)) {
		log_err("cannot start: libwebsockets protocol init failed");
		lws_context_destroy(app->ctx);
		app->ctx = NULL;
		return -1;
	}
	lws_sul_schedule(app->ctx, 0, &app->tick, tick, TICK_US);
	char shared[64] = "";
	if (cfg->reuse_port)
		snprintf(shared, sizeof shared, " shared (SO_REUSEPORT)%s%.0d", cfg->worker_port ? ", own port " : "",
			 cfg->worker_port);
	log_info_ev("listening", "caller-echo " CALLER_ECHO_VERSION " listening on %s:%d%s (%s, %s loop), NCCO uri from %s, rate %d, ring %u x %u bytes, max %d calls, secret from %s",
		 cfg->listen[0] ? cfg->listen : "*", cfg->port, shared,
		 cfg->tls_cert[0] ? "https/wss" : "http/ws",
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
	char err[640];

	if (app->blocks.dirty && app->cfg && app->cfg->block_file[0] &&
	    block_save(&app->blocks, app->cfg->block_file, time(NULL), err, sizeof err))
		log_err("blocks not saved: %s", err);
	if (!app->ctx)
		return;
	lws_sul_cancel(&app->tick);
	lws_sul_cancel(&app->flush_sul);
	lws_context_destroy(app->ctx);
	app->ctx = NULL;
}
