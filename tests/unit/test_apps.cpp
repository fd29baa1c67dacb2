/*
 * test_apps.cpp -- unit tests for src/apps.cpp, the list of voice apps
 * (src/apps/list.h): names as --app takes them, the DTMF order documented
 * in docs/apps.md, and what every listed app must provide, its options
 * included.
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

#include "apps.h"

static void test_apps_find_by_name(void **state)
{
	(void)state;
	static const char *const names[] = { "echo", "delay", "parrot", "robot" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_non_null(apps_find(names[i]));
		assert_string_equal(apps_find(names[i])->name, names[i]);
	}
	assert_null(apps_find("Echo"));
	assert_null(apps_find(""));
	assert_null(apps_find("echo "));
}

static void test_apps_dtmf_order_is_the_documented_one(void **state)
{
	(void)state;
	/* docs/apps.md: 1 echo, 2 delay, 3 parrot, 4 robot (a fork's apps follow) */
	assert_true(apps_switchable_n >= 4 && apps_switchable_n <= 9);
	assert_ptr_equal(apps_switchable[0], apps_find("echo"));
	assert_ptr_equal(apps_switchable[1], apps_find("delay"));
	assert_ptr_equal(apps_switchable[2], apps_find("parrot"));
	assert_ptr_equal(apps_switchable[3], apps_find("robot"));
	assert_true(!strncmp(apps_names(), "echo, delay, parrot, robot", 26));
	assert_true(apps_names()[26] == '\0' || apps_names()[26] == ',');
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

/* An app's options: named after it, documented, each default inside its
 * own range; and apps_option finds every one of them. */
static void test_apps_options_are_well_formed(void **state)
{
	(void)state;
	int n = 0;

	for (int i = 0; i < apps_switchable_n; i++) {
		const struct voice_app *a = apps_switchable[i];
		size_t len = strlen(a->name);
		for (const struct voice_opt *o = a->opts; o && o->flag; o++, n++) {
			assert_true(!strncmp(o->flag, a->name, len) && o->flag[len] == '-');
			assert_non_null(o->env);
			assert_non_null(o->help);
			assert_true(!strncmp(o->help, a->name, len) && o->help[len] == ':');
			assert_non_null(o->value);
			assert_ptr_equal(apps_option(o->flag), o);
			if (o->kind == VOICE_OPT_INT) {
				assert_non_null(o->arg);
				assert_non_null(o->def);
				assert_true(o->min <= atoi(o->def) && atoi(o->def) <= o->max);
			}
		}
	}
	assert_true(n >= 4);
	static const char *const shipped[] = { "echo-max-ms", "delay-ms", "parrot-max-ms", "parrot-level" };
	for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++)
		assert_non_null(apps_option(shipped[i]));
	assert_null(apps_option("echo"));
	assert_null(apps_option(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apps_find_by_name),
		cmocka_unit_test(test_apps_dtmf_order_is_the_documented_one),
		cmocka_unit_test(test_apps_each_provides_what_the_seam_needs),
		cmocka_unit_test(test_apps_options_are_well_formed),
	};
	return cmocka_run_group_tests_name("apps", tests, NULL, NULL);
}
