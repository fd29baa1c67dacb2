/*
 * test_voice.cpp -- unit tests for src/voice.cpp, the seam between the
 * transport and a voice app, driven through a fake transport
 * (voice_fake.h) with two test apps: "rec" records what it is given and
 * does what the test tells it; "big" wants a heap block and ticks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "voice_fake.h"

static void big_frame_fwd(struct voice_call *c, void *st, const uint8_t *pcm, uint32_t len)
{
	(void)c; (void)st; (void)pcm; (void)len;
}

/* What the test wants the "rec" app to do with the next frame. */
enum { DO_NOTHING, DO_ECHO, DO_ECHO_TWICE, DO_DROP, DO_SEND, DO_FAIL_OPEN };
static int next_action;

struct rec_state {
	int opens, frames, events, closes, ticks;
	char last_digit;
	int last_type;
	char payload[32];
	char uuid[16], to[16];
	int rate;
	uint32_t frame_bytes;
	size_t connected_len;
	int headers_seen;   /* the NCCO header "x":"y" was in the raw connected message */
	int echo_rc, echo2_rc;
};

static int rec_open(struct voice_call *c, void *st)
{
	struct rec_state *s = (struct rec_state *)st;
	s->opens++;
	snprintf(s->uuid, sizeof s->uuid, "%.15s", c->info.uuid);
	snprintf(s->to, sizeof s->to, "%.15s", c->info.to);
	s->rate = c->info.rate;
	s->frame_bytes = c->info.frame_bytes;
	s->connected_len = c->info.connected_len;
	s->headers_seen = memmem(c->info.connected, c->info.connected_len, "\"x\":\"y\"", 7) != NULL;
	return next_action == DO_FAIL_OPEN ? -1 : 0;
}

static void rec_frame(struct voice_call *c, void *st, const uint8_t *pcm, uint32_t len)
{
	struct rec_state *s = (struct rec_state *)st;
	uint8_t made[960];

	(void)pcm;
	s->frames++;
	switch (next_action) {
	case DO_ECHO:
		s->echo_rc = voice_echo(c);
		break;
	case DO_ECHO_TWICE:
		s->echo_rc = voice_echo(c);
		s->echo2_rc = voice_echo(c);
		break;
	case DO_DROP:
		voice_drop(c);
		break;
	case DO_SEND:
		fake_pcm(made, c->info.frame_bytes, 0, (uint16_t)(1000 + len));
		voice_send_audio(c, made, c->info.frame_bytes);
		break;
	}
}

static void rec_event(struct voice_call *c, void *st, const struct voice_event *ev)
{
	struct rec_state *s = (struct rec_state *)st;
	(void)c;
	s->events++;
	s->last_type = ev->type;
	s->last_digit = ev->digit;
	snprintf(s->payload, sizeof s->payload, "%.31s", ev->payload);
}

static int closes_seen;
static void rec_close(struct voice_call *c, void *st)
{
	(void)c;
	((struct rec_state *)st)->closes++;
	closes_seen++;
}

static_assert(sizeof(struct rec_state) <= VOICE_STATE_MAX, "rec_state fits the seam's state area");

/* an app that asks for more state than the seam has: refused at open */
static const struct voice_app app_fat = { "fat", "talk", VOICE_STATE_MAX + 1, NULL, NULL, big_frame_fwd, NULL,
					  NULL, NULL };

static const struct voice_app app_rec = { "rec", "talk", sizeof(struct rec_state), NULL, rec_open, rec_frame,
					  rec_event, NULL, rec_close };

/* "big": a 5000-byte heap block, marked at open so a switch shows a fresh one */
static size_t big_heap(const struct voice_call *c) { (void)c; return 5000; }
static int big_open(struct voice_call *c, void *st)
{
	(void)st;
	for (size_t i = 0; i < c->heap_len; i++)
		if (c->heap[i])
			return -1;   /* not zeroed */
	memset(c->heap, 0xAB, c->heap_len);
	return 0;
}
static void big_frame(struct voice_call *c, void *st, const uint8_t *pcm, uint32_t len)
{
	(void)c; (void)st; (void)pcm; (void)len;
}
static void big_tick(struct voice_call *c, void *st) { (void)c; ((int *)st)[0]++; }
static const struct voice_app app_big = { "big", "talk", sizeof(int), big_heap, big_open, big_frame, NULL,
					  big_tick, NULL };

static const struct voice_app *const test_apps[] = { &app_rec, &app_big, &app_fat };

static struct rec_state *rec(struct fake *f) { return (struct rec_state *)f->call.state; }

static int setup(void **state)
{
	next_action = DO_NOTHING;
	closes_seen = 0;
	*state = fake_new(&app_rec, test_apps, 3);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	fake_free((struct fake *)*state);
	return 0;
}

/* --- opening ---------------------------------------------------------------- */

static void test_voice_opens_at_connected_with_the_call_info(void **state)
{
	struct fake *f = (struct fake *)*state;

	assert_int_equal(f->call.opened, 0);
	assert_int_equal(f->call.info.rate, 24000);
	fake_connected(f, 16000);
	assert_int_equal(f->call.opened, 1);
	assert_int_equal(rec(f)->opens, 1);
	assert_string_equal(rec(f)->uuid, "u-1");
	assert_string_equal(rec(f)->to, "447700900000");
	assert_int_equal(rec(f)->rate, 16000);
	assert_int_equal(rec(f)->frame_bytes, 640);
	/* the raw message carries the NCCO headers, during open only */
	assert_true(rec(f)->headers_seen);
	assert_string_equal(f->call.info.connected, "");
	assert_int_equal(rec(f)->events, 0);
	/* a second connected is an event, not a second open */
	fake_connected(f, 8000);
	assert_int_equal(rec(f)->opens, 1);
	assert_int_equal(rec(f)->events, 1);
	assert_int_equal(rec(f)->last_type, VOICE_EV_CONNECTED);
	assert_int_equal(f->call.info.frame_bytes, 320);
}

static void test_voice_first_frame_opens_without_connected(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[960];

	fake_pcm(pcm, sizeof pcm, 0, 1);
	fake_frame(f, pcm, sizeof pcm, 1000);
	assert_int_equal(rec(f)->opens, 1);
	assert_int_equal(rec(f)->frames, 1);
	assert_int_equal(rec(f)->rate, 24000);   /* --rate until told otherwise */
	assert_int_equal(rec(f)->connected_len, 0);
}

static void test_voice_open_failure_hangs_up_1011_and_ignores_frames(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[960];

	next_action = DO_FAIL_OPEN;
	fake_connected(f, 24000);
	assert_int_equal(f->hangup_code, 1011);
	fake_pcm(pcm, sizeof pcm, 0, 1);
	fake_frame(f, pcm, sizeof pcm, 1000);
	assert_int_equal(rec(f)->frames, 0);
	assert_int_equal(ring_rx_len(&f->ring), 0);
	assert_int_equal(f->hangups, 1);
}

/* --- frames ----------------------------------------------------------------- */

static void test_voice_echo_queues_the_received_slot_itself(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[960];

	fake_connected(f, 24000);
	next_action = DO_ECHO;
	fake_pcm(pcm, sizeof pcm, 5, 42);
	f->call.now_us = 20000;
	ring_rx_append(&f->ring, pcm, sizeof pcm);
	const uint8_t *where = ring_rx_data(&f->ring);
	voice_frame(&f->call);
	assert_int_equal(rec(f)->echo_rc, 0);
	assert_int_equal(ring_count(&f->ring), 1);
	assert_int_equal(f->kicks, 1);
	struct ring_slot *s = ring_peek(&f->ring);
	assert_ptr_equal(s->buf + RING_HEADROOM, where);   /* no copy */
	assert_memory_equal(s->buf + RING_HEADROOM, pcm, sizeof pcm);
}

static void test_voice_not_echoed_is_consumed(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[960];

	fake_connected(f, 24000);
	fake_pcm(pcm, sizeof pcm, 5, 42);
	fake_frame(f, pcm, sizeof pcm, 0);
	assert_int_equal(rec(f)->frames, 1);
	assert_int_equal(ring_count(&f->ring), 0);
	assert_int_equal(ring_rx_len(&f->ring), 0);
	assert_int_equal(f->kicks, 0);
	assert_int_equal(f->ring.dropped, 0);
	next_action = DO_DROP;
	fake_frame(f, pcm, sizeof pcm, 0);
	assert_int_equal(f->ring.dropped, 1);
	assert_int_equal(ring_count(&f->ring), 0);
}

static void test_voice_echo_only_once_and_only_in_frame(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[960];

	fake_connected(f, 24000);
	assert_int_equal(voice_echo(&f->call), -1);
	assert_null(voice_frame_data(&f->call));
	next_action = DO_ECHO_TWICE;
	fake_pcm(pcm, sizeof pcm, 5, 42);
	fake_frame(f, pcm, sizeof pcm, 0);
	assert_int_equal(rec(f)->echo_rc, 0);
	assert_int_equal(rec(f)->echo2_rc, -1);
	assert_int_equal(ring_count(&f->ring), 1);
}

static void test_voice_send_audio_copies_exact_frames_only(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t made[960];

	fake_connected(f, 16000);
	fake_pcm(made, sizeof made, 1, 9);
	assert_int_equal(voice_send_audio(&f->call, made, 960), -1);   /* 16 kHz: 640 */
	assert_int_equal(voice_send_audio(&f->call, made, 639), -1);
	assert_int_equal(ring_count(&f->ring), 0);
	for (int i = 0; i < FAKE_SLOTS; i++)
		assert_int_equal(voice_send_audio(&f->call, made, 640), 0);
	assert_int_equal(voice_room(&f->call), 0);
	assert_int_equal(voice_send_audio(&f->call, made, 640), -1);
	assert_int_equal(f->call.n.tx_full, 1);
	assert_int_equal(f->call.n.app_frames, FAKE_SLOTS);
	assert_int_equal(f->kicks, FAKE_SLOTS);
	assert_int_equal(f->ring.dropped, 0);   /* refused, not dropped */
	/* a frame still arrives with the queue full: the receive slot is apart */
	next_action = DO_ECHO;
	fake_pcm(made, 640, 1, 77);
	fake_frame(f, made, 640, 0);
	assert_int_equal(rec(f)->frames, 1);
	assert_int_equal(ring_count(&f->ring), FAKE_SLOTS);
	assert_int_equal(f->ring.dropped, 1);   /* echo into a full queue: the oldest made way */
}

static void test_voice_app_audio_sent_while_receiving_keeps_the_frame(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t pcm[960];
	uint16_t m[4];

	fake_connected(f, 24000);
	next_action = DO_SEND;   /* makes a frame marked 1000 + len, then leaves the received one */
	fake_pcm(pcm, sizeof pcm, 3, 5);
	fake_frame(f, pcm, sizeof pcm, 0);
	assert_int_equal(fake_sent(f, m, 4, NULL, 0), 1);
	assert_int_equal(m[0], 1960);
}

/* --- commands ----------------------------------------------------------------- */

static void test_voice_notify_follows_the_audio_queued_before_it(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t made[960];
	char cmds[256];
	uint16_t m[8];

	fake_connected(f, 24000);
	fake_pcm(made, sizeof made, 0, 1);
	assert_int_equal(voice_send_audio(&f->call, made, 960), 0);
	assert_int_equal(voice_notify(&f->call, "{\"n\": 1 }"), 0);
	fake_pcm(made, sizeof made, 0, 2);
	assert_int_equal(voice_send_audio(&f->call, made, 960), 0);
	assert_int_equal(voice_notify(&f->call, "[1]"), -1);          /* not an object */
	assert_int_equal(voice_notify(&f->call, "{\"n\":1} x"), -1);  /* trailing bytes */
	assert_int_equal(f->call.n.notify_sent, 1);
	/* order: frame 1, the notify, frame 2 */
	struct ring_slot *s = ring_peek(&f->ring);
	assert_int_equal(s->text, 0);
	assert_int_equal(ring_queued(&f->ring, 1)->text, 1);
	assert_int_equal(ring_queued(&f->ring, 2)->text, 0);
	assert_int_equal(fake_sent(f, m, 8, cmds, sizeof cmds), 2);
	assert_string_equal(cmds, "{\"action\":\"notify\",\"payload\":{\"n\":1}}\n");
}

static void test_voice_clear_drops_queued_audio_keeps_commands(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t made[960];
	char cmds[256];

	fake_connected(f, 24000);
	fake_pcm(made, sizeof made, 0, 1);
	voice_send_audio(&f->call, made, 960);
	voice_notify(&f->call, "{\"a\":1}");
	voice_send_audio(&f->call, made, 960);
	voice_send_audio(&f->call, made, 960);
	assert_int_equal(voice_clear(&f->call), 0);
	assert_int_equal(f->call.n.clear_sent, 1);
	assert_int_equal(f->call.n.cleared_frames, 3);
	assert_int_equal(f->ring.dropped, 0);
	assert_int_equal(fake_sent(f, NULL, 0, cmds, sizeof cmds), 0);
	assert_string_equal(cmds, "{\"action\":\"notify\",\"payload\":{\"a\":1}}\n{\"action\":\"clear\"}\n");
}

/* --- events ------------------------------------------------------------------ */

static void test_voice_events_reach_the_app_and_are_counted(void **state)
{
	struct fake *f = (struct fake *)*state;

	fake_connected(f, 24000);
	fake_text(f, "{\"event\":\"websocket:cleared\"}");
	assert_int_equal(rec(f)->last_type, VOICE_EV_CLEARED);
	assert_int_equal(f->call.n.cleared, 1);
	fake_text(f, "{\"event\":\"websocket:notify\",\"payload\":{ \"parrot\" : 3 }}");
	assert_int_equal(rec(f)->last_type, VOICE_EV_NOTIFY);
	assert_string_equal(rec(f)->payload, "{\"parrot\":3}");
	assert_int_equal(f->call.n.notified, 1);
	fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"#\",\"duration\":100}");
	assert_int_equal(rec(f)->last_type, VOICE_EV_DTMF);
	assert_int_equal(rec(f)->last_digit, '#');
	fake_text(f, "{\"event\":\"websocket:something\"}");
	assert_int_equal(rec(f)->last_type, VOICE_EV_OTHER);
	int before = rec(f)->events;
	fake_text(f, "not json");
	assert_int_equal(rec(f)->events, before);   /* the transport counts those */
}

static void test_voice_dtmf_switches_apps(void **state)
{
	struct fake *f = (struct fake *)*state;
	uint8_t made[960];
	char cmds[128];

	fake_connected(f, 24000);
	fake_pcm(made, sizeof made, 0, 1);
	voice_send_audio(&f->call, made, 960);
	assert_int_equal(f->ticking, 0);
	fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"2\"}");   /* -> big */
	assert_ptr_equal(f->call.app, &app_big);
	assert_int_equal(closes_seen, 1);                 /* the old app closed */
	assert_int_equal(f->call.n.switches, 1);
	assert_int_equal(f->hangups, 0);                   /* big_open found its heap zeroed */
	assert_int_equal(f->call.heap_len, 5000);
	assert_int_equal(f->call.heap[4999], 0xAB);
	assert_int_equal(f->ticking, 1);                   /* big ticks */
	/* what rec queued is not big's to play: cleared here and at Vonage */
	assert_int_equal(fake_sent(f, NULL, 0, cmds, sizeof cmds), 0);
	assert_string_equal(cmds, "{\"action\":\"clear\"}\n");
	/* big's state was zeroed, then its tick counts */
	fake_tick(f, 20000);
	fake_tick(f, 40000);
	assert_int_equal(((int *)f->call.state)[0], 2);
	/* back to rec: fresh state, heap freed (LeakSanitizer would see it) */
	fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"1\"}");
	assert_ptr_equal(f->call.app, &app_rec);
	assert_null(f->call.heap);
	assert_int_equal(f->ticking, 0);
	assert_int_equal(rec(f)->opens, 1);
	assert_int_equal(rec(f)->frames, 0);
	/* the app's own digit again: nothing happens, nothing is cleared */
	uint64_t clears = f->call.n.clear_sent;
	fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"1\"}");
	assert_int_equal(f->call.n.clear_sent, clears);
	assert_int_equal(f->call.n.switches, 2);
	/* digits past the list, and the others, go to the app */
	fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"4\"}");
	assert_ptr_equal(f->call.app, &app_rec);
	assert_int_equal(rec(f)->last_digit, '4');
}

static void test_voice_dtmf_switch_off_gives_every_digit_to_the_app(void **state)
{
	struct fake *f = (struct fake *)*state;

	f->opts.dtmf_switch = 0;
	fake_connected(f, 24000);
	fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"2\"}");
	assert_ptr_equal(f->call.app, &app_rec);
	assert_int_equal(rec(f)->last_type, VOICE_EV_DTMF);
	assert_int_equal(rec(f)->last_digit, '2');
}

static void test_voice_switch_before_connected_opens_the_new_app(void **state)
{
	struct fake *f = (struct fake *)*state;

	fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"2\"}");
	assert_ptr_equal(f->call.app, &app_big);
	assert_int_equal(f->call.opened, 1);
	assert_int_equal(closes_seen, 0);   /* nothing was open */
}

static void test_voice_close_runs_once_and_frees(void **state)
{
	struct fake *f = (struct fake *)*state;

	fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"2\"}");   /* big: has a heap */
	assert_non_null(f->call.heap);
	voice_close(&f->call);
	assert_null(f->call.heap);
	voice_close(&f->call);   /* and teardown closes again: harmless */
	assert_int_equal(f->call.opened, 0);
}

static void test_voice_hangup_reaches_the_transport_once(void **state)
{
	struct fake *f = (struct fake *)*state;

	fake_connected(f, 24000);
	voice_hangup(&f->call, 1000, "bye");
	voice_hangup(&f->call, 1011, "again");
	assert_int_equal(f->hangups, 1);
	assert_int_equal(f->hangup_code, 1000);
	assert_string_equal(f->hangup_why, "bye");
	assert_int_equal(voice_switch(&f->call, &app_big), -1);   /* a hung-up call stays put */
}

static void test_voice_app_state_too_big_is_refused(void **state)
{
	struct fake *f = (struct fake *)*state;

	fake_connected(f, 24000);
	fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"3\"}");   /* -> fat */
	assert_int_equal(f->hangup_code, 1011);
	assert_int_equal(f->call.opened, 1);   /* closed as usual at the end */
}

static void test_voice_app_memory_is_counted_and_capped(void **state)
{
	struct fake *f = (struct fake *)*state;

	fake_connected(f, 24000);
	fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"2\"}");   /* big: 5000 bytes */
	assert_int_equal(f->heap_in_use, 5000);
	fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"1\"}");
	assert_int_equal(f->heap_in_use, 0);
	/* room for 4000 bytes only: the switch is refused, the call stays as it was */
	f->opts.heap_max = 4000;
	uint8_t made[960];
	fake_pcm(made, sizeof made, 0, 1);
	fake_sent(f, NULL, 0, NULL, 0);
	voice_send_audio(&f->call, made, 960);
	uint64_t clears = f->call.n.clear_sent;
	fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"2\"}");
	assert_ptr_equal(f->call.app, &app_rec);
	assert_int_equal(f->call.opened, 1);
	assert_int_equal(f->call.n.refused, 1);
	assert_int_equal(f->call.n.clear_sent, clears);     /* nothing was cleared */
	assert_int_equal(ring_count(&f->ring), 1);          /* the queued frame is still there */
	assert_int_equal(f->hangups, 0);
	assert_int_equal(f->heap_in_use, 0);
	/* exactly enough: it fits */
	f->opts.heap_max = 5000;
	fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"2\"}");
	assert_ptr_equal(f->call.app, &app_big);
	assert_int_equal(f->heap_in_use, 5000);
	voice_close(&f->call);
	assert_int_equal(f->heap_in_use, 0);
}

static void test_voice_start_app_without_room_hangs_up_1013(void **state)
{
	struct fake *f = (struct fake *)*state;

	fake_free(f);
	f = fake_new(&app_big, test_apps, 3);
	*state = f;
	f->heap_in_use = 1000;   /* other calls' */
	f->opts.heap_max = 5999;
	fake_connected(f, 24000);
	assert_int_equal(f->hangup_code, 1013);
	assert_int_equal(f->call.n.refused, 1);
	assert_null(f->call.heap);
	assert_int_equal(f->heap_in_use, 1000);   /* untouched */
}

static void test_voice_frame_us_by_rate(void **state)
{
	struct fake *f = (struct fake *)*state;

	fake_connected(f, 8000);
	assert_int_equal(voice_frame_us(&f->call, 320), 20000);
	fake_connected(f, 16000);
	assert_int_equal(voice_frame_us(&f->call, 640), 20000);
	assert_int_equal(voice_frame_us(&f->call, 100), 3125);
	fake_connected(f, 24000);
	assert_int_equal(voice_frame_us(&f->call, 960), 20000);
}

/* --- the per-call log budget (issue 19, finding 8) ------------------------------ */

/* Run fn with fd 2 pointed at a temporary file; the text written, in out. */
static void capture_stderr(void (*fn)(struct fake *), struct fake *f, char *out, size_t cap)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	assert_non_null(tmp);
	assert_true(saved >= 0 && dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn(f);
	dup2(saved, STDERR_FILENO);
	close(saved);
	ssize_t got = pread(fileno(tmp), out, cap - 1, 0);
	out[got > 0 ? got : 0] = '\0';
	fclose(tmp);
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_voice_log_budget_is_a_burst_per_window_per_call(void **state)
{
	struct fake *f = (struct fake *)*state, *g = fake_new(&app_rec, test_apps, 3);
	uint64_t total = 0;

	f->opts.log_suppressed = &total;
	g->opts.log_suppressed = &total;
	f->call.now_us = g->call.now_us = 100ull * 1000000;
	int written = 0;
	for (int i = 0; i < 25; i++)
		written += voice_log_ok(&f->call, LOG_INFO);
	assert_int_equal(written, VOICE_LOG_BURST);
	assert_int_equal(f->call.log_suppressed, 25 - VOICE_LOG_BURST);
	/* another call has a budget of its own */
	assert_int_equal(voice_log_ok(&g->call, LOG_INFO), 1);
	assert_int_equal(g->call.log_suppressed, 0);
	/* still the same window just before it ends; a fresh one at its end */
	f->call.now_us = (100ull + VOICE_LOG_WINDOW_S) * 1000000 - 1;
	assert_int_equal(voice_log_ok(&f->call, LOG_WARN), 0);
	assert_int_equal(f->call.log_suppressed, 16);
	assert_int_equal(total, 16);
	f->call.now_us = (100ull + VOICE_LOG_WINDOW_S) * 1000000;
	assert_int_equal(voice_log_ok(&f->call, LOG_INFO), 1);
	assert_int_equal(f->call.log_suppressed, 16);   /* the summary line is not counted against it */
	fake_free(g);
}

static void ask_in_two_windows(struct fake *f)
{
	f->call.now_us = 50ull * 1000000;
	for (int i = 0; i < VOICE_LOG_BURST + 7; i++)
		if (voice_log_ok(&f->call, LOG_INFO))
			log_info("budgeted line %d", i);
	f->call.now_us += VOICE_LOG_WINDOW_S * 1000000ull;
	if (voice_log_ok(&f->call, LOG_INFO))
		log_info("budgeted line after");
	/* a quiet window after a full one says nothing more */
	f->call.now_us += VOICE_LOG_WINDOW_S * 1000000ull;
	if (voice_log_ok(&f->call, LOG_INFO))
		log_info("budgeted line later");
}

static void test_voice_log_budget_says_what_it_left_out(void **state)
{
	struct fake *f = (struct fake *)*state;
	char out[8192];

	capture_stderr(ask_in_two_windows, f, out, sizeof out);
	assert_int_equal(count_of(out, "budgeted line "), VOICE_LOG_BURST + 2);
	assert_int_equal(count_of(out, "call 7: 7 more line(s) about this call were not logged"), 1);
	assert_int_equal(count_of(out, "were not logged"), 1);
	/* the summary comes before the first line of the new window */
	assert_true(strstr(out, "were not logged") < strstr(out, "budgeted line after"));
	assert_int_equal(f->call.log_suppressed, 7);
}

static void test_voice_log_budget_counts_only_lines_the_level_writes(void **state)
{
	struct fake *f = (struct fake *)*state;
	enum log_level was = log_threshold;

	log_threshold = LOG_WARN;
	f->call.now_us = 10ull * 1000000;
	for (int i = 0; i < 50; i++)
		assert_int_equal(voice_log_ok(&f->call, LOG_INFO), 0);
	assert_int_equal(f->call.log_suppressed, 0);   /* not written anyway: not "left out" */
	assert_int_equal(voice_log_ok(&f->call, LOG_WARN), 1);
	log_threshold = was;
}

static void press_refused_switches(struct fake *f)
{
	for (int i = 0; i < 40; i++)
		fake_text(f, "{\"event\":\"websocket:dtmf\",\"digit\":\"2\"}");
}

static void test_voice_refused_switches_log_within_the_budget(void **state)
{
	struct fake *f = (struct fake *)*state;
	char out[16384];
	uint64_t total = 0;

	f->opts.log_suppressed = &total;
	f->call.now_us = 20ull * 1000000;
	fake_connected(f, 24000);
	f->opts.heap_max = 100;   /* "big" needs 5000: every key press is refused */
	capture_stderr(press_refused_switches, f, out, sizeof out);
	assert_int_equal(f->call.n.refused, 40);   /* every refusal is counted... */
	assert_int_equal(count_of(out, "--app-memory-max has"), VOICE_LOG_BURST);   /* ...not every one logged */
	assert_int_equal(f->call.log_suppressed, 40 - VOICE_LOG_BURST);
	assert_int_equal(total, 40 - VOICE_LOG_BURST);
	assert_ptr_equal(f->call.app, &app_rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_voice_opens_at_connected_with_the_call_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_first_frame_opens_without_connected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_open_failure_hangs_up_1011_and_ignores_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_echo_queues_the_received_slot_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_not_echoed_is_consumed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_echo_only_once_and_only_in_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_send_audio_copies_exact_frames_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_app_audio_sent_while_receiving_keeps_the_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_notify_follows_the_audio_queued_before_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_clear_drops_queued_audio_keeps_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_events_reach_the_app_and_are_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_dtmf_switches_apps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_dtmf_switch_off_gives_every_digit_to_the_app, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_switch_before_connected_opens_the_new_app, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_close_runs_once_and_frees, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_hangup_reaches_the_transport_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_app_state_too_big_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_app_memory_is_counted_and_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_start_app_without_room_hangs_up_1013, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_frame_us_by_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_log_budget_is_a_burst_per_window_per_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_log_budget_says_what_it_left_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_log_budget_counts_only_lines_the_level_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_refused_switches_log_within_the_budget, setup, teardown),
	};
	return cmocka_run_group_tests_name("voice", tests, NULL, NULL);
}
