/*
 * audio_msg.cpp -- received fragment -> action; see audio_msg.h for the flow.
 *
 * Binary pieces go straight into the ring's receive slot (one copy, no
 * allocation: this is the audio hot path). Text is rare (a connected event,
 * a few DTMF digits): a message in one piece is parsed where lws left it, and
 * only a fragmented one costs a malloc for as long as it is open.
 */
#include "audio_msg.h"

#include <stdlib.h>
#include <string.h>

#define CLOSE_TOO_LARGE 1009   /* RFC 6455 7.4.1 */
#define CLOSE_INTERNAL 1011

static enum audio_msg_action close_out(struct audio_msg_out *out, int code, const char *why)
{
	out->close_code = code;
	out->why = why;
	return AUDIO_MSG_CLOSE;
}

static enum audio_msg_action on_binary(struct ring *r, const void *in, size_t len, int is_final,
				       struct audio_msg_out *out)
{
	if (ring_rx_append(r, (const uint8_t *)in, len))
		return close_out(out, CLOSE_TOO_LARGE, "audio message larger than a ring slot");
	return is_final ? AUDIO_MSG_FRAME : AUDIO_MSG_MORE;
}

static enum audio_msg_action on_text(struct audio_msg_text *t, const char *in, size_t len,
				     int is_final, struct audio_msg_out *out)
{
	if (!t->active && is_final) {   /* the usual case: whole message in one piece */
		if (len > AUDIO_MSG_TEXT_MAX)
			return close_out(out, CLOSE_TOO_LARGE, "text message over 4096 bytes");
		out->text = in ? in : "";
		out->text_len = len;
		return AUDIO_MSG_TEXT;
	}
	if (!t->buf) {
		t->buf = (char *)malloc(AUDIO_MSG_TEXT_MAX);
		if (!t->buf)
			return close_out(out, CLOSE_INTERNAL, "out of memory");
		t->len = 0;
	}
	t->active = 1;
	if (len > AUDIO_MSG_TEXT_MAX - t->len)
		return close_out(out, CLOSE_TOO_LARGE, "text message over 4096 bytes");
	if (len)
		memcpy(t->buf + t->len, in, len);
	t->len += (uint32_t)len;
	if (!is_final)
		return AUDIO_MSG_MORE;
	out->text = t->buf;
	out->text_len = t->len;
	return AUDIO_MSG_TEXT;
}

enum audio_msg_action audio_msg_receive(struct ring *r, struct audio_msg_text *t, const void *in,
					size_t len, int is_binary, int is_final,
					struct audio_msg_out *out)
{
	out->text = NULL;
	out->text_len = 0;
	out->close_code = 0;
	out->why = NULL;
	if (is_binary)
		return on_binary(r, in, len, is_final, out);
	return on_text(t, (const char *)in, len, is_final, out);
}

void audio_msg_text_done(struct audio_msg_text *t)
{
	if (!t->active)
		return;   /* the message was used in place: nothing was gathered */
	audio_msg_text_release(t);
}

void audio_msg_text_release(struct audio_msg_text *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = 0;
	t->active = 0;
}
