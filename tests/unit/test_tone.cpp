/*
 * test_tone.cpp -- unit tests for src/tone.cpp, the table sine the apps use
 * instead of libm: exact at the quarter cycles, within 0.012% of full scale
 * everywhere against libm's sin() (the test may link libm; the server does
 * not), symmetric, and stepping at the right frequency.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <math.h>
#include <stdlib.h>

#include "tone.h"

static void test_tone_quarter_cycles(void **state)
{
	(void)state;
	assert_int_equal(tone_sin(0), 0);
	assert_int_equal(tone_sin(0x40000000u), 32767);
	assert_int_equal(tone_sin(0x80000000u), 0);
	assert_int_equal(tone_sin(0xC0000000u), -32767);
}

static void test_tone_close_to_sin_everywhere(void **state)
{
	(void)state;
	double worst = 0;
	for (uint64_t p = 0; p < (1ull << 32); p += 104729u * 7) {   /* ~5,900 phases, not table-aligned */
		double want = 32767.0 * sin(2 * M_PI * (double)p / 4294967296.0);
		double err = fabs(tone_sin((uint32_t)p) - want);
		if (err > worst)
			worst = err;
	}
	assert_true(worst <= 4.0);   /* interpolation (2.5) and rounding: 0.012% of 32767 */
}

static void test_tone_odd_symmetry(void **state)
{
	(void)state;
	for (uint32_t p = 12345; p < 0x80000000u; p += 0x01234567u)
		assert_true(abs(tone_sin(p) + tone_sin(p + 0x80000000u)) <= 1);
}

static void test_tone_step_runs_at_the_frequency(void **state)
{
	(void)state;
	/* 1 kHz at 8 kHz: 8 samples a cycle, back to the start exactly */
	uint32_t step = tone_step(1000, 8000), p = 0;
	assert_int_equal(step, 0x20000000u);
	for (int i = 0; i < 8; i++)
		p += step;
	assert_int_equal(p, 0);
	/* 50 Hz at 24 kHz: a cycle in 480 samples, within one step of wrapping */
	step = tone_step(50, 24000);
	p = 0;
	for (int i = 0; i < 480; i++)
		p += step;
	assert_true(p < step || p > 0u - step);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tone_quarter_cycles),
		cmocka_unit_test(test_tone_close_to_sin_everywhere),
		cmocka_unit_test(test_tone_odd_symmetry),
		cmocka_unit_test(test_tone_step_runs_at_the_frequency),
	};
	return cmocka_run_group_tests_name("tone", tests, NULL, NULL);
}
