/*
 * report.cpp -- result table, JSON line and exit status; see report.h.
 */
#include "report.h"

#include <cjson/cJSON.h>
#include <math.h>

#include <string.h>

#define LIST_MAX 20   /* calls listed by default when they are not all listed */

static double ms(uint32_t us) { return us / 1000.0; }

static double secs(const struct timeval *a, const struct timeval *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_usec - a->tv_usec) / 1e6;
}

void report_sum(const struct engine *e, struct report_totals *t)
{
	int jit_n = 0;
	memset(t, 0, sizeof *t);
	t->calls = e->n;
	t->established = e->established;
	for (int i = 0; i < e->n; i++) {
		const struct call *c = &e->calls[i];
		t->done += c->state == CALL_DONE;
		t->failed += c->state == CALL_FAILED;
		t->skipped += c->state == CALL_SKIPPED;
		t->sent += c->r.sent;
		t->echoed += c->r.echoed;
		t->lost += c->r.lost;
		t->mismatched += c->r.mismatched;
		t->late += c->r.late;
		t->stalled += c->r.stalled;
		t->dtmf_sent += c->r.dtmf_sent;
		t->inj_gaps += c->r.inj_gaps;
		t->inj_gap_frames += c->r.inj_gap_frames;
		t->inj_burst_frames += c->r.inj_burst_frames;
		if (c->r.sent)
			t->inj_jitter_ms += c->r.inj_jitter16_us / 16.0 / 1000.0, jit_n++;
		t->heard += c->r.heard;
		t->silence += c->r.silence;
		t->heard_other += c->r.heard_other;
		t->playback_overflow += c->r.playback_overflow;
		t->clears += c->r.clears;
		t->cleared += c->r.cleared;
		t->notify_received += c->r.notify_received;
		t->notify_answered += c->r.notify_answered;
		t->bad_commands += c->r.bad_commands;
		t->bad_frames += c->r.bad_frames;
		t->check_failed += c->r.check_failed;
	}
	if (jit_n)
		t->inj_jitter_ms /= jit_n;
	t->expect = e->o->expect;
	t->wall_s = (double)(e->t_end - e->t0) / 1e9;
	if (e->first_stream && e->last_end > e->first_stream)
		t->stream_s = (double)(e->last_end - e->first_stream) / 1e9;
	t->user_s = secs(&e->ru0.ru_utime, &e->ru1.ru_utime);
	t->sys_s = secs(&e->ru0.ru_stime, &e->ru1.ru_stime);
	if (t->wall_s > 0)
		t->cpu_pct = (t->user_s + t->sys_s) / t->wall_s * 100.0;
}

int report_exit_code(const struct report_totals *t)
{
	if (t->failed)
		return EXIT_CONNECT;
	if (t->stalled)
		return EXIT_LOSS;
	if (t->expect == CHK_ECHO ? (t->lost || t->mismatched) : t->check_failed > 0)
		return EXIT_LOSS;
	return EXIT_PASS;
}

/* Echo is judged at arrival (the ledger), the voice apps by their checker. */
static int call_bad_audio(const struct engine *e, const struct call *c)
{
	return e->o->expect == CHK_ECHO ? (c->r.lost || c->r.mismatched) : c->r.check_failed;
}

static int call_bad(const struct engine *e, const struct call *c)
{
	return c->state == CALL_FAILED || c->r.stalled || call_bad_audio(e, c);
}

/* The one-line check result of a call: "ok", or what failed. */
static const char *check_text(const struct engine *e, const struct call *c, char *buf, size_t cap)
{
	if (e->o->expect != CHK_ECHO) {
		if (c->r.check_failed)
			return c->r.check;
		if (c->r.stalled) {
			snprintf(buf, cap, "%llu ticks stalled", (unsigned long long)c->r.stalled);
			return buf;
		}
		return c->state == CALL_DONE ? "ok" : "-";
	}
	if (!c->r.lost && !c->r.mismatched && !c->r.stalled)
		return c->state == CALL_DONE ? "ok" : "-";
	snprintf(buf, cap, "%llu lost, %llu mismatched, %llu stalled", (unsigned long long)c->r.lost,
		 (unsigned long long)c->r.mismatched, (unsigned long long)c->r.stalled);
	return buf;
}

static const char *expect_text(const struct report_meta *m, char *buf, size_t cap)
{
	if (m->expect == CHK_DELAY) {
		snprintf(buf, cap, "delay=%d", m->delay_ms);
		return buf;
	}
	return m->expect == CHK_PARROT ? "parrot" : "echo";
}

static int listed(const struct engine *e, const struct report_meta *m, const struct call *c)
{
	return m->per_call || e->n <= LIST_MAX || call_bad(e, c);
}

/* Milliseconds to three decimals, as the table shows them. */
static double ms3(double v)
{
	return round(v * 1000.0) / 1000.0;
}

static int add_pctl(cJSON *o, const char *name, const struct pctl *h, int p90)
{
	cJSON *p = cJSON_AddObjectToObject(o, name);
	return p && cJSON_AddNumberToObject(p, "p50", ms3(ms(pctl_value(h, 50)))) &&
	       (!p90 || cJSON_AddNumberToObject(p, "p90", ms3(ms(pctl_value(h, 90))))) &&
	       cJSON_AddNumberToObject(p, "p99", ms3(ms(pctl_value(h, 99)))) &&
	       cJSON_AddNumberToObject(p, "max", ms3(ms(h->max)));
}

/* Counters are exact in a double up to 2^53: far beyond a run's frames. */
#define NUM(o, k, v) cJSON_AddNumberToObject((o), (k), (double)(v))

/* what --jitter / --gap-every / --burst injected (the server's quality figures should agree) */
static int add_injected(cJSON *parent, double jitter_ms, uint64_t gaps, uint64_t gap_frames, uint64_t burst)
{
	cJSON *o = cJSON_AddObjectToObject(parent, "injected");
	return o && NUM(o, "jitter_ms", round(jitter_ms * 1000.0) / 1000.0) && NUM(o, "gaps", gaps) &&
	       NUM(o, "gap_frames", gap_frames) && NUM(o, "burst_frames", burst);
}

static int add_playback(cJSON *o, const struct call_result *r)
{
	return NUM(o, "heard", r->heard) && NUM(o, "silence", r->silence) && NUM(o, "heard_other", r->heard_other) &&
	       NUM(o, "playback_overflow", r->playback_overflow) && NUM(o, "clear_received", r->clears) &&
	       NUM(o, "cleared_frames", r->cleared) && NUM(o, "notify_received", r->notify_received) &&
	       NUM(o, "notify_answered", r->notify_answered) && NUM(o, "bad_commands", r->bad_commands) &&
	       NUM(o, "bad_frames", r->bad_frames);
}

static int add_call(cJSON *arr, const struct engine *e, int i, const struct call *c)
{
	char buf[CHK_WHY_MAX];
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return 0;
	}
	return NUM(o, "call", i + 1) && cJSON_AddStringToObject(o, "uuid", c->t->uuid) &&
	       cJSON_AddStringToObject(o, "state", engine_state_str(c->state)) && NUM(o, "sent", c->r.sent) &&
	       NUM(o, "echoed", c->r.echoed) && NUM(o, "lost", c->r.lost) && NUM(o, "mismatched", c->r.mismatched) &&
	       NUM(o, "late", c->r.late) && NUM(o, "stalled", c->r.stalled) && NUM(o, "dtmf_sent", c->r.dtmf_sent) &&
	       NUM(o, "close_code", c->r.close_code) && NUM(o, "setup_ms", ms3(ms(c->r.setup_us))) &&
	       add_pctl(o, "rtt_ms", &c->r.rtt, 1) && cJSON_AddStringToObject(o, "error", c->err) &&
	       add_playback(o, &c->r) && cJSON_AddStringToObject(o, "check", check_text(e, c, buf, sizeof buf)) &&
	       add_injected(o, c->r.inj_jitter16_us / 16.0 / 1000.0, c->r.inj_gaps, c->r.inj_gap_frames,
			    c->r.inj_burst_frames);
}

/* The playback totals in call_result's shape, so one function prints both. */
static void totals_result(const struct report_totals *t, struct call_result *r)
{
	memset(r, 0, sizeof *r);
	r->heard = t->heard;
	r->silence = t->silence;
	r->heard_other = t->heard_other;
	r->playback_overflow = t->playback_overflow;
	r->clears = t->clears;
	r->cleared = t->cleared;
	r->notify_received = t->notify_received;
	r->notify_answered = t->notify_answered;
	r->bad_commands = t->bad_commands;
	r->bad_frames = t->bad_frames;
}

/* One line of JSON (cJSON escapes every string). */
static void print_json(const struct engine *e, const struct report_totals *t, const struct report_meta *m,
		       FILE *f)
{
	const struct call_target *t0 = &e->targets[0];
	struct call_result sum;
	char xbuf[32];
	cJSON *o = cJSON_CreateObject(), *arr = NULL;
	int shown = 0;

	totals_result(t, &sum);
	int ok = o && cJSON_AddStringToObject(o, "target", m->target) &&
		 cJSON_AddStringToObject(o, "method", m->method) && cJSON_AddStringToObject(o, "ws_uri", t0->ncco.uri) &&
		 cJSON_AddStringToObject(o, "content_type", t0->ncco.content_type) &&
		 NUM(o, "frame_bytes", e->calls[0].src->frame_bytes) && NUM(o, "duration_s", ms3(m->duration_s)) &&
		 NUM(o, "flood", m->flood) && NUM(o, "calls", t->calls) && NUM(o, "connected", t->established) &&
		 NUM(o, "done", t->done) && NUM(o, "failed", t->failed) && NUM(o, "skipped", t->skipped) &&
		 NUM(o, "sent", t->sent) && NUM(o, "echoed", t->echoed) && NUM(o, "lost", t->lost) &&
		 NUM(o, "mismatched", t->mismatched) && NUM(o, "late", t->late) && NUM(o, "stalled", t->stalled) &&
		 NUM(o, "dtmf_sent", t->dtmf_sent) && add_pctl(o, "rtt_ms", &e->rtt, 1) &&
		 add_pctl(o, "send_lag_ms", &e->lag, 0) && add_pctl(o, "setup_ms", &e->setup, 0) &&
		 NUM(o, "cpu_pct", round(t->cpu_pct * 10.0) / 10.0) && NUM(o, "user_s", ms3(t->user_s)) &&
		 NUM(o, "sys_s", ms3(t->sys_s)) && NUM(o, "wall_s", ms3(t->wall_s)) && NUM(o, "stream_s", ms3(t->stream_s)) &&
		 NUM(o, "echoes_per_s", round(t->stream_s > 0 ? (double)t->echoed / t->stream_s : 0.0)) &&
		 NUM(o, "exit", report_exit_code(t)) && cJSON_AddStringToObject(o, "expect", expect_text(m, xbuf, sizeof xbuf)) &&
		 NUM(o, "playback_buffer", m->playback_cap) && add_playback(o, &sum) &&
		 NUM(o, "check_failed", t->check_failed) &&
		 add_injected(o, t->inj_jitter_ms, t->inj_gaps, t->inj_gap_frames, t->inj_burst_frames) &&
		 (arr = cJSON_AddArrayToObject(o, "per_call"));
	for (int i = 0; ok && i < e->n; i++) {
		const struct call *c = &e->calls[i];
		if (!listed(e, m, c) || (!m->per_call && shown >= 100))
			continue;
		shown++;
		ok = add_call(arr, e, i, c);
	}
	char *js = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (js) {
		fprintf(f, "%s\n", js);
		cJSON_free(js);
	} else {
		fprintf(f, "{\"error\":\"out of memory\"}\n");
	}
}

static void row(FILE *f, const char *label, const char *uuid, const char *state, const struct call_result *r,
		const struct pctl *h)
{
	fprintf(f, "%6s  %-36s  %-7s %7llu %7llu %6llu %6llu %6llu", label, uuid, state,
		(unsigned long long)r->sent, (unsigned long long)r->echoed, (unsigned long long)r->lost,
		(unsigned long long)r->mismatched, (unsigned long long)r->late);
	if (h->n)
		fprintf(f, "  %7.2f %7.2f %7.2f %7.2f\n", ms(pctl_value(h, 50)), ms(pctl_value(h, 90)),
			ms(pctl_value(h, 99)), ms(h->max));
	else
		fprintf(f, "  %7s %7s %7s %7s\n", "-", "-", "-", "-");
}

static void playback_row(FILE *f, const char *label, const struct call_result *r, const char *check)
{
	fprintf(f, "%6s  %7llu %7llu %6llu %6llu %5llu %7llu %6llu %6llu %6llu  %s\n", label,
		(unsigned long long)r->heard, (unsigned long long)r->silence, (unsigned long long)r->heard_other,
		(unsigned long long)r->playback_overflow, (unsigned long long)r->clears, (unsigned long long)r->cleared,
		(unsigned long long)r->notify_received, (unsigned long long)r->notify_answered,
		(unsigned long long)(r->bad_commands + r->bad_frames), check);
}

/* What the callers heard, per call (the same calls as the main table) and in total. */
static void print_playback(const struct engine *e, const struct report_totals *t, const struct report_meta *m,
			   FILE *f)
{
	struct call_result sum;
	char xbuf[32], buf[CHK_WHY_MAX];
	int shown = 0;

	fprintf(f, "\n  playback (buffer %d frames), --expect %s\n", m->playback_cap, expect_text(m, xbuf, sizeof xbuf));
	fprintf(f, "%6s  %7s %7s %6s %6s %5s %7s %6s %6s %6s  %s\n", "call", "heard", "silence", "other", "ovfl",
		"clear", "cleared", "notify", "answd", "bad", "check");
	for (int i = 0; i < e->n; i++) {
		const struct call *c = &e->calls[i];
		char label[16];
		if (!listed(e, m, c) || (!m->per_call && shown >= LIST_MAX))
			continue;
		shown++;
		snprintf(label, sizeof label, "%d", i + 1);
		playback_row(f, label, &c->r, check_text(e, c, buf, sizeof buf));
	}
	totals_result(t, &sum);
	if (m->expect == CHK_ECHO)
		playback_row(f, "total", &sum, "");
	else if (t->check_failed)
		playback_row(f, "total", &sum, t->check_failed == 1 ? "1 call failed" : "calls failed");
	else
		playback_row(f, "total", &sum, "ok");
}

static void print_table(const struct engine *e, const struct report_totals *t, const struct report_meta *m,
			FILE *f)
{
	const struct call_target *t0 = &e->targets[0];
	struct call_result sum;
	int shown = 0, hidden = 0, hidden_bad = 0;

	fprintf(f, "caller-sim: %d call%s via %s %s\n", t->calls, t->calls == 1 ? "" : "s", m->method, m->target);
	fprintf(f, "  WebSocket %s, %s (%u-byte frames), %.1f s of audio per call, %s\n", t0->ncco.uri,
		t0->ncco.content_type, e->calls[0].src->frame_bytes, m->duration_s,
		m->flood ? "flood" : "paced every 20 ms");
	if (m->flood)
		fprintf(f, "  flood: %d frames kept in flight per call\n", m->flood);
	fprintf(f, "\n%6s  %-36s  %-7s %7s %7s %6s %6s %6s  %7s %7s %7s %7s\n", "call", "uuid", "state", "sent",
		"echoed", "lost", "mism", "late", "rtt p50", "p90", "p99", "max ms");
	for (int i = 0; i < e->n; i++) {
		const struct call *c = &e->calls[i];
		char label[16];
		if (!listed(e, m, c) || (!m->per_call && shown >= LIST_MAX)) {
			hidden++;
			hidden_bad += call_bad(e, c);
			continue;
		}
		shown++;
		snprintf(label, sizeof label, "%d", i + 1);
		row(f, label, c->t->uuid, engine_state_str(c->state), &c->r, &c->r.rtt);
	}
	if (hidden)
		fprintf(f, "%6s  (%d more call%s not listed, %d of them with problems; --per-call lists all)\n", "",
			hidden, hidden == 1 ? "" : "s", hidden_bad);
	memset(&sum, 0, sizeof sum);
	sum.sent = t->sent;
	sum.echoed = t->echoed;
	sum.lost = t->lost;
	sum.mismatched = t->mismatched;
	sum.late = t->late;
	row(f, "total", "", "", &sum, &e->rtt);
	if (m->playback_cap)
		print_playback(e, t, m, f);

	fprintf(f, "\n  connected %d/%d", t->established, t->calls);
	if (e->setup.n)
		fprintf(f, " (handshake p50 %.2f ms, max %.2f ms)", ms(pctl_value(&e->setup, 50)), ms(e->setup.max));
	if (t->failed)
		fprintf(f, ", %d failed", t->failed);
	if (t->skipped)
		fprintf(f, ", %d not placed (interrupted)", t->skipped);
	if (t->dtmf_sent)
		fprintf(f, "; %llu DTMF events sent", (unsigned long long)t->dtmf_sent);
	fputc('\n', f);
	if (t->stalled)
		fprintf(f, "  stalled: %llu ticks found the socket full (the server was not reading)\n",
			(unsigned long long)t->stalled);
	if (e->lag.n)
		fprintf(f, "  send lag p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", ms(pctl_value(&e->lag, 50)),
			ms(pctl_value(&e->lag, 99)), ms(e->lag.max));
	if (m->flood && t->stream_s > 0)
		fprintf(f, "  echoes: %.0f frames/s over %.1f s\n", (double)t->echoed / t->stream_s, t->stream_s);
	if (t->wall_s >= 0.2)   /* a percentage of a few milliseconds says nothing */
		fprintf(f, "  caller-sim CPU %.0f%% of one core (%.2f s user + %.2f s system over %.2f s)\n",
			t->cpu_pct, t->user_s, t->sys_s, t->wall_s);

	int code = report_exit_code(t);
	char xbuf[32];
	if (code == EXIT_PASS && m->expect != CHK_ECHO)
		fprintf(f, "\nPASS: the %s check held on every call (%llu frames heard, %llu notify answered)\n",
			expect_text(m, xbuf, sizeof xbuf), (unsigned long long)t->heard,
			(unsigned long long)t->notify_answered);
	else if (code == EXIT_PASS)
		fprintf(f, "\nPASS: every frame came back bit-exact (%llu of %llu)\n", (unsigned long long)t->echoed,
			(unsigned long long)t->sent);
	else if (code == EXIT_CONNECT)
		fprintf(f, "\nFAIL (exit %d): %d call%s failed (reasons on stderr)\n", code, t->failed,
			t->failed == 1 ? "" : "s");
	else if (m->expect != CHK_ECHO)
		fprintf(f, "\nFAIL (exit %d): %d call%s failed the %s check, %llu stalled (the check column says why)\n",
			code, t->check_failed, t->check_failed == 1 ? "" : "s", expect_text(m, xbuf, sizeof xbuf),
			(unsigned long long)t->stalled);
	else
		fprintf(f, "\nFAIL (exit %d): %llu lost, %llu mismatched, %llu stalled\n", code,
			(unsigned long long)t->lost, (unsigned long long)t->mismatched, (unsigned long long)t->stalled);
}

/* Each distinct failure once, with the first call it hit and how many. */
static void print_failures(const struct engine *e, FILE *f)
{
	for (int i = 0; i < e->n; i++) {
		const struct call *c = &e->calls[i];
		int seen = 0, count = 0;
		if (c->state != CALL_FAILED)
			continue;
		for (int j = 0; j < i && !seen; j++)
			seen = e->calls[j].state == CALL_FAILED && !strcmp(e->calls[j].err, c->err);
		if (seen)
			continue;
		for (int j = i; j < e->n; j++)
			count += e->calls[j].state == CALL_FAILED && !strcmp(e->calls[j].err, c->err);
		if (count == 1)
			fprintf(f, "caller-sim: call %d: %s (%s)\n", i + 1, c->err, c->t->ncco.uri);
		else
			fprintf(f, "caller-sim: %d calls, first call %d: %s (%s)\n", count, i + 1, c->err, c->t->ncco.uri);
	}
}

void report_print(const struct engine *e, const struct report_totals *t, const struct report_meta *m,
		  FILE *out, FILE *err)
{
	if (m->json)
		print_json(e, t, m, out);
	else
		print_table(e, t, m, out);
	fflush(out);
	print_failures(e, err);
}
