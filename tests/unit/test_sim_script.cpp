/*
 * test_sim_script.cpp -- unit tests for sim/script.cpp: the scripted
 * caller. Talk and pause alternate in whole frames starting with talk;
 * without a script every frame is talk; the kind of each recent frame is
 * remembered (and forgotten after SCRIPT_WIN); a barge-in starts the next
 * burst MS after the caller hears its own speech begin during a pause,
 * never while it talks, never on non-speech, once per pause.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <string.h>

#include "script.h"

static struct script S;

/* Send frames [from, to) at ticks == seq; the talk pattern as a string of T and p. */
static void pattern(uint32_t from, uint32_t to, char *out)
{
	for (uint32_t s = from; s < to; s++)
		*out++ = (script_next(&S, s, s) & SCRIPT_TALK) ? 'T' : 'p';
	*out = '\0';
}

static void test_script_alternates_talk_and_pause(void **state)
{
	(void)state;
	char p[64];
	script_init(&S, 60, 40, 0, 0);   /* 3 frames talk, 2 pause */
	pattern(0, 12, p);
	assert_string_equal(p, "TTTppTTTppTT");
	assert_int_equal(S.bursts, 3);
	assert_int_equal(script_kind(&S, 0), 1);
	assert_int_equal(script_kind(&S, 3), 0);
	assert_int_equal(script_kind(&S, 11), 1);
	assert_int_equal(script_kind(&S, 12), -1);   /* not sent yet */
	/* 30 ms rounds to 2 frames, 5 ms to 1 (never 0) */
	script_init(&S, 30, 5, 0, 0);
	pattern(0, 7, p);
	assert_string_equal(p, "TTpTTpT");
}

static void test_script_start_flags_and_no_script(void **state)
{
	(void)state;
	script_init(&S, 40, 20, 0, 0);
	assert_int_equal(script_next(&S, 0, 0), SCRIPT_TALK | SCRIPT_START);
	assert_int_equal(script_next(&S, 1, 1), SCRIPT_TALK);
	assert_int_equal(script_next(&S, 2, 2), 0);
	assert_int_equal(script_next(&S, 3, 3), SCRIPT_TALK | SCRIPT_START);
	script_init(&S, 0, 0, 0, 0);
	for (uint32_t s = 0; s < 100; s++)
		assert_int_equal(script_next(&S, s, s), SCRIPT_TALK);
	assert_int_equal(S.bursts, 0);
	assert_int_equal(script_kind(&S, 50), 1);
}

static void test_script_kind_window(void **state)
{
	(void)state;
	script_init(&S, 20, 20, 0, 0);   /* T p T p ... */
	for (uint32_t s = 0; s < SCRIPT_WIN + 10; s++)
		script_next(&S, s, s);
	assert_int_equal(script_kind(&S, 9), -1);     /* forgotten */
	assert_int_equal(script_kind(&S, 10), 1);     /* oldest remembered */
	assert_int_equal(script_kind(&S, SCRIPT_WIN + 9), 0);
	assert_int_equal(script_kind(&S, SCRIPT_WIN + 8), 1);
}

static void test_script_barge_in_starts_early(void **state)
{
	(void)state;
	unsigned f;
	script_init(&S, 60, 1000, 1, 40);   /* 3 talk, 50 pause, barge 2 ticks after onset */
	for (uint32_t t = 0; t < 3; t++)
		script_next(&S, t, t);
	script_heard(&S, 1, 3);              /* the tick the pause starts: still talking */
	for (uint32_t t = 3; t < 10; t++) {
		script_heard(&S, 0, t);
		assert_int_equal(script_next(&S, t, t), 0);
	}
	script_heard(&S, 1, 10);             /* own speech comes back: onset */
	assert_int_equal(script_next(&S, 10, 10), 0);
	script_heard(&S, 1, 11);
	assert_int_equal(script_next(&S, 11, 11), 0);
	script_heard(&S, 1, 12);
	f = script_next(&S, 12, 12);
	assert_int_equal(f, SCRIPT_TALK | SCRIPT_START | SCRIPT_BARGE);
	assert_int_equal(S.barges, 1);
	/* the burst runs its full length, then a full pause again */
	assert_int_equal(script_next(&S, 13, 13), SCRIPT_TALK);
	assert_int_equal(script_next(&S, 14, 14), SCRIPT_TALK);
	assert_int_equal(script_next(&S, 15, 15), 0);
	/* still hearing the same speech: no new onset, no second barge-in */
	for (uint32_t t = 16; t < 40; t++) {
		script_heard(&S, 1, t);
		assert_int_equal(script_next(&S, t, t), 0);
	}
}

static void test_script_barge_in_needs_own_speech_onset(void **state)
{
	(void)state;
	script_init(&S, 20, 200, 1, 0);   /* 1 talk, 10 pause, barge at once */
	script_next(&S, 0, 0);
	for (uint32_t t = 1; t < 11; t++) {
		script_heard(&S, 0, t);           /* beeps and silence are not own speech */
		assert_int_equal(script_next(&S, t, t), 0);
	}
	assert_int_equal(script_next(&S, 11, 11), SCRIPT_TALK | SCRIPT_START);   /* the pause ran out */
	script_heard(&S, 1, 12);                 /* at the tick the burst ends: still talking, ignored */
	assert_int_equal(script_next(&S, 12, 12), 0);
	script_heard(&S, 0, 13);
	assert_int_equal(script_next(&S, 13, 13), 0);
	script_heard(&S, 1, 14);                 /* onset during a pause, barge 0: this very tick */
	assert_int_equal(script_next(&S, 14, 14), SCRIPT_TALK | SCRIPT_START | SCRIPT_BARGE);
	/* without --barge-in the same onset changes nothing */
	script_init(&S, 20, 200, 0, 0);
	script_next(&S, 0, 0);
	script_heard(&S, 0, 1);
	script_next(&S, 1, 1);
	script_heard(&S, 1, 2);
	assert_int_equal(script_next(&S, 2, 2), 0);
	assert_int_equal(S.barges, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_alternates_talk_and_pause),
		cmocka_unit_test(test_script_start_flags_and_no_script),
		cmocka_unit_test(test_script_kind_window),
		cmocka_unit_test(test_script_barge_in_starts_early),
		cmocka_unit_test(test_script_barge_in_needs_own_speech_onset),
	};
	return cmocka_run_group_tests_name("sim_script", tests, NULL, NULL);
}
