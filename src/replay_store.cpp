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

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct timeval tv_ms(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	return tv;
}

/* Connect and PING, within the timeout each. NULL with err on failure. */
static redisContext *redis_connect(const struct replay_store *s, char *err, size_t errlen)
{
	redisContext *c = redisConnectWithTimeout(s->host, s->port, tv_ms(s->timeout_ms));

	if (!c || c->err) {
		fail(err, errlen, "%s", c ? c->errstr : "out of memory");
		redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, tv_ms(s->timeout_ms)) != REDIS_OK) {
		fail(err, errlen, "cannot set its timeout");
		redisFree(c);
		return NULL;
	}
	redisEnableKeepAlive(c);
	redisReply *r = (redisReply *)redisCommand(c, "PING");
	int ok = r && (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING);
	if (!ok)
		fail(err, errlen, "%s", r && r->type == REDIS_REPLY_ERROR ? r->str : c->err ? c->errstr : "no PING reply");
	freeReplyObject(r);
	if (!ok) {
		redisFree(c);
		return NULL;
	}
	return c;
}

int replay_store_redis(struct replay_store *s, const char *hostport, int timeout_ms, int fallback_local,
		       struct replay *local, uint64_t seed, char *err, size_t errlen)
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
	const void *a = ai->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
						  : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
	inet_ntop(ai->ai_family, a, s->host, sizeof s->host);
	freeaddrinfo(ai);
	char why[256];
	s->redis = redis_connect(s, why, sizeof why);
	if (!s->redis) {
		fail(err, errlen, "Redis at %s:%d: %s", s->host, s->port, why);
		return -1;
	}
	s->was_up = 1;
	return 0;
}

/* The store cannot answer: this process's table, or a refusal. */
static int redis_unavailable(struct replay_store *s, const char *jti, size_t len, time_t now, time_t expires)
{
	s->st.errors++;
	if (!s->fallback_local)
		return REPLAY_UNAVAILABLE;
	s->st.fallbacks++;
	return replay_check_insert(s->local, jti, len, now, expires);
}

static void redis_down(struct replay_store *s, time_t now, const char *why)
{
	if (s->redis)
		redisFree(s->redis);
	s->redis = NULL;
	s->retry_at = now + 1;
	if (s->was_up)
		log_warn("replay store: Redis at %s:%d is not answering (%s): %s until it does", s->host, s->port, why,
			 s->fallback_local ? "tokens are checked in this process only" : "handshakes are refused (503)");
	s->was_up = 0;
}

static int check_redis(struct replay_store *s, const char *jti, size_t len, time_t now, time_t expires)
{
	char why[256];

	if (!s->redis) {
		if (now < s->retry_at)
			return redis_unavailable(s, jti, len, now, expires);
		s->redis = redis_connect(s, why, sizeof why);
		if (!s->redis) {
			s->retry_at = now + 1;
			return redis_unavailable(s, jti, len, now, expires);
		}
		s->st.reconnects++;
		log_info("replay store: Redis at %s:%d answers again", s->host, s->port);
		s->was_up = 1;
	}
	long long ttl = (long long)(expires - now);
	uint64_t t0 = mono_us();
	redisReply *r = (redisReply *)redisCommand(s->redis, "SET " REDIS_PREFIX "%b 1 NX EX %lld", jti, len,
						   ttl > 0 ? ttl : 1);
	uint32_t us = (uint32_t)(mono_us() - t0);
	if (!r || r->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof why, "%s", r ? r->str : s->redis->err ? s->redis->errstr : "no reply");
		freeReplyObject(r);
		redis_down(s, now, why);
		return redis_unavailable(s, jti, len, now, expires);
	}
	int res = r->type == REDIS_REPLY_NIL ? REPLAY_SEEN : REPLAY_NEW;   /* NX: nil = the key was there */
	freeReplyObject(r);
	s->st.checks++;
	s->st.rtt_us_sum += us;
	if (us > s->st.rtt_us_max)
		s->st.rtt_us_max = us;
	return res;
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
		snprintf(buf, cap, "redis %s:%d%s", s->host, s->port, s->fallback_local ? " (local when down)" : "");
	else if (s->kind == REPLAY_FILE)
		snprintf(buf, cap, "a shared file");
	else
		snprintf(buf, cap, "this process");
	return buf;
}

void replay_store_close(struct replay_store *s)
{
	if (s->redis)
		redisFree(s->redis);
	s->redis = NULL;
	if (s->shared)
		munmap(s->shared, s->map_len);
	s->shared = NULL;
}
