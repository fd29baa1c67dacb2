/*
 * ring.h -- one call's fixed frame memory: the slot the next message is
 * received into, and the queue of messages waiting to be sent.
 *
 * Frames flow in from the WebSocket receive path into the receive slot
 * (ring_rx_append, one copy, as lws hands the message over in pieces). The
 * voice app (voice.h) then decides: echo it -- ring_rx_commit moves the slot
 * itself onto the send queue, no copy -- or leave it, and the slot is
 * reused for the next message. Audio the app makes and its text commands
 * are copied into a free slot (ring_push). The writeable path peeks the
 * oldest queued slot, writes it and pops it, which frees the slot.
 *
 * Storage is a caller-provided block of ring_storage_size() bytes inside
 * the per-connection data: `slots` queue slots plus the receive slot, and
 * two small index arrays (the queue's order and the free list), so a slot
 * changes role by index, never by copying, and the ring never allocates.
 * The receive slot is always separate from the queue, so a call that is
 * receiving never overwrites audio waiting to be sent, and audio an app
 * queues never overwrites a message being received. Each slot keeps
 * RING_HEADROOM bytes in front of the payload so it can be handed to
 * lws_write() (which needs LWS_PRE bytes before it) in place.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

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
	uint8_t  *storage;            /* not owned */
	uint16_t *order;              /* in storage: queued slot numbers, oldest at tail */
	uint16_t *freel;              /* in storage: free slot numbers (a stack) */
	uint32_t  slots;              /* send-queue capacity in messages */
	uint32_t  slot_bytes;         /* largest message */
	uint32_t  stride;             /* bytes per slot in storage */
	uint32_t  head;               /* next free place in order[] */
	uint32_t  tail;               /* oldest queued message in order[] */
	uint32_t  count;              /* messages queued */
	uint32_t  nfree;
	uint32_t  rx;                 /* the receive slot's number */
	uint32_t  rx_len;             /* bytes received into it so far */
	uint64_t  dropped;            /* audio frames discarded: queue full, or trimmed */
	uint32_t  now_us;             /* the owner's clock (low 32 bits of µs), stamped on what is queued */
};

/* Bytes of storage a ring of this shape needs. 0 if the shape is invalid. */
size_t ring_storage_size(uint32_t slots, uint32_t slot_bytes);

/*
 * Attach storage (ring_storage_size() bytes, owned by the caller) and empty
 * the ring. Returns 0, or -1 if the shape is invalid (nothing changed).
 */
int ring_init(struct ring *r, uint8_t *storage, uint32_t slots, uint32_t slot_bytes);

/*
 * Append one piece of the message being received. Returns 0, or -1 when
 * the message would exceed slot_bytes (the receive slot is then emptied;
 * the caller closes the connection anyway).
 */
int ring_rx_append(struct ring *r, const uint8_t *data, size_t len);

/* The message received so far: its payload (RING_HEADROOM bytes after the slot start) and length. */
static inline uint32_t ring_rx_len(const struct ring *r) { return r->rx_len; }
const uint8_t *ring_rx_data(const struct ring *r);

/* The received message is not to be sent: its slot takes the next message. */
static inline void ring_rx_reset(struct ring *r) { r->rx_len = 0; }

/*
 * Queue the received message as the newest audio frame, by moving its slot
 * onto the queue; a free slot becomes the receive slot. With the queue full
 * the oldest message is dropped first (counted when it is audio): for live
 * audio a 20 ms gap beats growing latency.
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

static inline uint32_t ring_count(const struct ring *r) { return r->count; }
static inline uint32_t ring_room(const struct ring *r) { return r->slots - r->count; }
