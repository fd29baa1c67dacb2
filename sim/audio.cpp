/*
 * audio.cpp -- frame sources for caller-sim; see audio.h.
 */
#include "audio.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wav.h"

#define WAV_FILE_MAX (256u << 20)   /* 256 MiB: over an hour at 24 kHz */

/* Whole file into a malloc'd buffer. NULL with err on failure. */
static uint8_t *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	FILE *f = fopen(path, "rb");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)WAV_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file under %u MiB", path, WAV_FILE_MAX >> 20);
		goto fail;
	}
	buf = (uint8_t *)malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	*len = (size_t)st.st_size;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

int audio_load_wav(struct audio_src *a, const char *path, uint32_t rate, char *err, size_t errlen)
{
	struct wav_info w;
	char why[160];
	size_t len = 0;
	uint8_t *file = read_file(path, &len, err, errlen);

	memset(a, 0, sizeof *a);
	if (!file)
		return -1;
	if (wav_parse(file, len, &w, why, sizeof why) || wav_check(&w, rate, why, sizeof why)) {
		snprintf(err, errlen, "%s: %s", path, why);
		free(file);
		return -1;
	}
	a->rate = rate;
	a->frame_bytes = audio_frame_bytes(rate);
	a->samples = w.data_len / 2;
	a->frames = (uint32_t)((w.data_len / 2 * 2 + a->frame_bytes - 1) / a->frame_bytes);
	a->pcm = (uint8_t *)calloc(a->frames, a->frame_bytes);   /* the padding is silence */
	if (!a->pcm) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(file);
		return -1;
	}
	memcpy(a->pcm, w.data, w.data_len / 2 * 2);
	free(file);
	return 0;
}

int audio_generate(struct audio_src *a, uint32_t rate)
{
	memset(a, 0, sizeof *a);
	a->rate = rate;
	a->frame_bytes = audio_frame_bytes(rate);
	a->frames = 1000 / AUDIO_FRAME_MS;
	a->samples = rate;
	a->pcm = (uint8_t *)malloc((size_t)a->frames * a->frame_bytes);
	if (!a->pcm)
		return -1;
	/* 440 whole cycles per second: the one-second loop joins smoothly */
	for (uint32_t i = 0; i < rate; i++) {
		int16_t s = (int16_t)lrint(8000.0 * sin(2.0 * M_PI * 440.0 * (double)i / (double)rate));
		a->pcm[2 * i] = (uint8_t)(s & 0xff);
		a->pcm[2 * i + 1] = (uint8_t)((uint16_t)s >> 8);
	}
	return 0;
}

void audio_free(struct audio_src *a)
{
	free(a->pcm);
	memset(a, 0, sizeof *a);
}

void audio_stamp(uint8_t *frame, uint32_t seq)
{
	uint32_t inv = ~seq;

	for (int i = 0; i < 4; i++) {
		frame[i] = (uint8_t)(seq >> (8 * i));
		frame[4 + i] = (uint8_t)(inv >> (8 * i));
	}
}

int audio_stamp_read(const uint8_t *frame, uint32_t *seq)
{
	uint32_t s = 0, inv = 0;

	for (int i = 3; i >= 0; i--) {
		s = s << 8 | frame[i];
		inv = inv << 8 | frame[4 + i];
	}
	if (s != ~inv)
		return -1;
	*seq = s;
	return 0;
}

int audio_voiced(const uint8_t *frame, uint32_t bytes)
{
	uint32_t n = bytes / 2, loud = 0;

	for (uint32_t i = 0; i < n; i++) {
		int s = (int16_t)(uint16_t)(frame[2 * i] | frame[2 * i + 1] << 8);
		loud += s >= AUDIO_VOICED_LEVEL || s <= -AUDIO_VOICED_LEVEL;
	}
	return n && loud * 8 >= n;
}
