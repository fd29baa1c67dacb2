/*
 * ring.h -- one call's frame queue: the message being received, and the
 * messages waiting to be sent, in slots borrowed from a slot_pool.
 *
 * Frames flow in from the WebSocket receive path into the receive slot
 * (ring_rx_append, one copy, as lws hands the message over in pieces; the
 * first piece takes a slot from the pool). The voice app (voice.h) then
 * decides: echo it -- ring_rx_commit moves the slot itself onto the send
 * queue, no copy -- or leave it, and the slot goes back to the pool. Audio
 * the app makes and its text commands are copied into a slot of their own
 * (ring_push). The writeable path peeks the oldest queued slot, writes it
 * and pops it, which gives the slot back.
 *
 * The ring is fixed: it queues at most `slots` messages plus the one being
 * received, whatever the pool holds, and past that drops the oldest audio
 * (for live audio a 20 ms gap beats growing latency). The pool has that
 * many slots for every call, so a ring can always fill; but a call holds
 * slots only while messages are in them, so a healthy call, echoed within
 * the event-loop pass its frame arrived in, holds none between frames and
 * the memory it would need when its reader stalls stays untouched (see
 * slot_pool.h). Nothing here allocates. The receive slot is always apart
 * from the queue, so a call that is receiving never overwrites audio
 * waiting to be sent, and audio an app queues never overwrites a message
 * being received. Each slot keeps RING_HEADROOM bytes in front of the
 * payload so it can be handed to lws_write() (which needs LWS_PRE bytes
 * before it) in place.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "slot_pool.h"

#define RING_HEADROOM 16 /* >= LWS_PRE; static_assert'ed in ws_audio.cpp */
#define RING_SLOTS_MAX 4096
#define RING_SLOT_BYTES_MAX 65536

struct ring_slot {
	uint32_t len : 24;            /* payload bytes (<= RING_SLOT_BYTES_MAX) */
	uint32_t text : 8;            /* 1: a text message (a command), 0: audio */
	uint32_t queued_us;           /* ring.now_us when it was queued (quality.h's dwell time) */
	uint8_t  buf[];               /* RING_HEADROOM + slot_bytes */
};

struct ring {
	struct slot_pool *pool;       /* where the slots come from (not owned) */
	uint32_t *order;              /* queued slot numbers, oldest at tail (not owned) */
	uint32_t  slots;              /* send-queue capacity in messages */
	uint32_t  slot_bytes;         /* largest message */
	uint32_t  head;               /* next free place in order[] */
	uint32_t  tail;               /* oldest queued message in order[] */
	uint32_t  count;              /* messages queued */
	uint32_t  rx;                 /* the receive slot's number, SLOT_NONE while none is held */
	uint32_t  rx_len;             /* bytes received into it so far */
	uint32_t  now_us;             /* the owner's clock (low 32 bits of µs), stamped on what is queued */
	uint64_t  dropped;            /* audio frames discarded: queue full, or trimmed */
};

/* Bytes one slot of this size takes in a pool (the stride to give it). 0 if slot_bytes is invalid. */
size_t ring_slot_stride(uint32_t slot_bytes);

/* Bytes of order[] a ring of `slots` needs (8-byte aligned). 0 if slots is invalid. */
size_t ring_order_size(uint32_t slots);

/*
 * Attach an empty ring to a pool whose slots are big enough for slot_bytes,
 * with order (ring_order_size bytes, owned by the caller). Returns 0, or -1
 * if the shape is invalid (nothing changed).
 */
int ring_attach(struct ring *r, struct slot_pool *pool, uint32_t *order, uint32_t slots, uint32_t slot_bytes);

/* Give every slot the ring holds back to its pool; the ring is empty after. */
void ring_detach(struct ring *r);

/*
 * A ring with a pool of its own, all in one block of caller storage
 * (ring_storage_size bytes, 8-byte aligned): for tests and tools that want
 * one ring and no server.
 */
size_t ring_storage_size(uint32_t slots, uint32_t slot_bytes);
int ring_init(struct ring *r, uint8_t *storage, uint32_t slots, uint32_t slot_bytes);

/*
 * Append one piece of the message being received (the first piece, even an
 * empty one, takes the receive slot). Returns 0, or -1 when the message
 * would exceed slot_bytes or no slot was free (the receive slot is then
 * given back; the caller closes the connection anyway).
 */
int ring_rx_append(struct ring *r, const uint8_t *data, size_t len);

/* The message received so far: its payload (RING_HEADROOM bytes after the slot start) and length. */
static inline uint32_t ring_rx_len(const struct ring *r) { return r->rx_len; }
const uint8_t *ring_rx_data(const struct ring *r);

/* The received message is not to be sent: its slot goes back to the pool. */
void ring_rx_reset(struct ring *r);

/*
 * Queue the received message as the newest audio frame, by moving its slot
 * onto the queue. With the queue full the oldest message is dropped first
 * (counted when it is audio).
 */
void ring_rx_commit(struct ring *r);

/*
 * Copy a message the app made onto the queue (text: a command). Returns 0,
 * or -1 when the queue is full or len exceeds slot_bytes (nothing queued).
 */
int ring_push(struct ring *r, const uint8_t *data, size_t len, int text);

/*
 * The oldest queued message, or NULL when none. Its payload starts at
 * slot->buf + RING_HEADROOM; the headroom bytes before it are scratch.
 * Valid until the next ring_pop or ring_drop_*.
 */
struct ring_slot *ring_peek(struct ring *r);

/* The k-th oldest queued message (0 = ring_peek), or NULL past the last. */
struct ring_slot *ring_queued(const struct ring *r, uint32_t k);

/* Discard the oldest queued message (it was sent). No-op when empty. */
void ring_pop(struct ring *r);

/*
 * Trim: drop the oldest queued message if it is audio, counting it in
 * dropped. Returns 1 if one was dropped, 0 if the queue is empty or its
 * oldest message is a command (commands are never trimmed).
 */
int ring_drop_oldest(struct ring *r);

/*
 * For a clear: drop every queued audio frame, keep queued commands in their
 * order. Returns how many frames went (not counted in dropped: the app
 * asked for it).
 */
uint32_t ring_drop_audio(struct ring *r);

/* Slots the ring holds now: the queued messages and the receive slot. */
static inline uint32_t ring_held(const struct ring *r) { return r->count + (r->rx != SLOT_NONE); }

static inline uint32_t ring_count(const struct ring *r) { return r->count; }
static inline uint32_t ring_room(const struct ring *r) { return r->slots - r->count; }
