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
 */
#pragma once
#include <libwebsockets.h>

struct app;

/* Bind app->cfg's port (SO_REUSEPORT) and --worker-port. 0, or -1 (logged; nothing left open). */
int listener_open(struct app *app);

/* Put the open sockets into lws's loop (the vhost must exist). 0, or -1 (logged). */
int listener_attach(struct app *app);

/* Leave the shared port (shutdown): the other workers get its new connections. */
void listener_leave(struct app *app);

/* Close sockets lws never adopted (a start that failed before listener_attach). */
void listener_close(struct app *app);

/* Protocol callback of the "listener" protocol (raw descriptors). */
int listener_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
