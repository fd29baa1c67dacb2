/*
 * replay.cpp -- see replay.h. The probe window is scanned whole on every
 * call: expired slots are reused in place, so there are no tombstones and no
 * separate expiry sweep.
 */
#include "replay.h"

#include <string.h>

void replay_init(struct replay *r, uint64_t seed)
{
	/* the arrays are already zero (replay.h); clearing them again would
	 * make all 192 KiB resident before the first call */
	r->seed = seed;
}

/* FNV-1a over the seed and the bytes, then a splitmix64 finaliser. */
static uint64_t hash(uint64_t seed, const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h | 1;   /* never 0 */
}

enum replay_result replay_check_insert(struct replay *r, const char *jti, size_t len, time_t now,
				       time_t expires)
{
	uint64_t h = hash(r->seed, jti, len);
	uint32_t start = (uint32_t)(h >> 32) & (REPLAY_SLOTS - 1);
	uint32_t now32 = (uint32_t)now;
	int freeslot = -1;

	for (uint32_t i = 0; i < REPLAY_PROBE; i++) {
		uint32_t k = (start + i) & (REPLAY_SLOTS - 1);
		int live = r->expires[k] && (int32_t)(r->expires[k] - now32) >= 0;
		if (live && r->hash[k] == h)
			return REPLAY_SEEN;
		if (!live) {
			if (r->expires[k]) {   /* expired: free it for reuse */
				r->expires[k] = 0;
				r->live--;
			}
			if (freeslot < 0)
				freeslot = (int)k;
		}
	}
	if (freeslot < 0)
		return REPLAY_FULL;
	r->hash[freeslot] = h;
	r->expires[freeslot] = (uint32_t)expires ? (uint32_t)expires : 1;
	r->live++;
	return REPLAY_NEW;
}
