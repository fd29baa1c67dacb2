/*
 * log.cpp -- stderr logger with levels and rate-limited security lines.
 *
 * Each line is formatted into one stack buffer and written with a single
 * write(2), so lines from the one thread never interleave and the logger
 * never allocates. In JSON mode the message is formatted first, then
 * escaped into the line (log_json_escape), so whatever a format argument
 * holds -- quotes, control bytes, broken UTF-8 from a peer -- the line
 * stays one valid JSON object.
 */
#include "log.h"
#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

enum log_level log_threshold = LOG_INFO;
enum log_format log_format = LOG_FORMAT_PLAIN;

static char tag[68];      /* plain lines: "[worker] " or "" */
static char tag_raw[65];  /* JSON lines: fields.worker, "" = none */

void log_set_tag(const char *t)
{
	if (t && *t) {
		snprintf(tag, sizeof tag, "[%.64s] ", t);
		snprintf(tag_raw, sizeof tag_raw, "%s", t);
	} else {
		tag[0] = tag_raw[0] = '\0';
	}
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

int log_format_parse(const char *s, enum log_format *out)
{
	if (!strcmp(s, "plain"))
		*out = LOG_FORMAT_PLAIN;
	else if (!strcmp(s, "json"))
		*out = LOG_FORMAT_JSON;
	else
		return -1;
	return 0;
}

const char *log_level_str(enum log_level l)
{
	return (l >= LOG_ERROR && l <= LOG_DEBUG) ? names[l] : "?";
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	/* the second byte's range rules out overlongs, surrogates and > U+10FFFF */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (left < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

size_t log_json_escape(char *out, size_t cap, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t o = 0, i = 0;
	char esc[8];

	if (!cap)
		return 0;
	while (i < len) {
		const char *piece;
		size_t plen, adv;
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			piece = esc, plen = 2, adv = 1;
		} else if (c < 0x20) {
			static const char short_esc[] = "btn\0fr";   /* \b \t \n - \f \r */
			if (c >= 8 && c <= 13 && c != 11 && short_esc[c - 8]) {
				esc[0] = '\\';
				esc[1] = short_esc[c - 8];
				plen = 2;
			} else {
				snprintf(esc, sizeof esc, "\\u%04x", c);
				plen = 6;
			}
			piece = esc, adv = 1;
		} else if (c < 0x80) {
			piece = (const char *)&s[i], plen = 1, adv = 1;
		} else if ((adv = utf8_len(&s[i], len - i))) {
			piece = (const char *)&s[i], plen = adv;
		} else {
			piece = "\\ufffd", plen = 6, adv = 1;
		}
		if (plen >= cap - o)
			break;   /* keep room for the NUL; never half a character */
		memcpy(out + o, piece, plen);
		o += plen;
		i += adv;
	}
	out[o] = '\0';
	return o;
}

#define LOG_LINE_MAX 1024

/* "2024-01-02T03:04:05.678Z" into out (32 bytes) */
static void now_iso(char *out, size_t cap)
{
	struct tm tm;
	size_t n;

	uint64_t ms = clock_wall_ms();
	time_t s = (time_t)(ms / 1000);
	gmtime_r(&s, &tm);
	n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, cap - n, ".%03dZ", (int)(ms % 1000));
}

static void write_line(const char *line, size_t n)
{
	/* one write per line; a short write to stderr is not worth retrying */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

static void vlog_plain(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n;
	int r;

	now_iso(line, 32);
	n = strlen(line);
	r = snprintf(line + n, sizeof line - n, " %-5s %s", log_level_str(lvl), tag);
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
	write_line(line, n);
}

/*
 * {"time":..,"level":..,"event":..,"fields":{"msg":..}} -- the message is
 * cut at LOG_LINE_MAX before escaping; escaping grows it at most 6x, which the
 * line buffer holds, so the closing braces always fit.
 */
static void vlog_json(enum log_level lvl, const char *event, const struct log_field *f, size_t nf,
		      const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], when[32], line[LOG_LINE_MAX * 6 + 2048];
	size_t n, mlen;
	int r;

	r = vsnprintf(msg, sizeof msg, fmt, ap);
	mlen = r < 0 ? 0 : (size_t)r >= sizeof msg ? sizeof msg - 1 : (size_t)r;
	while (mlen && msg[mlen - 1] == '\n')
		mlen--;
	now_iso(when, sizeof when);
	r = snprintf(line, sizeof line, "{\"time\":\"%s\",\"level\":\"%s\",\"event\":\"", when,
		     log_level_str(lvl));
	n = r > 0 ? (size_t)r : 0;
	n += log_json_escape(line + n, 64, event, strlen(event));
	n += (size_t)snprintf(line + n, sizeof line - n, "\",\"fields\":{\"msg\":\"");
	n += log_json_escape(line + n, LOG_LINE_MAX * 6 + 1, msg, mlen);
	line[n++] = '"';
	if (tag_raw[0]) {   /* --worker-id: which process wrote the line */
		n += (size_t)snprintf(line + n, sizeof line - n, ",\"worker\":\"");
		n += log_json_escape(line + n, 6 * sizeof tag_raw, tag_raw, strlen(tag_raw));
		line[n++] = '"';
	}
	/* fields: a value too long for what is left is cut, never the JSON */
	for (size_t i = 0; i < nf && sizeof line - n > 96; i++) {
		int r2 = snprintf(line + n, sizeof line - n - 16, ",\"%.32s\":", f[i].key);
		if (r2 < 0 || (size_t)r2 >= sizeof line - n - 16)
			break;
		n += (size_t)r2;
		if (f[i].str && f[i].raw) {
			/* only a number's characters go out unquoted; anything else is null */
			size_t l = strnlen(f[i].str, 24);
			if (!l || strspn(f[i].str, "-+.0123456789eE") != l)
				l = 4, memcpy(line + n, "null", 4);
			else
				memcpy(line + n, f[i].str, l);
			n += l;
		} else if (f[i].str) {
			line[n++] = '"';
			n += log_json_escape(line + n, sizeof line - n - 8, f[i].str, strlen(f[i].str));
			line[n++] = '"';
		} else {
			n += (size_t)snprintf(line + n, 24, "%lld", f[i].num);
		}
	}
	memcpy(line + n, "}}\n", 3);
	write_line(line, n + 3);
}

static void vlog(enum log_level lvl, const char *event, const struct log_field *f, size_t nf,
		 const char *fmt, va_list ap)
{
	if (log_format == LOG_FORMAT_JSON)
		vlog_json(lvl, event ? event : "log", f, nf, fmt, ap);
	else
		vlog_plain(lvl, fmt, ap);
}

void log_write(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, "log", NULL, 0, fmt, ap);
	va_end(ap);
}

void log_write_ev(enum log_level lvl, const char *event, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, event, NULL, 0, fmt, ap);
	va_end(ap);
}

void log_write_fields(enum log_level lvl, const char *event, const struct log_field *f, size_t n,
		      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, event, f, n, fmt, ap);
	va_end(ap);
}

/* The burst accounting of log_limited*(): 1 if this line may be written. */
static int limit_pass(struct log_limit *lim, time_t now)
{
	if (now != lim->window) {
		if (lim->suppressed && LOG_WARN <= log_threshold)
			log_write_ev(LOG_WARN, lim->event ? lim->event : "security",
				     "(%u similar lines suppressed)", lim->suppressed);
		lim->window = now;
		lim->in_window = 0;
		lim->suppressed = 0;
	}
	if (lim->in_window >= (lim->burst ? lim->burst : LOG_LIMIT_BURST)) {
		lim->suppressed++;
		lim->suppressed_total++;
		return 0;
	}
	lim->in_window++;
	return 1;
}

int log_limited(struct log_limit *lim, time_t now, const char *fmt, ...)
{
	va_list ap;

	if (!limit_pass(lim, now))
		return 0;
	if (LOG_WARN > log_threshold)
		return 1;
	va_start(ap, fmt);
	vlog(LOG_WARN, lim->event ? lim->event : "security", NULL, 0, fmt, ap);
	va_end(ap);
	return 1;
}

int log_limited_fieldsv(struct log_limit *lim, time_t now, const struct log_field *f, size_t n, const char *fmt,
			va_list ap)
{
	if (!limit_pass(lim, now))
		return 0;
	if (LOG_WARN <= log_threshold)
		vlog(LOG_WARN, lim->event ? lim->event : "security", f, n, fmt, ap);
	return 1;
}

int log_limited_fields(struct log_limit *lim, time_t now, const struct log_field *f, size_t n,
		       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = log_limited_fieldsv(lim, now, f, n, fmt, ap);
	va_end(ap);
	return r;
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

static struct log_limit lws_lim = { 0, 0, 0, "lws" };

/* lws's warnings and errors while held (log_lws_hold) */
static struct { enum log_level l; char text[240]; } lws_held[8];
static int lws_nheld, lws_holding;

void log_lws_hold(void)
{
	lws_holding = 1;
	lws_nheld = 0;
}

void log_lws_release(int print)
{
	lws_holding = 0;
	for (int i = 0; print && i < lws_nheld; i++)
		LOG_EV(lws_held[i].l, "lws", "lws: %s", lws_held[i].text);
	lws_nheld = 0;
}

void log_lws_line(enum log_level l, const char *line)
{
	/* lws prefixes its own timestamp "[YYYY/MM/DD hh:mm:ss.mmmm] X: "; drop it */
	const char *p = line;
	if (*p == '[') {
		const char *q = strstr(p, "] ");
		if (q) {
			p = q + 2;
			if (p[0] && p[1] == ':' && p[2] == ' ')
				p += 3;
		}
	}
	if (l > log_threshold)
		return;
	if (lws_holding && l <= LOG_WARN) {
		if (lws_nheld < (int)(sizeof lws_held / sizeof lws_held[0])) {
			lws_held[lws_nheld].l = l;
			snprintf(lws_held[lws_nheld].text, sizeof lws_held[0].text, "%s", p);
			size_t n = strlen(lws_held[lws_nheld].text);
			while (n && lws_held[lws_nheld].text[n - 1] == '\n')
				lws_held[lws_nheld].text[--n] = '\0';
			lws_nheld++;
		}
		return;
	}
	if (l <= LOG_WARN) {
		/* the same burst-per-second cap as our own refusal lines; debug
		 * output (asked for explicitly) is not capped */
		if (!limit_pass(&lws_lim, clock_wall_s()))
			return;
	}
	LOG_EV(l, "lws", "lws: %s", p);
}
