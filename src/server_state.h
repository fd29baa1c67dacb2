/*
 * server_state.h -- struct server: the state every part of the server
 * shares, in one struct.
 *
 * main() owns one struct server (static storage: zeroed, and the big tables
 * in it stay off the stack and out of RSS until used); server.cpp fills it
 * in and hands it to lws as the context's user pointer, so every callback
 * reaches it with server_from_wsi() -- no globals but the signal flags. The
 * protocols and what they use include this header, never server.h (the
 * lifecycle, which includes them): the include graph stays one way.
 * Who writes what:
 *   server.cpp    ctx, vhost, loop, protocols, voice settings, the tick and
 *                 shutdown state
 *   peer.cpp      conns (accept accounting); counts refusals into stats
 *   listener.cpp  listen (the --reuse-port sockets)
 *   tls_server.cpp tls (the live SSL_CTX, for SIGHUP)
 *   http.cpp, ws_audio.cpp (the protocols) read cfg and the tables and
 *                 update stats, guard, replay and blocks; they never call
 *                 into server.cpp.
 */
#pragma once
#include <libwebsockets.h>
#include <stdint.h>
#include <time.h>

#include "admission.h"
#include "auth_jwt.h"
#include "block.h"
#include "calls.h"
#include "config.h"
#include "guard.h"
#include "log.h"
#include "replay.h"
#include "replay_store.h"
#include "slot_pool.h"
#include "stats.h"
#include "voice.h"

/* A connection that is not (yet) a call, oldest first (peer.cpp). */
struct pending_conn {
	struct lws *wsi;
	uint32_t    slot;        /* its guard slot (its client's pending count), or GUARD_NO_SLOT */
	uint32_t    prev, next;  /* indexes in app_conns.pend, PENDING_NONE at the ends */
	int         evicting;    /* asked to close to make room; not chosen again */
};
#define PENDING_NONE 0xffffffffu

/* Connections accepted and not yet destroyed (peer.cpp). */
struct server_conns {
	uint32_t slot;       /* guard slot of the connection being accepted */
	int      counted;    /* ... and it was counted in open */
	uint32_t open;       /* accepted connections not yet destroyed */
	uint32_t max;        /* open-file limit minus a reserve */
	struct pending_conn *pend;   /* max records (calloc'd once); free ones chained by next */
	uint32_t pend_cap, pend_free, oldest, newest;
	uint32_t unslotted;  /* pending connections without a guard slot (trusted proxies, exempt) */
	uint32_t evicting;   /* evictions asked for and not yet destroyed */
	uint64_t evicted;    /* pending connections closed to make room for a new one */
	uint32_t limit_start; /* the open-file limit at start (lws sized its tables from it) */
	uint32_t limit;      /* ... as last read (once a second: peer_conns_follow_limit) */
};

/* --reuse-port listening sockets of our own (listener.cpp). */
struct server_listen {
	int         fd;      /* the shared port, else -1 */
	struct lws *wsi;     /* lws's handle on it, until shutdown closes it */
	int         worker_fd; /* --worker-port: this process's own one, else -1 */
	int         lws_fd;    /* lws's own listening socket (no --reuse-port), else -1 */
	int         spare_fd;  /* kept for listener_shed (out of descriptors), else -1 */
};

enum { SERVER_PROTO_HTTP = 0, SERVER_PROTO_AUDIO, SERVER_PROTO_LISTENER, SERVER_PROTOS };

struct server {
	const struct config *cfg;
	struct lws_context  *ctx;
	struct lws_vhost    *vhost;
	enum event_loop      loop;           /* the loop actually running */
	struct lws_protocols protocols[SERVER_PROTOS + 1]; /* + lws's terminator */
	lws_retry_bo_t       retry;          /* ping and hang-up timing of every connection */

	struct auth_cfg      auth;           /* the JWT rules, from cfg */
	struct admission     admission;      /* every admit-or-refuse decision (admission.h) */
	struct stats         stats;
	struct calls         calls;          /* every open call (calls.h) */
	struct guard         guard;          /* per-address limits and strikes */
	struct replay       *replay_local;   /* this process's jti table (memory store, Redis's fallback; NULL with a file) */
	struct replay_sizing replay_size;    /* what the configuration asks of the jti table */
	struct replay_store  replay;         /* jti of accepted tokens: sockets and webhooks alike */
	struct block_table   blocks;         /* blocked addresses (admin API, automatic) */
	struct block_policy  block_policy;
	struct { uint64_t evicted, full; } blocks_said;   /* the block table's losses already logged */
	struct slot_pool     pool;           /* the frame slots every call's ring borrows (ws_audio) */
	struct log_limit     reject_log;     /* refused connections, handshakes, requests */
	struct log_limit     bad_input_log;  /* malformed text / webhook bodies */
	struct log_limit     limit_log;      /* calls closed by a per-call limit */
	struct log_limit     block_log;      /* automatic blocks */
	struct log_limit     evict_log;      /* pending connections closed to make room */
	struct voice_opts    voice;          /* the apps' settings, from cfg */
	const struct voice_app *start_app;   /* --app: where every call starts */

	struct server_conns     conns;
	time_t               proxy_warned_at; /* peer_note_request()'s last loud line */
	struct server_listen    listen;
	void                *tls;            /* the vhost's SSL_CTX (lws owns it), NULL without TLS */

	time_t               last_tick_s;    /* when the tick last ran (a later one finds a stalled loop) */
	unsigned             ticks;
	int                  draining;       /* SIGTERM: no new connections, calls go on */
	uint64_t             drain_deadline; /* clock_mono_us() */
	time_t               drain_next_log;
	int                  shutting_down;  /* closing sockets with 1001 */
	uint64_t             shutdown_deadline;
	int                  done;           /* leave the service loop */
	lws_sorted_usec_list_t tick;
};

static inline struct server *server_from_wsi(struct lws *wsi)
{
	return (struct server *)lws_context_user(lws_get_context(wsi));
}

