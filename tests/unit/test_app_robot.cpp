/*
 * test_app_robot.cpp -- unit tests for src/apps/robot.cpp, the worked
 * example (docs/apps.md): each sample comes back multiplied by a 50 Hz
 * sine, in place (the echoed slot is the received one), silence stays
 * silence, and the phase runs on across frames.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <math.h>
#include <stdio.h>

#include "apps.h"
#include "voice_fake.h"

static int setup(void **state)
{
	struct fake *f = fake_new(apps_find("robot"), apps_switchable, apps_switchable_n);
	if (!f)
		return -1;
	fake_connected(f, 8000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fake_free((struct fake *)*state);
	return 0;
}

static int16_t sample(const uint8_t *p, uint32_t i)
{
	return (int16_t)(uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
}

static void test_robot_multiplies_by_a_50_hz_sine_in_place(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[320];

	for (int frame = 0; frame < 10; frame++) {
		fake_pcm(pcm, sizeof pcm, 10000, 10000);   /* a constant: the output is the sine itself */
		f->call.now_us = (uint64_t)frame * 20000;
		ring_rx_append(&f->ring, pcm, sizeof pcm);
		const uint8_t *where = ring_rx_data(&f->ring);
		voice_frame(&f->call);
		struct ring_slot *s = ring_peek(&f->ring);
		assert_non_null(s);
		assert_ptr_equal(s->buf + RING_HEADROOM, where);   /* changed where it arrived, no copy */
		for (uint32_t i = 0; i < 160; i++) {
			uint32_t n = (uint32_t)frame * 160 + i;     /* sample number since the call began */
			double want = 10000.0 * sin(2 * M_PI * 50.0 * n / 8000.0);
			/* the table has 64 steps per cycle: within one step of the ideal */
			assert_true(fabs(sample(s->buf + RING_HEADROOM, i) - want) <= 10000.0 * 2 * M_PI / 64 + 2);
		}
		ring_pop(&f->ring);
	}
	assert_int_equal(f->ring.dropped, 0);
}

static void test_robot_silence_stays_silence(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[320], zero[320];

	memset(pcm, 0, sizeof pcm);
	memset(zero, 0, sizeof zero);
	fake_frame(f, pcm, sizeof pcm, 0);
	assert_memory_equal(ring_peek(&f->ring)->buf + RING_HEADROOM, zero, sizeof zero);
}

static void test_robot_full_scale_does_not_wrap(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[320];

	fake_pcm(pcm, sizeof pcm, -32768, (uint16_t)-32768);
	fake_frame(f, pcm, sizeof pcm, 0);
	const uint8_t *p = ring_peek(&f->ring)->buf + RING_HEADROOM;
	for (uint32_t i = 0; i < 160; i++)
		assert_true(sample(p, i) <= 32767 && sample(p, i) >= -32767);
	/* a quarter cycle in (40 samples at 8 kHz) the sine is at its peak: -32768 * ~1 */
	assert_true(sample(p, 40) < -32000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_robot_multiplies_by_a_50_hz_sine_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_robot_silence_stays_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_robot_full_scale_does_not_wrap, setup, teardown),
	};
	return cmocka_run_group_tests_name("app_robot", tests, NULL, NULL);
}
