/*
 * test_replay_store.cpp -- unit tests for src/replay_store.cpp: the memory
 * store; the shared file seen by two mappings at once (as two workers map
 * it), kept across a close and reopen (a restart), created once by
 * concurrent openers, refused when it is not a replay file, and still
 * usable after a process died holding its lock (a real child process).
 * Redis is tested against a real redis-server in
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

#define NOW 1700000000
#define EXP (NOW + 330)

struct fixture {
	char dir[64], path[128];
	struct replay local;   /* 192 KiB: in the heap fixture, zeroed */
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
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void test_memory_store(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;

	replay_store_memory(&s, &f->local, 42);
	assert_int_equal(replay_store_check(&s, "a", 1, NOW, EXP), REPLAY_NEW);
	assert_int_equal(replay_store_check(&s, "a", 1, NOW, EXP), REPLAY_SEEN);
	assert_int_equal(replay_store_check(&s, "b", 1, NOW, EXP), REPLAY_NEW);
	assert_int_equal(s.st.checks, 3);
	char d[64];
	assert_string_equal(replay_store_describe(&s, d, sizeof d), "this process");
	replay_store_close(&s);
}

static void test_file_shared_between_two_mappings(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store a, b;
	char err[256];

	assert_int_equal(replay_store_file(&a, f->path, err, sizeof err), 0);
	assert_int_equal(replay_store_file(&b, f->path, err, sizeof err), 0);
	assert_ptr_not_equal(a.table, b.table);   /* two mappings, as in two processes */
	assert_int_equal(replay_store_check(&a, "jti-1", 5, NOW, EXP), REPLAY_NEW);
	assert_int_equal(replay_store_check(&b, "jti-1", 5, NOW, EXP), REPLAY_SEEN);   /* the other worker */
	assert_int_equal(replay_store_check(&b, "jti-2", 5, NOW, EXP), REPLAY_NEW);
	assert_int_equal(replay_store_check(&a, "jti-2", 5, NOW, EXP), REPLAY_SEEN);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	replay_store_close(&a);
	replay_store_close(&b);
}

static void test_file_kept_across_a_restart(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;
	char err[256];

	assert_int_equal(replay_store_file(&s, f->path, err, sizeof err), 0);
	assert_int_equal(replay_store_check(&s, "before", 6, NOW, EXP), REPLAY_NEW);
	replay_store_close(&s);
	assert_int_equal(replay_store_file(&s, f->path, err, sizeof err), 0);
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
			if (replay_store_file(&s, f->path, err, sizeof err))
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
	assert_int_equal(replay_store_file(&s, f->path, err, sizeof err), 0);
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

	assert_int_equal(replay_store_file(&s, f->path, err, sizeof err), 0);
	assert_int_equal(pipe(pipefd), 0);
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (!kid) {
		/* take the file's lock and die holding it */
		struct replay_store k;
		if (replay_store_file(&k, f->path, err, sizeof err))
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
	char err[256];

	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	fputs("not a table\n", fp);
	fclose(fp);
	assert_int_equal(replay_store_file(&s, f->path, err, sizeof err), -1);
	assert_non_null(strstr(err, "is not a replay file of this version"));
	/* the right size but someone else's bytes */
	assert_int_equal(replay_store_file(&s, "/nonexistent-dir/replay", err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot open /nonexistent-dir/replay"));
}

static void test_file_of_the_right_size_but_foreign(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	struct replay_store s;
	char err[256];

	assert_int_equal(replay_store_file(&s, f->path, err, sizeof err), 0);
	size_t len = s.map_len;
	replay_store_close(&s);
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	for (size_t i = 0; i < len; i++)
		fputc(0x5a, fp);
	fclose(fp);
	assert_int_equal(replay_store_file(&s, f->path, err, sizeof err), -1);
	assert_non_null(strstr(err, "is not a replay file"));
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
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_memory_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_shared_between_two_mappings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_kept_across_a_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_created_once_by_concurrent_openers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_lock_left_by_a_dead_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_that_is_not_a_replay_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_of_the_right_size_but_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redis_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redis_off_host_needs_tls_and_a_password, setup, teardown),
	};
	return cmocka_run_group_tests_name("replay_store", tests, NULL, NULL);
}
