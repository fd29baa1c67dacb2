/*
 * test_slot_pool.cpp -- src/slot_pool.cpp: the shared stack of frame slots.
 *
 * The pool's point is memory: slots handed out last-freed first, never-used
 * slots from a high-water mark, one demand-zero mapping. So besides the
 * stack's order these tests ask the kernel (mincore) which pages of a real
 * mapping became resident after a workload shaped like 1,000 paced calls.
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
#include "slot_pool.h"

static void test_slot_pool_storage_size(void **state)
{
	(void)state;
	/* the stack (u32 per slot, rounded to 8), then the slots, stride rounded to 8 */
	assert_int_equal(slot_pool_storage_size(9, 984), 40 + 9 * 984);
	assert_int_equal(slot_pool_storage_size(2, 5), 8 + 2 * 8);
	assert_int_equal(slot_pool_storage_size(0, 984), 0);
	assert_int_equal(slot_pool_storage_size(9, 0), 0);
	assert_int_equal(slot_pool_storage_size(SLOT_NONE, 8), 0);
	assert_int_equal(slot_pool_storage_size(UINT32_MAX - 1, SIZE_MAX / 4), 0);   /* does not fit */
}

static void test_slot_pool_take_fresh_then_last_freed_first(void **state)
{
	uint8_t storage[16 + 4 * 64] __attribute__((aligned(8)));   /* stack of 4 u32, 4 slots */
	struct slot_pool p;
	(void)state;

	assert_int_equal(slot_pool_use(&p, storage + 1, 4, 64), -1);   /* misaligned */
	assert_int_equal(slot_pool_use(&p, storage, 4, 64), 0);
	assert_int_equal(slot_pool_take(&p), 0);
	assert_int_equal(slot_pool_take(&p), 1);
	assert_int_equal(slot_pool_take(&p), 2);
	slot_pool_give(&p, 0);
	slot_pool_give(&p, 2);
	assert_int_equal(slot_pool_take(&p), 2);   /* last freed first */
	assert_int_equal(slot_pool_take(&p), 0);
	assert_int_equal(slot_pool_take(&p), 3);   /* then a fresh one */
	assert_int_equal(slot_pool_take(&p), SLOT_NONE);
	assert_int_equal(p.out, 4);
	assert_int_equal(p.peak, 4);
	slot_pool_give(&p, 1);
	assert_int_equal(p.out, 3);
	assert_int_equal(p.peak, 4);
	assert_ptr_equal(slot_pool_at(&p, 3), storage + 16 + 3 * 64);
}

static size_t resident_pages(const void *addr, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t n = (len + (size_t)page - 1) / (size_t)page, count = 0;
	unsigned char *vec = (unsigned char *)malloc(n);
	assert_non_null(vec);
	assert_int_equal(mincore((void *)addr, len, vec), 0);
	for (size_t i = 0; i < n; i++)
		count += vec[i] & 1;
	free(vec);
	return count;
}

#define CALLS 1000
#define SLOTS 8

static void test_slot_pool_paced_calls_touch_a_few_pages(void **state)
{
	static struct ring r[CALLS];
	static uint32_t order[CALLS][SLOTS];
	struct slot_pool p;
	char err[256];
	uint8_t frame[960];
	(void)state;

	/* the server's shape: a full ring for each of 1,000 calls, 8.6 MiB reserved */
	assert_int_equal(slot_pool_map(&p, CALLS * (SLOTS + 1), ring_slot_stride(960), err, sizeof err), 0);
	assert_true(p.map_bytes >= (size_t)CALLS * (SLOTS + 1) * 984);
	assert_int_equal(resident_pages(p.map, p.map_bytes), 0);
	for (int c = 0; c < CALLS; c++)
		assert_int_equal(ring_attach(&r[c], &p, order[c], SLOTS, 960), 0);
	/* 200 rounds of: 50 calls' frames arrive in one event-loop pass, then
	 * the pass's end sends them (1,000 calls at 50 frames a second) */
	memset(frame, 0x55, sizeof frame);
	for (int round = 0; round < 200; round++) {
		int first = (round * 50) % CALLS;
		for (int c = first; c < first + 50; c++) {
			assert_int_equal(ring_rx_append(&r[c], frame, sizeof frame), 0);
			ring_rx_commit(&r[c]);
		}
		for (int c = first; c < first + 50; c++) {
			assert_non_null(ring_peek(&r[c]));
			ring_pop(&r[c]);
		}
	}
	assert_int_equal(p.out, 0);
	assert_int_equal(p.peak, 50);
	/* 50 slots of 984 bytes: 13 pages of slots plus the stack's first page,
	 * where a ring with slots of its own would have made 1,000 x 984 bytes
	 * (241 pages) resident */
	size_t pages = resident_pages(p.map, p.map_bytes);
	print_message("resident: %zu pages of %zu\n", pages, (p.map_bytes + 4095) / 4096);
	assert_true(pages <= 15);
	assert_true(pages >= 13);

	/* one call's reader stalls: its whole ring is there, the others go on */
	for (int i = 0; i < SLOTS * 2; i++) {
		assert_int_equal(ring_rx_append(&r[7], frame, sizeof frame), 0);
		ring_rx_commit(&r[7]);
	}
	assert_int_equal(ring_count(&r[7]), SLOTS);
	assert_int_equal(r[7].dropped, SLOTS);
	for (int c = 0; c < CALLS; c++)
		ring_detach(&r[c]);
	assert_int_equal(p.out, 0);
	slot_pool_unmap(&p);
	assert_null(p.map);
	slot_pool_unmap(&p);   /* twice is harmless */
}

static void test_slot_pool_map_refuses_what_cannot_fit(void **state)
{
	struct slot_pool p;
	char err[256] = "";
	(void)state;

	assert_int_equal(slot_pool_map(&p, 0, 984, err, sizeof err), -1);
	assert_non_null(strstr(err, "address space"));
	assert_int_equal(slot_pool_map(&p, UINT32_MAX - 1, SIZE_MAX / 8, err, sizeof err), -1);
	assert_null(p.map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_pool_storage_size),
		cmocka_unit_test(test_slot_pool_take_fresh_then_last_freed_first),
		cmocka_unit_test(test_slot_pool_paced_calls_touch_a_few_pages),
		cmocka_unit_test(test_slot_pool_map_refuses_what_cannot_fit),
	};
	return cmocka_run_group_tests_name("slot_pool", tests, NULL, NULL);
}
