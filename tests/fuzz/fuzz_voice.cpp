/*
 * fuzz_voice.cpp -- libFuzzer harness for the voice-app seam (src/voice.cpp)
 * and every shipped app (src/apps/): random sequences of what a call
 * can bring -- frames of any size and loudness, Vonage's text events (any
 * rate, any DTMF digit, notify payloads, garbage), 20 ms ticks, time
 * jumps, the transport sending or not -- against one call, through a fake
 * transport like the unit tests' (a real ring; "sending" pops the queue).
 *
 * Input: byte 0 picks the start app, byte 1 the app memory budget (in
 * 64 KiB steps); then operations, each an opcode byte and an argument
 * byte (frame bodies follow their header). Checks after every step: the
 * ring's slots are all accounted for (queued + free = capacity), queued
 * audio frames are whole frames no bigger than a slot, the process-wide
 * heap count equals this call's heap block, the app is one of the list,
 * the transport was asked to hang up at most once; after the call closes,
 * the heap count is back to zero (and LeakSanitizer sees nothing left).
 */
#include "fuzz.h"

#include "apps.h"
#include "ring.h"
#include "voice.h"

#define F_SLOTS 8
#define F_SLOT_BYTES 960

struct fz {
	int hangups, kicks, ticking;
};

static void fz_kick(void *a) { ((struct fz *)a)->kicks++; }
static void fz_hangup(void *a, int code, const char *why)
{
	FUZZ_CHECK(code >= 1000 && code <= 4999 && why && why[0]);
	((struct fz *)a)->hangups++;
}
static void fz_ticking(void *a, int on) { ((struct fz *)a)->ticking = on; }
static const struct voice_transport fz_transport = { fz_kick, fz_hangup, fz_ticking };

static const char *const texts[] = {
	"{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=8000\",\"uuid\":\"u\"}",
	"{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=16000\",\"to\":\"1\"}",
	"{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=24000\"}",
	"{\"event\":\"websocket:connected\",\"content-type\":\"audio/mp3\"}",
	"{\"event\":\"websocket:cleared\"}",
	"{\"event\":\"websocket:notify\",\"payload\":{\"parrot\":1}}",
	"{\"event\":\"websocket:notify\",\"payload\":{\"parrot\":2}}",
	"{\"event\":\"websocket:notify\",\"payload\":[1]}",
	"{\"event\":\"websocket:notify\"}",
	"{\"event\":\"websocket:other\"}",
	"not json",
};

static void check(const struct voice_call *c, const struct ring *r, const struct fz *z, uint64_t heap)
{
	FUZZ_CHECK(r->pool->out == ring_held(r) && r->count <= r->slots);
	FUZZ_CHECK(ring_rx_len(r) <= r->slot_bytes);
	for (uint32_t k = 0; k < r->count; k++) {
		const struct ring_slot *s = ring_queued(r, k);
		FUZZ_CHECK(s && s->len <= r->slot_bytes);
	}
	FUZZ_CHECK(heap == (c->opened ? c->heap_len : 0));
	FUZZ_CHECK(c->heap_len <= c->opts->heap_max);
	FUZZ_CHECK(!!c->heap == !!c->heap_len);
	int known = 0;
	for (int i = 0; i < apps_switchable_n; i++)
		known |= c->app == apps_switchable[i];
	FUZZ_CHECK(known);
	FUZZ_CHECK(z->hangups <= 1);
}

/* The apps' own options, as config_load would set them. */
static void set_app_opt(const char *flag, int v)
{
	const struct voice_opt *op = apps_option(flag);

	FUZZ_CHECK(op && op->kind == VOICE_OPT_INT);
	*(int *)op->value = v;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	alignas(8) static uint8_t storage[F_SLOTS * 2 * 2 + 8 + (F_SLOTS + 1) * 1024];
	struct ring r;
	struct voice_call c;
	struct voice_opts o;
	struct fz z = { 0, 0, 0 };
	uint64_t heap = 0, now = 1000000;
	uint8_t frame[F_SLOT_BYTES + 64];

	if (size < 2)
		return 0;
	FUZZ_CHECK(ring_storage_size(F_SLOTS, F_SLOT_BYTES) <= sizeof storage);
	FUZZ_CHECK(!ring_init(&r, storage, F_SLOTS, F_SLOT_BYTES));
	memset(&o, 0, sizeof o);
	set_app_opt("echo-max-ms", 160);
	set_app_opt("delay-ms", 200);        /* small buffers: more wrap-arounds per input */
	set_app_opt("parrot-max-ms", 1000);
	set_app_opt("parrot-level", 1024);
	o.dtmf_switch = 1;
	o.default_rate = 24000;
	o.slot_bytes = F_SLOT_BYTES;
	o.heap_max = (uint64_t)data[1] * 65536;
	o.heap_in_use = &heap;
	voice_init(&c, &r, &fz_transport, &z, &o, apps_switchable[data[0] % apps_switchable_n], apps_switchable,
		   apps_switchable_n, 1);

	size_t i = 2;
	while (i + 2 <= size) {
		uint8_t op = data[i], arg = data[i + 1];
		i += 2;
		c.now_us = now;
		switch (op % 8) {
		case 0:
		case 1: {   /* a frame: 20 ms at one of the rates, or any length; loud or quiet */
			static const uint32_t lens[] = { 320, 640, 960, 0, 1, 2, 959, 961 };
			uint32_t len = (op & 0x80) ? (uint32_t)arg * 4 : lens[arg % 8];
			if (len > sizeof frame)
				len = sizeof frame;
			size_t have = size - i < len ? size - i : len;
			memset(frame, (op & 0x40) ? 0x7f : 0, len);
			memcpy(frame, data + i, have);
			i += have;
			if (ring_rx_append(&r, frame, len) == 0)
				voice_frame(&c);   /* (over slot_bytes the transport closes 1009 instead) */
			break;
		}
		case 2: {   /* a text event */
			const char *t = texts[arg % (sizeof texts / sizeof texts[0])];
			struct ws_event ev;
			vonage_msg_parse_ws(t, strlen(t), &ev);
			voice_event_in(&c, &ev, t, strlen(t));
			break;
		}
		case 3: {   /* a key */
			static const char keys[] = "0123456789*#ABCD";
			char t[80];
			int n = snprintf(t, sizeof t, "{\"event\":\"websocket:dtmf\",\"digit\":\"%c\"}", keys[arg % 16]);
			struct ws_event ev;
			vonage_msg_parse_ws(t, (size_t)n, &ev);
			voice_event_in(&c, &ev, t, (size_t)n);
			break;
		}
		case 4:     /* 20 ms pass */
			now += 20000;
			if (z.ticking) {
				c.now_us = now;
				voice_tick(&c);
			}
			break;
		case 5:     /* the transport sends up to arg messages */
			for (int k = 0; k < arg && ring_peek(&r); k++)
				ring_pop(&r);
			break;
		case 6:     /* a longer gap */
			now += (uint64_t)arg * 100000;
			break;
		case 7:     /* the app's own calls, out of turn */
			if (arg & 1)
				FUZZ_CHECK(voice_echo(&c) == -1 && !voice_frame_data(&c));
			if (arg & 2)
				voice_clear(&c);
			if (arg & 4)
				voice_notify(&c, (arg & 8) ? "{\"x\":1}" : "nope");
			break;
		}
		check(&c, &r, &z, heap);
	}
	voice_close(&c);
	FUZZ_CHECK(heap == 0 && !c.heap);
	return 0;
}
