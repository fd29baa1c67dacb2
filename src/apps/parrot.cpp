/*
 * parrot.cpp -- the "sound test" VoIP clients ship: a beep, then the
 * caller speaks, then hears what they said.
 *
 *   GREET/LISTEN  a short beep is queued; the app waits for voice
 *   RECORD        frames are copied into the heap block until the caller
 *                 stops talking (PARROT_HANGOVER_MS of no voice); past
 *                 --parrot-max-ms the rest is not kept, and the playback
 *                 still waits for the pause. The quiet tail is cut
 *   PLAY          the recording is queued as fast as the send queue takes
 *                 it (faster than real time: Vonage buffers and paces it),
 *                 then a notify {"parrot":N}
 *   WAIT          Vonage is playing it; its websocket:notify with our N
 *                 means the caller has heard it all: beep, LISTEN again
 *
 * Barge-in: a voiced frame during PLAY or WAIT means the caller is talking
 * over the playback. The app sends clear at once (the frame that shows it,
 * so within one frame time), which drops our queue and Vonage's buffer, and
 * starts recording with that very frame. A stale websocket:notify (an N
 * from before the clear) is ignored. If Vonage never answers a notify, the
 * caller can still speak: that is a barge-in.
 *
 * "Voiced": at least 1/8 of the frame's samples are --parrot-level loud or
 * louder (default 1024, -30 dBFS). Counting loud samples rather than
 * averaging keeps a few stray loud samples (a click) from counting as
 * speech. Memory: the heap block holds --parrot-max-ms of frames at
 * --slot-bytes each (10 s x 960 B = 480 KiB per call at the defaults),
 * allocated when the app opens, freed when it closes.
 */
#include <stdio.h>
#include <string.h>

#include "tone.h"
#include "voice_app.h"

#define PARROT_HANGOVER_MS 700   /* this much quiet ends an utterance */
#define PARROT_BEEP_MS 160
#define PARROT_BEEP_HZ 1000
#define PARROT_BEEP_AMP 8000     /* about -12 dBFS */

static struct { int max_ms, level; } opt;   /* the options below write it */

static const struct voice_opt parrot_opts[] = {
	{ "parrot-max-ms", "MS", "PARROT_MAX_MS", VOICE_OPT_INT, &opt.max_ms, 0, 1000, 60000, "10000",
	  "parrot: longest recording played back" },
	{ "parrot-level", "N", "PARROT_LEVEL", VOICE_OPT_INT, &opt.level, 0, 1, 32767, "1024",
	  "parrot: a sample this loud or louder counts as voice (1/8 of a frame's samples make it voiced)" },
	{ NULL },
};

enum parrot_phase { P_LISTEN = 0, P_RECORD, P_PLAY, P_WAIT };

struct parrot_state {
	uint8_t  phase;
	uint32_t max_frames;    /* the recording's capacity */
	uint32_t rec;           /* frames recorded */
	uint32_t quiet;         /* quiet frames in a row while recording */
	uint32_t tail_quiet;    /* ... of them, those kept in the recording */
	uint32_t played;        /* frames of the recording queued so far */
	uint32_t beep_left;     /* beep frames still to queue */
	uint32_t beep_phase;    /* the beep's oscillator (tone.h) */
	uint32_t seq;           /* the N of the last notify sent */
};

static size_t parrot_heap_bytes(const struct voice_call *c)
{
	return (size_t)(opt.max_ms / VOICE_FRAME_MS) * voice_slot_bytes(c);
}

static int voiced(const uint8_t *pcm, uint32_t len, int level)
{
	uint32_t n = len / 2, loud = 0;

	for (uint32_t i = 0; i < n; i++) {
		int v = (int16_t)(uint16_t)(pcm[2 * i] | pcm[2 * i + 1] << 8);
		if (v >= level || v <= -level)
			loud++;
	}
	return n && loud * 8 >= n;
}

static void start_beep(struct voice_call *c, struct parrot_state *s)
{
	s->beep_left = PARROT_BEEP_MS / VOICE_FRAME_MS;
	s->beep_phase = 0;
	s->phase = P_LISTEN;
	(void)c;
}

/* Queue beep frames and recording frames while the send queue has room. */
static void feed(struct voice_call *c, struct parrot_state *s)
{
	const struct voice_info *in = voice_call_info(c);
	uint32_t fb = in->frame_bytes;
	uint8_t frame[960];   /* one 20 ms frame at 24 kHz, the highest rate */

	while (s->beep_left && voice_room(c) && fb <= sizeof frame) {
		uint32_t step = tone_step(PARROT_BEEP_HZ, (uint32_t)in->rate);
		for (uint32_t i = 0; i < fb / 2; i++, s->beep_phase += step) {
			int16_t v = (int16_t)(tone_sin(s->beep_phase) * PARROT_BEEP_AMP / 32767);
			frame[2 * i] = (uint8_t)((uint16_t)v & 0xff);
			frame[2 * i + 1] = (uint8_t)((uint16_t)v >> 8);
		}
		if (voice_send_audio(c, frame, fb))
			return;
		s->beep_left--;
	}
	if (s->phase != P_PLAY)
		return;
	while (s->played < s->rec && voice_room(c)) {
		if (voice_send_audio(c, voice_heap(c) + (size_t)s->played * voice_slot_bytes(c), fb))
			return;
		s->played++;
	}
	if (s->played == s->rec && voice_room(c)) {
		char payload[32];
		snprintf(payload, sizeof payload, "{\"parrot\":%u}", ++s->seq);
		if (voice_notify(c, payload))
			return;   /* tried again next tick */
		s->phase = P_WAIT;
	}
}

static int parrot_open(struct voice_call *c, void *st)
{
	struct parrot_state *s = (struct parrot_state *)st;

	s->max_frames = (uint32_t)(opt.max_ms / VOICE_FRAME_MS);
	start_beep(c, s);
	feed(c, s);
	return 0;
}

static void record(struct voice_call *c, struct parrot_state *s, const uint8_t *pcm, uint32_t len, int v)
{
	s->quiet = v ? 0 : s->quiet + 1;
	if (s->rec == s->max_frames)
		return;   /* full: the rest of the utterance is not kept */
	memcpy(voice_heap(c) + (size_t)s->rec++ * voice_slot_bytes(c), pcm, len);
	s->tail_quiet = v ? 0 : s->tail_quiet + 1;
}

static void start_recording(struct voice_call *c, struct parrot_state *s, const uint8_t *pcm, uint32_t len)
{
	s->rec = 0;
	s->quiet = 0;
	s->tail_quiet = 0;
	s->phase = P_RECORD;
	record(c, s, pcm, len, 1);
}

static void parrot_frame(struct voice_call *c, void *st, const uint8_t *pcm, uint32_t len)
{
	struct parrot_state *s = (struct parrot_state *)st;

	if (len != voice_call_info(c)->frame_bytes)
		return;   /* not a frame we could play back */
	int v = voiced(pcm, len, opt.level);
	switch (s->phase) {
	case P_LISTEN:
		if (!v)
			break;
		s->beep_left = 0;   /* talking over the beep: stop it */
		start_recording(c, s, pcm, len);
		break;
	case P_RECORD:
		record(c, s, pcm, len, v);
		if (s->quiet * VOICE_FRAME_MS >= PARROT_HANGOVER_MS) {
			s->rec -= s->tail_quiet;   /* the caller does not need to hear the pause */
			s->played = 0;
			s->phase = P_PLAY;
			feed(c, s);
		}
		break;
	case P_PLAY:
	case P_WAIT:
		if (!v)
			break;
		/* barge-in: stop the playback here and at Vonage, listen now */
		voice_clear(c);
		start_recording(c, s, pcm, len);
		break;
	}
}

static void parrot_event(struct voice_call *c, void *st, const struct voice_event *ev)
{
	struct parrot_state *s = (struct parrot_state *)st;
	char want[32];

	if (ev->type != VOICE_EV_NOTIFY || s->phase != P_WAIT)
		return;
	snprintf(want, sizeof want, "{\"parrot\":%u}", s->seq);
	if (strcmp(ev->payload, want))
		return;   /* from a playback that was cleared */
	start_beep(c, s);
	feed(c, s);
}

static void parrot_tick(struct voice_call *c, void *st)
{
	feed(c, (struct parrot_state *)st);
}

static_assert(sizeof(struct parrot_state) <= VOICE_STATE_MAX, "the state fits the seam's fixed area");

/* extern: a const at file scope would be this file's alone (C++); apps.cpp lists it */
extern const struct voice_app app_parrot = {
	"parrot",
	"This is the parrot sound test. After the beep, say something, then pause, and you will hear it "
	"played back.",
	sizeof(struct parrot_state),
	parrot_heap_bytes,
	parrot_open,
	parrot_frame,
	parrot_event,
	parrot_tick,
	NULL,
	parrot_opts,
};
