/*
 * list.h -- the voice apps this server ships, one line each: APP(NAME) is
 * the struct voice_app app_NAME defined in src/apps/NAME.cpp. This is the
 * whole registration: --app takes these names, --help and docs/options.md
 * list them and their options, and the order is the DTMF digits' (the
 * first line is key 1; at most nine lines, keys 1-9). apps.cpp reads it;
 * the Makefile links every .cpp in src/apps/. No include guard: it is read
 * once per definition of APP().
 */
APP(echo)     /* the caller hears themselves */
APP(delay)    /* ... a fixed time later */
APP(parrot)   /* beep, record, play back */
APP(robot)    /* the worked example of docs/apps.md: a robot voice */
