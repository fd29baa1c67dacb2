/*
 * server.h -- the one libwebsockets context and the state every callback shares.
 *
 * main() owns a struct app; the context carries a pointer to it
 * (lws_context_user), so callbacks reach config, stats and the shutdown flag
 * without globals. Two protocols live on the single vhost:
 *   [0] "http"  -- plain HTTP routes (lws binds requests with no mount here)
 *   [1] "audio" -- the Vonage audio WebSocket (the vhost default, so an
 *                  upgrade without Sec-WebSocket-Protocol lands on it)
 */
#pragma once
#include <libwebsockets.h>
#include <signal.h>

#include "addr.h"
#include "auth_jwt.h"
#include "block.h"
#include "config.h"
#include "guard.h"
#include "log.h"
#include "replay.h"
#include "stats.h"

struct audio_pss;

struct app {
	const struct config *cfg;
	struct lws_context  *ctx;
	struct auth_cfg      auth;
	struct stats         stats;
	struct log_limit     reject_log;     /* refused handshakes */
	struct log_limit     bad_input_log;  /* malformed text / webhook bodies */
	struct log_limit     limit_log;      /* calls closed by a per-call limit */
	struct guard         guard;          /* per-address handshake limits */
	uint32_t             accept_slot;    /* guard slot of the connection being accepted */
	int                  accept_counted; /* ... and it was counted in conns_open */
	uint32_t             conns_open;     /* accepted connections not yet destroyed */
	uint32_t             conns_max;      /* open-file limit minus a reserve */
	struct replay        replay;         /* jti of accepted tokens: sockets and webhooks alike */
	struct block_table   blocks;         /* blocked addresses (admin API, automatic) */
	struct block_policy  block_policy;
	struct log_limit     block_log;      /* automatic blocks */
	time_t               now_s;          /* wall clock as of the last tick (100 ms) */
	unsigned             ticks;
	int                  shutting_down;  /* closing sockets with 1001 */
	lws_usec_t           shutdown_deadline;
	int                  done;           /* leave the service loop */
	enum event_loop      loop;           /* the loop actually running */
	lws_sorted_usec_list_t tick;
	lws_sorted_usec_list_t flush_sul;    /* end-of-pass echo flush (ws_audio) */
	struct audio_pss    *flush_head;     /* connections with frames to send */
	int                  flush_scheduled;
	struct lws_vhost    *vhost;
	int                  listen_fd;      /* --reuse-port: our own listening socket, else -1 */
	struct lws          *listen_wsi;     /* lws's handle on it, until shutdown closes it */
	int                  worker_fd;      /* --worker-port: this process's own one, else -1 */
};

static inline struct app *app_from_wsi(struct lws *wsi)
{
	return (struct app *)lws_context_user(lws_get_context(wsi));
}

/* Create the context and start listening. Returns 0, or -1 (logged). */
int server_create(struct app *app, const struct config *cfg);

/*
 * Ask for a TLS certificate reload (SIGHUP); async-signal-safe. The service
 * loop's tick does it: new handshakes get the new pair, open calls go on.
 */
void server_request_reload(void);

/* Service until app->done; starts the graceful shutdown when *stop is set. */
void server_run(struct app *app, volatile const sig_atomic_t *stop);

void server_destroy(struct app *app);

/*
 * The client's address: the TCP peer, or, when the peer is a trusted proxy
 * (--trusted-proxy), the right-most X-Forwarded-For entry it added. Text
 * into buf (no reverse DNS); *out gets the parsed form if not NULL.
 * Returns 0, or -1 if the address is unknown: buf says "?" and *out is the
 * all-zero address (not loopback; every unknown client shares its limits).
 */
int server_client_addr(struct lws *wsi, char *buf, size_t len, struct addr *out);

/*
 * Per-address limit on connections that are not calls (guard_conn_open),
 * from the protocols' callbacks: FILTER_NETWORK_CONNECTION (returns 1
 * to refuse) and WSI_DESTROY reach "http" (protocols[0]);
 * SERVER_NEW_CLIENT_INSTANTIATED reaches "audio", the vhost default; ws_audio calls upgraded at
 * ESTABLISHED.
 */
int  server_conn_filter(struct app *app, const void *filter_args);
void server_conn_created(struct lws *wsi);
void server_conn_upgraded(struct lws *wsi);
void server_conn_destroyed(struct lws *wsi);

/* Text form only, for logs. */
void server_peer(struct lws *wsi, char *buf, size_t len);

/*
 * A request or connection from client a (NULL: unknown) was refused for
 * `reason` (enum reject_reason): count it and charge it to a for automatic
 * blocking (block.h), logging the block when it happens. The caller logs
 * the refusal itself.
 */
void server_refused(struct app *app, const struct addr *a, int reason);

/* 1 if client a is blocked now (the block's hits count it; the caller refuses it as "blocked"). */
int server_blocked(struct app *app, const struct addr *a);

/* OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS hook: `ssl_ctx` is the vhost's SSL_CTX. */
int server_tls_setup(void *ssl_ctx);
