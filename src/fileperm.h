/*
 * fileperm.h -- could anyone but this server's user (or root) change this
 * file? The one rule for every file the server trusts from one start to
 * the next: the state files now (--replay-file, --block-file), secret files
 * later.
 *
 * A file passes when it is a regular file owned by the server's effective
 * user or by root, and writable by neither its group nor others. Its
 * directory, and every directory above it up to /, must be owned by the
 * server's user or root and be writable by neither group nor others --
 * unless the directory has the sticky bit (/tmp): then only a file's owner
 * may rename or remove it, so what we made there stays ours (and what
 * someone else made there fails the file's own check). A symbolic link on
 * the way is followed only when it is owned by root or the server's user
 * and sits in a directory that passes (systemd's DynamicUser reaches
 * /var/lib/private/NAME through the root-owned link /var/lib/NAME); the file
 * itself is opened with O_NOFOLLOW, so it is never a link. Every refusal is
 * one line naming the file, what was found and what is needed.
 *
 * New files are made by fileperm_create_temp(): O_CREAT|O_EXCL with a
 * name no one can guess (64 random bits) in the target's directory, mode
 * 0600 whatever the umask, to be renamed or linked into place whole.
 * Pure file-system calls; no logging (the caller says what it refused).
 */
#pragma once
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define FILEPERM_ABSENT (-2)   /* fileperm_open: no such file */

/*
 * The rule for one inode (a file, or a directory with is_dir): 0, or -1
 * with what is wrong in why ("owned by uid 65534 (nobody), mode 0666").
 */
int fileperm_check_stat(const struct stat *st, uid_t uid, int is_dir, char *why, size_t cap);

/*
 * Every directory above path (path itself is not looked at), lexically and
 * through each symbolic link on the way, for user uid: 0, or -1 with a
 * one-line reason naming the directory or link that fails.
 */
int fileperm_check_dirs(const char *path, uid_t uid, char *err, size_t errlen);

/*
 * Open a state file: its directories checked, opened with flags plus
 * O_NOFOLLOW|O_CLOEXEC|O_NOCTTY (never O_CREAT: see fileperm_create_temp),
 * then the open file itself checked (fstat: no race with a rename). The
 * descriptor, FILEPERM_ABSENT when there is no such file (err says so), or
 * -1 with a one-line reason in err.
 */
int fileperm_open(const char *path, int flags, uid_t uid, char *err, size_t errlen);

/*
 * A new, empty file next to path, named path.tmp-<16 hex digits>, created
 * exclusively (a file already at that name is never opened), mode 0600.
 * flags: O_WRONLY or O_RDWR. The descriptor with the name in tmp, or -1
 * with a reason in err. The caller renames or links it into place, or
 * unlinks it.
 */
int fileperm_create_temp(const char *path, int flags, char *tmp, size_t cap, char *err, size_t errlen);
