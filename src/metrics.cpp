/*
 * metrics.cpp -- Prometheus text for struct stats (see metrics.h).
 *
 * Counters are the running totals (closed + open connections), so they only
 * go up across scrapes; a connection closing moves its numbers from "open"
 * to "closed" without changing the sum. The output is printed twice, once
 * to measure and once into a buffer of exactly that size (sbuf.h).
 */
#include "metrics.h"
#include "slot_pool.h"

#include "block.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

/* A label value: backslash, quote and newline escaped (the text format's rule). */
static void label_value(struct sbuf *o, const char *v)
{
	for (; *v; v++)
		sbuf_printf(o, "%s%c", *v == '\\' || *v == '"' || *v == '\n' ? "\\" : "", *v == '\n' ? 'n' : *v);
}

static void family(struct sbuf *o, const char *name, const char *type, const char *help)
{
	sbuf_printf(o, "# HELP caller_echo_%s %s\n# TYPE caller_echo_%s %s\n", name, help, name, type);
}

static void one(struct sbuf *o, const char *name, const char *type, const char *help,
		unsigned long long v)
{
	family(o, name, type, help);
	sbuf_printf(o, "caller_echo_%s %llu\n", name, v);
}

/* A histogram from per-bucket counts (the last one +Inf): cumulative le= lines, _sum, _count. */
static void histogram(struct sbuf *o, const char *name, const char *help, const double *bounds, int nb,
		      const uint64_t *counts, double sum, double scale)
{
	uint64_t cum = 0;
	family(o, name, "histogram", help);
	for (int b = 0; b < nb; b++) {
		cum += counts[b];
		sbuf_printf(o, "caller_echo_%s_bucket{le=\"%g\"} %llu\n", name, bounds[b] * scale, (unsigned long long)cum);
	}
	cum += counts[nb];
	sbuf_printf(o, "caller_echo_%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	sbuf_printf(o, "caller_echo_%s_sum %.6f\n", name, sum);
	sbuf_printf(o, "caller_echo_%s_count %llu\n", name, (unsigned long long)cum);
}

/* Media quality (quality.h): closed calls per call, and every frame's dwell time. */
static void quality_families(struct sbuf *o, const struct calls *cs)
{
	const struct quality_totals *t = &cs->quality;
	uint64_t dwell[QUALITY_DWELL_BUCKETS + 1];
	double bounds[QUALITY_DWELL_BUCKETS];
	uint64_t dwell_sum = t->dwell_sum_us;

	histogram(o, "call_jitter_seconds", "Interarrival jitter of each closed call (RFC 3550, 20 ms clock).",
		  quality_jitter_bounds_s, QUALITY_HIST, t->jitter, t->jitter_sum_s, 1);
	histogram(o, "call_gap_frames", "Frames missing from the 20 ms clock when due, per closed call.",
		  quality_gap_bounds, QUALITY_HIST, t->gaps, (double)t->gap_sum, 1);
	histogram(o, "call_quality_score", "Quality score (estimated MOS, 1 to 4.5) of each closed call.",
		  quality_mos_bounds, QUALITY_HIST, t->mos, t->mos_sum, 1);
	memcpy(dwell, t->dwell, sizeof dwell);
	for (const struct call *c = cs->head; c; c = c->next) {
		quality_dwell_add(dwell, &c->q);
		dwell_sum += c->q.dwell_sum_us;
	}
	for (int b = 0; b < QUALITY_DWELL_BUCKETS; b++)
		bounds[b] = quality_dwell_bounds_us[b];
	histogram(o, "frame_dwell_seconds", "Time each audio frame spent in the server, queued to written.",
		  bounds, QUALITY_DWELL_BUCKETS, dwell, (double)dwell_sum / 1e6, 1e-6);
}

struct metrics_arg { const struct stats *s; const struct calls *cs; const struct block_table *b; time_t now; };

static void render(struct sbuf *o, const void *arg)
{
	const struct metrics_arg *a = (const struct metrics_arg *)arg;
	const struct stats *s = a->s;
	const struct calls *cs = a->cs;
	const struct block_table *b = a->b;
	time_t now = a->now;
	struct call_counters t;
	static const char *const side[CLOSE__SIDES] = { "server", "peer" };

	calls_totals(cs, &t);
	family(o, "build_info", "gauge", "Version and --worker-id of the running server (always 1).");
	sbuf_printf(o, "caller_echo_build_info{version=\"%s\",worker=\"", CALLER_ECHO_VERSION);
	label_value(o, s->worker);
	sbuf_printf(o, "\"} 1\n");
	one(o, "uptime_seconds", "gauge", "Seconds since the server started.",
	    now > s->started ? (unsigned long long)(now - s->started) : 0);
	one(o, "calls_open", "gauge", "Audio WebSockets open now.", cs->open);
	one(o, "draining", "gauge", "1 after SIGTERM: no new connections, the open calls finishing.",
	    s->drain_started ? 1 : 0);
	one(o, "drain_deadline_timestamp_seconds", "gauge", "When a drain closes the calls left (0: not draining).",
	    s->drain_started ? (unsigned long long)s->drain_deadline : 0);
	one(o, "calls_total", "counter", "Audio WebSockets accepted since start.", cs->total);
	one(o, "frames_received_total", "counter", "Audio frames received from callers.", t.packets_received);
	one(o, "frames_sent_total", "counter", "Audio frames sent to callers (echoed or made by the app).",
	    t.packets_sent);
	one(o, "received_bytes_total", "counter", "Audio payload bytes received.", t.bytes_received);
	one(o, "sent_bytes_total", "counter", "Audio payload bytes echoed back.", t.bytes_sent);
	one(o, "frames_dropped_total", "counter",
	    "Frames dropped: the caller did not read, or the app trimmed a burst (oldest first).",
	    t.frames_dropped);
	one(o, "events_received_total", "counter", "Event webhooks accepted.", s->events_received);
	one(o, "call_log_lines_suppressed_total", "counter",
	    "Log lines about calls not written: past a call's own budget (DTMF, app switches, events).",
	    s->call_log_suppressed);

	family(o, "calls_open_by_app", "gauge", "Audio WebSockets open now, by the voice app they are in.");
	for (int i = 0; i < s->n_app_names; i++)
		sbuf_printf(o, "caller_echo_calls_open_by_app{app=\"%s\"} %u\n", s->app_names[i],
			    calls_in_app(cs, s->app_names[i]));
	one(o, "app_heap_bytes", "gauge", "Bytes the voice apps' per-call buffers take now (delay, parrot).",
	    s->app_heap_bytes);
	one(o, "app_heap_max_bytes", "gauge", "--app-memory-max in bytes.", s->app_heap_max);
	one(o, "apps_refused_total", "counter", "Apps not opened: their buffer did not fit --app-memory-max.",
	    t.app_refused);
	const struct slot_pool *fp = s->frame_pool;
	one(o, "frame_slots_in_use", "gauge", "Frame slots calls hold now (a healthy call holds one only "
	    "while a frame passes through).", fp ? fp->out : 0);
	one(o, "frame_slots_peak", "gauge", "The most frame slots ever held at once: what of the pool has become "
	    "resident.", fp ? fp->peak : 0);
	one(o, "frame_slots_reserved", "gauge", "Frame slots reserved: --max-calls x (--ring-slots + 1).",
	    fp ? fp->nslots : 0);
	one(o, "frame_slot_bytes", "gauge", "Bytes per frame slot.", fp ? (uint64_t)fp->stride : 0);
	if (s->replay) {
		const struct replay_store_stats *r = s->replay;
		one(o, "replay_store_checks_total", "counter", "Accepted tokens checked against the replay store.",
		    r->checks);
		one(o, "replay_store_errors_total", "counter",
		    "Replay-store checks that got no answer (Redis down or slow): refused 503, or checked locally.",
		    r->errors);
		one(o, "replay_store_fallbacks_total", "counter",
		    "... of those checked in this process instead (--replay-redis-down local).", r->fallbacks);
		static const char *const why[REPLAY_REDIS_ERRORS] = REPLAY_REDIS_ERROR_NAMES;
		family(o, "replay_store_redis_errors_total", "counter",
		       "Redis replay checks without an answer, by why: timeout, oversized or unexpected reply, auth, tls, "
		       "connection, backoff (not tried within a second of a failure).");
		for (int i = 0; i < REPLAY_REDIS_ERRORS; i++)
			sbuf_printf(o, "caller_echo_replay_store_redis_errors_total{reason=\"%s\"} %llu\n", why[i],
				    (unsigned long long)r->redis_errors[i]);
		const struct replay *jt = s->replay_table;
		one(o, "replay_table_slots", "gauge", "Slots of the jti table (sized from the configuration, or a "
		    "shared file's own).", jt ? jt->slots : 0);
		one(o, "replay_table_live", "gauge", "Entries in the jti table not yet seen expired.", jt ? jt->live : 0);
		one(o, "replay_table_bytes", "gauge", "Bytes reserved for the jti table (resident only as it is used).",
		    jt ? (uint64_t)replay_bytes(jt->slots) : 0);
		one(o, "replay_table_design_live", "gauge", "Live tokens the jti table is sized for.",
		    s->replay_design_live);
		one(o, "replay_table_full_total", "counter",
		    "Tokens refused (503) because their window of the jti table held only live tokens.", r->full);
		one(o, "replay_file_unsafe_seconds_total", "counter",
		    "Seconds the mapped --replay-file was writable by another user (checked once a second).", r->unsafe);
		family(o, "replay_store_rtt_seconds", "summary", "Round trip of a Redis replay check.");
		sbuf_printf(o, "caller_echo_replay_store_rtt_seconds_sum %.6f\n", (double)r->rtt_us_sum / 1e6);
		sbuf_printf(o, "caller_echo_replay_store_rtt_seconds_count %llu\n",
			    (unsigned long long)(s->replay_kind && !strcmp(s->replay_kind, "redis") ? r->checks : 0));
	}
	quality_families(o, cs);
	family(o, "commands_sent_total", "counter", "Commands the voice apps sent Vonage (clear, notify).");
	sbuf_printf(o, "caller_echo_commands_sent_total{command=\"clear\"} %llu\n", (unsigned long long)t.clear_sent);
	sbuf_printf(o, "caller_echo_commands_sent_total{command=\"notify\"} %llu\n", (unsigned long long)t.notify_sent);
	family(o, "commands_answered_total", "counter",
	       "Vonage's answers to those commands (websocket:cleared, websocket:notify).");
	sbuf_printf(o, "caller_echo_commands_answered_total{command=\"clear\"} %llu\n", (unsigned long long)t.cleared);
	sbuf_printf(o, "caller_echo_commands_answered_total{command=\"notify\"} %llu\n",
		    (unsigned long long)t.notified);

	family(o, "handshakes_refused_total", "counter", "WebSocket handshakes refused, by reason.");
	for (int r = 1; r < REJECT__COUNT; r++)
		sbuf_printf(o, "caller_echo_handshakes_refused_total{reason=\"%s\"} %llu\n", refusal_name(r),
		    (unsigned long long)s->rejected[r]);

	family(o, "events_total", "counter",
	       "Event webhooks by call status (known Vonage statuses, else \"other\").");
	for (int i = 0; i < EV__COUNT; i++)
		sbuf_printf(o, "caller_echo_events_total{status=\"%s\"} %llu\n", stats_event_status_str(i),
		    (unsigned long long)s->events_by_status[i]);

	family(o, "websocket_closes_total", "counter",
	       "Audio WebSocket closes by close code and by who closed (1006: no close frame).");
	for (int d = 0; d < CLOSE__SIDES; d++)
		for (int i = 0; i < CC__COUNT; i++)
			sbuf_printf(o, "caller_echo_websocket_closes_total{code=\"%s\",side=\"%s\"} %llu\n",
			    stats_close_code_str(i), side[d], (unsigned long long)s->closes[d][i]);

	one(o, "answer_params_truncated_total", "counter",
	    "Answer-webhook values (uuid, from, to) cut to fit the NCCO.", s->params_truncated);
	family(o, "admin_actions_total", "counter", "Operator actions through the admin API, by action.");
	for (int i = 0; i < STATS_ADMIN_OPS; i++)
		sbuf_printf(o, "caller_echo_admin_actions_total{action=\"%s\"} %llu\n", stats_admin_op_str(i),
		    (unsigned long long)s->admin_actions[i]);
	one(o, "auto_blocks_total", "counter", "Addresses blocked automatically (--block-after).", s->auto_blocks);
	one(o, "proxy_headers_untrusted_total", "counter",
	    "Requests with proxy headers from a peer that is not a --trusted-proxy.", s->proxy_untrusted);
	one(o, "log_lines_held_back_total", "counter",
	    "Refusal log lines held back because their client had used its own share.", s->log_held_back);
	one(o, "log_lines_suppressed_total", "counter",
	    "Refusal log lines dropped by the process-wide cap.", s->log_suppressed);
	one(o, "pending_connections_evicted_total", "counter",
	    "Connections that were not yet calls, closed to make room for a new one.", s->pending_evicted);
	one(o, "client_table_evictions_total", "counter",
	    "Idle clients forgotten by the per-address table to make room (their strikes too).", s->clients_evicted);
	one(o, "auto_blocks_evicted_total", "counter",
	    "Automatic blocks ended before their time to make room in the full block table.", b ? b->evicted : 0);
	one(o, "blocks_full_total", "counter", "Blocks not made: the block table held only the operator's.",
	    b ? b->full : 0);
	one(o, "block_file_refused_total", "counter",
	    "Block-file saves refused: its directory became writable by another user.", b ? b->save_refused : 0);
	uint32_t manual = 0, aut = 0;
	for (uint32_t i = 0; b && i < b->n; i++) {
		if (b->e[i].expires && b->e[i].expires <= now)
			continue;
		if (b->e[i].source == BLOCK_AUTO)
			aut++;
		else
			manual++;
	}
	family(o, "blocks_active", "gauge", "Blocked addresses and ranges now, by who blocked them.");
	sbuf_printf(o, "caller_echo_blocks_active{source=\"manual\"} %u\n", manual);
	sbuf_printf(o, "caller_echo_blocks_active{source=\"auto\"} %u\n", aut);
}

char *metrics_render(const struct stats *s, const struct calls *cs, const struct block_table *b, time_t now,
		     size_t *len)
{
	struct metrics_arg a = { s, cs, b, now };
	return sbuf_render(render, &a, len);
}
