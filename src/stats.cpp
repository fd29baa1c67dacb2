/*
 * stats.cpp -- per-connection rows, totals and their two renderings.
 *
 * JSON goes through cJSON (escaping, numbers); the HTML page is printed into
 * one buffer sized up front from the number of open rows, with every string
 * HTML-escaped even though the rows were sanitised on the way in.
 */
#include "stats.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stats_init(struct stats *s, time_t now)
{
	memset(s, 0, sizeof *s);
	s->started = now;
	s->next_id = 1;
}

void stats_conn_open(struct stats *s, struct stats_conn *c, const char *remote, time_t now)
{
	memset(c, 0, sizeof *c);
	c->id = s->next_id++;
	snprintf(c->remote, sizeof c->remote, "%s", remote ? remote : "");
	c->connected_at = now;
	c->next = s->head;
	if (s->head)
		s->head->prev = c;
	s->head = c;
	s->connections_open++;
	s->connections_total++;
}

static void add(struct stats_counters *to, const struct stats_counters *from)
{
	to->packets_received += from->packets_received;
	to->bytes_received += from->bytes_received;
	to->packets_sent += from->packets_sent;
	to->bytes_sent += from->bytes_sent;
	to->frames_dropped += from->frames_dropped;
}

void stats_conn_close(struct stats *s, struct stats_conn *c)
{
	if (!c->id)
		return;   /* never opened, or already closed */
	add(&s->closed, &c->c);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->id = 0;
	s->connections_open--;
}

void stats_totals(const struct stats *s, struct stats_counters *out)
{
	*out = s->closed;
	for (const struct stats_conn *c = s->head; c; c = c->next)
		add(out, &c->c);
}

const char *stats_reject_str(int reason)
{
	switch (reason) {
	case REJECT_BAD_PATH:      return "bad_path";
	case REJECT_ORIGIN:        return "origin";
	case REJECT_CAPACITY:      return "capacity";
	case REJECT_SHUTTING_DOWN: return "shutting_down";
	case REJECT_ADDR_CALLS:    return "addr_calls";
	case REJECT_ADDR_RATE:     return "addr_rate";
	case REJECT_ADDR_TABLE_FULL: return "addr_table_full";
	case REJECT_ADDR_CONNS:    return "addr_conns";
	case REJECT_REPLAY:        return "replay";
	case REJECT_MISSING_JTI:   return "missing_jti";
	case REJECT_REPLAY_FULL:   return "replay_table_full";
	case REJECT_MSG_RATE:      return "msg_rate";
	case REJECT_IDLE:          return "idle";
	case REJECT_WEBHOOK_AUTH:  return "webhook_auth";
	case REJECT_PAYLOAD_HASH:  return "payload_hash";
	case REJECT_STATS_ACCESS:  return "stats_access";
	default:                   return auth_result_str((enum auth_result)reason);
	}
}

static void iso8601(time_t t, char *out, size_t cap)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	if (!strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) && cap)
		out[0] = '\0';
}

/* cJSON numbers are doubles: exact up to 2^53, far beyond any counter here */
static int add_counters(cJSON *o, const struct stats_counters *k)
{
	return cJSON_AddNumberToObject(o, "packets_received", (double)k->packets_received) &&
	       cJSON_AddNumberToObject(o, "bytes_received", (double)k->bytes_received) &&
	       cJSON_AddNumberToObject(o, "packets_sent", (double)k->packets_sent) &&
	       cJSON_AddNumberToObject(o, "bytes_sent", (double)k->bytes_sent) &&
	       cJSON_AddNumberToObject(o, "frames_dropped", (double)k->frames_dropped);
}

static int add_conn(cJSON *arr, const struct stats_conn *c)
{
	char when[32], digit[2] = { c->last_dtmf, 0 };
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(arr, o))
		return (cJSON_Delete(o), 0);
	iso8601(c->connected_at, when, sizeof when);
	return cJSON_AddNumberToObject(o, "id", (double)c->id) &&
	       cJSON_AddStringToObject(o, "remote", c->remote) &&
	       cJSON_AddStringToObject(o, "uuid", c->uuid) &&
	       cJSON_AddStringToObject(o, "content_type", c->content_type) &&
	       cJSON_AddStringToObject(o, "connected_at", when) && add_counters(o, &c->c) &&
	       cJSON_AddNumberToObject(o, "dtmf_count", c->dtmf_count) &&
	       cJSON_AddStringToObject(o, "last_dtmf", digit) &&
	       cJSON_AddNumberToObject(o, "invalid_messages", c->invalid_messages);
}

char *stats_render_json(const struct stats *s, time_t now, size_t *len)
{
	struct stats_counters tot;
	cJSON *root = cJSON_CreateObject(), *arr, *t, *rej;
	char *out = NULL;
	int ok;

	stats_totals(s, &tot);
	ok = root && cJSON_AddStringToObject(root, "worker", s->worker) &&
	     cJSON_AddNumberToObject(root, "pid", (double)s->pid) &&
	     cJSON_AddNumberToObject(root, "uptime_s", (double)(now - s->started)) &&
	     (arr = cJSON_AddArrayToObject(root, "connections"));
	for (const struct stats_conn *c = s->head; ok && c; c = c->next)
		ok = add_conn(arr, c);
	ok = ok && (t = cJSON_AddObjectToObject(root, "totals")) && add_counters(t, &tot) &&
	     cJSON_AddNumberToObject(t, "connections_open", s->connections_open) &&
	     cJSON_AddNumberToObject(t, "connections_total", (double)s->connections_total) &&
	     (rej = cJSON_AddObjectToObject(root, "rejected"));
	for (int r = 1; ok && r < REJECT__COUNT; r++)
		ok = cJSON_AddNumberToObject(rej, stats_reject_str(r), (double)s->rejected[r]) != NULL;
	ok = ok && cJSON_AddNumberToObject(root, "events_received", (double)s->events_received);
	if (ok)
		out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (out)
		*len = strlen(out);
	return out;
}

/* Bounded appender: once full, further output is dropped and `ok` cleared. */
struct sbuf { char *p; size_t len, cap; int ok; };

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (!b->ok)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->ok = 0;
	else
		b->len += (size_t)n;
}

static void sb_escaped(struct sbuf *b, const char *s)
{
	for (; *s && b->ok; s++) {
		switch (*s) {
		case '<':  sb_printf(b, "&lt;"); break;
		case '>':  sb_printf(b, "&gt;"); break;
		case '&':  sb_printf(b, "&amp;"); break;
		case '"':  sb_printf(b, "&quot;"); break;
		case '\'': sb_printf(b, "&#39;"); break;
		default:   sb_printf(b, "%c", *s);
		}
	}
}

#define ROW_MAX 2048   /* one table row with every string field fully escaped (6x) */

static void html_counters(struct sbuf *b, const struct stats_counters *k)
{
	sb_printf(b, "<td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td>",
		  (unsigned long long)k->packets_received, (unsigned long long)k->bytes_received,
		  (unsigned long long)k->packets_sent, (unsigned long long)k->bytes_sent,
		  (unsigned long long)k->frames_dropped);
}

char *stats_render_html(const struct stats *s, time_t now, size_t *len)
{
	struct stats_counters tot;
	struct sbuf b = { NULL, 0, 8192 + (size_t)s->connections_open * ROW_MAX, 1 };
	char when[32];

	b.p = (char *)malloc(b.cap);
	if (!b.p)
		return NULL;
	stats_totals(s, &tot);
	sb_printf(&b,
		  "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
		  "<meta http-equiv=\"refresh\" content=\"2\">"
		  "<title>caller-echo stats</title><style>"
		  "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
		  "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
		  "th{background:#eee}td.l{text-align:left}</style></head><body>\n"
		  "<h1>caller-echo %s</h1><p>pid %ld &middot; Up %lds &middot; %u open &middot; %llu total calls"
		  " &middot; refreshes every 2 s &middot; <a href=\"/stats.json\">JSON</a></p>\n"
		  "<table><tr><th>id</th><th>remote</th><th>uuid</th><th>content-type</th>"
		  "<th>since</th><th>packets in</th><th>bytes in</th><th>packets out</th>"
		  "<th>bytes out</th><th>dropped</th><th>DTMF</th></tr>\n",
		  s->worker, s->pid, (long)(now - s->started), s->connections_open,
		  (unsigned long long)s->connections_total);
	for (const struct stats_conn *c = s->head; c && b.ok; c = c->next) {
		iso8601(c->connected_at, when, sizeof when);
		sb_printf(&b, "<tr><td>%llu</td><td class=\"l\">", (unsigned long long)c->id);
		sb_escaped(&b, c->remote);
		sb_printf(&b, "</td><td class=\"l\">");
		sb_escaped(&b, c->uuid);
		sb_printf(&b, "</td><td class=\"l\">");
		sb_escaped(&b, c->content_type);
		sb_printf(&b, "</td><td class=\"l\">%s</td>", when);
		html_counters(&b, &c->c);
		sb_printf(&b, "<td>%u%s%c</td></tr>\n", c->dtmf_count, c->last_dtmf ? " last " : "",
			  c->last_dtmf ? c->last_dtmf : ' ');
	}
	sb_printf(&b, "<tr><th colspan=\"5\">all calls</th>");
	html_counters(&b, &tot);
	sb_printf(&b, "<td></td></tr></table>\n<h2>Refused handshakes</h2><table>");
	for (int r = 1; r < REJECT__COUNT; r++)
		sb_printf(&b, "<tr><td class=\"l\">%s</td><td>%llu</td></tr>", stats_reject_str(r),
			  (unsigned long long)s->rejected[r]);
	sb_printf(&b, "</table>\n<p>Event webhooks received: %llu</p></body></html>\n",
		  (unsigned long long)s->events_received);
	if (!b.ok) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
