/*
 * log.h -- one line per event on stderr: UTC timestamp, level, message.
 *
 * The level check happens in the macro, before any formatting, so disabled
 * levels cost one comparison (no log line is ever built per audio frame at
 * the default level). Security events (refused handshakes) go through
 * log_limited(), which caps each kind to a burst per second so a flood of bad
 * tokens cannot flood the log. Tokens are never logged; log_token_hint()
 * gives a short non-reversible fingerprint when one is needed to correlate.
 * libwebsockets' own messages are routed here by lws_emit() in server.cpp.
 *
 * Two line formats (log_format, set once from --log-format):
 *   plain  2024-01-02T03:04:05.678Z info  call 3: WebSocket open from ...
 *   json   {"time":"2024-01-02T03:04:05.678Z","level":"info","event":"call_open",
 *           "fields":{"msg":"call 3: WebSocket open from ..."}}
 * Every line has an event name: a short stable identifier log shippers can
 * filter on. Call sites that matter pass one (LOG_EV, log_info_ev...); the
 * rest log as "log", lws's own lines as "lws", and rate-limited lines use
 * the name in their struct log_limit ("security" if none). The message
 * stays printf-formatted and becomes fields.msg, so no call site changes
 * its format string. Call sites whose lines people search by call (open,
 * connected, closing, closed, webhooks) also pass a few structured fields
 * (LOG_FIELDS) that appear next to msg in JSON; plain lines ignore them.
 */
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

enum log_format { LOG_FORMAT_PLAIN = 0, LOG_FORMAT_JSON = 1 };

extern enum log_level log_threshold;
extern enum log_format log_format;

/* "plain" / "json" -> format; returns 0, or -1 if unknown. */
int log_format_parse(const char *s, enum log_format *out);

/*
 * Printed after the level on every plain line ("[tag] "), e.g. the
 * --worker-id; in JSON lines it is fields.worker. NULL or "" = none.
 */
void log_set_tag(const char *tag);

/* "error", "warn", "info", "debug" -> level; returns 0, or -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_str(enum log_level l);

void log_write(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with an event name (a static string: [a-z0-9_]). */
void log_write_ev(enum log_level lvl, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A structured field of a JSON line: a string (str != NULL) or an integer. */
struct log_field { const char *key; const char *str; long long num; int raw; };
#define LOG_STR(k, v) { (k), (v) ? (v) : "", 0, 0 }
#define LOG_NUM(k, v) { (k), NULL, (long long)(v), 0 }
/* a number already formatted ("4.41", "-23.5"): written unquoted */
#define LOG_DEC(k, v) { (k), (v), 0, 1 }

/* log_write_ev plus n fields after "msg" (keys: static [a-z_] names, not "msg"). */
void log_write_fields(enum log_level lvl, const char *event, const struct log_field *f, size_t n,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define LOG(lvl, ...) do { if ((lvl) <= log_threshold) log_write((lvl), __VA_ARGS__); } while (0)
#define LOG_EV(lvl, ev, ...) do { if ((lvl) <= log_threshold) log_write_ev((lvl), (ev), __VA_ARGS__); } while (0)
/* `f` is an array of struct log_field, e.g. { LOG_NUM("call", id), LOG_STR("uuid", u) } */
#define LOG_FIELDS(lvl, ev, f, ...) do { if ((lvl) <= log_threshold) \
	log_write_fields((lvl), (ev), (f), sizeof(f) / sizeof((f)[0]), __VA_ARGS__); } while (0)
#define log_err_ev(ev, ...)   LOG_EV(LOG_ERROR, ev, __VA_ARGS__)
#define log_warn_ev(ev, ...)  LOG_EV(LOG_WARN, ev, __VA_ARGS__)
#define log_info_ev(ev, ...)  LOG_EV(LOG_INFO, ev, __VA_ARGS__)
#define log_debug_ev(ev, ...) LOG_EV(LOG_DEBUG, ev, __VA_ARGS__)
#define log_err(...)   LOG(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  LOG(LOG_WARN, __VA_ARGS__)
#define log_info(...)  LOG(LOG_INFO, __VA_ARGS__)
#define log_debug(...) LOG(LOG_DEBUG, __VA_ARGS__)

/* Per-kind rate limiter state: embed one per kind of security event. */
struct log_limit {
	time_t   window;      /* second the current burst belongs to */
	uint32_t in_window;   /* lines written in that second */
	uint32_t suppressed;  /* lines dropped since the last one written */
	const char *event;    /* event name of these lines; NULL = "security" */
	uint32_t burst;       /* lines a second; 0 = LOG_LIMIT_BURST */
	uint64_t suppressed_total;   /* every line this limiter ever dropped */
};
#define LOG_LIMIT_BURST 10

/*
 * Write at WARN unless LOG_LIMIT_BURST lines of this kind were already written
 * in the current second; the first line after a quiet spell reports how many
 * were suppressed. Returns 1 if written, 0 if suppressed.
 */
int log_limited(struct log_limit *lim, time_t now, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * The same with structured fields for JSON lines. Refusals pass "remote"
 * (the client address) and "reason" (the stats key): what fail2ban's
 * filter (scripts/fail2ban/) and other log readers match on.
 */
int log_limited_fields(struct log_limit *lim, time_t now, const struct log_field *f, size_t n,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int log_limited_fieldsv(struct log_limit *lim, time_t now, const struct log_field *f, size_t n, const char *fmt,
			va_list ap) __attribute__((format(printf, 5, 0)));

/*
 * One line of libwebsockets' own log (server.cpp's lws emit callback, which
 * gets no context pointer: so its rate limiter is the logger's, like the
 * threshold). lws's own timestamp prefix is dropped; warnings and errors are
 * capped like log_limited()'s lines (lws logs some per-connection failures,
 * e.g. every failed accept(), with no throttle of its own).
 */
void log_lws_line(enum log_level lvl, const char *line);

/*
 * Hold lws's warnings and errors back (a few, while the context is being
 * created) and then print them, or drop them when the caller has said
 * what went wrong better itself (a port in use is one line, not three).
 */
void log_lws_hold(void);
void log_lws_release(int print);

/*
 * JSON-escape s into out (cap bytes, always NUL-terminated unless cap is 0):
 * quote, backslash and control characters escaped, valid UTF-8 kept, every
 * byte of an invalid sequence replaced by U+FFFD. Stops before a character
 * that would not fit whole. Returns the bytes written (without the NUL).
 */
size_t log_json_escape(char *out, size_t cap, const char *s, size_t len);

/*
 * An 8-hex-digit fingerprint (FNV-1a) of a secret-bearing string, so log
 * lines can be correlated without the value itself. out must hold 9 bytes.
 */
void log_token_hint(const char *s, size_t len, char out[9]);
