/*
 * test_apps.cpp -- unit tests for src/apps.cpp, the list of voice apps:
 * names as --app takes them, the DTMF order documented in docs/apps.md,
 * and what every listed app must provide.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <string.h>

#include "apps.h"

static void test_apps_find_by_name(void **state)
{
	(void)state;
	assert_ptr_equal(apps_find("echo"), &app_echo);
	assert_ptr_equal(apps_find("delay"), &app_delay);
	assert_ptr_equal(apps_find("parrot"), &app_parrot);
	assert_ptr_equal(apps_find("robot"), &app_robot);
	assert_null(apps_find("Echo"));
	assert_null(apps_find(""));
	assert_null(apps_find("echo "));
}

static void test_apps_dtmf_order_is_the_documented_one(void **state)
{
	(void)state;
	/* docs/apps.md: 1 echo, 2 delay, 3 parrot, 4 robot */
	assert_int_equal(apps_switchable_n, 4);
	assert_ptr_equal(apps_switchable[0], &app_echo);
	assert_ptr_equal(apps_switchable[1], &app_delay);
	assert_ptr_equal(apps_switchable[2], &app_parrot);
	assert_ptr_equal(apps_switchable[3], &app_robot);
	assert_string_equal(apps_names(), "echo, delay, parrot, robot");
	const char *const *names = apps_name_array();
	for (int i = 0; i < apps_switchable_n; i++)
		assert_string_equal(names[i], apps_switchable[i]->name);
}

static void test_apps_each_provides_what_the_seam_needs(void **state)
{
	(void)state;
	for (int i = 0; i < apps_switchable_n; i++) {
		const struct voice_app *a = apps_switchable[i];
		assert_non_null(a->name);
		assert_true(strlen(a->name) < 16);                /* config's app[16] */
		assert_non_null(a->talk_text);
		assert_true(strlen(a->talk_text) > 10);
		assert_non_null(a->frame);                         /* every app takes frames */
		assert_true(a->state_bytes <= VOICE_STATE_MAX);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a->name, apps_switchable[j]->name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apps_find_by_name),
		cmocka_unit_test(test_apps_dtmf_order_is_the_documented_one),
		cmocka_unit_test(test_apps_each_provides_what_the_seam_needs),
	};
	return cmocka_run_group_tests_name("apps", tests, NULL, NULL);
}
