/*
 * report.h -- turn a finished run into what a person or a script reads,
 * and into the exit status.
 *
 * Totals are summed from the calls (report_sum); the exit status is a
 * pure function of them (report_exit_code). Output is a table on stdout by
 * default or exactly one JSON line with --json; each distinct call failure
 * goes to stderr once, with the number of calls it hit. Runs once, after
 * the engine: allocation-free but not on any hot path.
 */
#pragma once
#include <stdint.h>
#include <stdio.h>

#include "engine.h"

/* Exit statuses (also in --help). */
#define EXIT_PASS     0   /* every frame echoed bit-exact, or the --expect check held */
#define EXIT_LOSS     1   /* frames lost, mismatched or stalled; a delay/parrot check failed */
#define EXIT_USAGE    2   /* bad option, secret or WAV */
#define EXIT_NCCO     3   /* answer webhook failed or its NCCO is unusable */
#define EXIT_CONNECT  4   /* a call failed: connect, TLS, handshake refused, closed by the server */

struct report_totals {
	int      calls, established, done, failed, skipped;
	uint64_t sent, echoed, lost, mismatched, late, stalled, dtmf_sent;
	uint64_t heard, silence, heard_other, playback_overflow, clears, cleared, notify_received, notify_answered,
		 bad_commands, bad_frames;
	int      check_failed;  /* calls whose delay/parrot check failed */
	uint64_t inj_gaps, inj_gap_frames, inj_burst_frames;
	double   inj_jitter_ms; /* mean over calls that sent frames */
	enum chk_app expect;
	double   wall_s;        /* whole run */
	double   stream_s;      /* first connected call -> last call ended */
	double   cpu_pct;       /* caller-sim's CPU over wall_s, % of one core */
	double   user_s, sys_s;
};

void report_sum(const struct engine *e, struct report_totals *t);

/*
 * EXIT_CONNECT if any call failed, else EXIT_LOSS on any stall, and (echo)
 * any loss or mismatch, or (delay, parrot) any failed check; else EXIT_PASS.
 */
int report_exit_code(const struct report_totals *t);

struct report_meta {
	const char *target;        /* answer URL, or the ws URL with --ws-url */
	const char *method;        /* "GET", "POST", or "direct" */
	int         flood;
	double      duration_s;
	int         per_call;      /* list every call */
	int         json;
	enum chk_app expect;
	int         delay_ms;
	int         playback_cap;  /* 0 = off */
};

/* Print the result (table or JSON line) to out and failures to err. */
void report_print(const struct engine *e, const struct report_totals *t, const struct report_meta *m,
		  FILE *out, FILE *err);
