/*
 * test_replay.cpp -- unit tests for src/replay.cpp: a jti is accepted once
 * until it expires, the table reuses expired slots, and it fails closed
 * when a window is full of live entries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define NOW 1700000000L

static int setup(void **state)
{
	struct replay *r = (struct replay *)calloc(1, sizeof *r);
	if (!r)
		return -1;
	replay_init(r, 42);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static enum replay_result put(struct replay *r, const char *jti, time_t now, time_t exp)
{
	return replay_check_insert(r, jti, strlen(jti), now, exp);
}

static void test_replay_second_use_refused(void **state)
{
	struct replay *r = (struct replay *)*state;
	assert_int_equal(put(r, "0f4ecb40-6e31-4cf7-9a0c-4ad7f2e5c2d1", NOW, NOW + 330), REPLAY_NEW);
	assert_int_equal(put(r, "0f4ecb40-6e31-4cf7-9a0c-4ad7f2e5c2d1", NOW + 1, NOW + 331), REPLAY_SEEN);
	assert_int_equal(put(r, "0f4ecb40-6e31-4cf7-9a0c-4ad7f2e5c2d2", NOW + 1, NOW + 331), REPLAY_NEW);
	/* only len bytes count */
	assert_int_equal(replay_check_insert(r, "abcdef", 3, NOW, NOW + 10), REPLAY_NEW);
	assert_int_equal(put(r, "abc", NOW, NOW + 10), REPLAY_SEEN);
	assert_int_equal(r->live, 3u);
}

static void test_replay_forgets_after_expiry(void **state)
{
	struct replay *r = (struct replay *)*state;
	assert_int_equal(put(r, "j", NOW, NOW + 300), REPLAY_NEW);
	assert_int_equal(put(r, "j", NOW + 300, NOW + 600), REPLAY_SEEN);   /* still live at the edge */
	assert_int_equal(put(r, "j", NOW + 301, NOW + 601), REPLAY_NEW);    /* the age check guards it now */
}

static void test_replay_many_distinct_tokens(void **state)
{
	struct replay *r = (struct replay *)*state;
	char jti[64];
	/* half the table of live tokens: every one is new, then every one is seen */
	for (int i = 0; i < REPLAY_SLOTS / 2; i++) {
		snprintf(jti, sizeof jti, "jti-%d", i);
		assert_int_equal(put(r, jti, NOW, NOW + 300), REPLAY_NEW);
	}
	for (int i = 0; i < REPLAY_SLOTS / 2; i++) {
		snprintf(jti, sizeof jti, "jti-%d", i);
		assert_int_equal(put(r, jti, NOW + 10, NOW + 310), REPLAY_SEEN);
	}
	/* once they expire the same slots take a new generation */
	for (int i = 0; i < REPLAY_SLOTS / 2; i++) {
		snprintf(jti, sizeof jti, "new-%d", i);
		assert_int_equal(put(r, jti, NOW + 400, NOW + 700), REPLAY_NEW);
	}
	assert_true(r->live <= (uint32_t)REPLAY_SLOTS);
}

static void test_replay_full_fails_closed(void **state)
{
	struct replay *r = (struct replay *)*state;
	char jti[64];
	int full = 0, i;
	for (i = 0; i < 4 * REPLAY_SLOTS && !full; i++) {
		snprintf(jti, sizeof jti, "flood-%d", i);
		enum replay_result res = put(r, jti, NOW, NOW + 300);
		assert_true(res == REPLAY_NEW || res == REPLAY_FULL);
		full = res == REPLAY_FULL;
	}
	assert_true(full);
	/* a full window never forgets a live token to make room */
	for (int k = 0; k < i - 1; k++) {
		snprintf(jti, sizeof jti, "flood-%d", k);
		assert_int_not_equal(put(r, jti, NOW, NOW + 300), REPLAY_NEW);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_replay_second_use_refused),
		T(test_replay_forgets_after_expiry),
		T(test_replay_many_distinct_tokens),
		T(test_replay_full_fails_closed),
	};
	return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
