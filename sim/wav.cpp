/*
 * wav.cpp -- RIFF/WAVE parsing and writing; see wav.h.
 */
#include "wav.h"

#include <errno.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }

static int fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

/* fmt chunk body -> w. -1 on a short or odd chunk. */
static int parse_fmt(const uint8_t *p, uint32_t n, struct wav_info *w, char *err, size_t errlen)
{
	if (n < 16)
		return fail(err, errlen, "fmt chunk shorter than 16 bytes");
	w->format = rd16(p);
	w->channels = rd16(p + 2);
	w->rate = rd32(p + 4);
	w->bits = rd16(p + 14);
	if (w->format == WAV_FORMAT_EXTENSIBLE) {
		/* cbSize(2) validBits(2) channelMask(4) subFormat GUID: first 2 bytes are the format */
		if (n < 40)
			return fail(err, errlen, "WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes");
		w->format = rd16(p + 24);
	}
	return 0;
}

int wav_parse(const uint8_t *buf, size_t len, struct wav_info *w, char *err, size_t errlen)
{
	int have_fmt = 0;
	size_t off = 12;

	memset(w, 0, sizeof *w);
	if (len < 12 || memcmp(buf, "RIFF", 4) || memcmp(buf + 8, "WAVE", 4))
		return fail(err, errlen, "not a RIFF/WAVE file");
	while (off + 8 <= len) {
		const uint8_t *ck = buf + off;
		uint32_t n = rd32(ck + 4);
		size_t avail = len - off - 8;

		if (!memcmp(ck, "data", 4)) {
			if (!have_fmt)
				return fail(err, errlen, "data chunk before the fmt chunk");
			if (n == 0 || n == 0xFFFFFFFFu)
				n = (uint32_t)(avail > 0xFFFFFFF0u ? 0xFFFFFFF0u : avail);   /* streamed: to the end */
			else if (n > avail)
				return fail(err, errlen, "data chunk runs past the end of the file (truncated)");
			w->data = ck + 8;
			w->data_len = n;
			return 0;
		}
		if (n > avail)
			return fail(err, errlen, "a chunk runs past the end of the file (truncated)");
		if (!memcmp(ck, "fmt ", 4)) {
			if (parse_fmt(ck + 8, n, w, err, errlen))
				return -1;
			have_fmt = 1;
		}
		off += 8 + (size_t)n + (n & 1);   /* chunks are padded to even sizes */
	}
	return fail(err, errlen, have_fmt ? "no data chunk" : "no fmt chunk");
}

int wav_check(const struct wav_info *w, uint32_t rate, char *err, size_t errlen)
{
	char what[96];

	if (w->format != WAV_FORMAT_PCM)
		snprintf(what, sizeof what, "format %u (not integer PCM)", w->format);
	else if (w->channels != 1)
		snprintf(what, sizeof what, "%u channels", w->channels);
	else if (w->bits != 16)
		snprintf(what, sizeof what, "%u-bit samples", w->bits);
	else if (w->rate != rate)
		snprintf(what, sizeof what, "%u Hz", w->rate);
	else if (w->data_len < 2)
		snprintf(what, sizeof what, "no samples");
	else
		return 0;
	snprintf(err, errlen, "WAV has %s; a call at this rate needs mono 16-bit PCM at %u Hz", what, rate);
	return -1;
}

void wav_header(uint8_t out[WAV_HEADER_BYTES], uint32_t rate, uint16_t channels, uint16_t bits,
		uint32_t data_bytes)
{
	uint16_t align = (uint16_t)(channels * bits / 8);

	memcpy(out, "RIFF", 4);
	wr32(out + 4, 36 + data_bytes);
	memcpy(out + 8, "WAVEfmt ", 8);
	wr32(out + 16, 16);
	wr16(out + 20, WAV_FORMAT_PCM);
	wr16(out + 22, channels);
	wr32(out + 24, rate);
	wr32(out + 28, rate * align);
	wr16(out + 32, align);
	wr16(out + 34, bits);
	memcpy(out + 36, "data", 4);
	wr32(out + 40, data_bytes);
}

int wav_writer_open(struct wav_writer *w, const char *path, uint32_t rate, char *err, size_t errlen)
{
	uint8_t hdr[WAV_HEADER_BYTES];

	memset(w, 0, sizeof *w);
	w->f = fopen(path, "wb");
	if (!w->f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	w->rate = rate;
	wav_header(hdr, rate, 1, 16, 0);
	if (fwrite(hdr, 1, sizeof hdr, w->f) != sizeof hdr) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(w->f);
		w->f = NULL;
		return -1;
	}
	return 0;
}

void wav_writer_write(struct wav_writer *w, const void *data, size_t len)
{
	if (!w->f || w->failed)
		return;
	/* a RIFF size field is 32 bits: stop recording rather than wrap it */
	if (w->bytes + len > 0xFFFFFFFFull - 36 || fwrite(data, 1, len, w->f) != len) {
		w->failed = 1;
		return;
	}
	w->bytes += len;
}

int wav_writer_close(struct wav_writer *w, char *err, size_t errlen)
{
	uint8_t hdr[WAV_HEADER_BYTES];
	int failed = w->failed;

	if (!w->f)
		return 0;
	wav_header(hdr, w->rate, 1, 16, (uint32_t)w->bytes);
	if (fseek(w->f, 0, SEEK_SET) || fwrite(hdr, 1, sizeof hdr, w->f) != sizeof hdr)
		failed = 1;
	if (fclose(w->f))
		failed = 1;
	w->f = NULL;
	if (failed) {
		snprintf(err, errlen, "writing the recording failed (disk full or over 4 GiB?)");
		return -1;
	}
	return 0;
}
