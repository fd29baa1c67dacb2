/*
 * test_sim_check.cpp -- unit tests for sim/check.cpp: the delay and parrot
 * verdicts, fed with (tick, frame) events as the engine would feed them.
 * A faithful delay line passes; one tick too early or two too late, a
 * missing or duplicated or altered frame fails. A faithful parrot passes;
 * a skipped, reordered or early frame, an unheard burst, a frame heard
 * after the clear that interrupted it, a late or missing clear after a
 * barge-in, and an unanswered notify fail -- each with its reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdlib.h>
#include <string.h>

#include "check.h"

#define MS 1000000ull

static struct check K;

/* Tick t's time: 20 ms apart, from 1 s. */
static uint64_t at(uint32_t t) { return 1000 * MS + (uint64_t)t * 20 * MS; }

/*
 * A delay line of lag ticks: frame t sent at tick t is heard at tick
 * t + lag, for frames [0, n); the call plays on for tail ticks.
 */
static void run_delay(uint32_t delay_ms, uint32_t lag, uint32_t n, uint32_t tail)
{
	chk_init(&K, CHK_DELAY, delay_ms, 0);
	for (uint32_t t = 0; t < n + tail; t++) {
		if (t >= lag && t - lag < n)
			chk_heard(&K, t, 1, t - lag, 1);
		if (t < n)
			chk_sent(&K, t, t, CHK_SENT_TALK, at(t));
	}
}

static void test_chk_delay_faithful_line_passes(void **state)
{
	(void)state;
	/* returned 100 ms later: heard at the 6th tick (the next playout slot) */
	run_delay(100, 6, 200, 10);
	assert_true(chk_done(&K));
	chk_finish(&K, 0, 0, 0, 0);
	assert_int_equal(K.faults, 0);
	assert_string_equal(K.why, "");
	/* one tick of slack either side */
	run_delay(100, 5, 50, 10);
	chk_finish(&K, 0, 0, 0, 0);
	assert_int_equal(K.faults, 0);
	run_delay(100, 7, 50, 10);
	chk_finish(&K, 0, 0, 0, 0);
	assert_int_equal(K.faults, 0);
	/* an echo is delay=0 */
	run_delay(0, 1, 50, 2);
	chk_finish(&K, 0, 0, 0, 0);
	assert_int_equal(K.faults, 0);
}

static void test_chk_delay_wrong_lag_fails(void **state)
{
	(void)state;
	run_delay(100, 4, 50, 10);
	chk_finish(&K, 0, 0, 0, 0);
	assert_int_equal(K.faults, 50);
	assert_non_null(strstr(K.why, "frame 0 heard 80 ms after it was sent; delay=100 allows 80 < ms <= 140"));
	assert_non_null(strstr(K.why, "(+49 more)"));
	run_delay(100, 8, 50, 10);
	chk_finish(&K, 0, 0, 0, 0);
	assert_true(K.faults >= 50);
	assert_non_null(strstr(K.why, "heard 160 ms"));
}

static void test_chk_delay_missing_duplicate_and_altered(void **state)
{
	(void)state;
	chk_init(&K, CHK_DELAY, 100, 0);
	for (uint32_t t = 0; t < 100; t++) {
		chk_sent(&K, t, t, CHK_SENT_TALK, at(t));
		if (t >= 5 && t != 40 + 5)
			chk_heard(&K, t + 1, 1, t - 5, 1);   /* frame 40 never comes */
	}
	assert_false(chk_done(&K));
	chk_finish(&K, 0, 0, 0, 0);
	/* 40 is missing; 95..99 were sent within 100 + 200 ms of the end: forgiven */
	assert_int_equal(K.missing, 1);
	assert_int_equal(K.faults, 1);
	assert_string_equal(K.why, "1 frames sent over 300 ms before the end never heard (first: frame 40)");

	chk_init(&K, CHK_DELAY, 0, 0);
	chk_sent(&K, 0, 0, CHK_SENT_TALK, at(0));
	chk_sent(&K, 1, 1, CHK_SENT_TALK, at(1));
	chk_heard(&K, 1, 1, 0, 1);
	chk_heard(&K, 2, 1, 0, 1);      /* twice */
	chk_heard(&K, 2, 1, 1, 0);      /* altered */
	chk_heard(&K, 2, 1, 77, 1);     /* never sent */
	chk_heard(&K, 2, 0, 0, 0);      /* not stamped: allowed */
	assert_true(chk_done(&K));
	chk_finish(&K, 0, 0, 0, 0);
	assert_int_equal(K.faults, 3);
	assert_string_equal(K.why, "frame 0 heard twice (+2 more)");
}

/*
 * The parrot: bursts of `talk` frames and pauses of `pause` frames; the
 * server plays burst k back, 3 frames per tick, starting `react` ticks
 * after it ended, then sends a notify (answered here at once).
 * skip/swap/early damage burst 2's playback.
 */
struct parrot_opts { uint32_t talk, pause, bursts, react; int skip, swap, early; };

static void run_parrot(const struct parrot_opts *o)
{
	uint32_t seq = 0, t = 0, played_to = 0;
	uint32_t first[16], last[16];
	struct { uint32_t seq, tick; } heard[512];
	uint32_t nh = 0;
	chk_init(&K, CHK_PARROT, 0, o->pause);
	for (uint32_t b = 0; b < o->bursts; b++) {
		first[b] = seq;
		for (uint32_t i = 0; i < o->talk; i++, t++)
			chk_sent(&K, seq++, t, CHK_SENT_TALK, at(t));
		last[b] = seq - 1;
		uint32_t end = t;
		/* the playback, heard one frame per tick from end + react on */
		for (uint32_t s = first[b], h = end + o->react; s <= last[b]; s++, h++) {
			if (o->skip && b == 1 && s == first[b] + 2)
				continue;
			heard[nh].seq = s;
			heard[nh++].tick = (o->early && b == 1) ? first[b] + 1 : h;
		}
		if (o->swap && b == 1) {
			uint32_t x = heard[nh - 2].seq;
			heard[nh - 2].seq = heard[nh - 1].seq;
			heard[nh - 1].seq = x;
		}
		for (uint32_t i = 0; i < o->pause; i++, t++) {
			chk_sent(&K, seq++, t, 0, at(t));
			for (uint32_t j = played_to; j < nh; j++)
				if (heard[j].tick == t) {
					chk_heard(&K, t, 1, heard[j].seq, 1);
					played_to = j + 1;
				}
		}
	}
	(void)played_to;
}

static void test_chk_parrot_faithful_passes(void **state)
{
	(void)state;
	struct parrot_opts o = { 10, 20, 3, 2, 0, 0, 0 };
	run_parrot(&o);
	assert_true(chk_done(&K));
	chk_heard(&K, 100, 0, 0, 0);              /* a beep */
	chk_answered(&K, 0);
	chk_answered(&K, 1);
	chk_answered(&K, 2);
	chk_finish(&K, 3, 3, 0, 0);
	assert_string_equal(K.why, "");
	assert_int_equal(K.faults, 0);
}

static void test_chk_parrot_damaged_playback_fails(void **state)
{
	(void)state;
	struct parrot_opts o = { 10, 20, 3, 2, 1, 0, 0 };
	run_parrot(&o);
	chk_finish(&K, 0, 0, 0, 0);
	assert_string_equal(K.why, "talk burst 2: frame 33 heard where frame 32 was due (out of order or skipped)");

	o.skip = 0;
	o.swap = 1;
	run_parrot(&o);
	chk_finish(&K, 0, 0, 0, 0);
	assert_non_null(strstr(K.why, "talk burst 2: frame 39 heard where frame 38 was due"));

	o.swap = 0;
	o.early = 1;   /* burst 2's frames "heard" while it was still being spoken */
	run_parrot(&o);
	chk_finish(&K, 0, 0, 0, 0);
	assert_true(K.faults > 0);

	/* a pause shorter than the parrot's reaction: the last burst is never played */
	struct parrot_opts never = { 10, 20, 2, 1000, 0, 0, 0 };
	run_parrot(&never);
	assert_false(chk_done(&K));
	chk_finish(&K, 0, 0, 0, 0);
	assert_non_null(strstr(K.why, "talk burst 1 (frames 0-9): 0 of 10 frames heard back"));
	assert_non_null(strstr(K.why, "(+1 more)"));
}

static void test_chk_parrot_unfinished_last_burst_is_not_judged(void **state)
{
	(void)state;
	chk_init(&K, CHK_PARROT, 0, 20);
	for (uint32_t t = 0; t < 10; t++)
		chk_sent(&K, t, t, CHK_SENT_TALK, at(t));
	for (uint32_t t = 10; t < 15; t++)
		chk_sent(&K, t, t, 0, at(t));    /* the stream ends 5 frames into the pause */
	assert_true(chk_done(&K));
	chk_finish(&K, 0, 0, 0, 0);
	assert_int_equal(K.faults, 0);
}

/*
 * Barge-in: burst 1 (frames 0-9) is being played back when the caller
 * starts burst 2 at tick 20; clear_after_ns < 0 means no clear at all;
 * leak hears one more frame of burst 1 after the clear.
 */
static void run_barge(long long clear_after_ns, int leak)
{
	chk_init(&K, CHK_PARROT, 0, 50);
	uint32_t t = 0;
	for (; t < 10; t++)
		chk_sent(&K, t, t, CHK_SENT_TALK, at(t));
	for (; t < 20; t++) {
		if (t >= 14)
			chk_heard(&K, t, 1, t - 14, 1);   /* 0..5 heard */
		chk_sent(&K, t, t, 0, at(t));
	}
	chk_tick(&K, at(20));
	chk_sent(&K, 20, 20, CHK_SENT_TALK | CHK_SENT_BARGE, at(20) + 50000);
	if (clear_after_ns >= 0)
		chk_clear(&K, at(20) + 50000 + (uint64_t)clear_after_ns);
	for (t = 21; t < 30; t++) {
		chk_tick(&K, at(t));
		if (leak && t == 22)
			chk_heard(&K, t, 1, 6, 1);
		chk_sent(&K, t, t, CHK_SENT_TALK, at(t));
	}
}

static void test_chk_parrot_barge_in_clear(void **state)
{
	(void)state;
	run_barge(3 * (long long)MS, 0);
	chk_finish(&K, 0, 0, 0, 0);
	assert_string_equal(K.why, "");           /* burst 1 was interrupted: 6 of 10 is right */

	run_barge(25 * (long long)MS, 0);
	chk_finish(&K, 0, 0, 0, 0);
	assert_string_equal(K.why, "clear came 25.0 ms after barge-in burst 2 began (limit 20)");

	run_barge(-1, 0);
	chk_finish(&K, 0, 0, 0, 0);
	assert_string_equal(K.why, "no clear within 20 ms of barge-in burst 2 (+1 more)");   /* and 6 of 10 */

	run_barge(2 * (long long)MS, 1);
	chk_finish(&K, 0, 0, 0, 0);
	assert_string_equal(K.why, "talk burst 1: frame 6 heard after the clear that interrupted its playback");
}

static void test_chk_notify_and_bad_input(void **state)
{
	(void)state;
	chk_init(&K, CHK_PARROT, 0, 5);
	chk_answered(&K, 0);
	chk_answered(&K, 2);
	chk_finish(&K, 4, 2, 1, 3);
	assert_int_equal(K.faults, 4);
	assert_string_equal(K.why, "notify 2 answered before notify 1 (+3 more)");
	chk_init(&K, CHK_DELAY, 0, 0);
	chk_finish(&K, 2, 1, 0, 0);
	assert_string_equal(K.why, "1 of 2 notify commands never answered");
	/* echo is the ledger's business: this checker never fails it */
	chk_init(&K, CHK_ECHO, 0, 0);
	chk_sent(&K, 0, 0, CHK_SENT_TALK, 0);
	chk_heard(&K, 9, 1, 55, 0);
	chk_answered(&K, 5);
	chk_finish(&K, 9, 0, 9, 9);
	assert_int_equal(K.faults, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chk_delay_faithful_line_passes),
		cmocka_unit_test(test_chk_delay_wrong_lag_fails),
		cmocka_unit_test(test_chk_delay_missing_duplicate_and_altered),
		cmocka_unit_test(test_chk_parrot_faithful_passes),
		cmocka_unit_test(test_chk_parrot_damaged_playback_fails),
		cmocka_unit_test(test_chk_parrot_unfinished_last_burst_is_not_judged),
		cmocka_unit_test(test_chk_parrot_barge_in_clear),
		cmocka_unit_test(test_chk_notify_and_bad_input),
	};
	return cmocka_run_group_tests_name("sim_check", tests, NULL, NULL);
}
