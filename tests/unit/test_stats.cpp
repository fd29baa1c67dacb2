/*
 * test_stats.cpp -- unit tests for src/stats.cpp (per-connection rows, totals,
 * JSON and HTML rendering).
 *
 * setup gives each test a fresh struct stats started at T_START and a pool
 * of connection rows. The JSON is compared byte for byte for small cases and
 * parsed back with cJSON for the rest; the HTML is checked for escaping,
 * completeness and exact counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define T_START 1700000000L   /* 2023-11-14T22:13:20Z */
#define POOL 600

struct fixture {
	struct stats s;
	struct stats_conn conn[POOL];
};

static int setup_stats(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	stats_init(&f->s, T_START);
	*state = f;
	return 0;
}

static int teardown_stats(void **state)
{
	free(*state);
	return 0;
}

/* Walk the open list both ways; returns its length. */
static uint32_t check_list(const struct stats *s)
{
	uint32_t n = 0;
	const struct stats_conn *prev = NULL;

	for (const struct stats_conn *c = s->head; c; c = c->next) {
		assert_ptr_equal(c->prev, prev);
		assert_true(c->id != 0);
		prev = c;
		n++;
		assert_true(n <= POOL);
	}
	assert_int_equal(n, s->connections_open);
	return n;
}

static void set_counters(struct stats_conn *c, uint64_t base)
{
	c->c.packets_received = base + 1;
	c->c.bytes_received = base + 2;
	c->c.packets_sent = base + 3;
	c->c.bytes_sent = base + 4;
	c->c.frames_dropped = base + 5;
}

/* --- init / open / close / totals --------------------------------------- */

static void test_stats_init_zeroes_everything(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct stats s;
	struct stats_counters t;

	memset(&s, 0xAB, sizeof s);
	stats_init(&s, 42);
	assert_int_equal(s.started, 42);
	assert_int_equal(s.connections_open, 0);
	assert_int_equal(s.connections_total, 0);
	assert_int_equal(s.events_received, 0);
	assert_null(s.head);
	for (int r = 0; r < REJECT__COUNT; r++)
		assert_int_equal(s.rejected[r], 0);
	memset(&t, 0xAB, sizeof t);
	stats_totals(&s, &t);
	assert_int_equal(t.packets_received + t.bytes_received + t.packets_sent + t.bytes_sent + t.frames_dropped, 0);
	(void)f;
}

static void test_stats_conn_open_assigns_ids_and_links(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	memset(&f->conn[0], 0xCD, sizeof f->conn[0]);   /* open must not trust old contents */
	stats_conn_open(&f->s, &f->conn[0], "192.0.2.1", T_START + 1);
	stats_conn_open(&f->s, &f->conn[1], "192.0.2.2", T_START + 2);
	stats_conn_open(&f->s, &f->conn[2], NULL, T_START + 3);
	assert_int_equal(f->conn[0].id, 1);
	assert_int_equal(f->conn[1].id, 2);
	assert_int_equal(f->conn[2].id, 3);
	assert_string_equal(f->conn[0].remote, "192.0.2.1");
	assert_string_equal(f->conn[2].remote, "");
	assert_int_equal(f->conn[1].connected_at, T_START + 2);
	assert_string_equal(f->conn[0].uuid, "");
	assert_int_equal(f->conn[0].c.bytes_received, 0);
	assert_int_equal(f->conn[0].last_dtmf, 0);
	assert_int_equal(f->s.connections_open, 3);
	assert_int_equal(f->s.connections_total, 3);
	/* newest first */
	assert_ptr_equal(f->s.head, &f->conn[2]);
	assert_ptr_equal(f->conn[2].next, &f->conn[1]);
	assert_ptr_equal(f->conn[1].next, &f->conn[0]);
	assert_null(f->conn[0].next);
	assert_int_equal(check_list(&f->s), 3);
}

static void test_stats_conn_open_truncates_remote(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char remote[100];

	memset(remote, 'r', sizeof remote - 1);
	remote[sizeof remote - 1] = '\0';
	stats_conn_open(&f->s, &f->conn[0], remote, T_START);
	assert_int_equal(strlen(f->conn[0].remote), sizeof f->conn[0].remote - 1);
	assert_memory_equal(f->conn[0].remote, remote, sizeof f->conn[0].remote - 1);
}

static void test_stats_conn_close_unlinks_anywhere(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	for (int i = 0; i < 5; i++)
		stats_conn_open(&f->s, &f->conn[i], "peer", T_START);
	/* list: 4 3 2 1 0 -- close the middle, the head and the tail */
	stats_conn_close(&f->s, &f->conn[2]);
	assert_int_equal(check_list(&f->s), 4);
	assert_ptr_equal(f->conn[3].next, &f->conn[1]);
	assert_ptr_equal(f->conn[1].prev, &f->conn[3]);
	stats_conn_close(&f->s, &f->conn[4]);
	assert_ptr_equal(f->s.head, &f->conn[3]);
	assert_null(f->conn[3].prev);
	assert_int_equal(check_list(&f->s), 3);
	stats_conn_close(&f->s, &f->conn[0]);
	assert_null(f->conn[1].next);
	assert_int_equal(check_list(&f->s), 2);
	stats_conn_close(&f->s, &f->conn[3]);
	stats_conn_close(&f->s, &f->conn[1]);
	assert_null(f->s.head);
	assert_int_equal(f->s.connections_open, 0);
	assert_int_equal(f->s.connections_total, 5);
	/* closed rows are detached */
	assert_null(f->conn[2].next);
	assert_null(f->conn[2].prev);
}

static void test_stats_conn_close_is_idempotent(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct stats_counters t;

	stats_conn_open(&f->s, &f->conn[0], "a", T_START);
	stats_conn_open(&f->s, &f->conn[1], "b", T_START);
	set_counters(&f->conn[0], 100);
	stats_conn_close(&f->s, &f->conn[0]);
	stats_conn_close(&f->s, &f->conn[0]);   /* second close: nothing folded twice */
	assert_int_equal(f->s.connections_open, 1);
	assert_int_equal(f->s.closed.packets_received, 101);
	assert_int_equal(f->s.closed.frames_dropped, 105);
	assert_int_equal(check_list(&f->s), 1);
	assert_ptr_equal(f->s.head, &f->conn[1]);
	/* a zeroed row that was never opened */
	memset(&f->conn[9], 0, sizeof f->conn[9]);
	stats_conn_close(&f->s, &f->conn[9]);
	assert_int_equal(f->s.connections_open, 1);
	stats_totals(&f->s, &t);
	assert_int_equal(t.packets_received, 101);
}

static void test_stats_totals_closed_plus_open(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct stats_counters t;

	for (int i = 0; i < 3; i++) {
		stats_conn_open(&f->s, &f->conn[i], "p", T_START);
		set_counters(&f->conn[i], (uint64_t)(i + 1) * 1000);
	}
	stats_totals(&f->s, &t);
	assert_int_equal(t.packets_received, 1001 + 2001 + 3001);
	assert_int_equal(t.bytes_received, 1002 + 2002 + 3002);
	assert_int_equal(t.packets_sent, 1003 + 2003 + 3003);
	assert_int_equal(t.bytes_sent, 1004 + 2004 + 3004);
	assert_int_equal(t.frames_dropped, 1005 + 2005 + 3005);
	/* closing a row moves its counters, the sum does not change */
	stats_conn_close(&f->s, &f->conn[1]);
	stats_totals(&f->s, &t);
	assert_int_equal(t.bytes_sent, 1004 + 2004 + 3004);
	assert_int_equal(f->s.closed.bytes_sent, 2004);
	/* counters of a still-open row keep counting into the total */
	f->conn[0].c.bytes_sent += 10;
	stats_totals(&f->s, &t);
	assert_int_equal(t.bytes_sent, 1004 + 2004 + 3004 + 10);
	/* large values do not wrap at 32 bits */
	f->conn[2].c.bytes_received = 5000000000ull;
	stats_totals(&f->s, &t);
	assert_int_equal(t.bytes_received, 1002 + 2002 + 5000000000ull);
}

/* --- reject names ------------------------------------------------------- */

static void test_stats_reject_str_names(void **state)
{
	(void)state;
	static const char *const want[REJECT__COUNT] = {
		"ok", "missing", "not_bearer", "malformed", "bad_alg", "bad_signature", "expired",
		"not_yet_valid", "no_iat", "iat_too_old", "iat_in_future", "wrong_application",
		"bad_path", "origin", "capacity", "shutting_down", "addr_calls", "addr_rate",
		"addr_table_full", "addr_conns", "replay", "missing_jti", "replay_table_full", "msg_rate", "idle",
		"webhook_auth", "payload_hash", "stats_access",
	};
	assert_int_equal(REJECT__COUNT, 28);
	for (int r = 0; r < REJECT__COUNT; r++)
		assert_string_equal(stats_reject_str(r), want[r]);
	assert_string_equal(stats_reject_str(REJECT_BAD_PATH), "bad_path");
	assert_string_equal(stats_reject_str(REJECT_SHUTTING_DOWN), "shutting_down");
	assert_string_equal(stats_reject_str(AUTH_BAD_SIGNATURE), "bad_signature");
	assert_string_equal(stats_reject_str(REJECT__COUNT), "unknown");
	assert_string_equal(stats_reject_str(-1), "unknown");
}

/* --- JSON --------------------------------------------------------------- */

#define EMPTY_TOTALS                                                                                  \
	"\"totals\":{\"packets_received\":0,\"bytes_received\":0,\"packets_sent\":0,\"bytes_sent\":0,"      \
	"\"frames_dropped\":0,\"connections_open\":0,\"connections_total\":0}"
#define ZERO_REJECTED                                                                                 \
	"\"rejected\":{\"missing\":0,\"not_bearer\":0,\"malformed\":0,\"bad_alg\":0,\"bad_signature\":0,"  \
	"\"expired\":0,\"not_yet_valid\":0,\"no_iat\":0,\"iat_too_old\":0,\"iat_in_future\":0,"             \
	"\"wrong_application\":0,\"bad_path\":0,\"origin\":0,\"capacity\":0,\"shutting_down\":0" \
	",\"addr_calls\":0,\"addr_rate\":0,\"addr_table_full\":0,\"addr_conns\":0,\"replay\":0,\"missing_jti\":0,\"replay_table_full\":0,\"msg_rate\":0,\"idle\":0,\"webhook_auth\":0,\"payload_hash\":0,\"stats_access\":0}"

static void test_stats_render_json_empty(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len = 12345;

	char *j = stats_render_json(&f->s, T_START + 5, &len);
	assert_non_null(j);
	assert_string_equal(j, "{\"worker\":\"\",\"pid\":0,\"uptime_s\":5,\"connections\":[]," EMPTY_TOTALS "," ZERO_REJECTED
			       ",\"events_received\":0}");
	assert_int_equal(len, strlen(j));
	free(j);
}

static void test_stats_render_json_one_connection(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct stats_conn *c = &f->conn[0];
	size_t len = 0;

	stats_conn_open(&f->s, c, "198.51.100.7", T_START);
	snprintf(c->uuid, sizeof c->uuid, "%s", "aaaaaaaa-bbbb");
	snprintf(c->content_type, sizeof c->content_type, "%s", "audio/l16;rate=16000");
	set_counters(c, 10);
	c->dtmf_count = 2;
	c->last_dtmf = '#';
	c->invalid_messages = 1;
	f->s.rejected[AUTH_BAD_SIGNATURE] = 4;
	f->s.rejected[REJECT_CAPACITY] = 9;
	f->s.events_received = 6;

	char *j = stats_render_json(&f->s, T_START + 60, &len);
	assert_non_null(j);
	assert_string_equal(
		j, "{\"worker\":\"\",\"pid\":0,\"uptime_s\":60,\"connections\":[{\"id\":1,\"remote\":\"198.51.100.7\",\"uuid\":\"aaaaaaaa-bbbb\","
		   "\"content_type\":\"audio/l16;rate=16000\",\"connected_at\":\"2023-11-14T22:13:20Z\","
		   "\"packets_received\":11,\"bytes_received\":12,\"packets_sent\":13,\"bytes_sent\":14,"
		   "\"frames_dropped\":15,\"dtmf_count\":2,\"last_dtmf\":\"#\",\"invalid_messages\":1}],"
		   "\"totals\":{\"packets_received\":11,\"bytes_received\":12,\"packets_sent\":13,\"bytes_sent\":14,"
		   "\"frames_dropped\":15,\"connections_open\":1,\"connections_total\":1},"
		   "\"rejected\":{\"missing\":0,\"not_bearer\":0,\"malformed\":0,\"bad_alg\":0,\"bad_signature\":4,"
		   "\"expired\":0,\"not_yet_valid\":0,\"no_iat\":0,\"iat_too_old\":0,\"iat_in_future\":0,"
		   "\"wrong_application\":0,\"bad_path\":0,\"origin\":0,\"capacity\":9,\"shutting_down\":0"
	",\"addr_calls\":0,\"addr_rate\":0,\"addr_table_full\":0,\"addr_conns\":0,\"replay\":0,\"missing_jti\":0,\"replay_table_full\":0,\"msg_rate\":0,\"idle\":0,\"webhook_auth\":0,\"payload_hash\":0,\"stats_access\":0},"
		   "\"events_received\":6}");
	assert_int_equal(len, strlen(j));
	free(j);

	/* no DTMF yet: last_dtmf is "" */
	c->last_dtmf = 0;
	j = stats_render_json(&f->s, T_START, &len);
	assert_non_null(strstr(j, "\"last_dtmf\":\"\","));
	assert_non_null(strstr(j, "\"uptime_s\":0,"));
	free(j);
}

static void test_stats_render_json_totals_include_closed(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	for (int i = 0; i < 4; i++) {
		stats_conn_open(&f->s, &f->conn[i], "p", T_START);
		set_counters(&f->conn[i], 0);
	}
	f->conn[3].c.bytes_received = 5000000000ull;   /* beyond 32 bits, exact in JSON */
	stats_conn_close(&f->s, &f->conn[0]);
	stats_conn_close(&f->s, &f->conn[3]);

	char *j = stats_render_json(&f->s, T_START, &len);
	cJSON *root = cJSON_Parse(j);
	assert_non_null(root);
	const cJSON *conns = cJSON_GetObjectItemCaseSensitive(root, "connections");
	assert_int_equal(cJSON_GetArraySize(conns), 2);
	/* newest open row first */
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(conns, 0), "id")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(conns, 1), "id")->valueint, 2);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "totals");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(t, "connections_open")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(t, "connections_total")->valueint, 4);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(t, "packets_received")->valueint, 4);
	assert_true(cJSON_GetObjectItemCaseSensitive(t, "bytes_received")->valuedouble == 5000000006.0);
	assert_non_null(strstr(j, "\"bytes_received\":5000000006,"));
	cJSON_Delete(root);
	free(j);
}

static void test_stats_render_json_escapes_strings(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	stats_conn_open(&f->s, &f->conn[0], "a\"b\\c", T_START);
	snprintf(f->conn[0].uuid, sizeof f->conn[0].uuid, "%s", "</script><script>x\n");
	char *j = stats_render_json(&f->s, T_START, &len);
	cJSON *root = cJSON_Parse(j);
	assert_non_null(root);
	const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "connections"), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(row, "remote")->valuestring, "a\"b\\c");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(row, "uuid")->valuestring, "</script><script>x\n");
	cJSON_Delete(root);
	free(j);
}

/* --- HTML --------------------------------------------------------------- */

static void assert_complete_page(const char *h, size_t len)
{
	assert_int_equal(len, strlen(h));
	assert_true(strncmp(h, "<!doctype html>\n", 16) == 0);
	assert_true(len > 15);
	assert_string_equal(h + len - 15, "</body></html>\n");
}

static void test_stats_render_html_empty(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len = 0;

	f->s.rejected[AUTH_EXPIRED] = 3;
	f->s.rejected[REJECT_ORIGIN] = 12345678901ull;
	f->s.events_received = 7;
	char *h = stats_render_html(&f->s, T_START + 90, &len);
	assert_non_null(h);
	assert_complete_page(h, len);
	assert_non_null(strstr(h, "Up 90s &middot; 0 open &middot; 0 total calls"));
	assert_non_null(strstr(h, "<tr><th colspan=\"5\">all calls</th><td>0</td><td>0</td><td>0</td><td>0</td>"
				  "<td>0</td><td></td></tr>"));
	assert_non_null(strstr(h, "<tr><td class=\"l\">expired</td><td>3</td></tr>"));
	assert_non_null(strstr(h, "<tr><td class=\"l\">origin</td><td>12345678901</td></tr>"));
	assert_non_null(strstr(h, "<tr><td class=\"l\">shutting_down</td><td>0</td></tr>"));
	assert_null(strstr(h, ">ok<"));   /* AUTH_OK is not a refusal */
	assert_non_null(strstr(h, "Event webhooks received: 7</p>"));
	free(h);
}

/* Several processes on one port: each page says which one it is. */
static void test_stats_render_names_the_worker(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len = 0;

	snprintf(f->s.worker, sizeof f->s.worker, "%s", "w2");
	f->s.pid = 4242;
	char *j = stats_render_json(&f->s, T_START, &len);
	assert_non_null(j);
	assert_memory_equal(j, "{\"worker\":\"w2\",\"pid\":4242,\"uptime_s\":0,", 39);
	free(j);
	char *h = stats_render_html(&f->s, T_START, &len);
	assert_non_null(h);
	assert_non_null(strstr(h, "<h1>caller-echo w2</h1><p>pid 4242 &middot; Up 0s"));
	free(h);
}

static void test_stats_render_html_rows(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	stats_conn_open(&f->s, &f->conn[0], "203.0.113.9", T_START);
	snprintf(f->conn[0].uuid, sizeof f->conn[0].uuid, "%s", "u-1");
	snprintf(f->conn[0].content_type, sizeof f->conn[0].content_type, "%s", "audio/l16;rate=8000");
	set_counters(&f->conn[0], 0);
	f->conn[0].dtmf_count = 3;
	f->conn[0].last_dtmf = '7';
	stats_conn_open(&f->s, &f->conn[1], "203.0.113.10", T_START + 1);
	char *h = stats_render_html(&f->s, T_START + 2, &len);
	assert_non_null(h);
	assert_complete_page(h, len);
	assert_non_null(strstr(h, "Up 2s &middot; 2 open &middot; 2 total calls"));
	assert_non_null(strstr(h, "<tr><td>1</td><td class=\"l\">203.0.113.9</td><td class=\"l\">u-1</td>"
				  "<td class=\"l\">audio/l16;rate=8000</td><td class=\"l\">2023-11-14T22:13:20Z</td>"
				  "<td>1</td><td>2</td><td>3</td><td>4</td><td>5</td><td>3 last 7</td></tr>\n"));
	assert_non_null(strstr(h, "<tr><td>2</td><td class=\"l\">203.0.113.10</td><td class=\"l\"></td>"
				  "<td class=\"l\"></td><td class=\"l\">2023-11-14T22:13:21Z</td>"
				  "<td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0 </td></tr>\n"));
	/* newest row first */
	assert_true(strstr(h, "<tr><td>2</td>") < strstr(h, "<tr><td>1</td>"));
	assert_non_null(strstr(h, "all calls</th><td>1</td><td>2</td><td>3</td><td>4</td><td>5</td>"));
	free(h);
}

static void test_stats_render_html_escapes_fields(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	stats_conn_open(&f->s, &f->conn[0], "<b>&'\"", T_START);
	snprintf(f->conn[0].uuid, sizeof f->conn[0].uuid, "%s", "<script>alert(1)</script>");
	snprintf(f->conn[0].content_type, sizeof f->conn[0].content_type, "%s", "\"><img src=x>");
	char *h = stats_render_html(&f->s, T_START, &len);
	assert_non_null(h);
	assert_complete_page(h, len);
	assert_null(strstr(h, "<script>"));
	assert_null(strstr(h, "<img"));
	assert_null(strstr(h, "<b>"));
	assert_non_null(strstr(h, ">&lt;b&gt;&amp;&#39;&quot;</td>"));
	assert_non_null(strstr(h, ">&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
	assert_non_null(strstr(h, ">&quot;&gt;&lt;img src=x&gt;</td>"));
	free(h);
}

static void test_stats_render_html_many_rows(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;
	char want[64];

	/* full-length fields of plain characters, as the sanitised inputs are */
	for (int i = 0; i < POOL; i++) {
		struct stats_conn *c = &f->conn[i];
		stats_conn_open(&f->s, c, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff:65535", T_START);
		memset(c->uuid, 'u', sizeof c->uuid - 1);
		memset(c->content_type, 'c', sizeof c->content_type - 1);
		c->c.packets_received = c->c.bytes_received = c->c.packets_sent = c->c.bytes_sent =
			c->c.frames_dropped = UINT64_MAX;
		c->dtmf_count = UINT32_MAX;
		c->last_dtmf = '*';
	}
	char *h = stats_render_html(&f->s, T_START, &len);
	assert_non_null(h);
	assert_complete_page(h, len);
	for (int i = 1; i <= POOL; i++) {
		snprintf(want, sizeof want, "<tr><td>%d</td>", i);
		assert_non_null(strstr(h, want));
	}
	assert_non_null(strstr(h, "<td>18446744073709551615</td>"));
	free(h);
}

static void test_stats_render_html_never_truncates(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	/*
	 * Worst case for the escaper: every field full of characters that
	 * expand (here '"' -> "&quot;"). Whatever the page size estimate, the
	 * result is either NULL or a complete page -- never a cut-off one.
	 * (Today this input gives NULL: ROW_MAX in stats.cpp is smaller than a
	 * fully escaped row; see the report. Fields are sanitised upstream.)
	 */
	for (int i = 0; i < 50; i++) {
		struct stats_conn *c = &f->conn[i];
		stats_conn_open(&f->s, c, NULL, T_START);
		memset(c->remote, '"', sizeof c->remote - 1);
		memset(c->uuid, '"', sizeof c->uuid - 1);
		memset(c->content_type, '"', sizeof c->content_type - 1);
	}
	char *h = stats_render_html(&f->s, T_START, &len);
	if (h) {
		assert_complete_page(h, len);
		free(h);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_stats, teardown_stats)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_stats_init_zeroes_everything),
		T(test_stats_conn_open_assigns_ids_and_links),
		T(test_stats_conn_open_truncates_remote),
		T(test_stats_conn_close_unlinks_anywhere),
		T(test_stats_conn_close_is_idempotent),
		T(test_stats_totals_closed_plus_open),
		T(test_stats_reject_str_names),
		T(test_stats_render_json_empty),
		T(test_stats_render_json_one_connection),
		T(test_stats_render_json_totals_include_closed),
		T(test_stats_render_json_escapes_strings),
		T(test_stats_render_html_empty),
		T(test_stats_render_html_rows),
		T(test_stats_render_names_the_worker),
		T(test_stats_render_html_escapes_fields),
		T(test_stats_render_html_many_rows),
		T(test_stats_render_html_never_truncates),
	};
	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
