/*
 * test_call_rules.cpp -- unit tests for src/call_rules.cpp: one call's life without lws.
 * The message-rate cap (a frame counts once, at its end; the sweep opens a
 * new window), the idle timeout (more than S whole seconds of silence, never
 * at a mere second boundary), a close asked for from outside (once, never
 * over a close under way), counting a call's close exactly once whoever
 * closes first, and which peer close payloads are answered with 1002; a
 * stall of our own loop (SIGTSTP) is never charged to the peer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <string.h>

#include "call_rules.h"

#define T0 1700000000

static void test_call_rate_cap_counts_frames_once(void **state)
{
	(void)state;
	struct call_rules c;
	call_rules_open(&c, T0);
	/* 3 frames a window allowed; pieces of a frame (frame_end 0) are free */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(call_rules_rx(&c, T0, 0, 3), 0);
		assert_int_equal(call_rules_rx(&c, T0, 1, 3), 0);
	}
	assert_int_equal(call_rules_rx(&c, T0, 0, 3), 0);
	assert_int_equal(call_rules_rx(&c, T0, 1, 3), 1);       /* the 4th frame */
	/* the sweep opens a new window */
	call_rules_open(&c, T0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(call_rules_rx(&c, T0, 1, 3), 0);
	assert_int_equal(call_rules_sweep(&c, T0 + 1, 10), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(call_rules_rx(&c, T0 + 1, 1, 3), 0);
	assert_int_equal(call_rules_rx(&c, T0 + 1, 1, 3), 1);
	/* 0 = no cap */
	call_rules_open(&c, T0);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(call_rules_rx(&c, T0, 1, 0), 0);
}

static void test_call_idle_needs_more_than_s_seconds(void **state)
{
	(void)state;
	struct call_rules c;
	call_rules_open(&c, T0);
	/* data in second T0, sweeps at T0+1, +2: silent for at most 2 s, not more than 2 */
	assert_int_equal(call_rules_sweep(&c, T0 + 1, 2), 0);
	assert_int_equal(call_rules_sweep(&c, T0 + 2, 2), 0);
	assert_int_equal(call_rules_sweep(&c, T0 + 3, 2), 1);
	assert_int_equal(c.pending_close, 1001);
	assert_string_equal(c.pending_why, "idle timeout");
	assert_int_equal(call_rules_sweep(&c, T0 + 4, 2), 0);   /* asked once */
	/* regression: with S = 1 a call streaming 50 frames a second was cut
	 * when a sweep fell just after a second boundary */
	call_rules_open(&c, T0);
	for (int s = 0; s < 60; s++) {
		assert_int_equal(call_rules_rx(&c, T0 + s, 1, 250), 0);   /* last frame of second s */
		assert_int_equal(call_rules_sweep(&c, T0 + s + 1, 1), 0); /* sweep at the next second */
	}
	/* 0 = no idle timeout */
	call_rules_open(&c, T0);
	assert_int_equal(call_rules_sweep(&c, T0 + 100000, 0), 0);
}

/* issue 19: after SIGTSTP/SIGCONT (or a starved loop) what the peer sent while
 * we did not read arrives at once; the window has lasted as long as the stop */
static void test_call_rate_window_spanning_a_stall_allows_each_second(void **state)
{
	(void)state;
	struct call_rules c;
	call_rules_open(&c, T0);
	assert_int_equal(call_rules_sweep(&c, T0 + 1, 10), 0);   /* the window begins at T0 + 1 */
	/* the loop stops for 3 s; the tick's clock still says T0 + 1 when the backlog is read */
	int over_by_tick = 0, over_now = 0;
	for (int i = 0; i < 1000; i++)
		if (call_rules_rx(&c, T0 + 1, 1, 250)) {
			over_by_tick++;
			over_now += call_rules_rate_over(&c, T0 + 4, 250);   /* a fresh clock: 3 s into the window */
		}
	assert_int_equal(over_by_tick, 1000 - 250);
	assert_int_equal(over_now, 1000 - 750);   /* 250 for each second the window lasted */
	/* a window within its first second, or a clock gone back, allows one second's worth */
	assert_int_equal(call_rules_rate_over(&c, T0 + 1, 250), 1);
	assert_int_equal(call_rules_rate_over(&c, T0 - 5, 250), 1);
	assert_int_equal(call_rules_rate_over(&c, T0 + 4, 0), 0);   /* no cap */
}

static void test_call_resume_restarts_the_idle_clock(void **state)
{
	(void)state;
	struct call_rules c;
	call_rules_open(&c, T0);
	/* the process was stopped for 30 s: the caller was not silent, we were away */
	call_rules_resume(&c, T0 + 30);
	assert_int_equal(call_rules_sweep(&c, T0 + 31, 10), 0);
	assert_int_equal(call_rules_sweep(&c, T0 + 40, 10), 0);
	assert_int_equal(call_rules_sweep(&c, T0 + 41, 10), 1);   /* then silence counts again */
}

static void test_call_ask_close_once(void **state)
{
	(void)state;
	struct call_rules c;
	call_rules_open(&c, T0);
	assert_int_equal(call_rules_ask_close(&c, 4000, "closed by the operator"), 1);
	assert_int_equal(call_rules_ask_close(&c, 1000, "again"), 0);
	assert_int_equal(c.pending_close, 4000);
	assert_int_equal(call_rules_sweep(&c, T0 + 100, 1), 0);    /* already asked */
	/* a close under way is not asked again */
	call_rules_open(&c, T0);
	assert_int_equal(call_rules_begin_close(&c), 1);
	assert_int_equal(call_rules_begin_close(&c), 0);
	assert_int_equal(call_rules_ask_close(&c, 4000, "x"), 0);
	assert_int_equal(call_rules_sweep(&c, T0 + 100, 1), 0);
}

static void test_call_close_counted_once(void **state)
{
	(void)state;
	struct call_rules c;
	/* ours first, then the peer's answer, then the TCP end: counted once */
	call_rules_open(&c, T0);
	assert_int_equal(call_rules_begin_close(&c), 1);
	assert_int_equal(call_rules_count_close(&c), 1);
	assert_int_equal(call_rules_count_close(&c), 0);
	assert_int_equal(call_rules_count_close(&c), 0);
	/* the peer's first */
	call_rules_open(&c, T0);
	assert_int_equal(call_rules_count_close(&c), 1);
	assert_int_equal(call_rules_begin_close(&c), 1);   /* our answer still goes out */
	assert_int_equal(call_rules_count_close(&c), 0);
}

static void test_call_peer_close_payloads(void **state)
{
	(void)state;
	int code;
	uint8_t p[2];
	assert_int_equal(call_rules_peer_close_ok(NULL, 0, &code), 1);
	assert_int_equal(code, 1005);
	p[0] = 3;
	assert_int_equal(call_rules_peer_close_ok(p, 1, &code), 0);
	assert_int_equal(code, -1);
	static const int ok[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
				  3000, 3999, 4000, 4999 };
	static const int bad[] = { 0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535 };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		p[0] = (uint8_t)(ok[i] >> 8), p[1] = (uint8_t)ok[i];
		assert_int_equal(call_rules_peer_close_ok(p, 2, &code), 1);
		assert_int_equal(code, ok[i]);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p[0] = (uint8_t)(bad[i] >> 8), p[1] = (uint8_t)bad[i];
		assert_int_equal(call_rules_peer_close_ok(p, 2, &code), 0);
		assert_int_equal(code, bad[i]);
	}
	/* a reason after the code does not change the verdict */
	const uint8_t with_reason[] = { 0x03, 0xe8, 'b', 'y', 'e' };
	assert_int_equal(call_rules_peer_close_ok(with_reason, sizeof with_reason, &code), 1);
	assert_int_equal(code, 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_rate_cap_counts_frames_once),
		cmocka_unit_test(test_call_idle_needs_more_than_s_seconds),
		cmocka_unit_test(test_call_rate_window_spanning_a_stall_allows_each_second),
		cmocka_unit_test(test_call_resume_restarts_the_idle_clock),
		cmocka_unit_test(test_call_ask_close_once),
		cmocka_unit_test(test_call_close_counted_once),
		cmocka_unit_test(test_call_peer_close_payloads),
	};
	return cmocka_run_group_tests_name("call", tests, NULL, NULL);
}
