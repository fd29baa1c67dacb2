/*
 * guard.cpp -- see guard.h. Open addressing over a window of GUARD_PROBE
 * slots starting at a keyed hash of the address. A lookup scans the whole
 * window (entries are removed only by eviction, so there are no tombstones
 * to stop at); a new address takes a free slot in its window, else the
 * least recently refilled entry there that has no open calls. Every
 * public function first turns the address into its client key (an IPv6
 * address masked to cfg.v6_prefix), so an entry is a client, not an address.
 */
#include "guard.h"

#include <string.h>

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int prefix_of(const struct guard *g, const struct addr *a)
{
	if (!memcmp(a->b, v4_mapped, sizeof v4_mapped))
		return 128;   /* IPv4: the whole address */
	return g->cfg.v6_prefix ? g->cfg.v6_prefix : 128;
}

struct cidr guard_client(const struct guard *g, const struct addr *a)
{
	struct cidr c;
	int bits = prefix_of(g, a);

	c.net = *a;
	c.bits = (uint8_t)bits;
	for (int i = 0; i < 16; i++) {
		int keep = bits - i * 8;
		c.net.b[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
	return c;
}

static struct addr key_of(const struct guard *g, const struct addr *a)
{
	return guard_client(g, a).net;
}

static uint32_t slot_of(const struct guard *g, const struct addr *a)
{
	uint64_t h = g->seed ^ 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 16; i += 8) {
		uint64_t w;
		memcpy(&w, a->b + i, 8);
		h ^= w;
		h *= 0xbf58476d1ce4e5b9ull;   /* splitmix64 finaliser steps */
		h ^= h >> 31;
	}
	h *= 0x94d049bb133111ebull;
	h ^= h >> 29;
	return (uint32_t)h & (GUARD_TABLE_SIZE - 1);
}

void guard_init(struct guard *g, const struct guard_cfg *cfg, uint64_t seed, uint64_t now_ms)
{
	/* no memset of the table: it is already zero (see guard.h), and writing
	 * 144 KiB of zeros would make every page of it resident at start-up */
	g->cfg = *cfg;
	g->seed = seed;
	g->epoch_ms = now_ms;
}

static int exempt(const struct guard *g, const struct addr *a)
{
	return cidr_list_match(g->cfg.exempt, g->cfg.n_exempt, a);
}

static struct guard_entry *find(struct guard *g, const struct addr *a)
{
	uint32_t s = slot_of(g, a);
	for (uint32_t i = 0; i < GUARD_PROBE; i++) {
		struct guard_entry *e = &g->tab[(s + i) & (GUARD_TABLE_SIZE - 1)];
		if (e->used && !memcmp(e->a.b, a->b, sizeof a->b))
			return e;
	}
	return NULL;
}

static struct guard_entry *take(struct guard *g, const struct addr *a, uint32_t now)
{
	uint32_t s = slot_of(g, a);
	struct guard_entry *victim = NULL;
	int fresh = 0;

	for (uint32_t i = 0; i < GUARD_PROBE; i++) {
		struct guard_entry *e = &g->tab[(s + i) & (GUARD_TABLE_SIZE - 1)];
		if (!e->used) {
			victim = e;
			fresh = 1;
			g->entries++;
			break;
		}
		if (!e->calls && !e->pending && (!victim || now - e->last_ms > now - victim->last_ms))
			victim = e;
	}
	if (!victim)
		return NULL;
	if (!fresh)
		g->evicted++;
	victim->a = *a;
	victim->used = 1;
	victim->calls = 0;
	victim->pending = 0;
	victim->tokens_milli = g->cfg.burst * 1000u;
	victim->last_ms = now;
	victim->strikes = 0;
	victim->log_ms = now;
	victim->log_tokens = GUARD_LOG_BURST;
	victim->log_dropped = 0;
	return victim;
}

enum guard_result guard_handshake(struct guard *g, const struct addr *addr, uint64_t now_ms)
{
	const struct addr key = key_of(g, addr), *a = &key;
	uint32_t now = (uint32_t)(now_ms - g->epoch_ms);

	if (exempt(g, a) || (!g->cfg.rate && !g->cfg.max_calls))
		return GUARD_OK;
	struct guard_entry *e = find(g, a);
	if (!e && !(e = take(g, a, now)))
		return GUARD_FULL;

	if (g->cfg.rate) {
		uint64_t add = (uint64_t)(now - e->last_ms) * g->cfg.rate;   /* ms x per-second = milli */
		uint64_t cap = (uint64_t)g->cfg.burst * 1000u;
		uint64_t level = e->tokens_milli + add;
		e->tokens_milli = (uint32_t)(level > cap ? cap : level);
	}
	e->last_ms = now;
	g->last_ms = now;
	if (g->cfg.rate && e->tokens_milli < 1000)
		return GUARD_RATE;
	/* every attempt that got this far costs a token, refused or not */
	if (g->cfg.rate)
		e->tokens_milli -= 1000;
	if (g->cfg.max_calls && e->calls >= g->cfg.max_calls)
		return GUARD_CALLS;
	return GUARD_OK;
}

void guard_call_open(struct guard *g, const struct addr *addr)
{
	const struct addr key = key_of(g, addr), *a = &key;
	if (exempt(g, a))
		return;
	if (!g->cfg.rate && !g->cfg.max_calls)
		return;
	/* the handshake just made or refreshed the entry; take() covers a
	 * caller that skipped guard_handshake() */
	struct guard_entry *e = find(g, a);
	if (!e)
		e = take(g, a, g->last_ms);
	if (e)
		e->calls++;
}

void guard_call_close(struct guard *g, const struct addr *addr)
{
	const struct addr key = key_of(g, addr), *a = &key;
	if (exempt(g, a))
		return;
	struct guard_entry *e = find(g, a);
	if (e && e->calls)
		e->calls--;
}

uint32_t guard_calls(const struct guard *g, const struct addr *addr)
{
	const struct addr key = key_of(g, addr), *a = &key;
	struct guard_entry *e = find((struct guard *)g, a);
	return e && !exempt(g, a) ? e->calls : 0;
}

enum guard_result guard_conn_open(struct guard *g, const struct addr *addr, uint64_t now_ms, uint32_t *slot)
{
	const struct addr key = key_of(g, addr), *a = &key;
	uint32_t now = (uint32_t)(now_ms - g->epoch_ms);

	*slot = GUARD_NO_SLOT;
	if (!g->cfg.max_pending || exempt(g, a))
		return GUARD_OK;
	struct guard_entry *e = find(g, a);
	if (!e && !(e = take(g, a, now)))
		return GUARD_FULL;
	if (e->pending >= g->cfg.max_pending)
		return GUARD_CONNS;
	e->pending++;
	*slot = (uint32_t)(e - g->tab);
	return GUARD_OK;
}

void guard_conn_done(struct guard *g, uint32_t slot)
{
	if (slot < GUARD_TABLE_SIZE && g->tab[slot].pending)
		g->tab[slot].pending--;
}

uint32_t guard_strike(struct guard *g, const struct addr *addr, uint64_t now_ms, uint32_t window_ms)
{
	const struct addr key = key_of(g, addr), *a = &key;
	uint32_t now = (uint32_t)(now_ms - g->epoch_ms);

	if (exempt(g, a))
		return 0;
	struct guard_entry *e = find(g, a);
	if (!e && !(e = take(g, a, now)))
		return 0;
	if (!e->strikes || now - e->strike_ms > window_ms) {
		e->strikes = 0;
		e->strike_ms = now;
	}
	return ++e->strikes;
}

void guard_strikes_clear(struct guard *g, const struct addr *addr)
{
	const struct addr key = key_of(g, addr), *a = &key;
	struct guard_entry *e = find(g, a);
	if (e)
		e->strikes = 0;
}

int guard_log_allow(struct guard *g, const struct addr *addr, uint64_t now_ms, uint32_t *dropped)
{
	const struct addr key = key_of(g, addr);
	uint32_t now = (uint32_t)(now_ms - g->epoch_ms);
	struct guard_entry *e = find(g, &key);

	*dropped = 0;
	if (!e && !(e = take(g, &key, now)))
		return 1;
	uint32_t add = (now - e->log_ms) / GUARD_LOG_EVERY_MS;
	if (add) {
		uint32_t level = e->log_tokens + add;
		e->log_tokens = (uint16_t)(level > GUARD_LOG_BURST ? GUARD_LOG_BURST : level);
		e->log_ms += add * GUARD_LOG_EVERY_MS;
	}
	if (!e->log_tokens) {
		if (e->log_dropped < 0xffff)
			e->log_dropped++;
		return 0;
	}
	e->log_tokens--;
	*dropped = e->log_dropped;
	e->log_dropped = 0;
	return 1;
}
