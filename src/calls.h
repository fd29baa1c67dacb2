/*
 * calls.h -- every open call: one record each, the list of them in the
 * order they opened, their ids and counts, and the totals of the closed.
 *
 * struct call holds all the server keeps about a call: its number and its
 * client, what Vonage said of it (uuid and caller in the voice app's
 * info, the content type here), its traffic, the rules of its life
 * (call_rules.h), its ring of frames (ring.h), its voice app (voice.h) and
 * its quality figures (quality.h). The transport that carries the call
 * (ws_audio.cpp) keeps the record in its per-connection data and links it
 * here when the call opens, with an interface to close it by; everything
 * else -- stats, the page, metrics, the admin hang-up, the once-a-second
 * sweep, the drain -- reads calls through this list and closes them
 * through that interface, never by reaching into the transport. A counter
 * is kept where the thing it counts happens (the ring counts its drops,
 * the voice seam its commands) and read from there when it is rendered
 * (calls_counters): nothing is copied up per frame.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "call_rules.h"
#include "quality.h"
#include "ring.h"
#include "voice.h"

/* A call's traffic, or the sum over calls. */
struct call_counters {
	uint64_t packets_received, bytes_received;
	uint64_t packets_sent, bytes_sent;
	uint64_t frames_dropped;
	/* voice-app commands sent to Vonage, and Vonage's answers */
	uint64_t clear_sent, notify_sent, cleared, notified;
	uint64_t app_refused;   /* apps not opened: no room under --app-memory-max */
};

struct call;

/* What the transport that carries a call lets others do to it. */
struct call_transport {
	/* The call's rules now hold a close asked for from outside its own
	 * callbacks (call_rules_ask_close): send it. */
	void (*send_close)(struct call *c);
};

struct call {
	struct call *prev, *next;        /* the open calls, oldest first (owned by struct calls) */
	uint64_t     id;                 /* 1, 2, ...: the call's number in logs, stats and the admin API */
	struct addr  client;             /* counted in the per-address limits while open */
	char         remote[48];         /* client as text ("?" when unknown) */
	char         content_type[40];   /* from websocket:connected */
	time_t       connected_at;
	/* what the transport saw go by; the rest of call_counters is the ring's and the voice app's */
	uint64_t     packets_received, bytes_received, packets_sent, bytes_sent;
	uint32_t     dtmf_count;
	uint32_t     invalid_messages;
	char         last_dtmf;          /* 0 = none yet */
	struct call_rules rules;         /* rate cap, idle, closing (call_rules.h) */
	struct quality    q;             /* media figures, measured per frame */
	struct ring       ring;          /* frames queued for sending (slots from the shared pool) */
	struct voice_call voice;         /* the voice app and its view of the call: uuid, caller */
	const struct call_transport *tx; /* how to close it */
	void        *tx_arg;             /* the transport's own per-connection data */
};

struct calls {
	struct call *head, *tail;
	uint32_t     open;
	uint64_t     total;              /* calls ever opened */
	uint64_t     next_id;
	struct call_counters  closed;    /* the closed calls' traffic, summed */
	struct quality_totals quality;   /* the closed calls' figures, for /metrics */
};

void calls_init(struct calls *cs);

/*
 * Call c (zeroed by its transport, rules/ring/voice set up or not) opens:
 * give it the next id, remember its client, link it last. tx and arg are
 * how others close it.
 */
void calls_open(struct calls *cs, struct call *c, const struct addr *client, const char *remote, time_t now,
		const struct call_transport *tx, void *arg);

/* Fold c's counters and figures into the closed totals and unlink it. Idempotent. */
void calls_close(struct calls *cs, struct call *c);

/* c's traffic: the transport's counts, the ring's drops, the voice app's commands. */
void calls_counters(const struct call *c, struct call_counters *out);

/* Every call's traffic, open and closed. */
void calls_totals(const struct calls *cs, struct call_counters *out);

/* What Vonage said of c ("" before websocket:connected), and the app it is in now. */
const char *calls_uuid(const struct call *c);
const char *calls_from(const struct call *c);
const char *calls_app(const struct call *c);
uint32_t    calls_log_suppressed(const struct call *c);

/* Open calls whose app is name. */
uint32_t calls_in_app(const struct calls *cs, const char *name);

/*
 * Ask c to close with code (a WebSocket close code) for why (a static
 * string), through its transport. 1, or 0 if it is closing or asked already.
 */
int calls_hangup(struct call *c, int code, const char *why);

/*
 * The operator's hang-up: every open call whose id is id (when not 0), else
 * whose uuid is uuid (when not empty), else whose client is in net.
 * Returns how many were asked to close; *first_id is the first of them.
 */
int calls_hangup_matching(struct calls *cs, uint64_t id, const char *uuid, const struct cidr *net, int code,
			  const char *why, uint64_t *first_id);
