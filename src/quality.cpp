/*
 * quality.cpp -- per-call media figures (quality.h). The per-frame work is
 * one pass over the samples (sum of squares, full-scale check) and a few
 * integer updates; logs, dB and the score wait for someone to read them.
 */
#include "quality.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

const uint32_t quality_dwell_bounds_us[QUALITY_DWELL_BUCKETS] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000, 2500000,
};

const double quality_jitter_bounds_s[QUALITY_HIST] = { 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1 };
const double quality_gap_bounds[QUALITY_HIST] = { 0, 1, 5, 10, 50, 100, 500 };
const double quality_mos_bounds[QUALITY_HIST] = { 1.5, 2, 2.5, 3, 3.5, 4, 4.3 };

#define GAP_MIN_US   (QUALITY_FRAME_US * 5 / 2)   /* 2.5 frame periods */
#define BURST_MAX_US 5000u
#define SILENT_SQ    1074u   /* (32768 * 10^(-60/20))^2: -60 dBFS */
#define FULL_SQ      1073741824.0   /* 32768^2 */

/*
 * Sum of squares and full-scale samples over n little-endian samples: the
 * per-frame cost of the level figures. With SSE2 (every x86-64) eight
 * samples a step: pmaddwd gives s0^2 + s1^2 per 32-bit lane (at most 2^31,
 * so read as unsigned it is exact), widened into two 64-bit sums; clipped
 * samples are counted in 16-bit lanes (a frame has far fewer than 65536
 * steps). 51 ns for a 960-byte frame against 362 ns for the scalar loop
 * (which other targets use); docs/benchmarks.md.
 */
static uint64_t energy(const uint8_t *pcm, size_t n, uint32_t *clipped)
{
	uint64_t sq = 0;
	uint32_t clip = 0;
	size_t i = 0;
#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__m128i acc = _mm_setzero_si128(), cnt = _mm_setzero_si128(), zero = _mm_setzero_si128();
	const __m128i hi = _mm_set1_epi16(32767), lo = _mm_set1_epi16(-32768);
	for (; i + 8 <= n && i < 8 * 65535; i += 8) {
		__m128i v = _mm_loadu_si128((const __m128i *)(pcm + 2 * i));
		__m128i m = _mm_madd_epi16(v, v);
		acc = _mm_add_epi64(acc, _mm_unpacklo_epi32(m, zero));
		acc = _mm_add_epi64(acc, _mm_unpackhi_epi32(m, zero));
		/* a match is -1 in its lane: subtracting counts it */
		cnt = _mm_sub_epi16(cnt, _mm_or_si128(_mm_cmpeq_epi16(v, hi), _mm_cmpeq_epi16(v, lo)));
	}
	uint64_t a[2];
	uint16_t c[8];
	_mm_storeu_si128((__m128i *)a, acc);
	_mm_storeu_si128((__m128i *)c, cnt);
	sq = a[0] + a[1];
	for (int k = 0; k < 8; k++)
		clip += c[k];
#endif
	for (; i < n; i++) {
		int32_t s = (int16_t)(uint16_t)(pcm[2 * i] | (pcm[2 * i + 1] << 8));
		sq += (uint64_t)(s * s);
		clip += (s == 32767) | (s == -32768);
	}
	*clipped = clip;
	return sq;
}

void quality_frame(struct quality *q, uint64_t now_us, const uint8_t *pcm, size_t len)
{
	size_t n = len / 2;
	uint32_t clip;
	uint64_t sq = energy(pcm, n, &clip);

	q->sum_sq += sq;
	q->samples += n;
	q->clipped += clip;
	uint32_t ms = n ? (uint32_t)(sq / n) : 0;
	if (ms < SILENT_SQ)
		q->silent_frames++;
	/* a 1/16 moving average, as RFC 3550 smooths jitter: about 0.3 s */
	q->level_sq = (uint32_t)((int64_t)q->level_sq + ((int64_t)ms - (int64_t)q->level_sq) / 16);

	if (q->frames++ == 0) {
		q->first_us = q->last_us = now_us;
		q->level_sq = ms;
		return;
	}
	uint64_t ia = now_us > q->last_us ? now_us - q->last_us : 0;
	q->last_us = now_us;
	int64_t d;
	if (ia >= GAP_MIN_US) {
		uint64_t periods = (ia + QUALITY_FRAME_US / 2) / QUALITY_FRAME_US;
		q->gaps++;
		q->gap_frames += (uint32_t)(periods - 1);
		if (ia > q->longest_gap_us)
			q->longest_gap_us = ia > UINT32_MAX ? UINT32_MAX : (uint32_t)ia;
		/* the missing frames are counted as a gap; only the remainder off
		 * the grid is jitter (as RTP timestamps would show for lost packets) */
		d = (int64_t)ia - (int64_t)(periods * QUALITY_FRAME_US);
	} else {
		if (ia < BURST_MAX_US)
			q->burst_frames++;
		d = (int64_t)ia - QUALITY_FRAME_US;
	}
	if (d < 0)
		d = -d;
	/* RFC 3550 A.8: J += (|D| - J) / 16, kept as 16 J */
	int64_t j = q->jitter16_us;
	j += d - ((j + 8) >> 4);
	q->jitter16_us = j < 0 ? 0 : j > UINT32_MAX ? UINT32_MAX : (uint32_t)j;
}

int quality_dwell_bucket(uint32_t us)
{
	int b = 0;
	while (b < QUALITY_DWELL_BUCKETS && us > quality_dwell_bounds_us[b])
		b++;
	return b;
}

void quality_dwell(struct quality *q, uint32_t us)
{
	q->dwell[quality_dwell_bucket(us)]++;
	q->dwell_sum_us += us;
}

int quality_bucket(const double bounds[QUALITY_HIST], double v)
{
	int b = 0;
	while (b < QUALITY_HIST && v > bounds[b])
		b++;
	return b;
}

void quality_dwell_add(uint64_t sum[QUALITY_DWELL_BUCKETS + 1], const struct quality *q)
{
	for (int b = 0; b <= QUALITY_DWELL_BUCKETS; b++)
		sum[b] += q->dwell[b];
}

/* The upper bound (ms) of the bucket holding the pct-th per cent of
 * writes; the +Inf bucket reads as the last finite bound ("at least"). */
static double dwell_pct(const struct quality *q, uint64_t pct)
{
	uint64_t total = 0, seen = 0;
	for (int b = 0; b <= QUALITY_DWELL_BUCKETS; b++)
		total += q->dwell[b];
	if (!total)
		return 0;
	uint64_t want = (pct * total + 99) / 100;
	for (int b = 0; b < QUALITY_DWELL_BUCKETS; b++) {
		seen += q->dwell[b];
		if (seen >= want)
			return quality_dwell_bounds_us[b] / 1000.0;
	}
	return quality_dwell_bounds_us[QUALITY_DWELL_BUCKETS - 1] / 1000.0;
}

/*
 * log2 without libm (tone.h says why the server does not link it): the
 * exponent from the double's bits, the mantissa m in [1, 2) by the series
 * ln m = 2 (t + t^3/3 + t^5/5 + t^7/7), t = (m-1)/(m+1) <= 1/3: within
 * 1e-5, far finer than the 0.1 dB a page shows.
 */
static double log2_pos(double x)
{
	uint64_t bits;
	memcpy(&bits, &x, sizeof bits);
	int e = (int)((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
	double m;
	memcpy(&m, &bits, sizeof m);
	double t = (m - 1) / (m + 1), t2 = t * t;
	double ln = 2 * t * (1 + t2 * (1.0 / 3 + t2 * (1.0 / 5 + t2 / 7)));
	return e + ln * 1.4426950408889634;   /* 1 / ln 2 */
}

/* dB relative to full scale (a full-scale square wave; a full-scale sine
 * reads -3.0); floor -100 */
static double dbfs(double mean_sq)
{
	if (mean_sq <= 0)
		return -100;
	double db = 10 * 0.30102999566398120 * log2_pos(mean_sq / FULL_SQ);   /* log10 2 */
	return db < -100 ? -100 : db;
}

double quality_mos(double dwell_ms, double jitter_ms, double late_pct)
{
	double le = dwell_ms + 2 * jitter_ms + 10;
	double r = 93.2 - (le < 160 ? le / 40 : (le - 120) / 10) - 2.5 * late_pct;
	if (r < 0)
		r = 0;
	if (r > 100)
		r = 100;
	double mos = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
	return mos < 1 ? 1 : mos > 4.5 ? 4.5 : mos;
}

/* frames the 20 ms clock called for between the first and the latest
 * arrival: silence after the latest frame (a call that stopped sending)
 * is not counted against it */
static double expected_frames(const struct quality *q)
{
	if (!q->frames)
		return 0;
	double e = (double)((q->last_us - q->first_us + QUALITY_FRAME_US / 2) / QUALITY_FRAME_US + 1);
	return e > q->frames ? e : q->frames;
}

static double late_pct(const struct quality *q)
{
	double e = expected_frames(q);
	double late = e > 0 ? 100.0 * q->gap_frames / e : 0;
	return late > 100 ? 100 : late;
}

double quality_score(const struct quality *q)
{
	return quality_mos(dwell_pct(q, 50), q->jitter16_us / 16.0 / 1000.0, late_pct(q));
}

void quality_read(const struct quality *q, struct quality_report *out)
{
	memset(out, 0, sizeof *out);
	out->jitter_ms = q->jitter16_us / 16.0 / 1000.0;
	out->gaps = q->gaps;
	out->gap_frames = q->gap_frames;
	out->burst_frames = q->burst_frames;
	out->longest_gap_ms = q->longest_gap_us / 1000.0;
	out->clipped = q->clipped;
	out->level_dbfs = q->samples ? dbfs((double)q->sum_sq / (double)q->samples) : -100;
	out->recent_dbfs = q->frames ? dbfs(q->level_sq) : -100;
	out->silent_pct = q->frames ? 100.0 * q->silent_frames / q->frames : 0;
	out->dwell_p50_ms = dwell_pct(q, 50);
	out->dwell_p99_ms = dwell_pct(q, 99);
	double expected = expected_frames(q);
	if (expected > q->frames)
		out->behind = (uint32_t)(expected - q->frames);
	out->mos = quality_mos(out->dwell_p50_ms, out->jitter_ms, late_pct(q));
}

void quality_close(struct quality_totals *t, const struct quality *q)
{
	for (int b = 0; b <= QUALITY_DWELL_BUCKETS; b++)
		t->dwell[b] += q->dwell[b];
	t->dwell_sum_us += q->dwell_sum_us;
	if (!q->frames)
		return;
	struct quality_report r;
	quality_read(q, &r);
	t->calls++;
	t->jitter[quality_bucket(quality_jitter_bounds_s, r.jitter_ms / 1000)]++;
	t->jitter_sum_s += r.jitter_ms / 1000;
	t->gaps[quality_bucket(quality_gap_bounds, r.gap_frames)]++;
	t->gap_sum += r.gap_frames;
	t->mos[quality_bucket(quality_mos_bounds, r.mos)]++;
	t->mos_sum += r.mos;
}
