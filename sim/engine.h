/*
 * engine.h -- caller-sim's load engine: every simulated call, from TCP
 * connect to close, on one thread around one epoll loop.
 *
 * Data flow per call: start (at its ramp time) -> non-blocking connect ->
 * TLS (wss) -> upgrade request with the Authorization the NCCO asks for ->
 * 101 -> websocket:connected text -> one binary frame per 20 ms tick (or,
 * with flood, K frames kept in flight) -> after the last frame wait for the
 * echoes (drain) -> close 1000 -> done. Echoes are matched to what was sent
 * by the stamp in their first bytes (audio.h) and compared bit for bit;
 * round-trip times and send lag go into fixed histograms (pctl.h).
 *
 * Timing: each call owns a phase in the 20 ms period (call i of N at
 * i*20/N ms), so N calls send evenly spread, not in one burst. One binary
 * heap keyed by "next deadline" holds every live call (next frame, or a
 * connect/drain/close timeout); the loop sleeps in epoll_pwait2 until the
 * earliest one with nanosecond resolution, but never wakes twice within
 * batch_us (100 us by default): at 1,500 calls a wakeup per tick and per
 * echo was ~150,000 sleeps a second and cost almost half the core, while
 * a tick sent up to 100 us late is far inside the 2 ms send-lag budget.
 * Round-trip times therefore do not end when the loop gets round to an
 * echo: they end at the kernel's receive timestamp of the echo
 * (SO_TIMESTAMPNS, CLOCK_REALTIME; both ends of an RTT use that clock).
 * Over wss the timestamp is not reachable through OpenSSL, so there an
 * RTT ends at the read and may include up to batch_us.
 *
 * Playback (engine_opts.playback_cap > 0; opts.cpp says when it is on): the
 * call also plays Vonage's part for audio the server sends. Each frame
 * that arrives is queued in the call's playback buffer (playback.h); at
 * every 20 ms tick, before the caller's frame goes out, one frame is
 * "heard" (silence when none waits), recorded (--record), shown to the
 * scripted caller (script.h: talk/pause/barge-in) and to the app's checker
 * (check.h). The server's text commands clear and notify are answered as
 * Vonage does (websocket:cleared, websocket:notify when playback reaches
 * the mark). Ticks go on through the drain, which ends when nothing more
 * is expected (echo: every frame back and heard; delay/parrot: chk_done)
 * or after drain_ms. Without playback, clear and notify are answered at
 * once, as if every frame were played the moment it arrived.
 *
 * Memory: all calls are allocated at engine_init (about 25 KiB each:
 * socket buffers, the echo-matching window and a histogram); with playback
 * each call also gets a struct call_play and cap frames of buffer (about
 * 3 MiB at 24 kHz with the default 3072), which is why playback is off for
 * plain echo load. The frame path builds frames in the call's output buffer
 * and never allocates. What the engine never does: DNS, blocking I/O, or
 * printing per frame.
 */
#pragma once
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "audio.h"
#include "check.h"
#include "ledger.h"
#include "ncco_check.h"
#include "pctl.h"
#include "playback.h"
#include "script.h"
#include "url.h"
#include "util.h"
#include "wav.h"
#include "wsframe.h"

#define ENGINE_PERIOD_NS  20000000ull   /* one frame per 20 ms */
#define ENGINE_LATE_US    20000         /* an echo later than one frame period is "late" */
#define ENGINE_WIN        LEDGER_WIN    /* frames a call may have in flight (5 s paced) */
#define ENGINE_IN_CAP     8192
#define ENGINE_OUT_CAP    8192
#define ENGINE_MSG_CAP    4096          /* a fragmented message, reassembled */
#define ENGINE_ERR_MAX    200
#define ENGINE_FLOOD_MAX  64

/* Where and how to place one call: filled by main before the run, read-only here. */
struct call_target {
	struct ncco_ws          ncco;
	struct url              url;        /* parsed ncco.uri */
	struct sockaddr_storage addr;       /* resolved before the run: no DNS in the loop */
	socklen_t               addrlen;
	char                    uuid[UTIL_UUID_LEN + 1];
};

enum call_state {
	CALL_WAITING = 0,   /* not started yet (ramp) */
	CALL_CONNECTING, CALL_TLS, CALL_UPGRADE,
	CALL_STREAM,        /* sending audio */
	CALL_DRAIN,         /* all sent, waiting for the last echoes */
	CALL_CLOSING,       /* close sent, waiting for the server's */
	CALL_DONE,          /* ended cleanly */
	CALL_FAILED,        /* see call.err */
	CALL_SKIPPED,       /* never started (interrupted during the ramp) */
};

struct call_result {
	uint64_t sent;        /* binary frames written */
	uint64_t echoed;      /* echoes that named a frame we had in flight */
	uint64_t lost;        /* sent, never echoed, or echoed after ENGINE_WIN newer frames were sent */
	uint64_t mismatched;  /* echoes whose bytes differ from what was sent, duplicates, or naming no frame */
	uint64_t late;        /* echoes with RTT > ENGINE_LATE_US (also those too late to count) */
	uint64_t stalled;     /* ticks with no room to write: the server was not reading */
	uint32_t dtmf_sent;
	int      close_code;  /* the server's close code, 0 if none */
	uint32_t setup_us;    /* connect -> 101 */
	struct pctl rtt;      /* us */
	/* playback (zero when it is off, except the commands) */
	uint64_t heard;       /* playout ticks that played a frame */
	uint64_t silence;     /* playout ticks with nothing to play */
	uint64_t heard_other; /* heard frames without a stamp (beeps, the server's own audio) */
	uint64_t playback_overflow;   /* frames dropped: the buffer was full */
	uint64_t clears;      /* clear commands received */
	uint64_t cleared;     /* frames they discarded */
	uint64_t notify_received, notify_answered;
	uint64_t bad_commands;        /* text that is not clear or notify with an object payload */
	uint64_t bad_frames;          /* binary frames of the wrong size (not queued) */
	/* impairments injected (--jitter, --gap-every, --burst) */
	uint64_t inj_gaps, inj_gap_frames, inj_burst_frames;
	int64_t  inj_jitter16_us;     /* RFC 3550 J over send times, µs x 16 */
	int      check_failed;        /* the --expect app's check (delay, parrot) */
	char     check[CHK_WHY_MAX];  /* its first fault, "" when it passed */
};

/* Per-call playback state, allocated at engine_init only when playback is on. */
struct call_play {
	struct playback pb;
	struct script   sc;
	struct check    ck;
	uint32_t tick;                  /* playout ticks since the stream began */
	uint64_t drain_end;
};

struct call {
	const struct call_target *t;
	const struct audio_src   *src;
	enum call_state state;
	int       idx;
	int       fd;
	SSL      *ssl;
	uint32_t  ev;                   /* epoll events registered (0 = not added) */
	int       heap_pos;             /* -1 when not scheduled */
	uint64_t  due;                  /* heap key, ns */
	uint64_t  phase;                /* offset in the 20 ms period, ns */
	uint64_t  t_start;              /* connect began */
	uint64_t  stream_end;           /* flood: when to stop sending */
	uint32_t  ticks, total;         /* paced: ticks done / to do */
	uint64_t  grid;                 /* paced: this tick's place on the 20 ms grid (due minus --jitter) */
	uint32_t  held;                 /* --burst: frames of the current gap, sent after it */
	uint32_t  sent_tick;            /* tick of the last frame sent on its own tick */
	uint64_t  last_sent_ns;         /* ... and when (0 = none yet) */
	struct ledger led;              /* frames in flight, what each echo means (ledger.h) */
	struct call_play *pl;           /* NULL when playback is off */
	uint32_t  dtmf_idx;
	uint64_t  dtmf_due;
	uint32_t  in_len, out_off, out_len, msg_len;
	int       msg_op;               /* opcode of the message being reassembled, -1 none */
	char      key[WSF_KEY_LEN + 1];
	struct call_result r;
	char      err[ENGINE_ERR_MAX];
	uint8_t   in[ENGINE_IN_CAP];
	uint8_t   out[ENGINE_OUT_CAP];
	uint8_t   msg[ENGINE_MSG_CAP];
};

struct engine_opts {
	int          calls;
	double       ramp;              /* calls started per second; 0 = all at once */
	double       duration_s;        /* audio per call */
	int          flood;             /* 0 = paced; K = frames kept in flight */
	int          drain_ms;
	int          connect_timeout_ms;
	int          batch_us;          /* shortest gap between two loop wakeups; 0 = none */
	const char  *dtmf;              /* digits, "" for none */
	int          progress;          /* print a live line on stdout */
	SSL_CTX     *tls;               /* for wss */
	int          insecure;
	const uint8_t *secret;          /* for authorization type vonage */
	size_t       secret_len;
	const char  *application_id;
	const struct audio_src *src[3]; /* by rate: 8000, 16000, 24000 (NULL if unused) */
	struct wav_writer *record;      /* what call 1 hears (playback is on), or NULL */
	uint32_t     playback_cap;      /* frames; 0 = playback off */
	enum chk_app expect;
	uint32_t     delay_ms;          /* expect delay=MS */
	uint32_t     talk_ms, pause_ms; /* 0 = no script: talk all along */
	int          barge_in;
	uint32_t     barge_ms;
	/* impairments: a network between Vonage and the server (opts.h) */
	uint32_t     jitter_ms;
	uint32_t     gap_every, gap_len;
	int          burst;
};

struct engine {
	const struct engine_opts *o;
	const struct call_target *targets;
	struct call  *calls;
	struct call **heap;
	int       n, heap_n, active, next_start, established;
	int       epfd;
	uint64_t  t0, t_end, first_stream, last_end;
	uint64_t  rt0;                  /* CLOCK_REALTIME at t0: the RTT clock's origin */
	uint64_t  last_wake;            /* when the loop last returned from epoll */
	uint64_t  rng;                  /* mask keys: xorshift, seeded from getrandom */
	uint64_t  tot_sent, tot_echoed, tot_lost, tot_mismatched;   /* live, for progress */
	uint64_t  next_progress;
	int       stopping;
	struct rusage ru0, ru1;
	struct pctl lag;                /* send lag, us: actual write time - tick */
	struct pctl rtt;                /* every echo of every call */
	struct pctl setup;              /* connect -> 101, us */
};

/*
 * Allocate n calls for targets[0..n) (which must outlive the engine).
 * Returns 0, or -1 with err (nothing left allocated).
 */
int engine_init(struct engine *e, const struct engine_opts *o, const struct call_target *targets, int n,
		char *err, size_t errlen);

/*
 * Place every call and run until all have ended. *stop (set by a signal)
 * ends the ramp and the streams early; calls then drain and close as usual.
 * Returns 0, or -1 if the loop itself failed (epoll), with err.
 */
int engine_run(struct engine *e, volatile sig_atomic_t *stop, char *err, size_t errlen);

void engine_free(struct engine *e);

const char *engine_state_str(enum call_state s);
