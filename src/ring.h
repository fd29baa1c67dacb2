/*
 * ring.h -- fixed-capacity FIFO of audio frames, one per connection.
 *
 * Frames flow in from the WebSocket receive path (reserve a slot at the head,
 * append the message fragments into it, commit) and out to the writeable path
 * (peek the tail slot, write it, pop). The storage is a caller-provided block
 * of ring_storage_size() bytes that lives inside the per-connection data, so
 * the ring never allocates. When every slot is full the oldest committed frame
 * is dropped and counted: for live audio a 20 ms gap beats growing latency.
 * Each slot keeps RING_HEADROOM bytes in front of the payload so the frame can
 * be handed to lws_write() (which needs LWS_PRE bytes before it) in place.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define RING_HEADROOM 16 /* >= LWS_PRE; static_assert'ed in ws_audio.cpp */
#define RING_SLOTS_MAX 4096
#define RING_SLOT_BYTES_MAX 65536

struct ring_slot {
	uint32_t len;                 /* payload bytes */
	uint8_t  buf[];               /* RING_HEADROOM + slot_bytes */
};

struct ring {
	uint8_t  *storage;            /* not owned */
	uint32_t  slots;              /* capacity in frames */
	uint32_t  slot_bytes;         /* largest frame */
	uint32_t  stride;             /* bytes per slot in storage */
	uint32_t  head;               /* next slot to fill */
	uint32_t  tail;               /* oldest committed frame */
	uint32_t  count;              /* committed frames waiting */
	uint32_t  pending_len;        /* bytes in the open (uncommitted) head slot */
	int       pending;            /* 1 while a message is being assembled */
	uint64_t  dropped;            /* frames discarded because the ring was full */
};

/* Bytes of storage a ring of this shape needs. 0 if the shape is invalid. */
size_t ring_storage_size(uint32_t slots, uint32_t slot_bytes);

/*
 * Attach storage (ring_storage_size() bytes, owned by the caller) and empty
 * the ring. Returns 0, or -1 if the shape is invalid (nothing changed).
 */
int ring_init(struct ring *r, uint8_t *storage, uint32_t slots, uint32_t slot_bytes);

/*
 * Append one fragment of the message being assembled in the head slot,
 * opening the slot first if none is open (dropping the oldest frame when the
 * ring is full). Returns 0, or -1 when the message would exceed slot_bytes:
 * the open slot is then abandoned (a frame dropped to make room for it stays
 * dropped; the caller closes the connection anyway).
 */
int ring_append(struct ring *r, const uint8_t *data, size_t len);

/* Finish the open message: it becomes the newest frame. No-op if none open. */
void ring_commit(struct ring *r);

/* Abandon the open message, if any. */
void ring_abort(struct ring *r);

/* Convenience: append + commit one whole frame. Same return as ring_append. */
int ring_push(struct ring *r, const uint8_t *data, size_t len);

/*
 * The oldest frame, or NULL when empty. Its payload starts at
 * slot->buf + RING_HEADROOM; the headroom bytes before it are scratch.
 * Valid until the next ring_pop/ring_append/ring_push.
 */
struct ring_slot *ring_peek(struct ring *r);

/* Discard the oldest frame. No-op when empty. */
void ring_pop(struct ring *r);

static inline uint32_t ring_count(const struct ring *r) { return r->count; }
