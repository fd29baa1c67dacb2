/*
 * test_app_parrot.cpp -- unit tests for src/apps/parrot.cpp through the seam
 * (voice_fake.h): the beep, recording until the caller pauses, playback of
 * exactly what was said followed by a notify, the next beep on that
 * notify's answer, barge-in (clear on the first voiced frame, recording
 * from it), stale notifies, and the recording's length limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdio.h>

#include "apps.h"
#include "voice_fake.h"

#define F_US 20000
#define LOUD 3000     /* every sample: voiced */
#define QUIET 0

struct t {
	struct fake *f;
	uint64_t now;
	uint16_t mark;    /* next frame's marker */
};

static int setup(void **state)
{
	struct t *t = (struct t *)calloc(1, sizeof *t);
	if (!t || !(t->f = fake_new(apps_find("parrot"), apps_switchable, apps_switchable_n)))
		return -1;
	t->now = 1000000;
	t->mark = 1;
	fake_connected(t->f, 24000);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = (struct t *)*state;
	fake_free(t->f);
	free(t);
	return 0;
}

/* n caller frames of level v, one per 20 ms, each followed by its tick. */
static void say(struct t *t, int n, int16_t v)
{
	uint8_t pcm[960];

	for (int i = 0; i < n; i++) {
		fake_pcm(pcm, sizeof pcm, v, t->mark++);
		t->now += F_US;
		fake_frame(t->f, pcm, sizeof pcm, t->now);
		fake_tick(t->f, t->now + 1);
	}
}

/* Count the beep frames at the head of the queue (non-zero, not caller audio). */
static int take_beep(struct t *t)
{
	int n = 0;
	struct ring_slot *s;

	while ((s = ring_peek(&t->f->ring)) && !s->text) {
		const uint8_t *p = s->buf + RING_HEADROOM;
		int nonzero = 0;
		for (uint32_t i = 0; i < s->len; i++)
			nonzero |= p[i];
		assert_true(nonzero);
		n++;
		ring_pop(&t->f->ring);
	}
	return n;
}

static void test_parrot_beeps_at_open_then_listens(void **state)
{
	struct t *t = (struct t *)*state;

	assert_int_equal(t->f->call.heap_len, 500 * 960);   /* 10 s of 960-byte frames */
	assert_int_equal(t->f->ticking, 1);
	fake_tick(t->f, t->now);
	assert_int_equal(take_beep(t), 8);                   /* 160 ms */
	say(t, 100, QUIET);                                  /* silence: nothing happens */
	assert_int_equal(ring_count(&t->f->ring), 0);
	assert_int_equal(t->f->call.n.notify_sent, 0);
}

static void test_parrot_plays_back_the_utterance_then_notifies(void **state)
{
	struct t *t = (struct t *)*state;
	uint16_t got[200];
	char cmds[128];

	fake_tick(t->f, t->now);
	take_beep(t);
	say(t, 10, QUIET);
	uint16_t first = t->mark;
	say(t, 50, LOUD);                 /* one second of speech */
	say(t, 34, QUIET);                /* 680 ms: not yet the end */
	assert_int_equal(ring_count(&t->f->ring), 0);
	say(t, 1, QUIET);                 /* 700 ms of quiet: the utterance is over */
	int n = 0;
	for (int i = 0; i < 20 && t->f->call.n.notify_sent == 0; i++) {
		n += fake_sent(t->f, got + n, 200 - n, cmds, sizeof cmds);
		fake_tick(t->f, t->now);
	}
	n += fake_sent(t->f, got + n, 200 - n, cmds, sizeof cmds);
	assert_int_equal(n, 50);          /* the speech, without the pause after it */
	for (int i = 0; i < 50; i++)
		assert_int_equal(got[i], first + i);
	assert_string_equal(cmds, "{\"action\":\"notify\",\"payload\":{\"parrot\":1}}\n");
	/* Vonage has played it: beep, listen again */
	fake_text(t->f, "{\"event\":\"websocket:notify\",\"payload\":{\"parrot\":1}}");
	assert_int_equal(take_beep(t), 8);
	say(t, 5, LOUD);
	say(t, 35, QUIET);
	for (int i = 0; i < 5; i++)
		fake_tick(t->f, t->now);
	assert_int_equal(fake_sent(t->f, got, 200, cmds, sizeof cmds), 5);
	assert_string_equal(cmds, "{\"action\":\"notify\",\"payload\":{\"parrot\":2}}\n");
}

static void test_parrot_barge_in_clears_within_the_frame(void **state)
{
	struct t *t = (struct t *)*state;
	uint16_t got[200];
	char cmds[256];

	fake_tick(t->f, t->now);
	take_beep(t);
	say(t, 50, LOUD);
	say(t, 35, QUIET);                /* playback starts */
	fake_sent(t->f, got, 200, cmds, sizeof cmds);   /* some of it went out */
	assert_int_equal(t->f->call.n.clear_sent, 0);
	uint16_t barge = t->mark;
	say(t, 1, LOUD);                  /* the caller talks over it */
	assert_int_equal(t->f->call.n.clear_sent, 1);   /* on that very frame */
	int n = fake_sent(t->f, got, 200, cmds, sizeof cmds);
	assert_int_equal(n, 0);           /* nothing of the old playback left here */
	assert_non_null(strstr(cmds, "{\"action\":\"clear\"}"));
	/* the old notify's answer arrives late: ignored */
	fake_text(t->f, "{\"event\":\"websocket:notify\",\"payload\":{\"parrot\":1}}");
	assert_int_equal(ring_count(&t->f->ring), 0);
	/* the barge-in frame started the new recording */
	say(t, 9, LOUD);
	say(t, 35, QUIET);
	n = 0;
	for (int i = 0; i < 5; i++) {
		fake_tick(t->f, t->now);
		n += fake_sent(t->f, got + n, 200 - n, cmds, sizeof cmds);
	}
	assert_int_equal(n, 10);
	assert_int_equal(got[0], barge);
}

static void test_parrot_recording_stops_at_the_limit(void **state)
{
	struct t *t = (struct t *)*state;
	uint16_t got[600];
	char cmds[128];

	fake_tick(t->f, t->now);
	take_beep(t);
	uint16_t first = t->mark;
	say(t, 600, LOUD);                /* 12 s of talk: the first 10 s are kept */
	assert_int_equal(ring_count(&t->f->ring), 0);   /* still talking: no playback yet */
	say(t, 35, QUIET);
	int n = 0;
	for (int i = 0; i < 200; i++) {
		n += fake_sent(t->f, got + n, 600 - n, cmds, sizeof cmds);
		fake_tick(t->f, t->now);
	}
	assert_int_equal(n, 500);
	assert_int_equal(got[0], first);
	assert_int_equal(got[499], first + 499);
	assert_int_equal(t->f->call.n.clear_sent, 0);
	assert_int_equal(t->f->call.n.notify_sent, 1);
}

static void test_parrot_ignores_wrong_sized_frames(void **state)
{
	struct t *t = (struct t *)*state;
	uint8_t pcm[960];

	fake_tick(t->f, t->now);
	take_beep(t);
	fake_pcm(pcm, sizeof pcm, LOUD, 1);
	for (int i = 0; i < 60; i++)
		fake_frame(t->f, pcm, 500, t->now += F_US);
	say(t, 40, QUIET);
	assert_int_equal(ring_count(&t->f->ring), 0);
}

static void test_parrot_voice_needs_an_eighth_of_the_samples_loud(void **state)
{
	struct t *t = (struct t *)*state;
	uint8_t pcm[960];

	fake_tick(t->f, t->now);
	take_beep(t);
	/* a click: 4 loud samples (the sim's stamp is 4 samples) are not voice */
	fake_pcm(pcm, sizeof pcm, 0, 1);
	for (int i = 0; i < 4; i++) {
		pcm[2 * i] = 0x00;
		pcm[2 * i + 1] = 0x7f;
	}
	for (int i = 0; i < 50; i++)
		fake_frame(t->f, pcm, sizeof pcm, t->now += F_US);
	say(t, 40, QUIET);
	assert_int_equal(ring_count(&t->f->ring), 0);
	/* 60 of 480 samples at the level: voice */
	fake_pcm(pcm, sizeof pcm, 0, 1);
	for (int i = 0; i < 60; i++) {
		pcm[2 * i] = 0x00;
		pcm[2 * i + 1] = 0x04;   /* 1024 */
	}
	for (int i = 0; i < 5; i++)
		fake_frame(t->f, pcm, sizeof pcm, t->now += F_US);
	say(t, 40, QUIET);
	fake_tick(t->f, t->now);
	assert_int_equal(fake_sent(t->f, NULL, 0, NULL, 0), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parrot_beeps_at_open_then_listens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parrot_plays_back_the_utterance_then_notifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parrot_barge_in_clears_within_the_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parrot_recording_stops_at_the_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parrot_ignores_wrong_sized_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parrot_voice_needs_an_eighth_of_the_samples_loud, setup, teardown),
	};
	return cmocka_run_group_tests_name("app_parrot", tests, NULL, NULL);
}
