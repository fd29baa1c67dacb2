/*
 * test_metrics.cpp -- unit tests for src/metrics.cpp (Prometheus text).
 *
 * Each test fills a fresh struct stats and list of calls (calls_fake.h),
 * renders, and checks exact sample lines, that every family has exactly one
 * HELP and one TYPE before its samples, and that label sets stay bounded
 * whatever the input. The real output is also run through `promtool check
 * metrics` in tests/integration/test_metrics.py.
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

#include "block.h"
#include "calls_fake.h"
#include "metrics.h"
#include "replay.h"
#include "slot_pool.h"

#define T_START 1700000000L

struct fixture {
	struct stats s;
	struct calls cs;
	struct call conn[4];
};

static int setup_metrics(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	stats_init(&f->s, T_START);
	calls_init(&f->cs);
	*state = f;
	return 0;
}

static int teardown_metrics(void **state)
{
	free(*state);
	return 0;
}

/* The text has this exact line (a whole line, not a prefix of one). */
static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("missing line: %s", line);
}

static int count_lines_starting(const char *text, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);
	for (const char *p = text; *p;) {
		if (!strncmp(p, prefix, len))
			n++;
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}

/* Every sample's family was announced by HELP then TYPE just before its first sample. */
static void assert_well_formed(const char *text, size_t len)
{
	char family[128] = "";

	assert_int_equal(len, strlen(text));
	assert_true(len > 0 && text[len - 1] == '\n');
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		if (!strncmp(p, "# HELP ", 7)) {
			const char *sp = strchr(p + 7, ' ');
			assert_true(sp && sp < nl);
			snprintf(family, sizeof family, "%.*s", (int)(sp - p - 7), p + 7);
			assert_true(!strncmp(family, "caller_echo_", 12));
			/* the next line is its TYPE */
			char want[160];
			snprintf(want, sizeof want, "# TYPE %s ", family);
			assert_true(!strncmp(nl + 1, want, strlen(want)));
		} else if (p[0] != '#') {
			size_t fl = strlen(family);
			/* a histogram's or summary's samples: _bucket{le=...}, _sum, _count */
			int suffix = !strncmp(p + fl, "_bucket{", 8) || !strncmp(p + fl, "_sum ", 5) ||
				     !strncmp(p + fl, "_count ", 7);
			assert_true(fl && !strncmp(p, family, fl) && (p[fl] == ' ' || p[fl] == '{' || suffix));
		}
		p = nl + 1;
	}
}

static void test_metrics_render_empty_server(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len = 0;

	char *m = metrics_render(&f->s, &f->cs, NULL, T_START + 42, &len);
	assert_non_null(m);
	assert_well_formed(m, len);
	static const char head[] = "# HELP caller_echo_build_info Version and --worker-id of the running server (always 1).\n"
				   "# TYPE caller_echo_build_info gauge\n"
				   "caller_echo_build_info{version=\"" CALLER_ECHO_VERSION "\",worker=\"\"} 1\n";
	assert_true(!strncmp(m, head, sizeof head - 1));
	assert_line(m, "# TYPE caller_echo_uptime_seconds gauge");
	assert_line(m, "caller_echo_uptime_seconds 42");
	assert_line(m, "# TYPE caller_echo_calls_open gauge");
	assert_line(m, "caller_echo_calls_open 0");
	assert_line(m, "# TYPE caller_echo_received_bytes_total counter");
	assert_line(m, "caller_echo_handshakes_refused_total{reason=\"bad_signature\"} 0");
	assert_line(m, "caller_echo_events_total{status=\"other\"} 0");
	assert_line(m, "caller_echo_websocket_closes_total{code=\"1006\",side=\"peer\"} 0");
	/* bounded label sets: every reason, status, code x side, once */
	assert_int_equal(count_lines_starting(m, "caller_echo_handshakes_refused_total{"), REJECT__COUNT - 1);
	assert_int_equal(count_lines_starting(m, "caller_echo_events_total{"), EV__COUNT);
	assert_int_equal(count_lines_starting(m, "caller_echo_websocket_closes_total{"), CC__COUNT * CLOSE__SIDES);
	assert_int_equal(count_lines_starting(m, "# HELP "), 42);
	assert_int_equal(count_lines_starting(m, "# TYPE "), 42);
	/* what the fixed block table lost, and block-file saves refused */
	assert_line(m, "# TYPE caller_echo_auto_blocks_evicted_total counter");
	assert_line(m, "caller_echo_auto_blocks_evicted_total 0");
	assert_line(m, "caller_echo_blocks_full_total 0");
	assert_line(m, "caller_echo_block_file_refused_total 0");
	/* the quality histograms, empty: every bucket 0 */
	assert_line(m, "# TYPE caller_echo_call_jitter_seconds histogram");
	assert_line(m, "caller_echo_call_jitter_seconds_bucket{le=\"+Inf\"} 0");
	assert_line(m, "caller_echo_call_gap_frames_count 0");
	assert_line(m, "caller_echo_frame_dwell_seconds_bucket{le=\"2.5\"} 0");
	assert_int_equal(count_lines_starting(m, "caller_echo_frame_dwell_seconds_bucket{"), QUALITY_DWELL_BUCKETS + 1);
	assert_line(m, "caller_echo_draining 0");
	assert_line(m, "caller_echo_drain_deadline_timestamp_seconds 0");
	assert_line(m, "caller_echo_app_heap_bytes 0");
	assert_line(m, "caller_echo_apps_refused_total 0");
	assert_line(m, "# TYPE caller_echo_call_log_lines_suppressed_total counter");
	assert_line(m, "caller_echo_call_log_lines_suppressed_total 0");
	assert_line(m, "caller_echo_frame_slots_in_use 0");   /* no pool attached: zeros, not missing */
	assert_line(m, "caller_echo_frame_slots_reserved 0");
	/* no app names given: the calls-by-app family is there, with no series */
	assert_line(m, "# TYPE caller_echo_calls_open_by_app gauge");
	assert_int_equal(count_lines_starting(m, "caller_echo_calls_open_by_app{"), 0);
	assert_line(m, "caller_echo_commands_sent_total{command=\"clear\"} 0");
	assert_line(m, "caller_echo_commands_answered_total{command=\"notify\"} 0");
	assert_line(m, "caller_echo_blocks_active{source=\"manual\"} 0");
	assert_line(m, "caller_echo_admin_actions_total{action=\"unblock\"} 0");
	free(m);
}

static void test_metrics_render_counts(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	calls_fake_open(&f->cs, &f->conn[0], "a", T_START);
	calls_fake_open(&f->cs, &f->conn[1], "b", T_START);
	calls_fake_open(&f->cs, &f->conn[2], "c", T_START);
	for (int i = 0; i < 3; i++) {
		f->conn[i].packets_received = 100 + (uint64_t)i;
		f->conn[i].bytes_received = 96000;
		f->conn[i].packets_sent = 90;
		f->conn[i].bytes_sent = 86400;
		f->conn[i].ring.dropped = 1;
	}
	f->conn[1].bytes_received = 5000000000ull;   /* beyond 32 bits */
	static const char *const names[] = { "echo", "parrot" };
	f->s.app_names = names;
	f->s.n_app_names = 2;
	f->conn[0].voice.app = &calls_fake_parrot;
	f->conn[1].voice.app = &calls_fake_parrot;
	f->conn[2].voice.app = &calls_fake_echo;
	f->conn[0].voice.n.clear_sent = 2;
	f->conn[2].voice.n.notify_sent = 5;   /* closed: still counted */
	f->conn[2].voice.n.notified = 4;
	/* call 2's audio: 10 frames on the 20 ms grid (no jitter, no gaps), two writes */
	static const uint8_t pcm[640] = { 0 };
	for (int i = 0; i < 10; i++)
		quality_frame(&f->conn[2].q, (uint64_t)i * 20000, pcm, sizeof pcm);
	quality_dwell(&f->conn[2].q, 40);
	quality_dwell(&f->conn[2].q, 3000);
	quality_dwell(&f->conn[0].q, 300);               /* an open call's write counts too */
	calls_close(&f->cs, &f->conn[2]);                /* still in the totals */
	f->s.rejected[AUTH_MISSING] = 2;
	f->s.rejected[REJECT_ORIGIN] = 1;
	stats_event_record(&f->s, T_START, "answered", "u");
	stats_event_record(&f->s, T_START, "answered", "u");
	stats_event_record(&f->s, T_START, "<evil\"\\\nstatus>", "u");   /* -> "other", never a label */
	f->s.events_received = 3;
	f->s.call_log_suppressed = 1234;
	stats_close_record(&f->s, CLOSE_BY_SERVER, 1009);
	stats_close_record(&f->s, CLOSE_BY_PEER, 1000);
	stats_close_record(&f->s, CLOSE_BY_PEER, 4321);

	char *m = metrics_render(&f->s, &f->cs, NULL, T_START - 5, &len);   /* clock went back: uptime 0 */
	assert_non_null(m);
	assert_well_formed(m, len);
	assert_line(m, "caller_echo_uptime_seconds 0");
	assert_line(m, "caller_echo_calls_open 2");
	assert_line(m, "caller_echo_calls_total 3");
	assert_line(m, "caller_echo_frames_received_total 303");
	assert_line(m, "caller_echo_frames_sent_total 270");
	assert_line(m, "caller_echo_received_bytes_total 5000192000");
	assert_line(m, "caller_echo_sent_bytes_total 259200");
	assert_line(m, "caller_echo_frames_dropped_total 3");
	assert_line(m, "caller_echo_events_received_total 3");
	assert_line(m, "caller_echo_call_log_lines_suppressed_total 1234");
	assert_line(m, "caller_echo_handshakes_refused_total{reason=\"missing\"} 2");
	assert_line(m, "caller_echo_handshakes_refused_total{reason=\"origin\"} 1");
	assert_line(m, "caller_echo_handshakes_refused_total{reason=\"capacity\"} 0");
	assert_line(m, "caller_echo_events_total{status=\"answered\"} 2");
	assert_line(m, "caller_echo_events_total{status=\"other\"} 1");
	assert_line(m, "caller_echo_websocket_closes_total{code=\"1009\",side=\"server\"} 1");
	assert_line(m, "caller_echo_websocket_closes_total{code=\"1000\",side=\"peer\"} 1");
	assert_line(m, "caller_echo_websocket_closes_total{code=\"other\",side=\"peer\"} 1");
	assert_line(m, "caller_echo_websocket_closes_total{code=\"1000\",side=\"server\"} 0");
	assert_line(m, "caller_echo_calls_open_by_app{app=\"echo\"} 0");
	assert_line(m, "caller_echo_calls_open_by_app{app=\"parrot\"} 2");
	assert_line(m, "caller_echo_commands_sent_total{command=\"clear\"} 2");
	assert_line(m, "caller_echo_commands_sent_total{command=\"notify\"} 5");
	assert_line(m, "caller_echo_commands_answered_total{command=\"notify\"} 4");
	/* histograms: cumulative buckets; per closed call, or per frame written */
	assert_line(m, "caller_echo_call_jitter_seconds_bucket{le=\"0.001\"} 1");
	assert_line(m, "caller_echo_call_jitter_seconds_count 1");
	assert_line(m, "caller_echo_call_gap_frames_bucket{le=\"0\"} 1");
	assert_line(m, "caller_echo_call_quality_score_bucket{le=\"4.3\"} 0");
	assert_line(m, "caller_echo_call_quality_score_bucket{le=\"+Inf\"} 1");
	assert_line(m, "caller_echo_frame_dwell_seconds_bucket{le=\"5e-05\"} 1");
	assert_line(m, "caller_echo_frame_dwell_seconds_bucket{le=\"0.00025\"} 1");
	assert_line(m, "caller_echo_frame_dwell_seconds_bucket{le=\"0.0005\"} 2");
	assert_line(m, "caller_echo_frame_dwell_seconds_bucket{le=\"0.005\"} 3");
	assert_line(m, "caller_echo_frame_dwell_seconds_bucket{le=\"+Inf\"} 3");
	assert_line(m, "caller_echo_frame_dwell_seconds_sum 0.003340");
	assert_line(m, "caller_echo_frame_dwell_seconds_count 3");
	assert_line(m, "caller_echo_commands_answered_total{command=\"clear\"} 0");
	assert_null(strstr(m, "evil"));
	free(m);
	f->s.drain_started = T_START;
	f->s.drain_deadline = T_START + 600;
	m = metrics_render(&f->s, &f->cs, NULL, T_START, &len);
	assert_line(m, "caller_echo_draining 1");
	assert_line(m, "caller_echo_drain_deadline_timestamp_seconds 1700000600");
	free(m);
}

static void test_metrics_render_names_the_worker(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	snprintf(f->s.worker, sizeof f->s.worker, "%s", "w2");
	char *m = metrics_render(&f->s, &f->cs, NULL, T_START, &len);
	assert_non_null(m);
	assert_line(m, "caller_echo_build_info{version=\"" CALLER_ECHO_VERSION "\",worker=\"w2\"} 1");
	free(m);
	/* config allows no such id, but a label value is escaped whatever it holds */
	snprintf(f->s.worker, sizeof f->s.worker, "%s", "a\"b\\c\nd");
	m = metrics_render(&f->s, &f->cs, NULL, T_START, &len);
	assert_non_null(m);
	assert_line(m, "caller_echo_build_info{version=\"" CALLER_ECHO_VERSION "\",worker=\"a\\\"b\\\\c\\nd\"} 1");
	free(m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_metrics, teardown_metrics)

static void test_metrics_frame_slots(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct slot_pool p;
	size_t len = 0;

	memset(&p, 0, sizeof p);
	p.out = 3;
	p.peak = 41;
	p.nslots = 18000;
	p.stride = 984;
	f->s.frame_pool = &p;
	char *m = metrics_render(&f->s, &f->cs, NULL, T_START + 1, &len);
	assert_non_null(m);
	assert_well_formed(m, len);
	assert_line(m, "# TYPE caller_echo_frame_slots_in_use gauge");
	assert_line(m, "caller_echo_frame_slots_in_use 3");
	assert_line(m, "caller_echo_frame_slots_peak 41");
	assert_line(m, "caller_echo_frame_slots_reserved 18000");
	assert_line(m, "caller_echo_frame_slot_bytes 984");
	free(m);
	f->s.frame_pool = NULL;
}

static void test_metrics_replay_store_redis_errors(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store_stats r;
	size_t len = 0;

	memset(&r, 0, sizeof r);
	r.checks = 10;
	r.errors = 9;
	r.redis_errors[REPLAY_REDIS_TIMEOUT] = 1;
	r.redis_errors[REPLAY_REDIS_OVERSIZED] = 2;
	r.redis_errors[REPLAY_REDIS_UNEXPECTED] = 3;
	r.redis_errors[REPLAY_REDIS_BACKOFF] = 3;
	f->s.replay = &r;
	f->s.replay_kind = "redis";
	char *m = metrics_render(&f->s, &f->cs, NULL, T_START + 1, &len);
	assert_non_null(m);
	assert_well_formed(m, len);
	assert_line(m, "# TYPE caller_echo_replay_store_redis_errors_total counter");
	assert_line(m, "caller_echo_replay_store_redis_errors_total{reason=\"timeout\"} 1");
	assert_line(m, "caller_echo_replay_store_redis_errors_total{reason=\"oversized\"} 2");
	assert_line(m, "caller_echo_replay_store_redis_errors_total{reason=\"unexpected\"} 3");
	assert_line(m, "caller_echo_replay_store_redis_errors_total{reason=\"auth\"} 0");
	assert_line(m, "caller_echo_replay_store_redis_errors_total{reason=\"tls\"} 0");
	assert_line(m, "caller_echo_replay_store_redis_errors_total{reason=\"connection\"} 0");
	assert_line(m, "caller_echo_replay_store_redis_errors_total{reason=\"backoff\"} 3");
	assert_line(m, "caller_echo_replay_store_errors_total 9");
	free(m);
	f->s.replay = NULL;
	f->s.replay_kind = NULL;
}

/* the jti table (sized from the configuration) and the block table's losses */
static void test_metrics_replay_table_and_blocks(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store_stats rs;
	static struct block_table b;
	struct replay *t = replay_create(REPLAY_SLOTS_MIN * 2);
	size_t len = 0;

	assert_non_null(t);
	replay_init(t, 1);
	assert_int_equal(replay_check_insert(t, "a", 1, T_START, T_START + 330), REPLAY_NEW);
	memset(&rs, 0, sizeof rs);
	rs.full = 4;
	f->s.replay = &rs;
	f->s.replay_kind = "memory";
	f->s.replay_table = t;
	f->s.replay_design_live = 3960;
	b.evicted = 7;
	b.full = 2;
	b.save_refused = 1;
	char *m = metrics_render(&f->s, &f->cs, &b, T_START + 1, &len);
	assert_non_null(m);
	assert_well_formed(m, len);
	assert_line(m, "# TYPE caller_echo_replay_table_slots gauge");
	assert_line(m, "caller_echo_replay_table_slots 32768");
	assert_line(m, "caller_echo_replay_table_live 1");
	char want[96];
	snprintf(want, sizeof want, "caller_echo_replay_table_bytes %zu", replay_bytes(REPLAY_SLOTS_MIN * 2));
	assert_line(m, want);
	assert_line(m, "caller_echo_replay_table_design_live 3960");
	assert_line(m, "# TYPE caller_echo_replay_table_full_total counter");
	assert_line(m, "caller_echo_replay_table_full_total 4");
	assert_line(m, "caller_echo_auto_blocks_evicted_total 7");
	assert_line(m, "caller_echo_blocks_full_total 2");
	assert_line(m, "caller_echo_block_file_refused_total 1");
	free(m);
	f->s.replay = NULL;
	f->s.replay_table = NULL;
	replay_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_metrics_render_empty_server),
		T(test_metrics_replay_table_and_blocks),
		T(test_metrics_frame_slots),
		T(test_metrics_replay_store_redis_errors),
		T(test_metrics_render_counts),
		T(test_metrics_render_names_the_worker),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
