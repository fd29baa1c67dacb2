/*
 * test_block.cpp -- unit tests for src/block.cpp: adding, matching and
 * removing blocks, expiry, the fixed table when full (automatic blocks
 * give way, the operator's never do), the strike policy of automatic
 * blocking (which reasons count, loopback and exempt never blocked, the
 * window), and the block file (round trip, atomic replace, bad content);
 * what the full table loses is counted (automatic blocks ended early,
 * blocks not made); the file is refused when someone else could write it
 * or its directory, or it is a link, and a save never writes through a
 * file planted at the old temporary name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block.h"
#include "stats.h"

#define NOW 1800000000L

struct fx {
	struct block_table t;
	struct guard g;
	char dir[64];
};

static struct addr A(const char *s)
{
	struct addr a;
	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static struct cidr C(const char *s)
{
	struct cidr c;
	assert_int_equal(cidr_parse(s, &c), 0);
	return c;
}

static int setup(void **state)
{
	struct fx *f = (struct fx *)calloc(1, sizeof *f);
	if (!f)
		return -1;
	struct cidr ex = C("198.51.100.0/24");
	static struct cidr exempt[1];
	exempt[0] = ex;
	struct guard_cfg gc = { 0, 0, 1, 0, exempt, 1 };
	guard_init(&f->g, &gc, 42, 1000);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_block.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = (struct fx *)*state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static void test_add_match_remove(void **state)
{
	struct fx *f = (struct fx *)*state;
	struct cidr net = C("203.0.113.0/24");
	struct addr in = A("203.0.113.77"), out = A("203.0.114.1");

	assert_null(block_match(&f->t, &in, NOW));
	assert_int_equal(block_add(&f->t, &net, NOW, NOW + 60, BLOCK_MANUAL, "abuse", "127.0.0.1"), BLOCK_ADDED);
	struct block_entry *e = block_match(&f->t, &in, NOW);
	assert_non_null(e);
	assert_int_equal(e->hits, 1);
	assert_string_equal(e->reason, "abuse");
	assert_string_equal(e->by, "127.0.0.1");
	assert_null(block_match(&f->t, &out, NOW));
	/* IPv4 and its mapped IPv6 form are one address */
	struct addr mapped = A("::ffff:203.0.113.5");
	assert_non_null(block_match(&f->t, &mapped, NOW));
	/* the same network again: updated, not a second entry */
	assert_int_equal(block_add(&f->t, &net, NOW, NOW + 120, BLOCK_MANUAL, "again", "::1"), BLOCK_UPDATED);
	assert_int_equal(f->t.n, 1);
	assert_int_equal(f->t.e[0].expires, NOW + 120);
	/* removal is by exact network */
	struct cidr wider = C("203.0.0.0/16");
	assert_int_equal(block_remove(&f->t, &wider), -1);
	assert_int_equal(block_remove(&f->t, &net), 0);
	assert_null(block_match(&f->t, &in, NOW));
	assert_int_equal(block_remove(&f->t, &net), -1);
}

static void test_expiry(void **state)
{
	struct fx *f = (struct fx *)*state;
	struct cidr a = C("192.0.2.1"), b = C("192.0.2.2"), forever = C("2001:db8::/32");
	struct addr aa = A("192.0.2.1"), v6 = A("2001:db8::99");

	block_add(&f->t, &a, NOW, NOW + 10, BLOCK_AUTO, "x", "auto");
	block_add(&f->t, &b, NOW, NOW + 20, BLOCK_MANUAL, "y", "::1");
	block_add(&f->t, &forever, NOW, 0, BLOCK_MANUAL, "z", "::1");
	assert_non_null(block_match(&f->t, &aa, NOW + 9));
	assert_null(block_match(&f->t, &aa, NOW + 10));   /* expired: no longer matches ... */
	assert_int_equal(f->t.n, 3);                      /* ... even before it is swept */
	assert_int_equal(block_expire(&f->t, NOW + 15), 1);
	assert_int_equal(f->t.n, 2);
	assert_int_equal(block_expire(&f->t, NOW + 100000), 1);
	assert_non_null(block_match(&f->t, &v6, NOW + 100000000));   /* 0 = until removed */
}

static void test_manual_not_downgraded(void **state)
{
	struct fx *f = (struct fx *)*state;
	struct cidr a = C("192.0.2.9");

	block_add(&f->t, &a, NOW, 0, BLOCK_MANUAL, "operator", "::1");
	assert_int_equal(block_add(&f->t, &a, NOW, NOW + 5, BLOCK_AUTO, "auto", "auto"), BLOCK_UPDATED);
	assert_int_equal(f->t.e[0].source, BLOCK_MANUAL);
	assert_int_equal(f->t.e[0].expires, 0);
	assert_string_equal(f->t.e[0].reason, "operator");
	/* the other way round: the operator's block takes over an automatic one */
	struct cidr b = C("192.0.2.10");
	block_add(&f->t, &b, NOW, NOW + 5, BLOCK_AUTO, "auto", "auto");
	block_add(&f->t, &b, NOW, NOW + 500, BLOCK_MANUAL, "op", "::1");
	assert_int_equal(f->t.e[1].source, BLOCK_MANUAL);
	assert_int_equal(f->t.e[1].expires, NOW + 500);
}

static void test_full_table(void **state)
{
	struct fx *f = (struct fx *)*state;
	struct cidr c;

	/* fill: half automatic (expiring at different times), half manual */
	for (uint32_t i = 0; i < BLOCK_MAX; i++) {
		c = C("2001:db8::");
		c.net.b[14] = (uint8_t)(i >> 8);
		c.net.b[15] = (uint8_t)i;
		c.bits = 128;
		assert_int_equal(block_add(&f->t, &c, NOW, NOW + 1000 + i, i % 2 ? BLOCK_MANUAL : BLOCK_AUTO, "r", "b"),
				 BLOCK_ADDED);
	}
	assert_int_equal(f->t.n, BLOCK_MAX);
	assert_int_equal(f->t.evicted, 0);
	/* a new block takes the automatic one that ends first (i = 0), which
	 * had not ended: counted */
	struct cidr n1 = C("192.0.2.1");
	assert_int_equal(block_add(&f->t, &n1, NOW, NOW + 5, BLOCK_AUTO, "new", "auto"), BLOCK_ADDED);
	assert_int_equal(f->t.n, BLOCK_MAX);
	assert_int_equal(f->t.evicted, 1);
	struct addr first = A("2001:db8::"), second = A("2001:db8::2");
	assert_null(block_match(&f->t, &first, NOW));
	assert_non_null(block_match(&f->t, &second, NOW));
	/* the operator's blocks push out every automatic one, soonest end first
	 * (n1, then the originals); then the table refuses */
	for (uint32_t i = 0; i < BLOCK_MAX / 2; i++) {
		c = C("10.0.0.0");
		c.net.b[14] = (uint8_t)(i >> 8);
		c.net.b[15] = (uint8_t)i;
		assert_int_equal(block_add(&f->t, &c, NOW, 0, BLOCK_MANUAL, "m", "b"), BLOCK_ADDED);
	}
	struct addr n1a = A("192.0.2.1");
	assert_null(block_match(&f->t, &n1a, NOW));
	for (uint32_t i = 0; i < f->t.n; i++)
		assert_int_equal(f->t.e[i].source, BLOCK_MANUAL);
	assert_int_equal(f->t.evicted, 1 + BLOCK_MAX / 2);   /* n1 and the 255 other automatic ones */
	struct cidr n2 = C("192.0.2.2");
	assert_int_equal(block_add(&f->t, &n2, NOW, 0, BLOCK_MANUAL, "m", "b"), BLOCK_FULL);
	assert_int_equal(block_add(&f->t, &n2, NOW, NOW + 9, BLOCK_AUTO, "a", "auto"), BLOCK_FULL);
	assert_int_equal(f->t.full, 2);
	/* an expired entry makes room again, and dropping it costs nothing */
	struct addr mid = A("2001:db8::1");
	assert_non_null(block_match(&f->t, &mid, NOW + 1000));
	assert_int_equal(block_add(&f->t, &n2, NOW + 5000, 0, BLOCK_MANUAL, "m", "b"), BLOCK_ADDED);
	assert_int_equal(f->t.evicted, 1 + BLOCK_MAX / 2);
}

static void test_strings_sanitised(void **state)
{
	struct fx *f = (struct fx *)*state;
	struct cidr a = C("192.0.2.1");
	char longer[200];

	memset(longer, 'x', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	block_add(&f->t, &a, NOW, 0, BLOCK_MANUAL, "<script>\"\n", longer);
	assert_string_equal(f->t.e[0].reason, "?script???");
	assert_int_equal(strlen(f->t.e[0].by), ADDR_STR_MAX - 1);
}


static void test_strike_blocks_after_n(void **state)
{
	struct fx *f = (struct fx *)*state;
	struct block_policy p = { 3, 10, 600 };
	struct addr a = A("203.0.113.9");

	assert_int_equal(block_strike(&f->t, &f->g, &p, &a, AUTH_BAD_SIGNATURE, NOW, 2000), 0);
	assert_int_equal(block_strike(&f->t, &f->g, &p, &a, REJECT_CAPACITY, NOW, 2100), 0);   /* not a strike */
	assert_int_equal(block_strike(&f->t, &f->g, &p, &a, REJECT_ORIGIN, NOW, 2200), 0);
	assert_null(block_match(&f->t, &a, NOW));
	assert_int_equal(block_strike(&f->t, &f->g, &p, &a, REJECT_BAD_PATH, NOW, 2300), 1);
	struct block_entry *e = block_match(&f->t, &a, NOW);
	assert_non_null(e);
	assert_int_equal(e->source, BLOCK_AUTO);
	assert_int_equal(e->expires, NOW + 600);
	assert_string_equal(e->by, "auto");
	assert_string_equal(e->reason, "3 refusals in 10 s, last bad_path");
	char net[CIDR_STR_MAX];
	cidr_format(&e->net, net, sizeof net);
	assert_string_equal(net, "203.0.113.9/32");
}

static void test_strike_window(void **state)
{
	struct fx *f = (struct fx *)*state;
	struct block_policy p = { 3, 10, 600 };
	struct addr a = A("203.0.113.10");

	/* two strikes, then a pause longer than the window: counting starts over */
	block_strike(&f->t, &f->g, &p, &a, AUTH_MALFORMED, NOW, 2000);
	block_strike(&f->t, &f->g, &p, &a, AUTH_MALFORMED, NOW, 3000);
	assert_int_equal(block_strike(&f->t, &f->g, &p, &a, AUTH_MALFORMED, NOW, 12001), 0);
	assert_int_equal(block_strike(&f->t, &f->g, &p, &a, AUTH_MALFORMED, NOW, 13000), 0);
	assert_int_equal(block_strike(&f->t, &f->g, &p, &a, AUTH_MALFORMED, NOW, 14000), 1);
}

static void test_strike_never_blocks(void **state)
{
	struct fx *f = (struct fx *)*state;
	struct block_policy p = { 1, 10, 600 }, off = { 0, 10, 600 };
	struct addr lo = A("127.0.0.2"), lo6 = A("::1"), exempt = A("198.51.100.20"), unknown, a = A("192.0.2.50");

	memset(&unknown, 0, sizeof unknown);
	assert_int_equal(block_strike(&f->t, &f->g, &p, &lo, AUTH_MALFORMED, NOW, 2000), 0);
	assert_int_equal(block_strike(&f->t, &f->g, &p, &lo6, AUTH_MALFORMED, NOW, 2000), 0);
	assert_int_equal(block_strike(&f->t, &f->g, &p, &exempt, AUTH_MALFORMED, NOW, 2000), 0);
	assert_int_equal(block_strike(&f->t, &f->g, &p, &unknown, AUTH_MALFORMED, NOW, 2000), 0);
	assert_int_equal(block_strike(&f->t, &f->g, &off, &a, AUTH_MALFORMED, NOW, 2000), 0);
	assert_int_equal(f->t.n, 0);
	assert_int_equal(block_strike(&f->t, &f->g, &p, &a, AUTH_MALFORMED, NOW, 2000), 1);
	assert_int_equal(f->t.n, 1);
}

static void path_in(struct fx *f, char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", f->dir, name);
}

static void test_save_load_round_trip(void **state)
{
	struct fx *f = (struct fx *)*state;
	static struct block_table back;
	struct cidr a = C("203.0.113.0/24"), b = C("2001:db8::/48"), gone = C("192.0.2.1");
	char path[128], err[256];
	struct stat st;

	path_in(f, path, sizeof path, "blocks.json");
	block_add(&f->t, &a, NOW, NOW + 3600, BLOCK_MANUAL, "abuse", "127.0.0.1");
	block_add(&f->t, &b, NOW, 0, BLOCK_AUTO, "20 refusals", "auto");
	block_add(&f->t, &gone, NOW, NOW + 1, BLOCK_MANUAL, "short", "::1");
	assert_int_equal(f->t.dirty, 1);
	assert_int_equal(block_save(&f->t, path, NOW, err, sizeof err), 0);
	assert_int_equal(f->t.dirty, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char tmp[140];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	assert_int_not_equal(access(tmp, F_OK), 0);   /* renamed into place */

	/* a restart 10 s later: the 1 s block is gone, the others as they were */
	assert_int_equal(block_load(&back, path, NOW + 10, err, sizeof err), 0);
	assert_int_equal(back.n, 2);
	assert_int_equal(back.dirty, 0);
	struct addr in = A("203.0.113.4"), v6 = A("2001:db8:0:1::1"), g = A("192.0.2.1");
	struct block_entry *e = block_match(&back, &in, NOW + 10);
	assert_non_null(e);
	assert_int_equal(e->expires, NOW + 3600);
	assert_int_equal(e->created, NOW);
	assert_int_equal(e->source, BLOCK_MANUAL);
	assert_string_equal(e->reason, "abuse");
	assert_string_equal(e->by, "127.0.0.1");
	e = block_match(&back, &v6, NOW + 10);
	assert_non_null(e);
	assert_int_equal(e->source, BLOCK_AUTO);
	assert_int_equal(e->expires, 0);
	assert_null(block_match(&back, &g, NOW + 10));
}

static void write_file(const char *path, const char *s)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(s, fp);
	fclose(fp);
}

static void test_load_missing_and_bad(void **state)
{
	struct fx *f = (struct fx *)*state;
	char path[128], err[256];
	struct cidr a = C("192.0.2.1");

	path_in(f, path, sizeof path, "none.json");
	block_add(&f->t, &a, NOW, 0, BLOCK_MANUAL, "x", "y");
	assert_int_equal(block_load(&f->t, path, NOW, err, sizeof err), 0);   /* first start */
	assert_int_equal(f->t.n, 0);

	static const char *const bad[] = {
		"", "not json", "[]", "{}", "{\"blocks\":{}}", "{\"blocks\":[{\"cidr\":\"300.1.1.1\",\"expires\":0}]}",
		"{\"blocks\":[{\"cidr\":\"192.0.2.1\"}]}", "{\"blocks\":[{\"cidr\":\"192.0.2.1\",\"expires\":-5}]}",
		"{\"blocks\":[{\"cidr\":\"192.0.2.1\",\"expires\":\"soon\"}]}", "{\"blocks\":[7]}",
	};
	path_in(f, path, sizeof path, "bad.json");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_file(path, bad[i]);
		block_add(&f->t, &a, NOW, 0, BLOCK_MANUAL, "x", "y");
		err[0] = '\0';
		assert_int_equal(block_load(&f->t, path, NOW, err, sizeof err), -1);
		assert_non_null(strstr(err, path));
		assert_int_equal(f->t.n, 0);   /* nothing half-loaded */
	}
	/* a directory where the file should be */
	assert_int_equal(block_load(&f->t, f->dir, NOW, err, sizeof err), BLOCK_FILE_REFUSED);
	assert_non_null(strstr(err, "is not a regular file"));
	/* no place to save */
	char nodir[160];
	snprintf(nodir, sizeof nodir, "%s/missing/dir/blocks.json", f->dir);
	block_add(&f->t, &a, NOW, 0, BLOCK_MANUAL, "x", "y");
	assert_int_equal(block_save(&f->t, nodir, NOW, err, sizeof err), BLOCK_FILE_REFUSED);
	assert_non_null(strstr(err, "cannot look at"));
	assert_int_equal(f->t.dirty, 1);
}

static int names_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

/* issue 19, finding 6: a file left at PATH.tmp (the old fixed name) by
 * someone else used to be written through and renamed into place: the
 * block file then was theirs, mode 0666 */
static void test_save_never_writes_through_a_planted_file(void **state)
{
	struct fx *f = (struct fx *)*state;
	struct cidr a = C("203.0.113.0/24");
	char path[128], tmp[140], err[256];
	struct stat st;

	path_in(f, path, sizeof path, "blocks.json");
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	write_file(tmp, "planted");
	assert_int_equal(chmod(tmp, 0666), 0);
	if (geteuid() == 0)
		assert_int_equal(chown(tmp, 65534, 65534), 0);
	block_add(&f->t, &a, NOW, 0, BLOCK_MANUAL, "x", "y");
	mode_t old = umask(0);
	assert_int_equal(block_save(&f->t, path, NOW, err, sizeof err), 0);
	umask(old);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	/* the planted file is as it was, and no temporary file is left */
	assert_int_equal(stat(tmp, &st), 0);
	assert_int_equal(st.st_size, 7);
	assert_int_equal(st.st_mode & 0777, 0666);
	assert_int_equal(names_in(f->dir), 2);
	/* a link planted at the old name does not matter either */
	assert_int_equal(unlink(tmp), 0);
	assert_int_equal(symlink("/etc/passwd", tmp), 0);
	block_add(&f->t, &a, NOW + 1, 0, BLOCK_MANUAL, "again", "y");
	assert_int_equal(block_save(&f->t, path, NOW + 1, err, sizeof err), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

static void test_file_others_could_write_is_refused(void **state)
{
	struct fx *f = (struct fx *)*state;
	static struct block_table back;
	struct cidr a = C("192.0.2.0/24");
	char path[128], link[140], err[600];

	path_in(f, path, sizeof path, "blocks.json");
	block_add(&f->t, &a, NOW, 0, BLOCK_MANUAL, "x", "y");
	assert_int_equal(block_save(&f->t, path, NOW, err, sizeof err), 0);
	/* world-writable: refused, never loaded (0.0.0.0/0 in it would shut
	 * out everyone) */
	write_file(path, "{\"blocks\":[{\"cidr\":\"0.0.0.0/0\",\"expires\":0}]}");
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(block_load(&back, path, NOW, err, sizeof err), BLOCK_FILE_REFUSED);
	assert_non_null(strstr(err, "--block-file: "));
	assert_non_null(strstr(err, "with mode 0666; needed:"));
	assert_int_equal(back.n, 0);
	assert_int_equal(chmod(path, 0620), 0);   /* group-writable too */
	assert_int_equal(block_load(&back, path, NOW, err, sizeof err), BLOCK_FILE_REFUSED);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(block_load(&back, path, NOW, err, sizeof err), 0);
	assert_int_equal(back.n, 1);
	/* through a link: refused */
	snprintf(link, sizeof link, "%s/link.json", f->dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(block_load(&back, link, NOW, err, sizeof err), BLOCK_FILE_REFUSED);
	assert_non_null(strstr(err, "is a symbolic link"));
	/* its directory opened up: the load and every save refused, counted */
	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(block_load(&back, path, NOW, err, sizeof err), BLOCK_FILE_REFUSED);
	assert_non_null(strstr(err, "directory "));
	assert_int_equal(block_save(&f->t, path, NOW, err, sizeof err), BLOCK_FILE_REFUSED);
	assert_int_equal(f->t.save_refused, 1);
	assert_int_equal(chmod(f->dir, 0700), 0);
	if (geteuid() != 0) {
		printf("  (skipped: another user's file needs root)\n");
		return;
	}
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(block_load(&back, path, NOW, err, sizeof err), BLOCK_FILE_REFUSED);
	assert_non_null(strstr(err, "is owned by uid 65534 (nobody)"));
}

static void test_render_json(void **state)
{
	struct fx *f = (struct fx *)*state;
	struct cidr a = C("203.0.113.0/24"), b = C("192.0.2.7");
	size_t len = 0;

	block_add(&f->t, &a, NOW, NOW + 100, BLOCK_MANUAL, "abuse", "127.0.0.1");
	block_add(&f->t, &b, NOW, 0, BLOCK_AUTO, "r", "auto");
	char *s = block_render_json(&f->t, NOW + 40, &len);
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	cJSON *j = cJSON_Parse(s);
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "blocks");
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	const cJSON *e0 = cJSON_GetArrayItem(arr, 0), *e1 = cJSON_GetArrayItem(arr, 1);
	assert_string_equal(cJSON_GetObjectItem(e0, "cidr")->valuestring, "203.0.113.0/24");
	assert_string_equal(cJSON_GetObjectItem(e0, "source")->valuestring, "manual");
	assert_int_equal(cJSON_GetObjectItem(e0, "expires_in")->valueint, 60);
	assert_string_equal(cJSON_GetObjectItem(e1, "cidr")->valuestring, "192.0.2.7/32");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(e1, "expires_in")));
	assert_int_equal(cJSON_GetObjectItem(e1, "expires")->valueint, 0);
	cJSON_Delete(j);
	free(s);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_add_match_remove),
		T(test_expiry),
		T(test_manual_not_downgraded),
		T(test_full_table),
		T(test_strings_sanitised),
		T(test_strike_blocks_after_n),
		T(test_strike_window),
		T(test_strike_never_blocks),
		T(test_save_load_round_trip),
		T(test_load_missing_and_bad),
		T(test_save_never_writes_through_a_planted_file),
		T(test_file_others_could_write_is_refused),
		T(test_render_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
