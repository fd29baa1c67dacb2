/*
 * apps.h -- the voice apps this server ships, by name: what --app and a
 * call's DTMF digits choose from. Each app is a struct voice_app (voice.h)
 * defined in its own file, app_<name>.cpp; add yours to the list in
 * apps.cpp and it can be chosen with --app and, if listed as switchable,
 * with the next DTMF digit.
 */
#pragma once
#include "voice.h"

extern const struct voice_app app_echo;    /* app_echo.cpp: the caller hears themselves */
extern const struct voice_app app_delay;   /* app_delay.cpp: ... a fixed time later */
extern const struct voice_app app_parrot;  /* app_parrot.cpp: beep, record, play back */
extern const struct voice_app app_robot;   /* app_robot.cpp: the worked example, a robot voice */

/* Digit 1 switches to apps_switchable[0], and so on (voice_opts.dtmf_switch). */
extern const struct voice_app *const apps_switchable[];
extern const int apps_switchable_n;

/* The app called name, or NULL. */
const struct voice_app *apps_find(const char *name);

/* The apps' names, in apps_switchable's order (for calls by app in stats). */
const char *const *apps_name_array(void);

/* "echo, delay, parrot, robot": for --help and error messages. */
const char *apps_names(void);
