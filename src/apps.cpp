/*
 * apps.cpp -- the list of voice apps (apps.h), built from src/apps/list.h:
 * its order is apps_switchable's, so the DTMF digits' (docs/apps.md).
 */
#include "apps.h"

#include <stdio.h>
#include <string.h>

#define APP(name) extern const struct voice_app app_##name;
#include "apps/list.h"
#undef APP

#define APP(name) &app_##name,
const struct voice_app *const apps_switchable[] = {
#include "apps/list.h"
};
#undef APP
const int apps_switchable_n = (int)(sizeof apps_switchable / sizeof apps_switchable[0]);

/* digits 1-9 choose them; a tenth could only be reached with --app */
static_assert(sizeof apps_switchable / sizeof apps_switchable[0] <= 9, "at most nine apps: keys 1-9");

const struct voice_app *apps_find(const char *name)
{
	for (int i = 0; i < apps_switchable_n; i++)
		if (!strcmp(apps_switchable[i]->name, name))
			return apps_switchable[i];
	return NULL;
}

const char *const *apps_name_array(void)
{
	static const char *names[sizeof apps_switchable / sizeof apps_switchable[0]];

	for (int i = 0; i < apps_switchable_n; i++)
		names[i] = apps_switchable[i]->name;
	return names;
}

const char *apps_names(void)
{
	static char buf[128];

	if (!buf[0])
		for (int i = 0; i < apps_switchable_n; i++) {
			size_t n = strlen(buf);
			snprintf(buf + n, sizeof buf - n, "%s%s", i ? ", " : "", apps_switchable[i]->name);
		}
	return buf;
}

const struct voice_opt *apps_option(const char *flag)
{
	for (int i = 0; i < apps_switchable_n; i++)
		for (const struct voice_opt *o = apps_switchable[i]->opts; o && o->flag; o++)
			if (!strcmp(o->flag, flag))
				return o;
	return NULL;
}
