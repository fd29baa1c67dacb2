/*
 * report.cpp -- result table, JSON line and exit status; see report.h.
 */
#include "report.h"

#include <string.h>

#define LIST_MAX 20   /* calls listed by default when they are not all listed */

static double ms(uint32_t us) { return us / 1000.0; }

static double secs(const struct timeval *a, const struct timeval *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_usec - a->tv_usec) / 1e6;
}

void report_sum(const struct engine *e, struct report_totals *t)
{
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
	}
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
	if (t->lost || t->mismatched || t->stalled)
		return EXIT_LOSS;
	return EXIT_PASS;
}

static int call_bad(const struct call *c)
{
	return c->state == CALL_FAILED || c->r.lost || c->r.mismatched || c->r.stalled;
}

static int listed(const struct engine *e, const struct report_meta *m, const struct call *c)
{
	return m->per_call || e->n <= LIST_MAX || call_bad(c);
}

/* JSON string body (without quotes) of s. */
static void json_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
}

static void json_pctl(FILE *f, const char *name, const struct pctl *h, int p90)
{
	fprintf(f, "\"%s\":{\"p50\":%.3f,", name, ms(pctl_value(h, 50)));
	if (p90)
		fprintf(f, "\"p90\":%.3f,", ms(pctl_value(h, 90)));
	fprintf(f, "\"p99\":%.3f,\"max\":%.3f}", ms(pctl_value(h, 99)), ms(h->max));
}

static void print_json(const struct engine *e, const struct report_totals *t, const struct report_meta *m,
		       FILE *f)
{
	const struct call_target *t0 = &e->targets[0];
	int first = 1, shown = 0;

	fprintf(f, "{\"target\":\"");
	json_str(f, m->target);
	fprintf(f, "\",\"method\":\"%s\",\"ws_uri\":\"", m->method);
	json_str(f, t0->ncco.uri);
	fprintf(f, "\",\"content_type\":\"%s\",\"frame_bytes\":%u,\"duration_s\":%.3f,\"flood\":%d,"
		   "\"calls\":%d,\"connected\":%d,\"done\":%d,\"failed\":%d,\"skipped\":%d,"
		   "\"sent\":%llu,\"echoed\":%llu,\"lost\":%llu,\"mismatched\":%llu,\"late\":%llu,\"stalled\":%llu,"
		   "\"dtmf_sent\":%llu,",
		t0->ncco.content_type, e->calls[0].src->frame_bytes, m->duration_s, m->flood, t->calls,
		t->established, t->done, t->failed, t->skipped, (unsigned long long)t->sent,
		(unsigned long long)t->echoed, (unsigned long long)t->lost, (unsigned long long)t->mismatched,
		(unsigned long long)t->late, (unsigned long long)t->stalled, (unsigned long long)t->dtmf_sent);
	json_pctl(f, "rtt_ms", &e->rtt, 1);
	fputc(',', f);
	json_pctl(f, "send_lag_ms", &e->lag, 0);
	fputc(',', f);
	json_pctl(f, "setup_ms", &e->setup, 0);
	fprintf(f, ",\"cpu_pct\":%.1f,\"user_s\":%.3f,\"sys_s\":%.3f,\"wall_s\":%.3f,\"stream_s\":%.3f,"
		   "\"echoes_per_s\":%.0f,\"exit\":%d,\"per_call\":[",
		t->cpu_pct, t->user_s, t->sys_s, t->wall_s, t->stream_s,
		t->stream_s > 0 ? (double)t->echoed / t->stream_s : 0.0, report_exit_code(t));
	for (int i = 0; i < e->n; i++) {
		const struct call *c = &e->calls[i];
		if (!listed(e, m, c) || (!m->per_call && shown >= 100))
			continue;
		shown++;
		fprintf(f, "%s{\"call\":%d,\"uuid\":\"", first ? "" : ",", i + 1);
		json_str(f, c->t->uuid);
		fprintf(f, "\",\"state\":\"%s\",\"sent\":%llu,\"echoed\":%llu,\"lost\":%llu,\"mismatched\":%llu,"
			   "\"late\":%llu,\"stalled\":%llu,\"dtmf_sent\":%u,\"close_code\":%d,\"setup_ms\":%.3f,",
			engine_state_str(c->state), (unsigned long long)c->r.sent, (unsigned long long)c->r.echoed,
			(unsigned long long)c->r.lost, (unsigned long long)c->r.mismatched,
			(unsigned long long)c->r.late, (unsigned long long)c->r.stalled, c->r.dtmf_sent,
			c->r.close_code, ms(c->r.setup_us));
		json_pctl(f, "rtt_ms", &c->r.rtt, 1);
		fprintf(f, ",\"error\":\"");
		json_str(f, c->err);
		fprintf(f, "\"}");
		first = 0;
	}
	fprintf(f, "]}\n");
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
			hidden_bad += call_bad(c);
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
	if (code == EXIT_PASS)
		fprintf(f, "\nPASS: every frame came back bit-exact (%llu of %llu)\n", (unsigned long long)t->echoed,
			(unsigned long long)t->sent);
	else if (code == EXIT_CONNECT)
		fprintf(f, "\nFAIL (exit %d): %d call%s failed (reasons on stderr)\n", code, t->failed,
			t->failed == 1 ? "" : "s");
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
