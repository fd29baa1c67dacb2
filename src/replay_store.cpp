/*
 * replay_store.cpp -- the three places a jti can be kept; see replay_store.h.
 *
 * The file is a header and a struct replay (replay.h: flat, no pointers),
 * so mapping it is all it takes to share it. Creation is serialised with
 * flock() so two workers starting together do not both initialise it; the
 * header's magic is written last. The table itself is guarded by a robust,
 * process-shared mutex: a worker that dies holding it leaves it to the next
 * locker, who marks it consistent (at worst one half-written entry: a
 * token that can be used once more, never one refused wrongly).
 */
#include "replay_store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "redis_client.h"

#define RS_MAGIC 0x3156524c50594543ull   /* "CEYPLRV1" */
#define RS_VERSION 1
#define REDIS_PREFIX "caller-echo:jti:"

static void fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void replay_store_memory(struct replay_store *s, struct replay *local, uint64_t seed)
{
	memset(s, 0, sizeof *s);
	s->kind = REPLAY_MEMORY;
	replay_init(local, seed);
	s->table = s->local = local;
}

/* ---- file ----------------------------------------------------------------- */

static int init_shared(struct replay_shared *m, char *err, size_t errlen)
{
	pthread_mutexattr_t a;
	uint64_t seed;

	if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
		fail(err, errlen, "no random seed: %s", strerror(errno));
		return -1;
	}
	if (pthread_mutexattr_init(&a) || pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) ||
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) || pthread_mutex_init(&m->lock, &a)) {
		fail(err, errlen, "cannot set up the shared lock");
		return -1;
	}
	pthread_mutexattr_destroy(&a);
	m->version = RS_VERSION;
	m->slots = REPLAY_SLOTS;
	m->size = sizeof *m;
	replay_init(&m->table, seed);
	__atomic_store_n(&m->magic, RS_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

int replay_store_file(struct replay_store *s, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600), rc = -1;
	void *map = MAP_FAILED;

	memset(s, 0, sizeof *s);
	if (fd < 0) {
		fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX) || fstat(fd, &st)) {
		fail(err, errlen, "cannot lock %s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size != 0 && st.st_size != (off_t)sizeof(struct replay_shared)) {
		fail(err, errlen, "%s is not a replay file of this version (%lld bytes, expected %zu)", path,
		     (long long)st.st_size, sizeof(struct replay_shared));
		goto out;
	}
	if (!st.st_size && ftruncate(fd, (off_t)sizeof(struct replay_shared))) {
		fail(err, errlen, "cannot size %s: %s", path, strerror(errno));
		goto out;
	}
	map = mmap(NULL, sizeof(struct replay_shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fail(err, errlen, "cannot map %s: %s", path, strerror(errno));
		goto out;
	}
	{
		struct replay_shared *m = (struct replay_shared *)map;
		uint64_t magic = __atomic_load_n(&m->magic, __ATOMIC_ACQUIRE);
		if (!magic) {
			/* new, or a creation that died half-way (the flock makes that
			 * the only other case): start it afresh */
			memset(m, 0, sizeof *m);
			if (init_shared(m, err, errlen))
				goto out;
		} else if (magic != RS_MAGIC) {
			fail(err, errlen, "%s is not a replay file", path);
			goto out;
		} else if (m->version != RS_VERSION || m->slots != REPLAY_SLOTS || m->size != sizeof *m) {
			fail(err, errlen, "%s was made by another version (%u, %u slots)", path, m->version, m->slots);
			goto out;
		}
		s->kind = REPLAY_FILE;
		s->shared = m;
		s->table = &m->table;
		s->map_len = sizeof *m;
		map = MAP_FAILED;   /* kept */
		rc = 0;
	}
out:
	if (map != MAP_FAILED)
		munmap(map, sizeof(struct replay_shared));
	/* explicitly: the mapping holds the open file, so closing fd alone
	 * would keep the lock for as long as we stay mapped */
	flock(fd, LOCK_UN);
	close(fd);
	return rc;
}

/*
 * The lock is held for one table lookup (microseconds). A holder that is
 * stopped rather than dead (SIGSTOP, a debugger) would otherwise freeze
 * every process's event loop: wait REPLAY_FILE_LOCK_MS at most, then
 * refuse this handshake (503) like a store that does not answer. (Under
 * qemu-user, which has no robust futexes, a dead holder looks the same.)
 */
#define REPLAY_FILE_LOCK_MS 50

static int check_file(struct replay_store *s, const char *jti, size_t len, time_t now, time_t expires)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += REPLAY_FILE_LOCK_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	int e = pthread_mutex_timedlock(&s->shared->lock, &until);
	if (e == EOWNERDEAD) {
		pthread_mutex_consistent(&s->shared->lock);
		log_warn("replay store: a process died holding the shared table's lock; taken over");
	} else if (e) {
		s->st.errors++;
		if (e == ETIMEDOUT && s->was_up != -1)
			log_warn("replay store: the shared table's lock was held for over %d ms by another process; "
				 "refusing handshakes (503) while it is", REPLAY_FILE_LOCK_MS);
		s->was_up = -1;   /* said once, until a lock succeeds */
		return REPLAY_UNAVAILABLE;
	}
	s->was_up = 0;
	s->st.checks++;
	int r = replay_check_insert(s->table, jti, len, now, expires);
	pthread_mutex_unlock(&s->shared->lock);
	return r;
}

/* ---- redis ---------------------------------------------------------------- */

/* Where the Redis traffic cannot leave this host. */
static int is_loopback(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
	if (a->sa_family != AF_INET6)
		return 0;
	const struct in6_addr *v6 = &((const struct sockaddr_in6 *)a)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(v6) || (IN6_IS_ADDR_V4MAPPED(v6) && v6->s6_addr[12] == 127);
}

static enum replay_redis_error why_index(int r)
{
	switch (r) {
	case REDIS_CLIENT_TIMEOUT: return REPLAY_REDIS_TIMEOUT;
	case REDIS_CLIENT_OVERSIZED: return REPLAY_REDIS_OVERSIZED;
	case REDIS_CLIENT_AUTH: return REPLAY_REDIS_AUTH;
	case REDIS_CLIENT_TLS: return REPLAY_REDIS_TLS;
	case REDIS_CLIENT_CONNECTION: return REPLAY_REDIS_CONNECTION;
	case REDIS_CLIENT_UNEXPECTED:
	default: return REPLAY_REDIS_UNEXPECTED;
	}
}

int replay_store_redis(struct replay_store *s, const char *hostport, int timeout_ms, int fallback_local,
		       const struct redis_client_opts *o, struct replay *local, uint64_t seed, char *err,
		       size_t errlen)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints, *ai = NULL;

	memset(s, 0, sizeof *s);
	s->kind = REPLAY_REDIS;
	s->timeout_ms = timeout_ms;
	s->fallback_local = fallback_local;
	replay_init(local, seed);
	s->local = local;
	if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof host) {
		fail(err, errlen, "'%s' is not HOST:PORT", hostport);
		return -1;
	}
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {   /* [v6]:port */
		memmove(host, host + 1, strlen(host) - 2);
		host[strlen(host) - 2] = '\0';
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535) {
		fail(err, errlen, "'%s' is not HOST:PORT", hostport);
		return -1;
	}
	s->port = (int)port;
	/* resolve once, now: a reconnect from inside the loop must not wait on DNS */
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	int g = getaddrinfo(host, NULL, &hints, &ai);
	if (g || !ai) {
		fail(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(g));
		return -1;
	}
	struct sockaddr_storage sa;
	socklen_t salen = ai->ai_addrlen <= sizeof sa ? ai->ai_addrlen : (socklen_t)sizeof sa;
	memcpy(&sa, ai->ai_addr, salen);
	freeaddrinfo(ai);
	if (sa.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
	const void *a = sa.ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&sa)->sin6_addr
						 : (const void *)&((struct sockaddr_in *)&sa)->sin_addr;
	inet_ntop(sa.ss_family, a, s->host, sizeof s->host);
	/* the store decides whether a token is spent: across a network it must
	 * be the real one (TLS, verified) and take only our writes (a password) */
	if (!is_loopback((const struct sockaddr *)&sa) && !(o->tls && o->password)) {
		fail(err, errlen, "Redis at %s (%s) is not on this host: it needs --replay-redis-tls and "
				  "--replay-redis-password-file", host, s->host);
		return REPLAY_STORE_BAD_CONFIG;
	}
	s->redis = (struct redis_client *)calloc(1, sizeof *s->redis);
	if (!s->redis) {
		fail(err, errlen, "out of memory");
		return -1;
	}
	char why[REDIS_CLIENT_WHY + 64];
	if (redis_client_init(s->redis, host, (const struct sockaddr *)&sa, salen, o, why, sizeof why)) {
		fail(err, errlen, "Redis at %s:%d: %s", s->host, s->port, why);
		free(s->redis);
		s->redis = NULL;
		return REPLAY_STORE_BAD_CONFIG;
	}
	/* AUTH (ahead of it, if any) and PING within the timeout the loop will
	 * have: a store that cannot answer that fast now will not later */
	char *ping = NULL;
	int n = redisFormatCommand(&ping, "PING");
	int r = n < 0 ? REDIS_CLIENT_CONNECTION
		      : redis_client_command(s->redis, ping, (size_t)n, REDIS_EXPECT_PONG,
					     redis_client_now_us() + (uint64_t)timeout_ms * 1000u);
	redisFreeCommand(ping);
	if (r != REDIS_CLIENT_OK) {
		char tmo[48];
		snprintf(tmo, sizeof tmo, "--replay-redis-timeout %d ms", timeout_ms);
		fail(err, errlen, "Redis at %s:%d: %s (%s)", s->host, s->port, s->redis->why,
		     r == REDIS_CLIENT_TIMEOUT ? tmo : redis_client_result_str(r));
		redis_client_free(s->redis);
		free(s->redis);
		s->redis = NULL;
		return r == REDIS_CLIENT_AUTH || r == REDIS_CLIENT_TLS ? REPLAY_STORE_BAD_CONFIG : -1;
	}
	s->was_up = 1;
	log_info_ev("replay_store", "replay store: Redis at %s:%d (%s)%s%s%s%s answers", s->host, s->port, host,
		    o->tls ? ", TLS verified" : "", o->password ? ", AUTH" : "",
		    o->password && o->user && o->user[0] ? " as " : "", o->password && o->user ? o->user : "");
	return 0;
}

/* The store cannot answer: this process's table, or a refusal. */
static int redis_unavailable(struct replay_store *s, enum replay_redis_error why, const char *jti, size_t len,
			     time_t now, time_t expires)
{
	s->st.errors++;
	s->st.redis_errors[why]++;
	if (!s->fallback_local)
		return REPLAY_UNAVAILABLE;
	s->st.fallbacks++;
	return replay_check_insert(s->local, jti, len, now, expires);
}

static void redis_down(struct replay_store *s, time_t now, int r)
{
	s->retry_at = now + 1;
	if (s->was_up)
		log_warn("replay store: Redis at %s:%d is not answering (%s: %s): %s until it does", s->host, s->port,
			 redis_client_result_str(r), s->redis->why,
			 s->fallback_local ? "tokens are checked in this process only" : "handshakes are refused (503)");
	s->was_up = 0;
}

static int check_redis(struct replay_store *s, const char *jti, size_t len, time_t now, time_t expires)
{
	if (!redis_client_connected(s->redis) && now < s->retry_at)
		return redis_unavailable(s, REPLAY_REDIS_BACKOFF, jti, len, now, expires);
	long long ttl = (long long)(expires - now);
	char *cmd = NULL;
	int n = redisFormatCommand(&cmd, "SET " REDIS_PREFIX "%b 1 NX EX %lld", jti, len, ttl > 0 ? ttl : 1);
	if (n < 0)
		return redis_unavailable(s, REPLAY_REDIS_CONNECTION, jti, len, now, expires);
	/* one deadline for all of it: a reconnect, TLS, AUTH and the SET */
	uint64_t t0 = redis_client_now_us();
	uint32_t connects = s->redis->connects;
	int r = redis_client_command(s->redis, cmd, (size_t)n, REDIS_EXPECT_SET_NX, t0 + (uint64_t)s->timeout_ms * 1000u);
	uint32_t us = (uint32_t)(redis_client_now_us() - t0);
	redisFreeCommand(cmd);
	if (s->redis->connects != connects)
		s->st.reconnects++;
	if (r != REDIS_CLIENT_OK && r != REDIS_CLIENT_NIL) {
		redis_down(s, now, r);
		return redis_unavailable(s, why_index(r), jti, len, now, expires);
	}
	if (!s->was_up)
		log_info("replay store: Redis at %s:%d answers again", s->host, s->port);
	s->was_up = 1;
	s->st.checks++;
	s->st.rtt_us_sum += us;
	if (us > s->st.rtt_us_max)
		s->st.rtt_us_max = us;
	return r == REDIS_CLIENT_NIL ? REPLAY_SEEN : REPLAY_NEW;   /* NX: nil = the key was there */
}

/* ---- all ------------------------------------------------------------------ */

int replay_store_check(struct replay_store *s, const char *jti, size_t len, time_t now, time_t expires)
{
	switch (s->kind) {
	case REPLAY_FILE:
		return check_file(s, jti, len, now, expires);
	case REPLAY_REDIS:
		return check_redis(s, jti, len, now, expires);
	case REPLAY_MEMORY:
	default:
		s->st.checks++;
		return replay_check_insert(s->table, jti, len, now, expires);
	}
}

const char *replay_store_describe(const struct replay_store *s, char *buf, size_t cap)
{
	if (s->kind == REPLAY_REDIS)
		snprintf(buf, cap, "redis %s:%d%s%s%s", s->host, s->port, s->redis && s->redis->ctx ? ", TLS" : "",
			 s->redis && s->redis->auth_cmd ? ", AUTH" : "", s->fallback_local ? " (local when down)" : "");
	else if (s->kind == REPLAY_FILE)
		snprintf(buf, cap, "a shared file");
	else
		snprintf(buf, cap, "this process");
	return buf;
}

void replay_store_close(struct replay_store *s)
{
	if (s->redis) {
		redis_client_free(s->redis);
		free(s->redis);
	}
	s->redis = NULL;
	if (s->shared)
		munmap(s->shared, s->map_len);
	s->shared = NULL;
}
