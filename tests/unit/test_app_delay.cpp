/*
 * test_app_delay.cpp -- unit tests for src/apps/delay.cpp through the seam
 * (voice_fake.h): frames come back --delay-ms after they arrived, in order
 * and bit-exact, nothing before; a burst is kept whole and played back as
 * the queue makes room; only a full buffer or a wrong-sized frame drops.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdio.h>

#include "apps.h"
#include "voice_fake.h"

#define F_US 20000
#define T0 1000000ull

static int setup(void **state)
{
	struct fake *f = fake_new(apps_find("delay"), apps_switchable, apps_switchable_n);
	if (!f)
		return -1;
	fake_connected(f, 24000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fake_free((struct fake *)*state);
	return 0;
}

static void test_delay_heap_is_sized_from_the_delay(void **state)
{
	struct fake *f = (struct fake *)*state;

	/* (1000/20 + 150 burst frames) x (960 + an 8-byte due time) */
	assert_int_equal(f->call.heap_len, 200 * (960 + 8));
	assert_int_equal(f->ticking, 1);
}

static void test_delay_paced_frames_come_back_one_delay_later(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[960];
	int out = 0;

	for (int i = 0; i < 200; i++) {
		uint64_t t = T0 + (uint64_t)i * F_US;
		fake_pcm(pcm, sizeof pcm, (int16_t)(i * 3), (uint16_t)i);
		fake_frame(f, pcm, sizeof pcm, t);
		fake_tick(f, t + 10000);   /* the 20 ms tick lands between frames */
		struct ring_slot *s;
		while ((s = ring_peek(&f->ring))) {
			/* frame k is due at T0 + k*20 ms + 1 s: out now means it is k */
			uint16_t k = fake_marker(s->buf + RING_HEADROOM);
			assert_int_equal(k, out);
			assert_true(t + 10000 >= T0 + (uint64_t)k * F_US + 1000000);
			assert_true(t < T0 + (uint64_t)k * F_US + 1000000 + F_US);   /* within one frame */
			uint8_t want[960];
			fake_pcm(want, sizeof want, (int16_t)(k * 3), k);
			assert_memory_equal(s->buf + RING_HEADROOM, want, sizeof want);
			ring_pop(&f->ring);
			out++;
		}
		if (i < 49)
			assert_int_equal(out, 0);   /* nothing before the delay */
	}
	assert_int_equal(out, 150);
	assert_int_equal(f->ring.dropped, 0);
	assert_int_equal(f->call.n.app_frames, 150);
}

static void test_delay_burst_of_150_is_kept_whole(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[960];
	uint16_t got[200];
	int n = 0;

	for (int i = 0; i < 150; i++) {
		fake_pcm(pcm, sizeof pcm, 1, (uint16_t)i);
		fake_frame(f, pcm, sizeof pcm, T0);
	}
	assert_int_equal(ring_count(&f->ring), 0);
	/* after the delay, each tick queues what the queue can take; the
	 * transport sends it all between ticks */
	for (uint64_t t = T0 + 1000000; n < 150 && t < T0 + 3000000; t += F_US) {
		fake_tick(f, t);
		n += fake_sent(f, got + n, 200 - n, NULL, 0);
	}
	assert_int_equal(n, 150);
	for (int i = 0; i < 150; i++)
		assert_int_equal(got[i], i);
	assert_int_equal(f->ring.dropped, 0);
	assert_int_equal(f->call.n.tx_full, 0);   /* it never pushed into a full queue */
}

static void test_delay_bursts_of_8_9_50_all_kept(void **state)
{
	struct fake *f = (struct fake *)*state;
	static const int sizes[] = { 8, 9, 50 };
	uint8_t pcm[960];
	uint16_t got[64];
	uint64_t t = T0;
	uint16_t mark = 0;

	for (int b = 0; b < 3; b++) {
		for (int i = 0; i < sizes[b]; i++) {
			fake_pcm(pcm, sizeof pcm, 1, mark++);
			fake_frame(f, pcm, sizeof pcm, t);
		}
		int n = 0;
		for (uint64_t u = t + 1000000; u < t + 2000000; u += F_US) {
			fake_tick(f, u);
			n += fake_sent(f, got + n, 64 - n, NULL, 0);
		}
		assert_int_equal(n, sizes[b]);
		assert_int_equal(got[0], mark - sizes[b]);
		t += 3000000;
	}
	assert_int_equal(f->ring.dropped, 0);
}

static void test_delay_full_buffer_drops_the_oldest(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[960];

	/* the peer stops reading for good: 200 frames of buffer, then 8 in the queue */
	for (int i = 0; i < 260; i++) {
		fake_pcm(pcm, sizeof pcm, 1, (uint16_t)i);
		fake_frame(f, pcm, sizeof pcm, T0 + (uint64_t)i * F_US);
	}
	/* 8 went into the queue once due; the buffer holds 200 of the rest */
	assert_int_equal(ring_count(&f->ring), 8);
	assert_int_equal(f->ring.dropped, 260 - 8 - 200);
}

static void test_delay_wrong_sized_frame_is_dropped(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[960];

	fake_pcm(pcm, sizeof pcm, 1, 1);
	fake_frame(f, pcm, 500, T0);
	assert_int_equal(f->ring.dropped, 1);
	fake_tick(f, T0 + 2000000);
	assert_int_equal(ring_count(&f->ring), 0);
}

static void test_delay_ms_option(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[960];

	fake_free(f);
	f = fake_new(apps_find("delay"), apps_switchable, apps_switchable_n);
	*state = f;
	fake_app_opt(f, "delay-ms", 100);
	fake_connected(f, 24000);
	assert_int_equal(f->call.heap_len, (5 + 150) * (960 + 8));
	fake_pcm(pcm, sizeof pcm, 1, 9);
	fake_frame(f, pcm, sizeof pcm, T0);
	fake_tick(f, T0 + 99000);
	assert_int_equal(ring_count(&f->ring), 0);
	fake_tick(f, T0 + 100000);
	assert_int_equal(ring_count(&f->ring), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delay_heap_is_sized_from_the_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay_paced_frames_come_back_one_delay_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay_burst_of_150_is_kept_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay_bursts_of_8_9_50_all_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay_full_buffer_drops_the_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay_wrong_sized_frame_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay_ms_option, setup, teardown),
	};
	return cmocka_run_group_tests_name("app_delay", tests, NULL, NULL);
}
