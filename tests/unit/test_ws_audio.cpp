/*
 * test_ws_audio.cpp -- the per-connection memory of src/ws_audio.cpp.
 *
 * RSS per call is a budget (16 KiB at 1,000 calls, docs/benchmarks.md), and
 * what we allocate per connection is fixed by the config: the session data
 * with its ring and lws's receive buffer. These tests compute it from the
 * structures and hold it to a bound, so a change that makes every call
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

/* lws's own structures per socket were ~3 KiB in the measured RSS/call */
#define OUR_BUDGET (12 * 1024)

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
	size_t ring = ring_storage_size(8, 960);
	size_t pss = ws_audio_pss_size(&c);
	/* the ring and the voice app's call (its fixed state area included) are
	 * inside the session data; the rest of it is small */
	assert_true(pss >= ring + sizeof(struct voice_call));
	/* stats row (its quality figures 128 bytes of it), two list links, text
	 * state, call rules, address: 688 bytes today */
	assert_true(sizeof(struct quality) <= 128);
	assert_true(pss - ring - sizeof(struct voice_call) <= 768);
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
	/* eight more slots cost exactly eight more slot strides */
	assert_int_equal(ws_audio_conn_bytes(&b) - ws_audio_conn_bytes(&a),
			 ring_storage_size(16, 960) - ring_storage_size(8, 960));
	/* a bigger slot also grows lws's receive buffer to hold one message */
	assert_int_equal(load_defaults(&b, "8", "4096"), CONFIG_OK);
	assert_int_equal(ws_audio_rx_buffer_size(&b), 4096);
	assert_true(ws_audio_conn_bytes(&b) > 8 * 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ws_audio_conn_bytes_default_within_budget),
		cmocka_unit_test(test_ws_audio_conn_bytes_follow_the_ring_options),
	};
	return cmocka_run_group_tests_name("ws_audio", tests, NULL, NULL);
}
