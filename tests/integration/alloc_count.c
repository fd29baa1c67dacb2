/*
 * alloc_count.c -- LD_PRELOAD shim that counts heap allocations.
 *
 * Counts every call to malloc, calloc, realloc, posix_memalign,
 * aligned_alloc, memalign, valloc and pvalloc in the process (glibc routes
 * its own internal allocations, e.g. strdup/fopen, through the interposed
 * malloc too) and, from a destructor at exit, writes the decimal count to
 * the file named by $ALLOC_COUNT_FILE. SIGUSR2 appends the count so far,
 * then the part of it made by the event library itself (libev, libuv), as a
 * line to $ALLOC_COUNT_FILE.snap, so a test can take the count before and
 * after a stretch of audio inside one run (the server does not use SIGUSR2).
 * Used by test_alloc.py to show the audio path allocates nothing per frame.
 *
 * dlsym() itself may call calloc/malloc before the real functions are
 * known; those early calls are served from a small static arena whose
 * blocks are never handed to the real free().
 *
 *   cc -shared -fPIC -O2 -o alloc_count.so alloc_count.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);

static unsigned long long count;
static int resolving;

/* --- bootstrap arena for allocations made while dlsym runs ------------- */
#define ARENA_BYTES (64 * 1024)
static _Alignas(16) unsigned char arena[ARENA_BYTES];
static size_t arena_used;

struct arena_hdr { size_t size; size_t pad; };   /* 16 bytes keeps alignment */

static int in_arena(const void *p)
{
	return (const unsigned char *)p >= arena && (const unsigned char *)p < arena + ARENA_BYTES;
}

static void *arena_alloc(size_t n)
{
	size_t need = sizeof(struct arena_hdr) + ((n + 15) & ~(size_t)15);
	size_t at = __atomic_fetch_add(&arena_used, need, __ATOMIC_RELAXED);
	if (at + need > ARENA_BYTES) {
		static const char msg[] = "alloc_count: bootstrap arena exhausted\n";
		ssize_t w = write(2, msg, sizeof msg - 1);
		(void)w;
		_exit(99);
	}
	struct arena_hdr *h = (struct arena_hdr *)(arena + at);
	h->size = n;
	return h + 1;   /* arena is zero-initialised and never reused: calloc-safe */
}

static size_t arena_size(const void *p)
{
	return ((const struct arena_hdr *)p - 1)->size;
}

static void resolve(void)
{
	if (real_malloc || resolving)
		return;
	resolving = 1;
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
	real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
	real_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
	real_valloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "valloc");
	real_pvalloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "pvalloc");
	resolving = 0;
}

static unsigned long long evlib_count;

/*
 * libev keeps its own arrays (pending watchers, fd changes) and grows them
 * geometrically the first time one loop iteration needs more room, which
 * can happen minutes into a call, whenever a timer, a signal and socket
 * events first coincide. That is bounded one-off growth, not a per-frame
 * cost, so it is counted apart: an allocation whose immediate caller is
 * code inside libev.so or libuv.so.
 */
static int from_evlib(const void *caller)
{
	Dl_info di;

	if (resolving || !real_malloc || !dladdr(caller, &di) || !di.dli_fname)
		return 0;
	return strstr(di.dli_fname, "/libev.so") || strstr(di.dli_fname, "/libuv.so");
}

static inline void counted_from(const void *caller)
{
	__atomic_fetch_add(&count, 1, __ATOMIC_RELAXED);
	if (from_evlib(caller))
		__atomic_fetch_add(&evlib_count, 1, __ATOMIC_RELAXED);
}

#define counted() counted_from(__builtin_return_address(0))

/* --- the interposed functions -------------------------------------------- */
void *malloc(size_t n)
{
	counted();
	resolve();
	if (!real_malloc)
		return arena_alloc(n);
	return real_malloc(n);
}

void *calloc(size_t nmemb, size_t size)
{
	counted();
	resolve();
	if (!real_calloc) {
		if (size && nmemb > SIZE_MAX / size)
			return NULL;
		return arena_alloc(nmemb * size);
	}
	return real_calloc(nmemb, size);
}

void *realloc(void *p, size_t n)
{
	counted();
	resolve();
	if (in_arena(p) || !real_realloc) {
		void *q = real_malloc ? real_malloc(n) : arena_alloc(n);
		if (q && p) {
			size_t old = in_arena(p) ? arena_size(p) : n;
			memcpy(q, p, old < n ? old : n);
		}
		return q;
	}
	return real_realloc(p, n);
}

void free(void *p)
{
	if (!p || in_arena(p))
		return;
	resolve();
	if (real_free)
		real_free(p);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	counted();
	resolve();
	if (!real_posix_memalign)
		return ENOMEM;
	return real_posix_memalign(out, align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	counted();
	resolve();
	return real_aligned_alloc ? real_aligned_alloc(align, n) : NULL;
}

void *memalign(size_t align, size_t n)
{
	counted();
	resolve();
	return real_memalign ? real_memalign(align, n) : NULL;
}

void *valloc(size_t n)
{
	counted();
	resolve();
	return real_valloc ? real_valloc(n) : NULL;
}

void *pvalloc(size_t n)
{
	counted();
	resolve();
	return real_pvalloc ? real_pvalloc(n) : NULL;
}

/* --- the count so far, on SIGUSR2 ------------------------------------------- */
static char snap_path[4096];

static void snapshot(int sig)
{
	char buf[48];
	unsigned long long v = __atomic_load_n(&evlib_count, __ATOMIC_RELAXED);
	int i = (int)sizeof buf;
	int saved = errno;

	(void)sig;
	buf[--i] = '\n';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	buf[--i] = ' ';
	v = __atomic_load_n(&count, __ATOMIC_RELAXED);
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	int fd = open(snap_path, O_WRONLY | O_CREAT | O_APPEND, 0644);   /* async-signal-safe */
	if (fd >= 0) {
		ssize_t w = write(fd, buf + i, sizeof buf - (size_t)i);
		(void)w;
		close(fd);
	}
	errno = saved;
}

__attribute__((constructor)) static void arm_snapshot(void)
{
	const char *path = getenv("ALLOC_COUNT_FILE");
	struct sigaction sa;

	if (!path || !*path || strlen(path) + 6 >= sizeof snap_path)
		return;
	memcpy(snap_path, path, strlen(path));
	memcpy(snap_path + strlen(path), ".snap", 6);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = snapshot;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
}

/* --- report at exit ------------------------------------------------------- */
__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("ALLOC_COUNT_FILE");
	char buf[32];
	int n, fd;

	if (!path || !*path)
		return;
	n = snprintf(buf, sizeof buf, "%llu\n", __atomic_load_n(&count, __ATOMIC_RELAXED));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	if (n > 0) {
		ssize_t w = write(fd, buf, (size_t)n);
		(void)w;
	}
	close(fd);
}
