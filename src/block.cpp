/*
 * block.cpp -- see block.h. Entries are kept packed in e[0..n): removal
 * moves the last entry into the hole, so a match is one pass over n.
 */
#include "block.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileperm.h"
#include "refusal.h"

/* printable ASCII only: these strings reach logs, JSON and the stats page */
static void copy_clean(char *dst, size_t cap, const char *s)
{
	size_t i = 0;
	for (; s && s[i] && i + 1 < cap; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '<' && s[i] != '>' &&
			  s[i] != '\\') ? s[i] : '?';
	dst[i] = '\0';
}

static int live(const struct block_entry *e, time_t now)
{
	return !e->expires || e->expires > now;
}

static struct block_entry *find(struct block_table *t, const struct cidr *net)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (cidr_equal(&t->e[i].net, net))
			return &t->e[i];
	return NULL;
}

static void remove_at(struct block_table *t, uint32_t i)
{
	t->e[i] = t->e[--t->n];
	t->dirty = 1;
}

/* the automatic block that ends first (dead ones first of all), or -1 */
static int victim(const struct block_table *t, time_t now)
{
	int v = -1;
	for (uint32_t i = 0; i < t->n; i++) {
		const struct block_entry *e = &t->e[i];
		if (!live(e, now))
			return (int)i;
		if (e->source == BLOCK_AUTO && (v < 0 || e->expires < t->e[v].expires))
			v = (int)i;
	}
	return v;
}

enum block_add_result block_add(struct block_table *t, const struct cidr *net, time_t now, time_t expires,
				enum block_source src, const char *reason, const char *by)
{
	enum block_add_result r = BLOCK_UPDATED;
	struct block_entry *e = find(t, net);

	if (!e) {
		if (t->n == BLOCK_MAX) {
			int v = victim(t, now);
			if (v < 0) {
				t->full++;
				return BLOCK_FULL;
			}
			if (live(&t->e[v], now))
				t->evicted++;   /* an automatic block ends early: the caller says so */
			remove_at(t, (uint32_t)v);
		}
		e = &t->e[t->n++];
		memset(e, 0, sizeof *e);
		e->net = *net;
		e->source = (uint8_t)src;
		r = BLOCK_ADDED;
	} else if (src == BLOCK_MANUAL) {
		e->source = BLOCK_MANUAL;
	} else if (e->source == BLOCK_MANUAL) {
		return BLOCK_UPDATED;   /* the operator's block stands as they set it */
	}
	e->created = now;
	e->expires = expires;
	copy_clean(e->reason, sizeof e->reason, reason);
	copy_clean(e->by, sizeof e->by, by);
	t->dirty = 1;
	return r;
}

int block_remove(struct block_table *t, const struct cidr *net)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (cidr_equal(&t->e[i].net, net)) {
			remove_at(t, i);
			return 0;
		}
	return -1;
}

struct block_entry *block_match(struct block_table *t, const struct addr *a, time_t now)
{
	for (uint32_t i = 0; i < t->n; i++) {
		struct block_entry *e = &t->e[i];
		if (live(e, now) && cidr_match(&e->net, a)) {
			e->hits++;
			return e;
		}
	}
	return NULL;
}

uint32_t block_expire(struct block_table *t, time_t now)
{
	uint32_t gone = 0;
	for (uint32_t i = 0; i < t->n;) {
		if (live(&t->e[i], now)) {
			i++;
			continue;
		}
		remove_at(t, i);
		gone++;
	}
	return gone;
}


int block_strike(struct block_table *t, struct guard *g, const struct block_policy *p, const struct addr *a,
		 int reason, time_t now, uint64_t now_ms)
{
	if (!p->after || !refusal_is_strike(reason) || addr_is_loopback(a))
		return 0;
	static const struct addr unknown = {};   /* "?": every unusable X-Forwarded-For shares it */
	if (!memcmp(a, &unknown, sizeof unknown))
		return 0;
	uint32_t n = guard_strike(g, a, now_ms, p->window_s * 1000u);
	if (!n || n < p->after)
		return 0;
	/* the client the strikes were counted for: an IPv6 /64 is blocked whole */
	struct cidr net = guard_client(g, a);
	char why[BLOCK_REASON_MAX];
	snprintf(why, sizeof why, "%u refusals in %u s, last %s", n, p->window_s, refusal_name(reason));
	if (block_add(t, &net, now, now + (time_t)p->seconds, BLOCK_AUTO, why, "auto") == BLOCK_FULL)
		return 0;
	guard_strikes_clear(g, a);
	return 1;
}

/* ---- JSON ---------------------------------------------------------------- */

cJSON *block_to_json(const struct block_table *t, time_t now)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	int ok = root && (arr = cJSON_AddArrayToObject(root, "blocks"));

	for (uint32_t i = 0; ok && i < t->n; i++) {
		const struct block_entry *e = &t->e[i];
		char net[CIDR_STR_MAX];
		cJSON *o;
		if (!live(e, now))
			continue;
		cidr_format(&e->net, net, sizeof net);
		ok = (o = cJSON_CreateObject()) && cJSON_AddItemToArray(arr, o) &&
		     cJSON_AddStringToObject(o, "cidr", net) &&
		     cJSON_AddStringToObject(o, "source", e->source == BLOCK_AUTO ? "auto" : "manual") &&
		     cJSON_AddStringToObject(o, "reason", e->reason) && cJSON_AddStringToObject(o, "by", e->by) &&
		     cJSON_AddNumberToObject(o, "created", (double)e->created) &&
		     cJSON_AddNumberToObject(o, "expires", (double)e->expires) &&
		     (e->expires ? cJSON_AddNumberToObject(o, "expires_in", (double)(e->expires - now))
				 : cJSON_AddNullToObject(o, "expires_in")) &&
		     cJSON_AddNumberToObject(o, "hits", (double)e->hits);
	}
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

char *block_render_json(const struct block_table *t, time_t now, size_t *len)
{
	cJSON *root = block_to_json(t, now);
	char *s = root ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	*len = s ? strlen(s) : 0;
	return s;
}

static void fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "%s %s: %s", what, path, errno ? strerror(errno) : "invalid content");
}

int block_save(struct block_table *t, const char *path, time_t now, char *err, size_t errlen)
{
	char tmp[640];
	size_t len;
	int fd, ok = 0;

	/* the directory may have been opened up since the start: a file we
	 * then wrote could be swapped by someone else before the next load */
	if (fileperm_check_dirs(path, geteuid(), err, errlen)) {
		t->save_refused++;
		return BLOCK_FILE_REFUSED;
	}
	char *s = block_render_json(t, now, &len);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fd = fileperm_create_temp(path, O_WRONLY, tmp, sizeof tmp, err, errlen);
	if (fd < 0) {
		free(s);
		return -1;
	}
	errno = 0;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, s + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	/* the new table is on disk before it replaces the old one */
	ok = off == len && write(fd, "\n", 1) == 1 && !fsync(fd);
	ok = !close(fd) && ok;
	ok = ok && !rename(tmp, path);
	if (!ok) {
		fail(err, errlen, "cannot write", path);
		unlink(tmp);
	}
	free(s);
	if (ok)
		t->dirty = 0;
	return ok ? 0 : -1;
}

int block_load(struct block_table *t, const char *path, time_t now, char *err, size_t errlen)
{
	enum { FILE_MAX = 1 << 20 };
	char *buf = NULL;
	size_t n = 0;
	cJSON *root = NULL;
	const cJSON *arr, *o;

	t->n = 0;
	t->dirty = 0;
	errno = 0;
	/* a block list someone else could write could shut out everyone
	 * (0.0.0.0/0), /healthz included: refused, never loaded */
	char refusal[600];
	int fd = fileperm_open(path, O_RDONLY, geteuid(), refusal, sizeof refusal);
	if (fd == FILEPERM_ABSENT)
		return 0;   /* first start: nothing saved yet */
	if (fd < 0) {
		snprintf(err, errlen, "--block-file: %s", refusal);
		return BLOCK_FILE_REFUSED;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		fail(err, errlen, "cannot read", path);
		return -1;
	}
	buf = (char *)malloc(FILE_MAX);
	if (buf)
		n = fread(buf, 1, FILE_MAX, f);
	fclose(f);
	errno = 0;
	if (!buf || n == FILE_MAX) {
		snprintf(err, errlen, "block file %s: %s", path, buf ? "larger than 1 MiB" : "out of memory");
		free(buf);
		return -1;
	}
	root = cJSON_ParseWithLength(buf, n);
	free(buf);
	arr = cJSON_GetObjectItemCaseSensitive(root, "blocks");
	if (!cJSON_IsArray(arr))
		goto bad;
	cJSON_ArrayForEach(o, arr) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "cidr");
		const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(o, "reason");
		const cJSON *by = cJSON_GetObjectItemCaseSensitive(o, "by");
		const cJSON *cr = cJSON_GetObjectItemCaseSensitive(o, "created");
		const cJSON *ex = cJSON_GetObjectItemCaseSensitive(o, "expires");
		struct cidr net;
		if (!cJSON_IsString(c) || cidr_parse(c->valuestring, &net) || !cJSON_IsNumber(ex) ||
		    !isfinite(ex->valuedouble) || ex->valuedouble < 0 || ex->valuedouble > 1e15 ||
		    (src && !cJSON_IsString(src)))
			goto bad;
		time_t expires = (time_t)ex->valuedouble;
		if (expires && expires <= now)
			continue;
		enum block_source s = src && !strcmp(src->valuestring, "auto") ? BLOCK_AUTO : BLOCK_MANUAL;
		if (block_add(t, &net, now, expires, s, cJSON_IsString(why) ? why->valuestring : "",
			      cJSON_IsString(by) ? by->valuestring : "") == BLOCK_FULL)
			continue;   /* counted in t->full; the caller says so */
		if (cJSON_IsNumber(cr) && isfinite(cr->valuedouble) && cr->valuedouble > 0 && cr->valuedouble < 1e15)
			find(t, &net)->created = (time_t)cr->valuedouble;
	}
	cJSON_Delete(root);
	t->dirty = 0;
	return 0;
bad:
	cJSON_Delete(root);
	t->n = 0;
	snprintf(err, errlen, "block file %s is not a block list (expected {\"blocks\":[{\"cidr\":..,\"expires\":..}]})",
		 path);
	return -1;
}
