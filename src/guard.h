/*
 * guard.h -- per-client-address limits on audio WebSocket handshakes.
 *
 * Each upgrade attempt asks guard_handshake() first (before the JWT is even
 * parsed, so a flood of bad tokens is throttled too): a token bucket per
 * address caps the handshake rate, and a count of the address's open calls
 * caps its concurrency. Addresses on the exempt list (the provider's media
 * servers) skip both. The table is a fixed array: a flood from many
 * addresses evicts the least recently seen idle entries, it never grows.
 * An entry with open calls is never evicted, so guard_call_close() always
 * finds the entry guard_call_open() counted on.
 * Below the handshake, guard_conn_open() counts each address's TCP
 * connections that are not (yet) calls -- requests and handshakes in
 * progress -- so that one address cannot hold a pile of idle or
 * slowly-sent connections (slowloris). The caller keeps the returned slot
 * and hands it back with guard_conn_done() when the connection becomes a
 * call or closes; such entries are not evicted either.
 *
 * A client is an IPv4 address, or an IPv6 prefix (cfg.v6_prefix bits, /64
 * by default): one host on IPv6 is usually given a whole /64, so counting
 * each of its 2^64 addresses apart would let it split every limit, its
 * strikes and its automatic block among as many addresses as it likes.
 * guard_client() gives the network an address is counted under.
 *
 * Each entry also holds the client's share of the refusal log
 * (guard_log_allow): a small bucket per client, so that one client's flood
 * cannot use up the lines that would have named another.
 */
#pragma once
#include <stdint.h>

#include "addr.h"

#define GUARD_TABLE_SIZE 4096   /* entries; power of two */
#define GUARD_PROBE      16     /* slots looked at per address */

struct guard_cfg {
	uint32_t           max_calls;   /* open calls per address; 0 = no limit */
	uint32_t           rate;        /* handshakes per second per address; 0 = no limit */
	uint32_t           burst;       /* bucket size */
	uint32_t           max_pending; /* connections that are not calls, per address; 0 = no limit */
	const struct cidr *exempt;
	int                n_exempt;
	uint8_t            v6_prefix;   /* IPv6 clients are counted per this prefix; 0 = 128 */
};

struct guard_entry {
	struct addr a;
	uint32_t    calls;        /* open audio calls from a */
	uint32_t    pending;      /* its connections that are not calls */
	uint32_t    tokens_milli; /* bucket level, 1000 = one handshake */
	uint32_t    last_ms;      /* last refill, ms since guard_init (wraps after 49 days: only
	                             intervals are used) */
	uint32_t    used;
	uint32_t    strikes;      /* refusals charged to a since strike_ms */
	uint32_t    strike_ms;    /* start of the current strike window */
	uint32_t    log_ms;       /* last refill of the log bucket */
	uint16_t    log_tokens;   /* refusal lines this client may still write now */
	uint16_t    log_dropped;  /* its lines dropped since its last one written */
};

struct guard {
	struct guard_cfg   cfg;
	uint64_t           seed;     /* keys the hash: addresses cannot aim at one slot window */
	uint64_t           epoch_ms;
	uint32_t           entries;  /* slots in use */
	uint32_t           last_ms;  /* time of the latest handshake */
	uint64_t           evicted;  /* idle entries given to another client (their strikes forgotten) */
	struct guard_entry tab[GUARD_TABLE_SIZE];
};

enum guard_result { GUARD_OK = 0, GUARD_RATE, GUARD_CALLS, GUARD_FULL, GUARD_CONNS };

#define GUARD_NO_SLOT 0xffffffffu

/*
 * A TCP connection from a was accepted. GUARD_OK with *slot set (or
 * GUARD_NO_SLOT when a is exempt or the limit is off), GUARD_CONNS when a
 * already has max_pending such connections, GUARD_FULL when it cannot be
 * tracked.
 */
enum guard_result guard_conn_open(struct guard *g, const struct addr *a, uint64_t now_ms, uint32_t *slot);

/* That connection became a call or closed. GUARD_NO_SLOT is ignored. */
void guard_conn_done(struct guard *g, uint32_t slot);

/* g must be zero-filled memory (static storage or calloc) that was never used. */
void guard_init(struct guard *g, const struct guard_cfg *cfg, uint64_t seed, uint64_t now_ms);

/* May a's handshake proceed now? Takes a token when it may. */
enum guard_result guard_handshake(struct guard *g, const struct addr *a, uint64_t now_ms);

/* The handshake from a became a call / the call ended. */
void guard_call_open(struct guard *g, const struct addr *a);
void guard_call_close(struct guard *g, const struct addr *a);

/*
 * Charge one refusal to a (automatic blocking, block.h). Returns the
 * refusals counted in the window that started with the first of them and
 * lasts window_ms (a later one starts a new window), or 0 when a is exempt
 * or cannot be tracked. guard_strikes_clear() starts over (a was blocked).
 */
uint32_t guard_strike(struct guard *g, const struct addr *a, uint64_t now_ms, uint32_t window_ms);
void guard_strikes_clear(struct guard *g, const struct addr *a);

/* The network a is counted under: a /32 for IPv4, a cfg.v6_prefix for IPv6. */
struct cidr guard_client(const struct guard *g, const struct addr *a);

/*
 * May a refusal line naming client a be written now? Each client has a
 * bucket of GUARD_LOG_BURST lines, refilled one line per GUARD_LOG_EVERY_MS.
 * 1 = yes, and *dropped is how many of its lines were held back since its
 * last one (then reset); 0 = no (counted against it). A client the table
 * cannot hold is let through: the process-wide cap still bounds the log.
 */
#define GUARD_LOG_BURST    10
#define GUARD_LOG_EVERY_MS 1000
int guard_log_allow(struct guard *g, const struct addr *a, uint64_t now_ms, uint32_t *dropped);

/* Open calls counted for a (0 if unknown or exempt); for tests and stats. */
uint32_t guard_calls(const struct guard *g, const struct addr *a);
