/*
 * replay.h -- refuse a handshake token presented a second time.
 *
 * Each accepted token's jti is remembered until the token could no longer
 * pass the age check anyway (iat + max age + leeway): after that the JWT
 * check itself refuses it, so forgetting it is safe. Only tokens whose
 * signature verified are inserted, so an attacker without the secret
 * cannot fill the table. It is a fixed array of keyed 64-bit hashes of the
 * jti; when a jti's window of slots is full of live entries the table
 * fails closed (REPLAY_FULL) rather than forgetting a live token.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define REPLAY_SLOTS 16384   /* power of two; 12 bytes each */
#define REPLAY_PROBE 32

struct replay {
	uint64_t seed;
	uint32_t live;                   /* approximate: entries not yet seen expired */
	uint64_t hash[REPLAY_SLOTS];
	uint32_t expires[REPLAY_SLOTS];  /* unix seconds, truncated; 0 = free */
};

enum replay_result { REPLAY_NEW = 0, REPLAY_SEEN, REPLAY_FULL };

/* r must be zero-filled memory (static storage or calloc) that was never used. */
void replay_init(struct replay *r, uint64_t seed);

/*
 * Remember jti (len bytes) until `expires` unless it is already there.
 * REPLAY_NEW: first time, now remembered. REPLAY_SEEN: a replay.
 * REPLAY_FULL: no room; the caller refuses the handshake.
 */
enum replay_result replay_check_insert(struct replay *r, const char *jti, size_t len, time_t now,
				       time_t expires);
