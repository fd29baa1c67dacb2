/*
 * log.cpp -- stderr logger with levels and rate-limited security lines.
 *
 * Each line is formatted into one stack buffer and written with a single
 * write(2), so lines from the one thread never interleave and the logger
 * never allocates.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

enum log_level log_threshold = LOG_INFO;

static char tag[68];   /* "[worker] " or "" */

void log_set_tag(const char *t)
{
	if (t && *t)
		snprintf(tag, sizeof tag, "[%.64s] ", t);
	else
		tag[0] = '\0';
}

static const char *const names[] = { "error", "warn", "info", "debug" };

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (!strcasecmp(s, names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_level_str(enum log_level l)
{
	return (l >= LOG_ERROR && l <= LOG_DEBUG) ? names[l] : "?";
}

static void vlog(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[1024];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int r;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof line - n, ".%03ldZ %-5s %s", (long)(tv.tv_usec / 1000),
		     log_level_str(lvl), tag);
	if (r > 0)
		n += (size_t)r;
	r = vsnprintf(line + n, sizeof line - n, fmt, ap);
	if (r < 0)
		r = 0;
	n += (size_t)r;
	if (n >= sizeof line - 1)
		n = sizeof line - 2;   /* truncated: keep the newline */
	while (n && line[n - 1] == '\n')
		n--;
	line[n++] = '\n';
	/* one write per line; a short write to stderr is not worth retrying */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

void log_write(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

int log_limited(struct log_limit *lim, time_t now, const char *fmt, ...)
{
	va_list ap;

	if (now != lim->window) {
		if (lim->suppressed && LOG_WARN <= log_threshold)
			log_write(LOG_WARN, "(%u similar lines suppressed)", lim->suppressed);
		lim->window = now;
		lim->in_window = 0;
		lim->suppressed = 0;
	}
	if (lim->in_window >= LOG_LIMIT_BURST) {
		lim->suppressed++;
		return 0;
	}
	lim->in_window++;
	if (LOG_WARN > log_threshold)
		return 1;
	va_start(ap, fmt);
	vlog(LOG_WARN, fmt, ap);
	va_end(ap);
	return 1;
}

void log_token_hint(const char *s, size_t len, char out[9])
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	snprintf(out, 9, "%08x", h);
}
