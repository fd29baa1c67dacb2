/*
 * replay_store.cpp -- the three places a jti can be kept; see replay_store.h.
 *
 * The file is a header and a struct replay with its arrays (replay.h: flat,
 * no pointers), so mapping it is all it takes to share it. A new file, and
 * a bigger one that replaces a file too small for the configuration, is
 * built whole under an unguessable temporary name (fileperm.h) -- lock,
 * seed, entries, the magic last, synced -- and only then given the name:
 * link() for a new one (two workers starting together: one wins, the
 * other opens it), rename() for a bigger one. So a file at PATH either is
 * whole or was damaged by something else, and then it is refused, never
 * re-created. Every process that maps the file holds a shared flock() on
 * it for as long; one that gets it exclusive knows nobody else maps it,
 * and only then grows the file or resets its lock. The table is guarded
 * by a robust, process-shared mutex: a worker that dies holding it leaves
 * it to the next locker, who marks it consistent (at worst one
 * half-written entry: a token that can be used once more, never one
 * refused wrongly).
 */
#include "replay_store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
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

#include "clock.h"
#include "fileperm.h"
#include "log.h"
#include "redis_client.h"

#define RS_MAGIC 0x3156524c50594543ull   /* "CEYPLRV1" (the version is its own field) */
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
	s->fd = -1;
	replay_init(local, seed);
	s->table = s->local = local;
}

/* ---- file ----------------------------------------------------------------- */

/* Format 1 (before the table was sized from the configuration): read only,
 * to move its entries into a new file. Same build, same layout. */
#define RS_V1_SLOTS 16384
struct replay_v1 {
	uint64_t        magic;
	uint32_t        version;
	uint32_t        slots;
	uint64_t        size;       /* sizeof(struct replay_v1) */
	pthread_mutex_t lock;
	struct {
		uint64_t seed;
		uint32_t live;
		uint64_t hash[RS_V1_SLOTS];
		uint32_t expires[RS_V1_SLOTS];
	} table;
};

#define RS_RETRY 1   /* what is at PATH changed under us: open it again */

static size_t file_bytes(uint32_t slots)
{
	return sizeof(struct replay_shared) + (size_t)slots * REPLAY_SLOT_BYTES;
}

static int init_lock(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int bad = pthread_mutexattr_init(&a) || pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) ||
		  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) || pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return bad ? -1 : 0;
}

/* fd and PATH name the same file (not one a process that grew it renamed in since) */
static int same_file(int fd, const char *path)
{
	struct stat a, b;
	return !fstat(fd, &a) && !lstat(path, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * 1 when no other open file or mapping of this inode exists anywhere: only
 * then does the kernel grant a write lease. It is released at once; SIGIO,
 * which an open elsewhere in that instant would send (and which kills by
 * default), is ignored meanwhile.
 */
static int alone_with(int fd)
{
	struct sigaction ign, old;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGIO, &ign, &old);
	int alone = fcntl(fd, F_SETLEASE, F_WRLCK) == 0;
	int e = errno;
	if (alone)
		fcntl(fd, F_SETLEASE, F_UNLCK);
	sigaction(SIGIO, &old, NULL);
	errno = e;
	return alone;   /* 0 with errno EAGAIN: open elsewhere; another errno: cannot tell */
}

/*
 * Build a whole file of `slots` next to path under a temporary name -- the
 * lock, the seed, the entries of `from` (or of a format-1 file) that are
 * live at now, the magic last, on disk -- then put it at path: link() when
 * there is none (another process that got there first wins: RS_RETRY),
 * rename() over the one being grown. 0, RS_RETRY, or -1 with err.
 */
static int build_file(const char *path, uint32_t slots, uint64_t seed, const struct replay *from,
		      const struct replay_v1 *v1, time_t now, int replace, long *moved, char *err, size_t errlen)
{
	char tmp[640];   /* a --replay-file path (512) and the temporary suffix */
	size_t len = file_bytes(slots);
	void *map = MAP_FAILED;
	int rc = -1;
	int fd = fileperm_create_temp(path, O_RDWR, tmp, sizeof tmp, err, errlen);

	*moved = 0;
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)len)) {   /* sparse: the table's pages cost nothing until used */
		fail(err, errlen, "cannot size %s: %s", tmp, strerror(errno));
		goto out;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fail(err, errlen, "cannot map %s: %s", tmp, strerror(errno));
		goto out;
	}
	{
		struct replay_shared *m = (struct replay_shared *)map;
		if (init_lock(&m->lock)) {
			fail(err, errlen, "cannot set up the shared lock");
			goto out;
		}
		m->version = REPLAY_FILE_VERSION;
		m->slots = slots;
		m->size = len;
		m->header = sizeof *m;
		replay_format(&m->table, slots, seed);
		if (from)
			*moved = replay_copy_live(&m->table, from, now);
		for (uint32_t k = 0; v1 && k < RS_V1_SLOTS && *moved >= 0; k++) {
			uint32_t e = v1->table.expires[k];
			if (e && (int32_t)(e - (uint32_t)now) >= 0)
				*moved = replay_insert_hash(&m->table, v1->table.hash[k], e, now) == REPLAY_FULL ? -1
														  : *moved + 1;
		}
		if (*moved < 0) {
			fail(err, errlen, "the live entries did not fit into %u slots", slots);
			goto out;
		}
		__atomic_store_n(&m->magic, RS_MAGIC, __ATOMIC_RELEASE);
	}
	/* on disk before it has the name: a crash then leaves the old file, or a whole new one */
	if (msync(map, len, MS_SYNC) || fsync(fd)) {
		fail(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (replace ? rename(tmp, path) : link(tmp, path)) {
		if (!replace && errno == EEXIST)
			rc = RS_RETRY;
		else
			fail(err, errlen, "cannot put %s in place: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (map != MAP_FAILED)
		munmap(map, len);
	if (rc || !replace)
		unlink(tmp);   /* after link() the file is at path; after a failure it is litter */
	close(fd);
	return rc;
}

static int refuse(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return REPLAY_STORE_BAD_CONFIG;
}

/* A format-1 file: move it into a new one, if no process has it open. */
static int migrate_v1(int fd, const char *path, uint32_t slots, off_t size, time_t now, char *err, size_t errlen)
{
	if (size != (off_t)sizeof(struct replay_v1))
		return refuse(err, errlen, "%s says it is a replay file of format 1, but its size (%lld bytes) is not "
					   "that format's; delete it if forgetting the tokens in it is meant",
			      path, (long long)size);
	if (!alone_with(fd)) {
		if (errno != EAGAIN && errno != EBUSY)
			return refuse(err, errlen, "%s was made by an older caller-echo (format 1); whether another "
						   "process has it open cannot be told here (a file lease: %s), so it is not "
						   "moved: stop every caller-echo using it and delete it", path, strerror(errno));
		return refuse(err, errlen, "%s was made by an older caller-echo (format 1) and is open in another "
					   "process: stop every caller-echo using it, then start again to move its "
					   "tokens into the new format (or delete it)", path);
	}
	void *map = mmap(NULL, sizeof(struct replay_v1), PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fail(err, errlen, "cannot map %s: %s", path, strerror(errno));
		return -1;
	}
	const struct replay_v1 *v1 = (const struct replay_v1 *)map;
	long moved;
	int rc = v1->slots != RS_V1_SLOTS || v1->size != sizeof *v1
			 ? refuse(err, errlen, "%s has a format-1 header that does not match its size", path)
			 : build_file(path, slots, v1->table.seed, NULL, v1, now, 1, &moved, err, errlen);
	munmap(map, sizeof(struct replay_v1));
	if (rc)
		return rc;
	log_info_ev("replay_file", "replay file %s: moved from format 1 (%u slots) to %d (%u slots), %ld live token(s) kept",
		    path, RS_V1_SLOTS, REPLAY_FILE_VERSION, slots, moved);
	return RS_RETRY;
}

/*
 * fd is PATH, checked by fileperm. Hold a flock: exclusive (no other
 * process maps it -- each that does holds it shared) or, failing that,
 * shared. Check the header; grow or migrate when exclusive; map it.
 */
static int open_existing(struct replay_store *s, int fd, const char *path, uint32_t slots, char *err,
			 size_t errlen)
{
	struct replay_shared h;
	struct stat st;
	int exclusive = !flock(fd, LOCK_EX | LOCK_NB);
	time_t now = clock_wall_s();

	if (!exclusive && (errno != EWOULDBLOCK || flock(fd, LOCK_SH))) {
		fail(err, errlen, "cannot lock %s: %s", path, strerror(errno));
		return -1;
	}
	if (!same_file(fd, path))
		return RS_RETRY;
	if (fstat(fd, &st)) {
		fail(err, errlen, "cannot look at %s: %s", path, strerror(errno));
		return -1;
	}
	memset(&h, 0, sizeof h);
	ssize_t got = pread(fd, &h, sizeof h, 0);
	if (got < (ssize_t)(sizeof h.magic + sizeof h.version))
		return refuse(err, errlen, "%s is not a replay file (%lld bytes, no caller-echo header); delete it if "
					   "it is not needed", path, (long long)st.st_size);
	if (h.magic == 0)
		return refuse(err, errlen, "%s is not a replay file: its header is zero (damaged, or never finished); "
					   "it is left as it is -- delete it if forgetting the tokens in it is meant",
			      path);
	if (h.magic != RS_MAGIC)
		return refuse(err, errlen, "%s is not a replay file (no caller-echo header); delete it if it is not "
					   "needed", path);
	if (h.version == 1) {
		if (!exclusive)
			return refuse(err, errlen, "%s is of format 1 and locked by another process", path);
		return migrate_v1(fd, path, slots, st.st_size, now, err, errlen);
	}
	if (h.version != REPLAY_FILE_VERSION)
		return refuse(err, errlen, "%s is a replay file of format %u; this caller-echo reads format %d", path,
			      h.version, REPLAY_FILE_VERSION);
	if (got != (ssize_t)sizeof h)
		return refuse(err, errlen, "%s is cut short (%lld bytes, less than its header); delete it if "
					   "forgetting the tokens in it is meant", path, (long long)st.st_size);
	if (h.header != sizeof h)
		return refuse(err, errlen, "%s was made by a build whose header is %llu bytes, not %zu (another "
					   "architecture?)", path, (unsigned long long)h.header, sizeof h);
	if (h.slots < REPLAY_SLOTS_MIN || h.slots > REPLAY_SLOTS_MAX || h.size != file_bytes(h.slots) ||
	    st.st_size != (off_t)h.size || h.table.slots != h.slots)
		return refuse(err, errlen, "%s: its size (%lld bytes) does not match its header (%u slots); delete it "
					   "if forgetting the tokens in it is meant", path, (long long)st.st_size, h.slots);
	void *map = mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fail(err, errlen, "cannot map %s: %s", path, strerror(errno));
		return -1;
	}
	struct replay_shared *m = (struct replay_shared *)map;
	if (m->slots < slots) {
		int rc;
		long moved = 0;
		if (!exclusive)
			rc = refuse(err, errlen, "%s holds %u slots and this configuration needs %u, but other processes "
						 "have it mapped, so it cannot be grown now: give every process the same "
						 "sizing options (--max-calls, --call-rate, --jwt-max-age, --jwt-leeway, "
						 "--verify-webhooks), or stop them all and start again", path, m->slots, slots);
		else
			rc = build_file(path, slots, m->table.seed, &m->table, NULL, now, 1, &moved, err, errlen);
		if (!rc)
			log_info_ev("replay_file", "replay file %s grown from %u to %u slots, %ld live token(s) kept", path,
				    m->slots, slots, moved);
		munmap(map, h.size);
		return rc ? rc : RS_RETRY;
	}
	if (exclusive) {
		/* no other process maps the file, so no one can hold its lock:
		 * whatever owner it names (a process that died, or one that never
		 * existed) is stale; start it afresh */
		if (init_lock(&m->lock)) {
			munmap(map, h.size);
			fail(err, errlen, "cannot set up the shared lock");
			return -1;
		}
		/* the conversion lets go for an instant: a process that grew the
		 * file meanwhile shows in same_file() below */
		if (flock(fd, LOCK_SH)) {
			munmap(map, h.size);
			fail(err, errlen, "cannot lock %s: %s", path, strerror(errno));
			return -1;
		}
		if (!same_file(fd, path)) {
			munmap(map, h.size);
			return RS_RETRY;
		}
	}
	s->kind = REPLAY_FILE;
	s->shared = m;
	s->table = &m->table;
	s->map_len = h.size;
	s->fd = fd;
	return 0;
}

int replay_store_file(struct replay_store *s, const char *path, uint32_t slots, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->full_log.event = "replay_table_full";
	for (int attempt = 0; attempt < 8; attempt++) {
		int fd = fileperm_open(path, O_RDWR, geteuid(), err, errlen);
		if (fd == FILEPERM_ABSENT) {
			uint64_t seed;
			long moved;
			if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
				fail(err, errlen, "no random seed: %s", strerror(errno));
				return -1;
			}
			int rc = build_file(path, slots, seed, NULL, NULL, clock_wall_s(), 0, &moved, err, errlen);
			if (rc < 0)
				return rc;
			continue;   /* ours, or another process's that got there first: open it */
		}
		if (fd < 0)
			return REPLAY_STORE_BAD_CONFIG;
		int rc = open_existing(s, fd, path, slots, err, errlen);
		if (rc == 0)
			return 0;
		close(fd);   /* and with it the flock */
		if (rc != RS_RETRY)
			return rc;
	}
	fail(err, errlen, "%s kept changing while it was opened", path);
	return -1;
}

int replay_store_recheck(struct replay_store *s, char *err, size_t errlen)
{
	struct stat st;
	char why[320];

	if (s->kind != REPLAY_FILE || s->fd < 0)
		return 0;
	if (fstat(s->fd, &st) || fileperm_check_stat(&st, geteuid(), 0, why, sizeof why)) {
		s->st.unsafe++;
		fail(err, errlen, "the replay file %s", why);
		return -1;
	}
	return 0;
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

	/* not the server's clock (clock.h): pthread_mutex_timedlock wants an
	 * absolute CLOCK_REALTIME deadline, however the clock is set in a test */
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
					     clock_mono_us() + (uint64_t)timeout_ms * 1000u);
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
	uint64_t t0 = clock_mono_us();
	uint32_t connects = s->redis->connects;
	int r = redis_client_command(s->redis, cmd, (size_t)n, REDIS_EXPECT_SET_NX, t0 + (uint64_t)s->timeout_ms * 1000u);
	uint32_t us = (uint32_t)(clock_mono_us() - t0);
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

static int check_any(struct replay_store *s, const char *jti, size_t len, time_t now, time_t expires)
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

int replay_store_check(struct replay_store *s, const char *jti, size_t len, time_t now, time_t expires)
{
	int r = check_any(s, jti, len, now, expires);
	if (r == REPLAY_FULL) {
		/* never at the design load (replay.h): a load far past it, or a
		 * configuration that understates it (--call-rate) */
		const struct replay *t = replay_store_table(s);
		s->st.full++;
		if (!s->full_log.event)
			s->full_log.event = "replay_table_full";
		log_limited(&s->full_log, now, "replay table full: a token's %d slots all hold live tokens (%u live of %u "
			    "slots): refused with 503; the table is sized for the configuration's load (--call-rate)",
			    REPLAY_PROBE, t ? t->live : 0, t ? t->slots : 0);
	}
	return r;
}

const struct replay *replay_store_table(const struct replay_store *s)
{
	return s->table ? s->table : s->local;
}

const char *replay_store_describe(const struct replay_store *s, char *buf, size_t cap)
{
	if (s->kind == REPLAY_REDIS)
		snprintf(buf, cap, "redis %s:%d%s%s%s", s->host, s->port, s->redis && s->redis->ctx ? ", TLS" : "",
			 s->redis && s->redis->auth_cmd ? ", AUTH" : "", s->fallback_local ? " (local when down)" : "");
	else if (s->kind == REPLAY_FILE)
		snprintf(buf, cap, "a shared file");   /* its path is in the configuration */
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
	if (s->kind == REPLAY_FILE && s->fd >= 0)
		close(s->fd);   /* and with it our shared flock */
	s->fd = -1;
}
