/*
 * peer.h -- who is on the other end of a connection, and what they cost.
 *
 * The client address: the TCP peer, or, behind a --trusted-proxy, the
 * right-most X-Forwarded-For entry that proxy added (peer_resolve() is the
 * rule, pure; peer_identify() applies it to a request). Who is the
 * operator: only the TCP peer itself may be loopback, and only on a request
 * that no proxy forwarded (peer_is_local(): a forwarded 127.0.0.1, or a
 * local nginx passing an internet client's request on, is never the
 * operator's own host). Connection
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
#include "log.h"

struct server;

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
 * 1 if a request from TCP peer `tcp` is the operator's own host: the peer
 * is loopback and the request carries no proxy header (`proxied`). Whatever
 * a proxy forwards, even "127.0.0.1", came from somewhere else.
 */
int peer_is_local(const struct addr *tcp, int proxied);

/* Who sent a request, as far as the server may believe it. */
struct peer {
	struct addr client;              /* limits, blocks, strikes, logs */
	char        text[ADDR_STR_MAX];  /* client as text, "?" when unknown (no reverse DNS) */
	int         known;               /* client is an address, not the shared unknown one */
	int         proxied;             /* the request carries a proxy header (X-Forwarded-For, ...) */
	int         untrusted_proxy;     /* ... from a TCP peer that is not a --trusted-proxy */
	int         local;               /* peer_is_local(): the operator's own host */
};

/* peer_resolve() and peer_is_local() for a request on wsi. 0, or -1 when the client is unknown. */
int peer_identify(struct lws *wsi, struct peer *p);

/*
 * peer_identify()'s client only: text into buf, *out too if not NULL.
 * Returns 0, or -1 when unknown.
 */
int peer_addr(struct lws *wsi, char *buf, size_t len, struct addr *out);

/*
 * Once per request (the HTTP callback, the upgrade): a request with proxy
 * headers from a peer that is not a --trusted-proxy is counted, and said
 * loudly the first time (then once an hour): the deployment forwards
 * through a proxy the server was not told about, so every client looks
 * like the proxy, and limits, blocks and the log cannot tell them apart.
 */
void peer_note_request(struct server *srv, const struct peer *p);

/*
 * A request or connection from client a (NULL: not known yet) was refused
 * for `reason` (enum reject_reason): count it and charge it to a for
 * automatic blocking, logging the block when one happens. The caller logs
 * the refusal itself.
 */
void peer_refused(struct server *srv, const struct addr *a, int reason);

/*
 * Write a refusal line about client a (NULL: not known) through lim: first
 * out of a's own share of the log (guard_log_allow), then under lim's
 * process-wide cap. One client's flood thus spends only its own lines and
 * can no longer hide another's refusals from the log (and from fail2ban).
 * A line written after some of the client's were held back says how many
 * (field "held_back"). f holds at most 8 fields. Returns 1 if written.
 */
int peer_log(struct server *srv, struct log_limit *lim, const struct addr *a, const struct log_field *f, size_t n,
	     const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* 1 if client a is blocked now (the block's hits count it). */
int peer_blocked(struct server *srv, const struct addr *a);

/*
 * Connection lifetime, from lws's callbacks: FILTER_NETWORK_CONNECTION
 * (returns 1 to refuse; `filter_args` is lws's struct
 * lws_filter_network_conn_args), SERVER_NEW_CLIENT_INSTANTIATED (created),
 * ESTABLISHED (upgraded: a call no longer counts as a pending connection)
 * and WSI_DESTROY.
 */
int  peer_conn_filter(struct server *srv, const void *filter_args);
void peer_conn_created(struct lws *wsi);
void peer_conn_upgraded(struct lws *wsi);
void peer_conn_destroyed(struct lws *wsi);

/* The accept accounting's limit (the open-file limit minus a reserve) and its records; freed after the context. */
void peer_conns_init(struct server *srv);
void peer_conns_free(struct server *srv);

/*
 * Once a second: read the open-file limit again (prlimit(1) can change it
 * under a running process) and follow it, never past the limit at start
 * (lws's descriptor tables were sized from it). Logs a change.
 */
void peer_conns_follow_limit(struct server *srv);
