/*
 * test_admin.cpp -- unit tests for src/admin.cpp: the JSON bodies of the
 * operator's actions (hangup, block, unblock), their defaults, and the
 * clear refusal of everything else (wrong types, unknown members, bad
 * codes and ranges, trailing bytes), and what cJSON alone lets through
 * (issue 19): a NUL in a string, numbers that are not plain whole numbers,
 * a member given twice.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdio.h>
#include <string.h>

#include "admin.h"

static int parse(enum admin_op op, const char *body, struct admin_req *r, char *err, size_t cap)
{
	err[0] = '\0';
	return admin_parse(op, body, strlen(body), r, err, cap);
}

static void test_hangup(void **state)
{
	(void)state;
	struct admin_req r;
	char err[160];

	assert_int_equal(parse(ADMIN_HANGUP, "{\"call\":7}", &r, err, sizeof err), 0);
	assert_int_equal(r.op, ADMIN_HANGUP);
	assert_int_equal(r.call, 7);
	assert_string_equal(r.uuid, "");
	assert_int_equal(r.code, 1000);   /* default */

	assert_int_equal(parse(ADMIN_HANGUP, "{\"uuid\":\"aaaaaaaa-bbbb\",\"code\":4000,\"reason\":\"fraud\"}\n", &r,
			       err, sizeof err), 0);
	assert_int_equal(r.call, 0);
	assert_string_equal(r.uuid, "aaaaaaaa-bbbb");
	assert_int_equal(r.code, 4000);
	assert_string_equal(r.reason, "fraud");

	static const int codes[] = { 1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999 };
	for (int code : codes) {
		char b[64];
		snprintf(b, sizeof b, "{\"call\":1,\"code\":%d}", code);
		assert_int_equal(parse(ADMIN_HANGUP, b, &r, err, sizeof err), 0);
		assert_int_equal(r.code, code);
	}
}

static void test_hangup_refused(void **state)
{
	(void)state;
	struct admin_req r;
	char err[160];
	static const char *const bad[] = {
		"{}", "{\"call\":1,\"uuid\":\"u\"}", "{\"call\":0}", "{\"call\":-1}", "{\"call\":1.5}",
		"{\"call\":\"7\"}", "{\"uuid\":\"\"}", "{\"uuid\":7}",
		"{\"uuid\":\"0123456789012345678901234567890123456789012345678901234567890123\"}",
		"{\"call\":1,\"code\":1005}", "{\"call\":1,\"code\":1006}", "{\"call\":1,\"code\":1015}",
		"{\"call\":1,\"code\":999}", "{\"call\":1,\"code\":2000}", "{\"call\":1,\"code\":5000}",
		"{\"call\":1,\"code\":\"1000\"}", "{\"call\":1,\"reason\":5}", "{\"call\":1,\"cidr\":\"1.2.3.4\"}",
		"{\"call\":1} x", "[1]", "", "nul", "{\"call\":1,}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(ADMIN_HANGUP, bad[i], &r, err, sizeof err), -1);
		assert_true(err[0] != '\0');
		assert_int_equal(r.call, 0);   /* nothing half-filled */
	}
	assert_int_equal(parse(ADMIN_HANGUP, "{\"call\":1,\"code\":2000}", &r, err, sizeof err), -1);
	assert_string_equal(err, "'code' must be 1000-1003, 1007-1014 or 3000-4999");
	assert_int_equal(parse(ADMIN_HANGUP, "{\"call\":1,\"uuid\":\"u\"}", &r, err, sizeof err), -1);
	assert_string_equal(err, "give exactly one of 'call' and 'uuid'");
}

static void test_block(void **state)
{
	(void)state;
	struct admin_req r;
	char err[160], net[CIDR_STR_MAX];

	assert_int_equal(parse(ADMIN_BLOCK, "{\"cidr\":\"203.0.113.0/24\"}", &r, err, sizeof err), 0);
	cidr_format(&r.net, net, sizeof net);
	assert_string_equal(net, "203.0.113.0/24");
	assert_int_equal(r.seconds, ADMIN_BLOCK_DEFAULT);
	assert_int_equal(r.hangup, 0);

	assert_int_equal(parse(ADMIN_BLOCK, "{\"cidr\":\"2001:db8::1\",\"seconds\":0,\"hangup\":true,\"reason\":\"<b>x</b>\"}",
			       &r, err, sizeof err), 0);
	cidr_format(&r.net, net, sizeof net);
	assert_string_equal(net, "2001:db8::1/128");
	assert_int_equal(r.seconds, 0);   /* until unblocked */
	assert_int_equal(r.hangup, 1);
	assert_string_equal(r.reason, "?b?x?/b?");   /* sanitised for logs and the page */

	/* host bits beyond the prefix are masked off */
	assert_int_equal(parse(ADMIN_BLOCK, "{\"cidr\":\"203.0.113.77/24\",\"seconds\":60}", &r, err, sizeof err), 0);
	cidr_format(&r.net, net, sizeof net);
	assert_string_equal(net, "203.0.113.0/24");
	assert_int_equal(r.seconds, 60);
}

static void test_block_refused(void **state)
{
	(void)state;
	struct admin_req r;
	char err[160];
	static const char *const bad[] = {
		"{}", "{\"cidr\":\"\"}", "{\"cidr\":\"example.com\"}", "{\"cidr\":\"10.0.0.0/33\"}",
		"{\"cidr\":\"10.0.0.0/-1\"}", "{\"cidr\":24}", "{\"cidr\":\"10.0.0.1\",\"seconds\":-1}",
		"{\"cidr\":\"10.0.0.1\",\"seconds\":1.5}", "{\"cidr\":\"10.0.0.1\",\"seconds\":99999999999}",
		"{\"cidr\":\"10.0.0.1\",\"hangup\":1}", "{\"cidr\":\"10.0.0.1\",\"second\":60}",
		"{\"cidr\":\"10.0.0.1\",\"call\":1}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(ADMIN_BLOCK, bad[i], &r, err, sizeof err), -1);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(parse(ADMIN_BLOCK, "{\"cidr\":\"10.0.0.1\",\"second\":60}", &r, err, sizeof err), -1);
	assert_string_equal(err, "unknown or repeated member (expected cidr, seconds, reason, hangup)");
}

static void test_unblock(void **state)
{
	(void)state;
	struct admin_req r;
	char err[160];

	assert_int_equal(parse(ADMIN_UNBLOCK, "{\"cidr\":\"203.0.113.0/24\"}", &r, err, sizeof err), 0);
	assert_int_equal(r.op, ADMIN_UNBLOCK);
	assert_int_equal(parse(ADMIN_UNBLOCK, "{\"cidr\":\"203.0.113.0/24\",\"seconds\":5}", &r, err, sizeof err), -1);
	assert_int_equal(parse(ADMIN_UNBLOCK, "{\"cidr\":\"nope\"}", &r, err, sizeof err), -1);
}

static void test_limits_and_names(void **state)
{
	(void)state;
	struct admin_req r;
	char err[160], big[ADMIN_BODY_MAX + 32];

	int n = snprintf(big, sizeof big, "{\"cidr\":\"10.0.0.1\",\"reason\":\"");
	memset(big + n, 'a', ADMIN_BODY_MAX);
	big[n + ADMIN_BODY_MAX] = '\0';
	strcat(big, "\"}");
	assert_int_equal(admin_parse(ADMIN_BLOCK, big, strlen(big), &r, err, sizeof err), -1);
	assert_string_equal(err, "body too large");
	assert_int_equal(admin_parse((enum admin_op)7, "{}", 2, &r, err, sizeof err), -1);
	assert_string_equal(admin_op_str(ADMIN_HANGUP), "hangup");
	assert_string_equal(admin_op_str(ADMIN_BLOCK), "block");
	assert_string_equal(admin_op_str(ADMIN_UNBLOCK), "unblock");
	assert_string_equal(admin_op_str(9), "unknown");
	assert_int_equal(admin_close_code_ok(1002), 1);
	assert_int_equal(admin_close_code_ok(1004), 0);
	assert_int_equal(admin_close_code_ok(65535), 0);
}

/* --- issue 19: what cJSON lets through ------------------------------------ */

static int parse_n(enum admin_op op, const char *body, size_t len, struct admin_req *r, char *err, size_t cap)
{
	err[0] = '\0';
	return admin_parse(op, body, len, r, err, cap);
}

static void test_nul_in_a_string_is_refused(void **state)
{
	(void)state;
	struct admin_req r;
	char err[160];
	/* cJSON's valuestring ends at the NUL: this was a block of 192.0.2.12 */
	static const char *const bad[] = {
		"{\"cidr\":\"192.0.2.12\\u0000junk\"}",
		"{\"cidr\":\"192.0.2.12\",\"reason\":\"a\\u0000b\"}",
		"{\"cidr\":\"\\u0000\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(ADMIN_BLOCK, bad[i], &r, err, sizeof err), -1);
		assert_string_equal(err, "a string holds \\u0000 (NUL)");
	}
	assert_int_equal(parse(ADMIN_HANGUP, "{\"uuid\":\"abc\\u0000def\"}", &r, err, sizeof err), -1);
	assert_int_equal(parse(ADMIN_UNBLOCK, "{\"cidr\":\"10.0.0.0/8\\u0000\"}", &r, err, sizeof err), -1);
	/* a raw NUL byte, inside a string or out */
	static const char raw[] = "{\"cidr\":\"192.0.2.12\0junk\"}";
	assert_int_equal(parse_n(ADMIN_BLOCK, raw, sizeof raw - 1, &r, err, sizeof err), -1);
	assert_string_equal(err, "the body holds a NUL byte");
	static const char after[] = "{\"cidr\":\"192.0.2.12\"}\0";
	assert_int_equal(parse_n(ADMIN_BLOCK, after, sizeof after - 1, &r, err, sizeof err), -1);
	/* a raw control character is not JSON either */
	assert_int_equal(parse(ADMIN_BLOCK, "{\"cidr\":\"192.0.2.12\",\"reason\":\"a\nb\"}", &r, err, sizeof err), -1);
	assert_string_equal(err, "a string holds a raw control character");
	/* an escaped backslash followed by "u0000" is text, not a NUL */
	assert_int_equal(parse(ADMIN_BLOCK, "{\"cidr\":\"192.0.2.12\",\"reason\":\"x\\\\u0000\"}", &r, err, sizeof err), 0);
	assert_string_equal(r.reason, "x?u0000");   /* the sanitiser shows the backslash as ? */
	/* other escapes still work, an escaped quote does not end the string */
	assert_int_equal(parse(ADMIN_BLOCK, "{\"cidr\":\"192.0.2.12\",\"reason\":\"say \\\"1e3\\\" \\u00e9\"}", &r, err,
			       sizeof err), 0);
}

static void test_numbers_must_be_plain_whole_numbers(void **state)
{
	(void)state;
	struct admin_req r;
	char err[160], b[96];
	/* each passed the old check (a double equal to its floor, within range) */
	static const char *const spelled[] = { "-0", "-0.0", "0.0", "0e0", "1e3", "3600.0", "3.6e3", "3600.0000000000001",
					       "007", "00", "1E2", "-00" };
	for (size_t i = 0; i < sizeof spelled / sizeof spelled[0]; i++) {
		snprintf(b, sizeof b, "{\"cidr\":\"192.0.2.12\",\"seconds\":%s}", spelled[i]);
		assert_int_equal(parse(ADMIN_BLOCK, b, &r, err, sizeof err), -1);
		assert_string_equal(err, "numbers must be whole numbers written as plain digits (no fraction, exponent, "
					 "leading zero or -0)");
		snprintf(b, sizeof b, "{\"call\":1,\"code\":%s}", spelled[i]);
		assert_int_equal(parse(ADMIN_HANGUP, b, &r, err, sizeof err), -1);
		snprintf(b, sizeof b, "{\"call\":%s}", spelled[i]);
		assert_int_equal(parse(ADMIN_HANGUP, b, &r, err, sizeof err), -1);
	}
	/* huge values: past the range (or past a double's exact integers) */
	static const char *const huge[] = { "99999999999999999999999", "9007199254740993", "9000000000000001" };
	for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
		snprintf(b, sizeof b, "{\"call\":%s}", huge[i]);
		assert_int_equal(parse(ADMIN_HANGUP, b, &r, err, sizeof err), -1);
		snprintf(b, sizeof b, "{\"cidr\":\"192.0.2.12\",\"seconds\":%s}", huge[i]);
		assert_int_equal(parse(ADMIN_BLOCK, b, &r, err, sizeof err), -1);
	}
	/* plain 0 is still "until unblocked", and the largest values still fit */
	assert_int_equal(parse(ADMIN_BLOCK, "{\"cidr\":\"192.0.2.12\",\"seconds\":0}", &r, err, sizeof err), 0);
	assert_int_equal(r.seconds, 0);
	assert_int_equal(parse(ADMIN_BLOCK, "{\"cidr\":\"192.0.2.12\",\"seconds\": 31622400 }", &r, err, sizeof err), 0);
	assert_int_equal(r.seconds, 31622400);
	assert_int_equal(parse(ADMIN_HANGUP, "{\"call\":9000000000000000}", &r, err, sizeof err), 0);
	assert_int_equal(r.call, 9000000000000000ull);
	/* digits inside a string are text */
	assert_int_equal(parse(ADMIN_BLOCK, "{\"cidr\":\"192.0.2.12\",\"reason\":\"-0 1e3 007\"}", &r, err, sizeof err), 0);
}

static void test_a_member_given_twice_is_refused(void **state)
{
	(void)state;
	struct admin_req r;
	char err[160];

	assert_int_equal(parse(ADMIN_BLOCK, "{\"cidr\":\"192.0.2.12\",\"cidr\":\"0.0.0.0/0\"}", &r, err, sizeof err), -1);
	assert_string_equal(err, "unknown or repeated member (expected cidr, seconds, reason, hangup)");
	assert_int_equal(parse(ADMIN_HANGUP, "{\"call\":1,\"code\":1000,\"code\":4000}", &r, err, sizeof err), -1);
	assert_int_equal(parse(ADMIN_UNBLOCK, "{\"cidr\":\"10.0.0.1\",\"cidr\":\"10.0.0.1\"}", &r, err, sizeof err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hangup),
		cmocka_unit_test(test_hangup_refused),
		cmocka_unit_test(test_block),
		cmocka_unit_test(test_block_refused),
		cmocka_unit_test(test_unblock),
		cmocka_unit_test(test_limits_and_names),
		cmocka_unit_test(test_nul_in_a_string_is_refused),
		cmocka_unit_test(test_numbers_must_be_plain_whole_numbers),
		cmocka_unit_test(test_a_member_given_twice_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
