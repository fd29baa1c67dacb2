/*
 * playback.h -- what Vonage does with the audio a server sends it: a
 * per-call playout buffer, and the server's text commands clear/notify.
 *
 * Data flow: every 20 ms frame from the server is queued in arrival order
 * (playback_push); a notify is queued between the frames as a mark
 * (playback_notify). At each 20 ms playout tick of the call one frame leaves
 * the buffer and is "heard" (playback_tick; silence when empty). A mark is
 * due as soon as every frame queued before it has left the buffer -- at
 * once when the buffer is empty -- and the caller answers due marks in
 * order (playback_due / playback_pop_due) with websocket:notify carrying
 * the same payload. clear (playback_clear) discards every queued frame; the
 * caller replies websocket:cleared and then answers the marks that were in
 * the buffer, in order. Vonage's documents do not say what happens to those
 * marks; Twilio's equivalent (a "clear" with "mark"s queued) answers them,
 * and so do we.
 *
 * Capacity is in frames: Vonage documents 1024 (2021 guide) and 3072
 * (current AsyncAPI) messages; when full the newest frame is dropped and
 * counted (overflow). The frame store is the one allocation (playback_init,
 * at engine start); nothing here allocates per frame, touches a socket or
 * reads a clock. playback_command parses a server text message (cJSON; a
 * command is rare, never per frame).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define PLAYBACK_DEFAULT     3072   /* frames: Vonage's current figure (~60 s) */
#define PLAYBACK_MAX         65536  /* frames: a 21-minute buffer, 63 MiB at 24 kHz */
#define PLAYBACK_MARKS       32     /* notify marks waiting at once */
#define PLAYBACK_PAYLOAD_MAX 1024   /* a notify payload, as compact JSON */

struct playback_mark {
	uint64_t pos;                        /* frames queued before it (playback.pushed) */
	uint32_t id;                         /* 0, 1, ... in arrival order */
	uint32_t len;
	char     payload[PLAYBACK_PAYLOAD_MAX];
};

struct playback {
	uint8_t  *buf;                       /* cap * frame_bytes, owned */
	uint32_t  cap, frame_bytes;
	uint32_t  head, count;               /* the frame ring */
	uint64_t  pushed, left;              /* frames ever queued / ever left (played or cleared) */
	struct playback_mark mark[PLAYBACK_MARKS];
	uint32_t  mark_head, mark_count, next_id;
	uint64_t  heard, silence, overflow, cleared, clears;
};

/* Allocate room for cap frames (1..PLAYBACK_MAX). 0, or -1 (out of memory, bad size; nothing kept). */
int playback_init(struct playback *pb, uint32_t cap, uint32_t frame_bytes);

void playback_deinit(struct playback *pb);

/*
 * Queue one frame of exactly frame_bytes. 0, or -1 when the buffer is full:
 * this (the newest) frame is dropped and counted in overflow.
 */
int playback_push(struct playback *pb, const uint8_t *frame);

/*
 * Queue a notify mark after every frame queued so far. 0, or -1 when
 * PLAYBACK_MARKS marks wait already or the payload is longer than
 * PLAYBACK_PAYLOAD_MAX (nothing queued: the caller counts it as a bad command).
 */
int playback_notify(struct playback *pb, const char *payload, size_t len);

/*
 * One playout tick. Returns 1 with *frame pointing at the frame heard
 * (valid until the next playback_push), or 0 when nothing was queued: the
 * caller hears silence. Counts heard / silence.
 */
int playback_tick(struct playback *pb, const uint8_t **frame);

/* clear: discard every queued frame and return how many (also counted in cleared). */
uint32_t playback_clear(struct playback *pb);

/* The oldest mark if it is due (every frame before it has left), else NULL. */
const struct playback_mark *playback_due(const struct playback *pb);

/* Remove the mark playback_due returned. */
void playback_pop_due(struct playback *pb);

/* Frames and marks still waiting. */
static inline int playback_idle(const struct playback *pb) { return !pb->count && !pb->mark_count; }

enum playback_cmd { PLAYBACK_CMD_BAD = 0, PLAYBACK_CMD_CLEAR, PLAYBACK_CMD_NOTIFY };

/*
 * Parse one server text message. CLEAR for {"action":"clear"}; NOTIFY for
 * {"action":"notify","payload":{...}} with the payload object rendered as
 * compact JSON into payload (cap bytes, NUL-terminated, *plen its length);
 * BAD for anything else: not JSON, no action, an unknown action, a notify
 * without an object payload, or a payload that does not fit in cap.
 */
enum playback_cmd playback_command(const char *msg, size_t len, char *payload, size_t cap, size_t *plen);
