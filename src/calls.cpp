/*
 * calls.cpp -- the open calls and their totals; see calls.h.
 */
#include "calls.h"

#include <stdio.h>
#include <string.h>

void calls_init(struct calls *cs)
{
	memset(cs, 0, sizeof *cs);
	cs->next_id = 1;
}

void calls_open(struct calls *cs, struct call *c, const struct addr *client, const char *remote, time_t now,
		const struct call_transport *tx, void *arg)
{
	c->id = cs->next_id++;
	if (client)
		c->client = *client;
	snprintf(c->remote, sizeof c->remote, "%s", remote ? remote : "");
	c->connected_at = now;
	c->tx = tx;
	c->tx_arg = arg;
	c->prev = cs->tail;
	c->next = NULL;
	if (cs->tail)
		cs->tail->next = c;
	else
		cs->head = c;
	cs->tail = c;
	cs->open++;
	cs->total++;
}

static void add(struct call_counters *to, const struct call_counters *from)
{
	to->packets_received += from->packets_received;
	to->bytes_received += from->bytes_received;
	to->packets_sent += from->packets_sent;
	to->bytes_sent += from->bytes_sent;
	to->frames_dropped += from->frames_dropped;
	to->clear_sent += from->clear_sent;
	to->notify_sent += from->notify_sent;
	to->cleared += from->cleared;
	to->notified += from->notified;
	to->app_refused += from->app_refused;
}

void calls_close(struct calls *cs, struct call *c)
{
	struct call_counters k;

	if (!c->id)
		return;   /* never opened, or already closed */
	calls_counters(c, &k);
	add(&cs->closed, &k);
	quality_close(&cs->quality, &c->q);
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		cs->tail = c->prev;
	c->prev = c->next = NULL;
	c->id = 0;
	cs->open--;
}

void calls_counters(const struct call *c, struct call_counters *out)
{
	out->packets_received = c->packets_received;
	out->bytes_received = c->bytes_received;
	out->packets_sent = c->packets_sent;
	out->bytes_sent = c->bytes_sent;
	out->frames_dropped = c->ring.dropped;
	out->clear_sent = c->voice.n.clear_sent;
	out->notify_sent = c->voice.n.notify_sent;
	out->cleared = c->voice.n.cleared;
	out->notified = c->voice.n.notified;
	out->app_refused = c->voice.n.refused;
}

void calls_totals(const struct calls *cs, struct call_counters *out)
{
	struct call_counters k;

	*out = cs->closed;
	for (const struct call *c = cs->head; c; c = c->next) {
		calls_counters(c, &k);
		add(out, &k);
	}
}

const char *calls_uuid(const struct call *c)
{
	return c->voice.info.uuid;
}

const char *calls_from(const struct call *c)
{
	return c->voice.info.from;
}

const char *calls_app(const struct call *c)
{
	return c->voice.app ? c->voice.app->name : "";
}

uint32_t calls_log_suppressed(const struct call *c)
{
	return c->voice.log_suppressed;
}

uint32_t calls_in_app(const struct calls *cs, const char *name)
{
	uint32_t n = 0;

	for (const struct call *c = cs->head; c; c = c->next)
		n += !strcmp(calls_app(c), name);
	return n;
}

int calls_hangup(struct call *c, int code, const char *why)
{
	if (!call_rules_ask_close(&c->rules, code, why))
		return 0;   /* on its way out already */
	c->tx->send_close(c);
	return 1;
}

int calls_hangup_matching(struct calls *cs, uint64_t id, const char *uuid, const struct cidr *net, int code,
			  const char *why, uint64_t *first_id)
{
	int n = 0;

	*first_id = 0;
	for (struct call *c = cs->head; c; c = c->next) {
		int hit = id ? c->id == id : uuid && uuid[0] ? !strcmp(calls_uuid(c), uuid)
								: net && cidr_match(net, &c->client);
		if (!hit || !calls_hangup(c, code, why))
			continue;
		if (!*first_id)
			*first_id = c->id;
		n++;
	}
	return n;
}
