/*
 * voice_app.h -- what a voice app may use, and all it may use: the one
 * header an app in src/apps/ includes (with tone.h and log.h if it wants
 * them). The transport's side of the seam -- how frames and events get in,
 * the ring, the counters the stats read -- is in voice.h, which no app
 * needs.
 *
 * An app is a struct voice_app in its own file, src/apps/NAME.cpp, and one
 * line APP(NAME) in src/apps/list.h (docs/apps.md). It sees its call as a
 * struct voice_call it cannot look into: what it may know of the call
 * comes through voice_call_info() and the other accessors below, what it
 * may do through voice_echo(), voice_send_audio() and the rest.
 *
 * Its options are rows (struct voice_opt) joined to the server's one
 * option table (config.cpp): --help, docs/options.md and the environment
 * names come from them, config_load() range-checks the values and writes
 * them into the app's own storage before any call starts. They are read-
 * only after that, shared by every call.
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

#include "vonage_msg.h"

#define VOICE_STATE_MAX 128   /* fixed per-call state an app may declare, bytes (more: heap_bytes) */
#define VOICE_FRAME_MS 20

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

/*
 * One option of an app: a row of the server's option table. Name the flag
 * after the app ("delay-ms"), so no two apps' flags meet; a flag or
 * environment name that another option already has stops the server at
 * start-up (exit 2), so a clash cannot go unseen.
 */
enum voice_opt_kind {
	VOICE_OPT_INT,        /* a whole number in min..max, into an int */
	VOICE_OPT_SWITCH,     /* --flag alone means 1; the environment takes 1/0; into an int */
	VOICE_OPT_STR,        /* text of fewer than size bytes, into char[size] */
};

struct voice_opt {
	const char *flag;     /* without the leading "--" */
	const char *arg;      /* its value's name in --help ("MS", "N"); NULL for a switch */
	const char *env;      /* its environment variable; NULL = flag only */
	enum voice_opt_kind kind;
	void       *value;    /* the app's own storage: an int, or char[size] */
	size_t      size;     /* VOICE_OPT_STR: the buffer's size */
	int         min, max; /* VOICE_OPT_INT: the range accepted */
	const char *def;      /* the default, as it would be given; NULL = unset ("none") */
	const char *help;     /* one line for --help and docs/options.md */
};

struct voice_call;   /* the app's call: read it through the functions below */

/* An app: its name, its state size, and what it does at each point of a call. */
struct voice_app {
	const char *name;
	const char *talk_text;   /* the NCCO's talk text for this app (--talk-text overrides) */
	size_t      state_bytes; /* zeroed before open */
	/* a heap block allocated once at open and freed at close (NULL: none) */
	size_t (*heap_bytes)(const struct voice_call *c);
	int  (*open)(struct voice_call *c, void *st);   /* 0, or -1: the call is hung up 1011 */
	void (*frame)(struct voice_call *c, void *st, const uint8_t *pcm, uint32_t len);
	void (*event)(struct voice_call *c, void *st, const struct voice_event *ev);   /* NULL: ignore */
	void (*tick)(struct voice_call *c, void *st);     /* every 20 ms; NULL: not needed */
	void (*close)(struct voice_call *c, void *st);    /* NULL: nothing to do */
	const struct voice_opt *opts;   /* its options, ended by a row with flag NULL; NULL: none */
};

/* ---- what an app may know of its call ------------------------------------------ */

const struct voice_info *voice_call_info(const struct voice_call *c);

/* The call's number in logs and stats. */
uint64_t voice_call_id(const struct voice_call *c);

/* Now, in microseconds, as the transport stamped it before calling the app. */
uint64_t voice_now_us(const struct voice_call *c);

/* The largest frame the call's ring holds (--slot-bytes); known before open. */
uint32_t voice_slot_bytes(const struct voice_call *c);

/* The app's heap block (heap_bytes() of them, zeroed at open), NULL without one. */
uint8_t *voice_heap(struct voice_call *c);
size_t voice_heap_len(const struct voice_call *c);

/* Microseconds per frame of len bytes at the call's rate (16-bit mono). */
uint64_t voice_frame_us(const struct voice_call *c, uint32_t len);

/* ---- what an app may do ---------------------------------------------------------- */

/* Inside frame(): send this very frame back (no copy). 0, or -1 outside frame() or twice. */
int voice_echo(struct voice_call *c);

/*
 * Inside frame(): the frame, writable, for an app that changes it in place
 * (a gain, an effect) and then echoes it -- still no copy. NULL outside.
 */
uint8_t *voice_frame_data(struct voice_call *c);

/* Inside frame(): count this frame as dropped (not echoed, for a reason the app reports). */
void voice_drop(struct voice_call *c);

/* Count a frame the app had kept and had to let go (its own buffer was full) as dropped. */
void voice_count_drop(struct voice_call *c);

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
 * window (the call's clock, voice_now_us); 0 for the rest, each counted in
 * the call's and the process's log_suppressed. The first line allowed after
 * a window that lost lines is preceded by one line saying how many
 * (event call_log_suppressed), so the log tells what it left out.
 */
#define VOICE_LOG_BURST    10
#define VOICE_LOG_WINDOW_S 10
int voice_log_ok(struct voice_call *c, int lvl);
