/*
 * test_ws_audio.cpp -- the per-connection memory of src/ws_audio.cpp.
 *
 * RSS per call is a budget (4 KiB at 1,000 calls, issue 15;
 * docs/benchmarks.md), and what we allocate per connection is fixed by the
 * config: the session data (the ring's order[] but not its slots, which
 * are borrowed from the shared pool while frames are in them: slot_pool.h,
 * test_slot_pool.cpp) and lws's receive buffer. These tests compute it from
 * the structures and hold it to a bound, so a change that makes every call
 * heavier fails here rather than in a benchmark nobody reran.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdlib.h>

#include "config.h"
#include "ring.h"
#include "voice.h"
#include "quality.h"
#include "ws_audio.h"

/* lws's own structures per socket (~1.4 KiB) come on top: 4 KiB in all */
#define OUR_BUDGET (2560)

static int load_defaults(struct config *c, const char *slots, const char *bytes)
{
	char err[256];
	const char *argv[] = { "caller-echo", "--ring-slots", slots, "--slot-bytes", bytes, NULL };
	setenv("VONAGE_SIGNATURE_SECRET", "unit-test-secret-unit-test-secret", 1);
	return config_load(c, 5, (char **)argv, err, sizeof err);
}

static void test_ws_audio_conn_bytes_default_within_budget(void **state)
{
	static struct config c;
	(void)state;

	assert_int_equal(load_defaults(&c, "8", "960"), CONFIG_OK);
	size_t pss = ws_audio_pss_size(&c);
	/* the voice app's call (its fixed state area included) is inside the
	 * session data, and the ring's order[], not its slots */
	assert_true(pss >= ring_order_size(8) + sizeof(struct voice_call));
	assert_true(pss < ring_slot_stride(960) + sizeof(struct voice_call));
	/* the call's record beyond its voice app (calls.h: list links, address,
	 * remote and content type, traffic, rules, ring, quality figures -- 128
	 * bytes of it) and the transport's own (wsi, two lws lists, text
	 * state): 528 bytes today, 688 while a stats row copied uuid and caller */
	assert_true(sizeof(struct quality) <= 128);
	assert_true(pss - ring_order_size(8) - sizeof(struct voice_call) <= 768);
	assert_true(sizeof(struct voice_call) <= VOICE_STATE_MAX + 512);
	assert_int_equal(ws_audio_rx_buffer_size(&c), 1024);
	assert_int_equal(ws_audio_conn_bytes(&c), pss + 1024 + 16 + 4);
	if (ws_audio_conn_bytes(&c) > OUR_BUDGET)
		print_error("%zu bytes per connection > %d\n", ws_audio_conn_bytes(&c), OUR_BUDGET);
	assert_true(ws_audio_conn_bytes(&c) <= OUR_BUDGET);
}

static void test_ws_audio_conn_bytes_follow_the_ring_options(void **state)
{
	static struct config a, b;
	(void)state;

	assert_int_equal(load_defaults(&a, "8", "960"), CONFIG_OK);
	assert_int_equal(load_defaults(&b, "16", "960"), CONFIG_OK);
	/* eight more slots cost a connection eight more places in order[] (the
	 * slots are the pool's, taken only while frames are in them) */
	assert_int_equal(ws_audio_conn_bytes(&b) - ws_audio_conn_bytes(&a), ring_order_size(16) - ring_order_size(8));
	assert_int_equal(ring_order_size(16) - ring_order_size(8), 8 * sizeof(uint32_t));
	/* a bigger slot also grows lws's receive buffer to hold one message */
	assert_int_equal(load_defaults(&b, "8", "4096"), CONFIG_OK);
	assert_int_equal(ws_audio_rx_buffer_size(&b), 4096);
	assert_int_equal(ws_audio_conn_bytes(&b) - ws_audio_conn_bytes(&a), 4096 - 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ws_audio_conn_bytes_default_within_budget),
		cmocka_unit_test(test_ws_audio_conn_bytes_follow_the_ring_options),
	};
	return cmocka_run_group_tests_name("ws_audio", tests, NULL, NULL);
}
