/*
 * apps.h -- the voice apps this server ships, by name: what --app and a
 * call's DTMF digits choose from, and the options the apps declare. The
 * list itself is src/apps/list.h, one line per app; each app is a struct
 * voice_app (voice_app.h) in its own file, src/apps/NAME.cpp.
 */
#pragma once
#include "voice_app.h"

/* Digit 1 switches to apps_switchable[0], and so on (voice_opts.dtmf_switch). */
extern const struct voice_app *const apps_switchable[];
extern const int apps_switchable_n;

/* The app called name, or NULL. */
const struct voice_app *apps_find(const char *name);

/* The apps' names, in apps_switchable's order (for calls by app in stats). */
const char *const *apps_name_array(void);

/* "echo, delay, parrot, robot": for error messages. */
const char *apps_names(void);

/* The option row of any listed app whose flag is flag (without "--"), or NULL. */
const struct voice_opt *apps_option(const char *flag);
