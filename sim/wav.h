/*
 * wav.h -- RIFF/WAVE in and out for caller-sim's audio.
 *
 * In: wav_parse() reads a whole file image held by the caller, walks the
 * RIFF chunks and points into it (no copy, no allocation); wav_check() says
 * in one line why a file cannot be sent on a Vonage call (anything but mono
 * 16-bit PCM at the NCCO's rate). Out: wav_header() renders the 44-byte
 * canonical header; struct wav_writer streams frames to a file and patches
 * the sizes when it is closed (what --record writes).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define WAV_HEADER_BYTES 44
#define WAV_FORMAT_PCM        1
#define WAV_FORMAT_EXTENSIBLE 0xFFFE

struct wav_info {
	uint16_t       format;      /* WAV_FORMAT_PCM, or the sub-format of EXTENSIBLE */
	uint16_t       channels;
	uint32_t       rate;
	uint16_t       bits;
	const uint8_t *data;        /* samples, inside the caller's buffer */
	size_t         data_len;    /* bytes */
};

/*
 * Parse a WAV image of len bytes. Returns 0 with *w filled, or -1 with the
 * reason in err ("not a RIFF/WAVE file", "no fmt chunk", ...). A data chunk
 * whose size field is 0 or 0xFFFFFFFF (written while streaming) runs to the
 * end of the image; any other size past the end is an error (truncated).
 */
int wav_parse(const uint8_t *buf, size_t len, struct wav_info *w, char *err, size_t errlen);

/*
 * 0 if w is mono 16-bit PCM at `rate` Hz with at least one sample; else -1
 * with a sentence naming what differs and what is needed.
 */
int wav_check(const struct wav_info *w, uint32_t rate, char *err, size_t errlen);

/* The canonical 44-byte header for PCM of this shape into out. */
void wav_header(uint8_t out[WAV_HEADER_BYTES], uint32_t rate, uint16_t channels, uint16_t bits,
		uint32_t data_bytes);

struct wav_writer {
	FILE    *f;
	uint32_t rate;
	uint64_t bytes;             /* sample bytes written */
	int      failed;            /* a write failed; close reports it */
};

/* Create path and write a provisional header. 0, or -1 with err (nothing left open). */
int wav_writer_open(struct wav_writer *w, const char *path, uint32_t rate, char *err, size_t errlen);

/* Append samples (mono 16-bit LE). Errors are remembered for close. */
void wav_writer_write(struct wav_writer *w, const void *data, size_t len);

/* Patch the header sizes and close. 0, or -1 with err if any write failed. */
int wav_writer_close(struct wav_writer *w, char *err, size_t errlen);
