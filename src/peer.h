/*
 * peer.h -- who is on the other end of a connection, and what they cost.
 *
 * The client address: the TCP peer, or, behind a --trusted-proxy, the
 * right-most X-Forwarded-For entry that proxy added (peer_resolve() is the
 * rule, pure; peer_addr() applies it to a connection). Connection
 * accounting: from accept (peer_conn_filter: refuse a blocked address, one
 * over --max-conns-per-addr, or one that would run the process out of
 * descriptors) through to the upgrade or the close. Refusals: every one is
 * counted by reason and charged to its client for automatic blocking
 * (peer_refused). The protocols (http.cpp, ws_audio.cpp) and the listener
 * call these; nothing here calls back into them.
 */
#pragma once
#include <libwebsockets.h>
#include <stddef.h>

#include "addr.h"

struct app;

/* The longest X-Forwarded-For we read: any header block lws accepts fits. */
#define PEER_XFF_MAX 16384

/*
 * The client address of a connection from `tcp`, given its X-Forwarded-For
 * (xff, len bytes, need not be NUL-terminated; NULL when there is none):
 * the TCP peer, unless that is one of the trusted proxies and the header
 * is present; then the header's right-most entry. Returns 0, or -1 when the
 * client is unknown (that entry is not a plain address, or the header is
 * longer than PEER_XFF_MAX): then *out is the all-zero address, never
 * loopback, shared by every unknown client.
 */
int peer_resolve(const struct addr *tcp, const char *xff, size_t len, const struct cidr *trusted, int ntrusted,
		 struct addr *out);

/*
 * peer_resolve() for a connection: its TCP peer and its X-Forwarded-For.
 * Text into buf ("?" when unknown; no reverse DNS); *out too if not NULL.
 * Returns 0, or -1 when unknown.
 */
int peer_addr(struct lws *wsi, char *buf, size_t len, struct addr *out);

/*
 * A request or connection from client a (NULL: not known yet) was refused
 * for `reason` (enum reject_reason): count it and charge it to a for
 * automatic blocking, logging the block when one happens. The caller logs
 * the refusal itself.
 */
void peer_refused(struct app *app, const struct addr *a, int reason);

/* 1 if client a is blocked now (the block's hits count it). */
int peer_blocked(struct app *app, const struct addr *a);

/*
 * Connection lifetime, from lws's callbacks: FILTER_NETWORK_CONNECTION
 * (returns 1 to refuse; `filter_args` is lws's struct
 * lws_filter_network_conn_args), SERVER_NEW_CLIENT_INSTANTIATED (created),
 * ESTABLISHED (upgraded: a call no longer counts as a pending connection)
 * and WSI_DESTROY.
 */
int  peer_conn_filter(struct app *app, const void *filter_args);
void peer_conn_created(struct lws *wsi);
void peer_conn_upgraded(struct lws *wsi);
void peer_conn_destroyed(struct lws *wsi);

/* The accept accounting's limit: the open-file limit minus a reserve. */
void peer_conns_init(struct app *app);

/*
 * Once a second: read the open-file limit again (prlimit(1) can change it
 * under a running process) and follow it, never past the limit at start
 * (lws's descriptor tables were sized from it). Logs a change.
 */
void peer_conns_follow_limit(struct app *app);
