/*
 * test_replay.cpp -- unit tests for src/replay.cpp: a jti is accepted once
 * until it expires, the table reuses expired slots, it fails closed when a
 * window is full of live entries -- and it is never full at its design
 * load: tables sized by replay_size() are filled to that load with random
 * jtis and random expiries, then run through several lifetimes of steady
 * arrivals, without one REPLAY_FULL. Also: the sizes the defaults give, a
 * table of any size (not a power of two), live entries moved into a bigger
 * table by their hashes alone, and a big table staying out of memory until
 * it is used.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "replay.h"

#define NOW 1700000000L

static int setup(void **state)
{
	struct replay *r = replay_create(REPLAY_SLOTS_MIN);
	if (!r)
		return -1;
	replay_init(r, 42);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	replay_destroy((struct replay *)*state);
	return 0;
}

static enum replay_result put(struct replay *r, const char *jti, time_t now, time_t exp)
{
	return replay_check_insert(r, jti, strlen(jti), now, exp);
}

/* xorshift64*: the same "random" jtis on every run */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* a UUID-shaped jti, as Vonage sends */
static void random_jti(uint64_t *s, char out[37])
{
	uint64_t a = rnd(s), b = rnd(s);
	snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
		 (unsigned)a & 0xfff, (unsigned)(b >> 48) | 0x8000, (unsigned long long)b & 0xffffffffffffull);
}

static void test_replay_second_use_refused(void **state)
{
	struct replay *r = (struct replay *)*state;
	assert_int_equal(put(r, "0f4ecb40-6e31-4cf7-9a0c-4ad7f2e5c2d1", NOW, NOW + 330), REPLAY_NEW);
	assert_int_equal(put(r, "0f4ecb40-6e31-4cf7-9a0c-4ad7f2e5c2d1", NOW + 1, NOW + 331), REPLAY_SEEN);
	assert_int_equal(put(r, "0f4ecb40-6e31-4cf7-9a0c-4ad7f2e5c2d2", NOW + 1, NOW + 331), REPLAY_NEW);
	/* only len bytes count */
	assert_int_equal(replay_check_insert(r, "abcdef", 3, NOW, NOW + 10), REPLAY_NEW);
	assert_int_equal(put(r, "abc", NOW, NOW + 10), REPLAY_SEEN);
	assert_int_equal(r->live, 3u);
}

static void test_replay_forgets_after_expiry(void **state)
{
	struct replay *r = (struct replay *)*state;
	assert_int_equal(put(r, "j", NOW, NOW + 300), REPLAY_NEW);
	assert_int_equal(put(r, "j", NOW + 300, NOW + 600), REPLAY_SEEN);   /* still live at the edge */
	assert_int_equal(put(r, "j", NOW + 301, NOW + 601), REPLAY_NEW);    /* the age check guards it now */
}

static void test_replay_many_distinct_tokens(void **state)
{
	struct replay *r = (struct replay *)*state;
	char jti[64];
	int n = (int)r->slots / REPLAY_LOAD_SPREAD;
	/* the design load of live tokens: every one is new, then every one is seen */
	for (int i = 0; i < n; i++) {
		snprintf(jti, sizeof jti, "jti-%d", i);
		assert_int_equal(put(r, jti, NOW, NOW + 300), REPLAY_NEW);
	}
	for (int i = 0; i < n; i++) {
		snprintf(jti, sizeof jti, "jti-%d", i);
		assert_int_equal(put(r, jti, NOW + 10, NOW + 310), REPLAY_SEEN);
	}
	/* once they expire the same slots take a new generation */
	for (int i = 0; i < n; i++) {
		snprintf(jti, sizeof jti, "new-%d", i);
		assert_int_equal(put(r, jti, NOW + 400, NOW + 700), REPLAY_NEW);
	}
	assert_true(r->live <= r->slots);
}

static void test_replay_full_fails_closed(void **state)
{
	struct replay *r = (struct replay *)*state;
	char jti[64];
	int full = 0, i;
	/* far past the design load (up to four tokens a slot): a window fills */
	for (i = 0; i < 4 * (int)r->slots && !full; i++) {
		snprintf(jti, sizeof jti, "flood-%d", i);
		enum replay_result res = put(r, jti, NOW, NOW + 300);
		assert_true(res == REPLAY_NEW || res == REPLAY_FULL);
		full = res == REPLAY_FULL;
	}
	assert_true(full);
	/* a full window never forgets a live token to make room */
	for (int k = 0; k < i - 1; k++) {
		snprintf(jti, sizeof jti, "flood-%d", k);
		assert_int_not_equal(put(r, jti, NOW, NOW + 300), REPLAY_NEW);
	}
}

static void test_replay_size_from_the_configuration(void **state)
{
	(void)state;
	struct replay_sizing z;

	/* the defaults: --max-calls 2000 of three minutes = 12 calls/s, socket
	 * only, 300 + 30 s */
	assert_int_equal(replay_size(12, REPLAY_TOKENS_SOCKET, 330, &z), 0);
	assert_int_equal(z.live, 3960);
	assert_int_equal(z.slots, 31744);   /* 3960 x 8, to whole KiB */
	assert_int_equal(z.bytes, sizeof(struct replay) + 31744 * 12);
	/* ... with --verify-webhooks: the 22,000 live tokens and more */
	assert_int_equal(replay_size(12, REPLAY_TOKENS_SOCKET + REPLAY_TOKENS_WEBHOOKS, 330, &z), 0);
	assert_int_equal(z.live, 23760);
	assert_int_equal(z.slots, 190464);
	assert_true(z.bytes < 2400000);   /* 2.2 MiB, resident only as used */
	/* never below the old fixed size */
	assert_int_equal(replay_size(1, 1, 1, &z), 0);
	assert_int_equal(z.slots, REPLAY_SLOTS_MIN);
	/* past the bound: refused, and how much it would have been is said */
	assert_int_equal(replay_size(556, 6, 86430, &z), -1);   /* 100,000 calls, webhooks, a day's tokens */
	assert_true(z.slots > REPLAY_SLOTS_MAX);
	assert_int_equal(replay_size(556, 1, 86400, &z), 0);    /* ... without webhooks: 4.3 GiB */
	assert_int_equal(replay_size(100000, 6, 86700, &z), -1);   /* no 32-bit overflow */
	assert_int_equal(z.live, 100000ull * 6 * 86700);
}

/*
 * A table of `slots` at `live` tokens: first filled at once with random
 * jtis whose expiries are spread over the lifetime (a table met mid-way),
 * then `lifetimes` lifetimes of steady arrivals, each token kept for the
 * lifetime. Returns the REPLAY_FULL answers.
 */
static long run_load(uint32_t slots, uint64_t live, uint32_t lifetime, int lifetimes, uint64_t seed)
{
	struct replay *r = replay_create(slots);
	uint64_t s = seed;
	char jti[37];
	long full = 0;
	time_t now = NOW;

	assert_non_null(r);
	replay_init(r, rnd(&s));
	for (uint64_t i = 0; i < live; i++) {
		random_jti(&s, jti);
		time_t exp = now + 1 + (time_t)(rnd(&s) % lifetime);
		full += put(r, jti, now, exp) == REPLAY_FULL;
	}
	/* live / lifetime arrivals a second, fractions carried */
	uint64_t acc = 0;
	for (uint32_t t = 0; t < lifetime * (uint32_t)lifetimes; t++, now++) {
		acc += live;
		for (; acc >= lifetime; acc -= lifetime) {
			random_jti(&s, jti);
			enum replay_result res = put(r, jti, now, now + lifetime);
			assert_int_not_equal(res, REPLAY_SEEN);   /* 128 random bits never repeat */
			full += res == REPLAY_FULL;
		}
	}
	replay_destroy(r);
	return full;
}

static void test_replay_design_load_is_never_full(void **state)
{
	(void)state;
	struct replay_sizing z;

	/* the defaults with --verify-webhooks, as replay_size() makes them */
	assert_int_equal(replay_size(12, 6, 330, &z), 0);
	assert_int_equal(run_load((uint32_t)z.slots, z.live, 330, 4, 1), 0);
	/* the tightest case: exactly REPLAY_LOAD_SPREAD slots a token, no
	 * rounding slack, a million slots, six lifetimes: ~920,000 tokens */
	assert_int_equal(run_load(1u << 20, (1u << 20) / REPLAY_LOAD_SPREAD, 330, 6, 2), 0);
	/* a short lifetime (--jwt-max-age 5), many generations */
	assert_int_equal(run_load(REPLAY_SLOTS_MIN, REPLAY_SLOTS_MIN / REPLAY_LOAD_SPREAD, 5, 200, 3), 0);
	/* the margin: at twice the design load still none */
	assert_int_equal(run_load(1u << 18, (1u << 18) / (REPLAY_LOAD_SPREAD / 2), 330, 3, 4), 0);
}

static void test_replay_any_size_and_copied_by_hash(void **state)
{
	(void)state;
	struct replay *small = replay_create(REPLAY_SLOTS_MIN + 1024);   /* not a power of two */
	struct replay *big = replay_create(REPLAY_SLOTS_MIN * 5);
	char jti[64];

	assert_non_null(small);
	assert_non_null(big);
	replay_init(small, 7);
	replay_init(big, 7);   /* the seed goes with the entries */
	/* up to its limit, so windows wrap round the end */
	int n = 0;
	for (int i = 0; i < 3 * (int)small->slots; i++) {
		snprintf(jti, sizeof jti, "tok-%d", i);
		if (put(small, jti, NOW, i % 2 ? NOW + 300 : NOW + 50) == REPLAY_NEW)
			n++;
	}
	assert_true(n > (int)small->slots / 2);
	/* at NOW + 100 only the odd ones live */
	long copied = replay_copy_live(big, small, NOW + 100);
	assert_true(copied > 0);
	assert_int_equal(big->live, (uint32_t)copied);
	long seen = 0;
	for (int i = 0; i < 3 * (int)small->slots; i++) {
		snprintf(jti, sizeof jti, "tok-%d", i);
		enum replay_result in_small = put(small, jti, NOW + 100, NOW + 300);
		enum replay_result in_big = put(big, jti, NOW + 100, NOW + 300);
		if (i % 2 && in_small == REPLAY_SEEN) {
			assert_int_equal(in_big, REPLAY_SEEN);   /* every live token moved */
			seen++;
		}
		if (!(i % 2))
			assert_int_not_equal(in_big, REPLAY_SEEN);   /* expired ones did not */
	}
	assert_int_equal(seen, copied);
	replay_destroy(small);
	replay_destroy(big);
}

static void test_replay_big_table_costs_nothing_until_used(void **state)
{
	(void)state;
	uint32_t slots = 1u << 26;   /* 768 MiB reserved */
	struct replay *r = replay_create(slots);
	size_t len = replay_bytes(slots), page = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (len + page - 1) / page, resident = 0;
	unsigned char *vec = (unsigned char *)malloc(pages);

	assert_non_null(r);
	assert_non_null(vec);
	replay_init(r, 9);
	for (int i = 0; i < 100; i++) {
		char jti[16];
		snprintf(jti, sizeof jti, "t%d", i);
		assert_int_equal(put(r, jti, NOW, NOW + 300), REPLAY_NEW);
	}
	assert_int_equal(mincore(r, len, vec), 0);
	for (size_t i = 0; i < pages; i++)
		resident += vec[i] & 1;
	/* the header's page and, per entry, the pages its window of hashes and
	 * of expiries lies in (two each where a window straddles a page end) */
	printf("  %zu of %zu pages resident after 100 tokens\n", resident, pages);
	assert_true(resident <= 1 + 4 * 100);
	free(vec);
	replay_destroy(r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_replay_second_use_refused),
		T(test_replay_forgets_after_expiry),
		T(test_replay_many_distinct_tokens),
		T(test_replay_full_fails_closed),
		cmocka_unit_test(test_replay_size_from_the_configuration),
		cmocka_unit_test(test_replay_design_load_is_never_full),
		cmocka_unit_test(test_replay_any_size_and_copied_by_hash),
		cmocka_unit_test(test_replay_big_table_costs_nothing_until_used),
	};
	return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
