/*
 * sbuf.cpp -- see sbuf.h.
 */
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (!b->ok)
		return;
	va_start(ap, fmt);
	int n = b->p ? vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap) : vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (b->p && (size_t)n >= b->cap - b->len))
		b->ok = 0;
	else
		b->len += (size_t)n;
}

char *sbuf_render(void (*render)(struct sbuf *b, const void *arg), const void *arg, size_t *len)
{
	struct sbuf m = { NULL, 0, 0, 1 };

	render(&m, arg);   /* measure */
	if (!m.ok)
		return NULL;
	struct sbuf b = { (char *)malloc(m.len + 1), 0, m.len + 1, 1 };
	if (!b.p)
		return NULL;
	b.p[0] = '\0';   /* a render that prints nothing still gives a string */
	render(&b, arg);
	if (!b.ok || b.len != m.len) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
