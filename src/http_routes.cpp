/*
 * http_routes.cpp -- the route table; see http_routes.h.
 */
#include "http_routes.h"

#include <string.h>

#define M_GET  (1u << HTTP_GET)
#define M_POST (1u << HTTP_POST)

static const struct {
	const char *path;
	enum route  route;
	unsigned    methods;
	const char *allow;   /* the Allow header of a 405 */
} routes[] = {
	{ "/webhooks/answer", ROUTE_ANSWER, M_GET | M_POST, "GET, POST" },
	{ "/webhooks/events", ROUTE_EVENTS, M_GET | M_POST, "GET, POST" },
	{ "/stats", ROUTE_STATS, M_GET, "GET" },
	{ "/stats.json", ROUTE_STATS_JSON, M_GET, "GET" },
	{ "/healthz", ROUTE_HEALTHZ, M_GET, "GET" },
	{ "/metrics", ROUTE_METRICS, M_GET, "GET" },
	{ "/admin/hangup", ROUTE_ADMIN_HANGUP, M_POST, "POST" },
	{ "/admin/block", ROUTE_ADMIN_BLOCK, M_POST, "POST" },
	{ "/admin/unblock", ROUTE_ADMIN_UNBLOCK, M_POST, "POST" },
	{ "/admin/blocks", ROUTE_ADMIN_BLOCKS, M_GET, "GET" },
};

enum route routes_find(const char *path, size_t len, enum http_method method, int *method_ok, const char **allow)
{
	*method_ok = 0;
	*allow = NULL;
	for (size_t i = 0; path && i < sizeof routes / sizeof routes[0]; i++)
		if (len == strlen(routes[i].path) && !memcmp(path, routes[i].path, len)) {
			*method_ok = method != HTTP_OTHER && (routes[i].methods & (1u << method));
			*allow = routes[i].allow;
			return routes[i].route;
		}
	return ROUTE_NONE;
}

int route_is_webhook(enum route r)
{
	return r == ROUTE_ANSWER || r == ROUTE_EVENTS;
}

int route_is_view(enum route r)
{
	return r == ROUTE_STATS || r == ROUTE_STATS_JSON || r == ROUTE_METRICS;
}

int route_is_admin(enum route r)
{
	return r >= ROUTE_ADMIN_HANGUP && r <= ROUTE_ADMIN_BLOCKS;
}

const char *route_name(enum route r)
{
	switch (r) {
	case ROUTE_ANSWER: return "answer webhook";
	case ROUTE_EVENTS: return "event webhook";
	case ROUTE_STATS: case ROUTE_STATS_JSON: case ROUTE_METRICS: return "stats";
	case ROUTE_ADMIN_HANGUP: case ROUTE_ADMIN_BLOCK: case ROUTE_ADMIN_UNBLOCK: case ROUTE_ADMIN_BLOCKS: return "admin";
	default: return "request";
	}
}
