/*
 * log.h -- one line per event on stderr: UTC timestamp, level, message.
 *
 * The level check happens in the macro, before any formatting, so disabled
 * levels cost one comparison (no log line is ever built per audio frame at
 * the default level). Security events (refused handshakes) go through
 * log_limited(), which caps each kind to a burst per second so a flood of bad
 * tokens cannot flood the log. Tokens are never logged; log_token_hint()
 * gives a short non-reversible fingerprint when one is needed to correlate.
 * libwebsockets' own messages are routed here by log_route_lws() in server.cpp.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern enum log_level log_threshold;

/* "error", "warn", "info", "debug" -> level; returns 0, or -1 if unknown. */
/* Printed after the level on every line ("[tag] "), e.g. the --worker-id; NULL or "" = none. */
void log_set_tag(const char *tag);

int log_level_parse(const char *s, enum log_level *out);
const char *log_level_str(enum log_level l);

void log_write(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG(lvl, ...) do { if ((lvl) <= log_threshold) log_write((lvl), __VA_ARGS__); } while (0)
#define log_err(...)   LOG(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  LOG(LOG_WARN, __VA_ARGS__)
#define log_info(...)  LOG(LOG_INFO, __VA_ARGS__)
#define log_debug(...) LOG(LOG_DEBUG, __VA_ARGS__)

/* Per-kind rate limiter state: embed one per kind of security event. */
struct log_limit {
	time_t   window;      /* second the current burst belongs to */
	uint32_t in_window;   /* lines written in that second */
	uint32_t suppressed;  /* lines dropped since the last one written */
};
#define LOG_LIMIT_BURST 10

/*
 * Write at WARN unless LOG_LIMIT_BURST lines of this kind were already written
 * in the current second; the first line after a quiet spell reports how many
 * were suppressed. Returns 1 if written, 0 if suppressed.
 */
int log_limited(struct log_limit *lim, time_t now, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * An 8-hex-digit fingerprint (FNV-1a) of a secret-bearing string, so log
 * lines can be correlated without the value itself. out must hold 9 bytes.
 */
void log_token_hint(const char *s, size_t len, char out[9]);
