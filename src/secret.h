/*
 * secret.h -- read a signing secret from a file, one rule for every program.
 *
 * caller-echo (--secret-file) and caller-sim (--secret-file) must turn the
 * same file into the same bytes, or every token the simulator signs is
 * refused. The rule: the file's bytes, minus one trailing line ending ("\n"
 * or "\r\n") as editors and `echo` add; nothing else is trimmed.
 */
#pragma once
#include <stddef.h>

/*
 * Read path into out (cap bytes). Returns the secret's length (0 for an
 * empty file), or -1 with a one-line reason in err when the file cannot be
 * read or the secret is cap bytes or longer. out is scratch on failure.
 */
int secret_read_file(const char *path, unsigned char *out, size_t cap, char *err, size_t errlen);

/* The same from an open descriptor (closed here, whatever happens); path only names it in err. */
int secret_read_fd(int fd, const char *path, unsigned char *out, size_t cap, char *err, size_t errlen);
