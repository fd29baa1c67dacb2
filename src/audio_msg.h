/*
 * audio_msg.h -- what to do with one received fragment on the audio socket.
 *
 * lws hands RECEIVE callbacks a piece of a WebSocket message plus two facts
 * (binary or text, last piece or not). This module, with no lws and no
 * sockets, turns that into one action: binary pieces are appended into the
 * receive slot of the connection's ring, and the message is announced as a
 * frame when it ends (the voice app then echoes or consumes it, voice.h);
 * text pieces are handed back in place when the message is a
 * single piece, or gathered into a buffer that exists only while a
 * fragmented text message is open. Oversized messages yield a close code.
 * ws_audio.cpp calls it from RECEIVE and does the I/O the action asks for;
 * the fuzzer (tests/fuzz/fuzz_audio_msg.cpp) feeds it fragment sequences.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ring.h"

#define AUDIO_MSG_TEXT_MAX 4096   /* larger text messages close with 1009 */

/* Per-connection text state; zero-initialised means "nothing open". */
struct audio_msg_text {
	char     *buf;       /* malloc'd AUDIO_MSG_TEXT_MAX while gathering, else NULL */
	uint32_t  len;
	uint8_t   active;    /* inside a fragmented text message */
};

enum audio_msg_action {
	AUDIO_MSG_MORE = 0,  /* piece taken, message not complete */
	AUDIO_MSG_FRAME,     /* a binary message is complete in the ring's receive slot */
	AUDIO_MSG_TEXT,      /* a whole text message: out->text, out->text_len */
	AUDIO_MSG_CLOSE,     /* close the connection with out->close_code, out->why */
};

struct audio_msg_out {
	const char *text;      /* TEXT: valid until audio_msg_text_done() */
	size_t      text_len;
	int         close_code;/* CLOSE: 1009 too large, 1011 out of memory */
	const char *why;       /* CLOSE: static reason for the log and close frame */
};

/*
 * Take one received piece (len bytes at in; in may be NULL when len is 0).
 * is_final: this piece ends the message. Fills *out for TEXT and CLOSE.
 * Binary: a message longer than the ring's slot_bytes -> CLOSE 1009 (the
 * open slot is abandoned; a frame dropped to make room stays dropped).
 * Text: a message over AUDIO_MSG_TEXT_MAX -> CLOSE 1009.
 */
enum audio_msg_action audio_msg_receive(struct ring *r, struct audio_msg_text *t, const void *in,
					size_t len, int is_binary, int is_final,
					struct audio_msg_out *out);

/* After handling a TEXT action: releases the gather buffer, if one was used. */
void audio_msg_text_done(struct audio_msg_text *t);

/* Connection closed: free whatever is held. Safe to call more than once. */
void audio_msg_text_release(struct audio_msg_text *t);
