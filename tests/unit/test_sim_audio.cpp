/*
 * test_sim_audio.cpp -- unit tests for sim/audio.cpp: the stamp round
 * trip, and the speech rule the scripted caller shares with the server's
 * parrot app (audio_voiced): every frame of the generated tone is voiced at
 * every rate, a stamp on zeros (a pause frame) never is, and the 1/8
 * threshold sits exactly where the parrot puts it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <string.h>

#include "audio.h"

static void put(uint8_t *f, uint32_t i, int16_t s)
{
	f[2 * i] = (uint8_t)(s & 0xff);
	f[2 * i + 1] = (uint8_t)((uint16_t)s >> 8);
}

static void test_audio_tone_frames_are_voiced_with_their_stamp(void **state)
{
	(void)state;
	static const uint32_t rates[] = { 8000, 16000, 24000 };
	uint8_t f[960];
	for (size_t r = 0; r < 3; r++) {
		struct audio_src a;
		assert_int_equal(audio_generate(&a, rates[r]), 0);
		for (uint32_t seq = 0; seq < a.frames; seq++) {
			memcpy(f, audio_frame(&a, seq), a.frame_bytes);
			audio_stamp(f, seq);
			assert_true(audio_voiced(f, a.frame_bytes));
		}
		audio_free(&a);
	}
}

static void test_audio_stamp_alone_is_never_voiced(void **state)
{
	(void)state;
	uint8_t f[960];
	uint32_t seq = 0;
	static const uint32_t rates[] = { 8000, 16000, 24000 };
	for (size_t r = 0; r < 3; r++) {
		uint32_t fb = audio_frame_bytes(rates[r]);
		memset(f, 0, sizeof f);
		assert_false(audio_voiced(f, fb));
		/* the loudest stamps there are: every stamp sample at full scale */
		static const uint32_t seqs[] = { 0, 0x7fff7fff, 0x80008000, 0xffffffff };
		for (size_t k = 0; k < 4; k++) {
			audio_stamp(f, seqs[k]);
			assert_false(audio_voiced(f, fb));
			assert_int_equal(audio_stamp_read(f, &seq), 0);
			assert_int_equal(seq, seqs[k]);
		}
	}
	f[0] ^= 1;
	assert_int_equal(audio_stamp_read(f, &seq), -1);
}

static void test_audio_voiced_threshold_is_one_eighth_at_1024(void **state)
{
	(void)state;
	uint8_t f[320];   /* 160 samples at 8 kHz: 20 loud ones are needed */
	memset(f, 0, sizeof f);
	for (uint32_t i = 0; i < 19; i++)
		put(f, i * 8, (int16_t)(i % 2 ? 1024 : -1024));
	put(f, 100, 1023);   /* just under: does not count */
	put(f, 101, -1023);
	assert_false(audio_voiced(f, sizeof f));
	put(f, 159, -1024);  /* the 20th */
	assert_true(audio_voiced(f, sizeof f));
	put(f, 159, 32767);
	assert_true(audio_voiced(f, sizeof f));
	put(f, 159, -32768);
	assert_true(audio_voiced(f, sizeof f));
	assert_false(audio_voiced(f, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audio_tone_frames_are_voiced_with_their_stamp),
		cmocka_unit_test(test_audio_stamp_alone_is_never_voiced),
		cmocka_unit_test(test_audio_voiced_threshold_is_one_eighth_at_1024),
	};
	return cmocka_run_group_tests_name("sim_audio", tests, NULL, NULL);
}
