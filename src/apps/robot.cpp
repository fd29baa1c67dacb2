/*
 * robot.cpp -- the worked example of docs/apps.md: the caller hears
 * themselves as a robot. It is the smallest app that changes audio, so it
 * shows the three things most apps need: per-call state, the frame handed
 * over in place, and sending the result back.
 *
 * The effect is a ring modulator: each sample is multiplied by a 50 Hz sine
 * (the Daleks' voice), which shifts every frequency up and down by 50 Hz
 * without changing the pitch the caller speaks at. It is done in place in
 * the receive slot (voice_frame_data) and the frame is then echoed, so the
 * app copies nothing and allocates nothing: its whole per-call memory is
 * struct robot_state, 8 bytes.
 */
#include "tone.h"
#include "voice_app.h"

#define ROBOT_HZ 50

struct robot_state {
	uint32_t phase;              /* where the 50 Hz sine is, a fraction of a cycle (tone.h) */
	uint32_t step;               /* its advance per sample at the call's rate */
};

static int robot_open(struct voice_call *c, void *st)
{
	struct robot_state *s = (struct robot_state *)st;

	s->step = tone_step(ROBOT_HZ, (uint32_t)voice_call_info(c)->rate);
	return 0;
}

static void robot_frame(struct voice_call *c, void *st, const uint8_t *pcm, uint32_t len)
{
	struct robot_state *s = (struct robot_state *)st;
	uint8_t *p = voice_frame_data(c);   /* the same bytes as pcm, writable */

	(void)pcm;
	for (uint32_t i = 0; i + 1 < len; i += 2) {
		int32_t v = (int16_t)(uint16_t)(p[i] | p[i + 1] << 8);
		v = v * tone_sin(s->phase) / 32768;
		p[i] = (uint8_t)((uint32_t)v & 0xff);
		p[i + 1] = (uint8_t)(((uint32_t)v >> 8) & 0xff);
		s->phase += s->step;
	}
	voice_echo(c);
}

static_assert(sizeof(struct robot_state) <= VOICE_STATE_MAX, "the state fits the seam's fixed area");

/* extern: a const at file scope would be this file's alone (C++); apps.cpp lists it */
extern const struct voice_app app_robot = {
	"robot",
	"Connecting you to the robot echo. You will hear yourself as a robot.",
	sizeof(struct robot_state),
	NULL,
	robot_open,
	robot_frame,
	NULL,
	NULL,
	NULL,
};
