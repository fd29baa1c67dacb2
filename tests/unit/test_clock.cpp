/*
 * test_clock.cpp -- src/clock.cpp: the real clock agrees with the system's,
 * a frozen one says what it was told and moves only when advanced.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <time.h>

#include "clock.h"

static void test_clock_real(void **state)
{
	(void)state;
	time_t t = time(NULL);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t mono = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;

	assert_true(clock_wall_s() >= t && clock_wall_s() <= t + 2);
	assert_true(clock_wall_ms() / 1000 >= (uint64_t)t);
	uint64_t us = clock_mono_us();
	assert_true(us >= mono && us < mono + 2000000u);
	assert_true(clock_mono_ms() >= mono / 1000);
	uint64_t a = clock_mono_us(), b = clock_mono_us();
	assert_true(b >= a);   /* monotonic */
}

static void test_clock_frozen_and_advanced(void **state)
{
	(void)state;
	clock_set(1700000000, 5000000);
	assert_int_equal(clock_wall_s(), 1700000000);
	assert_int_equal(clock_wall_ms(), 1700000000000ull);
	assert_int_equal(clock_mono_us(), 5000000);
	assert_int_equal(clock_mono_ms(), 5000);
	assert_int_equal(clock_mono_us(), 5000000);   /* stays put */
	clock_advance_us(1500000);
	assert_int_equal(clock_wall_s(), 1700000001);
	assert_int_equal(clock_wall_ms(), 1700000001500ull);
	assert_int_equal(clock_mono_us(), 6500000);
	clock_real();
	assert_true(clock_wall_s() > 1700000001);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_real),
		cmocka_unit_test(test_clock_frozen_and_advanced),
	};
	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
