/*
 * pctl.cpp -- log-linear latency histogram; see pctl.h.
 */
#include "pctl.h"

#include <math.h>
#include <string.h>

void pctl_init(struct pctl *h)
{
	memset(h, 0, sizeof *h);
}

uint32_t pctl_bucket_of(uint32_t v)
{
	if (v > PCTL_VALUE_MAX)
		v = PCTL_VALUE_MAX;
	if (v < 2 * PCTL_SUB)
		return v;
	uint32_t msb = 31u - (uint32_t)__builtin_clz(v);
	uint32_t shift = msb - PCTL_SUB_BITS;          /* >= 1 */
	return (shift + 1) * PCTL_SUB + ((v >> shift) - PCTL_SUB);
}

uint32_t pctl_bucket_top(uint32_t idx)
{
	if (idx < 2 * PCTL_SUB)
		return idx;
	uint32_t shift = idx / PCTL_SUB - 1;
	uint32_t mant = idx % PCTL_SUB + PCTL_SUB;
	return (mant << shift) + (1u << shift) - 1;
}

void pctl_add(struct pctl *h, uint32_t v)
{
	if (v > PCTL_VALUE_MAX)
		v = PCTL_VALUE_MAX;
	h->bucket[pctl_bucket_of(v)]++;
	h->n++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

void pctl_merge(struct pctl *dst, const struct pctl *src)
{
	if (!src->n)
		return;
	for (uint32_t i = 0; i < PCTL_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->n += src->n;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint32_t pctl_value(const struct pctl *h, double p)
{
	if (!h->n)
		return 0;
	if (p >= 100.0)
		return h->max;
	/* nearest rank: ceil(p/100 * n), at least 1; the epsilon keeps 0.99*100 == 99 */
	double r = ceil(p / 100.0 * (double)h->n - 1e-9);
	uint64_t rank = r < 1.0 ? 1 : (uint64_t)r;
	uint64_t seen = 0;

	for (uint32_t i = 0; i < PCTL_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint32_t top = pctl_bucket_top(i);
			return top < h->max ? top : h->max;
		}
	}
	return h->max;
}
