/*
 * fileperm.cpp -- see fileperm.h. The directory walk goes down the path as
 * written, one component at a time (so a link met on the way is judged
 * where it sits), and through every link to the directories it really
 * names (realpath), checking each of those up to / as well.
 */
#include "fileperm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static void fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* "uid 65534 (nobody)", or "uid 1234" when the name is unknown */
static const char *who(uid_t uid, char *buf, size_t cap)
{
	struct passwd *pw = getpwuid(uid);
	if (pw && pw->pw_name)
		snprintf(buf, cap, "uid %u (%s)", (unsigned)uid, pw->pw_name);
	else
		snprintf(buf, cap, "uid %u", (unsigned)uid);
	return buf;
}

static const char *needed_owner(uid_t uid, char *buf, size_t cap)
{
	if (uid)
		snprintf(buf, cap, "owned by root or by uid %u (this server's user)", (unsigned)uid);
	else
		snprintf(buf, cap, "owned by root (this server's user)");
	return buf;
}

int fileperm_check_stat(const struct stat *st, uid_t uid, int is_dir, char *why, size_t cap)
{
	char owner[96], need[96];
	mode_t m = st->st_mode;
	int owner_ok = st->st_uid == 0 || st->st_uid == uid;
	int others_write = (m & (S_IWGRP | S_IWOTH)) != 0;

	if (is_dir ? !S_ISDIR(m) : !S_ISREG(m)) {
		snprintf(why, cap, "is not a %s", is_dir ? "directory" : "regular file");
		return -1;
	}
	/* a sticky directory (/tmp) lets others add names, never take ours */
	if (owner_ok && !(others_write && !(is_dir && (m & S_ISVTX))))
		return 0;
	snprintf(why, cap, "is owned by %s with mode %04o; needed: %s, %s", who(st->st_uid, owner, sizeof owner),
		 (unsigned)(m & 07777), needed_owner(uid, need, sizeof need),
		 is_dir ? "writable by neither group nor others unless sticky (like /tmp)"
			: "writable by neither group nor others");
	return -1;
}

static int check_dir_at(const char *dir, uid_t uid, char *err, size_t errlen)
{
	struct stat st;
	char why[320];

	if (stat(dir, &st)) {
		fail(err, errlen, "cannot look at directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (fileperm_check_stat(&st, uid, 1, why, sizeof why)) {
		fail(err, errlen, "directory %s %s", dir, why);
		return -1;
	}
	return 0;
}

/* real: a path without links (realpath's); it and every directory above it */
static int check_real_chain(const char *real, uid_t uid, char *err, size_t errlen)
{
	char p[PATH_MAX];
	size_t n = strlen(real);

	if (n >= sizeof p)
		return fail(err, errlen, "path too long: %s", real), -1;
	memcpy(p, real, n + 1);
	/* from the deepest up: the first failure is the one to report */
	for (;;) {
		if (check_dir_at(p, uid, err, errlen))
			return -1;
		char *slash = strrchr(p, '/');
		if (!slash || slash == p) {
			if (strcmp(p, "/"))
				return check_dir_at("/", uid, err, errlen);
			return 0;
		}
		*slash = '\0';
	}
}

int fileperm_check_dirs(const char *path, uid_t uid, char *err, size_t errlen)
{
	char abs[PATH_MAX], real[PATH_MAX];
	size_t n;

	if (path[0] == '/') {
		n = (size_t)snprintf(abs, sizeof abs, "%s", path);
	} else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			return fail(err, errlen, "cannot tell the current directory: %s", strerror(errno)), -1;
		n = (size_t)snprintf(abs, sizeof abs, "%s/%s", cwd, path);
	}
	if (n >= sizeof abs)
		return fail(err, errlen, "path too long: %s", path), -1;
	char *last = strrchr(abs, '/');
	size_t dirlen = (size_t)(last - abs);
	if (check_dir_at("/", uid, err, errlen))
		return -1;
	/* each prefix of the directory part: "/a", "/a/b", ... */
	for (size_t i = 1; i <= dirlen; i++) {
		if (i < dirlen && abs[i] != '/')
			continue;
		if (abs[i - 1] == '/')
			continue;   /* "//": the same directory again */
		char save = abs[i];
		abs[i] = '\0';
		struct stat st;
		int rc = 0;
		if (lstat(abs, &st)) {
			fail(err, errlen, "cannot look at %s: %s", abs, strerror(errno));
			rc = -1;
		} else if (S_ISLNK(st.st_mode)) {
			char owner[96];
			if (st.st_uid != 0 && st.st_uid != uid) {
				fail(err, errlen, "%s is a symbolic link owned by %s; a link on the way to a state file "
						  "must be owned by root or by this server's user", abs,
				     who(st.st_uid, owner, sizeof owner));
				rc = -1;
			} else if (!realpath(abs, real)) {
				fail(err, errlen, "cannot follow %s: %s", abs, strerror(errno));
				rc = -1;
			} else {
				rc = check_real_chain(real, uid, err, errlen);
			}
		} else {
			rc = check_dir_at(abs, uid, err, errlen);
		}
		abs[i] = save;
		if (rc)
			return -1;
	}
	return 0;
}

int fileperm_open(const char *path, int flags, uid_t uid, char *err, size_t errlen)
{
	struct stat st;
	char why[320];

	if (fileperm_check_dirs(path, uid, err, errlen))
		return -1;
	/* O_NONBLOCK: a FIFO planted at path must not hang the start; it fails
	 * the regular-file check below */
	int fd = open(path, (flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT) {
			fail(err, errlen, "%s does not exist", path);
			return FILEPERM_ABSENT;
		}
		if (errno == ELOOP)
			fail(err, errlen, "%s is a symbolic link; a state file is never opened through one (name the file "
					  "itself)", path);
		else
			fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || fileperm_check_stat(&st, uid, 0, why, sizeof why)) {
		fail(err, errlen, "%s %s", path, why);
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int fileperm_create_temp(const char *path, int flags, char *tmp, size_t cap, char *err, size_t errlen)
{
	for (int tries = 0; tries < 8; tries++) {
		uint64_t r;
		if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
			fail(err, errlen, "no random name for a temporary file: %s", strerror(errno));
			return -1;
		}
		if ((size_t)snprintf(tmp, cap, "%s.tmp-%016llx", path, (unsigned long long)r) >= cap) {
			fail(err, errlen, "path too long: %s", path);
			return -1;
		}
		int fd = open(tmp, (flags & O_ACCMODE) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			if (fchmod(fd, 0600)) {   /* whatever the umask left */
				fail(err, errlen, "cannot set the mode of %s: %s", tmp, strerror(errno));
				close(fd);
				unlink(tmp);
				return -1;
			}
			return fd;
		}
		if (errno != EEXIST) {
			fail(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
			return -1;
		}
	}
	fail(err, errlen, "cannot create a temporary file next to %s: every name tried was taken", path);
	return -1;
}
