/*
 * apps.cpp -- the list of voice apps (apps.h). The order of
 * apps_switchable is the DTMF digits' order, documented in docs/apps.md.
 */
#include "apps.h"

#include <stdio.h>
#include <string.h>

const struct voice_app *const apps_switchable[] = { &app_echo, &app_delay, &app_parrot, &app_robot };
const int apps_switchable_n = (int)(sizeof apps_switchable / sizeof apps_switchable[0]);

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
