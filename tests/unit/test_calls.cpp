/*
 * test_calls.cpp -- unit tests for src/calls.cpp: the list of open calls
 * (ids, opening order, unlinking anywhere), the closed totals a close folds
 * a call's counters and figures into, the counters read where they are kept
 * (the ring's drops, the voice app's commands), calls by app, and the
 * hang-ups asked through the call's transport (calls_fake.h records them):
 * one call, or the operator's by id, uuid or address range.
 *
 * setup gives each test an empty list and a pool of zeroed records; what
 * the fake transport was asked is reset too.
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

#include "calls_fake.h"

#define T_START 1700000000L
#define POOL 16

struct fixture {
	struct calls cs;
	struct call conn[POOL];
};

static int setup_calls(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	calls_init(&f->cs);
	memset(&calls_fake_sent, 0, sizeof calls_fake_sent);
	*state = f;
	return 0;
}

static int teardown_calls(void **state)
{
	free(*state);
	return 0;
}

/* Walk the open list both ways (head to tail, tail to head); returns its length. */
static uint32_t check_list(const struct calls *cs)
{
	uint32_t n = 0, back = 0;
	const struct call *prev = NULL;

	for (const struct call *c = cs->head; c; c = c->next) {
		assert_ptr_equal(c->prev, prev);
		assert_true(c->id != 0);
		if (prev)
			assert_true(c->id > prev->id);   /* opening order: oldest first */
		prev = c;
		n++;
		assert_true(n <= POOL);
	}
	assert_ptr_equal(cs->tail, prev);
	for (const struct call *c = cs->tail; c; c = c->prev) {
		back++;
		assert_true(back <= POOL);
	}
	assert_int_equal(back, n);
	assert_int_equal(n, cs->open);
	return n;
}

/* --- init / open / close / totals --------------------------------------- */

static void test_calls_init_zeroes_everything(void **state)
{
	struct calls cs;
	struct call_counters t;
	(void)state;

	memset(&cs, 0xAB, sizeof cs);
	calls_init(&cs);
	assert_int_equal(cs.open, 0);
	assert_int_equal(cs.total, 0);
	assert_int_equal(cs.next_id, 1);
	assert_null(cs.head);
	assert_null(cs.tail);
	assert_int_equal(cs.quality.calls, 0);
	memset(&t, 0xAB, sizeof t);
	calls_totals(&cs, &t);
	assert_int_equal(t.packets_received + t.bytes_received + t.packets_sent + t.bytes_sent + t.frames_dropped +
				 t.clear_sent + t.notify_sent + t.cleared + t.notified + t.app_refused,
			 0);
	assert_int_equal(calls_in_app(&cs, "echo"), 0);
}

static void test_calls_open_assigns_ids_and_links(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct addr a;

	calls_fake_open(&f->cs, &f->conn[0], "192.0.2.1", T_START + 1);
	/* the transport zeroes its record; the links are open's to set, whatever they held */
	memset(&f->conn[1], 0, sizeof f->conn[1]);
	f->conn[1].prev = f->conn[1].next = &f->conn[9];
	assert_int_equal(addr_parse("2001:db8::7", &a), 0);
	calls_open(&f->cs, &f->conn[1], &a, "192.0.2.2", T_START + 2, &calls_fake_transport, &calls_fake_sent);
	calls_fake_open(&f->cs, &f->conn[2], NULL, T_START + 3);
	assert_int_equal(f->conn[0].id, 1);
	assert_int_equal(f->conn[1].id, 2);
	assert_int_equal(f->conn[2].id, 3);
	assert_int_equal(f->cs.next_id, 4);
	assert_string_equal(f->conn[0].remote, "192.0.2.1");
	assert_string_equal(f->conn[2].remote, "");
	assert_int_equal(f->conn[1].connected_at, T_START + 2);
	assert_memory_equal(&f->conn[1].client, &a, sizeof a);
	assert_ptr_equal(f->conn[1].tx, &calls_fake_transport);
	assert_ptr_equal(f->conn[1].tx_arg, &calls_fake_sent);
	/* a fresh record says nothing yet */
	assert_string_equal(calls_uuid(&f->conn[0]), "");
	assert_string_equal(calls_from(&f->conn[0]), "");
	assert_string_equal(calls_app(&f->conn[0]), "");
	assert_int_equal(f->conn[0].bytes_received, 0);
	assert_int_equal(f->conn[0].last_dtmf, 0);
	assert_int_equal(f->cs.open, 3);
	assert_int_equal(f->cs.total, 3);
	/* opening order: oldest first */
	assert_ptr_equal(f->cs.head, &f->conn[0]);
	assert_null(f->conn[0].prev);
	assert_ptr_equal(f->conn[0].next, &f->conn[1]);
	assert_ptr_equal(f->conn[1].prev, &f->conn[0]);
	assert_ptr_equal(f->conn[1].next, &f->conn[2]);
	assert_null(f->conn[2].next);
	assert_ptr_equal(f->cs.tail, &f->conn[2]);
	assert_int_equal(check_list(&f->cs), 3);
}

static void test_calls_open_truncates_remote(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char remote[100];

	memset(remote, 'r', sizeof remote - 1);
	remote[sizeof remote - 1] = '\0';
	calls_fake_open(&f->cs, &f->conn[0], remote, T_START);
	assert_int_equal(strlen(f->conn[0].remote), sizeof f->conn[0].remote - 1);
	assert_memory_equal(f->conn[0].remote, remote, sizeof f->conn[0].remote - 1);
}

static void test_calls_close_unlinks_anywhere(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	for (int i = 0; i < 5; i++)
		calls_fake_open(&f->cs, &f->conn[i], "peer", T_START);
	/* list: 0 1 2 3 4 -- close the middle, the head and the tail */
	calls_close(&f->cs, &f->conn[2]);
	assert_int_equal(check_list(&f->cs), 4);
	assert_ptr_equal(f->conn[1].next, &f->conn[3]);
	assert_ptr_equal(f->conn[3].prev, &f->conn[1]);
	calls_close(&f->cs, &f->conn[0]);
	assert_ptr_equal(f->cs.head, &f->conn[1]);
	assert_null(f->conn[1].prev);
	assert_int_equal(check_list(&f->cs), 3);
	calls_close(&f->cs, &f->conn[4]);
	assert_null(f->conn[3].next);
	assert_ptr_equal(f->cs.tail, &f->conn[3]);
	assert_int_equal(check_list(&f->cs), 2);
	calls_close(&f->cs, &f->conn[1]);
	calls_close(&f->cs, &f->conn[3]);
	assert_null(f->cs.head);
	assert_null(f->cs.tail);
	assert_int_equal(f->cs.open, 0);
	assert_int_equal(f->cs.total, 5);
	/* closed records are detached, and a closed call has no id */
	assert_null(f->conn[2].next);
	assert_null(f->conn[2].prev);
	assert_int_equal(f->conn[2].id, 0);
	/* ids are never given twice */
	calls_fake_open(&f->cs, &f->conn[0], "again", T_START);
	assert_int_equal(f->conn[0].id, 6);
	assert_ptr_equal(f->cs.head, &f->conn[0]);
	assert_ptr_equal(f->cs.tail, &f->conn[0]);
	assert_int_equal(check_list(&f->cs), 1);
}

static void test_calls_close_is_idempotent(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct call_counters t;

	calls_fake_open(&f->cs, &f->conn[0], "a", T_START);
	calls_fake_open(&f->cs, &f->conn[1], "b", T_START);
	calls_fake_counters_from(&f->conn[0], 100);
	calls_close(&f->cs, &f->conn[0]);
	calls_close(&f->cs, &f->conn[0]);   /* second close: nothing folded twice */
	assert_int_equal(f->cs.open, 1);
	assert_int_equal(f->cs.total, 2);
	assert_int_equal(f->cs.closed.packets_received, 101);
	assert_int_equal(f->cs.closed.frames_dropped, 105);
	assert_int_equal(f->cs.closed.notified, 109);
	assert_int_equal(f->cs.closed.app_refused, 110);
	assert_int_equal(check_list(&f->cs), 1);
	assert_ptr_equal(f->cs.head, &f->conn[1]);
	/* a zeroed record that was never opened */
	memset(&f->conn[9], 0, sizeof f->conn[9]);
	calls_close(&f->cs, &f->conn[9]);
	assert_int_equal(f->cs.open, 1);
	assert_int_equal(check_list(&f->cs), 1);
	calls_totals(&f->cs, &t);
	assert_int_equal(t.packets_received, 101);
}

static void test_calls_totals_closed_plus_open(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct call_counters t;

	for (int i = 0; i < 3; i++) {
		calls_fake_open(&f->cs, &f->conn[i], "p", T_START);
		calls_fake_counters_from(&f->conn[i], (uint64_t)(i + 1) * 1000);
	}
	calls_totals(&f->cs, &t);
	assert_int_equal(t.packets_received, 1001 + 2001 + 3001);
	assert_int_equal(t.bytes_received, 1002 + 2002 + 3002);
	assert_int_equal(t.packets_sent, 1003 + 2003 + 3003);
	assert_int_equal(t.bytes_sent, 1004 + 2004 + 3004);
	assert_int_equal(t.frames_dropped, 1005 + 2005 + 3005);
	assert_int_equal(t.clear_sent, 1006 + 2006 + 3006);
	assert_int_equal(t.notify_sent, 1007 + 2007 + 3007);
	assert_int_equal(t.cleared, 1008 + 2008 + 3008);
	assert_int_equal(t.notified, 1009 + 2009 + 3009);
	assert_int_equal(t.app_refused, 1010 + 2010 + 3010);
	/* closing a call moves its counters, the sum does not change */
	calls_close(&f->cs, &f->conn[1]);
	calls_totals(&f->cs, &t);
	assert_int_equal(t.bytes_sent, 1004 + 2004 + 3004);
	assert_int_equal(t.cleared, 1008 + 2008 + 3008);
	assert_int_equal(f->cs.closed.bytes_sent, 2004);
	assert_int_equal(f->cs.closed.clear_sent, 2006);
	/* counters of a still-open call keep counting into the total, where they are kept */
	f->conn[0].bytes_sent += 10;
	f->conn[0].ring.dropped += 2;
	f->conn[2].voice.n.notify_sent += 3;
	calls_totals(&f->cs, &t);
	assert_int_equal(t.bytes_sent, 1004 + 2004 + 3004 + 10);
	assert_int_equal(t.frames_dropped, 1005 + 2005 + 3005 + 2);
	assert_int_equal(t.notify_sent, 1007 + 2007 + 3007 + 3);
	/* large values do not wrap at 32 bits */
	f->conn[2].bytes_received = 5000000000ull;
	calls_totals(&f->cs, &t);
	assert_int_equal(t.bytes_received, 1002 + 2002 + 5000000000ull);
}

/* A counter is read where it is kept: nothing is copied into the record per frame. */
static void test_calls_counters_read_where_kept(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct call *c = &f->conn[0];
	struct call_counters k;

	calls_fake_open(&f->cs, c, "p", T_START);
	c->packets_received = 1;
	c->bytes_received = 2;
	c->packets_sent = 3;
	c->bytes_sent = 4;
	c->ring.dropped = 5;           /* the ring counts its drops */
	c->voice.n.clear_sent = 6;     /* the voice seam its commands and Vonage's answers */
	c->voice.n.notify_sent = 7;
	c->voice.n.cleared = 8;
	c->voice.n.notified = 9;
	c->voice.n.refused = 10;
	c->voice.n.switches = 99;      /* not a call counter: not read */
	c->voice.log_suppressed = 11;
	calls_fake_set(c, "u-1", "447700900001", &calls_fake_parrot);
	calls_counters(c, &k);
	assert_int_equal(k.packets_received, 1);
	assert_int_equal(k.bytes_received, 2);
	assert_int_equal(k.packets_sent, 3);
	assert_int_equal(k.bytes_sent, 4);
	assert_int_equal(k.frames_dropped, 5);
	assert_int_equal(k.clear_sent, 6);
	assert_int_equal(k.notify_sent, 7);
	assert_int_equal(k.cleared, 8);
	assert_int_equal(k.notified, 9);
	assert_int_equal(k.app_refused, 10);
	assert_string_equal(calls_uuid(c), "u-1");
	assert_string_equal(calls_from(c), "447700900001");
	assert_string_equal(calls_app(c), "parrot");
	assert_int_equal(calls_log_suppressed(c), 11);
	/* the app changes (a DTMF switch): the record follows, nothing to update */
	c->voice.app = &calls_fake_echo;
	assert_string_equal(calls_app(c), "echo");
}

/* A closed call's media figures go into the totals /metrics renders, once. */
static void test_calls_close_folds_quality(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const uint8_t pcm[640] = { 0 };

	calls_fake_open(&f->cs, &f->conn[0], "a", T_START);
	calls_fake_open(&f->cs, &f->conn[1], "b", T_START);   /* no audio: not scored */
	for (int i = 0; i < 10; i++)
		quality_frame(&f->conn[0].q, (uint64_t)i * 20000, pcm, sizeof pcm);
	quality_dwell(&f->conn[0].q, 40);
	quality_dwell(&f->conn[1].q, 3000);
	calls_close(&f->cs, &f->conn[0]);
	calls_close(&f->cs, &f->conn[0]);
	assert_int_equal(f->cs.quality.calls, 1);
	assert_int_equal(f->cs.quality.dwell_sum_us, 40);
	calls_close(&f->cs, &f->conn[1]);   /* its dwell times count, whatever its frames */
	assert_int_equal(f->cs.quality.calls, 1);
	assert_int_equal(f->cs.quality.dwell_sum_us, 3040);
}

/* --- calls by app ------------------------------------------------------- */

static void test_calls_in_app(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	for (int i = 0; i < 5; i++)
		calls_fake_open(&f->cs, &f->conn[i], "p", T_START);
	calls_fake_set(&f->conn[0], NULL, NULL, &calls_fake_parrot);
	calls_fake_set(&f->conn[1], NULL, NULL, &calls_fake_parrot);
	calls_fake_set(&f->conn[2], NULL, NULL, &calls_fake_echo);
	calls_fake_set(&f->conn[3], NULL, NULL, NULL);   /* not in an app yet */
	calls_fake_set(&f->conn[4], NULL, NULL, &calls_fake_delay);
	assert_int_equal(calls_in_app(&f->cs, "parrot"), 2);
	assert_int_equal(calls_in_app(&f->cs, "echo"), 1);
	assert_int_equal(calls_in_app(&f->cs, "delay"), 1);
	assert_int_equal(calls_in_app(&f->cs, "robot"), 0);
	assert_int_equal(calls_in_app(&f->cs, "parro"), 0);   /* the whole name */
	/* a switch moves a call; a closed call is in none */
	f->conn[2].voice.app = &calls_fake_parrot;
	calls_close(&f->cs, &f->conn[0]);
	assert_int_equal(calls_in_app(&f->cs, "parrot"), 2);
	assert_int_equal(calls_in_app(&f->cs, "echo"), 0);
}

/* --- hang-ups through the transport ------------------------------------- */

static void test_calls_hangup_asks_the_transport_once(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct call *c = &f->conn[0];

	calls_fake_open(&f->cs, c, "p", T_START);
	assert_int_equal(calls_hangup(c, 1000, "closed by the operator"), 1);
	assert_int_equal(calls_fake_sent.closes, 1);
	assert_int_equal(calls_fake_sent.ids[0], 1);
	assert_int_equal(calls_fake_sent.codes[0], 1000);   /* the rules hold the code when the transport sends */
	assert_string_equal(c->rules.pending_why, "closed by the operator");
	/* asked already: not asked again, the first code stands */
	assert_int_equal(calls_hangup(c, 1008, "again"), 0);
	assert_int_equal(calls_fake_sent.closes, 1);
	assert_int_equal(c->rules.pending_close, 1000);
	/* a call whose own close is under way is not asked */
	calls_fake_open(&f->cs, &f->conn[1], "q", T_START);
	assert_int_equal(call_rules_begin_close(&f->conn[1].rules), 1);
	assert_int_equal(calls_hangup(&f->conn[1], 1000, "late"), 0);
	assert_int_equal(calls_fake_sent.closes, 1);
	assert_int_equal(f->conn[1].rules.pending_close, 0);
	/* the list is the transport's to change (it closes the call later) */
	assert_int_equal(check_list(&f->cs), 2);
}

/*
 * Calls 1..6: uuids u-1 .. u-6 (call 6 also u-1: the same uuid twice), from
 * 192.0.2.1, .2, 198.51.100.3, 192.0.2.4, 2001:db8::5, 2001:db8:1::6.
 */
static void open_six(struct fixture *f)
{
	static const char *const ip[6] = { "192.0.2.1", "192.0.2.2", "198.51.100.3", "192.0.2.4", "2001:db8::5",
					   "2001:db8:1::6" };
	static const char *const uuid[6] = { "u-1", "u-2", "u-3", "u-4", "u-5", "u-1" };
	for (int i = 0; i < 6; i++) {
		calls_fake_open_from(&f->cs, &f->conn[i], ip[i], T_START);
		calls_fake_set(&f->conn[i], uuid[i], "447700900001", &calls_fake_echo);
	}
}

static void test_calls_hangup_matching_by_id(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint64_t first = 99;
	struct cidr all;

	open_six(f);
	assert_int_equal(cidr_parse("::/0", &all), 0);
	/* an id wins over a uuid and a range given with it */
	assert_int_equal(calls_hangup_matching(&f->cs, 3, "u-1", &all, 1000, "op", &first), 1);
	assert_int_equal(first, 3);
	assert_int_equal(calls_fake_sent.closes, 1);
	assert_int_equal(calls_fake_sent.ids[0], 3);
	assert_int_equal(calls_fake_sent.codes[0], 1000);
	/* the same id again: it is on its way out, nothing asked */
	first = 99;
	assert_int_equal(calls_hangup_matching(&f->cs, 3, NULL, NULL, 1000, "op", &first), 0);
	assert_int_equal(first, 0);
	/* an id no open call has */
	assert_int_equal(calls_hangup_matching(&f->cs, 42, NULL, NULL, 1000, "op", &first), 0);
	assert_int_equal(first, 0);
	calls_close(&f->cs, &f->conn[1]);   /* call 2 is gone: its id matches nothing */
	assert_int_equal(calls_hangup_matching(&f->cs, 2, NULL, NULL, 1000, "op", &first), 0);
	assert_int_equal(calls_fake_sent.closes, 1);
	/* no id, no uuid, no range: nothing */
	assert_int_equal(calls_hangup_matching(&f->cs, 0, NULL, NULL, 1000, "op", &first), 0);
	assert_int_equal(calls_hangup_matching(&f->cs, 0, "", NULL, 1000, "op", &first), 0);
	assert_int_equal(calls_fake_sent.closes, 1);
}

static void test_calls_hangup_matching_by_uuid(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint64_t first = 99;
	struct cidr all;

	open_six(f);
	assert_int_equal(cidr_parse("0.0.0.0/0", &all), 0);
	/* the whole uuid, every call that has it, oldest first; the range is not used */
	assert_int_equal(calls_hangup_matching(&f->cs, 0, "u-1", &all, 1001, "op", &first), 2);
	assert_int_equal(first, 1);
	assert_int_equal(calls_fake_sent.closes, 2);
	assert_int_equal(calls_fake_sent.ids[0], 1);
	assert_int_equal(calls_fake_sent.ids[1], 6);
	assert_int_equal(calls_fake_sent.codes[1], 1001);
	assert_int_equal(calls_hangup_matching(&f->cs, 0, "u-", NULL, 1000, "op", &first), 0);   /* not a prefix */
	assert_int_equal(first, 0);
	assert_int_equal(calls_hangup_matching(&f->cs, 0, "u-10", NULL, 1000, "op", &first), 0);
	/* already asked: skipped, not counted */
	assert_int_equal(calls_hangup_matching(&f->cs, 0, "u-1", NULL, 1000, "op", &first), 0);
	assert_int_equal(first, 0);
	assert_int_equal(calls_fake_sent.closes, 2);
	assert_int_equal(calls_hangup_matching(&f->cs, 0, "u-5", NULL, 1000, "op", &first), 1);
	assert_int_equal(first, 5);
	assert_int_equal(calls_fake_sent.closes, 3);
}

static void test_calls_hangup_matching_by_cidr(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint64_t first = 99;
	struct cidr net;

	open_six(f);
	/* call 1 is closing on its own already: skipped, and not the first */
	assert_int_equal(call_rules_begin_close(&f->conn[0].rules), 1);
	assert_int_equal(cidr_parse("192.0.2.0/24", &net), 0);
	assert_int_equal(calls_hangup_matching(&f->cs, 0, NULL, &net, 1008, "blocked", &first), 2);
	assert_int_equal(first, 2);
	assert_int_equal(calls_fake_sent.closes, 2);
	assert_int_equal(calls_fake_sent.ids[0], 2);
	assert_int_equal(calls_fake_sent.ids[1], 4);
	assert_int_equal(calls_fake_sent.codes[0], 1008);
	assert_string_equal(f->conn[3].rules.pending_why, "blocked");
	/* an empty uuid is no uuid: the range is used */
	assert_int_equal(cidr_parse("2001:db8::/32", &net), 0);
	assert_int_equal(calls_hangup_matching(&f->cs, 0, "", &net, 1008, "blocked", &first), 2);
	assert_int_equal(first, 5);
	assert_int_equal(calls_fake_sent.ids[2], 5);
	assert_int_equal(calls_fake_sent.ids[3], 6);
	/* a narrower range, and one that holds nobody */
	assert_int_equal(cidr_parse("198.51.100.3", &net), 0);
	assert_int_equal(calls_hangup_matching(&f->cs, 0, NULL, &net, 1008, "blocked", &first), 1);
	assert_int_equal(first, 3);
	assert_int_equal(cidr_parse("203.0.113.0/24", &net), 0);
	assert_int_equal(calls_hangup_matching(&f->cs, 0, NULL, &net, 1008, "blocked", &first), 0);
	assert_int_equal(first, 0);
	assert_int_equal(calls_fake_sent.closes, 5);
	/* every call was asked or is closing: nothing more to ask */
	assert_int_equal(cidr_parse("::/0", &net), 0);
	assert_int_equal(calls_hangup_matching(&f->cs, 0, NULL, &net, 1008, "blocked", &first), 0);
	assert_int_equal(calls_fake_sent.closes, 5);
	assert_int_equal(check_list(&f->cs), 6);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_calls, teardown_calls)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_calls_init_zeroes_everything),
		T(test_calls_open_assigns_ids_and_links),
		T(test_calls_open_truncates_remote),
		T(test_calls_close_unlinks_anywhere),
		T(test_calls_close_is_idempotent),
		T(test_calls_totals_closed_plus_open),
		T(test_calls_counters_read_where_kept),
		T(test_calls_close_folds_quality),
		T(test_calls_in_app),
		T(test_calls_hangup_asks_the_transport_once),
		T(test_calls_hangup_matching_by_id),
		T(test_calls_hangup_matching_by_uuid),
		T(test_calls_hangup_matching_by_cidr),
	};
	return cmocka_run_group_tests_name("calls", tests, NULL, NULL);
}
