/*
 * replay.cpp -- see replay.h. The probe window is scanned whole on every
 * call: expired slots are reused in place, so there are no tombstones and no
 * separate expiry sweep. A hash picks its first slot by multiply-shift
 * (h * slots >> 32), so the table can have any size, not just a power of
 * two, and a bigger table places every stored hash without its jti.
 */
#include "replay.h"

#include <string.h>
#include <sys/mman.h>

static uint64_t *hashes(const struct replay *r)
{
	return (uint64_t *)(r + 1);
}

static uint32_t *expiries(const struct replay *r)
{
	return (uint32_t *)(hashes(r) + r->slots);
}

int replay_size(uint32_t call_rate, uint32_t tokens_per_call, uint32_t lifetime_s, struct replay_sizing *out)
{
	memset(out, 0, sizeof *out);
	out->call_rate = call_rate;
	out->tokens_per_call = tokens_per_call;
	out->lifetime_s = lifetime_s;
	out->live = (uint64_t)call_rate * tokens_per_call * lifetime_s;
	uint64_t slots = out->live * REPLAY_LOAD_SPREAD;
	if (slots < REPLAY_SLOTS_MIN)
		slots = REPLAY_SLOTS_MIN;
	slots = (slots + 1023) & ~(uint64_t)1023;
	out->slots = slots;
	if (slots > REPLAY_SLOTS_MAX)
		return -1;
	out->bytes = replay_bytes((uint32_t)slots);
	return 0;
}

struct replay *replay_create(uint32_t slots)
{
	/* MAP_NORESERVE: a table sized for the peak costs nothing until the
	 * peak comes (the kernel hands out zero pages as entries land) */
	void *m = mmap(NULL, replay_bytes(slots), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	struct replay *r = (struct replay *)m;
	r->slots = slots;
	return r;
}

void replay_destroy(struct replay *r)
{
	if (r)
		munmap(r, replay_bytes(r->slots));
}

void replay_format(struct replay *r, uint32_t slots, uint64_t seed)
{
	/* the arrays are already zero; clearing them again would make every
	 * page resident before the first call */
	r->slots = slots;
	r->seed = seed;
	r->live = 0;
}

void replay_init(struct replay *r, uint64_t seed)
{
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

enum replay_result replay_insert_hash(struct replay *r, uint64_t h, uint32_t expires, time_t now)
{
	uint64_t *hs = hashes(r);
	uint32_t *ex = expiries(r);
	uint32_t n = r->slots;
	uint32_t k = (uint32_t)(((h >> 32) * (uint64_t)n) >> 32);
	uint32_t now32 = (uint32_t)now;
	int64_t freeslot = -1;

	if (!n)
		return REPLAY_FULL;   /* a header without a table */
	for (uint32_t i = 0; i < REPLAY_PROBE; i++, k = k + 1 == n ? 0 : k + 1) {
		int live = ex[k] && (int32_t)(ex[k] - now32) >= 0;
		if (live && hs[k] == h)
			return REPLAY_SEEN;
		if (!live) {
			if (ex[k]) {   /* expired: free it for reuse */
				ex[k] = 0;
				r->live--;
			}
			if (freeslot < 0)
				freeslot = k;
		}
	}
	if (freeslot < 0)
		return REPLAY_FULL;
	hs[freeslot] = h;
	ex[freeslot] = expires ? expires : 1;
	r->live++;
	return REPLAY_NEW;
}

enum replay_result replay_check_insert(struct replay *r, const char *jti, size_t len, time_t now,
				       time_t expires)
{
	return replay_insert_hash(r, hash(r->seed, jti, len), (uint32_t)expires, now);
}

long replay_copy_live(struct replay *to, const struct replay *from, time_t now)
{
	const uint64_t *hs = hashes(from);
	const uint32_t *ex = expiries(from);
	uint32_t now32 = (uint32_t)now;
	long n = 0;

	for (uint32_t k = 0; k < from->slots; k++) {
		if (!ex[k] || (int32_t)(ex[k] - now32) < 0)
			continue;
		if (replay_insert_hash(to, hs[k], ex[k], now) == REPLAY_FULL)
			return -1;
		n++;
	}
	return n;
}
