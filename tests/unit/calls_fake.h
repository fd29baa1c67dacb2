/*
 * calls_fake.h -- call records (src/calls.h) built by hand for unit tests,
 * the way ws_audio builds them: zeroed, then opened with calls_open through
 * a fake transport that records the closes asked for instead of sending
 * them. What Vonage and the voice app say of a call lives in the record's
 * voice part (uuid, caller, app, command counters) and its ring (drops);
 * calls_fake_set and calls_fake_counters put test values there, so a test
 * reads like "this call has this uuid and these counters".
 * Included by test_calls.cpp, test_stats.cpp, test_stats_page.cpp and
 * test_metrics.cpp.
 */
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "calls.h"

/* Voice apps by name only: a call's app is what calls_app reads. */
static const struct voice_app calls_fake_echo = { "echo" };
static const struct voice_app calls_fake_delay = { "delay" };
static const struct voice_app calls_fake_parrot = { "parrot" };

#define CALLS_FAKE_CLOSES 16

/* What the transport was asked to do, in order. */
struct calls_fake_tx {
	int      closes;                       /* send_close calls */
	uint64_t ids[CALLS_FAKE_CLOSES];       /* ... the calls' ids */
	uint16_t codes[CALLS_FAKE_CLOSES];     /* ... and the codes their rules held */
};

static struct calls_fake_tx calls_fake_sent;

static inline void calls_fake_send_close(struct call *c)
{
	struct calls_fake_tx *t = (struct calls_fake_tx *)c->tx_arg;
	if (t->closes < CALLS_FAKE_CLOSES) {
		t->ids[t->closes] = c->id;
		t->codes[t->closes] = c->rules.pending_close;
	}
	t->closes++;
}

static const struct call_transport calls_fake_transport = { calls_fake_send_close };

/* Zero c and open it (no client address) at now; its closes go to calls_fake_sent. */
static inline void calls_fake_open(struct calls *cs, struct call *c, const char *remote, time_t now)
{
	memset(c, 0, sizeof *c);
	calls_open(cs, c, NULL, remote, now, &calls_fake_transport, &calls_fake_sent);
}

/* The same from client address ip ("192.0.2.1", "2001:db8::1"). */
static inline void calls_fake_open_from(struct calls *cs, struct call *c, const char *ip, time_t now)
{
	struct addr a;
	memset(c, 0, sizeof *c);
	memset(&a, 0, sizeof a);
	addr_parse(ip, &a);
	calls_open(cs, c, &a, ip, now, &calls_fake_transport, &calls_fake_sent);
}

/* What websocket:connected said (NULL: leave as is), and the app the call is in (NULL: none). */
static inline void calls_fake_set(struct call *c, const char *uuid, const char *from, const struct voice_app *app)
{
	if (uuid)
		snprintf(c->voice.info.uuid, sizeof c->voice.info.uuid, "%s", uuid);
	if (from)
		snprintf(c->voice.info.from, sizeof c->voice.info.from, "%s", from);
	c->voice.app = app;
}

/* Put k's counts where each is kept: the transport's, the ring's drops, the voice app's commands. */
static inline void calls_fake_counters(struct call *c, const struct call_counters *k)
{
	c->packets_received = k->packets_received;
	c->bytes_received = k->bytes_received;
	c->packets_sent = k->packets_sent;
	c->bytes_sent = k->bytes_sent;
	c->ring.dropped = k->frames_dropped;
	c->voice.n.clear_sent = k->clear_sent;
	c->voice.n.notify_sent = k->notify_sent;
	c->voice.n.cleared = k->cleared;
	c->voice.n.notified = k->notified;
	c->voice.n.refused = (uint32_t)k->app_refused;
}

/* base + 1 .. base + 10 in the ten counters, in call_counters order. */
static inline void calls_fake_counters_from(struct call *c, uint64_t base)
{
	struct call_counters k = { base + 1, base + 2, base + 3, base + 4, base + 5,
				   base + 6, base + 7, base + 8, base + 9, base + 10 };
	calls_fake_counters(c, &k);
}
