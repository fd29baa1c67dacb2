/*
 * server.h -- the one libwebsockets context: create, run, destroy.
 *
 * main() hands its struct server (server_state.h) here; server_create()
 * fills it in, builds the context with the protocols http (http.cpp), audio
 * (ws_audio.cpp) and listener (listener.cpp), and starts listening;
 * server_run() services it until a stop signal's graceful shutdown is over.
 */
#pragma once
#include <signal.h>

#include "server_state.h"

/* server_create(): the configuration cannot work, found by trying it (exit 2) */
#define SERVER_BAD_CONFIG (-2)

/*
 * Create the context and start listening. Returns 0, -1 (logged), or
 * SERVER_BAD_CONFIG (logged): a restart cannot help -- a state file another
 * user could write or that is not whole, a jti table too big, or what the
 * options name refuses us (Redis refused the password, its certificate did
 * not verify, or it is not on this host and the options leave it unprotected).
 */
int server_create(struct server *srv, const struct config *cfg);

/*
 * Ask for a TLS certificate reload (SIGHUP); async-signal-safe. The service
 * loop's tick does it: new handshakes get the new pair, open calls go on.
 */
void server_request_reload(void);

/*
 * A signal with no stop or reload meaning arrived (main.cpp's handler);
 * async-signal-safe. The tick answers it within 100 ms: SIGUSR1 and SIGUSR2
 * write the status line (server_log_status), any other one a line saying
 * it was ignored. Several of one kind before the tick count as one.
 */
void server_note_signal(int sig);

/* One line in the log, whatever --log-level: calls open, serving or draining, connections, limits. */
void server_log_status(struct server *srv, const char *why);

/* Service until the shutdown is over; starts it when *stop is set. */
void server_run(struct server *srv, volatile const sig_atomic_t *stop);

void server_destroy(struct server *srv);
