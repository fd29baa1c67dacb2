/*
 * test_addr.cpp -- unit tests for src/addr.cpp: parsing, CIDR matching, the
 * loopback rule and formatting, for both address families.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <string.h>

#include "addr.h"

static struct addr A(const char *s)
{
	struct addr a;
	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static int in(const char *cidr, const char *a)
{
	struct cidr c;
	assert_int_equal(cidr_parse(cidr, &c), 0);
	struct addr x = A(a);
	return cidr_match(&c, &x);
}

static void test_addr_parse_both_families(void **state)
{
	struct addr a;
	(void)state;
	assert_int_equal(addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(a.b[10], 0xff);
	assert_int_equal(a.b[11], 0xff);
	assert_int_equal(a.b[12], 192);
	assert_int_equal(a.b[15], 1);
	assert_int_equal(addr_parse("2001:db8::1", &a), 0);
	assert_int_equal(a.b[0], 0x20);
	assert_int_equal(a.b[15], 1);
	/* lws reports IPv4 peers of a dual-stack socket in mapped form: the same key */
	struct addr m = A("::ffff:192.0.2.1"), v4 = A("192.0.2.1");
	assert_memory_equal(m.b, v4.b, 16);
}

static void test_addr_parse_rejects_junk(void **state)
{
	struct addr a;
	(void)state;
	const char *bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "example.com", "::g",
			      "1.2.3.4/8", "01.2.3.4x" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(addr_parse(bad[i], &a), -1);
	assert_int_equal(addr_parse(NULL, &a), -1);
}

static void test_addr_parse_n_trims_and_bounds(void **state)
{
	struct addr a;
	(void)state;
	const char s[] = "  203.0.113.9 ,junk";
	assert_int_equal(addr_parse_n(s, 14, &a), 0);
	assert_int_equal(addr_parse_n(s, 15, &a), -1);   /* the comma is not part of an address */
	struct addr want = A("203.0.113.9");
	assert_memory_equal(a.b, want.b, 16);
	assert_int_equal(addr_parse_n(s, 0, &a), -1);
	assert_int_equal(addr_parse_n("   ", 3, &a), -1);
	char longs[80];
	memset(longs, '1', sizeof longs);
	assert_int_equal(addr_parse_n(longs, sizeof longs, &a), -1);
}

static void test_cidr_match_v4(void **state)
{
	(void)state;
	assert_true(in("10.0.0.0/8", "10.255.1.2"));
	assert_false(in("10.0.0.0/8", "11.0.0.1"));
	assert_true(in("192.0.2.128/25", "192.0.2.200"));
	assert_false(in("192.0.2.128/25", "192.0.2.127"));
	assert_true(in("192.0.2.7", "192.0.2.7"));     /* bare address = /32 */
	assert_false(in("192.0.2.7", "192.0.2.8"));
	assert_true(in("0.0.0.0/0", "198.51.100.1"));  /* every IPv4 ... */
	assert_false(in("0.0.0.0/0", "2001:db8::1")); /* ... but no IPv6 */
	assert_true(in("10.1.2.3/8", "10.9.9.9"));     /* host bits are masked away */
}

static void test_cidr_match_v6(void **state)
{
	(void)state;
	assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(in("2001:db8::/32", "2001:db9::1"));
	assert_true(in("::1", "::1"));
	assert_false(in("::1", "::2"));
	assert_true(in("2001:db8::/33", "2001:db8:7fff::"));
	assert_false(in("2001:db8::/33", "2001:db8:8000::"));
	assert_true(in("::/0", "192.0.2.1"));   /* mapped IPv4 is inside ::/0 */
}

static void test_cidr_parse_rejects_bad_prefixes(void **state)
{
	struct cidr c;
	(void)state;
	const char *bad[] = { "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/x", "2001:db8::/129",
			      "10.0.0.0/8/8", "/8", "10.0.0.0/ 8", "10.0.0.0/8 " };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(cidr_parse(bad[i], &c), -1);
	assert_int_equal(cidr_parse(NULL, &c), -1);
	assert_int_equal(cidr_parse("10.0.0.0/32", &c), 0);
	assert_int_equal(c.bits, 128);
}

static void test_cidr_list_match(void **state)
{
	struct cidr list[2];
	(void)state;
	assert_int_equal(cidr_parse("10.0.0.0/8", &list[0]), 0);
	assert_int_equal(cidr_parse("2001:db8::/32", &list[1]), 0);
	struct addr a = A("2001:db8::5"), b = A("10.2.3.4"), c = A("172.16.0.1");
	assert_true(cidr_list_match(list, 2, &a));
	assert_true(cidr_list_match(list, 2, &b));
	assert_false(cidr_list_match(list, 2, &c));
	assert_false(cidr_list_match(list, 0, &b));
}

static void test_addr_is_loopback(void **state)
{
	(void)state;
	struct addr l1 = A("127.0.0.1"), l2 = A("127.255.0.9"), l3 = A("::1"), n1 = A("128.0.0.1"),
		    n2 = A("::2"), n3 = A("10.0.0.1"), n4 = A("::ffff:127.0.0.1");
	assert_true(addr_is_loopback(&l1));
	assert_true(addr_is_loopback(&l2));
	assert_true(addr_is_loopback(&l3));
	assert_true(addr_is_loopback(&n4));
	assert_false(addr_is_loopback(&n1));
	assert_false(addr_is_loopback(&n2));
	assert_false(addr_is_loopback(&n3));
}

static void test_addr_format(void **state)
{
	char buf[ADDR_STR_MAX];
	(void)state;
	struct addr a = A("::ffff:198.51.100.7");
	addr_format(&a, buf, sizeof buf);
	assert_string_equal(buf, "198.51.100.7");
	a = A("2001:db8::1");
	addr_format(&a, buf, sizeof buf);
	assert_string_equal(buf, "2001:db8::1");
	char tiny[4];
	addr_format(&a, tiny, sizeof tiny);   /* too small: a marker, never an overrun */
	assert_string_equal(tiny, "?");
}

static void test_cidr_format_and_equal(void **state)
{
	char buf[CIDR_STR_MAX];
	struct cidr a, b;
	(void)state;
	static const struct { const char *in, *out; } cases[] = {
		{ "192.0.2.77/24", "192.0.2.0/24" }, { "192.0.2.7", "192.0.2.7/32" }, { "0.0.0.0/0", "0.0.0.0/0" },
		{ "2001:db8::1", "2001:db8::1/128" }, { "2001:db8:ffff::/32", "2001:db8::/32" },
		{ "::ffff:10.1.2.3/120", "10.1.2.0/24" }, { "::/0", "::/0" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(cidr_parse(cases[i].in, &a), 0);
		cidr_format(&a, buf, sizeof buf);
		assert_string_equal(buf, cases[i].out);
		assert_int_equal(cidr_parse(buf, &b), 0);   /* round trip */
		assert_true(cidr_equal(&a, &b));
	}
	assert_int_equal(cidr_parse("192.0.2.0/24", &a), 0);
	assert_int_equal(cidr_parse("192.0.2.0/25", &b), 0);
	assert_false(cidr_equal(&a, &b));
	assert_int_equal(cidr_parse("192.0.3.0/24", &b), 0);
	assert_false(cidr_equal(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse_both_families),
		cmocka_unit_test(test_addr_parse_rejects_junk),
		cmocka_unit_test(test_addr_parse_n_trims_and_bounds),
		cmocka_unit_test(test_cidr_match_v4),
		cmocka_unit_test(test_cidr_match_v6),
		cmocka_unit_test(test_cidr_parse_rejects_bad_prefixes),
		cmocka_unit_test(test_cidr_list_match),
		cmocka_unit_test(test_addr_is_loopback),
		cmocka_unit_test(test_addr_format),
		cmocka_unit_test(test_cidr_format_and_equal),
	};
	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
