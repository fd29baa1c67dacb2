/*
 * test_sim_pctl.cpp -- unit tests for sim/pctl.cpp (latency percentiles).
 *
 * The histogram trades exactness for fixed memory: a percentile must never
 * be below the true nearest-rank value and at most 1/32 above it. The
 * property test checks exactly that against a sorted copy of random
 * samples; the other tests pin down the bucket layout and edge cases.
 * Each test gets a fresh zeroed histogram from setup_hist().
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
#include <string.h>

#include "pctl.h"

static int setup_hist(void **state)
{
	struct pctl *h = (struct pctl *)malloc(sizeof *h);
	if (!h)
		return -1;
	memset(h, 0xa5, sizeof *h);   /* pctl_init must clear everything */
	pctl_init(h);
	*state = h;
	return 0;
}

static int teardown_hist(void **state)
{
	free(*state);
	return 0;
}

/* The exact nearest-rank percentile of sorted[0..n). */
static uint32_t exact(const uint32_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n - 1e-9);
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void test_pctl_value_empty_is_zero(void **state)
{
	struct pctl *h = (struct pctl *)*state;

	assert_int_equal(h->n, 0);
	assert_int_equal(pctl_value(h, 50), 0);
	assert_int_equal(pctl_value(h, 99), 0);
	assert_int_equal(pctl_value(h, 100), 0);
}

static void test_pctl_value_single_sample_is_every_percentile(void **state)
{
	struct pctl *h = (struct pctl *)*state;

	pctl_add(h, 12345);
	assert_int_equal(pctl_value(h, 1), 12345);   /* bucket top clamped to the exact max */
	assert_int_equal(pctl_value(h, 50), 12345);
	assert_int_equal(pctl_value(h, 100), 12345);
}

/* Below 64 us every value has its own bucket: percentiles are exact. */
static void test_pctl_value_small_values_are_exact(void **state)
{
	struct pctl *h = (struct pctl *)*state;

	for (uint32_t v = 1; v <= 60; v++)
		pctl_add(h, v);
	assert_int_equal(pctl_value(h, 50), 30);
	assert_int_equal(pctl_value(h, 90), 54);
	assert_int_equal(pctl_value(h, 99), 60);   /* rank ceil(59.4) = 60 */
	assert_int_equal(pctl_value(h, 100), 60);
	assert_int_equal(h->max, 60);
	assert_int_equal(h->sum, 60 * 61 / 2);
}

/* p99 of 100 samples is the 99th smallest, not the largest. */
static void test_pctl_value_nearest_rank_of_one_hundred(void **state)
{
	struct pctl *h = (struct pctl *)*state;

	for (uint32_t v = 0; v < 99; v++)
		pctl_add(h, 10);
	pctl_add(h, 50000);
	assert_int_equal(pctl_value(h, 99), 10);
	assert_int_equal(pctl_value(h, 99.5), 50000);
	assert_int_equal(pctl_value(h, 100), 50000);
}

static void test_pctl_value_within_one_thirty_second_above_exact(void **state)
{
	struct pctl *h = (struct pctl *)*state;
	static uint32_t v[20000];
	const double ps[] = { 1, 10, 50, 90, 99, 99.9, 100 };

	srand(7);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		/* log-uniform from 1 us to ~16 s, the range RTTs and lags span */
		v[i] = (uint32_t)exp((double)rand() / RAND_MAX * log(16.0e6));
		pctl_add(h, v[i]);
	}
	qsort(v, sizeof v / sizeof v[0], sizeof v[0], cmp_u32);
	for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
		uint32_t want = exact(v, sizeof v / sizeof v[0], ps[k]);
		uint32_t got = pctl_value(h, ps[k]);
		assert_true(got >= want);
		assert_true(got <= want + want / 32);
	}
}

static void test_pctl_bucket_layout_is_contiguous_and_monotonic(void **state)
{
	(void)state;
	for (uint32_t i = 0; i + 1 < PCTL_BUCKETS; i++) {
		uint32_t top = pctl_bucket_top(i);
		assert_int_equal(pctl_bucket_of(top), i);
		assert_int_equal(pctl_bucket_of(top + 1), i + 1);   /* no gaps, no overlaps */
	}
	assert_int_equal(pctl_bucket_top(PCTL_BUCKETS - 1), PCTL_VALUE_MAX);
	assert_int_equal(pctl_bucket_of(0), 0);
	assert_int_equal(pctl_bucket_of(63), 63);
	assert_int_equal(pctl_bucket_of(64), 64);
	assert_int_equal(pctl_bucket_of(65), 64);   /* 2-wide buckets from 64 */
}

static void test_pctl_add_clamps_huge_values(void **state)
{
	struct pctl *h = (struct pctl *)*state;

	pctl_add(h, UINT32_MAX);
	assert_int_equal(h->max, PCTL_VALUE_MAX);
	assert_int_equal(h->bucket[PCTL_BUCKETS - 1], 1);
	assert_int_equal(pctl_value(h, 50), PCTL_VALUE_MAX);
}

static void test_pctl_merge_equals_adding_everything_to_one(void **state)
{
	struct pctl *h = (struct pctl *)*state;
	static struct pctl a, b;

	pctl_init(&a);
	pctl_init(&b);
	for (uint32_t i = 0; i < 5000; i++) {
		uint32_t v = (i * 2654435761u) % 100000;
		pctl_add(i & 1 ? &a : &b, v);
		pctl_add(h, v);
	}
	pctl_merge(&a, &b);
	assert_memory_equal(&a, h, sizeof *h);
	pctl_init(&b);
	pctl_merge(&a, &b);   /* merging an empty histogram changes nothing */
	assert_memory_equal(&a, h, sizeof *h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pctl_value_empty_is_zero, setup_hist, teardown_hist),
		cmocka_unit_test_setup_teardown(test_pctl_value_single_sample_is_every_percentile, setup_hist,
						teardown_hist),
		cmocka_unit_test_setup_teardown(test_pctl_value_small_values_are_exact, setup_hist, teardown_hist),
		cmocka_unit_test_setup_teardown(test_pctl_value_nearest_rank_of_one_hundred, setup_hist, teardown_hist),
		cmocka_unit_test_setup_teardown(test_pctl_value_within_one_thirty_second_above_exact, setup_hist,
						teardown_hist),
		cmocka_unit_test(test_pctl_bucket_layout_is_contiguous_and_monotonic),
		cmocka_unit_test_setup_teardown(test_pctl_add_clamps_huge_values, setup_hist, teardown_hist),
		cmocka_unit_test_setup_teardown(test_pctl_merge_equals_adding_everything_to_one, setup_hist,
						teardown_hist),
	};
	return cmocka_run_group_tests_name("sim_pctl", tests, NULL, NULL);
}
