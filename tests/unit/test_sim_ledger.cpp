/*
 * test_sim_ledger.cpp -- unit tests for sim/ledger.cpp: how caller-sim
 * counts what came back. Echoes in order and out of order are answered;
 * a corrupt stamp, a number never sent and a duplicate are mismatched; a
 * frame unanswered for a whole window is lost, and its echo arriving after
 * that is late (and stays lost); whatever is in flight at the end is lost.
 * Every frame sent ends up exactly once as echoed or lost.
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

#include "ledger.h"

static struct ledger L;

static void test_ledger_in_and_out_of_order(void **state)
{
	(void)state;
	struct ledger_counts n = {};
	uint32_t at = 0;
	memset(&L, 0, sizeof L);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(ledger_send(&L, 1000 + i, &n), i);
	assert_int_equal(L.outstanding, 5);
	/* 2, 0, 4, 1, 3 */
	static const uint32_t order[] = { 2, 0, 4, 1, 3 };
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ledger_echo(&L, 1, order[i], &n, &at), LEDGER_ANSWERED);
		assert_int_equal(at, 1000 + order[i]);
	}
	assert_int_equal(L.outstanding, 0);
	assert_int_equal(n.sent, 5);
	assert_int_equal(n.echoed, 5);
	assert_int_equal(n.lost + n.mismatched + n.late, 0);
}

static void test_ledger_mismatches(void **state)
{
	(void)state;
	struct ledger_counts n = {};
	uint32_t at = 0;
	memset(&L, 0, sizeof L);
	ledger_send(&L, 1, &n);
	ledger_send(&L, 2, &n);
	assert_int_equal(ledger_echo(&L, 0, 0, &n, &at), LEDGER_MISMATCHED);   /* unreadable stamp */
	assert_int_equal(ledger_echo(&L, 1, 2, &n, &at), LEDGER_MISMATCHED);   /* never sent */
	assert_int_equal(ledger_echo(&L, 1, 999999, &n, &at), LEDGER_MISMATCHED);
	assert_int_equal(ledger_echo(&L, 1, 1, &n, &at), LEDGER_ANSWERED);
	assert_int_equal(ledger_echo(&L, 1, 1, &n, &at), LEDGER_MISMATCHED);   /* a duplicate */
	assert_int_equal(n.mismatched, 4);
	assert_int_equal(n.echoed, 1);
	assert_int_equal(L.outstanding, 1);   /* frame 0 still out */
	ledger_finish(&L, &n);
	assert_int_equal(n.lost, 1);
	assert_int_equal(L.outstanding, 0);
	assert_int_equal(n.echoed + n.lost, n.sent);
}

static void test_ledger_window_wrap_loses_then_late(void **state)
{
	(void)state;
	struct ledger_counts n = {};
	uint32_t at = 0;
	memset(&L, 0, sizeof L);
	/* frame 0 is never answered; frames 1.. are, as they go */
	ledger_send(&L, 0, &n);
	for (uint32_t i = 1; i < LEDGER_WIN; i++) {
		ledger_send(&L, i, &n);
		assert_int_equal(ledger_echo(&L, 1, i, &n, &at), LEDGER_ANSWERED);
	}
	assert_int_equal(n.lost, 0);
	/* frame LEDGER_WIN takes frame 0's place: 0 is lost now */
	assert_int_equal(ledger_send(&L, 7, &n), LEDGER_WIN);
	assert_int_equal(n.lost, 1);
	assert_int_equal(L.outstanding, 1);
	/* 0's echo after all: late, and it stays lost (not echoed) */
	assert_int_equal(ledger_echo(&L, 1, 0, &n, &at), LEDGER_LATE);
	assert_int_equal(n.late, 1);
	assert_int_equal(n.echoed, LEDGER_WIN - 1);
	assert_int_equal(ledger_echo(&L, 1, LEDGER_WIN, &n, &at), LEDGER_ANSWERED);
	assert_int_equal(at, 7);
	assert_int_equal(n.echoed + n.lost, n.sent);
}

static void test_ledger_random_play_balances(void **state)
{
	(void)state;
	struct ledger_counts n = {};
	uint32_t at = 0;
	memset(&L, 0, sizeof L);
	srand(7);
	/* a server that drops, duplicates and reorders: sent == echoed + lost always */
	uint32_t backlog[64];
	int nb = 0;
	for (int step = 0; step < 200000; step++) {
		int r = rand() % 10;
		if (r < 4 || !nb) {
			uint32_t s = ledger_send(&L, (uint32_t)step, &n);
			if (nb < 64 && rand() % 8)
				backlog[nb++] = s;   /* 1 in 8 never echoed */
		} else if (r < 9) {
			int k = rand() % nb;
			ledger_echo(&L, 1, backlog[k], &n, &at);
			if (rand() % 16)
				backlog[k] = backlog[--nb];   /* else echoed again later */
		} else {
			ledger_echo(&L, rand() % 2, (uint32_t)rand(), &n, &at);   /* garbage */
		}
		assert_true(L.outstanding <= LEDGER_WIN);
	}
	ledger_finish(&L, &n);
	assert_int_equal(n.echoed + n.lost, n.sent);
	assert_true(n.mismatched > 0 && n.lost > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ledger_in_and_out_of_order),
		cmocka_unit_test(test_ledger_mismatches),
		cmocka_unit_test(test_ledger_window_wrap_loses_then_late),
		cmocka_unit_test(test_ledger_random_play_balances),
	};
	return cmocka_run_group_tests_name("sim_ledger", tests, NULL, NULL);
}
