/*
 * voice.h -- the seam between the audio WebSocket (ws_audio.cpp, the
 * transport) and a voice app (app_*.cpp): what an app sees of a call, and
 * what it may do. No lws here: tests/unit/test_voice.cpp drives calls
 * through it with a fake transport.
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
 *
 * Rules for an app: every callback runs on the event loop, so it must not
 * block (no file or network I/O, no sleeping); slow work goes to a thread
 * of the app's own that hands results back (docs/apps.md). State lives in
 * the fixed per-call area (state_bytes, at most VOICE_STATE_MAX) and, for a
 * large buffer, the heap block the seam allocates once at open
 * (heap_bytes); nothing may be allocated per frame.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ring.h"
#include "vonage_msg.h"

#define VOICE_STATE_MAX 128   /* fixed per-call state an app may declare, bytes (more: heap_bytes) */
#define VOICE_FRAME_MS 20

/* The apps' settings, from the command line (config.h). */
struct voice_opts {
	int echo_max_ms;     /* echo: most latency a burst may add (0 = keep every frame) */
	int delay_ms;        /* delay: how late the caller hears themselves */
	int parrot_max_ms;   /* parrot: longest recording */
	int parrot_level;    /* parrot: a sample this loud or louder counts as voice */
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

/* What an app is told about its call; filled at open. */
struct voice_info {
	char     uuid[VONAGE_UUID_MAX];
	char     from[VONAGE_UUID_MAX];
	char     to[VONAGE_UUID_MAX];
	int      rate;             /* 8000, 16000 or 24000 */
	uint32_t frame_bytes;      /* one 20 ms frame at that rate: 320, 640, 960 */
	/* the websocket:connected message as received: its fields beyond these
	 * are the NCCO's headers. Valid only during open() and a CONNECTED
	 * event; "" when audio began without one. */
	const char *connected;
	size_t   connected_len;
};

enum voice_event_type {
	VOICE_EV_CONNECTED,   /* a websocket:connected after the app opened (info updated) */
	VOICE_EV_DTMF,        /* a key press that did not switch apps */
	VOICE_EV_CLEARED,     /* Vonage confirms a clear: its queued audio is gone */
	VOICE_EV_NOTIFY,      /* Vonage reached a notify: payload is the object we sent */
	VOICE_EV_OTHER,       /* any other event name */
};

struct voice_event {
	enum voice_event_type type;
	char        digit;     /* DTMF: '0'-'9', '*', '#', 'A'-'D' */
	const char *payload;   /* NOTIFY: compact JSON object, "" if none or unusable */
	const char *name;      /* the event's name as sent */
};

struct voice_call;

/* An app: its name, its state size, and what it does at each point of a call. */
struct voice_app {
	const char *name;
	const char *talk_text;   /* the NCCO's talk text for this app (--talk-text overrides) */
	size_t      state_bytes; /* zeroed before open */
	/* a heap block allocated once at open and freed at close (NULL: none) */
	size_t (*heap_bytes)(const struct voice_opts *o);
	int  (*open)(struct voice_call *c, void *st);   /* 0, or -1: the call is hung up 1011 */
	void (*frame)(struct voice_call *c, void *st, const uint8_t *pcm, uint32_t len);
	void (*event)(struct voice_call *c, void *st, const struct voice_event *ev);   /* NULL: ignore */
	void (*tick)(struct voice_call *c, void *st);     /* every 20 ms; NULL: not needed */
	void (*close)(struct voice_call *c, void *st);    /* NULL: nothing to do */
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
 * A call's own log budget: a caller can press keys, switch apps and send
 * events as fast as --max-msg-rate lets it, and each of those writes a line.
 * At most VOICE_LOG_BURST such lines per VOICE_LOG_WINDOW_S seconds per call
 * are written; the rest are counted (voice_log_ok).
 */
#define VOICE_LOG_BURST    10
#define VOICE_LOG_WINDOW_S 10
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

/* ---- the app's side --------------------------------------------------------- */

/* Inside frame(): send this very frame back (no copy). 0, or -1 outside frame() or twice. */
int voice_echo(struct voice_call *c);

/*
 * Inside frame(): the frame, writable, for an app that changes it in place
 * (a gain, an effect) and then echoes it -- still no copy. NULL outside.
 */
uint8_t *voice_frame_data(struct voice_call *c);

/* Inside frame(): count this frame as dropped (not echoed, for a reason the app reports). */
void voice_drop(struct voice_call *c);

/* Drop the oldest queued audio frame, counted as dropped. 1 if one went, 0 if none could. */
int voice_trim_oldest(struct voice_call *c);

/*
 * Queue a frame of audio the app made (copied). len must be the call's
 * frame_bytes: Vonage takes exactly one 20 ms frame per message. 0, or -1
 * (wrong length, or the queue is full: counted in tx_full).
 */
int voice_send_audio(struct voice_call *c, const uint8_t *pcm, uint32_t len);

/* Frames that voice_send_audio can queue now. */
uint32_t voice_room(const struct voice_call *c);

/* Frames queued and not yet sent (echoed or made). */
uint32_t voice_queued(const struct voice_call *c);

/*
 * Interrupt playback: our queued audio is discarded (counted in
 * cleared_frames) and {"action":"clear"} is queued, which makes Vonage
 * drop what it buffered and answer websocket:cleared. 0, or -1 if the
 * queue is full of commands.
 */
int voice_clear(struct voice_call *c);

/*
 * Queue {"action":"notify","payload":P} after the audio queued so far;
 * Vonage answers websocket:notify with P once that audio has played.
 * payload_json must be one JSON object that fits a ring slot. 0 or -1.
 */
int voice_notify(struct voice_call *c, const char *payload_json);

/* End the call with a WebSocket close code (1000 normal, 1011 app failure). */
void voice_hangup(struct voice_call *c, int code, const char *why);

/*
 * Switch the call to another app (DTMF does this): clear, close, open.
 * 0, or -1: the call is hung up, or the new app's heap block does not fit
 * the memory budget (the call stays in its app, untouched; logged).
 */
int voice_switch(struct voice_call *c, const struct voice_app *app);

/*
 * May a line at level lvl about this call be written now? Every line that
 * a caller (or the peer of a call) can cause again and again from inside
 * the call asks first -- DTMF digits, app switches and refused switches,
 * repeated or unknown events -- and so should an app's own per-event
 * lines. 0 when lvl is not logged at all (nothing is counted then); 1 for
 * the first VOICE_LOG_BURST lines of every VOICE_LOG_WINDOW_S-second
 * window (c->now_us's clock); 0 for the rest, each counted in
 * c->log_suppressed and opts->log_suppressed. The first line allowed after
 * a window that lost lines is preceded by one line saying how many
 * (event call_log_suppressed), so the log tells what it left out.
 */
int voice_log_ok(struct voice_call *c, int lvl);

/* Microseconds per frame of len bytes at the call's rate (16-bit mono). */
static inline uint64_t voice_frame_us(const struct voice_call *c, uint32_t len)
{
	return (uint64_t)len * 1000000u / ((uint64_t)c->info.rate * 2u);
}
