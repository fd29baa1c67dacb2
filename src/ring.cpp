/*
 * ring.cpp -- fixed-capacity frame FIFO; see ring.h for the data flow.
 *
 * Invariant: slots [tail, tail+count) hold committed frames; when `pending`
 * the slot at `head` (== tail+count) is being filled. Opening a slot when all
 * `slots` are committed drops the tail first, so the open slot never overlaps
 * a committed frame and the ring never grows.
 */
#include "ring.h"

#include <string.h>

static struct ring_slot *slot_at(struct ring *r, uint32_t i)
{
	return (struct ring_slot *)(r->storage + (size_t)i * r->stride);
}

size_t ring_storage_size(uint32_t slots, uint32_t slot_bytes)
{
	if (!slots || slots > RING_SLOTS_MAX || !slot_bytes || slot_bytes > RING_SLOT_BYTES_MAX)
		return 0;
	/* keep each slot 8-byte aligned so the len field is aligned */
	size_t stride = (sizeof(struct ring_slot) + RING_HEADROOM + slot_bytes + 7u) & ~(size_t)7u;
	return stride * slots;
}

int ring_init(struct ring *r, uint8_t *storage, uint32_t slots, uint32_t slot_bytes)
{
	size_t total = ring_storage_size(slots, slot_bytes);

	if (!total || !storage)
		return -1;
	memset(r, 0, sizeof(*r));
	r->storage = storage;
	r->slots = slots;
	r->slot_bytes = slot_bytes;
	r->stride = (uint32_t)(total / slots);
	return 0;
}

int ring_append(struct ring *r, const uint8_t *data, size_t len)
{
	if (!r->pending) {
		if (r->count == r->slots) {
			/* full: the caller hears a gap now rather than lag forever */
			r->tail = (r->tail + 1) % r->slots;
			r->count--;
			r->dropped++;
		}
		r->pending = 1;
		r->pending_len = 0;
	}
	if (len > (size_t)(r->slot_bytes - r->pending_len)) {
		ring_abort(r);
		return -1;
	}
	if (len) {
		struct ring_slot *s = slot_at(r, r->head);
		memcpy(s->buf + RING_HEADROOM + r->pending_len, data, len);
		r->pending_len += (uint32_t)len;
	}
	return 0;
}

void ring_commit(struct ring *r)
{
	if (!r->pending)
		return;
	slot_at(r, r->head)->len = r->pending_len;
	r->head = (r->head + 1) % r->slots;
	r->count++;
	r->pending = 0;
	r->pending_len = 0;
}

void ring_abort(struct ring *r)
{
	r->pending = 0;
	r->pending_len = 0;
}

int ring_push(struct ring *r, const uint8_t *data, size_t len)
{
	if (ring_append(r, data, len))
		return -1;
	ring_commit(r);
	return 0;
}

struct ring_slot *ring_peek(struct ring *r)
{
	return r->count ? slot_at(r, r->tail) : NULL;
}

void ring_pop(struct ring *r)
{
	if (!r->count)
		return;
	r->tail = (r->tail + 1) % r->slots;
	r->count--;
}
