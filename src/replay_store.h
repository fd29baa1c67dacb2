/*
 * replay_store.h -- where the jti of every accepted token is kept, so that
 * no token is accepted twice: not by this process, not by another worker on
 * the same port, not after a restart, not by another machine.
 *
 *   memory  the table (replay.h) in this process only: a restart forgets it
 *           (the default without --replay-file or --replay-redis)
 *   file    --replay-file PATH: the same table in a file every process that
 *           names PATH maps shared (MAP_SHARED), guarded by a process-shared
 *           robust mutex in the file. Workers on one box see each other's
 *           tokens at once, and a restart or crash re-maps what was there.
 *   redis   --replay-redis HOST:PORT: SET caller-echo:jti:<jti> 1 NX EX <the
 *           token's remaining lifetime>, one round trip per accepted token,
 *           for servers on several machines (redis_client.h: TLS, AUTH).
 *           The handshake decision is synchronous (lws confirms the upgrade
 *           in its callback), so the whole round trip -- a reconnect
 *           included -- is bounded by --replay-redis-timeout; when Redis is
 *           slow, down, or answers anything but +OK or nil, the check
 *           reports REPLAY_UNAVAILABLE (the caller refuses with 503) -- or,
 *           with --replay-redis-down local, falls back to this process's
 *           table -- and a new connection is tried at most once a second,
 *           so an outage costs each handshake nothing but the refusal.
 * Every check happens after the token's signature verified, so nobody
 * without the secret can fill any of them.
 */
#pragma once
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "replay.h"

enum replay_kind { REPLAY_MEMORY = 0, REPLAY_FILE, REPLAY_REDIS };

/* a check's outcome beyond replay.h's: the store could not answer */
#define REPLAY_UNAVAILABLE 3

/*
 * Why a Redis check got no answer: replay_store_stats.redis_errors[], by
 * these names in /stats.json and /metrics (docs/behaviour.md). They add up
 * to errors for the redis kind.
 */
enum replay_redis_error {
	REPLAY_REDIS_TIMEOUT = 0,   /* no whole answer within --replay-redis-timeout */
	REPLAY_REDIS_OVERSIZED,     /* a reply over REDIS_CLIENT_REPLY_MAX bytes */
	REPLAY_REDIS_UNEXPECTED,    /* a reply other than +OK / nil (+PONG) */
	REPLAY_REDIS_AUTH,          /* AUTH refused, or Redis wants one we did not give */
	REPLAY_REDIS_TLS,           /* TLS handshake or certificate check failed */
	REPLAY_REDIS_CONNECTION,    /* refused, reset, closed */
	REPLAY_REDIS_BACKOFF,       /* not tried: the last attempt failed less than a second ago */
	REPLAY_REDIS_ERRORS
};
#define REPLAY_REDIS_ERROR_NAMES { "timeout", "oversized", "unexpected", "auth", "tls", "connection", "backoff" }

struct replay_store_stats {
	uint64_t checks;        /* round trips to the store (file: lock + table) */
	uint64_t errors;        /* checks the store could not answer */
	uint64_t fallbacks;     /* ... answered by this process's table instead (redis, --replay-redis-down local) */
	uint64_t rtt_us_sum;    /* redis: total round-trip time of successful checks */
	uint32_t rtt_us_max;
	uint32_t reconnects;    /* redis: connections made after the first */
	uint64_t redis_errors[REPLAY_REDIS_ERRORS];   /* redis: errors by why */
};

struct redis_client;
struct redis_client_opts;

/* The --replay-file format: this header, then the table (flat, no pointers). */
struct replay_shared {
	uint64_t        magic;      /* written last: a file with it is initialised */
	uint32_t        version;
	uint32_t        slots;
	uint64_t        size;       /* sizeof(struct replay_shared) of the writer's build */
	pthread_mutex_t lock;       /* process-shared, robust: guards table */
	struct replay   table;
};

struct replay_store {
	enum replay_kind kind;
	struct replay   *table;        /* memory: the caller's; file: inside the mapping */
	struct replay   *local;        /* the caller's own table (memory; the redis fallback) */
	struct replay_shared *shared;  /* file: the mapping */
	size_t           map_len;
	char             host[256];    /* redis: the address, numeric (the name is in redis->name) */
	int              port;
	int              timeout_ms;
	int              fallback_local;
	struct redis_client *redis;    /* allocated once, at start */
	time_t           retry_at;     /* redis: no new connection before this */
	int              was_up;       /* redis: for logging the transitions once */
	struct replay_store_stats st;
};

/* In-process table: local must be zero-filled, never used (replay_init is called). */
void replay_store_memory(struct replay_store *s, struct replay *local, uint64_t seed);

/*
 * Map PATH shared, creating and initialising it (mode 0600, a fresh seed)
 * if it is new or empty. 0, or -1 with a reason in err: unreadable, not a
 * replay file, another version or size.
 */
int replay_store_file(struct replay_store *s, const char *path, char *err, size_t errlen);

/* replay_store_redis(): the configuration cannot work (exit 2, not 1) */
#define REPLAY_STORE_BAD_CONFIG (-2)

/*
 * Use Redis at HOST:PORT (an IPv4/IPv6 literal or a name resolved now,
 * before the loop runs; the name is kept for TLS), with o's TLS and AUTH.
 * local (zero-filled, seeded) backs fallback_local. Connects once, AUTH
 * and PING within timeout_ms: 0; -1 with the reason in err (the server
 * does not start with a store it cannot reach); or REPLAY_STORE_BAD_CONFIG
 * when trying again would not help: an address not on this host without
 * both TLS and a password, AUTH refused, a certificate that did not verify.
 */
int replay_store_redis(struct replay_store *s, const char *hostport, int timeout_ms, int fallback_local,
		       const struct redis_client_opts *o, struct replay *local, uint64_t seed, char *err,
		       size_t errlen);

/*
 * Remember jti until `expires` unless it is there already: REPLAY_NEW,
 * REPLAY_SEEN, REPLAY_FULL (no room: refuse), or REPLAY_UNAVAILABLE (the
 * store did not answer within the timeout: refuse with 503).
 */
int replay_store_check(struct replay_store *s, const char *jti, size_t len, time_t now, time_t expires);

/* "memory", "file /path", "redis host:port" for the start-up log line. */
const char *replay_store_describe(const struct replay_store *s, char *buf, size_t cap);

void replay_store_close(struct replay_store *s);
