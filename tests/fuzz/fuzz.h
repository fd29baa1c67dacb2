/*
 * fuzz.h -- shared bits of the libFuzzer harnesses in tests/fuzz/.
 *
 * A harness checks invariants as well as letting the sanitizers watch: a
 * broken invariant prints which one and aborts, which libFuzzer reports as
 * a crash and saves the input (tests/fuzz/README.md says what to do next).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c)                                                                      \
	do {                                                                               \
		if (!(c)) {                                                                \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* A string vonage_msg_sanitize() produced: NUL within cap, only printable ASCII
 * without the characters it replaces. */
static inline int fuzz_is_sanitized(const char *s, size_t cap)
{
	const char *nul = (const char *)memchr(s, '\0', cap);
	if (!nul)
		return 0;
	for (const char *p = s; p < nul; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c >= 0x7f || strchr("\"<>\\&'", c))
			return 0;
	}
	return 1;
}

/*
 * Split data into up to `max` fields at each 0xff byte (a byte that
 * appears in no valid UTF-8 text, so seeds stay readable). Missing fields
 * are empty. Returns the number of fields found.
 */
struct fuzz_field { const char *p; size_t len; };

static inline size_t fuzz_split(const uint8_t *data, size_t size, struct fuzz_field *f, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i < max; i++) {
		f[i].p = "";
		f[i].len = 0;
	}
	for (size_t i = 0; i <= size && n < max; i++) {
		if (i == size || (data[i] == 0xff && n + 1 < max)) {
			f[n].p = (const char *)data + start;
			f[n].len = i - start;
			n++;
			start = i + 1;
		}
	}
	return n;
}

/* NUL-terminated heap copy of a field, exactly sized so ASan sees overreads. */
static inline char *fuzz_strdup(const struct fuzz_field *f)
{
	char *s = (char *)malloc(f->len + 1);
	if (!s)
		abort();
	memcpy(s, f->p, f->len);
	s[f->len] = '\0';
	return s;
}
