/*
 * sbuf.h -- print a text of unknown size into one exact allocation.
 *
 * The renderers of /stats (stats_page.cpp) and /metrics (metrics.cpp) print
 * through sbuf_printf() into a struct sbuf. sbuf_render() runs the renderer
 * twice: first with no buffer, only counting, then into a buffer of exactly
 * that size, so a page is never truncated and never reallocated while it
 * is written. One allocation per request, never on the audio path.
 */
#pragma once
#include <stddef.h>

struct sbuf {
	char  *p;      /* NULL while measuring */
	size_t len, cap;
	int    ok;     /* 0 after a failed or overflowing print */
};

void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Measure, allocate, print: render(b, arg) must print the same text both
 * times. Returns the malloc'd text (free() it) with its length in *len, or
 * NULL when out of memory or when the two passes differ.
 */
char *sbuf_render(void (*render)(struct sbuf *b, const void *arg), const void *arg, size_t *len);
