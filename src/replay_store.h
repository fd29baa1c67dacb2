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
 *           The file says how many slots its table has, and every process
 *           uses that: one that needs more grows the file (live entries
 *           moved) when no other process has it mapped, and refuses to
 *           start when others do. Who else could write it is checked
 *           first (fileperm.h), and a file whose header is not whole and
 *           ours is refused, never re-created.
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

#include "log.h"
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

/*
 * replay_store_file() / _redis(): what the configuration names is refused
 * -- a file someone else could write, not whole or too small; a Redis that
 * refuses the password or whose certificate does not verify -- a problem a
 * restart does not cure (exit 2, not 1)
 */
#define REPLAY_STORE_BAD_CONFIG (-2)

#define REPLAY_FILE_VERSION 2   /* 1: a fixed 16,384-slot table (moved into a new file when met) */

struct replay_store_stats {
	uint64_t checks;        /* round trips to the store (file: lock + table) */
	uint64_t errors;        /* checks the store could not answer */
	uint64_t full;          /* checks answered REPLAY_FULL: a token's window all live (refused, 503) */
	uint64_t unsafe;        /* file: rechecks that found it writable by someone else */
	uint64_t fallbacks;     /* ... answered by this process's table instead (redis, --replay-redis-down local) */
	uint64_t rtt_us_sum;    /* redis: total round-trip time of successful checks */
	uint32_t rtt_us_max;
	uint32_t reconnects;    /* redis: connections made after the first */
	uint64_t redis_errors[REPLAY_REDIS_ERRORS];   /* redis: errors by why */
};

struct redis_client;
struct redis_client_opts;

/*
 * The --replay-file format: this header, then the table's arrays (flat, no
 * pointers). A file is built whole under a temporary name and only then
 * linked into place, so a file at PATH always has all of it.
 */
struct replay_shared {
	uint64_t        magic;      /* written last */
	uint32_t        version;    /* REPLAY_FILE_VERSION */
	uint32_t        slots;      /* the table's size: every process mapping the file uses it */
	uint64_t        size;       /* the whole file's bytes */
	uint64_t        header;     /* sizeof(struct replay_shared) of the writer's build (the
	                               lock's size differs between architectures) */
	pthread_mutex_t lock;       /* process-shared, robust: guards table */
	struct replay   table;      /* its header; its arrays follow */
};

struct replay_store {
	enum replay_kind kind;
	struct replay   *table;        /* memory: the caller's; file: inside the mapping */
	struct replay   *local;        /* the caller's own table (memory; the redis fallback) */
	struct replay_shared *shared;  /* file: the mapping */
	size_t           map_len;
	int              fd;           /* file: kept open, holding a shared flock while mapped */
	struct log_limit full_log;     /* REPLAY_FULL answers */
	char             host[256];    /* redis: the address, numeric (the name is in redis->name) */
	int              port;
	int              timeout_ms;
	int              fallback_local;
	struct redis_client *redis;    /* allocated once, at start */
	time_t           retry_at;     /* redis: no new connection before this */
	int              was_up;       /* redis: for logging the transitions once */
	struct replay_store_stats st;
};

/* In-process table: local from replay_create(), never used (replay_init is called). */
void replay_store_memory(struct replay_store *s, struct replay *local, uint64_t seed);

/*
 * Map PATH shared, for a table of at least `slots` (replay_size()).
 * PATH and its directories must pass fileperm.h's rule for this process's
 * user. No file: one is built whole (mode 0600, a fresh seed) under a
 * temporary name and linked into place. A file of this version with fewer
 * slots is grown into a new one (live entries moved) when no other process
 * has it mapped; a file of version 1 likewise (when no other process has it
 * open at all: older versions do not say they map it). A file with more
 * slots is used as it is. 0; REPLAY_STORE_BAD_CONFIG with a one-line reason
 * in err (someone else could write it, its header is not ours or not
 * whole -- it is left as it is -- or it is too small while others map it);
 * -1 with a reason when the system fails (no memory, disk full).
 */
int replay_store_file(struct replay_store *s, const char *path, uint32_t slots, char *err, size_t errlen);

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

/*
 * File: is the mapped file still one no one else could write (an operator's
 * chmod after the start)? 0, or -1 with the reason in err, counted in
 * st.unsafe. The mapping is kept either way -- nothing else could be done
 * without dropping every token -- so the caller says it loudly.
 */
int replay_store_recheck(struct replay_store *s, char *err, size_t errlen);

/* The table a check uses (memory, file) or falls back to (redis); NULL if none. */
const struct replay *replay_store_table(const struct replay_store *s);

/* "memory", "file /path", "redis host:port" for the start-up log line. */
const char *replay_store_describe(const struct replay_store *s, char *buf, size_t cap);

void replay_store_close(struct replay_store *s);
