/*
 * test_refusal.cpp -- unit tests for src/refusal.cpp: every refusal
 * reason's name (the /stats.json key, the metrics label, the log field) and
 * which reasons are strikes (automatic blocking, fail2ban's filter).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include "refusal.h"

static void test_refusal_name_names(void **state)
{
	(void)state;
	static const char *const want[REJECT__COUNT] = {
		"ok", "missing", "not_bearer", "malformed", "bad_alg", "bad_signature", "expired",
		"not_yet_valid", "no_iat", "iat_too_old", "iat_in_future", "wrong_application", "bad_issuer",
		"bad_path", "origin", "capacity", "shutting_down", "addr_calls", "addr_rate",
		"addr_table_full", "addr_conns", "conns_full", "replay", "missing_jti", "replay_table_full", "msg_rate", "idle",
		"webhook_auth", "payload_hash", "stats_access", "body_timeout", "subprotocol",
		"missing_payload_hash", "transfer_encoding", "bad_close", "blocked", "admin_access",
		"replay_store_down", "admin_bad_request", "stats_bad_query",
	};
	assert_int_equal(REJECT__COUNT, 40);
	for (int r = 0; r < REJECT__COUNT; r++)
		assert_string_equal(refusal_name(r), want[r]);
	assert_string_equal(refusal_name(REJECT_BAD_PATH), "bad_path");
	assert_string_equal(refusal_name(REJECT_SHUTTING_DOWN), "shutting_down");
	assert_string_equal(refusal_name(AUTH_BAD_SIGNATURE), "bad_signature");
	assert_string_equal(refusal_name(REJECT__COUNT), "unknown");
	assert_string_equal(refusal_name(-1), "unknown");
}

static void test_reasons_that_strike(void **state)
{
	(void)state;
	/* hostile or misbehaving clients */
	static const int yes[] = { AUTH_MISSING, AUTH_NOT_BEARER, AUTH_MALFORMED, AUTH_BAD_ALG, AUTH_BAD_SIGNATURE,
				   AUTH_NO_IAT, AUTH_WRONG_APP, AUTH_BAD_ISSUER, REJECT_REPLAY, REJECT_MISSING_JTI,
				   REJECT_WEBHOOK_AUTH, REJECT_PAYLOAD_HASH, REJECT_MISSING_PAYLOAD_HASH,
				   REJECT_BAD_PATH, REJECT_ORIGIN, REJECT_ADDR_RATE, REJECT_ADDR_CONNS, REJECT_MSG_RATE,
				   REJECT_STATS_ACCESS, REJECT_ADMIN_ACCESS, REJECT_BODY_TIMEOUT, REJECT_SUBPROTOCOL,
				   REJECT_TRANSFER_ENCODING, REJECT_BAD_CLOSE };
	/* the server's own state, a clock problem, a network stall */
	static const int no[] = { AUTH_EXPIRED, AUTH_NOT_YET_VALID, AUTH_IAT_TOO_OLD, AUTH_IAT_IN_FUTURE,
				  REJECT_CAPACITY, REJECT_SHUTTING_DOWN, REJECT_ADDR_CALLS, REJECT_ADDR_TABLE_FULL,
				  REJECT_CONNS_FULL, REJECT_REPLAY_FULL, REJECT_IDLE, REJECT_BLOCKED,
				  REJECT_REPLAY_UNAVAILABLE,
				  /* only the operator or a stats reader gets far enough to make these */
				  REJECT_ADMIN_BAD_REQUEST, REJECT_STATS_BAD_QUERY };
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		assert_int_equal(refusal_is_strike(yes[i]), 1);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		assert_int_equal(refusal_is_strike(no[i]), 0);
	/* every reason is in exactly one of the lists */
	assert_int_equal(sizeof yes / sizeof yes[0] + sizeof no / sizeof no[0], REJECT__COUNT - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusal_name_names),
		cmocka_unit_test(test_reasons_that_strike),
	};
	return cmocka_run_group_tests_name("refusal", tests, NULL, NULL);
}
