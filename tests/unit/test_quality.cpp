/*
 * test_quality.cpp -- unit tests for src/quality.cpp: frames fed at chosen
 * arrival times and with chosen samples, and the figures read back --
 * RFC 3550 jitter against values worked out by hand, gaps and bursts of a
 * stall that is made up or not, dwell percentiles from the buckets, levels
 * in dBFS (against libm here; the server has its own log2), silence,
 * clipping, and the score's formula at known points.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <math.h>
#include <string.h>

#include "quality.h"

#define N 320   /* samples in a 20 ms frame at 16 kHz */

static uint8_t frame[2 * N];

static void fill(int16_t v)
{
	for (int i = 0; i < N; i++) {
		frame[2 * i] = (uint8_t)((uint16_t)v & 0xff);
		frame[2 * i + 1] = (uint8_t)((uint16_t)v >> 8);
	}
}

/* feed frames at the given arrival times (µs) */
static void feed(struct quality *q, const uint64_t *at, int n)
{
	for (int i = 0; i < n; i++)
		quality_frame(q, at[i], frame, sizeof frame);
}

static void test_on_the_grid_is_clean(void **state)
{
	(void)state;
	struct quality q;
	struct quality_report r;
	memset(&q, 0, sizeof q);
	fill(1000);
	for (int i = 0; i < 500; i++)
		quality_frame(&q, 1000000 + (uint64_t)i * 20000, frame, sizeof frame);
	quality_read(&q, &r);
	assert_true(r.jitter_ms == 0);
	assert_int_equal(r.gaps, 0);
	assert_int_equal(r.gap_frames, 0);
	assert_int_equal(r.burst_frames, 0);
	assert_int_equal(r.behind, 0);
	assert_true(r.mos > 4.40 && r.mos < 4.42);   /* Le = 10 ms: R = 92.95 */
}

/* RFC 3550 A.8 by hand: J += (|D| - J)/16, D = interarrival - 20 ms */
static void test_jitter_is_rfc3550(void **state)
{
	(void)state;
	struct quality q;
	struct quality_report r;
	memset(&q, 0, sizeof q);
	fill(0);
	const uint64_t at[] = { 0, 24000, 40000, 64000, 80000 };   /* D = 4, 4, 4, 4 ms */
	feed(&q, at, 5);
	double j = 0;
	for (int i = 0; i < 4; i++)
		j += (4.0 - j) / 16;
	quality_read(&q, &r);
	assert_true(fabs(r.jitter_ms - j) < 0.01);
	/* alternating offsets converge to E|D| */
	memset(&q, 0, sizeof q);
	for (int i = 0; i < 2000; i++)
		quality_frame(&q, (uint64_t)i * 20000 + (i % 2 ? 6000 : 0), frame, sizeof frame);
	quality_read(&q, &r);
	assert_true(fabs(r.jitter_ms - 6.0) < 0.05);
	assert_int_equal(r.gaps + r.burst_frames, 0);
}

/* a 100 ms stall: 4 frames missing, then they come at once (made up) */
static void test_stall_then_burst(void **state)
{
	(void)state;
	struct quality q;
	struct quality_report r;
	memset(&q, 0, sizeof q);
	fill(0);
	uint64_t t = 0;
	for (int i = 0; i < 10; i++, t += 20000)
		quality_frame(&q, t, frame, sizeof frame);
	t += 80000;                               /* frames 10..13 held back */
	for (int i = 0; i < 5; i++)               /* 10..14 arrive together */
		quality_frame(&q, t + (uint64_t)i * 100, frame, sizeof frame);
	for (int i = 15; i < 20; i++)
		quality_frame(&q, (uint64_t)i * 20000, frame, sizeof frame);
	quality_read(&q, &r);
	assert_int_equal(r.gaps, 1);
	assert_int_equal(r.gap_frames, 4);
	assert_true(fabs(r.longest_gap_ms - 100.0) < 0.001);
	assert_int_equal(r.burst_frames, 4);
	assert_int_equal(r.behind, 0);            /* made up */
	assert_true(r.jitter_ms > 1.0);           /* the burst frames each 20 ms early */
	assert_true(quality_score(&q) == r.mos);
}

/* frames that never come: behind, and the score falls with the share late */
static void test_lost_frames_stay_behind(void **state)
{
	(void)state;
	struct quality q;
	struct quality_report r;
	memset(&q, 0, sizeof q);
	fill(0);
	for (int i = 0; i < 100; i++)
		if (i % 10 != 5)                  /* every tenth frame never sent */
			quality_frame(&q, (uint64_t)i * 20000, frame, sizeof frame);
	quality_read(&q, &r);
	assert_int_equal(r.gaps, 0);              /* 40 ms is under 2.5 periods: jitter, not a gap */
	memset(&q, 0, sizeof q);
	for (int i = 0; i < 100; i++)
		if (i % 10 < 5 || i % 10 > 7)     /* 3 of every 10 missing: 80 ms holes */
			quality_frame(&q, (uint64_t)i * 20000, frame, sizeof frame);
	quality_read(&q, &r);
	assert_int_equal(r.gaps, 10);
	assert_int_equal(r.gap_frames, 30);
	assert_int_equal(r.behind, 30);
	assert_int_equal(r.burst_frames, 0);
	assert_true(r.jitter_ms == 0);            /* the holes are on the grid */
	double late = 100.0 * 30 / 100;
	assert_true(fabs(r.mos - quality_mos(0, 0, late)) < 1e-9);
	assert_true(quality_score(&q) == r.mos);   /* the cheap ranking path agrees */
	assert_true(r.mos < 3.0);
}

static void test_levels(void **state)
{
	(void)state;
	struct quality q;
	struct quality_report r;
	memset(&q, 0, sizeof q);
	fill(3277);   /* a tenth of full scale: -20 dBFS */
	quality_frame(&q, 0, frame, sizeof frame);
	quality_read(&q, &r);
	assert_true(fabs(r.level_dbfs - 20 * log10(3277 / 32768.0)) < 0.01);
	assert_true(fabs(r.recent_dbfs - r.level_dbfs) < 0.01);
	assert_true(r.silent_pct == 0);
	/* a sine peaking just under full scale: -3.01 dBFS - 0.21 dB, not clipped */
	memset(&q, 0, sizeof q);
	for (int i = 0; i < N; i++) {
		int16_t v = (int16_t)lrint(32000 * sin(2 * M_PI * i / 32.0));
		frame[2 * i] = (uint8_t)((uint16_t)v & 0xff);
		frame[2 * i + 1] = (uint8_t)((uint16_t)v >> 8);
	}
	quality_frame(&q, 0, frame, sizeof frame);
	quality_read(&q, &r);
	assert_true(fabs(r.level_dbfs - 20 * log10(32000 / 32768.0 / sqrt(2.0))) < 0.01);
	assert_int_equal(r.clipped, 0);
	/* silence and clipping: 3 silent frames, 1 square at full scale */
	memset(&q, 0, sizeof q);
	fill(20);     /* -64 dBFS: silent */
	for (int i = 0; i < 3; i++)
		quality_frame(&q, (uint64_t)i * 20000, frame, sizeof frame);
	for (int i = 0; i < N; i++) {
		int16_t v = i % 2 ? 32767 : -32768;
		frame[2 * i] = (uint8_t)((uint16_t)v & 0xff);
		frame[2 * i + 1] = (uint8_t)((uint16_t)v >> 8);
	}
	quality_frame(&q, 60000, frame, sizeof frame);
	quality_read(&q, &r);
	assert_true(fabs(r.silent_pct - 75.0) < 1e-9);
	assert_int_equal(r.clipped, N);
	/* the call's level: mean square over all 4 frames */
	double ms = (3.0 * 400 + (32767.0 * 32767 + 32768.0 * 32768) / 2) / 4;
	assert_true(fabs(r.level_dbfs - 10 * log10(ms / (32768.0 * 32768))) < 0.01);
	/* nothing at all, and true silence */
	memset(&q, 0, sizeof q);
	quality_read(&q, &r);
	assert_true(r.level_dbfs == -100 && r.mos > 4.4);
	fill(0);
	quality_frame(&q, 0, frame, sizeof frame);
	quality_read(&q, &r);
	assert_true(r.level_dbfs == -100 && r.silent_pct == 100);
	/* an odd byte at the end is ignored */
	memset(&q, 0, sizeof q);
	fill(3277);
	quality_frame(&q, 0, frame, 3);
	assert_int_equal(q.samples, 1);
}

/* the vector sum of squares and clip count against a plain loop: random
 * samples, every length from 0 to 100 samples (the tail), and the extremes
 * (two -32768 in a lane: 2^31, which only fits unsigned) */
static void test_energy_matches_a_plain_loop(void **state)
{
	(void)state;
	static uint8_t buf[2 * 1000 + 1];
	uint32_t x = 12345;
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < 1000; i++) {
			x = x * 1103515245u + 12345u;
			int16_t v = round == 0 ? (int16_t)(x >> 16) : round == 1 ? -32768 : (x >> 20) % 3 ? 32767 : -32768;
			buf[2 * i] = (uint8_t)((uint16_t)v & 0xff);
			buf[2 * i + 1] = (uint8_t)((uint16_t)v >> 8);
		}
		for (size_t n = 0; n <= 1000; n += n < 100 ? 1 : 150) {
			uint64_t want = 0;
			uint32_t clip = 0;
			for (size_t i = 0; i < n; i++) {
				int32_t v = (int16_t)(uint16_t)(buf[2 * i] | (buf[2 * i + 1] << 8));
				want += (uint64_t)((int64_t)v * v);
				clip += v == 32767 || v == -32768;
			}
			struct quality q;
			memset(&q, 0, sizeof q);
			quality_frame(&q, 0, buf + 0, 2 * n);
			assert_int_equal(q.sum_sq, want);
			assert_int_equal(q.clipped, clip);
			assert_int_equal(q.samples, n);
			/* and from an odd address: the frame sits anywhere in its slot */
			memmove(buf + 1, buf, 2 * n);
			memset(&q, 0, sizeof q);
			quality_frame(&q, 0, buf + 1, 2 * n);
			assert_int_equal(q.sum_sq, want);
			memmove(buf, buf + 1, 2 * n);
		}
	}
}

/* the server's own log2 against libm's, over the range levels take */
static void test_dbfs_matches_libm(void **state)
{
	(void)state;
	for (int v = 1; v < 32768; v = v * 3 / 2 + 1) {
		struct quality q;
		struct quality_report r;
		memset(&q, 0, sizeof q);
		fill((int16_t)v);
		quality_frame(&q, 0, frame, sizeof frame);
		quality_read(&q, &r);
		double want = 20 * log10(v / 32768.0);
		if (want < -100)
			want = -100;
		assert_true(fabs(r.level_dbfs - want) < 0.001);
	}
}

static void test_dwell_percentiles(void **state)
{
	(void)state;
	struct quality q;
	struct quality_report r;
	memset(&q, 0, sizeof q);
	quality_read(&q, &r);
	assert_true(r.dwell_p50_ms == 0 && r.dwell_p99_ms == 0);
	for (int i = 0; i < 98; i++)
		quality_dwell(&q, 30);            /* <= 50 µs */
	quality_dwell(&q, 700);                   /* <= 1 ms */
	quality_dwell(&q, 5000000);               /* +Inf */
	quality_read(&q, &r);
	assert_true(r.dwell_p50_ms == 0.05);
	assert_true(r.dwell_p99_ms == 1.0);
	assert_int_equal(quality_dwell_bucket(0), 0);
	assert_int_equal(quality_dwell_bucket(50), 0);
	assert_int_equal(quality_dwell_bucket(51), 1);
	assert_int_equal(quality_dwell_bucket(2500000), QUALITY_DWELL_BUCKETS - 1);
	assert_int_equal(quality_dwell_bucket(2500001), QUALITY_DWELL_BUCKETS);
	uint64_t sum[QUALITY_DWELL_BUCKETS + 1] = { 0 };
	quality_dwell_add(sum, &q);
	quality_dwell_add(sum, &q);
	assert_int_equal(sum[0], 196);
	assert_int_equal(sum[QUALITY_DWELL_BUCKETS], 2);
	/* the delay app's second: the +Inf share reads as the last bound */
	memset(&q, 0, sizeof q);
	quality_dwell(&q, 4000000);
	quality_read(&q, &r);
	assert_true(r.dwell_p50_ms == 2500.0);
}

static void test_mos_formula(void **state)
{
	(void)state;
	/* R = 93.2 - 10/40 = 92.95 */
	double r = 92.95, want = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
	assert_true(fabs(quality_mos(0, 0, 0) - want) < 1e-9);
	/* Le = 200: R = 93.2 - 8 - 2.5 * 4 = 75.2 */
	r = 75.2;
	want = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
	assert_true(fabs(quality_mos(150, 20, 4) - want) < 1e-9);
	assert_true(quality_mos(0, 0, 100) == 1.0);    /* R clamped at 0 */
	assert_true(quality_mos(0, 5, 0) < quality_mos(0, 1, 0));
}

/* closed calls into the /metrics histograms: buckets by upper bound, sums */
static void test_close_totals(void **state)
{
	(void)state;
	struct quality_totals t;
	struct quality q;
	memset(&t, 0, sizeof t);
	memset(&q, 0, sizeof q);
	quality_close(&t, &q);                    /* no frames: not a call to score */
	assert_int_equal(t.calls, 0);
	quality_dwell(&q, 40);
	quality_dwell(&q, 3000);
	quality_close(&t, &q);                    /* ... but its writes count */
	assert_int_equal(t.dwell[0] + t.dwell[6], 2);
	assert_int_equal(t.dwell_sum_us, 3040);
	memset(&q, 0, sizeof q);
	fill(0);
	for (int i = 0; i < 50; i++)              /* 6 ms jitter, 3 frames missing */
		if (i != 20 && i != 21 && i != 22)
			quality_frame(&q, (uint64_t)i * 20000 + (i % 2 ? 6000 : 0), frame, sizeof frame);
	quality_close(&t, &q);
	struct quality_report r;
	quality_read(&q, &r);
	assert_int_equal(t.calls, 1);
	assert_int_equal(r.gap_frames, 3);
	assert_int_equal(t.gaps[2], 1);           /* 1 < 3 <= 5 */
	assert_int_equal(t.gap_sum, 3);
	assert_int_equal(t.jitter[quality_bucket(quality_jitter_bounds_s, r.jitter_ms / 1000)], 1);
	assert_true(r.jitter_ms > 2 && r.jitter_ms <= 10);
	assert_true(fabs(t.mos_sum - r.mos) < 1e-12);
	assert_int_equal(quality_bucket(quality_gap_bounds, 0), 0);
	assert_int_equal(quality_bucket(quality_gap_bounds, 501), QUALITY_HIST);
	assert_int_equal(quality_bucket(quality_mos_bounds, 4.41), QUALITY_HIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_on_the_grid_is_clean),
		cmocka_unit_test(test_jitter_is_rfc3550),
		cmocka_unit_test(test_stall_then_burst),
		cmocka_unit_test(test_lost_frames_stay_behind),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_energy_matches_a_plain_loop),
		cmocka_unit_test(test_dbfs_matches_libm),
		cmocka_unit_test(test_dwell_percentiles),
		cmocka_unit_test(test_mos_formula),
		cmocka_unit_test(test_close_totals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
