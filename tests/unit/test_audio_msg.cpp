/*
 * test_audio_msg.cpp -- unit tests for src/audio_msg.cpp (received fragment
 * -> action on the audio socket).
 *
 * Each test gets a ring of 8 slots x 960 bytes and an empty text state.
 * Frames carry a sequence in their bytes, so reassembly is checked by
 * content. Leaks of the text gather buffer are caught by LeakSanitizer (the
 * unit tests are built with ASan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdlib.h>
#include <string.h>

#include "audio_msg.h"
#include "ring.h"

#define T_SLOTS 8
#define T_SLOT_BYTES 960

struct fixture {
	struct ring r;
	struct audio_msg_text t;
	struct audio_msg_out out;
	uint8_t *storage;
};

static int setup(void **state)
{
	struct fixture *f = (struct fixture *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->storage = (uint8_t *)malloc(ring_storage_size(T_SLOTS, T_SLOT_BYTES));
	if (!f->storage || ring_init(&f->r, f->storage, T_SLOTS, T_SLOT_BYTES)) {
		free(f->storage);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	audio_msg_text_release(&f->t);
	free(f->storage);
	free(f);
	return 0;
}

static void make_frame(uint8_t *buf, size_t len, uint32_t seq)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq + i);
}

static void assert_oldest(struct ring *r, size_t len, uint32_t seq)
{
	uint8_t want[T_SLOT_BYTES];
	struct ring_slot *s = ring_peek(r);

	assert_non_null(s);
	assert_int_equal(s->len, len);
	make_frame(want, len, seq);
	assert_memory_equal(s->buf + RING_HEADROOM, want, len);
}

/* The message waiting in the receive slot for the voice app's decision. */
static void assert_received(struct ring *r, size_t len, uint32_t seq)
{
	uint8_t want[T_SLOT_BYTES];

	assert_int_equal(ring_rx_len(r), len);
	make_frame(want, len, seq);
	assert_memory_equal(ring_rx_data(r), want, len);
}

static enum audio_msg_action rx(struct fixture *f, const void *in, size_t len, int bin, int fin)
{
	return audio_msg_receive(&f->r, &f->t, in, len, bin, fin, &f->out);
}

static void test_binary_whole_message_is_one_frame(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t b[640];

	make_frame(b, sizeof b, 7);
	assert_int_equal(rx(f, b, sizeof b, 1, 1), AUDIO_MSG_FRAME);
	assert_int_equal(ring_count(&f->r), 0);   /* received, not queued: the app decides */
	assert_received(&f->r, sizeof b, 7);
	assert_null(f->t.buf);   /* binary never touches the text state */
	ring_rx_commit(&f->r);   /* what echo does */
	assert_oldest(&f->r, sizeof b, 7);
}

static void test_binary_fragments_reassemble(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t b[960];

	make_frame(b, sizeof b, 3);
	assert_int_equal(rx(f, b, 100, 1, 0), AUDIO_MSG_MORE);
	assert_int_equal(rx(f, b + 100, 0, 1, 0), AUDIO_MSG_MORE);   /* empty continuation */
	assert_int_equal(rx(f, b + 100, 500, 1, 0), AUDIO_MSG_MORE);
	assert_int_equal(ring_rx_len(&f->r), 600);
	assert_int_equal(rx(f, b + 600, 360, 1, 1), AUDIO_MSG_FRAME);
	assert_received(&f->r, 960, 3);
}

static void test_binary_exactly_slot_bytes_fits(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t b[T_SLOT_BYTES];

	make_frame(b, sizeof b, 1);
	assert_int_equal(rx(f, b, sizeof b, 1, 1), AUDIO_MSG_FRAME);
	assert_received(&f->r, T_SLOT_BYTES, 1);
}

static void test_binary_over_slot_closes_1009(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t b[T_SLOT_BYTES + 1];

	make_frame(b, sizeof b, 0);
	assert_int_equal(rx(f, b, 10, 1, 1), AUDIO_MSG_FRAME);
	ring_rx_commit(&f->r);
	assert_int_equal(rx(f, b, sizeof b, 1, 1), AUDIO_MSG_CLOSE);
	assert_int_equal(f->out.close_code, 1009);
	assert_non_null(f->out.why);
	/* the queued frame is untouched, the oversized one emptied */
	assert_int_equal(ring_count(&f->r), 1);
	assert_int_equal(ring_rx_len(&f->r), 0);
	assert_oldest(&f->r, 10, 0);
}

static void test_binary_fragments_over_slot_close_1009(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t b[T_SLOT_BYTES];

	make_frame(b, sizeof b, 0);
	assert_int_equal(rx(f, b, 500, 1, 0), AUDIO_MSG_MORE);
	assert_int_equal(rx(f, b, 461, 1, 0), AUDIO_MSG_CLOSE);   /* 961 in total */
	assert_int_equal(f->out.close_code, 1009);
	assert_int_equal(ring_count(&f->r), 0);
	assert_int_equal(ring_rx_len(&f->r), 0);
}

static void test_binary_full_ring_drops_oldest(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t b[160];

	for (uint32_t seq = 0; seq < T_SLOTS + 2; seq++) {
		make_frame(b, sizeof b, seq);
		assert_int_equal(rx(f, b, sizeof b, 1, 1), AUDIO_MSG_FRAME);
		ring_rx_commit(&f->r);
	}
	assert_int_equal(ring_count(&f->r), T_SLOTS);
	assert_int_equal(f->r.dropped, 2);
	assert_oldest(&f->r, sizeof b, 2);
}

static void test_binary_empty_message_is_a_frame(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_int_equal(rx(f, NULL, 0, 1, 1), AUDIO_MSG_FRAME);
	assert_int_equal(ring_rx_len(&f->r), 0);
	ring_rx_commit(&f->r);
	assert_int_equal(ring_count(&f->r), 1);
	assert_int_equal(ring_peek(&f->r)->len, 0);
}

static void test_text_whole_message_in_place(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const char m[] = "{\"event\":\"websocket:dtmf\",\"digit\":\"5\"}";

	assert_int_equal(rx(f, m, sizeof m - 1, 0, 1), AUDIO_MSG_TEXT);
	assert_ptr_equal(f->out.text, m);         /* no copy */
	assert_int_equal(f->out.text_len, sizeof m - 1);
	assert_null(f->t.buf);                    /* and no allocation */
	audio_msg_text_done(&f->t);
	assert_int_equal(ring_count(&f->r), 0);
}

static void test_text_limit_4096_in_one_piece(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static char m[AUDIO_MSG_TEXT_MAX + 1];

	memset(m, 'x', sizeof m);
	assert_int_equal(rx(f, m, AUDIO_MSG_TEXT_MAX, 0, 1), AUDIO_MSG_TEXT);
	assert_int_equal(f->out.text_len, AUDIO_MSG_TEXT_MAX);
	audio_msg_text_done(&f->t);
	assert_int_equal(rx(f, m, AUDIO_MSG_TEXT_MAX + 1, 0, 1), AUDIO_MSG_CLOSE);
	assert_int_equal(f->out.close_code, 1009);
}

static void test_text_fragments_gathered_then_freed(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static const char m[] = "{\"event\":\"websocket:connected\",\"content-type\":\"audio/l16;rate=16000\"}";
	size_t n = sizeof m - 1;

	assert_int_equal(rx(f, m, 10, 0, 0), AUDIO_MSG_MORE);
	assert_non_null(f->t.buf);
	assert_int_equal(f->t.active, 1);
	assert_int_equal(rx(f, m + 10, 0, 0, 0), AUDIO_MSG_MORE);
	assert_int_equal(rx(f, m + 10, n - 10, 0, 1), AUDIO_MSG_TEXT);
	assert_int_equal(f->out.text_len, n);
	assert_memory_equal(f->out.text, m, n);
	audio_msg_text_done(&f->t);
	assert_null(f->t.buf);
	assert_int_equal(f->t.active, 0);
	assert_int_equal(f->t.len, 0);
	/* the next single-piece message is back in place */
	assert_int_equal(rx(f, m, n, 0, 1), AUDIO_MSG_TEXT);
	assert_ptr_equal(f->out.text, m);
}

static void test_text_fragments_4096_fit_4097_close(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	static char m[AUDIO_MSG_TEXT_MAX];

	memset(m, 'y', sizeof m);
	assert_int_equal(rx(f, m, 4000, 0, 0), AUDIO_MSG_MORE);
	assert_int_equal(rx(f, m, 96, 0, 1), AUDIO_MSG_TEXT);
	assert_int_equal(f->out.text_len, AUDIO_MSG_TEXT_MAX);
	audio_msg_text_done(&f->t);

	assert_int_equal(rx(f, m, 4000, 0, 0), AUDIO_MSG_MORE);
	assert_int_equal(rx(f, m, 97, 0, 0), AUDIO_MSG_CLOSE);
	assert_int_equal(f->out.close_code, 1009);
	/* the buffer is still held: the connection's close releases it */
	assert_non_null(f->t.buf);
	audio_msg_text_release(&f->t);
	assert_null(f->t.buf);
	audio_msg_text_release(&f->t);   /* twice is harmless */
}

static void test_text_empty_message(void **state)
{
	struct fixture *f = (struct fixture *)*state;

	assert_int_equal(rx(f, NULL, 0, 0, 1), AUDIO_MSG_TEXT);
	assert_non_null(f->out.text);
	assert_int_equal(f->out.text_len, 0);
	audio_msg_text_done(&f->t);
}

/* the two states are independent: text between binary fragments (which
 * lws does not deliver, RFC 6455 5.4) neither ends nor loses the frame */
static void test_text_and_binary_states_independent(void **state)
{
	struct fixture *f = (struct fixture *)*state;
	uint8_t b[300];
	static const char m[] = "{\"event\":\"x\"}";

	make_frame(b, sizeof b, 9);
	assert_int_equal(rx(f, b, 100, 1, 0), AUDIO_MSG_MORE);
	assert_int_equal(rx(f, m, 5, 0, 0), AUDIO_MSG_MORE);
	assert_int_equal(rx(f, b + 100, 200, 1, 1), AUDIO_MSG_FRAME);
	assert_int_equal(rx(f, m + 5, sizeof m - 6, 0, 1), AUDIO_MSG_TEXT);
	assert_memory_equal(f->out.text, m, sizeof m - 1);
	audio_msg_text_done(&f->t);
	assert_received(&f->r, 300, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_binary_whole_message_is_one_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_fragments_reassemble, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_exactly_slot_bytes_fits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_over_slot_closes_1009, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_fragments_over_slot_close_1009, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_full_ring_drops_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_empty_message_is_a_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_whole_message_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_limit_4096_in_one_piece, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_fragments_gathered_then_freed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_fragments_4096_fit_4097_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_empty_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_and_binary_states_independent, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
