/*
 * audio.h -- what a simulated caller says: 20 ms frames of 16-bit PCM, each
 * carrying its sequence number so its echo can be matched and checked.
 *
 * The source is either a WAV file (mono 16-bit at the call's rate, cut into
 * 20 ms frames, the last one padded with silence) or a generated tone. It is
 * loaded once; frame k of a call is source frame k modulo the source's
 * length, so any call length works and nothing is stored per frame sent.
 * The first AUDIO_STAMP_BYTES of every frame sent are replaced by a stamp
 * (sequence number and its complement): an echo names the frame it
 * echoes, and the rest of the bytes are compared with the source. The
 * recording (--record) puts the source bytes back under the stamp of every
 * echo that matched, so it sounds like the source, not like a 50 Hz click.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define AUDIO_FRAME_MS    20
#define AUDIO_STAMP_BYTES 8

struct audio_src {
	uint8_t  *pcm;          /* frames * frame_bytes bytes, owned (malloc) */
	uint32_t  frames;       /* 20 ms frames in the source */
	uint32_t  frame_bytes;  /* rate / 50 * 2 */
	uint32_t  rate;
	uint64_t  samples;      /* real samples before padding (WAV) */
};

/* Bytes in one 20 ms frame at rate (8000 -> 320, 16000 -> 640, 24000 -> 960). */
static inline uint32_t audio_frame_bytes(uint32_t rate) { return rate / 50 * 2; }

/*
 * Read path as the source for calls at rate. Returns 0, or -1 with a line
 * in err naming the file and what is wrong with it (unreadable, not a WAV,
 * not mono 16-bit PCM at rate). Nothing is kept on failure.
 */
int audio_load_wav(struct audio_src *a, const char *path, uint32_t rate, char *err, size_t errlen);

/* One second of a 440 Hz tone at rate (it loops without a click). 0 or -1 (out of memory). */
int audio_generate(struct audio_src *a, uint32_t rate);

void audio_free(struct audio_src *a);

/* Source frame for sequence number seq. */
static inline const uint8_t *audio_frame(const struct audio_src *a, uint32_t seq)
{
	return a->pcm + (size_t)(seq % a->frames) * a->frame_bytes;
}

/* Write the stamp for seq into the first AUDIO_STAMP_BYTES of frame. */
void audio_stamp(uint8_t *frame, uint32_t seq);

/* Read a stamp: 0 and *seq, or -1 if the bytes are not a stamp. */
int audio_stamp_read(const uint8_t *frame, uint32_t *seq);

/*
 * Is this frame speech? The server's parrot app decides it this way, so the
 * simulated caller must agree with it: voiced when at least 1/8 of the
 * samples have |sample| >= AUDIO_VOICED_LEVEL. The stamp is 4 samples and
 * 1/8 of the smallest frame (8 kHz) is 20, so a stamp on a frame of zeros
 * (a pause, script.h) is never voiced; the generated tone (amplitude 8000)
 * has |sample| >= 1024 on about 92% of its samples.
 */
#define AUDIO_VOICED_LEVEL 1024
int audio_voiced(const uint8_t *frame, uint32_t bytes);
