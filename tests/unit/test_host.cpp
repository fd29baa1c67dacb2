/*
 * test_host.cpp -- unit tests for src/host.cpp (authority and public-URL validation).
 *
 * host_validate() takes a length, because the Host header is not
 * NUL-terminated in lws' buffer: every table case is run twice, once from a
 * normal string and once copied to the very end of a page followed by a
 * PROT_NONE page (picohttpparser's trick), so reading past len crashes.
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

#include "host.h"

struct fixture {
	uint8_t *map;      /* two pages, the second PROT_NONE */
	size_t page;
	char base[512];
	int secure;
};

static int setup_host(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->page = (size_t)sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, 2 * f->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect((uint8_t *)m + f->page, f->page, PROT_NONE)) {
		free(f);
		return -1;
	}
	f->map = (uint8_t *)m;
	memset(f->base, 'Z', sizeof f->base);
	f->base[sizeof f->base - 1] = '\0';
	f->secure = 7;
	*state = f;
	return 0;
}

static int teardown_host(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	munmap(f->map, 2 * f->page);
	free(f);
	return 0;
}

/* host_validate on s[0..len), from a NUL-terminated copy and from the page end. */
static int validate_both(struct fixture *f, const char *s, size_t len)
{
	int a = host_validate(s, len);
	assert_true(len < f->page);
	char *at = (char *)f->map + f->page - len;
	memcpy(at, s, len);
	int b = host_validate(at, len);
	if (a != b)
		print_error("'%.*s': %d as a string, %d at the page end\n", (int)len, s, a, b);
	assert_int_equal(a, b);
	return a;
}

static void expect_valid(struct fixture *f, const char *s)
{
	int r = validate_both(f, s, strlen(s));
	if (r != 0)
		print_error("expected valid: '%s'\n", s);
	assert_int_equal(r, 0);
}

static void expect_invalid(struct fixture *f, const char *s, size_t len)
{
	int r = validate_both(f, s, len);
	if (r != -1)
		print_error("expected invalid: '%.*s'\n", (int)len, s);
	assert_int_equal(r, -1);
}

/* "aaa...a" labels joined by dots: total characters exactly `len`. */
static void make_name(char *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (i % 64 == 63) ? '.' : (char)('a' + i % 26);
	out[len] = '\0';
	if (len && out[len - 1] == '.')
		out[len - 1] = 'z';
}

/* --- host_validate ------------------------------------------------------ */

static void test_host_validate_accepts_names(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	expect_valid(f, "example.com");
	expect_valid(f, "a.b-c.d");
	expect_valid(f, "localhost");
	expect_valid(f, "example.com.");              /* fully qualified trailing dot */
	expect_valid(f, "EXAMPLE.Com");
	expect_valid(f, "a");
	expect_valid(f, "xn--bcher-kva.example");
	expect_valid(f, "1a.example");
	expect_valid(f, "a-1.b--c.d");
}

static void test_host_validate_accepts_ports(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	expect_valid(f, "example.com:8443");
	expect_valid(f, "example.com:1");
	expect_valid(f, "example.com:65535");
	expect_valid(f, "localhost:80");
	expect_valid(f, "example.com.:443");
}

static void test_host_validate_accepts_ip_literals(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	expect_valid(f, "127.0.0.1");
	expect_valid(f, "127.0.0.1:80");
	expect_valid(f, "[::1]");
	expect_valid(f, "[::1]:8080");
	expect_valid(f, "[2001:db8::1]");
	expect_valid(f, "[2001:DB8::a:1]:443");
	expect_valid(f, "[::ffff:192.0.2.1]:443");
}

static void test_host_validate_label_and_name_lengths(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char s[400];

	/* a 63-character label is fine, 64 is not */
	memset(s, 'a', 63);
	memcpy(s + 63, ".com", 5);
	expect_valid(f, s);
	memset(s, 'a', 64);
	memcpy(s + 64, ".com", 5);
	expect_invalid(f, s, strlen(s));
	/* 64-character label in the middle and at the end */
	snprintf(s, sizeof s, "www.%.*s.com", 64,
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	expect_invalid(f, s, strlen(s));
	snprintf(s, sizeof s, "www.%.*s", 64,
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	expect_invalid(f, s, strlen(s));
	/* 253 characters is the longest name; 254 is too long */
	make_name(s, 253);
	expect_valid(f, s);
	make_name(s, 254);
	expect_invalid(f, s, strlen(s));
	/* the longest name still fits with a trailing dot and the largest port */
	make_name(s, 253);
	strcat(s, ".:65535");
	expect_valid(f, s);
	/* a 249-character name with a port stays within HOST_MAX */
	make_name(s, 249);
	strcat(s, ":8443");
	assert_int_equal(strlen(s), 254);
	expect_valid(f, s);
	/* 300 characters */
	make_name(s, 300);
	expect_invalid(f, s, strlen(s));
	memset(s, 'a', 300);
	expect_invalid(f, s, 300);
}

static void test_host_validate_rejects_bad_names(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const char *const bad[] = {
		"exa mple.com", "evil.com/path", "user@host", "-bad.com", "bad-.com", "a\"b", "a\r\nb",
		".", "..", "a..b", ".example.com", "example.com..", "exa_mple.com", "a\\b", "a#b", "a?b",
		"a%2eb", "evil.com\\@good.com", "a<b>", "a'b", "example.com ", " example.com", "a\tb",
		"www.-x.com", "www.x-.com", "-", "evil.com/", "evil.com?", "evil.com#x", "\xc3\xa9xample.com",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_invalid(f, bad[i], strlen(bad[i]));
	/* NUL inside the length */
	expect_invalid(f, "ab\0cd", 5);
	expect_invalid(f, "ab.com\0", 7);
}

static void test_host_validate_rejects_bad_ports(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const char *const bad[] = {
		"host:", "host:0", "host:65536", "host:12a", "host:-1", "host:+80", "host:123456",
		"host:99999", "host:00000", "example.com:80:80", "host: 80", "host:80 ", ":80", "host:8080/",
		"::1", "host::80",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_invalid(f, bad[i], strlen(bad[i]));
}

static void test_host_validate_rejects_bad_ipv6(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const char *const bad[] = {
		"[::1", "[zz::1]", "[]", "[1]", "[::1]x", "[::1]:", "[::1]:0", "[::1]:65536", "[::1]:8a",
		"[::1]/x", "[::1]]", "[[::1]]", "[::1%eth0]", "[::1] ", "[1:2]", "[g::1]", "[::1]:80:80",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_invalid(f, bad[i], strlen(bad[i]));
}

static void test_host_validate_rejects_empty_and_null(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_int_equal(host_validate("", 0), -1);
	assert_int_equal(host_validate("example.com", 0), -1);
	assert_int_equal(host_validate(NULL, 0), -1);
	assert_int_equal(host_validate(NULL, 5), -1);
	/* only the first len bytes count */
	assert_int_equal(host_validate("example.com/path", 11), 0);
	assert_int_equal(host_validate("example.com:80", 12), -1);   /* "example.com:" */
	expect_valid(f, "ab");
}

static void test_host_validate_every_prefix_without_overread(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const char *const inputs[] = {
		"[2001:db8::1]:8443", "example.com:8443", "a.b-c.d.", "127.0.0.1:80", "[::1]",
	};
	/* every prefix at the page end: must not crash, and a few known answers */
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
		for (size_t len = 0; len <= strlen(inputs[i]); len++)
			(void)validate_both(f, inputs[i], len);
	assert_int_equal(validate_both(f, "[2001:db8::1]:8443", 14), -1);   /* "[2001:db8::1]:" */
	assert_int_equal(validate_both(f, "[2001:db8::1]:8443", 15), 0);    /* ":8" */
	assert_int_equal(validate_both(f, "[2001:db8::1]:8443", 12), -1);   /* no ']' */
	assert_int_equal(validate_both(f, "example.com:8443", 11), 0);
	assert_int_equal(validate_both(f, "example.com:8443", 8), 0);       /* "example." */
}

/* --- host_parse_public_url ---------------------------------------------- */

static void expect_url(struct fixture *f, const char *url, int secure, const char *base)
{
	f->secure = 7;
	int r = host_parse_public_url(url, &f->secure, f->base, sizeof f->base);
	if (r != 0)
		print_error("expected to parse: '%s'\n", url);
	assert_int_equal(r, 0);
	assert_int_equal(f->secure, secure);
	assert_string_equal(f->base, base);
}

static void expect_bad_url(struct fixture *f, const char *url)
{
	char before[sizeof f->base];

	f->secure = 7;
	memcpy(before, f->base, sizeof before);
	int r = host_parse_public_url(url, &f->secure, f->base, sizeof f->base);
	if (r != -1)
		print_error("expected to fail: '%s'\n", url);
	assert_int_equal(r, -1);
	assert_int_equal(f->secure, 7);                          /* untouched */
	assert_memory_equal(f->base, before, sizeof before);     /* untouched */
}

static void test_host_parse_public_url_schemes(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	expect_url(f, "https://echo.example.com", 1, "echo.example.com");
	expect_url(f, "http://echo.example.com", 0, "echo.example.com");
	expect_url(f, "wss://echo.example.com", 1, "echo.example.com");
	expect_url(f, "ws://echo.example.com", 0, "echo.example.com");
	expect_url(f, "HTTPS://Echo.Example.com", 1, "Echo.Example.com");
	expect_url(f, "Http://echo.example.com", 0, "echo.example.com");
}

static void test_host_parse_public_url_port_and_path(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	expect_url(f, "https://example.com:8443", 1, "example.com:8443");
	expect_url(f, "https://example.com:8443/echo", 1, "example.com:8443/echo");
	expect_url(f, "http://example.com/echo", 0, "example.com/echo");
	expect_url(f, "ws://127.0.0.1:8080", 0, "127.0.0.1:8080");
	expect_url(f, "wss://[::1]:8443/a/b", 1, "[::1]:8443/a/b");
	expect_url(f, "https://example.com/a-b_c.d~e/f", 1, "example.com/a-b_c.d~e/f");
}

static void test_host_parse_public_url_strips_trailing_slash(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	expect_url(f, "https://example.com/", 1, "example.com");
	expect_url(f, "https://example.com///", 1, "example.com");
	expect_url(f, "https://example.com/echo/", 1, "example.com/echo");
	expect_url(f, "http://example.com:81/echo//", 0, "example.com:81/echo");
}

static void test_host_parse_public_url_rejects_bad_scheme(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	expect_bad_url(f, "ftp://example.com");
	expect_bad_url(f, "example.com");
	expect_bad_url(f, "https:/example.com");
	expect_bad_url(f, "https:example.com");
	expect_bad_url(f, "//example.com");
	expect_bad_url(f, "httpss://example.com");
	expect_bad_url(f, " https://example.com");
	expect_bad_url(f, "");
	assert_int_equal(host_parse_public_url(NULL, &f->secure, f->base, sizeof f->base), -1);
}

static void test_host_parse_public_url_rejects_bad_host(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	expect_bad_url(f, "https://");
	expect_bad_url(f, "https:///echo");
	expect_bad_url(f, "https://exa mple.com");
	expect_bad_url(f, "https://user@example.com");
	expect_bad_url(f, "https://user:pw@example.com/");
	expect_bad_url(f, "https://example.com:0");
	expect_bad_url(f, "https://example.com:");
	expect_bad_url(f, "https://-bad.com/x");
	expect_bad_url(f, "https://[::1/x");
	expect_bad_url(f, "https://example.com?x=1");
}

static void test_host_parse_public_url_rejects_bad_path(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	expect_bad_url(f, "https://example.com/a b");
	expect_bad_url(f, "https://example.com/?q=1");
	expect_bad_url(f, "https://example.com/a#frag");
	expect_bad_url(f, "https://example.com/%2e%2e");
	expect_bad_url(f, "https://example.com/a\"b");
	expect_bad_url(f, "https://example.com/<script>");
	expect_bad_url(f, "https://example.com/a\\b");
	expect_bad_url(f, "https://example.com/a\r\nHost: x");
	expect_bad_url(f, "https://example.com/a@b");
	expect_bad_url(f, "https://example.com/a:b");
}

static void test_host_parse_public_url_too_small_cap(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char small[32];

	/* "example.com/echo" is 16 characters: 17 bytes fit, 16 do not */
	memset(small, 'Z', sizeof small);
	f->secure = 7;
	assert_int_equal(host_parse_public_url("https://example.com/echo", &f->secure, small, 16), -1);
	assert_int_equal(f->secure, 7);
	for (size_t i = 0; i < sizeof small; i++)
		assert_int_equal(small[i], 'Z');
	assert_int_equal(host_parse_public_url("https://example.com/echo", &f->secure, small, 17), 0);
	assert_string_equal(small, "example.com/echo");
	assert_int_equal(f->secure, 1);
	assert_int_equal(small[17], 'Z');   /* nothing past the NUL */
	/* the trailing slash is stripped before the size check */
	memset(small, 'Z', sizeof small);
	assert_int_equal(host_parse_public_url("http://example.com/echo/", &f->secure, small, 17), 0);
	assert_string_equal(small, "example.com/echo");
	assert_int_equal(f->secure, 0);
	assert_int_equal(host_parse_public_url("http://example.com", &f->secure, small, 0), -1);
}

static int loop_name(const char *s)
{
	return host_is_loopback_name(s, strlen(s));
}

static void test_host_loopback_names(void **state)
{
	(void)state;
	static const char *const yes[] = { "localhost", "LocalHost", "localhost.", "localhost:8080", "127.0.0.1",
					   "127.1.2.3:1", "127.255.255.255", "[::1]", "[::1]:80", "[0:0:0:0:0:0:0:1]",
					   "[::ffff:127.0.0.1]:8080" };
	/* what a page of another name says, whatever it resolves to (DNS rebinding) */
	static const char *const no[] = { "evil.example", "evil.example:8080", "localhost.evil.example",
					  "127.0.0.1.nip.io", "0x7f.1", "0177.0.0.1", "2130706433", "127.1", "[::2]",
					  "[::ffff:10.0.0.1]", "128.0.0.1", "10.0.0.1:8080", "localhost:", "localhost:0",
					  "localhost:99999", "[::1", "", "local host", "127.0.0.1 ", "[fe80::1%lo]" };
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		assert_true(loop_name(yes[i]));
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		assert_false(loop_name(no[i]));
	assert_false(host_is_loopback_name(NULL, 0));
	/* length-bounded: the bytes after len are not looked at */
	assert_true(host_is_loopback_name("localhost.evil.example", 9));
	assert_false(host_is_loopback_name("127.0.0.1", 8));   /* "127.0.0." */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_host, teardown_host)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_host_validate_accepts_names),
		T(test_host_validate_accepts_ports),
		T(test_host_validate_accepts_ip_literals),
		T(test_host_validate_label_and_name_lengths),
		T(test_host_validate_rejects_bad_names),
		T(test_host_validate_rejects_bad_ports),
		T(test_host_validate_rejects_bad_ipv6),
		T(test_host_validate_rejects_empty_and_null),
		T(test_host_validate_every_prefix_without_overread),
		T(test_host_loopback_names),
		T(test_host_parse_public_url_schemes),
		T(test_host_parse_public_url_port_and_path),
		T(test_host_parse_public_url_strips_trailing_slash),
		T(test_host_parse_public_url_rejects_bad_scheme),
		T(test_host_parse_public_url_rejects_bad_host),
		T(test_host_parse_public_url_rejects_bad_path),
		T(test_host_parse_public_url_too_small_cap),
	};
	return cmocka_run_group_tests_name("host", tests, NULL, NULL);
}
