/*
 * echo.cpp -- the caller hears themselves: every frame goes straight
 * back, from the very slot it arrived in (voice_echo, no copy).
 *
 * Bursts. After a network stall Vonage's queued frames arrive together, and
 * Vonage plays whatever we send at one frame per 20 ms: echoing a whole
 * 1-second burst would put the caller a second behind for the rest of the
 * call. So echo keeps an estimate of the audio Vonage still has to play
 * (play_until_us: when its playback of what we sent runs dry) and lets a
 * frame add at most --echo-max-ms (default 160 ms, eight frames) of it.
 * Past that, the newest audio wins: the oldest frame still waiting in our
 * queue is trimmed to make room, or, when every earlier frame has already
 * gone out, this one is. Either way it is counted as dropped. The outcome
 * depends only on when frames arrive, not on the event loop or TLS: a burst
 * of 8 frames is echoed whole, of 9, 50 or 150 frames, 8 of them.
 * --echo-max-ms 0 keeps every frame (for load tests that send faster than
 * real time on purpose).
 */
#include "voice_app.h"

static struct { int max_ms; } opt;   /* the options below write it */

static const struct voice_opt echo_opts[] = {
	{ "echo-max-ms", "MS", "ECHO_MAX_MS", VOICE_OPT_INT, &opt.max_ms, 0, 0, 60000, "160",
	  "echo: most latency a burst may add; older frames are trimmed (0 = keep every frame)" },
	{ NULL },
};

struct echo_state {
	uint64_t play_until_us;   /* when Vonage will have played all we sent */
};

static void echo_frame(struct voice_call *c, void *st, const uint8_t *pcm, uint32_t len)
{
	struct echo_state *s = (struct echo_state *)st;
	uint64_t max_us = (uint64_t)opt.max_ms * 1000u;
	uint64_t now = voice_now_us(c), f = voice_frame_us(c, len);

	(void)pcm;
	if (!max_us) {
		voice_echo(c);
		return;
	}
	uint64_t start = s->play_until_us > now ? s->play_until_us : now;
	if (start - now + f <= max_us) {
		s->play_until_us = start + f;
		voice_echo(c);
	} else if (voice_trim_oldest(c)) {
		voice_echo(c);   /* one out, one in: the estimate stands */
	} else {
		voice_drop(c);
	}
}

static_assert(sizeof(struct echo_state) <= VOICE_STATE_MAX, "the state fits the seam's fixed area");

/* extern: a const at file scope would be this file's alone (C++); apps.cpp lists it */
extern const struct voice_app app_echo = {
	"echo",
	"Connecting you to the echo server. You will hear yourself.",
	sizeof(struct echo_state),
	NULL,
	NULL,
	echo_frame,
	NULL,
	NULL,
	NULL,
	echo_opts,
};
