/*
 * call_rules.h -- the rules of one call's life, without lws: the message-rate cap,
 * the idle timeout, a close asked for from outside the call's own callbacks
 * (the sweep, the operator), and counting each call's close exactly once.
 *
 * ws_audio.cpp keeps a struct call_rules in every connection's session data and
 * asks these functions what to do; it does the I/O. Time is whole seconds
 * as the server's clock gives them (clock.h), so a test can
 * drive a call through any sequence of events and seconds.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct call_rules {
	uint32_t    msgs_window;    /* frames since the sweep began this window (rate cap) */
	uint32_t    window_s;       /* ... and the second it began (the padding here: no bytes added) */
	time_t      last_rx_s;      /* second of the last data (idle timeout) */
	uint16_t    pending_close;  /* a close code asked for, not yet sent */
	const char *pending_why;    /* ... and why (a static string) */
	uint8_t     closing;        /* our close is under way */
	uint8_t     close_counted;  /* the call's close went into the stats */
};

/* The call opened at `now`. */
void call_rules_open(struct call_rules *c, time_t now);

/*
 * Data arrived at `now`; frame_end says it is a frame's last byte (a frame
 * counts once, however lws splits it into reads). Returns 1 when this frame
 * takes the window past max_rate per second of it (0 = no cap): close 1008
 * -- but ask call_rules_rate_over() with a fresh clock first. A window normally
 * lasts a second (the sweep begins the next); one that lasted longer means
 * the loop did not run (the process was stopped, or starved), and what the
 * peer sent meanwhile arrives at once: it is allowed max_rate for every
 * second the window lasted, so our stall is never the peer's flood.
 */
int call_rules_rx(struct call_rules *c, time_t now, int frame_end, int max_rate);

/* The same verdict, counting nothing, with the clock at `now`: 1 = over the cap. */
int call_rules_rate_over(const struct call_rules *c, time_t now, int max_rate);

/*
 * The loop did not run for a while (the tick saw its clock jump): a
 * silence of ours is not the peer's, so the idle clock restarts at now.
 * The rate window is left to span the stall (see call_rules_rx).
 */
void call_rules_resume(struct call_rules *c, time_t now);

/*
 * Once a second: a new message-rate window. Returns 1 when the call has had
 * no data for more than idle_s seconds (0 = no timeout) and is neither
 * closing nor asked to close already; it is then asked to close (1001).
 */
int call_rules_sweep(struct call_rules *c, time_t now, int idle_s);

/* Ask the call to close with code, for why. 0 if it is closing or already asked. */
int call_rules_ask_close(struct call_rules *c, int code, const char *why);

/* Our close of the call starts. 1 the first time (send it), 0 after. */
int call_rules_begin_close(struct call_rules *c);

/* 1 exactly once per call: the moment its close is to be counted. */
int call_rules_count_close(struct call_rules *c);

/*
 * A peer's close payload (len bytes, RFC 6455 5.5.1). *code is the code it
 * carries (1005: none; -1: a 1-byte payload). Returns 1 when it is a valid
 * close to echo, 0 when it must be answered with 1002: one byte, or a code
 * outside 1000-1003, 1007-1014, 3000-4999 (RFC 6455 7.4).
 */
int call_rules_peer_close_ok(const uint8_t *payload, size_t len, int *code);
