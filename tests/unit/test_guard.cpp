/*
 * test_guard.cpp -- unit tests for src/guard.cpp: the per-address token
 * bucket, the open-call cap, the exempt list and the fixed table under a
 * flood of distinct addresses (it must evict idle entries, never the ones
 * with open calls, and never grow).
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

#include "guard.h"

#define T0 1000000ull   /* ms */

static struct addr A(const char *s)
{
	struct addr a;
	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

/* A distinct address for every i (2001:db8::<i>). */
static struct addr nth(uint32_t i)
{
	struct addr a = A("2001:db8::");
	a.b[12] = (uint8_t)(i >> 24);
	a.b[13] = (uint8_t)(i >> 16);
	a.b[14] = (uint8_t)(i >> 8);
	a.b[15] = (uint8_t)i;
	return a;
}

static int setup(void **state)
{
	struct guard *g = (struct guard *)calloc(1, sizeof *g);
	*state = g;
	return g ? 0 : -1;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void init_p(struct guard *g, uint32_t calls, uint32_t rate, uint32_t burst, uint32_t pending,
		   const struct cidr *ex, int nex)
{
	struct guard_cfg c = { calls, rate, burst, pending, ex, nex };
	memset(g, 0, sizeof *g);   /* guard_init wants fresh zeroed memory */
	guard_init(g, &c, 0x1234, T0);
}

static void init(struct guard *g, uint32_t calls, uint32_t rate, uint32_t burst, const struct cidr *ex, int nex)
{
	struct guard_cfg c = { calls, rate, burst, 0, ex, nex };
	memset(g, 0, sizeof *g);
	guard_init(g, &c, 0x1234, T0);
}

static void test_guard_bucket_burst_then_rate(void **state)
{
	struct guard *g = (struct guard *)*state;
	struct addr a = A("198.51.100.1"), b = A("198.51.100.2");
	init(g, 0, 10, 5, NULL, 0);

	for (int i = 0; i < 5; i++)
		assert_int_equal(guard_handshake(g, &a, T0), GUARD_OK);
	assert_int_equal(guard_handshake(g, &a, T0), GUARD_RATE);
	/* another address has its own bucket */
	assert_int_equal(guard_handshake(g, &b, T0), GUARD_OK);
	/* 10 per second: one token back after 100 ms, not after 99 */
	assert_int_equal(guard_handshake(g, &a, T0 + 99), GUARD_RATE);
	assert_int_equal(guard_handshake(g, &a, T0 + 100), GUARD_OK);
	assert_int_equal(guard_handshake(g, &a, T0 + 100), GUARD_RATE);
	/* a long pause refills only up to the burst */
	for (int i = 0; i < 5; i++)
		assert_int_equal(guard_handshake(g, &a, T0 + 60000), GUARD_OK);
	assert_int_equal(guard_handshake(g, &a, T0 + 60000), GUARD_RATE);
}

static void test_guard_refused_attempts_cost_nothing_extra(void **state)
{
	struct guard *g = (struct guard *)*state;
	struct addr a = A("198.51.100.1");
	init(g, 0, 1, 1, NULL, 0);

	assert_int_equal(guard_handshake(g, &a, T0), GUARD_OK);
	/* hammering while empty does not push the next token further away */
	for (int i = 1; i < 1000; i++)
		assert_int_equal(guard_handshake(g, &a, T0 + (uint64_t)i), GUARD_RATE);
	assert_int_equal(guard_handshake(g, &a, T0 + 1000), GUARD_OK);
}

static void test_guard_call_cap(void **state)
{
	struct guard *g = (struct guard *)*state;
	struct addr a = A("203.0.113.5"), b = A("203.0.113.6");
	init(g, 2, 0, 1, NULL, 0);

	for (int i = 0; i < 2; i++) {
		assert_int_equal(guard_handshake(g, &a, T0), GUARD_OK);
		guard_call_open(g, &a);
	}
	assert_int_equal(guard_calls(g, &a), 2);
	assert_int_equal(guard_handshake(g, &a, T0), GUARD_CALLS);
	assert_int_equal(guard_handshake(g, &b, T0), GUARD_OK);
	guard_call_close(g, &a);
	assert_int_equal(guard_calls(g, &a), 1);
	assert_int_equal(guard_handshake(g, &a, T0), GUARD_OK);
	/* closing more than was opened never underflows */
	guard_call_close(g, &a);
	guard_call_close(g, &a);
	guard_call_close(g, &a);
	assert_int_equal(guard_calls(g, &a), 0);
}

static void test_guard_exempt_list(void **state)
{
	struct guard *g = (struct guard *)*state;
	struct cidr ex;
	assert_int_equal(cidr_parse("10.0.0.0/8", &ex), 0);
	init(g, 1, 1, 1, &ex, 1);
	struct addr media = A("10.1.2.3"), other = A("11.1.2.3");

	for (int i = 0; i < 100; i++) {
		assert_int_equal(guard_handshake(g, &media, T0), GUARD_OK);
		guard_call_open(g, &media);
	}
	assert_int_equal(guard_calls(g, &media), 0);   /* not even tracked */
	assert_int_equal(g->entries, 0u);
	assert_int_equal(guard_handshake(g, &other, T0), GUARD_OK);
	assert_int_equal(guard_handshake(g, &other, T0), GUARD_RATE);
}

static void test_guard_off_tracks_nothing(void **state)
{
	struct guard *g = (struct guard *)*state;
	struct addr a = A("198.51.100.1");
	init(g, 0, 0, 1, NULL, 0);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(guard_handshake(g, &a, T0), GUARD_OK);
		guard_call_open(g, &a);
	}
	assert_int_equal(g->entries, 0u);
}

/*
 * A flood from 100,000 addresses: the table stays at its fixed size, every
 * address still gets its first handshake (idle entries are recycled), and
 * the entries holding open calls survive with their counts.
 */
static void test_guard_flood_of_addresses_evicts_idle_only(void **state)
{
	struct guard *g = (struct guard *)*state;
	init(g, 3, 1, 1, NULL, 0);

	struct addr busy[64];
	for (uint32_t i = 0; i < 64; i++) {
		busy[i] = nth(0x10000000u + i);
		assert_int_equal(guard_handshake(g, &busy[i], T0), GUARD_OK);
		guard_call_open(g, &busy[i]);
	}
	for (uint32_t i = 0; i < 100000; i++) {
		struct addr a = nth(i);
		assert_int_equal(guard_handshake(g, &a, T0 + i), GUARD_OK);
	}
	assert_true(g->entries <= GUARD_TABLE_SIZE);
	/* every address past the table's size took an idle entry, and that is counted
	 * (/stats.json security.clients_evicted: their strikes went with them) */
	assert_int_equal(g->evicted, 100000 + 64 - g->entries);
	for (int i = 0; i < 64; i++)
		assert_int_equal(guard_calls(g, &busy[i]), 1);
	/* and the busy addresses' buckets were not reset by the flood */
	assert_int_equal(guard_handshake(g, &busy[0], T0 + 100000), GUARD_OK);
}

/* When every slot of an address's window holds open calls, it is refused, not tracked half-way. */
static void test_guard_full_window_refuses(void **state)
{
	struct guard *g = (struct guard *)*state;
	init(g, 1000, 0, 1, NULL, 0);

	uint32_t opened = 0;
	for (uint32_t i = 0; opened < GUARD_TABLE_SIZE && i < 10 * GUARD_TABLE_SIZE; i++) {
		struct addr a = nth(i);
		if (guard_handshake(g, &a, T0) == GUARD_OK) {
			guard_call_open(g, &a);
			opened++;
		}
	}
	assert_int_equal(g->entries, GUARD_TABLE_SIZE);
	struct addr late = nth(0x7fffffff);
	assert_int_equal(guard_handshake(g, &late, T0), GUARD_FULL);
}

static void test_guard_pending_connections(void **state)
{
	struct guard *g = (struct guard *)*state;
	struct addr a = A("198.51.100.9"), b = A("198.51.100.10");
	uint32_t s[3], sb, sx;
	init_p(g, 0, 0, 1, 2, NULL, 0);

	assert_int_equal(guard_conn_open(g, &a, T0, &s[0]), GUARD_OK);
	assert_int_equal(guard_conn_open(g, &a, T0, &s[1]), GUARD_OK);
	assert_int_equal(s[0], s[1]);   /* one entry per address */
	assert_int_equal(guard_conn_open(g, &a, T0, &s[2]), GUARD_CONNS);
	assert_int_equal(s[2], GUARD_NO_SLOT);
	assert_int_equal(guard_conn_open(g, &b, T0, &sb), GUARD_OK);
	/* one of a's connections becomes a call (or closes): room for another */
	guard_conn_done(g, s[0]);
	assert_int_equal(guard_conn_open(g, &a, T0, &s[2]), GUARD_OK);
	assert_int_equal(guard_conn_open(g, &a, T0, &sx), GUARD_CONNS);
	/* releases never underflow; a no-slot release is ignored */
	for (int i = 0; i < 5; i++)
		guard_conn_done(g, s[1]);
	guard_conn_done(g, GUARD_NO_SLOT);
	guard_conn_done(g, GUARD_TABLE_SIZE);
	assert_int_equal(guard_conn_open(g, &a, T0, &sx), GUARD_OK);
	assert_int_equal(guard_conn_open(g, &a, T0, &sx), GUARD_OK);
	assert_int_equal(guard_conn_open(g, &a, T0, &sx), GUARD_CONNS);
}

static void test_guard_pending_exempt_and_off(void **state)
{
	struct guard *g = (struct guard *)*state;
	struct cidr ex;
	struct addr a = A("10.9.9.9"), b = A("192.0.2.50");
	uint32_t s;
	assert_int_equal(cidr_parse("10.0.0.0/8", &ex), 0);
	init_p(g, 0, 0, 1, 1, &ex, 1);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(guard_conn_open(g, &a, T0, &s), GUARD_OK);
		assert_int_equal(s, GUARD_NO_SLOT);
	}
	init_p(g, 0, 0, 1, 0, NULL, 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(guard_conn_open(g, &b, T0, &s), GUARD_OK);
	assert_int_equal(g->entries, 0u);
}

/* Entries holding pending connections survive an address flood too. */
static void test_guard_pending_not_evicted(void **state)
{
	struct guard *g = (struct guard *)*state;
	struct addr a = nth(0x20000000u);
	uint32_t s, sx;
	init_p(g, 0, 1, 1, 1, NULL, 0);
	assert_int_equal(guard_conn_open(g, &a, T0, &s), GUARD_OK);
	for (uint32_t i = 0; i < 50000; i++) {
		struct addr x = nth(i);
		assert_int_equal(guard_handshake(g, &x, T0 + i), GUARD_OK);
	}
	assert_int_equal(guard_conn_open(g, &a, T0, &sx), GUARD_CONNS);   /* still counted */
	guard_conn_done(g, s);
	assert_int_equal(guard_conn_open(g, &a, T0, &sx), GUARD_OK);
}

static void test_guard_strikes(void **state)
{
	struct guard *g = (struct guard *)*state;
	struct addr a = A("203.0.113.1"), b = A("203.0.113.2"), ex = A("198.51.100.9");
	struct cidr exempt;
	assert_int_equal(cidr_parse("198.51.100.0/24", &exempt), 0);
	init_p(g, 0, 0, 1, 0, &exempt, 1);   /* strikes count even with every limit off */

	for (uint32_t i = 1; i <= 5; i++)
		assert_int_equal(guard_strike(g, &a, T0 + i, 1000), i);
	assert_int_equal(guard_strike(g, &b, T0 + 10, 1000), 1);   /* per address */
	/* the window starts at the first strike; past it, counting restarts */
	assert_int_equal(guard_strike(g, &a, T0 + 1002, 1000), 1);
	assert_int_equal(guard_strike(g, &a, T0 + 1500, 1000), 2);
	guard_strikes_clear(g, &a);
	assert_int_equal(guard_strike(g, &a, T0 + 1600, 1000), 1);
	assert_int_equal(guard_strike(g, &ex, T0, 1000), 0);       /* exempt: never */
	assert_int_equal(guard_strike(g, &ex, T0, 1000), 0);
}

static void init_v6(struct guard *g, uint8_t prefix)
{
	struct guard_cfg c = { 0, 0, 1, 0, NULL, 0, prefix };
	memset(g, 0, sizeof *g);
	guard_init(g, &c, 0x1234, T0);
}

static void test_guard_ipv6_client_is_its_prefix(void **state)
{
	struct guard *g = (struct guard *)*state;
	struct addr a = A("2001:db8:7:1::1"), b = A("2001:db8:7:1:ffff:ffff:ffff:ffff"), c = A("2001:db8:7:2::1");
	struct addr v4 = A("192.0.2.1"), v4b = A("192.0.2.2");

	init_v6(g, 64);
	for (int i = 0; i < 5; i++)
		guard_strike(g, i % 2 ? &a : &b, T0, 60000);
	assert_int_equal(guard_strike(g, &b, T0, 60000), 6);   /* one client: the /64 */
	assert_int_equal(guard_strike(g, &c, T0, 60000), 1);   /* the next /64 is another */
	assert_int_equal(guard_strike(g, &v4, T0, 60000), 1);  /* IPv4: the whole address */
	assert_int_equal(guard_strike(g, &v4b, T0, 60000), 1);
	struct cidr n = guard_client(g, &b);
	char s[CIDR_STR_MAX];
	cidr_format(&n, s, sizeof s);
	assert_string_equal(s, "2001:db8:7:1::/64");
	n = guard_client(g, &v4);
	cidr_format(&n, s, sizeof s);
	assert_string_equal(s, "192.0.2.1/32");
	/* other prefixes, and 0 = the whole address */
	init_v6(g, 48);
	n = guard_client(g, &c);
	cidr_format(&n, s, sizeof s);
	assert_string_equal(s, "2001:db8:7::/48");
	init_v6(g, 0);
	assert_int_equal(guard_strike(g, &a, T0, 60000), 1);
	assert_int_equal(guard_strike(g, &b, T0, 60000), 1);
	n = guard_client(g, &a);
	assert_int_equal(n.bits, 128);
	/* the per-address call cap is per client too */
	struct guard_cfg cc = { 2, 0, 1, 0, NULL, 0, 64 };
	memset(g, 0, sizeof *g);
	guard_init(g, &cc, 1, T0);
	assert_int_equal(guard_handshake(g, &a, T0), GUARD_OK);
	guard_call_open(g, &a);
	assert_int_equal(guard_handshake(g, &b, T0), GUARD_OK);
	guard_call_open(g, &b);
	assert_int_equal(guard_handshake(g, &b, T0), GUARD_CALLS);
	assert_int_equal(guard_calls(g, &a), 2);
}

static void test_guard_log_share(void **state)
{
	struct guard *g = (struct guard *)*state;
	struct addr a = A("203.0.113.1"), b = A("203.0.113.2");
	uint32_t dropped;

	init_v6(g, 64);
	for (int i = 0; i < GUARD_LOG_BURST; i++) {
		assert_int_equal(guard_log_allow(g, &a, T0, &dropped), 1);
		assert_int_equal(dropped, 0);
	}
	for (int i = 0; i < 7; i++)
		assert_int_equal(guard_log_allow(g, &a, T0 + 999, &dropped), 0);   /* a's share is spent */
	assert_int_equal(guard_log_allow(g, &b, T0 + 999, &dropped), 1);       /* b's is its own */
	assert_int_equal(dropped, 0);
	/* one line a second refills; the first written reports what was held back */
	assert_int_equal(guard_log_allow(g, &a, T0 + GUARD_LOG_EVERY_MS, &dropped), 1);
	assert_int_equal(dropped, 7);
	assert_int_equal(guard_log_allow(g, &a, T0 + GUARD_LOG_EVERY_MS, &dropped), 0);
	assert_int_equal(guard_log_allow(g, &a, T0 + 2 * GUARD_LOG_EVERY_MS + 1, &dropped), 1);
	assert_int_equal(dropped, 1);
	/* a long quiet spell refills to the burst, no more */
	int n = 0;
	while (guard_log_allow(g, &a, T0 + 3600000, &dropped))
		n++;
	assert_int_equal(n, GUARD_LOG_BURST);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_guard_bucket_burst_then_rate),
		T(test_guard_refused_attempts_cost_nothing_extra),
		T(test_guard_call_cap),
		T(test_guard_exempt_list),
		T(test_guard_off_tracks_nothing),
		T(test_guard_flood_of_addresses_evicts_idle_only),
		T(test_guard_full_window_refuses),
		T(test_guard_pending_connections),
		T(test_guard_pending_exempt_and_off),
		T(test_guard_pending_not_evicted),
		T(test_guard_strikes),
		T(test_guard_ipv6_client_is_its_prefix),
		T(test_guard_log_share),
	};
	return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
