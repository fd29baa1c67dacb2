/*
 * test_app_echo.cpp -- unit tests for src/apps/echo.cpp through the seam
 * (voice_fake.h): paced frames all come back; a burst adds at most
 * --echo-max-ms of latency whether the transport sends between frames (as
 * poll does) or only after the whole burst (as libev does); the newest
 * audio wins where it can; --echo-max-ms 0 keeps everything.
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

#define F_US 20000   /* one 960-byte frame at 24 kHz */

static int setup(void **state)
{
	struct fake *f = fake_new(apps_find("echo"), apps_switchable, apps_switchable_n);
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

/*
 * n frames marked first..first+n-1, all arriving at time t. sent_between:
 * the transport sends after each frame (the queue never holds more than
 * one); else it sends once, after the burst. Returns the markers echoed.
 */
static int burst(struct fake *f, int n, uint16_t first, uint64_t t, int sent_between, uint16_t *got, int max)
{
	uint8_t pcm[960];
	int k = 0;

	for (int i = 0; i < n; i++) {
		fake_pcm(pcm, sizeof pcm, 100, (uint16_t)(first + i));
		fake_frame(f, pcm, sizeof pcm, t);
		if (sent_between)
			k += fake_sent(f, got + k, max - k, NULL, 0);
	}
	k += fake_sent(f, got + k, max - k, NULL, 0);
	return k;
}

static void test_echo_paced_frames_all_come_back_bit_exact(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[960];

	for (int i = 0; i < 3000; i++) {
		fake_pcm(pcm, sizeof pcm, (int16_t)(i * 7), (uint16_t)i);
		fake_frame(f, pcm, sizeof pcm, 1000000 + (uint64_t)i * F_US);
		struct ring_slot *s = ring_peek(&f->ring);
		assert_non_null(s);
		assert_memory_equal(s->buf + RING_HEADROOM, pcm, sizeof pcm);
		ring_pop(&f->ring);
	}
	assert_int_equal(f->ring.dropped, 0);
}

static void test_echo_jitter_within_the_budget_loses_nothing(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint16_t got[64];
	uint64_t t = 5000000;

	/* frames two and three at a time, as a jittery network delivers them */
	for (int round = 0; round < 20; round++) {
		int n = 1 + round % 3;
		assert_int_equal(burst(f, n, (uint16_t)round, t, 0, got, 64), n);
		t += (uint64_t)n * F_US;
	}
	assert_int_equal(f->ring.dropped, 0);
}

static void check_burst(struct fake *f, int n, int sent_between)
{
	uint16_t got[160];
	int want = n < 8 ? n : 8;

	assert_int_equal(burst(f, n, 0, 10000000, sent_between, got, 160), want);
	assert_int_equal(f->ring.dropped, (uint64_t)(n - want));
	for (int i = 1; i < want; i++)
		assert_int_equal(got[i], got[i - 1] + 1);   /* a run, in order */
	/* sent as it came: the first 8 left before the rest arrived; sent after
	 * the burst: the newest 8 were still ours to choose */
	assert_int_equal(got[0], sent_between || n <= 8 ? 0 : n - 8);
}

static void test_echo_burst_of_8_whole(void **state) { check_burst((struct fake *)*state, 8, 0); }
static void test_echo_burst_of_9_keeps_8(void **state) { check_burst((struct fake *)*state, 9, 0); }
static void test_echo_burst_of_50_keeps_8(void **state) { check_burst((struct fake *)*state, 50, 0); }
static void test_echo_burst_of_150_keeps_8(void **state) { check_burst((struct fake *)*state, 150, 0); }
static void test_echo_burst_of_8_sent_between(void **state) { check_burst((struct fake *)*state, 8, 1); }
static void test_echo_burst_of_9_sent_between(void **state) { check_burst((struct fake *)*state, 9, 1); }
static void test_echo_burst_of_50_sent_between(void **state) { check_burst((struct fake *)*state, 50, 1); }
static void test_echo_burst_of_150_sent_between(void **state) { check_burst((struct fake *)*state, 150, 1); }

static void test_echo_budget_refills_as_vonage_plays(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint16_t got[64];

	assert_int_equal(burst(f, 8, 0, 1000000, 0, got, 64), 8);
	/* 100 ms later Vonage has played 5 of them: room for 5 more */
	assert_int_equal(burst(f, 8, 100, 1100000, 0, got, 64), 5);
	assert_int_equal(f->ring.dropped, 3);
	/* a second later all has played: a full budget again */
	assert_int_equal(burst(f, 8, 200, 2200000, 0, got, 64), 8);
	assert_int_equal(f->ring.dropped, 3);
}

static void test_echo_max_ms_sets_the_budget(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint16_t got[64];

	fake_app_opt(f, "echo-max-ms", 40);
	assert_int_equal(burst(f, 10, 0, 1000000, 0, got, 64), 2);
	assert_int_equal(f->ring.dropped, 8);
	fake_app_opt(f, "echo-max-ms", 0);   /* keep every frame the transport can send */
	assert_int_equal(burst(f, 60, 0, 1000000, 1, got, 64), 60);
	assert_int_equal(f->ring.dropped, 8);
	/* ... but a peer that does not read still meets the queue's 8 slots */
	assert_int_equal(burst(f, 20, 0, 1000000, 0, got, 64), 8);
	assert_int_equal(f->ring.dropped, 8 + 12);
}

static void test_echo_budget_counts_in_time_at_other_rates(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[320];

	fake_connected(f, 8000);
	for (int i = 0; i < 20; i++) {
		fake_pcm(pcm, sizeof pcm, 0, (uint16_t)i);
		fake_frame(f, pcm, sizeof pcm, 3000000);
	}
	assert_int_equal(fake_sent(f, NULL, 0, NULL, 0), 8);   /* 8 x 20 ms at 8 kHz too */
	/* a short message is a short stretch of audio: 16 of 10 ms fit 160 ms */
	for (int i = 0; i < 20; i++) {
		fake_pcm(pcm, 160, 0, (uint16_t)i);
		fake_frame(f, pcm, 160, 9000000);
	}
	assert_int_equal(fake_sent(f, NULL, 0, NULL, 0), 8);   /* the queue holds 8 */
	assert_int_equal(f->ring.dropped, 12 + 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_echo_paced_frames_all_come_back_bit_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_jitter_within_the_budget_loses_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_burst_of_8_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_burst_of_9_keeps_8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_burst_of_50_keeps_8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_burst_of_150_keeps_8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_burst_of_8_sent_between, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_burst_of_9_sent_between, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_burst_of_50_sent_between, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_burst_of_150_sent_between, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_budget_refills_as_vonage_plays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_max_ms_sets_the_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_budget_counts_in_time_at_other_rates, setup, teardown),
	};
	return cmocka_run_group_tests_name("app_echo", tests, NULL, NULL);
}
