/*
 * opts.h -- caller-sim's command line: defaults, then environment
 * (VONAGE_SIGNATURE_SECRET[_FILE], VONAGE_APPLICATION_ID), then flags, then
 * range checks. One struct, read-only once main has it; a bad value is one
 * line naming the flag (exit status 2).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define OPTS_SECRET_MAX 512
#define OPTS_NUMBER_MAX 64

struct sim_opts {
	const char *answer_url;         /* positional; NULL with ws_url */
	const char *ws_url;             /* --ws-url: dial directly, no NCCO */
	int         post;               /* --answer-method POST */
	char        to[OPTS_NUMBER_MAX], from[OPTS_NUMBER_MAX];
	int         rate;               /* --rate, for --ws-url */
	uint8_t     secret[OPTS_SECRET_MAX];
	size_t      secret_len;         /* 0 = none given */
	const char *application_id;
	int         insecure;
	const char *cafile;
	const char *wav;
	double      duration_s;         /* 0 = WAV length, or 10 s */
	const char *dtmf;
	const char *record;
	int         calls;
	double      ramp;
	int         flood;
	int         drain_ms;
	int         connect_timeout_ms;
	int         http_timeout_ms;
	int         batch_us;
	int         json, per_call, quiet;
	int         print_token;         /* --print-token: mint one JWT, print it, exit */
	/* what Vonage does with the audio it receives (engine.h "Playback") */
	int         playback_cap;        /* frames; 0 = playback off (see opts_parse) */
	int         expect;              /* enum chk_app: echo, delay, parrot */
	int         delay_ms;            /* --expect delay=MS */
	int         talk_ms, pause_ms;   /* --talk / --pause; 0 = talk all along */
	int         barge_in;            /* --barge-in given */
	int         barge_ms;
	/* impairments (engine.h) */
	int         jitter_ms;          /* --jitter */
	int         gap_every, gap_len; /* --gap-every, --gap-len (default 5) */
	int         burst;              /* --burst */
};

enum opts_result { OPTS_OK = 0, OPTS_HELP, OPTS_ERR };

/* Fill o from the environment and argv. OPTS_ERR leaves the reason in err. */
enum opts_result opts_parse(struct sim_opts *o, int argc, char **argv, char *err, size_t errlen);

/* The --help text. */
const char *opts_usage(void);
