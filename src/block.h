/*
 * block.h -- addresses shut out for a while: by the operator (admin API,
 * POST /admin/block) or by the server itself (automatic blocking).
 *
 * A block is a CIDR with an expiry. The table is a fixed array searched in
 * order (a handful of entries in practice; at most BLOCK_MAX). The server
 * asks block_match() for every new connection and every request or
 * handshake whose client address it learns from a trusted proxy.
 * Automatic blocking: each refusal that only a misbehaving client earns (a
 * bad token, a flood, a forged webhook; not "server full") is a strike
 * against the client's address, counted in its guard entry; the address
 * that collects --block-after strikes within --block-window seconds is
 * blocked for --block-seconds. Exempt ranges (--limit-exempt) and loopback
 * are never blocked automatically: the provider's media servers, and a
 * local proxy that was not declared with --trusted-proxy, would take every
 * call down with them.
 * When full (BLOCK_MAX: honest traffic earns no automatic block, so only a
 * flood from that many addresses at once reaches it), a new block replaces
 * the automatic one that expires first -- counted in `evicted` and logged
 * by the caller, for that address is served again before its time -- and
 * the operator's own blocks are only ever removed by the operator or by
 * their expiry; a table full of those refuses a new block (`full`). With
 * --block-file the table is saved (at most once a second, written to a
 * new file of an unguessable name and renamed over the old) and loaded at
 * start; the file and its directories must pass fileperm.h's owner and
 * mode rule, or the start is refused.
 * Pure: no sockets, no lws; file I/O only in block_save/block_load.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "guard.h"

#define BLOCK_MAX        512
#define BLOCK_REASON_MAX 64

enum block_source { BLOCK_MANUAL = 0, BLOCK_AUTO = 1 };

struct block_entry {
	struct cidr net;
	time_t      created;
	time_t      expires;                 /* unix seconds; 0 = until unblocked */
	uint64_t    hits;                    /* connections and requests it refused */
	uint8_t     source;                  /* enum block_source */
	char        reason[BLOCK_REASON_MAX];/* printable ASCII */
	char        by[ADDR_STR_MAX];        /* the operator's address, or "auto" */
};

struct block_table {
	uint32_t           n;
	uint32_t           dirty;     /* changed since the last block_save() */
	uint64_t           evicted;   /* automatic blocks dropped before their expiry to make room */
	uint64_t           full;      /* blocks not made: the table held only the operator's */
	uint64_t           save_refused; /* saves refused: the file's directory became writable by others */
	struct block_entry e[BLOCK_MAX];
};

/* The automatic-blocking policy (config: --block-after/-window/-seconds). */
struct block_policy {
	uint32_t after;      /* strikes that make a block; 0 = automatic blocking off */
	uint32_t window_s;
	uint32_t seconds;    /* how long an automatic block lasts */
};

enum block_add_result { BLOCK_ADDED = 0, BLOCK_UPDATED, BLOCK_FULL };

/*
 * Block net until `expires` (0 = until removed). A block of the same
 * network is updated in place (an operator's block never turns back into
 * an automatic one). reason and by are copied, sanitised and cut to fit.
 */
enum block_add_result block_add(struct block_table *t, const struct cidr *net, time_t now, time_t expires,
				enum block_source src, const char *reason, const char *by);

/* Remove the block of exactly net. 0, or -1 if there is none. */
int block_remove(struct block_table *t, const struct cidr *net);

/* The live block covering a (its hits counted), or NULL. */
struct block_entry *block_match(struct block_table *t, const struct addr *a, time_t now);

/* Drop expired entries; returns how many. */
uint32_t block_expire(struct block_table *t, time_t now);


/*
 * Charge one refusal to a under policy p. Returns 1 when this strike
 * blocked a (now until now + p->seconds), else 0: policy off, reason not a
 * strike, a loopback or exempt (guard) address, or not yet enough strikes.
 */
int block_strike(struct block_table *t, struct guard *g, const struct block_policy *p, const struct addr *a,
		 int reason, time_t now, uint64_t now_ms);

/*
 * The table as JSON: {"blocks":[{"cidr":..,"source":"manual"|"auto",
 * "reason":..,"by":..,"created":..,"expires":..,"expires_in":..,"hits":..}]}
 * (times in unix seconds; expires 0 and expires_in null = until removed).
 * malloc'd, *len set; NULL when out of memory.
 */
char *block_render_json(const struct block_table *t, time_t now, size_t *len);

/* The same as a cJSON object (cJSON_Delete it); NULL when out of memory. */
typedef struct cJSON cJSON;
cJSON *block_to_json(const struct block_table *t, time_t now);

/*
 * Save the live entries to path: a new file made exclusively next to it
 * (fileperm_create_temp: mode 0600, owned by us, a name no one can guess)
 * is written, synced and renamed over path, so a file someone else left
 * at any name is never written through. Load them, replacing the table;
 * expired entries are skipped. A missing file loads as empty. 0, or -1
 * with a one-line reason in err; BLOCK_FILE_REFUSED when path or its
 * directories fail fileperm's rule (someone else could write them).
 */
#define BLOCK_FILE_REFUSED (-2)
int block_save(struct block_table *t, const char *path, time_t now, char *err, size_t errlen);
int block_load(struct block_table *t, const char *path, time_t now, char *err, size_t errlen);
