/*
 * listener.h -- --reuse-port: listening sockets of our own, fed to lws.
 *
 * lws 4.1.6 sets SO_REUSEPORT only for multi-threaded contexts, and
 * Debian's build has one thread, so for several processes on one port we
 * bind the socket ourselves (listener_open), watch it through lws as a raw
 * descriptor (listener_attach; the "listener" protocol's callback is
 * listener_callback) and hand each accepted socket to lws, which then
 * treats it exactly as one from its own listener -- after peer.cpp's
 * accept-time checks, as lws would run them. --worker-port adds a second,
 * unshared socket: that process's own, for reading its /stats.json alone.
 * On shutdown listener_leave() closes the shared one at once.
 *
 * Out of descriptors (the open-file limit lowered under a running server,
 * or the host's file table full), accept() fails with EMFILE and leaves
 * the connection queued: the listening socket stays readable and the loop
 * spins -- ours and lws 4.1.6's alike (ops-listen.c logs "accept: errno 24"
 * and returns). listener_shed() is the way out, for both: give back a spare
 * descriptor kept for this, accept what is queued and close it at once
 * (conns_full), take the spare again. Clients then fail fast instead of the
 * loop burning a core, and the calls already open go on.
 */
#pragma once
#include <libwebsockets.h>

struct server;

/* Bind srv->cfg's port (SO_REUSEPORT) and --worker-port. 0, or -1 (logged; nothing left open). */
int listener_open(struct server *srv);

/* Put the open sockets into lws's loop (the vhost must exist). 0, or -1 (logged). */
int listener_attach(struct server *srv);

/* Leave the shared port (shutdown): the other workers get its new connections. */
void listener_leave(struct server *srv);

/* Close sockets lws never adopted (a start that failed before listener_attach). */
void listener_close(struct server *srv);

/* At start, before lws opens anything: the spare descriptor listener_shed gives back. */
void listener_spare_open(struct server *srv);

/* After the vhost exists: find lws's own listening socket (without --reuse-port), for listener_shed. */
void listener_find_lws_socket(struct server *srv);

/*
 * accept() on lfd failed for want of a descriptor (EMFILE, ENFILE): close
 * everything queued on it, each counted and logged as conns_full, using the
 * spare. Returns how many were closed. lfd -1: nothing to do.
 */
int listener_shed(struct server *srv, int lfd);

/* lws logged a failed accept on its own listener (server.cpp's lws log callback). */
void listener_lws_accept_failed(struct server *srv, int err);

/* Close the spare (server_destroy). */
void listener_spare_close(struct server *srv);

/* Protocol callback of the "listener" protocol (raw descriptors). */
int listener_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
