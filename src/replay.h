/*
 * replay.h -- refuse a handshake token presented a second time.
 *
 * Each accepted token's jti is remembered until the token could no longer
 * pass the age check anyway (iat + max age + leeway): after that the JWT
 * check itself refuses it, so forgetting it is safe. Only tokens whose
 * signature verified are inserted, so an attacker without the secret
 * cannot fill the table. It is an array of keyed 64-bit hashes of the jti;
 * a jti may sit in any of the REPLAY_PROBE slots from the one its hash
 * names, and when all of them hold live entries the table fails closed
 * (REPLAY_FULL) rather than forget a live token.
 *
 * Sized from the configuration, never fixed: replay_size() takes the
 * tokens that can be live at once -- new calls a second x tokens a call x a
 * token's lifetime: the design load -- and gives each REPLAY_LOAD_SPREAD
 * slots, so that at that load a window is practically never all live
 * (test_replay.cpp fills tables to it with random jtis and expiries; the
 * numbers are in docs/deploy.md 3a). REPLAY_FULL is then the answer to a
 * load far beyond the design only.
 *
 * Flat: a header followed by its two arrays, no pointers, so the same bytes
 * work in this process (replay_create: an anonymous mapping whose pages
 * cost nothing until an entry lands in them) and in a file every worker
 * maps (replay_store.h).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define REPLAY_SLOTS_MIN   16384u        /* never smaller than the fixed table once was */
#define REPLAY_SLOTS_MAX   (1u << 30)    /* 12 GiB; a configuration needing more is refused */
#define REPLAY_PROBE       32
#define REPLAY_SLOT_BYTES  12            /* a 64-bit hash and a 32-bit expiry */
#define REPLAY_LOAD_SPREAD 8             /* slots per live token at the design load */
#define REPLAY_TOKENS_SOCKET   1         /* per call: the WebSocket's token */
#define REPLAY_TOKENS_WEBHOOKS 5         /* ... and with --verify-webhooks the answer and four events */

struct replay {
	uint64_t seed;
	uint32_t slots;    /* the arrays that follow hold this many */
	uint32_t live;     /* approximate: entries not yet seen expired */
	/* then uint64_t hash[slots]; uint32_t expires[slots] (unix seconds,
	 * truncated; 0 = free) */
};

/* What a configuration asks of the table. */
struct replay_sizing {
	uint32_t call_rate;        /* new calls per second */
	uint32_t tokens_per_call;
	uint32_t lifetime_s;       /* how long an entry is kept */
	uint64_t live;             /* the design load: call_rate x tokens_per_call x lifetime_s */
	uint64_t slots;            /* live x REPLAY_LOAD_SPREAD, at least REPLAY_SLOTS_MIN, whole KiB */
	uint64_t bytes;            /* replay_bytes(slots) */
};

/* Fill *out; 0, or -1 when it would take more than REPLAY_SLOTS_MAX slots. */
int replay_size(uint32_t call_rate, uint32_t tokens_per_call, uint32_t lifetime_s, struct replay_sizing *out);

/* Bytes a table of `slots` takes: the header and both arrays (inline: the
 * stats read it without linking the table). */
static inline size_t replay_bytes(uint32_t slots)
{
	return sizeof(struct replay) + (size_t)slots * REPLAY_SLOT_BYTES;
}

/*
 * A new table of `slots` (REPLAY_SLOTS_MIN..REPLAY_SLOTS_MAX) in an
 * anonymous mapping: zero, and resident only as it is used. NULL (errno
 * set) when it cannot be mapped. replay_init() must seed it.
 */
struct replay *replay_create(uint32_t slots);
void replay_destroy(struct replay *r);

/* Lay a table out in zero-filled memory of replay_bytes(slots) (a new file). */
void replay_format(struct replay *r, uint32_t slots, uint64_t seed);

/* Seed a table from replay_create() that was never used. */
void replay_init(struct replay *r, uint64_t seed);

/*
 * Remember jti (len bytes) until `expires` unless it is already there.
 * REPLAY_NEW: first time, now remembered. REPLAY_SEEN: a replay.
 * REPLAY_FULL: no room; the caller refuses the handshake.
 */
enum replay_result { REPLAY_NEW = 0, REPLAY_SEEN, REPLAY_FULL };
enum replay_result replay_check_insert(struct replay *r, const char *jti, size_t len, time_t now,
				       time_t expires);

/*
 * The same for an entry already hashed with this table's seed (moving a
 * table into a bigger one: where an entry goes follows from its hash alone).
 */
enum replay_result replay_insert_hash(struct replay *r, uint64_t h, uint32_t expires, time_t now);

/*
 * Copy every entry of `from` still live at now into `to` (seeded alike, of
 * any size). The number copied, or -1 if one found no room (to is then
 * partly filled).
 */
long replay_copy_live(struct replay *to, const struct replay *from, time_t now);
