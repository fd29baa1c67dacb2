/*
 * server.h -- the one libwebsockets context: create, run, destroy.
 *
 * main() owns a struct app (app.h) and hands it here; server_create() fills
 * it in, builds the context with the protocols http (http.cpp), audio
 * (ws_audio.cpp) and listener (listener.cpp), and starts listening;
 * server_run() services it until a stop signal's graceful shutdown is over.
 */
#pragma once
#include <signal.h>

#include "app.h"

/* server_create(): a state file or what the configuration asks is refused
 * (logged): a restart cannot help, main() exits 2 */
#define SERVER_REFUSED 2

/* Create the context and start listening. Returns 0, SERVER_REFUSED, or -1 (logged). */
int server_create(struct app *app, const struct config *cfg);

/*
 * Ask for a TLS certificate reload (SIGHUP); async-signal-safe. The service
 * loop's tick does it: new handshakes get the new pair, open calls go on.
 */
void server_request_reload(void);

/* Service until the shutdown is over; starts it when *stop is set. */
void server_run(struct app *app, volatile const sig_atomic_t *stop);

void server_destroy(struct app *app);
