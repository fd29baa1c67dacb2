/*
 * ring.cpp -- one call's receive slot and send queue over a shared
 * slot_pool; see ring.h for the flow.
 *
 * Invariant: every slot the ring holds is in exactly one place -- the
 * receive slot (rx) or the queue (order[tail .. tail+count), circular over
 * `slots` places) -- and every other slot is the pool's. Moving a slot
 * between them moves its number, not its bytes.
 */
#include "ring.h"

#include <string.h>

static size_t stride_of(uint32_t slot_bytes)
{
	/* keep each slot 8-byte aligned so its header fields are aligned */
	return (sizeof(struct ring_slot) + RING_HEADROOM + slot_bytes + 7u) & ~(size_t)7u;
}

static int shape_ok(uint32_t slots, uint32_t slot_bytes)
{
	return slots && slots <= RING_SLOTS_MAX && slot_bytes && slot_bytes <= RING_SLOT_BYTES_MAX;
}

static struct ring_slot *slot_at(const struct ring *r, uint32_t i)
{
	return (struct ring_slot *)slot_pool_at(r->pool, i);
}

size_t ring_slot_stride(uint32_t slot_bytes)
{
	return shape_ok(1, slot_bytes) ? stride_of(slot_bytes) : 0;
}

size_t ring_order_size(uint32_t slots)
{
	return shape_ok(slots, 1) ? ((sizeof(uint32_t) * slots + 7u) & ~(size_t)7u) : 0;
}

int ring_attach(struct ring *r, struct slot_pool *pool, uint32_t *order, uint32_t slots, uint32_t slot_bytes)
{
	if (!shape_ok(slots, slot_bytes) || !pool || !order || pool->stride < stride_of(slot_bytes))
		return -1;
	memset(r, 0, sizeof(*r));
	r->pool = pool;
	r->order = order;
	r->slots = slots;
	r->slot_bytes = slot_bytes;
	r->rx = SLOT_NONE;
	return 0;
}

/* The one-block layout: the ring's pool struct, order[], then the pool's own storage. */
static size_t pool_struct_size(void) { return (sizeof(struct slot_pool) + 7u) & ~(size_t)7u; }

size_t ring_storage_size(uint32_t slots, uint32_t slot_bytes)
{
	if (!shape_ok(slots, slot_bytes))
		return 0;
	return pool_struct_size() + ring_order_size(slots) + slot_pool_storage_size(slots + 1, stride_of(slot_bytes));
}

int ring_init(struct ring *r, uint8_t *storage, uint32_t slots, uint32_t slot_bytes)
{
	if (!shape_ok(slots, slot_bytes) || !storage || ((uintptr_t)storage & 7u))
		return -1;
	struct slot_pool *pool = (struct slot_pool *)storage;
	uint32_t *order = (uint32_t *)(storage + pool_struct_size());
	if (slot_pool_use(pool, (uint8_t *)order + ring_order_size(slots), slots + 1, stride_of(slot_bytes)))
		return -1;
	return ring_attach(r, pool, order, slots, slot_bytes);
}

static void give(struct ring *r, uint32_t i)
{
	slot_pool_give(r->pool, i);
}

/* Take the oldest queued slot off the queue, back to the pool. */
static void unqueue_oldest(struct ring *r)
{
	give(r, r->order[r->tail]);
	r->tail = (r->tail + 1) % r->slots;
	r->count--;
}

static void enqueue(struct ring *r, uint32_t slot)
{
	r->order[r->head] = slot;
	r->head = (r->head + 1) % r->slots;
	r->count++;
}

void ring_detach(struct ring *r)
{
	if (!r->pool)
		return;
	ring_rx_reset(r);
	while (r->count)
		unqueue_oldest(r);
}

int ring_rx_append(struct ring *r, const uint8_t *data, size_t len)
{
	if (r->rx == SLOT_NONE && (r->rx = slot_pool_take(r->pool)) == SLOT_NONE) {
		r->rx_len = 0;
		return -1;   /* cannot happen: the pool has a full ring for every call */
	}
	if (len > (size_t)(r->slot_bytes - r->rx_len)) {
		ring_rx_reset(r);
		return -1;
	}
	if (len) {
		memcpy(slot_at(r, r->rx)->buf + RING_HEADROOM + r->rx_len, data, len);
		r->rx_len += (uint32_t)len;
	}
	return 0;
}

const uint8_t *ring_rx_data(const struct ring *r)
{
	static const uint8_t none[1] = { 0 };

	return r->rx == SLOT_NONE ? none : slot_at(r, r->rx)->buf + RING_HEADROOM;
}

void ring_rx_reset(struct ring *r)
{
	if (r->rx != SLOT_NONE) {
		give(r, r->rx);
		r->rx = SLOT_NONE;
	}
	r->rx_len = 0;
}

void ring_rx_commit(struct ring *r)
{
	/* an empty message that never appended: it still needs a slot */
	if (r->rx == SLOT_NONE && (r->rx = slot_pool_take(r->pool)) == SLOT_NONE) {
		r->dropped++;
		return;
	}
	struct ring_slot *s = slot_at(r, r->rx);

	if (r->count == r->slots) {
		/* full: the caller hears a gap now rather than lag forever */
		if (!slot_at(r, r->order[r->tail])->text)
			r->dropped++;
		unqueue_oldest(r);
	}
	s->len = r->rx_len;
	s->text = 0;
	s->queued_us = r->now_us;
	enqueue(r, r->rx);
	r->rx = SLOT_NONE;
	r->rx_len = 0;
}

int ring_push(struct ring *r, const uint8_t *data, size_t len, int text)
{
	if (r->count == r->slots || len > r->slot_bytes)
		return -1;
	uint32_t i = slot_pool_take(r->pool);
	if (i == SLOT_NONE)
		return -1;
	struct ring_slot *s = slot_at(r, i);
	if (len)
		memcpy(s->buf + RING_HEADROOM, data, len);
	s->len = (uint32_t)len;
	s->text = text ? 1 : 0;
	s->queued_us = r->now_us;
	enqueue(r, i);
	return 0;
}

struct ring_slot *ring_peek(struct ring *r)
{
	return r->count ? slot_at(r, r->order[r->tail]) : NULL;
}

struct ring_slot *ring_queued(const struct ring *r, uint32_t k)
{
	return k < r->count ? slot_at(r, r->order[(r->tail + k) % r->slots]) : NULL;
}

void ring_pop(struct ring *r)
{
	if (r->count)
		unqueue_oldest(r);
}

int ring_drop_oldest(struct ring *r)
{
	if (!r->count || slot_at(r, r->order[r->tail])->text)
		return 0;
	unqueue_oldest(r);
	r->dropped++;
	return 1;
}

uint32_t ring_drop_audio(struct ring *r)
{
	uint32_t n = r->count, kept = 0, gone = 0;

	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = r->order[(r->tail + k) % r->slots];
		if (slot_at(r, i)->text) {
			r->order[(r->tail + kept) % r->slots] = i;   /* kept <= k: never ahead of the reader */
			kept++;
		} else {
			give(r, i);
			gone++;
		}
	}
	r->count = kept;
	r->head = (r->tail + kept) % r->slots;
	return gone;
}
