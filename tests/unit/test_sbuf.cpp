/*
 * test_sbuf.cpp -- unit tests for src/sbuf.cpp: a renderer printed twice
 * (measure, then into an exact buffer); a failed or changing render gives
 * NULL, never a truncated text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

static void lines(struct sbuf *b, const void *arg)
{
	int n = *(const int *)arg;
	for (int i = 0; i < n; i++)
		sbuf_printf(b, "line %d of %d\n", i, n);
}

static void test_sbuf_exact_allocation(void **state)
{
	(void)state;
	size_t len = 0;
	int n = 1000;
	char *t = sbuf_render(lines, &n, &len);
	assert_non_null(t);
	assert_int_equal(strlen(t), len);
	assert_true(!strncmp(t, "line 0 of 1000\n", 15));
	assert_true(!strcmp(t + len - 17, "line 999 of 1000\n"));
	free(t);
	n = 0;
	t = sbuf_render(lines, &n, &len);   /* an empty text is a text */
	assert_non_null(t);
	assert_int_equal(len, 0);
	assert_string_equal(t, "");
	free(t);
}

static void changing(struct sbuf *b, const void *arg)
{
	int *calls = (int *)arg;   /* the second pass prints more than the first measured */
	sbuf_printf(b, "%s", ++*calls == 1 ? "short" : "longer than measured");
}

static void test_sbuf_changing_render_is_refused(void **state)
{
	(void)state;
	size_t len = 77;
	int calls = 0;
	assert_null(sbuf_render(changing, &calls, &len));
	assert_int_equal(calls, 2);
	assert_int_equal(len, 77);   /* untouched */
}

static void test_sbuf_failed_print_stops(void **state)
{
	(void)state;
	char buf[8];
	struct sbuf b = { buf, 0, sizeof buf, 1 };
	sbuf_printf(&b, "%s", "1234567");
	assert_int_equal(b.ok, 1);
	sbuf_printf(&b, "%s", "8");      /* no room for it and the NUL */
	assert_int_equal(b.ok, 0);
	assert_int_equal(b.len, 7);
	sbuf_printf(&b, "%s", "");       /* stays failed */
	assert_int_equal(b.ok, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sbuf_exact_allocation),
		cmocka_unit_test(test_sbuf_changing_render_is_refused),
		cmocka_unit_test(test_sbuf_failed_print_stops),
	};
	return cmocka_run_group_tests_name("sbuf", tests, NULL, NULL);
}
