/*
 * fuzz_audio_msg.cpp -- libFuzzer harness for src/audio_msg.cpp: random
 * sequences of received fragments against a connection's ring and text
 * state, checked step by step against a simple model.
 *
 * Input: byte 0 -> ring slots (1..8), bytes 1-2 -> slot_bytes (1..1200),
 * then operations, each a control byte c and a length byte l:
 *   c & 3 == 0 binary piece, 1 text piece, 2 pop the oldest frame (the
 *   writer sent it), 3 pop all; c & 4: final piece; c & 0x80: when the
 *   piece completes a binary message, the app echoes it (the receive slot
 *   is queued), else it consumes it (the slot is reused); length =
 *   l | ((c >> 3) & 15) << 8 (0..4095), its bytes follow (fewer if the
 *   input ends).
 * The sequence ends at the first CLOSE, as the connection would.
 * Checks after every step: the returned action is the model's; the ring's
 * count, dropped counter and receive-slot length are the model's; every
 * queued frame has the model's length and bytes, oldest first, and a
 * completed message sits whole in the receive slot; a whole
 * text message is the concatenation of its pieces (in place when it came in
 * one piece); bytes are conserved (committed = sent + dropped + waiting).
 * The storage is malloc'd at its exact size, so ASan sees any overflow, and
 * LeakSanitizer any text buffer left behind.
 */
#include "fuzz.h"

#include "audio_msg.h"
#include "ring.h"

#define M_SLOTS 8
#define M_BYTES 1200

struct model {
	uint8_t  frame[M_SLOTS][M_BYTES];
	uint32_t flen[M_SLOTS];
	uint32_t tail, count, slots, slot_bytes;
	uint64_t dropped;
	uint8_t  pend[M_BYTES];
	uint32_t pend_len;
	char     text[AUDIO_MSG_TEXT_MAX];
	uint32_t tlen;
	int      tactive;
	uint64_t committed_bytes, sent_bytes, dropped_bytes;
};

static void model_pop(struct model *m, uint64_t *counter)
{
	*counter += m->flen[m->tail];
	m->tail = (m->tail + 1) % m->slots;
	m->count--;
}

/* The model's idea of what one piece does; mirrors RFC 6455 + our limits. */
static enum audio_msg_action model_rx(struct model *m, const uint8_t *in, size_t len, int bin, int fin)
{
	if (bin) {
		if (m->pend_len + len > m->slot_bytes) {
			m->pend_len = 0;
			return AUDIO_MSG_CLOSE;
		}
		memcpy(m->pend + m->pend_len, in, len);
		m->pend_len += (uint32_t)len;
		return fin ? AUDIO_MSG_FRAME : AUDIO_MSG_MORE;
	}
	if (!m->tactive && fin)
		return len > AUDIO_MSG_TEXT_MAX ? AUDIO_MSG_CLOSE : AUDIO_MSG_TEXT;
	m->tactive = 1;
	if (m->tlen + len > AUDIO_MSG_TEXT_MAX)
		return AUDIO_MSG_CLOSE;
	memcpy(m->text + m->tlen, in, len);
	m->tlen += (uint32_t)len;
	return fin ? AUDIO_MSG_TEXT : AUDIO_MSG_MORE;
}

/* The app echoed the message: it becomes the newest queued frame. */
static void model_commit(struct model *m)
{
	if (m->count == m->slots) {
		model_pop(m, &m->dropped_bytes);
		m->dropped++;
	}
	uint32_t head = (m->tail + m->count) % m->slots;
	memcpy(m->frame[head], m->pend, m->pend_len);
	m->flen[head] = m->pend_len;
	m->count++;
	m->committed_bytes += m->pend_len;
	m->pend_len = 0;
}

static void check_state(struct ring *r, struct audio_msg_text *t, const struct model *m)
{
	uint64_t waiting = 0;

	FUZZ_CHECK(ring_count(r) == m->count && r->count <= r->slots);
	FUZZ_CHECK(r->dropped == m->dropped);
	FUZZ_CHECK(ring_rx_len(r) == m->pend_len && ring_rx_len(r) <= r->slot_bytes);
	FUZZ_CHECK(!memcmp(ring_rx_data(r), m->pend, m->pend_len));
	/* the ring holds exactly its queued slots and, mid-message, the receive slot */
	FUZZ_CHECK(r->pool->out == ring_held(r) && ring_held(r) <= r->slots + 1 && !ring_queued(r, r->count));
	for (uint32_t i = 0; i < m->count; i++) {
		uint32_t mi = (m->tail + i) % m->slots;
		const struct ring_slot *s = ring_queued(r, i);
		FUZZ_CHECK(s && !s->text);
		FUZZ_CHECK(s->len == m->flen[mi] && s->len <= r->slot_bytes);
		FUZZ_CHECK(!memcmp(s->buf + RING_HEADROOM, m->frame[mi], s->len));
		waiting += s->len;
	}
	FUZZ_CHECK(m->committed_bytes == m->sent_bytes + m->dropped_bytes + waiting);
	FUZZ_CHECK(!!t->active == m->tactive);
	if (t->active) {
		FUZZ_CHECK(t->buf && t->len == m->tlen && t->len <= AUDIO_MSG_TEXT_MAX);
		FUZZ_CHECK(!memcmp(t->buf, m->text, m->tlen));
	} else {
		FUZZ_CHECK(!t->buf);
	}
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	struct ring r;
	struct audio_msg_text t = { NULL, 0, 0 };
	struct audio_msg_out out;

	if (size < 3)
		return 0;
	uint32_t slots = 1 + data[0] % M_SLOTS;
	uint32_t slot_bytes = 1 + (uint32_t)(data[1] | data[2] << 8) % M_BYTES;
	size_t cap = ring_storage_size(slots, slot_bytes);
	uint8_t *storage = (uint8_t *)malloc(cap);
	FUZZ_CHECK(cap && storage);
	FUZZ_CHECK(!ring_init(&r, storage, slots, slot_bytes));
	memset(&m, 0, sizeof m);
	m.slots = slots;
	m.slot_bytes = slot_bytes;

	size_t i = 3;
	while (i + 2 <= size) {
		uint8_t c = data[i], l = data[i + 1];
		i += 2;
		int kind = c & 3, fin = !!(c & 4);
		if (kind >= 2) {
			do {
				struct ring_slot *s = ring_peek(&r);
				FUZZ_CHECK(!s == !m.count);
				if (!s)
					break;
				FUZZ_CHECK(s->len == m.flen[m.tail]);
				ring_pop(&r);
				model_pop(&m, &m.sent_bytes);
			} while (kind == 3);
			check_state(&r, &t, &m);
			continue;
		}
		size_t len = (size_t)l | (size_t)((c >> 3) & 15) << 8;
		if (len > size - i)
			len = size - i;
		/* an exactly sized copy, as lws's rx buffer ends where the piece does */
		uint8_t *piece = (uint8_t *)malloc(len ? len : 1);
		FUZZ_CHECK(piece);
		memcpy(piece, data + i, len);
		i += len;

		enum audio_msg_action want = model_rx(&m, piece, len, kind == 0, fin);
		enum audio_msg_action got = audio_msg_receive(&r, &t, len ? piece : NULL, len, kind == 0,
							      fin, &out);
		FUZZ_CHECK(got == want);
		if (got == AUDIO_MSG_CLOSE) {
			FUZZ_CHECK(out.close_code == 1009 && out.why && out.why[0]);
			check_state(&r, &t, &m);
			free(piece);
			break;
		}
		if (got == AUDIO_MSG_FRAME) {
			check_state(&r, &t, &m);   /* the whole message, in the receive slot */
			if (c & 0x80) {
				ring_rx_commit(&r);
				model_commit(&m);
			} else {
				ring_rx_reset(&r);
				m.pend_len = 0;
			}
		}
		if (got == AUDIO_MSG_TEXT) {
			if (!m.tactive) {
				FUZZ_CHECK(out.text_len == len && (!len || out.text == (const char *)piece));
			} else {
				FUZZ_CHECK(out.text_len == m.tlen && out.text == t.buf);
				FUZZ_CHECK(!memcmp(out.text, m.text, m.tlen));
			}
			audio_msg_text_done(&t);
			m.tactive = 0;
			m.tlen = 0;
		}
		check_state(&r, &t, &m);
		free(piece);
	}
	audio_msg_text_release(&t);
	FUZZ_CHECK(!t.buf && !t.active);
	free(storage);
	return 0;
}
