/*
 * voice.h -- the seam between the audio WebSocket (ws_audio.cpp, the
 * transport) and a voice app (src/apps/): the transport's side. What
 * an app sees of a call and may do is voice_app.h, included here; this
 * header adds what only the transport and the seam touch: the call's
 * whole record, the settings every call shares, and how frames and events
 * get in. No lws here: tests/unit/test_voice.cpp drives calls through it
 * with a fake transport.
 *
 * In: the transport receives each binary message into the receive slot of
 * the call's ring (ring.h) and calls voice_frame(); the app gets the frame
 * in place and either echoes it (voice_echo: the slot itself joins the send
 * queue, no copy) or not (the slot takes the next message). Text messages
 * are parsed by vonage_msg and arrive through voice_event_in(): the first
 * websocket:connected opens the app (or the first frame does, for a client
 * that sends none), dtmf, cleared, notify and unknown events are handed on.
 * Every 20 ms, if the app has a tick, voice_tick() runs it for paced output.
 *
 * Out: audio the app makes (voice_send_audio, copied into a free slot) and
 * its commands (voice_clear, voice_notify) join the same queue as echoed
 * frames, in the order the app made them -- a notify sent after some audio
 * is answered by Vonage once that audio has played. The transport is
 * kicked and sends the queue at the end of the event-loop pass.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ring.h"
#include "voice_app.h"
#include "vonage_msg.h"

/* What every call shares, from the command line (config.h); the apps'
 * own options are theirs (struct voice_opt). */
struct voice_opts {
	int dtmf_switch;     /* digits 1..n switch the call between the apps on the list */
	int default_rate;    /* the call's rate until websocket:connected says (--rate) */
	uint32_t slot_bytes; /* the largest frame the ring holds (--slot-bytes) */
	/* every call's app heap blocks together may not pass heap_max bytes
	 * (--app-memory-max): a caller pressing 3 must not be able to take the
	 * process's memory. heap_in_use is shared by all calls (NULL: no limit). */
	uint64_t  heap_max;
	uint64_t *heap_in_use;
	/* lines about calls the per-call log budget left out, all calls
	 * together (voice_log_ok; NULL: not counted) */
	uint64_t *log_suppressed;
};

/* What the seam needs from the transport; a test passes fakes. */
struct voice_transport {
	void (*kick)(void *arg);                           /* the queue has something to send */
	void (*hangup)(void *arg, int code, const char *why);
	void (*ticking)(void *arg, int on);                /* call voice_tick every 20 ms, or stop */
};

struct voice_counters {
	uint64_t app_frames;     /* audio frames the app made and queued */
	uint64_t tx_full;        /* ... and had refused: the queue was full */
	uint64_t clear_sent, notify_sent;
	uint64_t cleared, notified;   /* Vonage's answers: websocket:cleared / :notify */
	uint64_t cleared_frames; /* our queued frames a clear discarded before sending */
	uint32_t switches;       /* DTMF app switches */
	uint32_t refused;        /* apps not opened: their heap block did not fit --app-memory-max */
};

/*
 * A call's own log budget (voice_log_ok): a caller can press keys, switch
 * apps and send events as fast as --max-msg-rate lets it, and each of those
 * writes a line. At most VOICE_LOG_BURST such lines per VOICE_LOG_WINDOW_S
 * seconds per call are written; the rest are counted.
 */
struct voice_log {
	uint32_t window_s;    /* second the current window began (from now_us) */
	uint32_t tries;       /* lines asked for in it, written or not */
};

struct voice_call {
	struct ring                  *ring;      /* not owned */
	const struct voice_transport *tp;
	void                         *tp_arg;
	const struct voice_opts      *opts;
	const struct voice_app       *app;       /* current app */
	const struct voice_app *const *apps;     /* the switchable apps, digit 1 first */
	int                           napps;
	uint64_t                      id;        /* the call's number in logs and stats */
	struct voice_info             info;
	uint64_t                      now_us;    /* stamped by the transport before each call in */
	uint8_t                      *heap;      /* the app's heap block (owned, freed at close) */
	size_t                        heap_len;
	uint8_t                       opened;    /* the app's open() ran */
	uint8_t                       in_frame;  /* inside app->frame(): voice_echo is allowed */
	uint8_t                       decided;   /* this frame was echoed or dropped */
	uint8_t                       hung_up;
	uint32_t                      log_suppressed; /* lines about this call left out (voice_log_ok) */
	struct voice_counters         n;
	struct voice_log              log;       /* (the padding before state: no bytes added) */
	alignas(16) uint8_t           state[VOICE_STATE_MAX];
};

/* ---- the transport's side -------------------------------------------------- */

/*
 * A call's WebSocket opened: set c up (nothing is allocated; the app opens
 * at websocket:connected or the first frame). apps[0..napps) are the apps
 * DTMF digits 1..napps switch to.
 */
void voice_init(struct voice_call *c, struct ring *ring, const struct voice_transport *tp, void *tp_arg,
		const struct voice_opts *o, const struct voice_app *app, const struct voice_app *const *apps,
		int napps, uint64_t id);

/* A complete binary message is in the ring's receive slot: give it to the app. */
void voice_frame(struct voice_call *c);

/* A parsed text message (raw: as received, for the NCCO headers). */
void voice_event_in(struct voice_call *c, const struct ws_event *ev, const char *raw, size_t raw_len);

/* 20 ms passed (only while the transport was told ticking(1)). */
void voice_tick(struct voice_call *c);

/* The call is over: the app's close(), its heap freed. Safe to call twice. */
void voice_close(struct voice_call *c);

/* What an app may use of the call and do with it: voice_app.h (voice.cpp has both sides). */
