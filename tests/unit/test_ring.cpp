/*
 * test_ring.cpp -- unit tests for src/ring.cpp (fixed-capacity frame FIFO).
 *
 * Every test gets a fresh ring of 8 slots x 960 bytes from setup_ring(). The
 * frames carry a sequence number in their bytes so order and survival are
 * checked by content, not by count alone. The overread tests place the
 * storage at the very end of an mmap'd region followed by a PROT_NONE page
 * (picohttpparser's trick), so touching one byte past the storage crashes.
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

/* --- ring_storage_size / ring_init -------------------------------------- */

static void test_ring_storage_size_exact_values(void **state)
{
	(void)state;
	/* slot = 4-byte len + 16 headroom + payload, rounded up to 8 */
	assert_int_equal(ring_storage_size(8, 960), 8 * 984);
	assert_int_equal(ring_storage_size(1, 1), 24);
	assert_int_equal(ring_storage_size(2, 4), 2 * 24);
	assert_int_equal(ring_storage_size(3, 5), 3 * 32);
	assert_int_equal(ring_storage_size(RING_SLOTS_MAX, RING_SLOT_BYTES_MAX),
			 (size_t)RING_SLOTS_MAX * 65560u);
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

static void test_ring_init_rejects_zero_slots(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct ring before = f->r;

	assert_int_equal(ring_init(&f->r, f->storage, 0, 960), -1);
	assert_memory_equal(&f->r, &before, sizeof before);   /* nothing changed */
}

static void test_ring_init_rejects_too_large_slot(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct ring before = f->r;

	assert_int_equal(ring_init(&f->r, f->storage, 8, RING_SLOT_BYTES_MAX + 1), -1);
	assert_int_equal(ring_init(&f->r, f->storage, 8, 0), -1);
	assert_int_equal(ring_init(&f->r, f->storage, RING_SLOTS_MAX + 1, 960), -1);
	assert_memory_equal(&f->r, &before, sizeof before);
}

static void test_ring_init_rejects_null_storage(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct ring before = f->r;

	assert_int_equal(ring_init(&f->r, NULL, 8, 960), -1);
	assert_memory_equal(&f->r, &before, sizeof before);
}

static void test_ring_init_starts_empty(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[10];

	/* re-init a used ring: it must come back empty */
	make_frame(frame, sizeof frame, 1);
	assert_int_equal(ring_push(&f->r, frame, sizeof frame), 0);
	assert_int_equal(ring_init(&f->r, f->storage, T_SLOTS, T_SLOT_BYTES), 0);
	assert_int_equal(ring_count(&f->r), 0);
	assert_null(ring_peek(&f->r));
	assert_int_equal(f->r.slots, T_SLOTS);
	assert_int_equal(f->r.slot_bytes, T_SLOT_BYTES);
	assert_int_equal(f->r.stride, 984);
	assert_int_equal(f->r.dropped, 0);
	assert_int_equal(f->r.pending, 0);
	assert_ptr_equal(f->r.storage, f->storage);
}

/* --- push / peek / pop -------------------------------------------------- */

static void test_ring_push_peek_pop_fifo_order(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES];

	for (uint32_t i = 0; i < 5; i++) {
		make_frame(frame, 100 + i, i);
		assert_int_equal(ring_push(&f->r, frame, 100 + i), 0);
		assert_int_equal(ring_count(&f->r), i + 1);
	}
	for (uint32_t i = 0; i < 5; i++) {
		assert_frame(ring_peek(&f->r), 100 + i, i);
		/* peek does not consume */
		assert_frame(ring_peek(&f->r), 100 + i, i);
		ring_pop(&f->r);
		assert_int_equal(ring_count(&f->r), 4 - i);
	}
	assert_null(ring_peek(&f->r));
	assert_int_equal(f->r.dropped, 0);
}

static void test_ring_pop_empty_is_noop(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[4] = { 9, 8, 7, 6 };

	ring_pop(&f->r);
	ring_pop(&f->r);
	assert_int_equal(ring_count(&f->r), 0);
	assert_int_equal(f->r.tail, 0);
	assert_int_equal(f->r.head, 0);
	/* still usable after popping an empty ring */
	assert_int_equal(ring_push(&f->r, frame, sizeof frame), 0);
	assert_int_equal(ring_peek(&f->r)->len, 4);
	assert_memory_equal(ring_peek(&f->r)->buf + RING_HEADROOM, frame, 4);
}

static void test_ring_push_wraps_around_many_times(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES];
	uint32_t next_in = 0, next_out = 0;

	/* keep 0..7 frames in flight while head and tail lap the ring ~300 times */
	for (int round = 0; round < 600; round++) {
		uint32_t burst = (uint32_t)(round % 7) + 1;
		for (uint32_t k = 0; k < burst && ring_count(&f->r) < T_SLOTS; k++) {
			size_t len = (next_in * 37u) % (T_SLOT_BYTES + 1);
			make_frame(frame, len, next_in);
			assert_int_equal(ring_push(&f->r, frame, len), 0);
			next_in++;
		}
		uint32_t take = (uint32_t)((round * 5) % 8);
		while (take-- && ring_count(&f->r)) {
			assert_frame(ring_peek(&f->r), (next_out * 37u) % (T_SLOT_BYTES + 1), next_out);
			ring_pop(&f->r);
			next_out++;
		}
		assert_int_equal(ring_count(&f->r), next_in - next_out);
	}
	while (ring_count(&f->r)) {
		assert_frame(ring_peek(&f->r), (next_out * 37u) % (T_SLOT_BYTES + 1), next_out);
		ring_pop(&f->r);
		next_out++;
	}
	assert_int_equal(next_out, next_in);
	assert_true(next_in > 10 * T_SLOTS);
	assert_int_equal(f->r.dropped, 0);
}

static void test_ring_push_drops_oldest_when_full(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[640];

	for (uint32_t i = 0; i < T_SLOTS + 1; i++) {
		make_frame(frame, sizeof frame, i);
		assert_int_equal(ring_push(&f->r, frame, sizeof frame), 0);
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

static void test_ring_push_drops_count_accumulates(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[50];
	const uint32_t total = 3 * T_SLOTS + 5;

	for (uint32_t i = 0; i < total; i++) {
		make_frame(frame, sizeof frame, i);
		assert_int_equal(ring_push(&f->r, frame, sizeof frame), 0);
	}
	assert_int_equal(f->r.dropped, total - T_SLOTS);
	assert_int_equal(ring_count(&f->r), T_SLOTS);
	for (uint32_t i = total - T_SLOTS; i < total; i++) {
		assert_frame(ring_peek(&f->r), sizeof frame, i);
		ring_pop(&f->r);
	}
}

/* --- fragments: append / commit / abort --------------------------------- */

static void test_ring_append_assembles_fragments(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t whole[T_SLOT_BYTES];

	make_frame(whole, sizeof whole, 42);
	assert_int_equal(ring_append(&f->r, whole, 100), 0);
	assert_int_equal(ring_append(&f->r, whole + 100, 0), 0);       /* empty fragment */
	assert_int_equal(ring_append(&f->r, whole + 100, 500), 0);
	/* not visible until committed */
	assert_int_equal(ring_count(&f->r), 0);
	assert_null(ring_peek(&f->r));
	assert_int_equal(ring_append(&f->r, whole + 600, 360), 0);     /* exactly fills the slot */
	ring_commit(&f->r);
	assert_int_equal(ring_count(&f->r), 1);
	assert_frame(ring_peek(&f->r), T_SLOT_BYTES, 42);
	assert_int_equal(f->r.pending, 0);
}

static void test_ring_append_keeps_committed_frames_visible(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[200];

	make_frame(frame, sizeof frame, 1);
	assert_int_equal(ring_push(&f->r, frame, sizeof frame), 0);
	make_frame(frame, sizeof frame, 2);
	assert_int_equal(ring_append(&f->r, frame, 50), 0);
	/* the writeable side can still drain while a message is being assembled */
	assert_frame(ring_peek(&f->r), 200, 1);
	ring_pop(&f->r);
	assert_null(ring_peek(&f->r));
	assert_int_equal(ring_append(&f->r, frame + 50, 150), 0);
	ring_commit(&f->r);
	assert_frame(ring_peek(&f->r), 200, 2);
}

static void test_ring_append_oversize_returns_error_keeps_earlier_frames(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES];

	for (uint32_t i = 0; i < 3; i++) {
		make_frame(frame, 300, i);
		assert_int_equal(ring_push(&f->r, frame, 300), 0);
	}
	make_frame(frame, sizeof frame, 99);
	assert_int_equal(ring_append(&f->r, frame, 500), 0);
	assert_int_equal(ring_append(&f->r, frame, 461), -1);   /* 961 > 960 */
	assert_int_equal(f->r.pending, 0);
	assert_int_equal(ring_count(&f->r), 3);
	assert_int_equal(f->r.dropped, 0);
	ring_commit(&f->r);                                      /* nothing open: no-op */
	assert_int_equal(ring_count(&f->r), 3);
	for (uint32_t i = 0; i < 3; i++) {
		assert_frame(ring_peek(&f->r), 300, i);
		ring_pop(&f->r);
	}
	/* ring is still usable and the abandoned bytes do not leak into a new frame */
	make_frame(frame, 10, 7);
	assert_int_equal(ring_push(&f->r, frame, 10), 0);
	assert_frame(ring_peek(&f->r), 10, 7);
}

static void test_ring_push_oversize_single_frame_rejected(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES + 1];

	make_frame(frame, sizeof frame, 5);
	assert_int_equal(ring_push(&f->r, frame, T_SLOT_BYTES + 1), -1);
	assert_int_equal(ring_count(&f->r), 0);
	assert_int_equal(f->r.pending, 0);
	assert_int_equal(ring_push(&f->r, frame, T_SLOT_BYTES), 0);   /* exactly slot_bytes fits */
	assert_frame(ring_peek(&f->r), T_SLOT_BYTES, 5);
	assert_int_equal(ring_push(&f->r, frame, SIZE_MAX), -1);     /* no size_t wrap */
	assert_int_equal(ring_count(&f->r), 1);
}

static void test_ring_append_oversize_when_full_drops_one(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES + 1];

	for (uint32_t i = 0; i < T_SLOTS; i++) {
		make_frame(frame, 64, i);
		assert_int_equal(ring_push(&f->r, frame, 64), 0);
	}
	/* documented: the slot opened for the oversize message cost the oldest frame */
	assert_int_equal(ring_append(&f->r, frame, sizeof frame), -1);
	assert_int_equal(f->r.dropped, 1);
	assert_int_equal(ring_count(&f->r), T_SLOTS - 1);
	for (uint32_t i = 1; i < T_SLOTS; i++) {
		assert_frame(ring_peek(&f->r), 64, i);
		ring_pop(&f->r);
	}
}

static void test_ring_abort_discards_open_message(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES];

	make_frame(frame, 20, 1);
	assert_int_equal(ring_push(&f->r, frame, 20), 0);
	make_frame(frame, 900, 2);
	assert_int_equal(ring_append(&f->r, frame, 900), 0);
	ring_abort(&f->r);
	assert_int_equal(f->r.pending, 0);
	assert_int_equal(ring_count(&f->r), 1);
	ring_commit(&f->r);   /* nothing open after abort */
	assert_int_equal(ring_count(&f->r), 1);
	ring_abort(&f->r);    /* abort with nothing open is harmless */
	/* a new message starts from zero, not from the 900 aborted bytes */
	make_frame(frame, 960, 3);
	assert_int_equal(ring_append(&f->r, frame, 900), 0);
	assert_int_equal(ring_append(&f->r, frame + 900, 60), 0);
	ring_commit(&f->r);
	assert_frame(ring_peek(&f->r), 20, 1);
	ring_pop(&f->r);
	assert_frame(ring_peek(&f->r), 960, 3);
}

static void test_ring_commit_without_open_message_is_noop(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	ring_commit(&f->r);
	assert_int_equal(ring_count(&f->r), 0);
	assert_int_equal(f->r.head, 0);
	assert_null(ring_peek(&f->r));
}

static void test_ring_push_zero_length_frame(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[8];

	assert_int_equal(ring_push(&f->r, NULL, 0), 0);
	make_frame(frame, sizeof frame, 3);
	assert_int_equal(ring_push(&f->r, frame, sizeof frame), 0);
	assert_int_equal(ring_count(&f->r), 2);
	assert_int_equal(ring_peek(&f->r)->len, 0);
	ring_pop(&f->r);
	assert_frame(ring_peek(&f->r), sizeof frame, 3);
}

static void test_ring_peek_payload_after_headroom(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t frame[T_SLOT_BYTES];

	for (uint32_t i = 0; i < 3; i++) {
		make_frame(frame, T_SLOT_BYTES, i);
		assert_int_equal(ring_push(&f->r, frame, T_SLOT_BYTES), 0);
	}
	struct ring_slot *s = ring_peek(&f->r);
	assert_non_null(s);
	/* slot starts inside storage, 8-byte aligned, and len sits before buf */
	assert_int_equal(((uintptr_t)s - (uintptr_t)f->storage) % 8, 0);
	assert_int_equal((uint8_t *)s - f->storage, 0);
	assert_int_equal(s->buf - (uint8_t *)s, 4);
	/* lws_write may scribble over the headroom: it must not touch the frames */
	memset(s->buf, 0xEE, RING_HEADROOM);
	assert_frame(s, T_SLOT_BYTES, 0);
	ring_pop(&f->r);
	s = ring_peek(&f->r);
	assert_int_equal((uint8_t *)s - f->storage, 984);
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
	/* fill to capacity, then keep pushing so the last slot is reused */
	for (uint32_t i = 0; i < slots * 3 + 1; i++) {
		make_frame(frame, slot_bytes, i);
		assert_int_equal(ring_push(&r, frame, slot_bytes), 0);
	}
	assert_int_equal(ring_count(&r), slots);
	assert_int_equal(r.dropped, slots * 2 + 1);
	/* also through fragments, one byte at a time, into the last slot */
	make_frame(frame, slot_bytes, 1000);
	for (uint32_t k = 0; k < slot_bytes; k++)
		assert_int_equal(ring_append(&r, frame + k, 1), 0);
	assert_int_equal(ring_append(&r, frame, 1), -1);   /* one past: refused, no write */
	for (uint32_t i = slots * 2 + 2; i < slots * 3 + 1; i++) {
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
	fill_guarded_ring(T_SLOTS, T_SLOT_BYTES);   /* stride has 4 bytes of padding */
}

static void test_ring_fill_to_capacity_no_overrun_exact_slot(void **state)
{
	(void)state;
	/* 4 + 16 + 964 = 984: no padding, the last payload byte abuts the guard page */
	assert_int_equal(ring_storage_size(5, 964), 5 * 984);
	fill_guarded_ring(5, 964);
	fill_guarded_ring(1, 4);
	fill_guarded_ring(2, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ring_storage_size_exact_values, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_storage_size_rejects_bad_shape, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_init_rejects_zero_slots, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_init_rejects_too_large_slot, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_init_rejects_null_storage, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_init_starts_empty, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_push_peek_pop_fifo_order, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_pop_empty_is_noop, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_push_wraps_around_many_times, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_push_drops_oldest_when_full, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_push_drops_count_accumulates, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_append_assembles_fragments, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_append_keeps_committed_frames_visible, setup_ring,
						teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_append_oversize_returns_error_keeps_earlier_frames,
						setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_push_oversize_single_frame_rejected, setup_ring,
						teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_append_oversize_when_full_drops_one, setup_ring,
						teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_abort_discards_open_message, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_commit_without_open_message_is_noop, setup_ring,
						teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_push_zero_length_frame, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_peek_payload_after_headroom, setup_ring, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_fill_to_capacity_no_overrun_padded_slot, setup_ring,
						teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_fill_to_capacity_no_overrun_exact_slot, setup_ring,
						teardown_ring),
	};
	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
