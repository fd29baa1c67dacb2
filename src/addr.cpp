/*
 * addr.cpp -- see addr.h. IPv4 is mapped into ::ffff:0:0/96 so that a /8
 * IPv4 prefix becomes a /104 over the 128-bit form.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t V4_PREFIX[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int is_v4(const struct addr *a)
{
	return !memcmp(a->b, V4_PREFIX, sizeof V4_PREFIX);
}

int addr_parse(const char *s, struct addr *out)
{
	struct in_addr v4;

	if (!s)
		return -1;
	if (inet_pton(AF_INET, s, &v4) == 1) {
		memcpy(out->b, V4_PREFIX, sizeof V4_PREFIX);
		memcpy(out->b + 12, &v4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, s, out->b) == 1 ? 0 : -1;
}

int addr_parse_n(const char *s, size_t len, struct addr *out)
{
	char buf[ADDR_STR_MAX];

	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (!len || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return addr_parse(buf, out);
}

int addr_from_sockaddr(const struct sockaddr *sa, struct addr *out)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		memcpy(out->b, V4_PREFIX, sizeof V4_PREFIX);
		memcpy(out->b + 12, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

static void mask(struct addr *a, unsigned bits)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
		a->b[i] &= (uint8_t)(0xff00u >> keep);
	}
}

int cidr_parse(const char *s, struct cidr *out)
{
	char buf[ADDR_STR_MAX + 5];
	const char *slash;
	size_t n;
	long bits;

	if (!s || (n = strlen(s)) >= sizeof buf)
		return -1;
	memcpy(buf, s, n + 1);
	slash = strchr(buf, '/');
	if (slash)
		buf[slash - buf] = '\0';
	if (addr_parse(buf, &out->net))
		return -1;
	int v4 = is_v4(&out->net) && !strchr(buf, ':');
	if (!slash) {
		bits = v4 ? 32 : 128;
	} else {
		char *end;
		const char *p = slash + 1;
		if (*p < '0' || *p > '9')
			return -1;
		bits = strtol(p, &end, 10);
		if (*end || bits < 0 || bits > (v4 ? 32 : 128))
			return -1;
	}
	out->bits = (uint8_t)(v4 ? bits + 96 : bits);
	mask(&out->net, out->bits);
	return 0;
}

int cidr_match(const struct cidr *c, const struct addr *a)
{
	struct addr m = *a;
	mask(&m, c->bits);
	return !memcmp(m.b, c->net.b, sizeof m.b);
}

int cidr_list_match(const struct cidr *list, int n, const struct addr *a)
{
	for (int i = 0; i < n; i++)
		if (cidr_match(&list[i], a))
			return 1;
	return 0;
}

int addr_is_loopback(const struct addr *a)
{
	static const uint8_t v6_lo[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	return (is_v4(a) && a->b[12] == 127) || !memcmp(a->b, v6_lo, 16);
}

void addr_format(const struct addr *a, char *buf, size_t len)
{
	if (is_v4(a)) {
		if (!inet_ntop(AF_INET, a->b + 12, buf, (socklen_t)len))
			snprintf(buf, len, "?");
	} else if (!inet_ntop(AF_INET6, a->b, buf, (socklen_t)len)) {
		snprintf(buf, len, "?");
	}
}

void cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char a[ADDR_STR_MAX];
	int v4 = is_v4(&c->net) && c->bits >= 96;

	addr_format(&c->net, a, sizeof a);
	snprintf(buf, len, "%s/%u", a, v4 ? c->bits - 96u : (unsigned)c->bits);
}

int cidr_equal(const struct cidr *a, const struct cidr *b)
{
	return a->bits == b->bits && !memcmp(a->net.b, b->net.b, sizeof a->net.b);
}
