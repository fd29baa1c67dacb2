/*
 * test_replay_store.cpp -- unit tests for src/replay_store.cpp: the memory
 * store; the shared file seen by two mappings at once (as two workers map
 * it), kept across a close and reopen (a restart), created once by
 * concurrent openers, built whole before it has its name, refused -- and
 * left as it is -- when it is not a replay file, has a zero header, is
 * empty, is the wrong size, could be written by someone else or sits
 * behind a link; grown (live tokens kept) when no one else maps it and
 * refused when someone does; a bigger one used as it is; a lock whose
 * owner never existed reset when no one else maps the file; a format-1
 * file moved into the new format, or refused while another process has it
 * open; still usable after a process died holding its lock (a real child
 * process). Redis is tested against a real redis-server in
 * tests/integration/test_replay.py and test_attack_redis.py (and the
 * client itself in test_redis_client.cpp); here its argument checks and
 * the rule that a Redis off this host needs TLS and a password.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "redis_client.h"
#include "replay_store.h"

/* the real clock: a file that is grown or moved keeps what is live now */
static time_t g_now;
#define NOW g_now
#define EXP (NOW + 330)

#define SLOTS REPLAY_SLOTS_MIN

struct fixture {
	char dir[64], path[128];
	struct replay local;   /* a header only: the Redis argument checks never reach its slots */
};

static int setup(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/replay-store-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/replay", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* names in the fixture's directory other than the replay file */
static int litter(struct fixture *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "replay");
	if (d)
		closedir(d);
	return n;
}

static void write_bytes(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? -1 : (long)st.st_size;
}

static void test_memory_store(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;
	struct replay *local = replay_create(SLOTS);
	(void)f;

	assert_non_null(local);
	replay_store_memory(&s, local, 42);
	assert_int_equal(replay_store_check(&s, "a", 1, NOW, EXP), REPLAY_NEW);
	assert_int_equal(replay_store_check(&s, "a", 1, NOW, EXP), REPLAY_SEEN);
	assert_int_equal(replay_store_check(&s, "b", 1, NOW, EXP), REPLAY_NEW);
	assert_int_equal(s.st.checks, 3);
	char d[64];
	assert_string_equal(replay_store_describe(&s, d, sizeof d), "this process");
	assert_ptr_equal(replay_store_table(&s), local);
	replay_store_close(&s);
	replay_destroy(local);
}

static void test_file_shared_between_two_mappings(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store a, b;
	char err[256];

	assert_int_equal(replay_store_file(&a, f->path, SLOTS, err, sizeof err), 0);
	assert_int_equal(replay_store_file(&b, f->path, SLOTS, err, sizeof err), 0);
	assert_ptr_not_equal(a.table, b.table);   /* two mappings, as in two processes */
	assert_int_equal(replay_store_check(&a, "jti-1", 5, NOW, EXP), REPLAY_NEW);
	assert_int_equal(replay_store_check(&b, "jti-1", 5, NOW, EXP), REPLAY_SEEN);   /* the other worker */
	assert_int_equal(replay_store_check(&b, "jti-2", 5, NOW, EXP), REPLAY_NEW);
	assert_int_equal(replay_store_check(&a, "jti-2", 5, NOW, EXP), REPLAY_SEEN);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	/* built whole under a temporary name, which is gone */
	assert_int_equal(a.shared->version, REPLAY_FILE_VERSION);
	assert_int_equal(a.shared->slots, SLOTS);
	assert_int_equal(a.shared->size, (uint64_t)st.st_size);
	assert_int_equal(a.shared->header, sizeof(struct replay_shared));
	assert_int_equal(litter(f), 0);
	replay_store_close(&a);
	replay_store_close(&b);
}

static void test_file_kept_across_a_restart(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;
	char err[256];

	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), 0);
	assert_int_equal(replay_store_check(&s, "before", 6, NOW, EXP), REPLAY_NEW);
	replay_store_close(&s);
	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), 0);
	assert_int_equal(replay_store_check(&s, "before", 6, NOW + 10, EXP), REPLAY_SEEN);
	/* and forgotten once the token could not pass the age check anyway */
	assert_int_equal(replay_store_check(&s, "before", 6, EXP + 1, EXP + 400), REPLAY_NEW);
	replay_store_close(&s);
}

static void test_file_created_once_by_concurrent_openers(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char err[256];
	pid_t kids[4];

	/* four processes open the new file at once; each inserts its own jti */
	for (int i = 0; i < 4; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (!kids[i]) {
			struct replay_store s;
			char jti[16];
			snprintf(jti, sizeof jti, "kid-%d", i);
			if (replay_store_file(&s, f->path, SLOTS, err, sizeof err))
				_exit(2);
			_exit(replay_store_check(&s, jti, strlen(jti), NOW, EXP) == REPLAY_NEW ? 0 : 3);
		}
	}
	for (int i = 0; i < 4; i++) {
		int status;
		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	/* nobody re-initialised the table under another: all four are there */
	struct replay_store s;
	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), 0);
	for (int i = 0; i < 4; i++) {
		char jti[16];
		snprintf(jti, sizeof jti, "kid-%d", i);
		assert_int_equal(replay_store_check(&s, jti, strlen(jti), NOW, EXP), REPLAY_SEEN);
	}
	replay_store_close(&s);
}

static void test_file_lock_left_by_a_dead_process(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;
	char err[256];
	int pipefd[2];

	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), 0);
	assert_int_equal(pipe(pipefd), 0);
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (!kid) {
		/* take the file's lock and die holding it */
		struct replay_store k;
		if (replay_store_file(&k, f->path, SLOTS, err, sizeof err))
			_exit(2);
		replay_store_check(&k, "x", 1, NOW, EXP);
		pthread_mutex_lock(&k.shared->lock);
		if (write(pipefd[1], "L", 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	char c;
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	/* stopped, not dead: the check gives up after a bounded wait (503) */
	kill(kid, SIGSTOP);
	assert_int_equal(replay_store_check(&s, "z", 1, NOW, EXP), REPLAY_UNAVAILABLE);
	assert_int_equal(s.st.errors, 1);
	kill(kid, SIGKILL);
	int status;
	waitpid(kid, &status, 0);
	/* dead: the next check takes the lock over and works -- where the kernel
	 * keeps robust futex lists; qemu-user does not, and there the lock stays
	 * taken and the check keeps refusing rather than hang */
	long head_len;
	void *head;
	if (syscall(SYS_get_robust_list, 0, &head, &head_len) != 0) {
		assert_int_equal(replay_store_check(&s, "x", 1, NOW, EXP), REPLAY_UNAVAILABLE);
		goto done;
	}
	assert_int_equal(replay_store_check(&s, "x", 1, NOW, EXP), REPLAY_SEEN);
	assert_int_equal(replay_store_check(&s, "y", 1, NOW, EXP), REPLAY_NEW);
done:
	replay_store_close(&s);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void test_file_that_is_not_a_replay_file(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;
	char err[512];

	write_bytes(f->path, "not a table\n", 12, 0600);
	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
	assert_non_null(strstr(err, "is not a replay file"));
	assert_int_equal(file_size(f->path), 12);   /* left as it is */
	/* empty: refused too (a file at PATH is always whole when we made it) */
	write_bytes(f->path, "", 0, 0600);
	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
	assert_non_null(strstr(err, "is not a replay file (0 bytes"));
	assert_int_equal(file_size(f->path), 0);
	/* a directory that is not there is the configuration's mistake too */
	assert_int_equal(replay_store_file(&s, "/nonexistent-dir/replay", SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
	assert_non_null(strstr(err, "cannot look at /nonexistent-dir"));
}

static void test_file_of_the_right_size_but_foreign(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;
	char err[512];

	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), 0);
	size_t len = s.map_len;
	replay_store_close(&s);
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	for (size_t i = 0; i < len; i++)
		fputc(0x5a, fp);
	fclose(fp);
	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
	assert_non_null(strstr(err, "is not a replay file"));
}

static void test_file_with_a_zero_header_is_refused_and_kept(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;
	char err[512];

	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), 0);
	assert_int_equal(replay_store_check(&s, "spent", 5, NOW, EXP), REPLAY_NEW);
	replay_store_close(&s);
	/* the magic zeroed (a damaged disk, or someone who could write it) */
	int fd = open(f->path, O_WRONLY);
	uint64_t zero = 0;
	assert_int_equal(pwrite(fd, &zero, sizeof zero, 0), (ssize_t)sizeof zero);
	close(fd);
	long before = file_size(f->path);
	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
	assert_non_null(strstr(err, "its header is zero"));
	assert_non_null(strstr(err, "left as it is"));
	/* not re-created: still the same bytes, the spent token's entry with them */
	assert_int_equal(file_size(f->path), before);
	fd = open(f->path, O_RDONLY);
	uint64_t magic = 1;
	assert_int_equal(pread(fd, &magic, sizeof magic, 0), (ssize_t)sizeof magic);
	assert_int_equal(magic, 0);
	close(fd);
	/* another format, and a header that does not match the size */
	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
}

static void test_file_others_could_write_is_refused(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;
	char err[512], link[160];

	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), 0);
	/* opened up while mapped: the once-a-second recheck says so */
	assert_int_equal(replay_store_recheck(&s, err, sizeof err), 0);
	assert_int_equal(chmod(f->path, 0606), 0);
	assert_int_equal(replay_store_recheck(&s, err, sizeof err), -1);
	assert_non_null(strstr(err, "the replay file is owned by "));
	assert_int_equal(s.st.unsafe, 1);
	assert_int_equal(chmod(f->path, 0600), 0);
	assert_int_equal(replay_store_recheck(&s, err, sizeof err), 0);
	replay_store_close(&s);
	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
	assert_non_null(strstr(err, "with mode 0666; needed:"));
	assert_int_equal(chmod(f->path, 0600), 0);
	/* a link at PATH is never followed */
	snprintf(link, sizeof link, "%s/link", f->dir);
	assert_int_equal(symlink(f->path, link), 0);
	assert_int_equal(replay_store_file(&s, link, SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
	assert_non_null(strstr(err, "is a symbolic link"));
	/* a directory anyone can write */
	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
	assert_non_null(strstr(err, "directory "));
	assert_int_equal(chmod(f->dir, 0700), 0);
	if (geteuid() != 0) {
		printf("  (skipped: another user's file needs root)\n");
		return;
	}
	assert_int_equal(chown(f->path, 65534, 65534), 0);
	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
	assert_non_null(strstr(err, "is owned by uid 65534 (nobody)"));
}

static void test_file_grown_when_alone_refused_when_shared(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store a, b;
	char err[512];

	assert_int_equal(replay_store_file(&a, f->path, SLOTS, err, sizeof err), 0);
	assert_int_equal(replay_store_check(&a, "kept", 4, NOW, EXP), REPLAY_NEW);
	assert_int_equal(replay_store_check(&a, "old", 3, NOW - 400, NOW - 10), REPLAY_NEW);   /* expired */
	/* a second process wants a bigger table while a maps it: refused */
	assert_int_equal(replay_store_file(&b, f->path, 4 * SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
	assert_non_null(strstr(err, "holds 16384 slots and this configuration needs 65536"));
	assert_non_null(strstr(err, "other processes have it mapped"));
	assert_int_equal(replay_store_check(&a, "kept", 4, NOW, EXP), REPLAY_SEEN);   /* a goes on */
	/* ... one that needs no more than the file has shares it */
	assert_int_equal(replay_store_file(&b, f->path, SLOTS / 2, err, sizeof err), 0);
	assert_int_equal(b.table->slots, SLOTS);
	replay_store_close(&b);
	replay_store_close(&a);
	/* alone: grown, the live token kept, the expired one not */
	assert_int_equal(replay_store_file(&a, f->path, 4 * SLOTS, err, sizeof err), 0);
	assert_int_equal(a.table->slots, 4 * SLOTS);
	assert_int_equal(a.table->live, 1);
	assert_int_equal(file_size(f->path), (long)(sizeof(struct replay_shared) + 4 * SLOTS * REPLAY_SLOT_BYTES));
	assert_int_equal(replay_store_check(&a, "kept", 4, NOW + 1, EXP), REPLAY_SEEN);
	assert_int_equal(litter(f), 0);
	replay_store_close(&a);
	/* and a bigger file is used as it is by a smaller configuration */
	assert_int_equal(replay_store_file(&a, f->path, SLOTS, err, sizeof err), 0);
	assert_int_equal(a.table->slots, 4 * SLOTS);
	assert_int_equal(replay_store_check(&a, "kept", 4, NOW + 2, EXP), REPLAY_SEEN);
	replay_store_close(&a);
}

/* a lock that names an owner thread that never existed */
static void plant_owner(pthread_mutex_t *m)
{
	int bogus = 0x3ffffff0;
	memcpy(m, &bogus, sizeof bogus);   /* glibc: a robust mutex's first word is its owner's TID */
}

static void test_file_lock_with_a_made_up_owner(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store a, b;
	char err[512];

	assert_int_equal(replay_store_file(&a, f->path, SLOTS, err, sizeof err), 0);
	assert_int_equal(replay_store_file(&b, f->path, SLOTS, err, sizeof err), 0);
	plant_owner(&a.shared->lock);
	/* while processes map it, the lock cannot be reset: every check waits
	 * its bound and refuses -- why nobody else may write the file */
	assert_int_equal(replay_store_check(&b, "x", 1, NOW, EXP), REPLAY_UNAVAILABLE);
	replay_store_close(&a);
	replay_store_close(&b);
	/* opened with no one else mapping it: the lock is started afresh */
	assert_int_equal(replay_store_file(&a, f->path, SLOTS, err, sizeof err), 0);
	assert_int_equal(replay_store_check(&a, "x", 1, NOW, EXP), REPLAY_NEW);
	assert_int_equal(a.st.errors, 0);
	replay_store_close(&a);
}

/* the format-1 layout (replay_store.cpp's struct replay_v1) */
struct v1_file {
	uint64_t        magic;
	uint32_t        version;
	uint32_t        slots;
	uint64_t        size;
	pthread_mutex_t lock;
	struct {
		uint64_t seed;
		uint32_t live;
		uint64_t hash[16384];
		uint32_t expires[16384];
	} table;
};

/* a format-1 file holding `jti` (live until EXP) and `gone` (expired), seed 77 */
static void write_v1(const char *path, const char *jti, const char *gone)
{
	struct replay *t = replay_create(16384);
	struct v1_file *v = (struct v1_file *)calloc(1, sizeof *v);
	assert_non_null(t);
	assert_non_null(v);
	replay_init(t, 77);
	assert_int_equal(replay_check_insert(t, jti, strlen(jti), NOW, EXP), REPLAY_NEW);
	assert_int_equal(replay_check_insert(t, gone, strlen(gone), NOW - 400, NOW - 5), REPLAY_NEW);
	/* the same hashes: the arrays follow the header in both layouts */
	memcpy(v->table.hash, (const char *)(t + 1), sizeof v->table.hash);
	memcpy(v->table.expires, (const char *)(t + 1) + sizeof v->table.hash, sizeof v->table.expires);
	v->magic = 0x3156524c50594543ull;
	v->version = 1;
	v->slots = 16384;
	v->size = sizeof *v;
	v->table.seed = 77;
	v->table.live = 2;
	write_bytes(path, v, sizeof *v, 0600);
	free(v);
	replay_destroy(t);
}

static void test_file_of_format_1_is_moved(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;
	char err[512];
	int pipefd[2];

	write_v1(f->path, "spent-before-upgrade", "long-gone");
	/* an older caller-echo still has it open (mapped, in truth): refused */
	assert_int_equal(pipe(pipefd), 0);
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (!kid) {
		int fd = open(f->path, O_RDWR);
		if (fd < 0 || write(pipefd[1], "o", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	char c;
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
	assert_non_null(strstr(err, "made by an older caller-echo (format 1) and is open in another process"));
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	close(pipefd[0]);
	close(pipefd[1]);
	assert_int_equal(file_size(f->path), (long)sizeof(struct v1_file));   /* untouched */
	/* alone: moved, the live token kept, with the old seed */
	assert_int_equal(replay_store_file(&s, f->path, SLOTS * 2, err, sizeof err), 0);
	assert_int_equal(s.shared->version, REPLAY_FILE_VERSION);
	assert_int_equal(s.table->slots, SLOTS * 2);
	assert_int_equal(s.table->live, 1);
	assert_int_equal(replay_store_check(&s, "spent-before-upgrade", 20, NOW + 1, EXP), REPLAY_SEEN);
	assert_int_equal(replay_store_check(&s, "long-gone", 9, NOW + 1, EXP), REPLAY_NEW);
	assert_int_equal(litter(f), 0);
	replay_store_close(&s);
}

static void test_file_of_another_format_is_refused(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;
	char err[512];

	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), 0);
	replay_store_close(&s);
	int fd = open(f->path, O_WRONLY);
	uint32_t v = 9;
	assert_int_equal(pwrite(fd, &v, sizeof v, 8), (ssize_t)sizeof v);
	close(fd);
	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
	assert_non_null(strstr(err, "is a replay file of format 9; this caller-echo reads format 2"));
	/* the right format, cut short */
	v = REPLAY_FILE_VERSION;
	fd = open(f->path, O_WRONLY);
	assert_int_equal(pwrite(fd, &v, sizeof v, 8), (ssize_t)sizeof v);
	assert_int_equal(ftruncate(fd, 4096), 0);
	close(fd);
	assert_int_equal(replay_store_file(&s, f->path, SLOTS, err, sizeof err), REPLAY_STORE_BAD_CONFIG);
	assert_non_null(strstr(err, "does not match its header"));
	assert_int_equal(file_size(f->path), 4096);
}

static void test_redis_arguments(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;
	struct redis_client_opts plain = { 0, NULL, NULL, NULL, 0 };
	char err[256];

	assert_int_equal(replay_store_redis(&s, "localhost", 50, 0, &plain, &f->local, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "is not HOST:PORT"));
	assert_int_equal(replay_store_redis(&s, "127.0.0.1:0", 50, 0, &plain, &f->local, 1, err, sizeof err), -1);
	assert_int_equal(replay_store_redis(&s, ":6379", 50, 0, &plain, &f->local, 1, err, sizeof err), -1);
	assert_int_equal(replay_store_redis(&s, "127.0.0.1:x", 50, 0, &plain, &f->local, 1, err, sizeof err), -1);
	/* nothing listens on port 1: a clear refusal, within the timeout */
	assert_int_equal(replay_store_redis(&s, "127.0.0.1:1", 50, 0, &plain, &f->local, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "Redis at 127.0.0.1:1"));
	assert_int_equal(replay_store_redis(&s, "[::1]:1", 50, 0, &plain, &f->local, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "Redis at ::1:1"));
	replay_store_close(&s);
}

/* A store across a network must be the real one and take only our writes:
 * without TLS and a password it is refused before anything is sent. */
static void test_redis_off_host_needs_tls_and_a_password(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;
	struct redis_client_opts plain = { 0, NULL, NULL, NULL, 0 };
	struct redis_client_opts tls_only = { 1, NULL, NULL, NULL, 0 };
	struct redis_client_opts pw_only = { 0, NULL, NULL, "pw", 2 };
	struct redis_client_opts both = { 1, NULL, NULL, "pw", 2 };
	char err[256];

	/* 192.0.2.1 (TEST-NET-1) is never reached: the refusal comes first */
	const struct redis_client_opts *bad[] = { &plain, &tls_only, &pw_only };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(replay_store_redis(&s, "192.0.2.1:6379", 50, 0, bad[i], &f->local, 1, err, sizeof err),
				 REPLAY_STORE_BAD_CONFIG);
		assert_non_null(strstr(err, "is not on this host"));
		assert_null(strstr(err, "pw"));
	}
	/* loopback in every spelling is on this host: tried (nothing listens) */
	const char *local[] = { "127.0.0.1:1", "127.8.9.10:1", "[::1]:1", "[::ffff:127.0.0.1]:1" };
	for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
		assert_int_equal(replay_store_redis(&s, local[i], 50, 0, &plain, &f->local, 1, err, sizeof err), -1);
		assert_null(strstr(err, "is not on this host"));
		replay_store_close(&s);
	}
	/* with both it is tried: no answer within 50 ms is exit 1, not 2 */
	assert_int_equal(replay_store_redis(&s, "192.0.2.1:6379", 50, 0, &both, &f->local, 1, err, sizeof err), -1);
	assert_null(strstr(err, "is not on this host"));
	replay_store_close(&s);
}

int main(void)
{
	g_now = time(NULL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_memory_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_shared_between_two_mappings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_kept_across_a_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_created_once_by_concurrent_openers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_lock_left_by_a_dead_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_that_is_not_a_replay_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_of_the_right_size_but_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_with_a_zero_header_is_refused_and_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_others_could_write_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_grown_when_alone_refused_when_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_lock_with_a_made_up_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_of_format_1_is_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_of_another_format_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redis_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redis_off_host_needs_tls_and_a_password, setup, teardown),
	};
	return cmocka_run_group_tests_name("replay_store", tests, NULL, NULL);
}
