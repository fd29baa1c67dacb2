/*
 * test_fileperm.cpp -- unit tests for src/fileperm.cpp: the owner and mode
 * rule on made-up inodes (files, directories, sticky ones), then on real
 * directories under a fresh one in /tmp: a world-writable directory on the
 * way, one made sticky, a link owned by another user, a link to a
 * world-writable directory, a relative path; fileperm_open() on a link, a
 * FIFO, an absent file, a world-writable one and another user's; and
 * fileperm_create_temp()'s names and modes. The cases that need a second
 * user (chown to nobody, 65534) run as root only and say so otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileperm.h"

#define NOBODY 65534
#define ME 4000123   /* a uid with no name, so messages are the same on every machine */

struct fixture {
	char dir[64];
	char path[PATH_MAX];
};

static int setup(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/fileperm-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
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

static const char *at(struct fixture *f, const char *rel)
{
	snprintf(f->path, sizeof f->path, "%s/%s", f->dir, rel);
	return f->path;
}

static int root_or_skip(void)
{
	if (geteuid() == 0)
		return 1;
	printf("  (skipped: needs root to make files owned by another user)\n");
	return 0;
}

static struct stat made(mode_t type_mode, uid_t owner)
{
	struct stat st;
	memset(&st, 0, sizeof st);
	st.st_mode = type_mode;
	st.st_uid = owner;
	return st;
}

static void test_fileperm_check_stat_rule(void **state)
{
	(void)state;
	char why[320];
	struct stat st;

	st = made(S_IFREG | 0600, ME);
	assert_int_equal(fileperm_check_stat(&st, ME, 0, why, sizeof why), 0);
	st = made(S_IFREG | 0644, 0);   /* root's, readable: fine */
	assert_int_equal(fileperm_check_stat(&st, ME, 0, why, sizeof why), 0);
	st = made(S_IFREG | 0620, ME);
	assert_int_equal(fileperm_check_stat(&st, ME, 0, why, sizeof why), -1);
	assert_string_equal(why, "is owned by uid 4000123 with mode 0620; needed: owned by root or by uid 4000123 (this "
				 "server's user), writable by neither group nor others");
	st = made(S_IFREG | 0666, ME);
	assert_int_equal(fileperm_check_stat(&st, ME, 0, why, sizeof why), -1);
	st = made(S_IFREG | 0600, NOBODY);
	assert_int_equal(fileperm_check_stat(&st, ME, 0, why, sizeof why), -1);
	assert_non_null(strstr(why, "is owned by uid 65534 (nobody) with mode 0600"));
	st = made(S_IFREG | 0600, NOBODY);   /* root runs it: root's files only */
	assert_int_equal(fileperm_check_stat(&st, 0, 0, why, sizeof why), -1);
	assert_non_null(strstr(why, "needed: owned by root (this server's user)"));
	st = made(S_IFIFO | 0600, ME);
	assert_int_equal(fileperm_check_stat(&st, ME, 0, why, sizeof why), -1);
	assert_string_equal(why, "is not a regular file");
	st = made(S_IFDIR | 0700, ME);   /* a directory where a file should be */
	assert_int_equal(fileperm_check_stat(&st, ME, 0, why, sizeof why), -1);

	/* directories */
	st = made(S_IFDIR | 0755, 0);
	assert_int_equal(fileperm_check_stat(&st, ME, 1, why, sizeof why), 0);
	st = made(S_IFDIR | 0777, ME);
	assert_int_equal(fileperm_check_stat(&st, ME, 1, why, sizeof why), -1);
	assert_non_null(strstr(why, "unless sticky"));
	st = made(S_IFDIR | 0775, 0);
	assert_int_equal(fileperm_check_stat(&st, ME, 1, why, sizeof why), -1);
	st = made(S_IFDIR | 01777, 0);   /* /tmp */
	assert_int_equal(fileperm_check_stat(&st, ME, 1, why, sizeof why), 0);
	st = made(S_IFDIR | 01777, NOBODY);   /* sticky but someone else's: they may remove anything */
	assert_int_equal(fileperm_check_stat(&st, ME, 1, why, sizeof why), -1);
	st = made(S_IFREG | 01666, ME);   /* sticky means nothing on a file */
	assert_int_equal(fileperm_check_stat(&st, ME, 0, why, sizeof why), -1);
}

static void test_fileperm_check_dirs_on_real_directories(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uid_t me = geteuid();
	char err[512], sub[PATH_MAX];

	assert_int_equal(fileperm_check_dirs(at(f, "state"), me, err, sizeof err), 0);
	assert_int_equal(fileperm_check_dirs("/tmp/x", me, err, sizeof err), 0);   /* /tmp: sticky */
	assert_int_equal(fileperm_check_dirs("/x", me, err, sizeof err), 0);

	/* a world-writable directory on the way, not the last one */
	snprintf(sub, sizeof sub, "%s", at(f, "open"));
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(mkdir(at(f, "open/mine"), 0700), 0);
	assert_int_equal(fileperm_check_dirs(at(f, "open/mine/state"), me, err, sizeof err), -1);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof want, "directory %s is owned by ", sub);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "with mode 0777"));
	/* sticky, it is /tmp's case: fine */
	assert_int_equal(chmod(sub, 01777), 0);
	assert_int_equal(fileperm_check_dirs(at(f, "open/mine/state"), me, err, sizeof err), 0);

	/* through a link of ours to a good directory: fine (DynamicUser's
	 * /var/lib/NAME -> private/NAME) */
	assert_int_equal(mkdir(at(f, "private"), 0700), 0);
	assert_int_equal(mkdir(at(f, "private/caller-echo"), 0755), 0);
	assert_int_equal(symlink("private/caller-echo", at(f, "caller-echo")), 0);
	assert_int_equal(fileperm_check_dirs(at(f, "caller-echo/replay"), me, err, sizeof err), 0);
	/* a link to a world-writable directory: the directory it names fails */
	assert_int_equal(mkdir(at(f, "wide"), 0700), 0);
	assert_int_equal(chmod(at(f, "wide"), 0777), 0);
	assert_int_equal(symlink("wide", at(f, "to-wide")), 0);
	assert_int_equal(fileperm_check_dirs(at(f, "to-wide/replay"), me, err, sizeof err), -1);
	assert_non_null(strstr(err, "/wide is owned by"));
	/* relative paths are judged from the current directory */
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(fileperm_check_dirs("caller-echo/replay", me, err, sizeof err), 0);
	assert_int_equal(fileperm_check_dirs("to-wide/replay", me, err, sizeof err), -1);
	assert_int_equal(fileperm_check_dirs("replay", me, err, sizeof err), 0);
	assert_int_equal(chdir(cwd), 0);
	/* a directory that is not there */
	assert_int_equal(fileperm_check_dirs(at(f, "none/replay"), me, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot look at"));

	if (!root_or_skip())
		return;
	/* another user's directory, and another user's link */
	assert_int_equal(mkdir(at(f, "theirs"), 0755), 0);
	assert_int_equal(chown(at(f, "theirs"), NOBODY, NOBODY), 0);
	assert_int_equal(fileperm_check_dirs(at(f, "theirs/replay"), 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "is owned by uid 65534 (nobody) with mode 0755"));
	assert_int_equal(symlink("private/caller-echo", at(f, "their-link")), 0);
	assert_int_equal(lchown(at(f, "their-link"), NOBODY, NOBODY), 0);
	assert_int_equal(fileperm_check_dirs(at(f, "their-link/replay"), 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "is a symbolic link owned by uid 65534 (nobody)"));
}

static void write_file(const char *path, mode_t mode, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_fileperm_open_refuses_what_others_could_write(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uid_t me = geteuid();
	char err[512], target[PATH_MAX];

	write_file(at(f, "good"), 0600, "ok\n");
	int fd = fileperm_open(at(f, "good"), O_RDONLY, me, err, sizeof err);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	/* absent: told apart from a refusal */
	assert_int_equal(fileperm_open(at(f, "none"), O_RDONLY, me, err, sizeof err), FILEPERM_ABSENT);
	/* O_CREAT is never honoured: creation goes through a temporary file */
	assert_int_equal(fileperm_open(at(f, "none"), O_RDWR | O_CREAT, me, err, sizeof err), FILEPERM_ABSENT);
	assert_int_equal(access(at(f, "none"), F_OK), -1);
	/* world-writable */
	write_file(at(f, "wide"), 0666, "0.0.0.0/0\n");
	assert_int_equal(fileperm_open(at(f, "wide"), O_RDONLY, me, err, sizeof err), -1);
	assert_non_null(strstr(err, "/wide is owned by "));
	assert_non_null(strstr(err, "with mode 0666; needed:"));
	/* a link at the file itself: refused, not followed */
	snprintf(target, sizeof target, "%s", at(f, "good"));
	assert_int_equal(symlink(target, at(f, "link")), 0);
	assert_int_equal(fileperm_open(at(f, "link"), O_RDONLY, me, err, sizeof err), -1);
	assert_non_null(strstr(err, "is a symbolic link"));
	/* a FIFO: refused at once, never waited on */
	assert_int_equal(mkfifo(at(f, "fifo"), 0600), 0);
	assert_int_equal(fileperm_open(at(f, "fifo"), O_RDONLY, me, err, sizeof err), -1);
	assert_non_null(strstr(err, "is not a regular file"));
	/* in a world-writable directory */
	assert_int_equal(mkdir(at(f, "open"), 0700), 0);
	assert_int_equal(chmod(at(f, "open"), 0777), 0);
	write_file(at(f, "open/file"), 0600, "x");
	assert_int_equal(fileperm_open(at(f, "open/file"), O_RDONLY, me, err, sizeof err), -1);
	assert_non_null(strstr(err, "directory "));

	if (!root_or_skip())
		return;
	write_file(at(f, "theirs"), 0600, "x");
	assert_int_equal(chown(at(f, "theirs"), NOBODY, NOBODY), 0);
	assert_int_equal(fileperm_open(at(f, "theirs"), O_RDWR, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "is owned by uid 65534 (nobody) with mode 0600"));
}

static void test_fileperm_create_temp_names_and_modes(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	char err[512], a[PATH_MAX], b[PATH_MAX], base[PATH_MAX];
	struct stat st;

	snprintf(base, sizeof base, "%s", at(f, "blocks.json"));
	/* what an attacker may have left at the old fixed name stays untouched */
	write_file(at(f, "blocks.json.tmp"), 0666, "planted");
	mode_t old = umask(0);   /* even so, 0600 */
	int fa = fileperm_create_temp(base, O_WRONLY, a, sizeof a, err, sizeof err);
	int fb = fileperm_create_temp(base, O_RDWR, b, sizeof b, err, sizeof err);
	umask(old);
	assert_true(fa >= 0 && fb >= 0);
	assert_string_not_equal(a, b);
	assert_int_equal(strlen(a), strlen(base) + strlen(".tmp-") + 16);
	assert_memory_equal(a, base, strlen(base));
	assert_memory_equal(a + strlen(base), ".tmp-", 5);
	for (const char *p = a + strlen(base) + 5; *p; p++)
		assert_non_null(strchr("0123456789abcdef", *p));
	assert_int_equal(fstat(fa, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(st.st_size, 0);
	assert_int_equal(fcntl(fb, F_GETFL) & O_ACCMODE, O_RDWR);
	close(fa);
	close(fb);
	assert_int_equal(stat(at(f, "blocks.json.tmp"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0666);
	assert_int_equal(st.st_size, 7);
	/* a directory that is not there: a clear reason */
	snprintf(base, sizeof base, "%s", at(f, "none/blocks.json"));
	assert_int_equal(fileperm_create_temp(base, O_WRONLY, a, sizeof a, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot create "));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_fileperm_check_stat_rule),
		T(test_fileperm_check_dirs_on_real_directories),
		T(test_fileperm_open_refuses_what_others_could_write),
		T(test_fileperm_create_temp_names_and_modes),
	};
	return cmocka_run_group_tests_name("fileperm", tests, NULL, NULL);
}
