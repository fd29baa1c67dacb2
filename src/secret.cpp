/*
 * secret.cpp -- the one secret-file rule; see secret.h.
 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int secret_read_file(const char *path, unsigned char *out, size_t cap, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		snprintf(err, errlen, "secret file '%s': %s", path, strerror(errno));
		return -1;
	}
	return secret_read_fd(fd, path, out, cap, err, errlen);
}

int secret_read_fd(int fd, const char *path, unsigned char *out, size_t cap, char *err, size_t errlen)
{
	unsigned char buf[4096];
	FILE *f = fdopen(fd, "rb");

	if (!f) {
		snprintf(err, errlen, "secret file '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	size_t n = fread(buf, 1, sizeof buf, f);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		snprintf(err, errlen, "secret file '%s': read error", path);
		return -1;
	}
	if (n && buf[n - 1] == '\n') {
		n--;
		if (n && buf[n - 1] == '\r')
			n--;
	}
	if (n >= cap || n >= sizeof buf - 2) {
		snprintf(err, errlen, "secret file '%s': longer than %zu bytes", path, cap - 1);
		return -1;
	}
	memcpy(out, buf, n);
	return (int)n;
}
