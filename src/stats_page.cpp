/*
 * stats_page.cpp -- render /stats: tables and a graph, then keep them live.
 *
 * Why polling and not a push WebSocket (/stats/live): the page already has
 * /stats.json, which is the same data with the same access rule, so a 1 s
 * fetch() adds no protocol, no second per-connection state machine in the
 * lws context and no path that could be confused with the audio socket
 * (whose handshake refuses anything that is not a Vonage call). One small
 * JSON render per open page per second is nothing next to 50 frames per
 * second per call, and a page left open on a flaky link simply catches up
 * on the next poll instead of holding a socket and a send queue.
 *
 * URLs are relative ("stats.json"), so the page keeps working when a proxy
 * serves it under a path prefix.
 *
 * The server renders every table itself, with the same cells the script
 * later rewrites (data-k names the JSON field), so the page is useful
 * without JavaScript (a <noscript> meta refresh reloads it). The script
 * only uses textContent, never innerHTML, and the CSP allows exactly this
 * script and this style sheet, by hash, plus connect-src 'self' (no inline
 * style attributes anywhere, so no 'unsafe-inline').
 */
#include "stats_page.h"

#include "block.h"
#include "sbuf.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keep in step with the C renderer below: same cells, same formats. */
const char stats_page_script[] =
	"\"use strict\";\n"
	"(function () {\n"
	"var $ = function (id) { return document.getElementById(id); };\n"
	"function two(n) { return (n < 10 ? \"0\" : \"\") + n; }\n"
	"function dur(s) {\n"
	"  var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, x = s % 60;\n"
	"  return h ? h + \"h\" + two(m) + \"m\" + two(x) + \"s\" : m ? m + \"m\" + two(x) + \"s\" : x + \"s\";\n"
	"}\n"
	"function q(k, d) { return function (c) { return c.quality[k].toFixed(d); }; }\n"
	"var CALL = [[\"mos\", q(\"mos\", 2)],\n"
	"  [\"jitter_ms\", q(\"jitter_ms\", 1), 0, [0, 40, 5, 15, 0]],\n"
	"  [\"gap_frames\", function (c) { return c.quality.gap_frames; }],\n"
	"  [\"level_dbfs\", q(\"level_dbfs\", 1), 0, [-60, 0, -45, -6, -20]],\n"
	"  [\"uuid\", 0, 1], [\"from\", 0, 1], [\"remote\", 0, 1], [\"app\", 0, 1],\n"
	"  [\"duration_s\", function (c) { return dur(c.duration_s); }], [\"content_type\", 0, 1],\n"
	"  [\"packets_received\"], [\"bytes_received\"], [\"packets_sent\"], [\"bytes_sent\"],\n"
	"  [\"frames_dropped\"], [\"last_dtmf\"]];\n"
	"function rows(id, list, cols, empty) {\n"
	"  var tb = document.createElement(\"tbody\");\n"
	"  tb.id = id;\n"
	"  list.forEach(function (o) {\n"
	"    var tr = tb.insertRow();\n"
	"    if (o.id) tr.dataset.id = o.id;\n"
	"    cols.forEach(function (c) {\n"
	"      var td = tr.insertCell(), v = c[1] ? c[1](o) : o[c[0]];\n"
	"      td.dataset.k = c[0];\n"
	"      td.textContent = v === \"\" || v === undefined ? \"-\" : v;\n"
	"      if (c[2]) td.className = \"l\";\n"
	"      if (c[3]) {\n"
	"        var m = document.createElement(\"meter\");\n"
	"        [\"min\", \"max\", \"low\", \"high\", \"optimum\"].forEach(function (a, i) { m[a] = c[3][i]; });\n"
	"        m.value = +v;\n"
	"        td.prepend(m, \" \");\n"
	"      }\n"
	"    });\n"
	"  });\n"
	"  if (!list.length) {\n"
	"    var td = tb.insertRow().insertCell();\n"
	"    td.colSpan = cols.length;\n"
	"    td.className = \"l\";\n"
	"    td.textContent = empty;\n"
	"  }\n"
	"  $(id).replaceWith(tb);\n"
	"}\n"
	"function line(v, max) {\n"
	"  return v.map(function (y, i) {\n"
	"    return (300 - (v.length - 1 - i) * 5) + \",\" + (78 - y / max * 74).toFixed(1);\n"
	"  }).join(\" \");\n"
	"}\n"
	"function show(j) {\n"
	"  var v = { uptime_s: dur(j.uptime_s), version: j.version, events_received: j.events_received,\n"
	"    serving: j.draining ? \"draining: \" + j.draining.calls_left + \" call(s) left, until \" +\n"
	"      j.draining.deadline : \"serving\",\n"
	"    frames_in_per_s: j.rate.frames_in_per_s.toFixed(1),\n"
	"    frames_out_per_s: j.rate.frames_out_per_s.toFixed(1) };\n"
	"  Object.keys(j.totals).forEach(function (k) { v[k] = j.totals[k]; });\n"
	"  v.worst_mos = j.quality.calls_scored ? j.quality.worst_mos.toFixed(2) : \"-\";\n"
	"  v.calls_poor = j.quality.calls_poor;\n"
	"  v.mean_jitter_ms = j.quality.mean_jitter_ms.toFixed(1);\n"
	"  document.querySelectorAll(\"#summary [data-k]\").forEach(function (td) {\n"
	"    if (td.dataset.k in v) td.textContent = v[td.dataset.k];\n"
	"  });\n"
	"  rows(\"calls\", j.connections, CALL, j.calls_view.match ? \"No open call matches\" : \"No open calls\");\n"
	"  $(\"calls-shown\").textContent = j.calls_view.shown;\n"
	"  $(\"calls-matching\").textContent = j.calls_view.matching;\n"
	"  rows(\"rejected\", Object.keys(j.rejected).filter(function (k) { return j.rejected[k]; })\n"
	"    .map(function (k) { return { reason: k, count: j.rejected[k] }; }),\n"
	"    [[\"reason\", 0, 1], [\"count\"]], \"None\");\n"
	"  rows(\"events\", j.recent_events, [[\"time\", 0, 1], [\"uuid\", 0, 1], [\"status\", 0, 1]],\n"
	"    \"No events yet\");\n"
	"  rows(\"blocks\", j.admin.blocks, [[\"cidr\", 0, 1], [\"source\", 0, 1], [\"reason\", 0, 1], [\"by\", 0, 1],\n"
	"    [\"expires_in\", function (b) { return b.expires_in === null ? \"never\" : dur(b.expires_in); }],\n"
	"    [\"hits\"]], \"No blocks\");\n"
	"  rows(\"actions\", j.admin.recent, [[\"time\", 0, 1], [\"action\", 0, 1], [\"target\", 0, 1],\n"
	"    [\"by\", 0, 1], [\"result\", 0, 1]], \"No operator actions yet\");\n"
	"  var a = j.history.frames_in_per_s, b = j.history.frames_out_per_s;\n"
	"  var max = Math.max.apply(null, [1].concat(a, b));\n"
	"  $(\"g-in\").setAttribute(\"points\", line(a, max));\n"
	"  $(\"g-out\").setAttribute(\"points\", line(b, max));\n"
	"  $(\"g-max\").textContent = max;\n"
	"  $(\"g-ymax\").textContent = max;\n"
	"  $(\"g-ymid\").textContent = Math.round(max / 2);\n"
	"  $(\"state\").textContent = \"live, updated \" + new Date().toLocaleTimeString();\n"
	"  document.body.dataset.polls = (+document.body.dataset.polls || 0) + 1;\n"
	"}\n"
	"function poll() {\n"
	"  var t0 = Date.now();\n"
	"  fetch(\"stats.json\" + location.search, { cache: \"no-store\" }).then(function (r) {\n"
	"    if (!r.ok) throw new Error(\"HTTP \" + r.status);\n"
	"    return r.json();\n"
	"  }).then(show).catch(function (e) {\n"
	"    $(\"state\").textContent = \"not updating: \" + e.message;\n"
	"  }).finally(function () { setTimeout(poll, Math.max(0, 1000 - (Date.now() - t0))); });\n"
	"}\n"
	"$(\"match\").addEventListener(\"change\", function () {\n"
	"  var p = new URLSearchParams(location.search);\n"
	"  if (this.value) p.set(\"match\", this.value); else p.delete(\"match\");\n"
	"  location.search = p.toString();\n"
	"});\n"
	"poll();\n"
	"})();\n";

static const char STYLE[] =
	":root{color-scheme:light dark;font-family:system-ui,sans-serif}"
	"body{margin:0 auto;padding:1em;max-width:100em}"
	"h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.1em;margin:1.2em 0 .4em}"
	".wrap{overflow-x:auto;max-width:100%}.grid{display:flex;flex-wrap:wrap;gap:1em 2em;align-items:flex-start}"
	".grid>*{min-width:0}"
	"table{border-collapse:collapse;font-variant-numeric:tabular-nums}"
	"caption{text-align:left;font-size:.9em;padding:.2em 0;opacity:.8}"
	"td,th{border:1px solid #8886;padding:.25em .5em;text-align:right;white-space:nowrap}"
	"th{background:#8882;font-weight:600}th[scope=row],.l{text-align:left}"
	"thead th{white-space:normal;vertical-align:bottom}"
	"figure{margin:0;flex:1 1 18em;max-width:min(44em,100%)}figcaption{font-size:.9em}"
	"svg{width:100%;height:auto;border:1px solid #8886}"
	"line{stroke:#8886;stroke-width:.5}polyline{fill:none;stroke-width:1.5}#g-in,.in{stroke:#1f77b4;color:#1f77b4}"
	"#g-out,.out{stroke:#e8710a;color:#e8710a}#g-out{stroke-dasharray:4 2}"
	"text{font-size:7px;fill:currentColor;opacity:.8}meter{width:4em;vertical-align:middle}"
	".find{margin:.3em 0}input{font:inherit}"
	"@media (max-width:40em){body{padding:.5em;font-size:.95em}td,th{padding:.2em .3em}}";

static void sb_escaped(struct sbuf *b, const char *s)
{
	for (; *s && b->ok; s++) {
		switch (*s) {
		case '<':  sbuf_printf(b, "&lt;"); break;
		case '>':  sbuf_printf(b, "&gt;"); break;
		case '&':  sbuf_printf(b, "&amp;"); break;
		case '"':  sbuf_printf(b, "&quot;"); break;
		case '\'': sbuf_printf(b, "&#39;"); break;
		default:   sbuf_printf(b, "%c", *s);
		}
	}
}

/* A text cell: "-" when empty, like the script. */
static void cell_str(struct sbuf *b, const char *k, const char *v)
{
	sbuf_printf(b, "<td data-k=\"%s\" class=\"l\">", k);
	if (v[0])
		sb_escaped(b, v);
	else
		sbuf_printf(b, "-");
	sbuf_printf(b, "</td>");
}

static void cell_num(struct sbuf *b, const char *k, unsigned long long v)
{
	sbuf_printf(b, "<td data-k=\"%s\">%llu</td>", k, v);
}

/* "42s", "3m07s", "2h03m07s": the script's dur() */
static void fmt_dur(char *out, size_t cap, long long s)
{
	if (s < 0)
		s = 0;
	long long h = s / 3600, m = s / 60 % 60, x = s % 60;
	if (h)
		snprintf(out, cap, "%lldh%02lldm%02llds", h, m, x);
	else if (m)
		snprintf(out, cap, "%lldm%02llds", m, x);
	else
		snprintf(out, cap, "%llds", x);
}

static void summary_row(struct sbuf *b, const char *label, const char *k, const char *v)
{
	sbuf_printf(b, "<tr><th scope=\"row\">%s</th><td data-k=\"%s\">%s</td></tr>", label, k, v);
}

static void summary_num(struct sbuf *b, const char *label, const char *k, unsigned long long v)
{
	char num[24];
	snprintf(num, sizeof num, "%llu", v);
	summary_row(b, label, k, num);
}

static void render_summary(struct sbuf *b, const struct stats *s, const struct calls *cs, time_t now)
{
	struct call_counters t;
	char up[32], fin[32], fout[32];
	double in, out;

	calls_totals(cs, &t);
	stats_rate(s, STATS_RATE_WINDOW, &in, &out);
	fmt_dur(up, sizeof up, (long long)(now - s->started));
	snprintf(fin, sizeof fin, "%.1f", in);
	snprintf(fout, sizeof fout, "%.1f", out);
	sbuf_printf(b, "<div class=\"wrap\"><table id=\"summary\"><caption>Since start</caption><tbody>");
	summary_num(b, "Open calls", "connections_open", cs->open);
	summary_num(b, "Calls since start", "connections_total", cs->total);
	summary_row(b, "Frames/s in (last 5 s)", "frames_in_per_s", fin);
	summary_row(b, "Frames/s out (last 5 s)", "frames_out_per_s", fout);
	summary_num(b, "Packets in", "packets_received", t.packets_received);
	summary_num(b, "Bytes in", "bytes_received", t.bytes_received);
	summary_num(b, "Packets out", "packets_sent", t.packets_sent);
	summary_num(b, "Bytes out", "bytes_sent", t.bytes_sent);
	summary_num(b, "Frames dropped", "frames_dropped", t.frames_dropped);
	struct stats_quality_now q;
	char worst[16], jit[16];
	stats_quality_read(cs, &q);
	snprintf(worst, sizeof worst, q.calls ? "%.2f" : "-", q.worst_mos);
	snprintf(jit, sizeof jit, "%.1f", q.mean_jitter_ms);
	summary_row(b, "Worst call score", "worst_mos", worst);
	summary_num(b, "Calls scoring under 3.6", "calls_poor", q.poor);
	summary_row(b, "Mean jitter ms (open calls)", "mean_jitter_ms", jit);
	summary_num(b, "Clear sent", "clear_sent", t.clear_sent);
	summary_num(b, "Cleared (Vonage)", "cleared", t.cleared);
	summary_num(b, "Notify sent", "notify_sent", t.notify_sent);
	summary_num(b, "Notified (Vonage)", "notified", t.notified);
	summary_num(b, "Event webhooks", "events_received", s->events_received);
	summary_row(b, "Uptime", "uptime_s", up);
	summary_row(b, "Version", "version", CALLER_ECHO_VERSION);
	if (s->drain_started) {
		char until[32], state[96];
		stats_iso8601(s->drain_deadline, until, sizeof until);
		snprintf(state, sizeof state, "draining: %u call(s) left, until %s", cs->open, until);
		summary_row(b, "State", "serving", state);
	} else {
		summary_row(b, "State", "serving", "serving");
	}
	sbuf_printf(b, "</tbody></table></div>\n");
}

/* 60 one-second samples across 300 units, newest at the right edge. */
static void graph_line(struct sbuf *b, const char *id, const uint32_t *v, const struct stats *s,
		       uint32_t max)
{
	sbuf_printf(b, "<polyline id=\"%s\" points=\"", id);
	for (uint32_t i = 0; i < s->hist_len; i++) {
		uint32_t k = (s->hist_head + STATS_HISTORY - s->hist_len + i) % STATS_HISTORY;
		sbuf_printf(b, "%s%u,%.1f", i ? " " : "", 300 - (s->hist_len - 1 - i) * 5,
			  78 - (double)v[k] / max * 74);
	}
	sbuf_printf(b, "\"/>");
}

static void render_graph(struct sbuf *b, const struct stats *s)
{
	uint32_t max = 1;
	for (uint32_t i = 0; i < STATS_HISTORY; i++) {
		if (s->hist_in[i] > max)
			max = s->hist_in[i];
		if (s->hist_out[i] > max)
			max = s->hist_out[i];
	}
	/* axes: frames per second on the left (0, half, top), seconds ago below */
	sbuf_printf(b, "<figure><svg viewBox=\"-26 0 330 90\" role=\"img\" aria-labelledby=\"g-cap\">"
		     "<line x1=\"0\" y1=\"4\" x2=\"300\" y2=\"4\"/><line x1=\"0\" y1=\"41\" x2=\"300\" y2=\"41\"/>"
		     "<line x1=\"0\" y1=\"78\" x2=\"300\" y2=\"78\"/><line x1=\"0\" y1=\"4\" x2=\"0\" y2=\"78\"/>"
		     "<text x=\"-3\" y=\"7\" text-anchor=\"end\" id=\"g-ymax\">%u</text>"
		     "<text x=\"-3\" y=\"44\" text-anchor=\"end\" id=\"g-ymid\">%u</text>"
		     "<text x=\"-3\" y=\"80\" text-anchor=\"end\">0</text>"
		     "<text x=\"0\" y=\"88\">-60 s</text><text x=\"150\" y=\"88\" text-anchor=\"middle\">-30 s</text>"
		     "<text x=\"300\" y=\"88\" text-anchor=\"end\">now</text>", max, (max + 1) / 2);
	graph_line(b, "g-in", s->hist_in, s, max);
	graph_line(b, "g-out", s->hist_out, s, max);
	sbuf_printf(b, "</svg><figcaption id=\"g-cap\">Frames per second over the last %d s: "
		     "<span class=\"in\">in (solid)</span>, <span class=\"out\">out (dashed)</span>; "
		     "top of the graph = <span id=\"g-max\">%u</span></figcaption></figure>\n",
		  STATS_HISTORY, max);
}

/* a figure with a bar: <meter> is native HTML, so no inline style (CSP) */
static void cell_meter(struct sbuf *b, const char *k, double v, const char *range)
{
	char num[24];
	snprintf(num, sizeof num, "%.1f", v);
	sbuf_printf(b, "<td data-k=\"%s\"><meter %s value=\"%s\"></meter> %s</td>", k, range, num, num);
}

/* The calls the view selected (stats_select), worst score first. */
static void render_calls(struct sbuf *b, const struct stats_view *v,
			 const struct call *const *sel, uint32_t n, uint32_t matching, time_t now)
{
	char dur[32], digit[2];

	sbuf_printf(b, "<h2 id=\"h-calls\">Open calls</h2><p class=\"find\"><label>Find a call "
		     "<input id=\"match\" type=\"search\" placeholder=\"uuid or caller number\" value=\"");
	sb_escaped(b, v->match);
	sbuf_printf(b, "\"></label> &middot; <a href=\"?calls=all\">list every call</a> &middot; "
		     "<a href=\"?\">the %d worst</a></p>"
		     "<div class=\"wrap\"><table aria-labelledby=\"h-calls\">"
		     "<caption><span id=\"calls-shown\">%u</span> of <span id=\"calls-matching\">%u</span> "
		     "call(s)%s, lowest quality score first (score: estimated MOS, 4.4 is clean; "
		     "jitter and level bars)</caption><thead><tr>"
		     "<th scope=\"col\">Score</th><th scope=\"col\">Jitter ms</th><th scope=\"col\">Gap frames</th>"
		     "<th scope=\"col\">Level dBFS</th>"
		     "<th scope=\"col\" class=\"l\">Call uuid</th><th scope=\"col\" class=\"l\">Caller</th>"
		     "<th scope=\"col\" class=\"l\">Client address</th><th scope=\"col\" class=\"l\">App</th>"
		     "<th scope=\"col\">Duration</th>"
		     "<th scope=\"col\" class=\"l\">Audio format</th><th scope=\"col\">Packets in</th>"
		     "<th scope=\"col\">Bytes in</th><th scope=\"col\">Packets out</th>"
		     "<th scope=\"col\">Bytes out</th><th scope=\"col\">Dropped</th>"
		     "<th scope=\"col\">Last DTMF</th></tr></thead><tbody id=\"calls\">",
		  STATS_VIEW_CALLS, n, matching, v->match[0] ? " matching" : " open");
	for (uint32_t i = 0; i < n && b->ok; i++) {
		const struct call *c = sel[i];
		struct quality_report r;
		struct call_counters k;
		quality_read(&c->q, &r);
		calls_counters(c, &k);
		fmt_dur(dur, sizeof dur, (long long)(now - c->connected_at));
		digit[0] = c->last_dtmf;
		digit[1] = '\0';
		sbuf_printf(b, "<tr data-id=\"%llu\"><td data-k=\"mos\">%.2f</td>", (unsigned long long)c->id, r.mos);
		cell_meter(b, "jitter_ms", r.jitter_ms, "min=\"0\" max=\"40\" low=\"5\" high=\"15\" optimum=\"0\"");
		cell_num(b, "gap_frames", r.gap_frames);
		cell_meter(b, "level_dbfs", r.level_dbfs,
			   "min=\"-60\" max=\"0\" low=\"-45\" high=\"-6\" optimum=\"-20\"");
		cell_str(b, "uuid", calls_uuid(c));
		cell_str(b, "from", calls_from(c));
		cell_str(b, "remote", c->remote);
		cell_str(b, "app", calls_app(c));
		sbuf_printf(b, "<td data-k=\"duration_s\">%s</td>", dur);
		cell_str(b, "content_type", c->content_type);
		cell_num(b, "packets_received", k.packets_received);
		cell_num(b, "bytes_received", k.bytes_received);
		cell_num(b, "packets_sent", k.packets_sent);
		cell_num(b, "bytes_sent", k.bytes_sent);
		cell_num(b, "frames_dropped", k.frames_dropped);
		sbuf_printf(b, "<td data-k=\"last_dtmf\">%s</td></tr>\n", digit[0] ? digit : "-");
	}
	if (!n)
		sbuf_printf(b, "<tr><td colspan=\"16\" class=\"l\">%s</td></tr>",
			    v->match[0] ? "No open call matches" : "No open calls");
	sbuf_printf(b, "</tbody></table></div>\n");
}

static void render_rejected(struct sbuf *b, const struct stats *s)
{
	sbuf_printf(b, "<section><h2 id=\"h-rej\">Refused handshakes</h2><div class=\"wrap\"><table aria-labelledby=\"h-rej\">"
		     "<caption>By reason, since start</caption><thead><tr><th scope=\"col\" class=\"l\">Reason</th>"
		     "<th scope=\"col\">Count</th></tr></thead><tbody id=\"rejected\">");
	int any = 0;
	for (int r = 1; r < REJECT__COUNT; r++)   /* only the reasons that happened */
		if (s->rejected[r] && ++any)
			sbuf_printf(b, "<tr><td data-k=\"reason\" class=\"l\">%s</td><td data-k=\"count\">%llu</td></tr>",
				    refusal_name(r), (unsigned long long)s->rejected[r]);
	if (!any)
		sbuf_printf(b, "<tr><td colspan=\"2\" class=\"l\">None</td></tr>");
	sbuf_printf(b, "</tbody></table></div></section>\n");
}

static void render_events(struct sbuf *b, const struct stats *s)
{
	char when[32];

	sbuf_printf(b, "<section><h2 id=\"h-ev\">Recent call events</h2><div class=\"wrap\"><table aria-labelledby=\"h-ev\">"
		     "<caption>Last %d event webhooks, newest first</caption><thead><tr>"
		     "<th scope=\"col\" class=\"l\">Time (UTC)</th><th scope=\"col\" class=\"l\">Call uuid</th>"
		     "<th scope=\"col\" class=\"l\">Status</th></tr></thead><tbody id=\"events\">",
		  STATS_RECENT_EVENTS);
	for (uint32_t i = 0; i < s->recent_len; i++) {
		const struct stats_event *e =
			&s->recent[(s->recent_head + STATS_RECENT_EVENTS - 1 - i) % STATS_RECENT_EVENTS];
		stats_iso8601(e->at, when, sizeof when);
		sbuf_printf(b, "<tr>");
		cell_str(b, "time", when);
		cell_str(b, "uuid", e->uuid);
		cell_str(b, "status", e->status);
		sbuf_printf(b, "</tr>");
	}
	if (!s->recent_len)
		sbuf_printf(b, "<tr><td colspan=\"3\" class=\"l\">No events yet</td></tr>");
	sbuf_printf(b, "</tbody></table></div></section>\n");
}

static void render_blocks(struct sbuf *b, const struct block_table *t, time_t now)
{
	char net[CIDR_STR_MAX], left[32];
	int shown = 0;

	sbuf_printf(b, "<section><h2 id=\"h-blk\">Blocked addresses</h2><div class=\"wrap\"><table aria-labelledby=\"h-blk\">"
		     "<caption>Refused at connect (POST /admin/block, or automatic)</caption><thead><tr>"
		     "<th scope=\"col\" class=\"l\">Address or range</th><th scope=\"col\" class=\"l\">By</th>"
		     "<th scope=\"col\" class=\"l\">Reason</th><th scope=\"col\" class=\"l\">Who</th>"
		     "<th scope=\"col\">Ends in</th><th scope=\"col\">Refused</th></tr></thead><tbody id=\"blocks\">");
	for (uint32_t i = 0; t && i < t->n && b->ok; i++) {
		const struct block_entry *e = &t->e[i];
		if (e->expires && e->expires <= now)
			continue;
		cidr_format(&e->net, net, sizeof net);
		if (e->expires)
			fmt_dur(left, sizeof left, (long long)(e->expires - now));
		else
			snprintf(left, sizeof left, "never");
		sbuf_printf(b, "<tr>");
		cell_str(b, "cidr", net);
		cell_str(b, "source", e->source == BLOCK_AUTO ? "auto" : "manual");
		cell_str(b, "reason", e->reason);
		cell_str(b, "by", e->by);
		sbuf_printf(b, "<td data-k=\"expires_in\">%s</td>", left);
		cell_num(b, "hits", e->hits);
		sbuf_printf(b, "</tr>");
		shown++;
	}
	if (!shown)
		sbuf_printf(b, "<tr><td colspan=\"6\" class=\"l\">No blocks</td></tr>");
	sbuf_printf(b, "</tbody></table></div></section>\n");
}

static void render_actions(struct sbuf *b, const struct stats *s)
{
	char when[32];

	sbuf_printf(b, "<section><h2 id=\"h-act\">Operator actions</h2><div class=\"wrap\"><table aria-labelledby=\"h-act\">"
		     "<caption>Last %d, newest first (admin API and automatic blocks)</caption><thead><tr>"
		     "<th scope=\"col\" class=\"l\">Time (UTC)</th><th scope=\"col\" class=\"l\">Action</th>"
		     "<th scope=\"col\" class=\"l\">Target</th><th scope=\"col\" class=\"l\">By</th>"
		     "<th scope=\"col\" class=\"l\">Result</th></tr></thead><tbody id=\"actions\">",
		  STATS_RECENT_ADMIN);
	for (uint32_t i = 0; i < s->admin_len; i++) {
		const struct stats_admin_action *a =
			&s->admin_recent[(s->admin_head + STATS_RECENT_ADMIN - 1 - i) % STATS_RECENT_ADMIN];
		stats_iso8601(a->at, when, sizeof when);
		sbuf_printf(b, "<tr>");
		cell_str(b, "time", when);
		cell_str(b, "action", a->action);
		cell_str(b, "target", a->target);
		cell_str(b, "by", a->by);
		cell_str(b, "result", a->result);
		sbuf_printf(b, "</tr>");
	}
	if (!s->admin_len)
		sbuf_printf(b, "<tr><td colspan=\"5\" class=\"l\">No operator actions yet</td></tr>");
	sbuf_printf(b, "</tbody></table></div></section>\n");
}

struct page_arg {
	const struct stats *s;
	const struct calls *cs;
	const struct block_table *t;
	time_t now;
	const struct stats_view *v;
	const struct call *const *sel;   /* the calls listed (stats_select) */
	uint32_t n, matching;
};

static void render(struct sbuf *b, const void *arg)
{
	const struct page_arg *a = (const struct page_arg *)arg;
	const struct stats *s = a->s;
	const struct block_table *t = a->t;
	time_t now = a->now;
	char up[32];

	fmt_dur(up, sizeof up, (long long)(now - s->started));
	sbuf_printf(b,
		  "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
		  "<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>"
		  "<title>caller-echo stats</title><style>%s</style></head><body>\n<header><h1>caller-echo",
		  STYLE);
	if (s->worker[0]) {   /* several processes on one port: say which one this is */
		sbuf_printf(b, " <span id=\"worker\">");
		sb_escaped(b, s->worker);
		sbuf_printf(b, "</span>");
	}
	sbuf_printf(b,
		  "</h1><p>Version %s &middot; pid %ld &middot; <span id=\"state\">snapshot at %s uptime"
		  "</span> &middot; <a href=\"stats.json\">JSON</a> &middot; <a href=\"metrics\">metrics</a>"
		  "</p></header>\n<main>\n<h2>Overview</h2><div class=\"grid\">",
		  CALLER_ECHO_VERSION, s->pid, up);
	render_summary(b, s, a->cs, now);
	render_graph(b, s);
	sbuf_printf(b, "</div>\n");
	render_calls(b, a->v, a->sel, a->n, a->matching, now);
	sbuf_printf(b, "<div class=\"grid\">");
	render_rejected(b, s);
	render_events(b, s);
	sbuf_printf(b, "</div>\n<div class=\"grid\">");
	render_blocks(b, t, now);
	render_actions(b, s);
	sbuf_printf(b, "</div>\n</main>\n<script>%s</script>\n</body></html>\n", stats_page_script);
}

char *stats_page_render(const struct stats *s, const struct calls *cs, const struct block_table *t, time_t now,
			size_t *len)
{
	struct stats_view v;
	stats_view_default(&v);
	return stats_page_render_view(s, cs, t, &v, now, len);
}

char *stats_page_render_view(const struct stats *s, const struct calls *cs, const struct block_table *t,
			     const struct stats_view *v, time_t now, size_t *len)
{
	int oom;
	struct page_arg a = { s, cs, t, now, v, NULL, 0, 0 };
	/* selected once: the page is printed twice (measure, then fill) */
	const struct call **sel = stats_select(cs, v, &a.n, &a.matching, &oom);
	if (oom)
		return NULL;
	a.sel = sel;
	char *out = sbuf_render(render, &a, len);
	free(sel);
	return out;
}

/* "'sha256-<base64>'" of s into out (56 bytes), or "'none'" if hashing fails. */
static void csp_hash(const char *s, size_t len, char *out, size_t cap)
{
	unsigned char md[EVP_MAX_MD_SIZE], b64[64];
	unsigned int mdlen = 0;

	if (EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL) && mdlen == 32 &&
	    EVP_EncodeBlock(b64, md, (int)mdlen) == 44)
		snprintf(out, cap, "'sha256-%.44s'", (char *)b64);
	else
		snprintf(out, cap, "'none'");   /* the page still works, unstyled or static */
}

const char *stats_page_csp(void)
{
	static char csp[320];
	char script[64], style[64];

	if (csp[0])
		return csp;
	csp_hash(stats_page_script, sizeof stats_page_script - 1, script, sizeof script);
	csp_hash(STYLE, sizeof STYLE - 1, style, sizeof style);
	snprintf(csp, sizeof csp,
		 "default-src 'none'; style-src %s; script-src %s; connect-src 'self'; "
		 "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		 style, script);
	return csp;
}
