/*
 * test_sim_wav.cpp -- unit tests for sim/wav.cpp (caller-sim's WAV in and out).
 *
 * WAV images are built in memory by build_wav() so each test states the
 * exact chunk layout it exercises. The overread test parses every prefix of
 * a valid file placed at the very end of an mmap'd region followed by a
 * PROT_NONE page, so reading one byte past the image crashes the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wav.h"

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

struct img { uint8_t b[4096]; size_t n; };

static void chunk(struct img *w, const char *id, const void *body, uint32_t len, uint32_t declared)
{
	memcpy(w->b + w->n, id, 4);
	put32(w->b + w->n + 4, declared);
	memcpy(w->b + w->n + 8, body, len);
	w->n += 8 + len + (len & 1);   /* pad byte (zero from the memset) */
}

static void riff(struct img *w)
{
	memset(w, 0, sizeof *w);
	memcpy(w->b, "RIFF", 4);
	memcpy(w->b + 8, "WAVE", 4);
	w->n = 12;
}

static void fmt_body(uint8_t *f, uint16_t format, uint16_t ch, uint32_t rate, uint16_t bits)
{
	put16(f, format);
	put16(f + 2, ch);
	put32(f + 4, rate);
	put32(f + 8, rate * ch * bits / 8);
	put16(f + 12, (uint16_t)(ch * bits / 8));
	put16(f + 14, bits);
}

/* RIFF + fmt(PCM) + data of `samples` 16-bit values 0,1,2,... */
static void build_wav(struct img *w, uint16_t ch, uint32_t rate, uint16_t bits, uint32_t samples)
{
	uint8_t f[16], d[2048];

	riff(w);
	fmt_body(f, WAV_FORMAT_PCM, ch, rate, bits);
	chunk(w, "fmt ", f, 16, 16);
	for (uint32_t i = 0; i < samples; i++)
		put16(d + 2 * i, (uint16_t)i);
	chunk(w, "data", d, 2 * samples, 2 * samples);
	put32(w->b + 4, (uint32_t)w->n - 8);
}

static void test_wav_parse_reads_canonical_pcm(void **state)
{
	struct img w;
	struct wav_info info;
	char err[128];

	(void)state;
	build_wav(&w, 1, 24000, 16, 480);
	assert_int_equal(wav_parse(w.b, w.n, &info, err, sizeof err), 0);
	assert_int_equal(info.format, WAV_FORMAT_PCM);
	assert_int_equal(info.channels, 1);
	assert_int_equal(info.rate, 24000);
	assert_int_equal(info.bits, 16);
	assert_int_equal(info.data_len, 960);
	assert_ptr_equal(info.data, w.b + 44);
	assert_int_equal(info.data[2], 1);   /* sample 1 */
}

static void test_wav_parse_skips_other_chunks_and_odd_padding(void **state)
{
	struct img w;
	struct wav_info info;
	uint8_t f[16], d[4] = { 1, 2, 3, 4 };
	char err[128];

	(void)state;
	riff(&w);
	chunk(&w, "LIST", "abc", 3, 3);          /* odd size: one pad byte follows */
	fmt_body(f, WAV_FORMAT_PCM, 1, 8000, 16);
	chunk(&w, "fmt ", f, 16, 16);
	chunk(&w, "fact", "wxyz", 4, 4);
	chunk(&w, "data", d, 4, 4);
	assert_int_equal(wav_parse(w.b, w.n, &info, err, sizeof err), 0);
	assert_int_equal(info.rate, 8000);
	assert_int_equal(info.data_len, 4);
	assert_memory_equal(info.data, d, 4);
}

static void test_wav_parse_extensible_takes_subformat(void **state)
{
	struct img w;
	struct wav_info info;
	uint8_t f[40], d[2] = { 0, 0 };
	char err[128];

	(void)state;
	riff(&w);
	memset(f, 0, sizeof f);
	fmt_body(f, WAV_FORMAT_EXTENSIBLE, 1, 16000, 16);
	put16(f + 16, 22);               /* cbSize */
	put16(f + 24, WAV_FORMAT_PCM);   /* SubFormat GUID starts with the format code */
	chunk(&w, "fmt ", f, 40, 40);
	chunk(&w, "data", d, 2, 2);
	assert_int_equal(wav_parse(w.b, w.n, &info, err, sizeof err), 0);
	assert_int_equal(info.format, WAV_FORMAT_PCM);
	assert_int_equal(wav_check(&info, 16000, err, sizeof err), 0);
}

static void test_wav_parse_streamed_data_size_runs_to_end(void **state)
{
	struct img w;
	struct wav_info info;
	uint8_t f[16], d[6] = { 1, 2, 3, 4, 5, 6 };
	char err[128];

	(void)state;
	riff(&w);
	fmt_body(f, WAV_FORMAT_PCM, 1, 8000, 16);
	chunk(&w, "fmt ", f, 16, 16);
	chunk(&w, "data", d, 6, 0xFFFFFFFFu);
	assert_int_equal(wav_parse(w.b, w.n, &info, err, sizeof err), 0);
	assert_int_equal(info.data_len, 6);
}

static void test_wav_parse_rejects_not_riff(void **state)
{
	struct wav_info info;
	char err[128];
	const uint8_t junk[] = "ID3\x04 this is an mp3";

	(void)state;
	assert_int_equal(wav_parse(junk, sizeof junk, &info, err, sizeof err), -1);
	assert_string_equal(err, "not a RIFF/WAVE file");
	assert_int_equal(wav_parse(junk, 0, &info, err, sizeof err), -1);
}

static void test_wav_parse_rejects_truncated_data(void **state)
{
	struct img w;
	struct wav_info info;
	char err[128];

	(void)state;
	build_wav(&w, 1, 8000, 16, 100);
	assert_int_equal(wav_parse(w.b, w.n - 1, &info, err, sizeof err), -1);
	assert_non_null(strstr(err, "truncated"));
}

static void test_wav_parse_rejects_data_before_fmt(void **state)
{
	struct img w;
	struct wav_info info;
	uint8_t d[2] = { 0, 0 };
	char err[128];

	(void)state;
	riff(&w);
	chunk(&w, "data", d, 2, 2);
	assert_int_equal(wav_parse(w.b, w.n, &info, err, sizeof err), -1);
	assert_string_equal(err, "data chunk before the fmt chunk");
}

static void test_wav_parse_rejects_missing_chunks(void **state)
{
	struct img w;
	struct wav_info info;
	uint8_t f[16];
	char err[128];

	(void)state;
	riff(&w);
	assert_int_equal(wav_parse(w.b, w.n, &info, err, sizeof err), -1);
	assert_string_equal(err, "no fmt chunk");
	fmt_body(f, WAV_FORMAT_PCM, 1, 8000, 16);
	chunk(&w, "fmt ", f, 16, 16);
	assert_int_equal(wav_parse(w.b, w.n, &info, err, sizeof err), -1);
	assert_string_equal(err, "no data chunk");
}

static void test_wav_parse_rejects_short_fmt(void **state)
{
	struct img w;
	struct wav_info info;
	uint8_t f[16] = { 0 };
	char err[128];

	(void)state;
	riff(&w);
	chunk(&w, "fmt ", f, 14, 14);
	assert_int_equal(wav_parse(w.b, w.n, &info, err, sizeof err), -1);
	assert_string_equal(err, "fmt chunk shorter than 16 bytes");
}

/* Each wrong property is named, with what a call at that rate needs. */
static void test_wav_check_names_what_is_wrong(void **state)
{
	struct img w;
	struct wav_info info;
	char err[160];

	(void)state;
	build_wav(&w, 2, 24000, 16, 100);
	assert_int_equal(wav_parse(w.b, w.n, &info, err, sizeof err), 0);
	assert_int_equal(wav_check(&info, 24000, err, sizeof err), -1);
	assert_string_equal(err, "WAV has 2 channels; a call at this rate needs mono 16-bit PCM at 24000 Hz");

	build_wav(&w, 1, 24000, 8, 100);
	assert_int_equal(wav_parse(w.b, w.n, &info, err, sizeof err), 0);
	assert_int_equal(wav_check(&info, 24000, err, sizeof err), -1);
	assert_non_null(strstr(err, "8-bit samples"));

	build_wav(&w, 1, 16000, 16, 100);
	assert_int_equal(wav_parse(w.b, w.n, &info, err, sizeof err), 0);
	assert_int_equal(wav_check(&info, 24000, err, sizeof err), -1);
	assert_string_equal(err, "WAV has 16000 Hz; a call at this rate needs mono 16-bit PCM at 24000 Hz");
	assert_int_equal(wav_check(&info, 16000, err, sizeof err), 0);

	info.format = 3;   /* IEEE float */
	assert_int_equal(wav_check(&info, 16000, err, sizeof err), -1);
	assert_non_null(strstr(err, "format 3 (not integer PCM)"));

	build_wav(&w, 1, 8000, 16, 0);
	assert_int_equal(wav_parse(w.b, w.n, &info, err, sizeof err), 0);
	assert_int_equal(wav_check(&info, 8000, err, sizeof err), -1);
	assert_non_null(strstr(err, "no samples"));
}

static void test_wav_header_round_trips_through_parse(void **state)
{
	uint8_t buf[WAV_HEADER_BYTES + 640];
	struct wav_info info;
	char err[128];

	(void)state;
	wav_header(buf, 16000, 1, 16, 640);
	memset(buf + WAV_HEADER_BYTES, 0x5a, 640);
	assert_int_equal(wav_parse(buf, sizeof buf, &info, err, sizeof err), 0);
	assert_int_equal(info.rate, 16000);
	assert_int_equal(info.channels, 1);
	assert_int_equal(info.bits, 16);
	assert_int_equal(info.data_len, 640);
	/* byte rate and block align, which players rely on */
	assert_int_equal(buf[28] | buf[29] << 8 | buf[30] << 16, 32000);
	assert_int_equal(buf[32], 2);
	assert_int_equal(buf[4] | buf[5] << 8, 36 + 640);
}

static void test_wav_writer_patches_sizes_on_close(void **state)
{
	char path[] = "/tmp/test_sim_wav_XXXXXX";
	uint8_t frame[320], file[2048];
	struct wav_writer w;
	struct wav_info info;
	char err[128];

	(void)state;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof frame; i++)
		frame[i] = (uint8_t)i;
	assert_int_equal(wav_writer_open(&w, path, 8000, err, sizeof err), 0);
	wav_writer_write(&w, frame, sizeof frame);
	wav_writer_write(&w, frame, sizeof frame);
	assert_int_equal(wav_writer_close(&w, err, sizeof err), 0);

	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(file, 1, sizeof file, f);
	fclose(f);
	unlink(path);
	assert_int_equal(n, WAV_HEADER_BYTES + 640);
	assert_int_equal(wav_parse(file, n, &info, err, sizeof err), 0);
	assert_int_equal(info.data_len, 640);
	assert_int_equal(wav_check(&info, 8000, err, sizeof err), 0);
	assert_memory_equal(info.data + 320, frame, 320);
}

static void test_wav_writer_open_reports_bad_path(void **state)
{
	struct wav_writer w;
	char err[128];

	(void)state;
	assert_int_equal(wav_writer_open(&w, "/nonexistent-dir/x.wav", 8000, err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent-dir/x.wav: No such file or directory"));
	assert_null(w.f);
}

/* Every prefix of a valid file, ending at a PROT_NONE page: no read past the end. */
static void test_wav_parse_every_prefix_stays_in_bounds(void **state)
{
	struct img w;
	struct wav_info info;
	char err[128];
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	(void)state;
	build_wav(&w, 1, 8000, 16, 30);
	uint8_t *map = (uint8_t *)mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, page, PROT_NONE), 0);
	for (size_t len = 0; len <= w.n; len++) {
		uint8_t *p = map + page - len;
		memcpy(p, w.b, len);
		int r = wav_parse(p, len, &info, err, sizeof err);
		assert_int_equal(r, len == w.n ? 0 : -1);
	}
	munmap(map, 2 * page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wav_parse_reads_canonical_pcm),
		cmocka_unit_test(test_wav_parse_skips_other_chunks_and_odd_padding),
		cmocka_unit_test(test_wav_parse_extensible_takes_subformat),
		cmocka_unit_test(test_wav_parse_streamed_data_size_runs_to_end),
		cmocka_unit_test(test_wav_parse_rejects_not_riff),
		cmocka_unit_test(test_wav_parse_rejects_truncated_data),
		cmocka_unit_test(test_wav_parse_rejects_data_before_fmt),
		cmocka_unit_test(test_wav_parse_rejects_missing_chunks),
		cmocka_unit_test(test_wav_parse_rejects_short_fmt),
		cmocka_unit_test(test_wav_check_names_what_is_wrong),
		cmocka_unit_test(test_wav_header_round_trips_through_parse),
		cmocka_unit_test(test_wav_writer_patches_sizes_on_close),
		cmocka_unit_test(test_wav_writer_open_reports_bad_path),
		cmocka_unit_test(test_wav_parse_every_prefix_stays_in_bounds),
	};
	return cmocka_run_group_tests_name("sim_wav", tests, NULL, NULL);
}
