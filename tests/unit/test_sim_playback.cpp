/*
 * test_sim_playback.cpp -- unit tests for sim/playback.cpp: Vonage's
 * playout buffer as caller-sim models it. One frame leaves per tick in
 * arrival order, silence when empty; a notify mark is due only once every
 * frame queued before it has left (at once on an empty buffer); clear
 * discards and counts the frames and makes the waiting marks due in order;
 * a full buffer drops the newest frame and counts it; the command parser
 * accepts exactly clear and notify-with-an-object and calls the rest bad.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <string.h>

#include "playback.h"

#define FB 16   /* small frames: the buffer does not care about the size */

static struct playback P;

static int setup(void **state)
{
	(void)state;
	return playback_init(&P, 4, FB);
}

static int teardown(void **state)
{
	(void)state;
	playback_deinit(&P);
	return 0;
}

static void push(uint8_t tag, int want)
{
	uint8_t f[FB];
	memset(f, tag, sizeof f);
	assert_int_equal(playback_push(&P, f), want);
}

/* One tick: the tag of the frame heard, or -1 for silence. */
static int tick(void)
{
	const uint8_t *f = NULL;
	if (!playback_tick(&P, &f))
		return -1;
	for (int i = 1; i < FB; i++)
		assert_int_equal(f[i], f[0]);   /* the whole frame, not a piece of two */
	return f[0];
}

static void mark(const char *payload)
{
	assert_int_equal(playback_notify(&P, payload, strlen(payload)), 0);
}

/* The next due mark's payload (popped), or NULL. */
static const char *due(void)
{
	static char buf[PLAYBACK_PAYLOAD_MAX + 1];
	const struct playback_mark *m = playback_due(&P);
	if (!m)
		return NULL;
	memcpy(buf, m->payload, m->len);
	buf[m->len] = '\0';
	playback_pop_due(&P);
	return buf;
}

static void test_playback_tick_plays_in_order_then_silence(void **state)
{
	(void)state;
	assert_int_equal(tick(), -1);   /* empty from the start */
	push(1, 0);
	push(2, 0);
	assert_int_equal(tick(), 1);
	push(3, 0);
	assert_int_equal(tick(), 2);
	assert_int_equal(tick(), 3);
	assert_int_equal(tick(), -1);
	assert_int_equal(P.heard, 3);
	assert_int_equal(P.silence, 2);
	assert_true(playback_idle(&P));
}

static void test_playback_mark_due_only_when_reached(void **state)
{
	(void)state;
	push(1, 0);
	push(2, 0);
	mark("{\"n\":1}");
	push(3, 0);
	mark("{\"n\":2}");
	assert_null(due());                  /* frames 1 and 2 are still queued */
	assert_int_equal(tick(), 1);
	assert_null(due());
	assert_int_equal(tick(), 2);          /* everything before mark 1 has left */
	assert_string_equal(due(), "{\"n\":1}");
	assert_null(due());                  /* mark 2 waits for frame 3 */
	assert_false(playback_idle(&P));
	assert_int_equal(tick(), 3);
	assert_string_equal(due(), "{\"n\":2}");
	assert_null(due());
	assert_true(playback_idle(&P));
}

static void test_playback_mark_on_empty_buffer_is_due_at_once(void **state)
{
	(void)state;
	mark("{}");
	assert_string_equal(due(), "{}");
	/* and after the buffer drained, too */
	push(1, 0);
	assert_int_equal(tick(), 1);
	mark("{\"late\":true}");
	assert_string_equal(due(), "{\"late\":true}");
}

static void test_playback_clear_discards_and_answers_marks_in_order(void **state)
{
	(void)state;
	push(1, 0);
	mark("{\"a\":1}");
	push(2, 0);
	push(3, 0);
	mark("{\"a\":2}");
	push(4, 0);
	assert_int_equal(tick(), 1);
	assert_string_equal(due(), "{\"a\":1}");
	assert_int_equal(playback_clear(&P), 3);   /* 2, 3, 4 never heard */
	assert_int_equal(P.cleared, 3);
	assert_int_equal(P.clears, 1);
	assert_string_equal(due(), "{\"a\":2}");
	assert_null(due());
	assert_int_equal(tick(), -1);              /* nothing of the old audio plays */
	/* the buffer works as before afterwards, marks keep their ids */
	push(5, 0);
	mark("{\"a\":3}");
	assert_int_equal(P.mark[P.mark_head].id, 2);
	assert_null(due());
	assert_int_equal(tick(), 5);
	assert_string_equal(due(), "{\"a\":3}");
	assert_int_equal(playback_clear(&P), 0);   /* clearing an empty buffer */
	assert_int_equal(P.clears, 2);
}

static void test_playback_overflow_drops_newest(void **state)
{
	(void)state;
	for (int i = 1; i <= 4; i++)
		push((uint8_t)i, 0);
	push(5, -1);
	push(6, -1);
	assert_int_equal(P.overflow, 2);
	mark("{}");                        /* behind frame 4, not 6 */
	for (int i = 1; i <= 4; i++) {
		assert_null(due());
		assert_int_equal(tick(), i);
	}
	assert_string_equal(due(), "{}");
	assert_int_equal(tick(), -1);
	/* wrapping round the ring many times keeps the order: two in, one out */
	int next_in = 10, next_out = 10;
	for (int i = 0; i < 60; i++) {
		if (P.count < P.cap)
			push((uint8_t)next_in++, 0);
		if (i % 2)
			assert_int_equal(tick(), next_out++);
	}
	while (P.count)
		assert_int_equal(tick(), next_out++);
	assert_int_equal(next_out, next_in);
	assert_int_equal(P.overflow, 2);
}

static void test_playback_mark_limits(void **state)
{
	(void)state;
	char big[PLAYBACK_PAYLOAD_MAX + 2];
	memset(big, 'x', sizeof big);
	assert_int_equal(playback_notify(&P, big, PLAYBACK_PAYLOAD_MAX + 1), -1);
	assert_int_equal(playback_notify(&P, big, PLAYBACK_PAYLOAD_MAX), 0);
	push(1, 0);
	for (int i = 1; i < PLAYBACK_MARKS; i++)
		assert_int_equal(playback_notify(&P, "{}", 2), 0);
	assert_int_equal(playback_notify(&P, "{}", 2), -1);   /* all PLAYBACK_MARKS wait */
	assert_int_equal(P.mark_count, PLAYBACK_MARKS);
	assert_non_null(due());                            /* the first was before frame 1 */
	assert_null(due());
}

static void test_playback_command_parses_clear_and_notify(void **state)
{
	(void)state;
	char pl[64];
	size_t n = 0;
#define CMD(s) playback_command(s, strlen(s), pl, sizeof pl, &n)
	assert_int_equal(CMD("{\"action\":\"clear\"}"), PLAYBACK_CMD_CLEAR);
	assert_int_equal(CMD("{\"action\":\"notify\",\"payload\":{ \"id\" : 7, \"s\":\"x\" }}"), PLAYBACK_CMD_NOTIFY);
	assert_string_equal(pl, "{\"id\":7,\"s\":\"x\"}");
	assert_int_equal(n, strlen(pl));
	assert_int_equal(CMD("{\"action\":\"notify\",\"payload\":{}}"), PLAYBACK_CMD_NOTIFY);
	assert_string_equal(pl, "{}");
	/* everything else is bad, and none of it crashes */
	static const char *const bad[] = {
		"", "null", "[]", "{}", "clear", "{\"action\":\"Clear\"}", "{\"action\":1}", "{\"action\":\"hangup\"}",
		"{\"action\":\"notify\"}", "{\"action\":\"notify\",\"payload\":[1]}", "{\"action\":\"notify\",\"payload\":\"x\"}",
		"{\"action\":\"clear\"", "{\"event\":\"websocket:cleared\"}",
		"{\"action\":\"notify\",\"payload\":{\"long\":\"0123456789012345678901234567890123456789012345678901234567890\"}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(CMD(bad[i]), PLAYBACK_CMD_BAD);
	/* not NUL-terminated: the length is what counts */
	const char cut[] = "{\"action\":\"clear\"}garbage";
	assert_int_equal(playback_command(cut, 18, pl, sizeof pl, &n), PLAYBACK_CMD_CLEAR);
#undef CMD
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_playback_tick_plays_in_order_then_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_playback_mark_due_only_when_reached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_playback_mark_on_empty_buffer_is_due_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_playback_clear_discards_and_answers_marks_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_playback_overflow_drops_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_playback_mark_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_playback_command_parses_clear_and_notify, setup, teardown),
	};
	return cmocka_run_group_tests_name("sim_playback", tests, NULL, NULL);
}
