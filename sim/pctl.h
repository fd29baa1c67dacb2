/*
 * pctl.h -- percentiles of latency samples (microseconds) in fixed memory.
 *
 * A log-linear histogram in the manner of HdrHistogram: values below 64 us
 * have a bucket each; above that every power of two is split into 32
 * buckets, so a percentile is reported within 1/32 (about 3 %) of the true
 * sample, never below it. Values are clamped at PCTL_VALUE_MAX (about 67 s).
 * The struct lives inside its owner (one per call for round-trip times, one
 * for the engine's send lag); adding a sample is a few instructions and
 * never allocates. The exact maximum is kept alongside.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define PCTL_SUB_BITS  5
#define PCTL_SUB       (1u << PCTL_SUB_BITS)          /* buckets per power of two */
#define PCTL_TOP_BIT   25                             /* highest value bit kept */
#define PCTL_VALUE_MAX ((1u << (PCTL_TOP_BIT + 1)) - 1)
#define PCTL_BUCKETS   ((PCTL_TOP_BIT - PCTL_SUB_BITS + 2) * PCTL_SUB)

struct pctl {
	uint64_t n;                     /* samples */
	uint64_t sum;                   /* for the mean */
	uint32_t max;                   /* exact largest sample (clamped) */
	uint32_t bucket[PCTL_BUCKETS];
};

void pctl_init(struct pctl *h);

/* Record one sample (clamped to PCTL_VALUE_MAX). */
void pctl_add(struct pctl *h, uint32_t v);

/* dst += src. */
void pctl_merge(struct pctl *dst, const struct pctl *src);

/*
 * The p-th percentile (0 < p <= 100), nearest-rank: the smallest recorded
 * value v such that at least p % of the samples are <= v, reported as the
 * top of v's bucket but never above the exact maximum. 0 when empty.
 */
uint32_t pctl_value(const struct pctl *h, double p);

/* Bucket index of v, and the largest value that shares its bucket (exposed for tests). */
uint32_t pctl_bucket_of(uint32_t v);
uint32_t pctl_bucket_top(uint32_t idx);
