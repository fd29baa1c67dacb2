/*
 * metrics.h -- /metrics: struct stats in the Prometheus text exposition
 * format (version 0.0.4), for the monitoring operators already run.
 *
 * Every family is named caller_echo_*, carries HELP and TYPE, and has a
 * bounded label set (reject reasons, known Vonage statuses + "other",
 * known close codes + "other"), so a hostile client cannot grow the
 * series count. Same access rule as /stats (http.cpp).
 */
#pragma once
#include <stddef.h>
#include <time.h>

#include "stats.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Render the exposition. Returns a malloc'd buffer (free() it) and its
 * length in *len, or NULL when out of memory; never a truncated one.
 */
struct block_table;
char *metrics_render(const struct stats *s, const struct calls *cs, const struct block_table *blocks, time_t now,
		     size_t *len);
