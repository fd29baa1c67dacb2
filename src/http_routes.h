/*
 * http_routes.h -- the HTTP routes: which paths exist, with which methods,
 * and what kind of thing each is (a Vonage webhook, a read view of the
 * counters, an operator action, the health check). Pure: the transport
 * (http.cpp) asks with the path and method it read, admission.h decides
 * who may use a route, and the route's own module answers it.
 */
#pragma once
#include <stddef.h>

enum route {
	ROUTE_NONE = 0,
	ROUTE_ANSWER, ROUTE_EVENTS,                    /* the Vonage webhooks (webhooks.h) */
	ROUTE_STATS, ROUTE_STATS_JSON, ROUTE_METRICS,  /* the read views */
	ROUTE_HEALTHZ,
	ROUTE_ADMIN_HANGUP, ROUTE_ADMIN_BLOCK, ROUTE_ADMIN_UNBLOCK, ROUTE_ADMIN_BLOCKS   /* admin.h */
};

/* The methods routes take; everything else is HTTP_OTHER. */
enum http_method { HTTP_GET = 0, HTTP_POST, HTTP_OTHER };

/*
 * The route at path (len bytes, exact match). ROUTE_NONE when there is none
 * (404). *method_ok says whether it takes method (405 otherwise, with *allow
 * the Allow header's value).
 */
enum route routes_find(const char *path, size_t len, enum http_method method, int *method_ok, const char **allow);

int route_is_webhook(enum route r);
int route_is_view(enum route r);    /* /stats, /stats.json, /metrics: call data */
int route_is_admin(enum route r);

/* "answer webhook", "event webhook", "stats", "admin", "request": for log lines. */
const char *route_name(enum route r);
