/*
 * delay.cpp -- the caller hears themselves --delay-ms later (default
 * 1000 ms), as FreeSWITCH's delay_echo does: long enough to hear how you
 * sound, as a listener would.
 *
 * Each frame is copied into a fixed buffer in the call's heap block, sized
 * at open from the delay: delay/20 frames plus DELAY_BURST_FRAMES (3 s) of
 * room for a burst, since a burst after a network stall is kept whole, not
 * trimmed. A frame is due DELAY after it arrived; on each frame and each
 * 20 ms tick, due frames are queued for sending while the queue has room
 * (a burst therefore plays back as a burst, DELAY later, and Vonage spaces
 * it out). Only when the buffer itself is full -- the peer stopped reading
 * for longer than the burst room -- is the oldest frame dropped, counted.
 * A frame that is not one 20 ms frame at the call's rate cannot be sent
 * back to Vonage and is dropped on arrival, counted.
 */
#include "voice_app.h"

#include <string.h>

#define DELAY_BURST_FRAMES 150

static struct { int delay_ms; } opt;   /* the options below write it */

static const struct voice_opt delay_opts[] = {
	{ "delay-ms", "MS", "DELAY_MS", VOICE_OPT_INT, &opt.delay_ms, 0, 20, 10000, "1000",
	  "delay: how much later the caller hears themselves" },
	{ NULL },
};

struct delay_state {
	uint32_t cap;      /* frames the buffer holds */
	uint32_t tail;     /* oldest buffered frame */
	uint32_t count;
};

/* heap layout: uint64_t due[cap], then cap frames of slot_bytes */
static uint32_t delay_cap(void)
{
	return (uint32_t)(opt.delay_ms / VOICE_FRAME_MS) + DELAY_BURST_FRAMES;
}

static size_t delay_heap_bytes(const struct voice_call *c)
{
	return (size_t)delay_cap() * (sizeof(uint64_t) + voice_slot_bytes(c));
}

static uint64_t *due_at(struct voice_call *c, uint32_t i)
{
	return (uint64_t *)voice_heap(c) + i;
}

static uint8_t *frame_at(struct voice_call *c, const struct delay_state *s, uint32_t i)
{
	return voice_heap(c) + (size_t)s->cap * sizeof(uint64_t) + (size_t)i * voice_slot_bytes(c);
}

static int delay_open(struct voice_call *c, void *st)
{
	struct delay_state *s = (struct delay_state *)st;

	(void)c;
	s->cap = delay_cap();
	return 0;
}

/* Queue every due frame the send queue has room for. */
static void release_due(struct voice_call *c, struct delay_state *s)
{
	uint32_t fb = voice_call_info(c)->frame_bytes;

	while (s->count && *due_at(c, s->tail) <= voice_now_us(c) && voice_room(c)) {
		if (voice_send_audio(c, frame_at(c, s, s->tail), fb))
			break;
		s->tail = (s->tail + 1) % s->cap;
		s->count--;
	}
}

static void delay_frame(struct voice_call *c, void *st, const uint8_t *pcm, uint32_t len)
{
	struct delay_state *s = (struct delay_state *)st;

	if (len != voice_call_info(c)->frame_bytes) {
		voice_drop(c);
		return;
	}
	if (s->count == s->cap) {
		/* the buffer is full: the peer has not been reading for seconds */
		s->tail = (s->tail + 1) % s->cap;
		s->count--;
		voice_count_drop(c);
	}
	uint32_t at = (s->tail + s->count) % s->cap;
	memcpy(frame_at(c, s, at), pcm, len);
	*due_at(c, at) = voice_now_us(c) + (uint64_t)opt.delay_ms * 1000u;
	s->count++;
	release_due(c, s);
}

static void delay_tick(struct voice_call *c, void *st)
{
	release_due(c, (struct delay_state *)st);
}

static_assert(sizeof(struct delay_state) <= VOICE_STATE_MAX, "the state fits the seam's fixed area");

/* extern: a const at file scope would be this file's alone (C++); apps.cpp lists it */
extern const struct voice_app app_delay = {
	"delay",
	"Connecting you to the delay echo. You will hear yourself after a short delay.",
	sizeof(struct delay_state),
	delay_heap_bytes,
	delay_open,
	delay_frame,
	NULL,
	delay_tick,
	NULL,
	delay_opts,
};
