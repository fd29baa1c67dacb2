/*
 * test_http_routes.cpp -- unit tests for src/http_routes.cpp: every route
 * by its exact path and methods, the Allow header of a 405, what kind of
 * route each is, and that nothing else (prefixes, case, a trailing slash)
 * is a route.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <string.h>

#include "http_routes.h"

static enum route find(const char *path, enum http_method m, int *ok, const char **allow)
{
	return routes_find(path, strlen(path), m, ok, allow);
}

static void test_routes_every_route(void **state)
{
	(void)state;
	static const struct { const char *path; enum route r; int get, post; const char *allow; } want[] = {
		{ "/webhooks/answer", ROUTE_ANSWER, 1, 1, "GET, POST" },
		{ "/webhooks/events", ROUTE_EVENTS, 1, 1, "GET, POST" },
		{ "/stats", ROUTE_STATS, 1, 0, "GET" },
		{ "/stats.json", ROUTE_STATS_JSON, 1, 0, "GET" },
		{ "/metrics", ROUTE_METRICS, 1, 0, "GET" },
		{ "/healthz", ROUTE_HEALTHZ, 1, 0, "GET" },
		{ "/admin/hangup", ROUTE_ADMIN_HANGUP, 0, 1, "POST" },
		{ "/admin/block", ROUTE_ADMIN_BLOCK, 0, 1, "POST" },
		{ "/admin/unblock", ROUTE_ADMIN_UNBLOCK, 0, 1, "POST" },
		{ "/admin/blocks", ROUTE_ADMIN_BLOCKS, 1, 0, "GET" },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		int ok;
		const char *allow;
		assert_int_equal(find(want[i].path, HTTP_GET, &ok, &allow), want[i].r);
		assert_int_equal(ok, want[i].get);
		assert_string_equal(allow, want[i].allow);
		assert_int_equal(find(want[i].path, HTTP_POST, &ok, &allow), want[i].r);
		assert_int_equal(ok, want[i].post);
		assert_int_equal(find(want[i].path, HTTP_OTHER, &ok, &allow), want[i].r);
		assert_int_equal(ok, 0);   /* PUT, DELETE, HEAD...: 405 */
	}
}

static void test_routes_nothing_else(void **state)
{
	(void)state;
	static const char *const no[] = { "", "/", "/stats/", "/STATS", "/stats.jso", "/statsx", "/admin",
					  "/admin/", "/admin/block/", "/webhooks", "/socket", "//stats",
					  "/stats?x=1" };
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		int ok = 1;
		const char *allow = "x";
		assert_int_equal(find(no[i], HTTP_GET, &ok, &allow), ROUTE_NONE);
		assert_int_equal(ok, 0);
		assert_null(allow);
	}
	int ok;
	const char *allow;
	assert_int_equal(routes_find(NULL, 0, HTTP_GET, &ok, &allow), ROUTE_NONE);
	/* the length is what counts, not a NUL */
	assert_int_equal(routes_find("/statsXYZ", 6, HTTP_GET, &ok, &allow), ROUTE_STATS);
}

static void test_routes_kinds_and_names(void **state)
{
	(void)state;
	for (int r = ROUTE_NONE; r <= ROUTE_ADMIN_BLOCKS; r++) {
		enum route x = (enum route)r;
		int kinds = route_is_webhook(x) + route_is_view(x) + route_is_admin(x);
		assert_true(kinds <= 1);
		assert_int_equal(kinds == 0, x == ROUTE_NONE || x == ROUTE_HEALTHZ);
	}
	assert_true(route_is_view(ROUTE_METRICS));
	assert_true(route_is_admin(ROUTE_ADMIN_BLOCKS));
	assert_string_equal(route_name(ROUTE_ANSWER), "answer webhook");
	assert_string_equal(route_name(ROUTE_EVENTS), "event webhook");
	assert_string_equal(route_name(ROUTE_METRICS), "stats");
	assert_string_equal(route_name(ROUTE_ADMIN_HANGUP), "admin");
	assert_string_equal(route_name(ROUTE_NONE), "request");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_every_route),
		cmocka_unit_test(test_routes_nothing_else),
		cmocka_unit_test(test_routes_kinds_and_names),
	};
	return cmocka_run_group_tests_name("http_routes", tests, NULL, NULL);
}
