/*
 * ring.cpp -- one call's receive slot and send queue; see ring.h for the flow.
 *
 * Invariant: the slots+1 slots are each in exactly one place -- the receive
 * slot (rx), the queue (order[tail .. tail+count), circular over `slots`
 * places), or the free stack (freel[0 .. nfree)) -- so count + nfree ==
 * slots always. Moving a slot between them moves its number, not its bytes.
 */
#include "ring.h"

#include <string.h>

/* the index arrays come first, so the last slot's last byte ends the storage */
static size_t index_bytes(uint32_t slots)
{
	return (2 * sizeof(uint16_t) * slots + 7u) & ~(size_t)7u;
}

static struct ring_slot *slot_at(const struct ring *r, uint32_t i)
{
	return (struct ring_slot *)(r->storage + index_bytes(r->slots) + (size_t)i * r->stride);
}

static size_t stride_of(uint32_t slot_bytes)
{
	/* keep each slot 8-byte aligned so its header fields are aligned */
	return (sizeof(struct ring_slot) + RING_HEADROOM + slot_bytes + 7u) & ~(size_t)7u;
}

size_t ring_storage_size(uint32_t slots, uint32_t slot_bytes)
{
	if (!slots || slots > RING_SLOTS_MAX || !slot_bytes || slot_bytes > RING_SLOT_BYTES_MAX)
		return 0;
	return index_bytes(slots) + stride_of(slot_bytes) * (slots + 1);
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
	r->stride = (uint32_t)stride_of(slot_bytes);
	r->order = (uint16_t *)storage;
	r->freel = r->order + slots;
	r->rx = 0;
	for (uint32_t i = 0; i < slots; i++)
		r->freel[i] = (uint16_t)(slots - i);   /* slot 1 is handed out first */
	r->nfree = slots;
	return 0;
}

int ring_rx_append(struct ring *r, const uint8_t *data, size_t len)
{
	if (len > (size_t)(r->slot_bytes - r->rx_len)) {
		r->rx_len = 0;
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
	return slot_at(r, r->rx)->buf + RING_HEADROOM;
}

/* Take the oldest queued slot off the queue onto the free stack. */
static void unqueue_oldest(struct ring *r)
{
	r->freel[r->nfree++] = r->order[r->tail];
	r->tail = (r->tail + 1) % r->slots;
	r->count--;
}

static void enqueue(struct ring *r, uint32_t slot)
{
	r->order[r->head] = (uint16_t)slot;
	r->head = (r->head + 1) % r->slots;
	r->count++;
}

void ring_rx_commit(struct ring *r)
{
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
	r->rx = r->freel[--r->nfree];
	r->rx_len = 0;
}

int ring_push(struct ring *r, const uint8_t *data, size_t len, int text)
{
	if (r->count == r->slots || len > r->slot_bytes)
		return -1;
	uint32_t i = r->freel[--r->nfree];
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
		uint16_t i = r->order[(r->tail + k) % r->slots];
		if (slot_at(r, i)->text) {
			r->order[(r->tail + kept) % r->slots] = i;   /* kept <= k: never ahead of the reader */
			kept++;
		} else {
			r->freel[r->nfree++] = i;
			gone++;
		}
	}
	r->count = kept;
	r->head = (r->tail + kept) % r->slots;
	return gone;
}
