/*
 * test_peer.cpp -- unit tests for src/peer.cpp peer_resolve: which address
 * a connection is from. The TCP peer, unless it is a trusted proxy that sent
 * X-Forwarded-For: then that header's right-most entry, or "unknown" (the
 * all-zero address, never loopback) when that entry is not an address or
 * the header is too long -- never the proxy's own address.
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

#include "peer.h"

static struct addr A(const char *s)
{
	struct addr a;
	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static const char *resolve(const char *tcp, const char *xff, const char *proxy)
{
	static char out[ADDR_STR_MAX];
	struct cidr c;
	struct addr t = A(tcp), a;
	assert_int_equal(cidr_parse(proxy, &c), 0);
	int r = peer_resolve(&t, xff, xff ? strlen(xff) : 0, &c, 1, &a);
	if (r) {
		static const struct addr zero = {};
		assert_memory_equal(&a, &zero, sizeof a);
		assert_false(addr_is_loopback(&a));
		return "unknown";
	}
	addr_format(&a, out, sizeof out);
	return out;
}

static void test_peer_not_a_proxy(void **state)
{
	(void)state;
	/* anyone can send the header: from a client it means nothing */
	assert_string_equal(resolve("198.51.100.7", "127.0.0.1", "127.0.0.1"), "198.51.100.7");
	assert_string_equal(resolve("198.51.100.7", NULL, "127.0.0.1"), "198.51.100.7");
	assert_string_equal(resolve("2001:db8::5", "garbage", "10.0.0.0/8"), "2001:db8::5");
}

static void test_peer_behind_the_proxy(void **state)
{
	(void)state;
	assert_string_equal(resolve("127.0.0.1", "203.0.113.9", "127.0.0.1"), "203.0.113.9");
	/* the right-most entry is the proxy's; what the client wrote left of it is not believed */
	assert_string_equal(resolve("127.0.0.1", "127.0.0.1, 203.0.113.9", "127.0.0.1"), "203.0.113.9");
	assert_string_equal(resolve("127.0.0.1", "6.6.6.6,  2001:db8::1 ", "127.0.0.0/8"), "2001:db8::1");
	assert_string_equal(resolve("::1", "::ffff:198.51.100.2", "::1"), "198.51.100.2");
	/* no header from the proxy: the proxy itself (its own requests, health checks) */
	assert_string_equal(resolve("127.0.0.1", NULL, "127.0.0.1"), "127.0.0.1");
}

static void test_peer_unusable_entry_is_unknown(void **state)
{
	(void)state;
	static const char *const bad[] = { "", "unknown", "203.0.113.9:4711", "[2001:db8::1]", "203.0.113.9, ",
					   "203.0.113.9,unknown", "a b", "203.0.113.999" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_string_equal(resolve("127.0.0.1", bad[i], "127.0.0.1"), "unknown");
	/* a header over PEER_XFF_MAX (what the server could not read whole) */
	size_t n = PEER_XFF_MAX + 1;
	char *big = (char *)malloc(n + 20);
	memset(big, 'a', n);
	strcpy(big + n, ",203.0.113.9");
	struct addr t = A("127.0.0.1"), a;
	struct cidr c;
	assert_int_equal(cidr_parse("127.0.0.1", &c), 0);
	assert_int_equal(peer_resolve(&t, big, strlen(big), &c, 1, &a), -1);
	/* just under it is read */
	size_t m = PEER_XFF_MAX - strlen(",203.0.113.9");
	strcpy(big + m, ",203.0.113.9");
	assert_int_equal(peer_resolve(&t, big, strlen(big), &c, 1, &a), 0);
	free(big);
}

static void test_peer_local_is_the_tcp_peer_unproxied(void **state)
{
	(void)state;
	struct addr a;
	assert_int_equal(addr_parse("127.0.0.1", &a), 0);
	assert_true(peer_is_local(&a, 0));
	assert_false(peer_is_local(&a, 1));   /* a local proxy passing someone else's request on */
	assert_int_equal(addr_parse("::1", &a), 0);
	assert_true(peer_is_local(&a, 0));
	assert_false(peer_is_local(&a, 1));
	assert_int_equal(addr_parse("::ffff:127.9.9.9", &a), 0);
	assert_true(peer_is_local(&a, 0));
	assert_int_equal(addr_parse("203.0.113.9", &a), 0);
	assert_false(peer_is_local(&a, 0));
	assert_false(peer_is_local(&a, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_local_is_the_tcp_peer_unproxied),
		cmocka_unit_test(test_peer_not_a_proxy),
		cmocka_unit_test(test_peer_behind_the_proxy),
		cmocka_unit_test(test_peer_unusable_entry_is_unknown),
	};
	return cmocka_run_group_tests_name("peer", tests, NULL, NULL);
}
