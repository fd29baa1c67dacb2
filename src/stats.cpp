/*
 * stats.cpp -- per-connection rows, totals, the operator's history and the
 * /stats.json rendering.
 *
 * JSON goes through cJSON (escaping, numbers). The HTML page lives in
 * stats_page.cpp and the Prometheus text in metrics.cpp; both read the same
 * struct. History, recent events and close counts are fixed arrays written
 * at most once per second, per webhook or per close -- never per frame.
 */
#include "stats.h"
#include "slot_pool.h"

#include "block.h"
#include "log.h"
#include "sbuf.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stats_init(struct stats *s, time_t now)
{
	memset(s, 0, sizeof *s);
	s->started = now;
}

void stats_sample(struct stats *s, const struct calls *cs, time_t now)
{
	struct call_counters t;

	if (s->hist_at && now == s->hist_at)
		return;
	calls_totals(cs, &t);
	if (!s->hist_at || now < s->hist_at) {
		/* first call, or the clock went back: start over from here */
		s->hist_at = now;
		s->hist_prev_in = t.packets_received;
		s->hist_prev_out = t.packets_sent;
		return;
	}
	uint64_t dt = (uint64_t)(now - s->hist_at);
	uint64_t din = t.packets_received - s->hist_prev_in, dout = t.packets_sent - s->hist_prev_out;
	uint64_t n = dt < STATS_HISTORY ? dt : STATS_HISTORY;
	for (uint64_t i = 0; i < n; i++) {
		s->hist_in[s->hist_head] = (uint32_t)(din / dt);
		s->hist_out[s->hist_head] = (uint32_t)(dout / dt);
		s->hist_head = (s->hist_head + 1) % STATS_HISTORY;
		if (s->hist_len < STATS_HISTORY)
			s->hist_len++;
	}
	s->hist_at = now;
	s->hist_prev_in = t.packets_received;
	s->hist_prev_out = t.packets_sent;
}

void stats_rate(const struct stats *s, uint32_t secs, double *in, double *out)
{
	uint64_t a = 0, b = 0;
	uint32_t n = secs < s->hist_len ? secs : s->hist_len;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = (s->hist_head + STATS_HISTORY - 1 - i) % STATS_HISTORY;
		a += s->hist_in[k];
		b += s->hist_out[k];
	}
	*in = n ? (double)a / n : 0;
	*out = n ? (double)b / n : 0;
}

static const char *const status_names[EV__COUNT] = {
	"started", "ringing", "answered", "machine", "human", "completed", "busy",
	"cancelled", "failed", "rejected", "timeout", "unanswered", "disconnected", "other",
};

enum event_status stats_event_status(const char *status)
{
	for (int i = 0; status && i < EV_OTHER; i++)
		if (!strcmp(status, status_names[i]))
			return (enum event_status)i;
	return EV_OTHER;
}

const char *stats_event_status_str(int st)
{
	return st >= 0 && st < EV__COUNT ? status_names[st] : "other";
}

void stats_event_record(struct stats *s, time_t now, const char *status, const char *uuid)
{
	struct stats_event *e = &s->recent[s->recent_head];

	s->events_by_status[stats_event_status(status)]++;
	e->at = now;
	snprintf(e->uuid, sizeof e->uuid, "%s", uuid ? uuid : "");
	snprintf(e->status, sizeof e->status, "%s", status ? status : "");
	s->recent_head = (s->recent_head + 1) % STATS_RECENT_EVENTS;
	if (s->recent_len < STATS_RECENT_EVENTS)
		s->recent_len++;
}

static const char *const admin_names[STATS_ADMIN_OPS] = { "hangup", "block", "unblock" };

const char *stats_admin_op_str(int op)
{
	return op >= 0 && op < STATS_ADMIN_OPS ? admin_names[op] : "auto_block";
}

void stats_admin_record(struct stats *s, time_t now, int op, const char *action, const char *target,
			const char *by, const char *result)
{
	struct stats_admin_action *a = &s->admin_recent[s->admin_head];

	if (op >= 0 && op < STATS_ADMIN_OPS)
		s->admin_actions[op]++;
	else
		s->auto_blocks++;
	a->at = now;
	snprintf(a->action, sizeof a->action, "%s", action ? action : "");
	snprintf(a->target, sizeof a->target, "%s", target ? target : "");
	snprintf(a->by, sizeof a->by, "%s", by ? by : "");
	snprintf(a->result, sizeof a->result, "%s", result ? result : "");
	s->admin_head = (s->admin_head + 1) % STATS_RECENT_ADMIN;
	if (s->admin_len < STATS_RECENT_ADMIN)
		s->admin_len++;
}

static const char *const close_names[CC__COUNT] = {
	"1000", "1001", "1002", "1003", "1005", "1006", "1007", "1008", "1009", "1010", "1011", "other",
};

void stats_close_record(struct stats *s, enum close_side side, int code)
{
	int i = CC_OTHER;

	switch (code) {
	case 1000: i = CC_1000; break;
	case 1001: i = CC_1001; break;
	case 1002: i = CC_1002; break;
	case 1003: i = CC_1003; break;
	case 1005: i = CC_1005; break;
	case 1006: i = CC_1006; break;
	case 1007: i = CC_1007; break;
	case 1008: i = CC_1008; break;
	case 1009: i = CC_1009; break;
	case 1010: i = CC_1010; break;
	case 1011: i = CC_1011; break;
	}
	if (side == CLOSE_BY_SERVER || side == CLOSE_BY_PEER)
		s->closes[side][i]++;
}

const char *stats_close_code_str(int idx)
{
	return idx >= 0 && idx < CC__COUNT ? close_names[idx] : "other";
}


void stats_iso8601(time_t t, char *out, size_t cap)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	if (!strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) && cap)
		out[0] = '\0';
}

/* cJSON numbers are doubles: exact up to 2^53, far beyond any counter here */
static int add_counters(cJSON *o, const struct call_counters *k)
{
	return cJSON_AddNumberToObject(o, "packets_received", (double)k->packets_received) &&
	       cJSON_AddNumberToObject(o, "bytes_received", (double)k->bytes_received) &&
	       cJSON_AddNumberToObject(o, "packets_sent", (double)k->packets_sent) &&
	       cJSON_AddNumberToObject(o, "bytes_sent", (double)k->bytes_sent) &&
	       cJSON_AddNumberToObject(o, "frames_dropped", (double)k->frames_dropped) &&
	       cJSON_AddNumberToObject(o, "clear_sent", (double)k->clear_sent) &&
	       cJSON_AddNumberToObject(o, "notify_sent", (double)k->notify_sent) &&
	       cJSON_AddNumberToObject(o, "cleared", (double)k->cleared) &&
	       cJSON_AddNumberToObject(o, "notified", (double)k->notified) &&
	       cJSON_AddNumberToObject(o, "app_refused", (double)k->app_refused);
}

/* figures with the precision a reader can use: ms to 0.01, dB to 0.1 */
static double round_to(double v, double step)
{
	double k = v / step;
	return (double)(long long)(k + (k < 0 ? -0.5 : 0.5)) * step;
}

/*
 * 1 when s (n bytes) is UTF-8 text: well-formed sequences only (no overlong
 * forms, surrogates or code points past U+10FFFF) and no control characters.
 * The match text is echoed in /stats.json and on the page; cJSON prints a
 * string's bytes as they are, so ?match=%FF made JSON that is not UTF-8.
 */
static int utf8_text(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t k;
		unsigned cp, min;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07, min = 0x10000;
		else
			return 0;   /* a continuation byte, 0xc0/0xc1 or past 0xf4 */
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return 0;   /* overlong, too big, a surrogate, a C1 control */
		i += k + 1;
	}
	return 1;
}

void stats_view_default(struct stats_view *v)
{
	memset(v, 0, sizeof *v);
	v->limit = STATS_VIEW_CALLS;
}

int stats_view_arg(struct stats_view *v, const char *arg, size_t len, const char **why)
{
	if (len >= 6 && !memcmp(arg, "calls=", 6)) {
		const char *p = arg + 6;
		size_t n = len - 6;
		uint32_t k = 0;
		if (n == 3 && !memcmp(p, "all", 3)) {
			v->limit = STATS_VIEW_MAX;
			return 0;
		}
		for (size_t i = 0; i < n && k <= 100000; i++) {
			if (p[i] < '0' || p[i] > '9')
				return (*why = "calls= takes a number from 1 to 100000, or all", -1);
			k = k * 10 + (uint32_t)(p[i] - '0');
		}
		if (!n || !k || k > 100000)
			return (*why = "calls= takes a number from 1 to 100000, or all", -1);
		v->limit = k;
	} else if (len >= 6 && !memcmp(arg, "match=", 6)) {
		if (len - 6 >= sizeof v->match)
			return (*why = "match= is at most 63 bytes (a uuid or a phone number, or part of one)", -1);
		if (!utf8_text(arg + 6, len - 6))
			return (*why = "match= must be UTF-8 text without control characters", -1);
		memcpy(v->match, arg + 6, len - 6);
		v->match[len - 6] = '\0';
	}
	return 0;
}

void stats_quality_read(const struct calls *cs, struct stats_quality_now *out)
{
	double mos = 0, jit = 0;
	memset(out, 0, sizeof *out);
	for (const struct call *c = cs->head; c; c = c->next) {
		if (!c->q.frames)
			continue;
		double m = quality_score(&c->q);
		if (!out->calls || m < out->worst_mos)
			out->worst_mos = m;
		out->calls++;
		out->poor += m < STATS_POOR_MOS;
		mos += m;
		jit += c->q.jitter16_us / 16.0 / 1000.0;
	}
	if (out->calls) {
		out->mean_mos = mos / out->calls;
		out->mean_jitter_ms = jit / out->calls;
	}
}

static int add_quality_now(cJSON *root, const struct calls *cs)
{
	struct stats_quality_now q;
	cJSON *o = cJSON_AddObjectToObject(root, "quality");

	stats_quality_read(cs, &q);
	return o && cJSON_AddNumberToObject(o, "calls_scored", q.calls) &&
	       cJSON_AddNumberToObject(o, "calls_poor", q.poor) &&
	       cJSON_AddNumberToObject(o, "poor_below", STATS_POOR_MOS) &&
	       cJSON_AddNumberToObject(o, "worst_mos", round_to(q.worst_mos, 0.01)) &&
	       cJSON_AddNumberToObject(o, "mean_mos", round_to(q.mean_mos, 0.01)) &&
	       cJSON_AddNumberToObject(o, "mean_jitter_ms", round_to(q.mean_jitter_ms, 0.01));
}

struct scored { double mos; const struct call *c; };

static int worst_first(const void *a, const void *b)
{
	const struct scored *x = (const struct scored *)a, *y = (const struct scored *)b;
	if (x->mos != y->mos)
		return x->mos < y->mos ? -1 : 1;
	return x->c->id > y->c->id ? -1 : x->c->id < y->c->id;   /* newest first */
}

static int matches(const struct call *c, const char *m)
{
	return !m[0] || strstr(calls_uuid(c), m) || strstr(calls_from(c), m);
}

const struct call **stats_select(const struct calls *cs, const struct stats_view *v, uint32_t *n, uint32_t *matching,
				 int *oom)
{
	uint32_t k = 0;
	*n = *matching = 0;
	*oom = 0;
	if (!cs->open)
		return NULL;
	struct scored *all = (struct scored *)malloc(sizeof *all * cs->open);
	if (!all)
		return (*oom = 1, (const struct call **)NULL);
	for (const struct call *c = cs->head; c && k < cs->open; c = c->next) {
		if (!matches(c, v->match))
			continue;
		all[k].mos = quality_score(&c->q);
		all[k++].c = c;
	}
	*matching = k;
	qsort(all, k, sizeof *all, worst_first);
	uint32_t keep = k < v->limit ? k : v->limit;
	const struct call **out = NULL;
	if (keep && !(out = (const struct call **)malloc(sizeof *out * keep)))
		*oom = 1;
	for (uint32_t i = 0; out && i < keep; i++)
		out[i] = all[i].c;
	free(all);
	*n = out ? keep : 0;
	return out;
}

/*
 * The listed calls, printed straight into one buffer rather than built as
 * cJSON objects: cJSON prints each number with snprintf and then reads it
 * back to check the round trip, about 24 us a call (49 ms for 2,000 calls
 * on the loop that carries the audio; docs/benchmarks.md). Same keys, same
 * order; strings escaped as the JSON logs escape them.
 */
static void json_str(struct sbuf *b, const char *key, const char *v)
{
	char esc[6 * 64 + 1];   /* every field here is under 64 bytes: 6x when all escaped */
	size_t n = log_json_escape(esc, sizeof esc, v, strnlen(v, 64));
	sbuf_printf(b, "\"%s\":\"%.*s\",", key, (int)n, esc);
}

struct conns_arg { const struct call *const *sel; uint32_t n; time_t now; };

static void render_conns(struct sbuf *b, const void *arg)
{
	const struct conns_arg *a = (const struct conns_arg *)arg;
	char when[32], digit[2];

	sbuf_printf(b, "[");
	for (uint32_t i = 0; i < a->n && b->ok; i++) {
		const struct call *c = a->sel[i];
		struct call_counters kk, *k = &kk;
		struct quality_report r;
		calls_counters(c, k);
		quality_read(&c->q, &r);
		stats_iso8601(c->connected_at, when, sizeof when);
		digit[0] = c->last_dtmf;
		digit[1] = '\0';
		sbuf_printf(b, "%s{\"id\":%llu,", i ? "," : "", (unsigned long long)c->id);
		json_str(b, "remote", c->remote);
		json_str(b, "uuid", calls_uuid(c));
		json_str(b, "content_type", c->content_type);
		json_str(b, "connected_at", when);
		sbuf_printf(b, "\"packets_received\":%llu,\"bytes_received\":%llu,\"packets_sent\":%llu,"
			       "\"bytes_sent\":%llu,\"frames_dropped\":%llu,\"clear_sent\":%llu,\"notify_sent\":%llu,"
			       "\"cleared\":%llu,\"notified\":%llu,\"app_refused\":%llu,\"dtmf_count\":%u,",
			    (unsigned long long)k->packets_received, (unsigned long long)k->bytes_received,
			    (unsigned long long)k->packets_sent, (unsigned long long)k->bytes_sent,
			    (unsigned long long)k->frames_dropped, (unsigned long long)k->clear_sent,
			    (unsigned long long)k->notify_sent, (unsigned long long)k->cleared,
			    (unsigned long long)k->notified, (unsigned long long)k->app_refused, c->dtmf_count);
		json_str(b, "last_dtmf", digit);
		sbuf_printf(b, "\"invalid_messages\":%u,\"log_suppressed\":%u,", c->invalid_messages,
			    calls_log_suppressed(c));
		json_str(b, "from", calls_from(c));
		json_str(b, "app", calls_app(c));
		sbuf_printf(b, "\"duration_s\":%lld,\"quality\":{\"mos\":%.2f,\"jitter_ms\":%.2f,\"gaps\":%u,"
			       "\"gap_frames\":%u,\"longest_gap_ms\":%.2f,\"burst_frames\":%u,\"behind_frames\":%u,"
			       "\"dwell_p50_ms\":%.2f,\"dwell_p99_ms\":%.2f,\"level_dbfs\":%.1f,\"recent_dbfs\":%.1f,"
			       "\"silent_pct\":%.1f,\"clipped_samples\":%u}}",
			    a->now > c->connected_at ? (long long)(a->now - c->connected_at) : 0LL, r.mos, r.jitter_ms,
			    r.gaps, r.gap_frames, r.longest_gap_ms, r.burst_frames, r.behind, r.dwell_p50_ms,
			    r.dwell_p99_ms, r.level_dbfs, r.recent_dbfs, r.silent_pct, r.clipped);
	}
	sbuf_printf(b, "]");
}

/* history as two arrays, oldest first */
static int add_history(cJSON *root, const struct stats *s)
{
	cJSON *h = cJSON_AddObjectToObject(root, "history"), *in, *out;
	if (!h || !cJSON_AddNumberToObject(h, "interval_s", 1) ||
	    !(in = cJSON_AddArrayToObject(h, "frames_in_per_s")) ||
	    !(out = cJSON_AddArrayToObject(h, "frames_out_per_s")))
		return 0;
	for (uint32_t i = 0; i < s->hist_len; i++) {
		uint32_t k = (s->hist_head + STATS_HISTORY - s->hist_len + i) % STATS_HISTORY;
		cJSON *a = cJSON_CreateNumber(s->hist_in[k]), *b = cJSON_CreateNumber(s->hist_out[k]);
		if (!cJSON_AddItemToArray(in, a)) {
			cJSON_Delete(a);
			cJSON_Delete(b);
			return 0;
		}
		if (!cJSON_AddItemToArray(out, b)) {
			cJSON_Delete(b);
			return 0;
		}
	}
	return 1;
}

/* newest first */
static int add_recent_events(cJSON *root, const struct stats *s)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "recent_events");
	char when[32];

	if (!arr)
		return 0;
	for (uint32_t i = 0; i < s->recent_len; i++) {
		const struct stats_event *e =
			&s->recent[(s->recent_head + STATS_RECENT_EVENTS - 1 - i) % STATS_RECENT_EVENTS];
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(arr, o))
			return (cJSON_Delete(o), 0);
		stats_iso8601(e->at, when, sizeof when);
		if (!cJSON_AddStringToObject(o, "time", when) || !cJSON_AddStringToObject(o, "uuid", e->uuid) ||
		    !cJSON_AddStringToObject(o, "status", e->status))
			return 0;
	}
	return 1;
}

/* operator actions (newest first) and the live blocks */
/* What the defences did besides refusing (stats.h: proxy_untrusted and the fields after it). */
static int add_security(cJSON *root, const struct stats *s)
{
	cJSON *o = cJSON_AddObjectToObject(root, "security");
	return o && cJSON_AddNumberToObject(o, "proxy_headers_untrusted", (double)s->proxy_untrusted) &&
	       cJSON_AddNumberToObject(o, "log_lines_held_back", (double)s->log_held_back) &&
	       cJSON_AddNumberToObject(o, "log_lines_suppressed", (double)s->log_suppressed) &&
	       cJSON_AddNumberToObject(o, "pending_evicted", (double)s->pending_evicted) &&
	       cJSON_AddNumberToObject(o, "clients_evicted", (double)s->clients_evicted);
}

static int add_admin(cJSON *root, const struct stats *s, const struct block_table *blocks, time_t now)
{
	cJSON *a = cJSON_AddObjectToObject(root, "admin"), *by, *arr;
	char when[32];

	if (!a || !(by = cJSON_AddObjectToObject(a, "actions")))
		return 0;
	for (int i = 0; i < STATS_ADMIN_OPS; i++)
		if (!cJSON_AddNumberToObject(by, admin_names[i], (double)s->admin_actions[i]))
			return 0;
	/* what the fixed block table lost under a flood, and block-file saves refused */
	if (!cJSON_AddNumberToObject(a, "auto_blocks", (double)s->auto_blocks) ||
	    !cJSON_AddNumberToObject(a, "auto_blocks_evicted", blocks ? (double)blocks->evicted : 0) ||
	    !cJSON_AddNumberToObject(a, "blocks_full", blocks ? (double)blocks->full : 0) ||
	    !cJSON_AddNumberToObject(a, "block_file_refused", blocks ? (double)blocks->save_refused : 0) ||
	    !(arr = cJSON_AddArrayToObject(a, "recent")))
		return 0;
	for (uint32_t i = 0; i < s->admin_len; i++) {
		const struct stats_admin_action *e =
			&s->admin_recent[(s->admin_head + STATS_RECENT_ADMIN - 1 - i) % STATS_RECENT_ADMIN];
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(arr, o))
			return (cJSON_Delete(o), 0);
		stats_iso8601(e->at, when, sizeof when);
		if (!cJSON_AddStringToObject(o, "time", when) || !cJSON_AddStringToObject(o, "action", e->action) ||
		    !cJSON_AddStringToObject(o, "target", e->target) || !cJSON_AddStringToObject(o, "by", e->by) ||
		    !cJSON_AddStringToObject(o, "result", e->result))
			return 0;
	}
	cJSON *b = blocks ? block_to_json(blocks, now) : cJSON_CreateObject();
	cJSON *list = b ? cJSON_DetachItemFromObjectCaseSensitive(b, "blocks") : NULL;
	cJSON_Delete(b);
	if (!list && !(list = cJSON_CreateArray()))
		return 0;
	if (!cJSON_AddItemToObject(a, "blocks", list)) {
		cJSON_Delete(list);
		return 0;
	}
	return 1;
}

/* Everything after the original fields: added for the live page and metrics. */
static int add_operator_view(cJSON *root, const struct stats *s, time_t now)
{
	static const char *const side[CLOSE__SIDES] = { "server", "peer" };
	char when[32];
	double in, out;
	cJSON *o, *by, *cl;

	stats_iso8601(s->started, when, sizeof when);
	stats_rate(s, STATS_RATE_WINDOW, &in, &out);
	if (!cJSON_AddStringToObject(root, "version", CALLER_ECHO_VERSION) ||
	    !cJSON_AddStringToObject(root, "started_at", when) ||
	    !cJSON_AddNumberToObject(root, "now", (double)now) ||
	    !(o = cJSON_AddObjectToObject(root, "rate")) ||
	    !cJSON_AddNumberToObject(o, "window_s", STATS_RATE_WINDOW) ||
	    !cJSON_AddNumberToObject(o, "frames_in_per_s", in) ||
	    !cJSON_AddNumberToObject(o, "frames_out_per_s", out) || !add_history(root, s) ||
	    !(by = cJSON_AddObjectToObject(root, "events_by_status")))
		return 0;
	for (int i = 0; i < EV__COUNT; i++)
		if (!cJSON_AddNumberToObject(by, stats_event_status_str(i), (double)s->events_by_status[i]))
			return 0;
	if (!add_recent_events(root, s) || !(cl = cJSON_AddObjectToObject(root, "closes")))
		return 0;
	for (int d = 0; d < CLOSE__SIDES; d++) {
		cJSON *c = cJSON_AddObjectToObject(cl, side[d]);
		if (!c)
			return 0;
		for (int i = 0; i < CC__COUNT; i++)
			if (!cJSON_AddNumberToObject(c, stats_close_code_str(i), (double)s->closes[d][i]))
				return 0;
	}
	return 1;
}

/* null while serving; after SIGTERM, since when, until when, and the calls left */
static int add_draining(cJSON *root, const struct stats *s, const struct calls *cs)
{
	char since[32], until[32];

	if (!s->drain_started)
		return cJSON_AddNullToObject(root, "draining") != NULL;
	cJSON *o = cJSON_AddObjectToObject(root, "draining");
	stats_iso8601(s->drain_started, since, sizeof since);
	stats_iso8601(s->drain_deadline, until, sizeof until);
	return o && cJSON_AddStringToObject(o, "since", since) && cJSON_AddStringToObject(o, "deadline", until) &&
	       cJSON_AddNumberToObject(o, "calls_left", cs->open);
}

/* the shared frame slots: in use now, the most ever (what has become resident), reserved */
static int add_frame_slots(cJSON *root, const struct stats *s)
{
	const struct slot_pool *p = s->frame_pool;
	cJSON *o = cJSON_AddObjectToObject(root, "frame_slots");

	return o && cJSON_AddNumberToObject(o, "in_use", p ? p->out : 0) &&
	       cJSON_AddNumberToObject(o, "peak", p ? p->peak : 0) &&
	       cJSON_AddNumberToObject(o, "reserved", p ? p->nslots : 0) &&
	       cJSON_AddNumberToObject(o, "slot_bytes", p ? (double)p->stride : 0);
}

/* why Redis checks got no answer (replay_store.h); they add up to errors */
static int add_redis_errors(cJSON *o, const struct replay_store_stats *r)
{
	static const char *const why[REPLAY_REDIS_ERRORS] = REPLAY_REDIS_ERROR_NAMES;
	cJSON *e = cJSON_AddObjectToObject(o, "redis_errors");

	for (int i = 0; e && i < REPLAY_REDIS_ERRORS; i++)
		if (!cJSON_AddNumberToObject(e, why[i], (double)r->redis_errors[i]))
			return 0;
	return e != NULL;
}

/* where accepted tokens are kept, and how the checks went */
static int add_replay_store(cJSON *root, const struct stats *s)
{
	const struct replay_store_stats *r = s->replay;
	cJSON *o = cJSON_AddObjectToObject(root, "replay_store");

	if (!o)
		return 0;
	if (!r)
		return cJSON_AddStringToObject(o, "kind", "memory") != NULL;
	const struct replay *t = s->replay_table;
	/* the table: its size (from the configuration, or a shared file's own),
	 * entries not yet seen expired, the bytes reserved (resident as used) */
	return cJSON_AddStringToObject(o, "kind", s->replay_kind ? s->replay_kind : "memory") &&
	       cJSON_AddNumberToObject(o, "slots", t ? t->slots : 0) &&
	       cJSON_AddNumberToObject(o, "live", t ? t->live : 0) &&
	       cJSON_AddNumberToObject(o, "memory_bytes", t ? (double)replay_bytes(t->slots) : 0) &&
	       cJSON_AddNumberToObject(o, "design_live", (double)s->replay_design_live) &&
	       cJSON_AddNumberToObject(o, "full", (double)r->full) &&
	       cJSON_AddNumberToObject(o, "file_unsafe", (double)r->unsafe) &&
	       cJSON_AddNumberToObject(o, "checks", (double)r->checks) &&
	       cJSON_AddNumberToObject(o, "errors", (double)r->errors) &&
	       cJSON_AddNumberToObject(o, "fallbacks", (double)r->fallbacks) &&
	       cJSON_AddNumberToObject(o, "reconnects", r->reconnects) &&
	       cJSON_AddNumberToObject(o, "rtt_us_avg", r->checks ? (double)(r->rtt_us_sum / r->checks) : 0) &&
	       cJSON_AddNumberToObject(o, "rtt_us_max", r->rtt_us_max) && add_redis_errors(o, r);
}

/* open calls by app, every known app listed (0 included) */
static int add_calls_by_app(cJSON *root, const struct stats *s, const struct calls *cs)
{
	cJSON *o = cJSON_AddObjectToObject(root, "calls_by_app");

	for (int i = 0; o && i < s->n_app_names; i++)
		if (!cJSON_AddNumberToObject(o, s->app_names[i], calls_in_app(cs, s->app_names[i])))
			return 0;
	return o != NULL;
}

char *stats_render_json(const struct stats *s, const struct calls *cs, const struct block_table *blocks, time_t now,
			size_t *len)
{
	struct stats_view v;
	stats_view_default(&v);
	return stats_render_json_view(s, cs, blocks, &v, now, len);
}

char *stats_render_json_view(const struct stats *s, const struct calls *cs, const struct block_table *blocks,
			     const struct stats_view *v, time_t now, size_t *len)
{
	struct call_counters tot;
	cJSON *root, *t, *rej, *cv;
	char *out = NULL;
	uint32_t n, matching;
	int ok, oom;
	const struct call **sel = stats_select(cs, v, &n, &matching, &oom);

	if (oom)
		return NULL;
	root = cJSON_CreateObject();
	calls_totals(cs, &tot);
	ok = root && cJSON_AddStringToObject(root, "worker", s->worker) &&
	     cJSON_AddNumberToObject(root, "pid", (double)s->pid) &&
	     cJSON_AddNumberToObject(root, "uptime_s", (double)(now - s->started)) &&
	     (cv = cJSON_AddObjectToObject(root, "calls_view")) &&
	     cJSON_AddStringToObject(cv, "order", "worst_first") &&
	     cJSON_AddNumberToObject(cv, "limit", v->limit) &&
	     cJSON_AddStringToObject(cv, "match", v->match) &&
	     cJSON_AddNumberToObject(cv, "matching", matching) &&
	     cJSON_AddNumberToObject(cv, "shown", n);
	struct conns_arg ca = { sel, n, now };
	size_t clen;
	char *conns = ok ? sbuf_render(render_conns, &ca, &clen) : NULL;
	ok = conns && cJSON_AddRawToObject(root, "connections", conns);
	free(conns);
	free(sel);
	ok = ok && (t = cJSON_AddObjectToObject(root, "totals")) && add_counters(t, &tot) &&
	     cJSON_AddNumberToObject(t, "connections_open", cs->open) &&
	     cJSON_AddNumberToObject(t, "connections_total", (double)cs->total) &&
	     cJSON_AddNumberToObject(t, "log_suppressed", (double)s->call_log_suppressed) &&
	     add_quality_now(root, cs) && add_draining(root, s, cs) &&
	     add_calls_by_app(root, s, cs) && cJSON_AddNumberToObject(root, "app_heap_bytes", (double)s->app_heap_bytes) &&
	     cJSON_AddNumberToObject(root, "app_heap_max", (double)s->app_heap_max) && add_frame_slots(root, s) &&
	     add_replay_store(root, s) &&
	     (rej = cJSON_AddObjectToObject(root, "rejected"));
	for (int r = 1; ok && r < REJECT__COUNT; r++)
		ok = cJSON_AddNumberToObject(rej, refusal_name(r), (double)s->rejected[r]) != NULL;
	ok = ok && cJSON_AddNumberToObject(root, "events_received", (double)s->events_received) &&
	     add_operator_view(root, s, now) &&
	     cJSON_AddNumberToObject(root, "params_truncated", (double)s->params_truncated) &&
	     add_security(root, s) &&
	     add_admin(root, s, blocks, now);
	if (ok)
		out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (out)
		*len = strlen(out);
	return out;
}
