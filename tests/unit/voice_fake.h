/*
 * voice_fake.h -- a fake transport for driving voice calls (src/voice.h) in
 * unit tests: a real ring of 8 slots x 960 bytes, a clock the test sets,
 * and a record of what the seam asked the transport to do. "Sending" is
 * popping the queue (fake_sent), the way ws_audio's flush does. The apps'
 * own options start at their defaults for every fake call (config_load
 * would set them in the server); fake_app_opt changes one.
 * Included by test_voice.cpp and the test_app_*.cpp files.
 */
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "voice.h"

#define FAKE_SLOTS 8
#define FAKE_SLOT_BYTES 960

struct fake {
	struct ring       ring;
	uint8_t          *storage;
	struct voice_call call;
	struct voice_opts opts;
	int kicks;
	int hangup_code;      /* 0 = not hung up */
	char hangup_why[64];
	int hangups;
	int ticking;          /* last ticking() value */
	uint64_t heap_in_use; /* the process-wide app memory count (stats in the server) */
};

static inline void fake_kick(void *arg) { ((struct fake *)arg)->kicks++; }

static inline void fake_hangup(void *arg, int code, const char *why)
{
	struct fake *f = (struct fake *)arg;
	f->hangup_code = code;
	f->hangups++;
	snprintf(f->hangup_why, sizeof f->hangup_why, "%s", why);
}

static inline void fake_ticking(void *arg, int on) { ((struct fake *)arg)->ticking = on; }

static const struct voice_transport fake_transport = { fake_kick, fake_hangup, fake_ticking };

/* Default options: the server's defaults at 24 kHz. */
static inline void fake_default_opts(struct voice_opts *o)
{
	memset(o, 0, sizeof *o);
	o->dtmf_switch = 1;
	o->default_rate = 24000;
	o->slot_bytes = FAKE_SLOT_BYTES;
}

/* An app's options back to their defaults (the row's def, as config_load would). */
static inline void fake_app_defaults(const struct voice_app *a)
{
	for (const struct voice_opt *o = a->opts; o && o->flag; o++) {
		if (o->kind == VOICE_OPT_STR)
			snprintf((char *)o->value, o->size, "%s", o->def ? o->def : "");
		else
			*(int *)o->value = o->def ? atoi(o->def) : 0;
	}
}

/* Set the int option flag (without "--") of one of the call's apps; fails the test if none has it. */
static inline void fake_app_opt(struct fake *f, const char *flag, int v)
{
	for (int i = 0; i <= f->call.napps; i++) {
		const struct voice_app *a = i < f->call.napps ? f->call.apps[i] : f->call.app;
		for (const struct voice_opt *o = a->opts; o && o->flag; o++)
			if (!strcmp(o->flag, flag) && o->kind != VOICE_OPT_STR) {
				*(int *)o->value = v;
				return;
			}
	}
	fprintf(stderr, "fake_app_opt: no app has --%s\n", flag);
	abort();
}

/* A call in app (not yet opened); opts may be changed before fake_start. */
static struct fake *fake_new(const struct voice_app *app, const struct voice_app *const *apps, int napps)
{
	struct fake *f = (struct fake *)calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->storage = (uint8_t *)malloc(ring_storage_size(FAKE_SLOTS, FAKE_SLOT_BYTES));
	if (!f->storage || ring_init(&f->ring, f->storage, FAKE_SLOTS, FAKE_SLOT_BYTES)) {
		free(f->storage);
		free(f);
		return NULL;
	}
	fake_default_opts(&f->opts);
	fake_app_defaults(app);
	for (int i = 0; i < napps; i++)
		fake_app_defaults(apps[i]);
	f->opts.heap_max = 256ull << 20;
	f->opts.heap_in_use = &f->heap_in_use;
	voice_init(&f->call, &f->ring, &fake_transport, f, &f->opts, app, apps, napps, 7);
	return f;
}

static inline void fake_free(struct fake *f)
{
	voice_close(&f->call);
	free(f->storage);
	free(f);
}

/* Vonage's websocket:connected at rate (the app opens here). */
static inline void fake_connected(struct fake *f, int rate)
{
	char raw[256];
	struct ws_event ev;
	int n = snprintf(raw, sizeof raw,
			 "{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=%d\","
			 "\"uuid\":\"u-1\",\"from\":\"447700900001\",\"to\":\"447700900000\",\"x\":\"y\"}", rate);
	vonage_msg_parse_ws(raw, (size_t)n, &ev);
	voice_event_in(&f->call, &ev, raw, (size_t)n);
}

/* Any text event, as Vonage would send it. */
static inline void fake_text(struct fake *f, const char *raw)
{
	struct ws_event ev;
	vonage_msg_parse_ws(raw, strlen(raw), &ev);
	voice_event_in(&f->call, &ev, raw, strlen(raw));
}

/* A received frame at time now_us (microseconds). */
static inline void fake_frame(struct fake *f, const uint8_t *pcm, uint32_t len, uint64_t now_us)
{
	f->call.now_us = now_us;
	ring_rx_append(&f->ring, pcm, len);
	voice_frame(&f->call);
}

static inline void fake_tick(struct fake *f, uint64_t now_us)
{
	f->call.now_us = now_us;
	voice_tick(&f->call);
}

/* 16-bit little-endian samples, all = v (with a marker in sample 0). */
static inline void fake_pcm(uint8_t *buf, uint32_t len, int16_t v, uint16_t marker)
{
	for (uint32_t i = 0; i + 1 < len; i += 2) {
		uint16_t u = (uint16_t)(i == 0 ? (int16_t)marker : v);
		buf[i] = (uint8_t)(u & 0xff);
		buf[i + 1] = (uint8_t)(u >> 8);
	}
}

static inline uint16_t fake_marker(const uint8_t *buf)
{
	return (uint16_t)(buf[0] | buf[1] << 8);
}

/*
 * "Send" the whole queue: audio frames' markers into markers[] (up to max),
 * commands' text appended to cmds (NUL-separated lines). Returns frames sent.
 */
static inline int fake_sent(struct fake *f, uint16_t *markers, int max, char *cmds, size_t cmdcap)
{
	int n = 0;
	struct ring_slot *s;

	if (cmds && cmdcap)
		cmds[0] = '\0';
	while ((s = ring_peek(&f->ring))) {
		if (s->text) {
			if (cmds) {
				size_t at = strlen(cmds);
				snprintf(cmds + at, cmdcap - at, "%.*s\n", (int)s->len, (const char *)s->buf + RING_HEADROOM);
			}
		} else {
			if (markers && n < max)
				markers[n] = fake_marker(s->buf + RING_HEADROOM);
			n++;
		}
		ring_pop(&f->ring);
	}
	return n;
}
