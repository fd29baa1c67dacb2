/*
 * test_stats_page.cpp -- unit tests for src/stats_page.cpp (the /stats page).
 *
 * setup gives each test a fresh struct stats started at T_START, an empty
 * list of calls and a pool of call records (calls_fake.h). The page is
 * checked for completeness (never cut off, whatever the rows hold), exact
 * cells (the data-k cells the script rewrites), escaping, size, and the CSP
 * that allows only its own script.
 * The script itself runs in a real browser in tests/integration/test_stats_page.py.
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
#include "stats_page.h"

#define T_START 1700000000L   /* 2023-11-14T22:13:20Z */
#define POOL 600

struct fixture {
	struct stats s;
	struct calls cs;
	struct call conn[POOL];
};

static int setup_page(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	stats_init(&f->s, T_START);
	calls_init(&f->cs);
	*state = f;
	return 0;
}

static int teardown_page(void **state)
{
	free(*state);
	return 0;
}

static void assert_complete_page(const char *h, size_t len)
{
	assert_int_equal(len, strlen(h));
	assert_true(strncmp(h, "<!doctype html>\n", 16) == 0);
	assert_true(len > 15);
	assert_string_equal(h + len - 15, "</body></html>\n");
	/* the script is there once, whole, right before the end */
	const char *sc = strstr(h, "<script>");
	assert_non_null(sc);
	assert_null(strstr(sc + 1, "<script>"));
	assert_true(strncmp(sc + 8, stats_page_script, strlen(stats_page_script)) == 0);
	assert_string_equal(sc + 8 + strlen(stats_page_script), "</script>\n</body></html>\n");
}

static void test_stats_page_render_empty(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len = 0;

	f->s.rejected[AUTH_EXPIRED] = 3;
	f->s.rejected[REJECT_ORIGIN] = 12345678901ull;
	f->s.events_received = 7;
	char *h = stats_page_render(&f->s, &f->cs, NULL, T_START + 90, &len);
	assert_non_null(h);
	assert_complete_page(h, len);
	assert_true(len < 20 * 1024);   /* the size aim, with room for rows */
	assert_non_null(strstr(h, "<html lang=\"en\">"));
	assert_non_null(strstr(h, "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"));
	assert_non_null(strstr(h, "<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>"));
	assert_non_null(strstr(h, "<tr><th scope=\"row\">Open calls</th><td data-k=\"connections_open\">0</td></tr>"));
	assert_non_null(strstr(h, "<td data-k=\"events_received\">7</td>"));
	assert_non_null(strstr(h, "<td data-k=\"uptime_s\">1m30s</td>"));
	assert_non_null(strstr(h, "<td data-k=\"version\">" CALLER_ECHO_VERSION "</td>"));
	assert_non_null(strstr(h, "<td data-k=\"frames_in_per_s\">0.0</td>"));
	/* the empty row spans every column */
	assert_non_null(strstr(h, "<tr><td colspan=\"16\" class=\"l\">No open calls</td></tr>"));
	assert_non_null(strstr(h, "<td data-k=\"clear_sent\">0</td>"));
	assert_non_null(strstr(h, "<td data-k=\"notified\">0</td>"));
	assert_non_null(strstr(h, "<tr><td data-k=\"reason\" class=\"l\">expired</td><td data-k=\"count\">3</td></tr>"));
	assert_non_null(strstr(h, "<td data-k=\"reason\" class=\"l\">origin</td><td data-k=\"count\">12345678901</td>"));
	assert_null(strstr(h, ">shutting_down</td>"));   /* reasons that never happened are not listed */
	assert_null(strstr(h, ">ok<"));   /* AUTH_OK is not a refusal */
	assert_non_null(strstr(h, "<tr><td colspan=\"3\" class=\"l\">No events yet</td></tr>"));
	/* accessible tables: captions and header scopes */
	assert_non_null(strstr(h, "<caption><span id=\"calls-shown\">0</span> of <span id=\"calls-matching\">0</span> "
				  "call(s) open, lowest quality score first"));
	assert_non_null(strstr(h, "<td data-k=\"worst_mos\">-</td>"));
	assert_non_null(strstr(h, "<td data-k=\"calls_poor\">0</td>"));
	assert_non_null(strstr(h, "<th scope=\"col\" class=\"l\">Caller</th>"));
	/* nothing from elsewhere */
	assert_null(strstr(h, "http:"));
	assert_null(strstr(h, "https:"));
	assert_null(strstr(h, "//"));   /* no protocol-relative URLs, no JS line comments */
	free(h);
}

/*
 * The cells of the open-calls row with data-id id, as "key=value;..." in
 * page order ("" if there is no such row).
 */
static const char *row_cells(const char *h, const char *id)
{
	static char out[1024];
	char tr[48];
	size_t n = 0;

	out[0] = '\0';
	snprintf(tr, sizeof tr, "<tr data-id=\"%s\">", id);
	const char *p = strstr(h, tr), *end = p ? strstr(p, "</tr>") : NULL;
	while (p && end && (p = strstr(p, "<td data-k=\"")) && p < end) {
		const char *k = p + 12, *ke = strchr(k, '"'), *v = strchr(ke, '>') + 1, *ve = strstr(v, "</td>");
		n += (size_t)snprintf(out + n, sizeof out - n, "%.*s=%.*s;", (int)(ke - k), k, (int)(ve - v), v);
		p = ve;
	}
	return out;
}

/* The keys of the script's CALL columns, "a;b;..." in order. */
static const char *script_call_keys(void)
{
	static char out[512];
	size_t n = 0;
	const char *p = strstr(stats_page_script, "var CALL = ["), *end = p ? strstr(p, "]];") : NULL;

	out[0] = '\0';
	while (p && (p = strstr(p, "[\"")) && p < end) {
		const char *k = p + 2, *ke = strchr(k, '"');
		n += (size_t)snprintf(out + n, sizeof out - n, "%.*s;", (int)(ke - k), k);
		p = ke;
	}
	return out;
}

static void test_stats_page_render_rows(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	calls_fake_open(&f->cs, &f->conn[0], "203.0.113.9", T_START);
	calls_fake_set(&f->conn[0], "u-1", "447700900123", NULL);
	snprintf(f->conn[0].content_type, sizeof f->conn[0].content_type, "%s", "audio/l16;rate=8000");
	f->conn[0].packets_received = 1;
	f->conn[0].bytes_received = 2;
	f->conn[0].packets_sent = 3;
	f->conn[0].bytes_sent = 4;
	f->conn[0].ring.dropped = 5;
	f->conn[0].last_dtmf = '7';
	calls_fake_open(&f->cs, &f->conn[1], "203.0.113.10", T_START + 3723);
	char *h = stats_page_render(&f->s, &f->cs, NULL, T_START + 3725, &len);
	assert_non_null(h);
	assert_complete_page(h, len);
	f->conn[0].voice.app = &calls_fake_parrot;
	free(h);
	h = stats_page_render(&f->s, &f->cs, NULL, T_START + 3725, &len);
	/* each cell holds its field; the columns are the script's, in its order,
	 * so the live page redraws the same table */
#define QCELLS(lvl) "mos=4.40;jitter_ms=<meter min=\"0\" max=\"40\" low=\"5\" high=\"15\" optimum=\"0\" " \
	"value=\"0.0\"></meter> 0.0;gap_frames=0;level_dbfs=<meter min=\"-60\" max=\"0\" low=\"-45\" high=\"-6\" " \
	"optimum=\"-20\" value=\"" lvl "\"></meter> " lvl ";"
	assert_string_equal(row_cells(h, "1"), QCELLS("-100.0") "uuid=u-1;from=447700900123;remote=203.0.113.9;app=parrot;"
					       "duration_s=1h02m05s;content_type=audio/l16;rate=8000;"
					       "packets_received=1;bytes_received=2;packets_sent=3;bytes_sent=4;"
					       "frames_dropped=5;last_dtmf=7;");
	assert_string_equal(script_call_keys(), "mos;jitter_ms;gap_frames;level_dbfs;"
						"uuid;from;remote;app;duration_s;content_type;packets_received;"
						"bytes_received;packets_sent;bytes_sent;frames_dropped;last_dtmf;");
	/* unknown fields show "-", as the script does */
	assert_string_equal(row_cells(h, "2"), QCELLS("-100.0") "uuid=-;from=-;remote=203.0.113.10;app=-;duration_s=2s;"
					       "content_type=-;packets_received=0;bytes_received=0;packets_sent=0;"
					       "bytes_sent=0;frames_dropped=0;last_dtmf=-;");
	/* equal scores: newest row first; totals in the summary */
	assert_true(strstr(h, "data-id=\"2\"") < strstr(h, "data-id=\"1\""));
	assert_non_null(strstr(h, "<td data-k=\"connections_open\">2</td>"));
	assert_non_null(strstr(h, "<th scope=\"row\">Bytes out</th><td data-k=\"bytes_sent\">4</td>"));
	assert_null(strstr(h, "class=\"l\">No open calls</td></tr>"));   /* (the script has the words too) */
	free(h);
}

static void test_stats_page_render_escapes_fields(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	calls_fake_open(&f->cs, &f->conn[0], "<b>&'\"", T_START);
	calls_fake_set(&f->conn[0], "<script>alert(1)</script>", "</script><img src=x>", NULL);
	snprintf(f->conn[0].content_type, sizeof f->conn[0].content_type, "%s", "\"><img src=x>");
	stats_event_record(&f->s, T_START, "<i>st", "</tbody>u");
	char *h = stats_page_render(&f->s, &f->cs, NULL, T_START, &len);
	assert_non_null(h);
	assert_complete_page(h, len);   /* also: the only <script> is ours */
	assert_null(strstr(h, "<img"));
	assert_null(strstr(h, "<b>"));
	assert_null(strstr(h, "<i>"));
	assert_non_null(strstr(h, ">&lt;b&gt;&amp;&#39;&quot;</td>"));
	assert_non_null(strstr(h, ">&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
	assert_non_null(strstr(h, ">&lt;/script&gt;&lt;img src=x&gt;</td>"));
	assert_non_null(strstr(h, ">&quot;&gt;&lt;img src=x&gt;</td>"));
	assert_non_null(strstr(h, "<td data-k=\"uuid\" class=\"l\">&lt;/tbody&gt;u</td>"
				  "<td data-k=\"status\" class=\"l\">&lt;i&gt;st</td>"));
	free(h);
}

static void test_stats_page_render_events_newest_first(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;
	char want[128];

	for (int i = 0; i < 25; i++) {
		snprintf(want, sizeof want, "call-%02d", i);
		stats_event_record(&f->s, T_START + i, i % 2 ? "ringing" : "completed", want);
	}
	char *h = stats_page_render(&f->s, &f->cs, NULL, T_START + 30, &len);
	assert_non_null(h);
	assert_complete_page(h, len);
	assert_non_null(strstr(h, "<tr><td data-k=\"time\" class=\"l\">2023-11-14T22:13:44Z</td>"
				  "<td data-k=\"uuid\" class=\"l\">call-24</td>"
				  "<td data-k=\"status\" class=\"l\">completed</td></tr>"));
	assert_null(strstr(h, "call-04"));   /* only the last 20 */
	assert_non_null(strstr(h, "call-05"));
	assert_true(strstr(h, "call-24") < strstr(h, "call-23"));
	free(h);
}

static void test_stats_page_render_graph(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	calls_fake_open(&f->cs, &f->conn[0], "p", T_START);
	stats_sample(&f->s, &f->cs, T_START);
	f->conn[0].packets_received = 50;
	f->conn[0].packets_sent = 25;
	stats_sample(&f->s, &f->cs, T_START + 1);
	f->conn[0].packets_received = 150;
	f->conn[0].packets_sent = 125;
	stats_sample(&f->s, &f->cs, T_START + 2);
	char *h = stats_page_render(&f->s, &f->cs, NULL, T_START + 2, &len);
	assert_non_null(h);
	/* y = 78 - v / max * 74 with max 100; the newest sample at x = 300 */
	assert_non_null(strstr(h, "<polyline id=\"g-in\" points=\"295,41.0 300,4.0\"/>"));
	assert_non_null(strstr(h, "<polyline id=\"g-out\" points=\"295,59.5 300,4.0\"/>"));
	assert_non_null(strstr(h, "<span id=\"g-max\">100</span>"));
	assert_non_null(strstr(h, "<svg viewBox=\"-26 0 330 90\" role=\"img\" aria-labelledby=\"g-cap\">"));
	/* the axes: frames per second at the top and half way, seconds ago below */
	assert_non_null(strstr(h, "<text x=\"-3\" y=\"7\" text-anchor=\"end\" id=\"g-ymax\">100</text>"));
	assert_non_null(strstr(h, "<text x=\"-3\" y=\"44\" text-anchor=\"end\" id=\"g-ymid\">50</text>"));
	assert_non_null(strstr(h, ">-60 s</text>"));
	assert_non_null(strstr(h, ">now</text>"));
	assert_non_null(strstr(h, "<td data-k=\"frames_in_per_s\">75.0</td>"));
	free(h);
}

static void test_stats_page_render_many_rows(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;
	char want[64];

	for (int i = 0; i < POOL; i++) {
		struct call *c = &f->conn[i];
		calls_fake_open(&f->cs, c, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff:65535", T_START);
		memset(c->voice.info.uuid, 'u', sizeof c->voice.info.uuid - 1);
		memset(c->voice.info.from, 'f', sizeof c->voice.info.from - 1);
		memset(c->content_type, 'c', sizeof c->content_type - 1);
		c->packets_received = c->bytes_received = c->packets_sent = c->bytes_sent = c->ring.dropped = UINT64_MAX;
		c->last_dtmf = '*';
	}
	/* the default view: the STATS_VIEW_CALLS worst (all equal: the newest) */
	char *h = stats_page_render(&f->s, &f->cs, NULL, T_START, &len);
	assert_non_null(h);
	assert_complete_page(h, len);
	int rows = 0;
	for (const char *p = h; (p = strstr(p, "<tr data-id=\"")); p++)
		rows++;
	assert_int_equal(rows, STATS_VIEW_CALLS);
	snprintf(want, sizeof want, "<tr data-id=\"%d\">", POOL);
	assert_non_null(strstr(h, want));
	assert_null(strstr(h, "<tr data-id=\"1\">"));
	assert_non_null(strstr(h, "<span id=\"calls-shown\">50</span> of <span id=\"calls-matching\">600</span>"));
	free(h);
	/* ?calls=all: every row */
	struct stats_view v;
	stats_view_default(&v);
	v.limit = STATS_VIEW_MAX;
	h = stats_page_render_view(&f->s, &f->cs, NULL, &v, T_START, &len);
	assert_non_null(h);
	assert_complete_page(h, len);
	for (int i = 1; i <= POOL; i++) {
		snprintf(want, sizeof want, "<tr data-id=\"%d\">", i);
		assert_non_null(strstr(h, want));
	}
	assert_non_null(strstr(h, "<td data-k=\"frames_dropped\">18446744073709551615</td>"));
	free(h);
}

static void test_stats_page_render_never_truncates(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	/* worst case for the escaper: every field expands 6x ('"' -> "&quot;") */
	for (int i = 0; i < 50; i++) {
		struct call *c = &f->conn[i];
		calls_fake_open(&f->cs, c, NULL, T_START);
		memset(c->remote, '"', sizeof c->remote - 1);
		memset(c->voice.info.uuid, '"', sizeof c->voice.info.uuid - 1);
		memset(c->voice.info.from, '"', sizeof c->voice.info.from - 1);
		memset(c->content_type, '"', sizeof c->content_type - 1);
	}
	char big[100];
	memset(big, '"', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (int i = 0; i < STATS_RECENT_EVENTS; i++)
		stats_event_record(&f->s, T_START, big, big);
	char *h = stats_page_render(&f->s, &f->cs, NULL, T_START, &len);
	assert_non_null(h);   /* measured first: a full page, always */
	assert_complete_page(h, len);
	free(h);
}

static void test_stats_page_render_names_the_worker(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	char *h = stats_page_render(&f->s, &f->cs, NULL, T_START, &len);
	assert_non_null(h);
	assert_non_null(strstr(h, "<h1>caller-echo</h1><p>Version " CALLER_ECHO_VERSION " &middot; pid 0 &middot;"));
	free(h);
	snprintf(f->s.worker, sizeof f->s.worker, "%s", "w2<");
	f->s.pid = 4242;
	h = stats_page_render(&f->s, &f->cs, NULL, T_START, &len);
	assert_non_null(h);
	assert_non_null(strstr(h, "<h1>caller-echo <span id=\"worker\">w2&lt;</span></h1><p>Version "
				  CALLER_ECHO_VERSION " &middot; pid 4242 &middot;"));
	free(h);
}

/* 'sha256-' + 44 base64 characters + "'" at p; returns what follows. */
static const char *expect_hash(const char *p)
{
	assert_true(strncmp(p, "'sha256-", 8) == 0);
	p += 8;
	for (int i = 0; i < 43; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", p[i]));
	assert_int_equal(p[43], '=');
	assert_int_equal(p[44], '\'');
	return p + 45;
}

static void test_stats_page_csp_allows_only_its_script_and_style(void **state)
{
	(void)state;
	const char *csp = stats_page_csp();
	const char *p = csp;

	assert_true(strncmp(p, "default-src 'none'; style-src ", 30) == 0);
	p = expect_hash(p + 30);
	assert_true(strncmp(p, "; script-src ", 13) == 0);
	const char *script_hash = p + 13;
	p = expect_hash(script_hash);
	assert_string_equal(p, "; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
	assert_true(strncmp(csp + 30, script_hash, 52) != 0);   /* two different hashes */
	assert_null(strstr(csp, "unsafe"));
	assert_ptr_equal(stats_page_csp(), csp);   /* computed once */
}

static void test_stats_page_has_no_inline_style_attributes(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	size_t len;

	calls_fake_open(&f->cs, &f->conn[0], "p", T_START);
	stats_event_record(&f->s, T_START, "ringing", "u");
	char *h = stats_page_render(&f->s, &f->cs, NULL, T_START, &len);
	assert_non_null(h);
	/* the style-src hash covers the <style> block only: a style= attribute would be blocked */
	assert_null(strstr(h, " style="));
	assert_null(strstr(stats_page_script, ".style"));
	assert_non_null(strstr(h, "<style>"));
	assert_null(strstr(strstr(h, "</style>") + 1, "<style>"));
	free(h);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_page, teardown_page)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_stats_page_render_empty),
		T(test_stats_page_render_rows),
		T(test_stats_page_render_escapes_fields),
		T(test_stats_page_render_events_newest_first),
		T(test_stats_page_render_graph),
		T(test_stats_page_render_many_rows),
		T(test_stats_page_render_never_truncates),
		T(test_stats_page_render_names_the_worker),
		T(test_stats_page_csp_allows_only_its_script_and_style),
		T(test_stats_page_has_no_inline_style_attributes),
	};
	return cmocka_run_group_tests_name("stats_page", tests, NULL, NULL);
}
