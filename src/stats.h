/*
 * stats.h -- counters for /stats and /stats.json.
 *
 * The calls themselves, and their traffic, are calls.h's: each call keeps
 * its own counters (no shared totals to keep in step on the hot path), and
 * the totals are "closed + open", summed when a page is rendered, which is
 * rare next to audio frames. Rendering takes the calls as an argument and
 * allocates one buffer per request (never on the audio path).
 *
 * For the operator's view (stats_page.cpp, metrics.cpp) struct stats
 * keeps, in fixed arrays: a per-second history of frames in and out
 * (stats_sample(), called from the server's 100 ms tick), the last
 * STATS_RECENT_EVENTS event-webhook calls and counts by status, and
 * WebSocket closes by code and side. Nothing here grows with traffic.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth_jwt.h"
#include "calls.h"
#include "refusal.h"
#include "quality.h"
#include "replay_store.h"
#include "version.h"

#define STATS_HISTORY 60        /* seconds of frames-per-second samples */
#define STATS_RATE_WINDOW 5     /* seconds averaged for the "frames per second" figures */
#define STATS_RECENT_EVENTS 20  /* event-webhook calls remembered for the page */
#define STATS_RECENT_ADMIN 20   /* operator actions remembered for the page */
#define STATS_ADMIN_OPS 3       /* hangup, block, unblock: enum admin_op's order (admin.h) */

/* Vonage call statuses we count by name; anything else is "other". */
enum event_status {
	EV_STARTED = 0, EV_RINGING, EV_ANSWERED, EV_MACHINE, EV_HUMAN, EV_COMPLETED, EV_BUSY,
	EV_CANCELLED, EV_FAILED, EV_REJECTED, EV_TIMEOUT, EV_UNANSWERED, EV_DISCONNECTED,
	EV_OTHER, EV__COUNT
};

/* WebSocket close codes counted by number (RFC 6455 7.4.1); others are "other". */
enum close_code_idx {
	CC_1000 = 0, CC_1001, CC_1002, CC_1003, CC_1005, CC_1006, CC_1007, CC_1008, CC_1009,
	CC_1010, CC_1011, CC_OTHER, CC__COUNT
};
enum close_side { CLOSE_BY_SERVER = 0, CLOSE_BY_PEER, CLOSE__SIDES };

struct stats_event {
	time_t at;
	char   uuid[64];
	char   status[40];
};

/* One operator action (admin API) or automatic block, for the page. */
struct stats_admin_action {
	time_t at;
	char   action[12];     /* "hangup", "block", "unblock", "auto_block" */
	char   target[80];     /* "call 7", "uuid ...", or the CIDR */
	char   by[48];         /* the operator's address, or "auto" */
	char   result[80];     /* "2 call(s) closed with 1000", "until 2026-...Z, 0 call(s) closed" */
};

struct slot_pool;

struct stats {
	char     worker[64];              /* --worker-id; "" = not set */
	long     pid;                     /* with worker: which process these counters are */
	time_t   started;
	uint64_t rejected[REJECT__COUNT]; /* index 0 (AUTH_OK) stays 0 */
	uint64_t events_received;         /* event webhooks accepted */
	const char *const *app_names;     /* every app a call can be in, for calls by app */
	int      n_app_names;
	uint64_t app_heap_bytes;          /* the apps' heap blocks now (voice.h keeps it) */
	uint64_t app_heap_max;            /* --app-memory-max in bytes */
	const struct replay_store_stats *replay;   /* where tokens are kept, and how it went (NULL: not shown) */
	const struct slot_pool *frame_pool;        /* the frame slots calls borrow (slot_pool.h; NULL: zeros) */
	time_t   drain_started;           /* SIGTERM: the drain began (0 = serving) */
	time_t   drain_deadline;          /* ... and calls left then get 1001 */
	const char *replay_kind;          /* "memory", "file", "redis" */
	const struct replay *replay_table; /* the jti table in use (redis: its fallback); NULL: not shown */
	uint64_t replay_design_live;      /* the live tokens it is sized for */

	uint64_t events_by_status[EV__COUNT];
	struct stats_event recent[STATS_RECENT_EVENTS]; /* ring, newest at recent_head - 1 */
	uint32_t recent_head, recent_len;
	uint64_t closes[CLOSE__SIDES][CC__COUNT];
	uint64_t params_truncated;        /* answer-webhook values cut to fit (NCCO headers) */
	uint64_t proxy_untrusted;         /* requests with proxy headers from a peer not a --trusted-proxy */
	uint64_t log_held_back;           /* refusal lines held back by their client's own share (peer_log) */
	/* copied in from their owners just before a render (http.cpp render_stats) */
	uint64_t log_suppressed;          /* refusal lines over the process-wide cap */
	uint64_t pending_evicted;         /* pending connections closed to make room (peer.cpp) */
	uint64_t clients_evicted;         /* idle clients forgotten by the per-address table (guard.h) */
	uint64_t call_log_suppressed;     /* lines about calls their log budgets left out, all calls (voice.h) */

	/* intervening: operator actions (admin API) and automatic blocks */
	uint64_t admin_actions[STATS_ADMIN_OPS];
	uint64_t auto_blocks;
	struct stats_admin_action admin_recent[STATS_RECENT_ADMIN]; /* ring, newest at admin_head - 1 */
	uint32_t admin_head, admin_len;

	/* frames per second, oldest first at hist[(hist_head - hist_len) mod N] */
	uint32_t hist_in[STATS_HISTORY], hist_out[STATS_HISTORY];
	uint32_t hist_head, hist_len;
	time_t   hist_at;                 /* second of the last sample, 0 = none yet */
	uint64_t hist_prev_in, hist_prev_out;
};

void stats_init(struct stats *s, time_t now);

/*
 * Take a per-second sample of frames in/out if `now` is a later second than
 * the previous sample (cheap to call more often; the server calls it every
 * 100 ms). A gap of several seconds is spread evenly over them; a clock
 * that went backwards restarts the sampling without a sample.
 */
void stats_sample(struct stats *s, const struct calls *cs, time_t now);

/* Frames per second in and out averaged over the last `secs` samples (0 if none). */
void stats_rate(const struct stats *s, uint32_t secs, double *in, double *out);

/* Count one event-webhook call and remember it (strings copied, truncated). */
void stats_event_record(struct stats *s, time_t now, const char *status, const char *uuid);
enum event_status stats_event_status(const char *status);
const char *stats_event_status_str(int st);   /* "started", ..., "other" */

/*
 * Remember one operator action (op: 0..STATS_ADMIN_OPS-1, counted) or an
 * automatic block (op -1, counted in auto_blocks); strings are copied.
 */
void stats_admin_record(struct stats *s, time_t now, int op, const char *action, const char *target,
			const char *by, const char *result);
const char *stats_admin_op_str(int op);       /* "hangup", "block", "unblock" */

/* Count a WebSocket close: `code` as sent or received (1005: none given). */
void stats_close_record(struct stats *s, enum close_side side, int code);
const char *stats_close_code_str(int idx);    /* "1000", ..., "other" */


/*
 * Which calls a page lists. At 2,000 calls the whole list is ~700 KB of
 * JSON built on the loop that carries the audio, so by default a page
 * shows the STATS_VIEW_CALLS calls with the worst quality score (ties:
 * newest first); ?calls=N or ?calls=all and ?match=TEXT (a substring of the
 * uuid or the caller's number) choose otherwise (http.cpp reads them).
 */
#define STATS_VIEW_CALLS 50
#define STATS_VIEW_MAX   1000000u
struct stats_view {
	uint32_t limit;        /* calls listed at most; STATS_VIEW_MAX = all */
	char     match[64];    /* "" = every call */
};
void stats_view_default(struct stats_view *v);

/*
 * One query argument ("name=value", as lws decoded it) into v: calls=N
 * (1..100000) or calls=all, match=TEXT (up to 63 bytes of UTF-8 text, no
 * control characters: it is echoed in the JSON and the page). Other names
 * are ignored. Returns 0, or -1 with a reason for a 400 in *why.
 */
int stats_view_arg(struct stats_view *v, const char *arg, size_t len, const char **why);

/* The open calls' quality at a glance (calls with at least one frame). */
#define STATS_POOR_MOS 3.6   /* under this, callers notice (quality.h) */
struct stats_quality_now {
	uint32_t calls;          /* open calls with audio */
	uint32_t poor;           /* ... scoring under STATS_POOR_MOS */
	double   worst_mos, mean_mos, mean_jitter_ms;
};
void stats_quality_read(const struct calls *cs, struct stats_quality_now *out);

/*
 * The calls v selects, worst score first, as a malloc'd array (free() it;
 * NULL with *n 0 when none match or out of memory: *oom says which).
 * *matching is how many calls match before the limit.
 */
const struct call **stats_select(const struct calls *cs, const struct stats_view *v, uint32_t *n,
				 uint32_t *matching, int *oom);

/*
 * Render /stats.json, with the live blocks (blocks may be NULL). Returns a malloc'd buffer (free() it) and its length
 * in *len, or NULL when out of memory. The /stats page is stats_page.h's.
 */
struct block_table;
char *stats_render_json(const struct stats *s, const struct calls *cs, const struct block_table *blocks, time_t now,
			size_t *len);
/* ... listing the calls v selects (stats_render_json uses the default view) */
char *stats_render_json_view(const struct stats *s, const struct calls *cs, const struct block_table *blocks,
			     const struct stats_view *v, time_t now, size_t *len);

/* ISO 8601 UTC ("2024-01-02T03:04:05Z") into out; "" if it does not fit. */
void stats_iso8601(time_t t, char *out, size_t cap);
