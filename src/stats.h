/*
 * stats.h -- counters for /stats and /stats.json.
 *
 * Each audio connection embeds a struct stats_conn in its per-session data;
 * the hot path only increments that connection's own counters (no shared
 * totals to keep in step). stats_conn_open() links the row into the list of
 * open connections; stats_conn_close() folds its counters into the totals of
 * closed connections and unlinks it. Totals are therefore "closed + open",
 * computed when a page is rendered, which is rare next to audio frames.
 * Rendering allocates one buffer per request (never on the audio path).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth_jwt.h"

struct stats_counters {
	uint64_t packets_received, bytes_received;
	uint64_t packets_sent, bytes_sent;
	uint64_t frames_dropped;
};

struct stats_conn {
	struct stats_conn *prev, *next;   /* open-connection list, owned by struct stats */
	uint64_t id;
	char     remote[48];
	char     uuid[64];
	char     content_type[40];
	time_t   connected_at;
	struct stats_counters c;
	uint32_t dtmf_count;
	uint32_t invalid_messages;
	char     last_dtmf;                /* 0 = none yet */
};

/*
 * Why something was refused: the auth results, then the other reasons.
 * Handshake refusals, calls closed by a per-call limit and refused
 * webhook/stats requests all count here (SECURITY.md lists them).
 */
enum reject_reason {
	REJECT_BAD_PATH = AUTH__COUNT,
	REJECT_ORIGIN,
	REJECT_CAPACITY,
	REJECT_SHUTTING_DOWN,
	REJECT_ADDR_CALLS,       /* per-address open-call cap (429) */
	REJECT_ADDR_RATE,        /* per-address handshake rate (429) */
	REJECT_ADDR_TABLE_FULL,  /* no room to track the address (503) */
	REJECT_ADDR_CONNS,       /* too many non-call connections from one address (closed at accept) */
	REJECT_REPLAY,           /* jti seen before (401) */
	REJECT_MISSING_JTI,      /* token without jti (401) */
	REJECT_REPLAY_FULL,      /* no room to remember the jti (503) */
	REJECT_MSG_RATE,         /* call closed 1008: message flood */
	REJECT_IDLE,             /* call closed 1001: no message for --idle-timeout */
	REJECT_WEBHOOK_AUTH,     /* webhook without a valid signed JWT (401) */
	REJECT_PAYLOAD_HASH,     /* webhook body does not match payload_hash (401) */
	REJECT_STATS_ACCESS,     /* /stats from outside without the stats token (403) */
	REJECT__COUNT
};

struct stats {
	char     worker[64];              /* --worker-id; "" = not set */
	long     pid;                     /* with worker: which process these counters are */
	time_t   started;
	struct stats_counters closed;     /* summed over connections already closed */
	uint64_t connections_total;
	uint32_t connections_open;
	uint64_t rejected[REJECT__COUNT]; /* index 0 (AUTH_OK) stays 0 */
	uint64_t events_received;         /* event webhooks accepted */
	uint64_t next_id;
	struct stats_conn *head;
};

void stats_init(struct stats *s, time_t now);

/* Zero *c, give it the next id, remember remote (copied) and link it. */
void stats_conn_open(struct stats *s, struct stats_conn *c, const char *remote, time_t now);

/* Fold c's counters into the closed totals and unlink it. Idempotent. */
void stats_conn_close(struct stats *s, struct stats_conn *c);

/* closed + every open connection. */
void stats_totals(const struct stats *s, struct stats_counters *out);

/* Stable snake_case key for a reject reason ("bad_signature", "origin", ...). */
const char *stats_reject_str(int reason);

/*
 * Render /stats.json or the /stats HTML page. Returns a malloc'd buffer
 * (free() it) and its length in *len, or NULL when out of memory.
 */
char *stats_render_json(const struct stats *s, time_t now, size_t *len);
char *stats_render_html(const struct stats *s, time_t now, size_t *len);
