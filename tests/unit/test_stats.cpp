/*
 * test_stats.cpp -- unit tests for src/stats.cpp (per-second history, recent
 * events, close codes, the call view and JSON rendering; the list of open
 * calls and its totals are test_calls.cpp's, the HTML page
 * test_stats_page.cpp's).
 *
 * setup gives each test a fresh struct stats started at T_START, an empty
 * list of calls and a pool of call records (calls_fake.h opens them the way
 * the transport does). The JSON is compared byte for byte for small cases
 * and parsed back with cJSON for the rest.
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

#include "calls_fake.h"
#include "replay.h"
#include "stats.h"

#define T_START 1700000000L   /* 2023-11-14T22:13:20Z */
#define POOL 600

struct fixture {
	struct stats s;
	struct calls cs;
	struct call conn[POOL];
};

static int setup_stats(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	stats_init(&f->s, T_START);
	calls_init(&f->cs);
	*state = f;
	return 0;
}

static int teardown_stats(void **state)
{
	free(*state);
	return 0;
}

/* o[key] is the number want */
static void assert_num(const cJSON *o, const char *key, double want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v))
		print_error("%s: not a number\n", key);
	assert_true(cJSON_IsNumber(v));
	assert_true(v->valuedouble == want);
}

static void assert_str(const cJSON *o, const char *key, const char *want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	assert_true(cJSON_IsString(v));
	assert_string_equal(v->valuestring, want);
}

/* --- init --------------------------------------------------------------- */

static void test_stats_init_zeroes_everything(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct stats s;

	memset(&s, 0xAB, sizeof s);
	stats_init(&s, 42);
	assert_int_equal(s.started, 42);
	assert_int_equal(s.events_received, 0);
	for (int r = 0; r < REJECT__COUNT; r++)
		assert_int_equal(s.rejected[r], 0);
	(void)f;
}

/* --- reject names ------------------------------------------------------- */

/* --- JSON --------------------------------------------------------------- */

/* Every value of an object is zero (numbers), empty (arrays) or, nested, the same. */
static void assert_all_zero(const cJSON *o, const char *where)
{
	for (const cJSON *it = o->child; it; it = it->next) {
		if (cJSON_IsNumber(it)) {
			if (it->valuedouble != 0)
				fail_msg("%s.%s = %g, want 0", where, it->string, it->valuedouble);
		} else if (cJSON_IsArray(it)) {
			if (cJSON_GetArraySize(it))
				fail_msg("%s.%s is not empty", where, it->string);
		} else if (cJSON_IsObject(it)) {
			assert_all_zero(it, it->string);
		} else {
			fail_msg("%s.%s is not a number, array or object", where, it->string);
		}
	}
}

/* The member names of object o, in order, comma-separated. */
static const char *keys(const cJSON *o)
{
	static char buf[2048];
	size_t n = 0;
	buf[0] = '\0';
	for (const cJSON *it = o ? o->child : NULL; it && n < sizeof buf - 64; it = it->next)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? "," : "", it->string);
	return buf;
}

static void test_stats_render_json_empty(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len = 12345;

	char *j = stats_render_json(&f->s, &f->cs, NULL, T_START + 5, &len);
	assert_non_null(j);
	assert_int_equal(len, strlen(j));
	cJSON *root = cJSON_Parse(j);
	assert_non_null(root);
	/* the documented shape (docs/behaviour.md), in its order */
	assert_string_equal(keys(root), "worker,pid,uptime_s,calls_view,connections,totals,quality,draining,calls_by_app,"
					"app_heap_bytes,app_heap_max,frame_slots,replay_store,rejected,events_received,version,"
					"started_at,now,rate,history,events_by_status,recent_events,closes,"
					"params_truncated,security,admin");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(root, "draining")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "calls_by_app")), 0);   /* no apps named */
	assert_string_equal(cJSON_GetObjectItem(root, "worker")->valuestring, "");
	assert_int_equal(cJSON_GetObjectItem(root, "uptime_s")->valueint, 5);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "connections")), 0);
	assert_string_equal(cJSON_GetObjectItem(root, "version")->valuestring, CALLER_ECHO_VERSION);
	assert_string_equal(cJSON_GetObjectItem(root, "started_at")->valuestring, "2023-11-14T22:13:20Z");
	assert_int_equal((long)cJSON_GetObjectItem(root, "now")->valuedouble, T_START + 5);
	/* nothing happened yet: every counter is zero, every list empty */
	assert_all_zero(cJSON_GetObjectItem(root, "totals"), "totals");
	assert_all_zero(cJSON_GetObjectItem(root, "rejected"), "rejected");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "rejected")), REJECT__COUNT - 1);
	assert_all_zero(cJSON_GetObjectItem(root, "events_by_status"), "events_by_status");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "events_by_status")), EV__COUNT);
	assert_all_zero(cJSON_GetObjectItem(root, "closes"), "closes");
	assert_string_equal(keys(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "closes"), "peer")),
			    "1000,1001,1002,1003,1005,1006,1007,1008,1009,1010,1011,other");
	const cJSON *rate = cJSON_GetObjectItem(root, "rate");
	assert_int_equal(cJSON_GetObjectItem(rate, "window_s")->valueint, STATS_RATE_WINDOW);
	assert_int_equal(cJSON_GetObjectItem(rate, "frames_in_per_s")->valueint, 0);
	const cJSON *hist = cJSON_GetObjectItem(root, "history");
	assert_int_equal(cJSON_GetObjectItem(hist, "interval_s")->valueint, 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(hist, "frames_in_per_s")), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "recent_events")), 0);
	const cJSON *adm = cJSON_GetObjectItem(root, "admin");
	assert_string_equal(keys(adm), "actions,auto_blocks,auto_blocks_evicted,blocks_full,block_file_refused,recent,blocks");
	assert_all_zero(adm, "admin");
	cJSON_Delete(root);
	free(j);
}

static void test_stats_render_json_one_connection(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct call *c = &f->conn[0];
	size_t len = 0;

	calls_fake_open(&f->cs, c, "198.51.100.7", T_START);
	calls_fake_set(c, "aaaaaaaa-bbbb", "447700900001", NULL);
	snprintf(c->content_type, sizeof c->content_type, "%s", "audio/l16;rate=16000");
	calls_fake_counters_from(c, 10);
	c->dtmf_count = 2;
	c->last_dtmf = '#';
	c->invalid_messages = 1;
	c->voice.log_suppressed = 3;
	f->s.call_log_suppressed = 5;   /* this call's 3 and a closed one's 2 */
	f->s.rejected[AUTH_BAD_SIGNATURE] = 4;
	f->s.rejected[REJECT_CAPACITY] = 9;
	f->s.events_received = 6;

	static const char *const names[] = { "echo", "delay" };
	f->s.app_names = names;
	f->s.n_app_names = 2;
	c->voice.app = &calls_fake_delay;

	char *j = stats_render_json(&f->s, &f->cs, NULL, T_START + 60, &len);
	assert_non_null(j);
	cJSON *root = cJSON_Parse(j);
	assert_non_null(root);
	/* the call's row: every field, with its value */
	const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "connections"), 0);
	assert_string_equal(keys(row), "id,remote,uuid,content_type,connected_at,packets_received,bytes_received,"
				       "packets_sent,bytes_sent,frames_dropped,clear_sent,notify_sent,cleared,"
				       "notified,app_refused,dtmf_count,last_dtmf,invalid_messages,log_suppressed,from,app,"
				       "duration_s,"
				       "quality");
	assert_string_equal(keys(cJSON_GetObjectItem(row, "quality")),
			    "mos,jitter_ms,gaps,gap_frames,longest_gap_ms,burst_frames,behind_frames,dwell_p50_ms,"
			    "dwell_p99_ms,level_dbfs,recent_dbfs,silent_pct,clipped_samples");
	assert_num(row, "id", 1);
	assert_str(row, "remote", "198.51.100.7");
	assert_str(row, "uuid", "aaaaaaaa-bbbb");
	assert_str(row, "content_type", "audio/l16;rate=16000");
	assert_str(row, "connected_at", "2023-11-14T22:13:20Z");
	static const char *const counters[] = { "packets_received", "bytes_received", "packets_sent", "bytes_sent",
						"frames_dropped", "clear_sent", "notify_sent", "cleared", "notified",
						"app_refused" };
	for (int i = 0; i < 10; i++)
		assert_num(row, counters[i], 11 + i);
	assert_num(row, "dtmf_count", 2);
	assert_str(row, "last_dtmf", "#");
	assert_num(row, "invalid_messages", 1);
	assert_num(row, "log_suppressed", 3);
	assert_str(row, "from", "447700900001");
	assert_str(row, "app", "delay");
	assert_num(row, "duration_s", 60);
	/* the totals: the one open call */
	const cJSON *tot = cJSON_GetObjectItemCaseSensitive(root, "totals");
	for (int i = 0; i < 10; i++)
		assert_num(tot, counters[i], 11 + i);
	f->s.app_heap_bytes = 0;
	assert_num(tot, "log_suppressed", 5);
	assert_num(tot, "connections_open", 1);
	assert_num(tot, "connections_total", 1);
	/* calls by app: every app named, 0 included */
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(root, "calls_by_app");
	assert_string_equal(keys(by), "echo,delay");
	assert_num(by, "echo", 0);
	assert_num(by, "delay", 1);
	const cJSON *rej = cJSON_GetObjectItemCaseSensitive(root, "rejected");
	assert_int_equal(cJSON_GetArraySize(rej), REJECT__COUNT - 1);
	for (int r = 1; r < REJECT__COUNT; r++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(rej, refusal_name(r));
		assert_non_null(v);
		assert_int_equal(v->valueint, r == AUTH_BAD_SIGNATURE ? 4 : r == REJECT_CAPACITY ? 9 : 0);
	}
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "events_received")->valueint, 6);
	cJSON_Delete(root);
	assert_int_equal(len, strlen(j));
	free(j);

	/* no DTMF yet: last_dtmf is "" */
	c->last_dtmf = 0;
	j = stats_render_json(&f->s, &f->cs, NULL, T_START, &len);
	assert_non_null(strstr(j, "\"last_dtmf\":\"\","));
	assert_non_null(strstr(j, "\"uptime_s\":0,"));
	free(j);
}

static void test_stats_render_json_draining(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	calls_fake_open(&f->cs, &f->conn[0], "a", T_START);
	calls_fake_open(&f->cs, &f->conn[1], "b", T_START);
	f->s.drain_started = T_START + 100;
	f->s.drain_deadline = T_START + 700;
	char *j = stats_render_json(&f->s, &f->cs, NULL, T_START + 160, &len);
	cJSON *root = cJSON_Parse(j);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "draining");
	assert_string_equal(keys(d), "since,deadline,calls_left");
	assert_str(d, "since", "2023-11-14T22:15:00Z");
	assert_str(d, "deadline", "2023-11-14T22:25:00Z");
	assert_num(d, "calls_left", 2);
	cJSON_Delete(root);
	free(j);
}

/* the jti table: its size, entries, memory, the load it is sized for, refusals */
static void test_stats_render_json_replay_store(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store_stats rs;
	struct replay *t = replay_create(REPLAY_SLOTS_MIN);
	size_t len;

	assert_non_null(t);
	replay_init(t, 3);
	assert_int_equal(replay_check_insert(t, "a", 1, T_START, T_START + 330), REPLAY_NEW);
	assert_int_equal(replay_check_insert(t, "b", 1, T_START, T_START + 330), REPLAY_NEW);
	memset(&rs, 0, sizeof rs);
	rs.checks = 2;
	rs.full = 1;
	f->s.replay = &rs;
	f->s.replay_kind = "file";
	f->s.replay_table = t;
	f->s.replay_design_live = 1000;
	char *j = stats_render_json(&f->s, &f->cs, NULL, T_START, &len);
	cJSON *root = cJSON_Parse(j);
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "replay_store");
	assert_string_equal(keys(r), "kind,slots,live,memory_bytes,design_live,full,file_unsafe,checks,errors,fallbacks,reconnects,"
				     "rtt_us_avg,rtt_us_max,redis_errors");
	assert_str(r, "kind", "file");
	assert_num(r, "slots", REPLAY_SLOTS_MIN);
	assert_num(r, "live", 2);
	assert_num(r, "memory_bytes", (double)replay_bytes(REPLAY_SLOTS_MIN));
	assert_num(r, "design_live", 1000);
	assert_num(r, "full", 1);
	assert_num(r, "checks", 2);
	cJSON_Delete(root);
	free(j);
	f->s.replay = NULL;
	f->s.replay_table = NULL;
	replay_destroy(t);
}

static void test_stats_render_json_totals_include_closed(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	for (int i = 0; i < 4; i++) {
		calls_fake_open(&f->cs, &f->conn[i], "p", T_START);
		calls_fake_counters_from(&f->conn[i], 0);
	}
	f->conn[3].bytes_received = 5000000000ull;   /* beyond 32 bits, exact in JSON */
	calls_close(&f->cs, &f->conn[0]);
	calls_close(&f->cs, &f->conn[3]);

	char *j = stats_render_json(&f->s, &f->cs, NULL, T_START, &len);
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

/* ?calls= and ?match= as the query gives them */
static void test_stats_view_args(void **state)
{
	(void)state;
	struct stats_view v;
	const char *why = NULL;
	stats_view_default(&v);
	assert_int_equal(v.limit, STATS_VIEW_CALLS);
	assert_int_equal(stats_view_arg(&v, "calls=7", 7, &why), 0);
	assert_int_equal(v.limit, 7);
	assert_int_equal(stats_view_arg(&v, "calls=all", 9, &why), 0);
	assert_int_equal(v.limit, STATS_VIEW_MAX);
	assert_int_equal(stats_view_arg(&v, "calls=100000", 12, &why), 0);
	assert_int_equal(v.limit, 100000);
	static const char *const bad[] = { "calls=", "calls=0", "calls=100001", "calls=-1", "calls=1x", "calls=All",
					   "calls=99999999999999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		assert_int_equal(stats_view_arg(&v, bad[i], strlen(bad[i]), &why), -1);
		assert_non_null(strstr(why, "calls= takes"));
	}
	assert_int_equal(stats_view_arg(&v, "match=4477", 10, &why), 0);
	assert_string_equal(v.match, "4477");
	char long_match[6 + 64 + 1];
	memcpy(long_match, "match=", 6);
	memset(long_match + 6, 'x', 64);
	long_match[70] = '\0';
	assert_int_equal(stats_view_arg(&v, long_match, 69, &why), 0);        /* 63 bytes: fits */
	assert_int_equal(strlen(v.match), 63);
	assert_int_equal(stats_view_arg(&v, long_match, 70, &why), -1);       /* 64: refused */
	assert_non_null(strstr(why, "match= is at most 63"));
	assert_int_equal(stats_view_arg(&v, "other=1", 7, &why), 0);         /* not ours: ignored */
	assert_int_equal(stats_view_arg(&v, "match=", 6, &why), 0);
	assert_string_equal(v.match, "");
}

/* issue 19: ?match=%FF was echoed into /stats.json as a raw byte (not UTF-8) */
static void test_stats_view_match_must_be_utf8_text(void **state)
{
	(void)state;
	struct stats_view v;
	const char *why;
	static const char *const bad[] = {
		"match=\xff", "match=ab\xfe", "match=\x80", "match=\xc3", "match=\xc0\xaf" /* overlong / */,
		"match=\xe0\x80\xaf", "match=\xed\xa0\x80" /* a surrogate */, "match=\xf4\x90\x80\x80" /* > U+10FFFF */,
		"match=\xf8\x88\x80\x80\x80", "match=a\tb", "match=\n", "match=\x7f", "match=\xc2\x85" /* C1 NEL */,
		"match=\xe2\x82", "match=x\xf0\x9f\x98",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		stats_view_default(&v);
		why = NULL;
		assert_int_equal(stats_view_arg(&v, bad[i], strlen(bad[i]), &why), -1);
		assert_string_equal(why, "match= must be UTF-8 text without control characters");
		assert_string_equal(v.match, "");   /* nothing taken */
	}
	/* a NUL decoded from %00 is a control character too (len says where the value ends) */
	assert_int_equal(stats_view_arg(&v, "match=a\0b", 9, &why), -1);
	static const char *const good[] = { "match=447700", "match=caf\xc3\xa9", "match=\xe2\x82\xac",
					    "match=\xf0\x9f\x98\x80", "match=\xf4\x8f\xbf\xbf", "match=a b" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		stats_view_default(&v);
		assert_int_equal(stats_view_arg(&v, good[i], strlen(good[i]), &why), 0);
		assert_string_equal(v.match, good[i] + 6);
	}
	/* what the JSON echoes is then valid UTF-8 as it stands */
	struct stats s;
	struct calls cs;
	size_t len;
	stats_init(&s, T_START);
	calls_init(&cs);
	stats_view_default(&v);
	assert_int_equal(stats_view_arg(&v, "match=caf\xc3\xa9", 11, &why), 0);
	char *j = stats_render_json_view(&s, &cs, NULL, &v, T_START, &len);
	assert_non_null(j);
	assert_non_null(strstr(j, "\"match\":\"caf\xc3\xa9\""));
	free(j);
}

/* worst score first (ties: newest first), limited, filtered by uuid or caller */
static void test_stats_select_worst_first(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const uint8_t pcm[640] = { 0 };
	struct stats_view v;
	uint32_t n, matching;
	int oom;

	stats_view_default(&v);
	assert_null(stats_select(&f->cs, &v, &n, &matching, &oom));
	assert_int_equal(n + matching + oom, 0);
	for (int i = 0; i < 5; i++) {
		calls_fake_open(&f->cs, &f->conn[i], "a", T_START);
		char uuid[24], from[24];
		snprintf(uuid, sizeof uuid, "uuid-%d", i);
		snprintf(from, sizeof from, "44770090000%d", i % 2);
		calls_fake_set(&f->conn[i], uuid, from, NULL);
		/* call i misses i * 3 frames of 100: call 4 is the worst */
		for (int k = 0; k < 100; k++)
			if (k < 50 || k >= 50 + i * 3)
				quality_frame(&f->conn[i].q, (uint64_t)k * 20000, pcm, sizeof pcm);
	}
	const struct call **sel = stats_select(&f->cs, &v, &n, &matching, &oom);
	assert_int_equal(n, 5);
	assert_int_equal(matching, 5);
	for (int i = 0; i < 5; i++)
		assert_ptr_equal(sel[i], &f->conn[4 - i]);
	free(sel);
	v.limit = 2;
	sel = stats_select(&f->cs, &v, &n, &matching, &oom);
	assert_int_equal(n, 2);
	assert_int_equal(matching, 5);
	assert_ptr_equal(sel[0], &f->conn[4]);
	assert_ptr_equal(sel[1], &f->conn[3]);
	free(sel);
	v.limit = STATS_VIEW_MAX;
	snprintf(v.match, sizeof v.match, "%s", "900001");   /* the caller of calls 1 and 3 */
	sel = stats_select(&f->cs, &v, &n, &matching, &oom);
	assert_int_equal(n, 2);
	assert_ptr_equal(sel[0], &f->conn[3]);
	assert_ptr_equal(sel[1], &f->conn[1]);
	free(sel);
	snprintf(v.match, sizeof v.match, "%s", "uuid-2");
	sel = stats_select(&f->cs, &v, &n, &matching, &oom);
	assert_int_equal(n, 1);
	assert_ptr_equal(sel[0], &f->conn[2]);
	free(sel);
	snprintf(v.match, sizeof v.match, "%s", "nothing");
	assert_null(stats_select(&f->cs, &v, &n, &matching, &oom));
	assert_int_equal(n + matching + oom, 0);
	/* the summary over every open call */
	struct stats_quality_now q;
	stats_quality_read(&f->cs, &q);
	assert_int_equal(q.calls, 5);
	struct quality_report worst;
	quality_read(&f->conn[4].q, &worst);
	assert_true(q.worst_mos == worst.mos);
	assert_true(q.mean_mos > worst.mos);
}

static void test_stats_render_json_escapes_strings(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	calls_fake_open(&f->cs, &f->conn[0], "a\"b\\c", T_START);
	calls_fake_set(&f->conn[0], "</script><script>x\n", NULL, NULL);
	char *j = stats_render_json(&f->s, &f->cs, NULL, T_START, &len);
	cJSON *root = cJSON_Parse(j);
	assert_non_null(root);
	const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "connections"), 0);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(row, "remote")->valuestring, "a\"b\\c");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(row, "uuid")->valuestring, "</script><script>x\n");
	cJSON_Delete(root);
	free(j);
}

/* --- per-second history ------------------------------------------------- */

static void test_stats_sample_one_per_second(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct call *c = &f->conn[0];
	double in, out;

	calls_fake_open(&f->cs, c, "p", T_START);
	stats_sample(&f->s, &f->cs, T_START);   /* first call: baseline only */
	assert_int_equal(f->s.hist_len, 0);
	c->packets_received = 50;
	c->packets_sent = 48;
	stats_sample(&f->s, &f->cs, T_START);   /* same second: nothing */
	assert_int_equal(f->s.hist_len, 0);
	stats_sample(&f->s, &f->cs, T_START + 1);
	assert_int_equal(f->s.hist_len, 1);
	assert_int_equal(f->s.hist_in[0], 50);
	assert_int_equal(f->s.hist_out[0], 48);
	stats_sample(&f->s, &f->cs, T_START + 1);   /* the tick runs 10x a second */
	assert_int_equal(f->s.hist_len, 1);
	c->packets_received = 150;
	c->packets_sent = 150;
	stats_sample(&f->s, &f->cs, T_START + 2);
	assert_int_equal(f->s.hist_len, 2);
	assert_int_equal(f->s.hist_in[1], 100);
	assert_int_equal(f->s.hist_out[1], 102);
	stats_rate(&f->s, 5, &in, &out);       /* fewer samples than the window */
	assert_true(in == 75.0);
	assert_true(out == 75.0);
	stats_rate(&f->s, 1, &in, &out);
	assert_true(in == 100.0);
}

/* Several processes on one port: each /stats.json says which one it is. */
static void test_stats_render_names_the_worker(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len = 0;

	snprintf(f->s.worker, sizeof f->s.worker, "%s", "w2");
	f->s.pid = 4242;
	char *j = stats_render_json(&f->s, &f->cs, NULL, T_START, &len);
	assert_non_null(j);
	assert_memory_equal(j, "{\"worker\":\"w2\",\"pid\":4242,\"uptime_s\":0,", 39);
	free(j);
}

static void test_stats_render_replay_store_redis_errors(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store_stats r;
	size_t len = 0;

	memset(&r, 0, sizeof r);
	r.errors = 7;
	r.redis_errors[REPLAY_REDIS_AUTH] = 2;
	r.redis_errors[REPLAY_REDIS_TLS] = 1;
	r.redis_errors[REPLAY_REDIS_CONNECTION] = 4;
	f->s.replay = &r;
	f->s.replay_kind = "redis";
	char *j = stats_render_json(&f->s, &f->cs, NULL, T_START, &len);
	assert_non_null(j);
	cJSON *root = cJSON_Parse(j);
	const cJSON *st = cJSON_GetObjectItem(root, "replay_store");
	assert_string_equal(keys(st), "kind,slots,live,memory_bytes,design_live,full,file_unsafe,checks,errors,fallbacks,reconnects,rtt_us_avg,rtt_us_max,redis_errors");
	const cJSON *e = cJSON_GetObjectItem(st, "redis_errors");
	assert_string_equal(keys(e), "timeout,oversized,unexpected,auth,tls,connection,backoff");
	assert_int_equal(cJSON_GetObjectItem(e, "auth")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItem(e, "tls")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(e, "connection")->valueint, 4);
	assert_int_equal(cJSON_GetObjectItem(e, "timeout")->valueint, 0);
	cJSON_Delete(root);
	free(j);
	f->s.replay = NULL;
	f->s.replay_kind = NULL;
}

static void test_stats_sample_spreads_a_gap_and_keeps_history_bounded(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct call *c = &f->conn[0];
	double in, out;

	calls_fake_open(&f->cs, c, "p", T_START);
	stats_sample(&f->s, &f->cs, T_START);
	c->packets_received = 300;
	stats_sample(&f->s, &f->cs, T_START + 3);   /* a stalled loop: 3 s at once */
	assert_int_equal(f->s.hist_len, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(f->s.hist_in[i], 100);
	for (int t = 4; t < 4 + 2 * STATS_HISTORY; t++) {
		c->packets_received += (uint64_t)t;
		stats_sample(&f->s, &f->cs, T_START + t);
	}
	assert_int_equal(f->s.hist_len, STATS_HISTORY);
	/* the newest sample is the last second's delta */
	uint32_t newest = (f->s.hist_head + STATS_HISTORY - 1) % STATS_HISTORY;
	assert_int_equal(f->s.hist_in[newest], 3 + 2 * STATS_HISTORY);
	stats_rate(&f->s, 2, &in, &out);
	assert_true(in == (double)(3 + 2 * STATS_HISTORY + 2 + 2 * STATS_HISTORY) / 2);
	assert_true(out == 0.0);
	/* a gap longer than the whole history fills it once, no more */
	c->packets_received += 1000ull * STATS_HISTORY;
	stats_sample(&f->s, &f->cs, T_START + 10000 + 1000 * STATS_HISTORY);
	assert_int_equal(f->s.hist_len, STATS_HISTORY);
}

static void test_stats_sample_survives_clock_going_back(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct call *c = &f->conn[0];

	calls_fake_open(&f->cs, c, "p", T_START);
	stats_sample(&f->s, &f->cs, T_START + 10);
	c->packets_received = 7;
	stats_sample(&f->s, &f->cs, T_START + 5);   /* back: new baseline, no sample */
	assert_int_equal(f->s.hist_len, 0);
	c->packets_received = 17;
	stats_sample(&f->s, &f->cs, T_START + 6);
	assert_int_equal(f->s.hist_len, 1);
	assert_int_equal(f->s.hist_in[0], 10);
}

static void test_stats_sample_counts_closed_calls(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	calls_fake_open(&f->cs, &f->conn[0], "p", T_START);
	stats_sample(&f->s, &f->cs, T_START);
	f->conn[0].packets_received = 40;
	calls_close(&f->cs, &f->conn[0]);   /* counters move to "closed": still counted */
	stats_sample(&f->s, &f->cs, T_START + 1);
	assert_int_equal(f->s.hist_in[0], 40);
	stats_sample(&f->s, &f->cs, T_START + 2);   /* and never counted twice or negative */
	assert_int_equal(f->s.hist_in[1], 0);
}

/* --- events and closes -------------------------------------------------- */

static void test_stats_event_record_counts_status_and_keeps_last_20(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char uuid[16];

	stats_event_record(&f->s, T_START, "started", "u-0");
	stats_event_record(&f->s, T_START, "answered", NULL);
	stats_event_record(&f->s, T_START, "Answered", "x");   /* case matters: "other" */
	stats_event_record(&f->s, T_START, "", "x");
	stats_event_record(&f->s, T_START, NULL, "x");
	assert_int_equal(f->s.events_by_status[EV_STARTED], 1);
	assert_int_equal(f->s.events_by_status[EV_ANSWERED], 1);
	assert_int_equal(f->s.events_by_status[EV_OTHER], 3);
	assert_int_equal(f->s.recent_len, 5);
	assert_string_equal(f->s.recent[1].uuid, "");
	assert_string_equal(f->s.recent[1].status, "answered");
	for (int i = 0; i < 30; i++) {
		snprintf(uuid, sizeof uuid, "u-%d", i);
		stats_event_record(&f->s, T_START + i, "completed", uuid);
	}
	assert_int_equal(f->s.recent_len, STATS_RECENT_EVENTS);
	assert_int_equal(f->s.events_by_status[EV_COMPLETED], 30);
	/* the newest is just before recent_head, the oldest kept is u-10 */
	uint32_t newest = (f->s.recent_head + STATS_RECENT_EVENTS - 1) % STATS_RECENT_EVENTS;
	assert_string_equal(f->s.recent[newest].uuid, "u-29");
	assert_int_equal(f->s.recent[newest].at, T_START + 29);
	assert_string_equal(f->s.recent[f->s.recent_head].uuid, "u-10");
	/* long strings are cut, not overflowed */
	char big[200];
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	stats_event_record(&f->s, T_START, big, big);
	newest = (f->s.recent_head + STATS_RECENT_EVENTS - 1) % STATS_RECENT_EVENTS;
	assert_int_equal(strlen(f->s.recent[newest].uuid), sizeof f->s.recent[0].uuid - 1);
	assert_int_equal(strlen(f->s.recent[newest].status), sizeof f->s.recent[0].status - 1);
}

static void test_stats_event_status_names(void **state)
{
	(void)state;
	static const char *const want[EV__COUNT] = {
		"started", "ringing", "answered", "machine", "human", "completed", "busy",
		"cancelled", "failed", "rejected", "timeout", "unanswered", "disconnected", "other",
	};
	for (int i = 0; i < EV__COUNT; i++) {
		assert_string_equal(stats_event_status_str(i), want[i]);
		assert_int_equal(stats_event_status(want[i]), i);
	}
	assert_string_equal(stats_event_status_str(EV__COUNT), "other");
	assert_string_equal(stats_event_status_str(-1), "other");
	assert_int_equal(stats_event_status("transfer"), EV_OTHER);
}

static void test_stats_close_record_by_code_and_side(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	stats_close_record(&f->s, CLOSE_BY_SERVER, 1001);
	stats_close_record(&f->s, CLOSE_BY_SERVER, 1001);
	stats_close_record(&f->s, CLOSE_BY_SERVER, 1009);
	stats_close_record(&f->s, CLOSE_BY_PEER, 1000);
	stats_close_record(&f->s, CLOSE_BY_PEER, 1005);
	stats_close_record(&f->s, CLOSE_BY_PEER, 4000);   /* application codes: "other" */
	stats_close_record(&f->s, CLOSE_BY_PEER, 999);
	stats_close_record(&f->s, (enum close_side)7, 1000);   /* ignored */
	assert_int_equal(f->s.closes[CLOSE_BY_SERVER][CC_1001], 2);
	assert_int_equal(f->s.closes[CLOSE_BY_SERVER][CC_1009], 1);
	assert_int_equal(f->s.closes[CLOSE_BY_SERVER][CC_1000], 0);
	assert_int_equal(f->s.closes[CLOSE_BY_PEER][CC_1000], 1);
	assert_int_equal(f->s.closes[CLOSE_BY_PEER][CC_1005], 1);
	assert_int_equal(f->s.closes[CLOSE_BY_PEER][CC_OTHER], 2);
	static const char *const names[CC__COUNT] = { "1000", "1001", "1002", "1003", "1005", "1006",
						      "1007", "1008", "1009", "1010", "1011", "other" };
	for (int i = 0; i < CC__COUNT; i++)
		assert_string_equal(stats_close_code_str(i), names[i]);
	assert_string_equal(stats_close_code_str(CC__COUNT), "other");
}

static void test_stats_render_json_operator_view(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	calls_fake_open(&f->cs, &f->conn[0], "p", T_START);
	stats_sample(&f->s, &f->cs, T_START);
	for (int t = 1; t <= 7; t++) {
		f->conn[0].packets_received += (uint64_t)(10 * t);
		f->conn[0].packets_sent += (uint64_t)(10 * t - 1);
		stats_sample(&f->s, &f->cs, T_START + t);
	}
	stats_event_record(&f->s, T_START + 3, "ringing", "a");
	stats_event_record(&f->s, T_START + 4, "weird<status>", "b\"c");
	stats_close_record(&f->s, CLOSE_BY_PEER, 1000);
	char *j = stats_render_json(&f->s, &f->cs, NULL, T_START + 8, &len);
	assert_non_null(j);
	assert_non_null(strstr(j, ",\"duration_s\":8,\"quality\":{\"mos\":4.40,"));
	assert_non_null(strstr(j, "\"rate\":{\"window_s\":5,\"frames_in_per_s\":50,\"frames_out_per_s\":49},"));
	assert_non_null(strstr(j, "\"history\":{\"interval_s\":1,\"frames_in_per_s\":[10,20,30,40,50,60,70],"
				  "\"frames_out_per_s\":[9,19,29,39,49,59,69]}"));
	assert_non_null(strstr(j, "\"recent_events\":[{\"time\":\"2023-11-14T22:13:24Z\",\"uuid\":\"b\\\"c\","
				  "\"status\":\"weird<status>\"},{\"time\":\"2023-11-14T22:13:23Z\",\"uuid\":\"a\","
				  "\"status\":\"ringing\"}]"));
	assert_non_null(strstr(j, "\"ringing\":1,"));
	assert_non_null(strstr(j, "\"other\":1},\"recent_events\""));
	assert_non_null(strstr(j, "\"peer\":{\"1000\":1,"));
	cJSON *root = cJSON_Parse(j);
	assert_non_null(root);
	cJSON_Delete(root);
	free(j);
}

static void test_stats_admin_record(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len = 0;

	stats_admin_record(&f->s, T_START, 0, "hangup", "call 7", "127.0.0.1", "1 call(s) closed with 1000");
	stats_admin_record(&f->s, T_START + 1, 1, "block", "192.0.2.0/24", "::1", "until ...");
	stats_admin_record(&f->s, T_START + 2, -1, "auto_block", "203.0.113.9", "auto", "until ...");
	assert_int_equal(f->s.admin_actions[0], 1);
	assert_int_equal(f->s.admin_actions[1], 1);
	assert_int_equal(f->s.admin_actions[2], 0);
	assert_int_equal(f->s.auto_blocks, 1);
	for (int i = 0; i < STATS_RECENT_ADMIN + 5; i++)   /* the ring keeps the newest */
		stats_admin_record(&f->s, T_START + 10 + i, 2, "unblock", "x", "y", "unblocked");
	assert_int_equal(f->s.admin_len, STATS_RECENT_ADMIN);
	assert_int_equal(f->s.admin_actions[2], STATS_RECENT_ADMIN + 5);
	char *j = stats_render_json(&f->s, &f->cs, NULL, T_START + 60, &len);
	cJSON *root = cJSON_Parse(j);
	const cJSON *adm = cJSON_GetObjectItemCaseSensitive(root, "admin");
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(adm, "recent");
	assert_int_equal(cJSON_GetArraySize(rec), STATS_RECENT_ADMIN);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rec, 0), "time")->valuestring, "2023-11-14T22:13:54Z");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(adm, "actions"), "unblock")->valueint, STATS_RECENT_ADMIN + 5);
	assert_int_equal(cJSON_GetObjectItem(adm, "auto_blocks")->valueint, 1);
	assert_string_equal(stats_admin_op_str(0), "hangup");
	assert_string_equal(stats_admin_op_str(-1), "auto_block");
	cJSON_Delete(root);
	free(j);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_stats, teardown_stats)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_stats_init_zeroes_everything),
		T(test_stats_admin_record),
		T(test_stats_render_json_empty),
		T(test_stats_render_json_one_connection),
		T(test_stats_render_json_draining),
		T(test_stats_render_json_replay_store),
		T(test_stats_render_json_totals_include_closed),
		T(test_stats_render_json_escapes_strings),
		T(test_stats_sample_one_per_second),
		T(test_stats_sample_spreads_a_gap_and_keeps_history_bounded),
		T(test_stats_sample_survives_clock_going_back),
		T(test_stats_sample_counts_closed_calls),
		T(test_stats_event_record_counts_status_and_keeps_last_20),
		T(test_stats_event_status_names),
		T(test_stats_close_record_by_code_and_side),
		T(test_stats_render_json_operator_view),
		T(test_stats_view_args),
		T(test_stats_view_match_must_be_utf8_text),
		T(test_stats_select_worst_first),
		T(test_stats_render_names_the_worker),
		T(test_stats_render_replay_store_redis_errors),
	};
	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
