/*
 * test_ring.cpp -- unit tests for src/ring.cpp (a call's receive slot and
 * send queue).
 *
 * Every test gets a fresh ring of 8 queue slots x 960 bytes from
 * setup_ring(). The frames carry a sequence number in their bytes so order
 * and survival are checked by content, not by count alone. The overread
 * tests place the storage at the very end of an mmap'd region followed by a
 * PROT_NONE page (picohttpparser's trick), so touching one byte past the
 * storage crashes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ring.h"

#define T_SLOTS 8
#define T_SLOT_BYTES 960

struct fixture {
	struct ring r;
	uint8_t *storage;
};

static int setup_ring(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	size_t n = ring_storage_size(T_SLOTS, T_SLOT_BYTES);
	f->storage = (uint8_t *)malloc(n);
	if (!n || !f->storage || ring_init(&f->r, f->storage, T_SLOTS, T_SLOT_BYTES)) {
		free(f->storage);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown_ring(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	free(f->storage);
	free(f);
	return 0;
}

/* A frame of `len` bytes, byte i = seq + i (mod 256). */
static void make_frame(uint8_t *buf, size_t len, uint32_t seq)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq + i);
}

static void assert_frame(const struct ring_slot *s, size_t len, uint32_t seq)
{
	uint8_t want[RING_SLOT_BYTES_MAX];

	assert_non_null(s);
	assert_int_equal(s->len, len);
	make_frame(want, len, seq);
	assert_memory_equal(s->buf + RING_HEADROOM, want, len);
}

/* --- guard page helpers --------------------------------------------------- */

struct guarded {
	uint8_t *map;
	size_t map_len;
	uint8_t *ptr;   /* `size` usable bytes ending right at the PROT_NONE page */
};

static int guard_alloc(struct guarded *g, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (size + page - 1) / page * page;

	g->map_len = body + page;
	void *m = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	g->map = (uint8_t *)m;
	if (mprotect(g->map + body, page, PROT_NONE)) {
		munmap(m, g->map_len);
		return -1;
	}
	g->ptr = g->map + body - size;
	return 0;
}

static void guard_free(struct guarded *g)
{
	munmap(g->map, g->map_len);
}

/* Receive a whole message into the receive slot. */
static void rx(struct ring *r, const uint8_t *frame, size_t len)
{
	assert_int_equal(ring_rx_append(r, frame, len), 0);
	assert_int_equal(ring_rx_len(r), len);
}

/* Receive and queue (what echo does). */
static void rx_commit(struct ring *r, const uint8_t *frame, size_t len)
{
	rx(r, frame, len);
	ring_rx_commit(r);
}

/* --- ring_storage_size / ring_init -------------------------------------- */

/* the one-block layout: the ring's own pool struct, order[], the pool's stack, the slots */
#define POOL_HDR ((sizeof(struct slot_pool) + 7u) & ~(size_t)7u)

static void test_ring_storage_size_exact_values(void **state)
{
	(void)state;
	/* order[] (u32 per queue place) and the pool's stack (u32 per slot),
	 * each rounded to 8, then slots+1 slots of 8-byte header + 16 headroom
	 * + payload, each rounded up to 8 */
	assert_int_equal(ring_storage_size(8, 960), POOL_HDR + 32 + 40 + 9 * 984);
	assert_int_equal(ring_storage_size(1, 1), POOL_HDR + 8 + 8 + 2 * 32);
	assert_int_equal(ring_storage_size(2, 4), POOL_HDR + 8 + 16 + 3 * 32);
	assert_int_equal(ring_storage_size(3, 9), POOL_HDR + 16 + 16 + 4 * 40);
	assert_int_equal(ring_storage_size(RING_SLOTS_MAX, RING_SLOT_BYTES_MAX),
			 POOL_HDR + (size_t)RING_SLOTS_MAX * 4u + 16392u + (RING_SLOTS_MAX + 1u) * 65560u);
	assert_int_equal(ring_slot_stride(960), 984);
	assert_int_equal(ring_slot_stride(964), 992);
	assert_int_equal(ring_slot_stride(0), 0);
	assert_int_equal(ring_order_size(8), 32);
	assert_int_equal(ring_order_size(3), 16);
	assert_int_equal(ring_order_size(0), 0);
}

static void test_ring_storage_size_rejects_bad_shape(void **state)
{
	(void)state;
	assert_int_equal(ring_storage_size(0, 960), 0);
	assert_int_equal(ring_storage_size(8, 0), 0);
	assert_int_equal(ring_storage_size(RING_SLOTS_MAX + 1, 960), 0);
	assert_int_equal(ring_storage_size(8, RING_SLOT_BYTES_MAX + 1), 0);
	assert_int_equal(ring_storage_size(UINT32_MAX, UINT32_MAX), 0);
}

static void test_ring_init_rejects_bad_shape_and_null(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct ring before = f->r;

	assert_int_equal(ring_init(&f->r, f->storage, 0, 960), -1);
	assert_int_equal(ring_init(&f->r, f->storage, 8, RING_SLOT_BYTES_MAX + 1), -1);
	assert_int_equal(ring_init(&f->r, f->storage, 8, 0), -1);
	assert_int_equal(ring_init(&f->r, f->storage, RING_SLOTS_MAX + 1, 960), -1);
	assert_int_equal(ring_init(&f->r, NULL, 8, 960), -1);
	assert_memory_equal(&f->r, &before, sizeof before);   /* nothing changed */
}

static void test_ring_init_starts_empty(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[10];

	/* re-init a used ring: it must come back empty */
	make_frame(frame, sizeof frame, 1);
	assert_int_equal(ring_push(&f->r, frame, sizeof frame, 0), 0);
	rx(&f->r, frame, 5);
	assert_int_equal(ring_init(&f->r, f->storage, T_SLOTS, T_SLOT_BYTES), 0);
	assert_int_equal(ring_count(&f->r), 0);
	assert_int_equal(ring_room(&f->r), T_SLOTS);
	assert_int_equal(ring_rx_len(&f->r), 0);
	assert_null(ring_peek(&f->r));
	assert_int_equal(f->r.pool->stride, 984);
	assert_int_equal(f->r.dropped, 0);
	assert_int_equal(f->r.pool->out, 0);   /* an empty ring holds no slot */
	assert_int_equal(ring_held(&f->r), 0);
}

/* --- receive: append, reset, commit ------------------------------------- */

static void test_ring_rx_assembles_fragments_then_commit_queues_it(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t whole[T_SLOT_BYTES];

	make_frame(whole, sizeof whole, 42);
	assert_int_equal(ring_rx_append(&f->r, whole, 100), 0);
	assert_int_equal(ring_rx_append(&f->r, whole + 100, 0), 0);       /* empty fragment */
	assert_int_equal(ring_rx_append(&f->r, whole + 100, 500), 0);
	assert_int_equal(ring_count(&f->r), 0);                            /* not queued yet */
	assert_int_equal(ring_rx_append(&f->r, whole + 600, 360), 0);     /* exactly fills the slot */
	assert_memory_equal(ring_rx_data(&f->r), whole, T_SLOT_BYTES);    /* readable in place */
	const uint8_t *where = ring_rx_data(&f->r);
	ring_rx_commit(&f->r);
	assert_int_equal(ring_count(&f->r), 1);
	assert_int_equal(ring_rx_len(&f->r), 0);
	struct ring_slot *s = ring_peek(&f->r);
	assert_frame(s, T_SLOT_BYTES, 42);
	assert_int_equal(s->text, 0);
	/* zero copy: the queued frame is the very bytes that were received */
	assert_ptr_equal(s->buf + RING_HEADROOM, where);
	assert_ptr_not_equal(ring_rx_data(&f->r), where);   /* a new receive slot */
}

/* each queued message carries the owner's clock at queueing (quality.h's dwell) */
static void test_ring_stamps_queue_time(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES];

	make_frame(frame, sizeof frame, 1);
	f->r.now_us = 1000;
	rx_commit(&f->r, frame, sizeof frame);
	f->r.now_us = 0xfffffff0u;   /* the low 32 bits wrap: a difference still works */
	assert_int_equal(ring_push(&f->r, frame, 10, 0), 0);
	f->r.now_us = 5;
	assert_int_equal(ring_push(&f->r, (const uint8_t *)"{}", 2, 1), 0);
	assert_int_equal(ring_peek(&f->r)->queued_us, 1000);
	ring_pop(&f->r);
	assert_int_equal(ring_peek(&f->r)->queued_us, 0xfffffff0u);
	assert_int_equal((uint32_t)(f->r.now_us - ring_peek(&f->r)->queued_us), 21);
	ring_pop(&f->r);
	assert_int_equal(ring_peek(&f->r)->queued_us, 5);
	assert_int_equal(ring_peek(&f->r)->text, 1);
	assert_int_equal(ring_peek(&f->r)->len, 2);
}

static void test_ring_rx_reset_reuses_the_slot(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES];

	make_frame(frame, 900, 2);
	rx(&f->r, frame, 900);
	const uint8_t *where = ring_rx_data(&f->r);
	assert_int_equal(f->r.pool->out, 1);
	ring_rx_reset(&f->r);
	assert_int_equal(ring_rx_len(&f->r), 0);
	assert_int_equal(ring_count(&f->r), 0);
	assert_int_equal(f->r.pool->out, 0);   /* the slot went back to the pool */
	/* a new message takes the same slot back (last freed first) and starts
	 * from zero, not from the 900 dropped bytes */
	make_frame(frame, 960, 3);
	rx(&f->r, frame, 960);
	assert_ptr_equal(ring_rx_data(&f->r), where);
	ring_rx_commit(&f->r);
	assert_frame(ring_peek(&f->r), 960, 3);
	assert_int_equal(f->r.dropped, 0);
}

static void test_ring_rx_oversize_refused_queue_untouched(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES + 1];

	for (uint32_t i = 0; i < T_SLOTS; i++) {
		make_frame(frame, 64, i);
		assert_int_equal(ring_push(&f->r, frame, 64, 0), 0);
	}
	make_frame(frame, sizeof frame, 99);
	assert_int_equal(ring_rx_append(&f->r, frame, 500), 0);
	assert_int_equal(ring_rx_append(&f->r, frame, 461), -1);   /* 961 > 960 */
	assert_int_equal(ring_rx_len(&f->r), 0);
	/* the receive slot is its own: a full queue lost nothing to it */
	assert_int_equal(ring_count(&f->r), T_SLOTS);
	assert_int_equal(f->r.dropped, 0);
	for (uint32_t i = 0; i < T_SLOTS; i++) {
		assert_frame(ring_peek(&f->r), 64, i);
		ring_pop(&f->r);
	}
}

static void test_ring_rx_does_not_touch_queued_frames(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES];

	/* an app queues audio of its own while a message is being received */
	make_frame(frame, 300, 7);
	rx(&f->r, frame, 150);
	uint8_t made[T_SLOT_BYTES];
	make_frame(made, 960, 50);
	assert_int_equal(ring_push(&f->r, made, 960, 0), 0);
	assert_int_equal(ring_rx_append(&f->r, frame + 150, 150), 0);
	assert_memory_equal(ring_rx_data(&f->r), frame, 300);
	assert_frame(ring_peek(&f->r), 960, 50);
	ring_rx_reset(&f->r);
	assert_frame(ring_peek(&f->r), 960, 50);
}

static void test_ring_commit_when_full_drops_oldest_audio(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[640];

	for (uint32_t i = 0; i < T_SLOTS + 1; i++) {
		make_frame(frame, sizeof frame, i);
		rx_commit(&f->r, frame, sizeof frame);
	}
	assert_int_equal(f->r.dropped, 1);
	assert_int_equal(ring_count(&f->r), T_SLOTS);
	/* frame 0 is gone: 1..8 survive, in order */
	for (uint32_t i = 1; i <= T_SLOTS; i++) {
		assert_frame(ring_peek(&f->r), sizeof frame, i);
		ring_pop(&f->r);
	}
	assert_null(ring_peek(&f->r));
}

static void test_ring_commit_drops_accumulate_and_commands_are_not_counted(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[50];
	const uint32_t total = 3 * T_SLOTS + 5;

	assert_int_equal(ring_push(&f->r, (const uint8_t *)"{}", 2, 1), 0);   /* a command, oldest */
	for (uint32_t i = 0; i < total; i++) {
		make_frame(frame, sizeof frame, i);
		rx_commit(&f->r, frame, sizeof frame);
	}
	/* the command was pushed out first (not counted), then total - T_SLOTS frames */
	assert_int_equal(f->r.dropped, total - T_SLOTS);
	assert_int_equal(ring_count(&f->r), T_SLOTS);
	for (uint32_t i = total - T_SLOTS; i < total; i++) {
		assert_frame(ring_peek(&f->r), sizeof frame, i);
		ring_pop(&f->r);
	}
}

/* --- push / peek / pop -------------------------------------------------- */

static void test_ring_push_peek_pop_fifo_order_with_kinds(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES];

	for (uint32_t i = 0; i < 5; i++) {
		make_frame(frame, 100 + i, i);
		assert_int_equal(ring_push(&f->r, frame, 100 + i, (int)(i & 1)), 0);
		assert_int_equal(ring_count(&f->r), i + 1);
		assert_int_equal(ring_room(&f->r), T_SLOTS - i - 1);
	}
	for (uint32_t i = 0; i < 5; i++) {
		assert_frame(ring_peek(&f->r), 100 + i, i);
		assert_int_equal(ring_peek(&f->r)->text, i & 1);
		ring_pop(&f->r);
		assert_int_equal(ring_count(&f->r), 4 - i);
	}
	assert_null(ring_peek(&f->r));
	assert_int_equal(f->r.dropped, 0);
}

static void test_ring_push_when_full_refused_nothing_lost(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES];

	for (uint32_t i = 0; i < T_SLOTS; i++) {
		make_frame(frame, 32, i);
		assert_int_equal(ring_push(&f->r, frame, 32, 0), 0);
	}
	make_frame(frame, 32, 99);
	assert_int_equal(ring_push(&f->r, frame, 32, 0), -1);
	assert_int_equal(ring_room(&f->r), 0);
	assert_int_equal(f->r.dropped, 0);
	/* and the receive slot still works with the queue full */
	rx(&f->r, frame, 32);
	assert_frame(ring_peek(&f->r), 32, 0);
}

static void test_ring_push_oversize_refused(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES + 1];

	make_frame(frame, sizeof frame, 5);
	assert_int_equal(ring_push(&f->r, frame, T_SLOT_BYTES + 1, 0), -1);
	assert_int_equal(ring_count(&f->r), 0);
	assert_int_equal(ring_push(&f->r, frame, T_SLOT_BYTES, 0), 0);   /* exactly slot_bytes fits */
	assert_frame(ring_peek(&f->r), T_SLOT_BYTES, 5);
	assert_int_equal(ring_push(&f->r, frame, SIZE_MAX, 0), -1);      /* no size_t wrap */
	assert_int_equal(ring_count(&f->r), 1);
}

static void test_ring_pop_empty_is_noop(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[4] = { 9, 8, 7, 6 };

	ring_pop(&f->r);
	ring_pop(&f->r);
	assert_int_equal(ring_count(&f->r), 0);
	assert_int_equal(f->r.pool->out, 0);
	assert_int_equal(ring_push(&f->r, frame, sizeof frame, 0), 0);
	assert_int_equal(ring_peek(&f->r)->len, 4);
	assert_memory_equal(ring_peek(&f->r)->buf + RING_HEADROOM, frame, 4);
}

static void test_ring_push_zero_length_frame(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[8];

	assert_int_equal(ring_push(&f->r, NULL, 0, 0), 0);
	make_frame(frame, sizeof frame, 3);
	assert_int_equal(ring_push(&f->r, frame, sizeof frame, 0), 0);
	assert_int_equal(ring_count(&f->r), 2);
	assert_int_equal(ring_peek(&f->r)->len, 0);
	ring_pop(&f->r);
	assert_frame(ring_peek(&f->r), sizeof frame, 3);
}

/* Many laps of mixed receive-commit, receive-reset, push and pop: every
 * frame that was queued comes out once, in order, and slots are conserved. */
static void test_ring_mixed_traffic_many_laps(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES];
	uint32_t next_in = 0, next_out = 0;

	for (int round = 0; round < 900; round++) {
		uint32_t burst = (uint32_t)(round % 7) + 1;
		for (uint32_t k = 0; k < burst && ring_room(&f->r); k++) {
			size_t len = (next_in * 37u) % (T_SLOT_BYTES + 1);
			make_frame(frame, len, next_in);
			if ((round + k) % 3 == 0) {
				assert_int_equal(ring_push(&f->r, frame, len, 0), 0);
			} else {
				rx_commit(&f->r, frame, len);
			}
			next_in++;
			if (round % 5 == 0) {   /* a consumed message in between */
				rx(&f->r, frame, 10);
				ring_rx_reset(&f->r);
			}
		}
		uint32_t take = (uint32_t)((round * 5) % 8);
		while (take-- && ring_count(&f->r)) {
			assert_frame(ring_peek(&f->r), (next_out * 37u) % (T_SLOT_BYTES + 1), next_out);
			ring_pop(&f->r);
			next_out++;
		}
		assert_int_equal(ring_count(&f->r), next_in - next_out);
		assert_int_equal(f->r.pool->out, ring_count(&f->r));   /* nothing half-received here */
	}
	assert_true(next_in > 10 * T_SLOTS);
	assert_int_equal(f->r.dropped, 0);
}

/* --- trims and clear ------------------------------------------------------ */

static void test_ring_drop_oldest_trims_audio_never_commands(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[64];

	assert_int_equal(ring_drop_oldest(&f->r), 0);   /* empty */
	make_frame(frame, 64, 1);
	rx_commit(&f->r, frame, 64);
	make_frame(frame, 64, 2);
	rx_commit(&f->r, frame, 64);
	assert_int_equal(ring_drop_oldest(&f->r), 1);
	assert_int_equal(f->r.dropped, 1);
	assert_frame(ring_peek(&f->r), 64, 2);
	ring_pop(&f->r);
	assert_int_equal(ring_push(&f->r, (const uint8_t *)"{\"action\":\"clear\"}", 18, 1), 0);
	make_frame(frame, 64, 3);
	rx_commit(&f->r, frame, 64);
	assert_int_equal(ring_drop_oldest(&f->r), 0);   /* the oldest is a command */
	assert_int_equal(ring_count(&f->r), 2);
	assert_int_equal(f->r.dropped, 1);
}

static void test_ring_drop_audio_keeps_commands_in_order(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[64];

	/* a b N1 c N2 d, with N = commands */
	for (uint32_t i = 0; i < 6; i++) {
		make_frame(frame, 40 + i, i);
		assert_int_equal(ring_push(&f->r, frame, 40 + i, i == 2 || i == 4), 0);
	}
	assert_int_equal(ring_drop_audio(&f->r), 4);
	assert_int_equal(f->r.dropped, 0);   /* asked for, not lost */
	assert_int_equal(ring_count(&f->r), 2);
	assert_int_equal(f->r.pool->out, 2);
	assert_frame(ring_peek(&f->r), 42, 2);
	ring_pop(&f->r);
	assert_frame(ring_peek(&f->r), 44, 4);
	ring_pop(&f->r);
	/* the queue works on after compaction, wrapping included */
	for (uint32_t i = 0; i < T_SLOTS; i++) {
		make_frame(frame, 8, 100 + i);
		assert_int_equal(ring_push(&f->r, frame, 8, 0), 0);
	}
	assert_int_equal(ring_drop_audio(&f->r), T_SLOTS);
	assert_null(ring_peek(&f->r));
	assert_int_equal(ring_room(&f->r), T_SLOTS);
}

static void test_ring_peek_payload_after_headroom(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES];

	for (uint32_t i = 0; i < 3; i++) {
		make_frame(frame, T_SLOT_BYTES, i);
		assert_int_equal(ring_push(&f->r, frame, T_SLOT_BYTES, 0), 0);
	}
	struct ring_slot *s = ring_peek(&f->r);
	assert_non_null(s);
	/* slots start inside storage after the index arrays, 8-byte aligned */
	assert_int_equal(((uintptr_t)s - (uintptr_t)f->storage) % 8, 0);
	assert_true((uint8_t *)s >= f->storage + 32);
	assert_true((uint8_t *)s + 984 <= f->storage + ring_storage_size(T_SLOTS, T_SLOT_BYTES));
	assert_int_equal(s->buf - (uint8_t *)s, 8);
	/* lws_write may scribble over the headroom: it must not touch the frames */
	memset(s->buf, 0xEE, RING_HEADROOM);
	assert_frame(s, T_SLOT_BYTES, 0);
	ring_pop(&f->r);
	s = ring_peek(&f->r);
	memset(s->buf, 0xEE, RING_HEADROOM);
	assert_frame(s, T_SLOT_BYTES, 1);
	ring_pop(&f->r);
	assert_frame(ring_peek(&f->r), T_SLOT_BYTES, 2);
}

/* --- overread / overwrite checks against a guard page ------------------- */

static void fill_guarded_ring(uint32_t slots, uint32_t slot_bytes)
{
	struct guarded g;
	struct ring r;
	uint8_t frame[RING_SLOT_BYTES_MAX];
	size_t size = ring_storage_size(slots, slot_bytes);

	assert_true(size > 0);
	assert_int_equal(guard_alloc(&g, size), 0);
	assert_int_equal(ring_init(&r, g.ptr, slots, slot_bytes), 0);
	/* commit past capacity so every slot, the last one included, is filled */
	for (uint32_t i = 0; i < slots * 3 + 1; i++) {
		make_frame(frame, slot_bytes, i);
		rx_commit(&r, frame, slot_bytes);
	}
	assert_int_equal(ring_count(&r), slots);
	assert_int_equal(r.dropped, slots * 2 + 1);
	/* and byte by byte into the receive slot, to its last byte */
	make_frame(frame, slot_bytes, 1000);
	for (uint32_t k = 0; k < slot_bytes; k++)
		assert_int_equal(ring_rx_append(&r, frame + k, 1), 0);
	assert_int_equal(ring_rx_append(&r, frame, 1), -1);   /* one past: refused, no write */
	for (uint32_t i = slots * 2 + 1; i < slots * 3 + 1; i++) {
		struct ring_slot *s = ring_peek(&r);
		memset(s->buf, 0, RING_HEADROOM);
		assert_frame(s, slot_bytes, i);
		ring_pop(&r);
	}
	assert_int_equal(ring_count(&r), 0);
	guard_free(&g);
}

static void test_ring_fill_to_capacity_no_overrun_padded_slot(void **state)
{
	(void)state;
	/* 8 + 16 + 964 = 988: 4 bytes of padding */
	fill_guarded_ring(T_SLOTS, 964);
}

static void test_ring_fill_to_capacity_no_overrun_exact_slot(void **state)
{
	(void)state;
	/* 8 + 16 + 960 = 984: no padding, the last slot's last byte abuts the guard page */
	assert_int_equal(ring_storage_size(5, 960), POOL_HDR + 24 + 24 + 6 * 984);
	fill_guarded_ring(5, 960);
	fill_guarded_ring(1, 8);
	fill_guarded_ring(2, 1);
}

/* --- rings sharing one pool (how the server runs them) ------------------ */

#define SHARED_CALLS 4

struct shared {
	struct slot_pool pool;
	uint8_t *storage;
	struct ring r[SHARED_CALLS];
	uint32_t order[SHARED_CALLS][T_SLOTS];
};

static struct shared *shared_new(void)
{
	struct shared *sh = (struct shared *)calloc(1, sizeof *sh);
	uint32_t n = SHARED_CALLS * (T_SLOTS + 1);
	assert_non_null(sh);
	sh->storage = (uint8_t *)malloc(slot_pool_storage_size(n, ring_slot_stride(T_SLOT_BYTES)));
	assert_non_null(sh->storage);
	assert_int_equal(slot_pool_use(&sh->pool, sh->storage, n, ring_slot_stride(T_SLOT_BYTES)), 0);
	for (int c = 0; c < SHARED_CALLS; c++)
		assert_int_equal(ring_attach(&sh->r[c], &sh->pool, sh->order[c], T_SLOTS, T_SLOT_BYTES), 0);
	return sh;
}

static void shared_free(struct shared *sh)
{
	free(sh->storage);
	free(sh);
}

static void test_ring_echoed_calls_hold_no_slot_between_frames(void **state)
{
	struct shared *sh = shared_new();
	uint8_t frame[T_SLOT_BYTES];
	(void)state;

	/* every call receives a frame, then the pass's end sends them all: the
	 * steady state of paced calls. Each call holds one slot for part of the
	 * pass and none between frames, and the same SHARED_CALLS slots are
	 * used again and again: the rest of the pool is never written */
	for (uint32_t k = 0; k < 500; k++) {
		for (int c = 0; c < SHARED_CALLS; c++) {
			make_frame(frame, T_SLOT_BYTES, k * SHARED_CALLS + c);
			rx_commit(&sh->r[c], frame, T_SLOT_BYTES);
			assert_int_equal(ring_held(&sh->r[c]), 1);
		}
		for (int c = 0; c < SHARED_CALLS; c++) {
			assert_frame(ring_peek(&sh->r[c]), T_SLOT_BYTES, k * SHARED_CALLS + c);
			ring_pop(&sh->r[c]);
			assert_int_equal(ring_held(&sh->r[c]), 0);
		}
		assert_int_equal(sh->pool.out, 0);
	}
	assert_int_equal(sh->pool.peak, SHARED_CALLS);
	assert_int_equal(sh->pool.fresh, SHARED_CALLS);   /* slots beyond these were never handed out */
	for (int c = 0; c < SHARED_CALLS; c++)
		assert_int_equal(sh->r[c].dropped, 0);
	shared_free(sh);
}

static void test_ring_stalled_reader_fills_its_own_ring_only(void **state)
{
	struct shared *sh = shared_new();
	uint8_t frame[T_SLOT_BYTES];
	(void)state;

	/* call 0's reader stops: it fills its ring, then drops its oldest frames,
	 * exactly as a ring with slots of its own did */
	for (uint32_t i = 0; i < T_SLOTS * 3 + 1; i++) {
		make_frame(frame, 500, i);
		rx_commit(&sh->r[0], frame, 500);
	}
	assert_int_equal(ring_count(&sh->r[0]), T_SLOTS);
	assert_int_equal(sh->r[0].dropped, T_SLOTS * 2 + 1);
	assert_int_equal(sh->pool.out, T_SLOTS);
	/* meanwhile every other call can still fill its whole ring and receive */
	for (int c = 1; c < SHARED_CALLS; c++) {
		for (uint32_t i = 0; i < T_SLOTS; i++) {
			make_frame(frame, 100, 1000 + i);
			rx_commit(&sh->r[c], frame, 100);
		}
		rx(&sh->r[c], frame, 10);
		assert_int_equal(sh->r[c].dropped, 0);
	}
	assert_int_equal(sh->pool.out, SHARED_CALLS * (T_SLOTS + 1) - 1);
	rx(&sh->r[0], frame, 10);   /* the last slot: call 0's receive slot */
	assert_int_equal(sh->pool.out, SHARED_CALLS * (T_SLOTS + 1));
	/* call 0 kept its newest frames, in order */
	for (uint32_t i = T_SLOTS * 2 + 1; i < T_SLOTS * 3 + 1; i++) {
		assert_frame(ring_peek(&sh->r[0]), 500, i);
		ring_pop(&sh->r[0]);
	}
	/* detaching a call gives back everything it held, receive slot included */
	for (int c = 0; c < SHARED_CALLS; c++)
		ring_detach(&sh->r[c]);
	assert_int_equal(sh->pool.out, 0);
	assert_int_equal(sh->pool.depth, SHARED_CALLS * (T_SLOTS + 1));
	shared_free(sh);
}

static void test_ring_attach_rejects_small_pool_slots(void **state)
{
	uint8_t storage[4096] __attribute__((aligned(8)));
	struct slot_pool p;
	struct ring r;
	uint32_t order[T_SLOTS];
	(void)state;

	assert_int_equal(slot_pool_use(&p, storage, 2, ring_slot_stride(100)), 0);
	assert_int_equal(ring_attach(&r, &p, order, T_SLOTS, 105), -1);   /* 8+16+105 rounds to 136 > 128 */
	assert_int_equal(ring_attach(&r, &p, order, T_SLOTS, 104), 0);    /* 128: fits */
	assert_int_equal(ring_attach(&r, &p, order, T_SLOTS, 100), 0);
	assert_int_equal(ring_attach(&r, NULL, order, T_SLOTS, 100), -1);
	assert_int_equal(ring_attach(&r, &p, NULL, T_SLOTS, 100), -1);
	/* the ring asks the pool; a pool with fewer slots than the ring may
	 * queue refuses app audio instead of overrunning */
	assert_int_equal(ring_push(&r, storage, 10, 0), 0);
	assert_int_equal(ring_push(&r, storage, 10, 0), 0);
	assert_int_equal(ring_push(&r, storage, 10, 0), -1);
	assert_int_equal(ring_rx_append(&r, storage, 1), -1);
	assert_int_equal(ring_count(&r), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ring_storage_size_exact_values, setup_ring, teardown_ring),
		cmocka_unit_test(test_ring_echoed_calls_hold_no_slot_between_frames),
		cmocka_unit_test(test_ring_stalled_reader_fills_its_own_ring_only),
		cmocka_unit_test(test_ring_attach_rejects_small_pool_slots),
		cmocka_unit_test_setup_teardown(test_ring_storage_size_rejects_bad_shape, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_init_rejects_bad_shape_and_null, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_init_starts_empty, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_rx_assembles_fragments_then_commit_queues_it, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_stamps_queue_time, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_rx_reset_reuses_the_slot, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_rx_oversize_refused_queue_untouched, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_rx_does_not_touch_queued_frames, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_commit_when_full_drops_oldest_audio, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_commit_drops_accumulate_and_commands_are_not_counted, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_push_peek_pop_fifo_order_with_kinds, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_push_when_full_refused_nothing_lost, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_push_oversize_refused, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_pop_empty_is_noop, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_push_zero_length_frame, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_mixed_traffic_many_laps, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_drop_oldest_trims_audio_never_commands, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_drop_audio_keeps_commands_in_order, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_peek_payload_after_headroom, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_fill_to_capacity_no_overrun_padded_slot, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_fill_to_capacity_no_overrun_exact_slot, setup_ring, teardown_ring),
	};
	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
