/*
 * stats_page.h -- the /stats page: an operator's live view of the server.
 *
 * The server renders the whole page from struct stats (so it is complete
 * without JavaScript); one small inline script then polls /stats.json once
 * a second and redraws the tables and the graph in place. See
 * stats_page.cpp for why polling rather than a push WebSocket.
 */
#pragma once
#include <stddef.h>
#include <time.h>

#include "stats.h"

/*
 * Render the page (with the live blocks; blocks may be NULL). Returns a malloc'd buffer (free() it) and its length in
 * *len, or NULL when out of memory. Never a truncated page: the size is
 * measured in a first pass and the buffer allocated to fit.
 */
struct block_table;
char *stats_page_render(const struct stats *s, const struct calls *cs, const struct block_table *blocks, time_t now,
			size_t *len);
/* ... listing the calls v selects (stats.h; stats_page_render uses the default view) */
char *stats_page_render_view(const struct stats *s, const struct calls *cs, const struct block_table *blocks,
			     const struct stats_view *v,
			     time_t now, size_t *len);

/*
 * The page's Content-Security-Policy: nothing may load but the one inline
 * script and the one <style> block (each allowed by its SHA-256) and
 * fetches back to this origin. Computed once; a static string afterwards.
 */
const char *stats_page_csp(void);

/* The inline script, exactly as hashed and as placed between <script> tags. */
extern const char stats_page_script[];
