/*
 * slot_pool.h -- the frame slots every call's ring borrows, as one stack.
 *
 * A ring (ring.h) holds a slot only while a message is in it: from the
 * first byte received until the app has used it, or from being queued until
 * it is sent. A healthy call echoed frame by frame therefore holds a slot
 * for part of one event-loop pass and none in between, so the slots in use
 * at once are the frames of one pass, not one per call. Slots are handed
 * out last-freed first, so the same few stay hot in the cache and the rest
 * of the pool is never written: its pages are never resident. The pool
 * still has a full ring's worth for every call (--max-calls x
 * (--ring-slots + 1)), reserved in one demand-zero mapping, so a call whose
 * reader stalls can always fill its own ring and nothing a call does can
 * take slots another call is owed.
 *
 * Nothing here allocates after slot_pool_map: take and give are a stack pop
 * and push. The stack itself is mapped the same way (only as deep as the
 * most slots ever out at once is written); slots never handed out come from
 * a high-water mark instead of a pre-filled stack, so a big pool costs
 * nothing until used.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define SLOT_NONE UINT32_MAX

struct slot_pool {
	uint8_t  *base;       /* slot i is at base + i * stride */
	size_t    stride;     /* bytes per slot, a multiple of 8 */
	uint32_t  nslots;
	uint32_t  fresh;      /* slots [fresh, nslots) were never handed out */
	uint32_t *stack;      /* freed slots, the last freed on top */
	uint32_t  depth;
	uint32_t  out;        /* slots handed out now */
	uint32_t  peak;       /* the most ever out at once */
	void     *map;        /* what slot_pool_map mapped (owned), else NULL */
	size_t    map_bytes;
};

/* Bytes of caller storage slot_pool_use needs (8-byte aligned). 0 if nslots or stride is 0 or too big. */
size_t slot_pool_storage_size(uint32_t nslots, size_t stride);

/*
 * A pool of nslots slots of stride bytes (rounded up to 8) in its own
 * demand-zero mapping. Returns 0, or -1 with the reason in err.
 */
int slot_pool_map(struct slot_pool *p, uint32_t nslots, size_t stride, char *err, size_t errlen);

/* The same in caller storage (slot_pool_storage_size bytes, 8-byte aligned). Returns 0 or -1. */
int slot_pool_use(struct slot_pool *p, uint8_t *storage, uint32_t nslots, size_t stride);

/* Unmap (after slot_pool_map). Safe on a zeroed or caller-storage pool. */
void slot_pool_unmap(struct slot_pool *p);

/* A slot's number, or SLOT_NONE when every slot is out. */
static inline uint32_t slot_pool_take(struct slot_pool *p)
{
	uint32_t i;

	if (p->depth)
		i = p->stack[--p->depth];
	else if (p->fresh < p->nslots)
		i = p->fresh++;
	else
		return SLOT_NONE;
	if (++p->out > p->peak)
		p->peak = p->out;
	return i;
}

/* Hand slot i back (it must be out). */
static inline void slot_pool_give(struct slot_pool *p, uint32_t i)
{
	p->stack[p->depth++] = i;
	p->out--;
}

static inline uint8_t *slot_pool_at(const struct slot_pool *p, uint32_t i)
{
	return p->base + (size_t)i * p->stride;
}
