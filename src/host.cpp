/*
 * host.cpp -- authority and public-URL validation; see host.h.
 */
#include "host.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int valid_port(const char *p, size_t len)
{
	unsigned v = 0;

	if (!len || len > 5)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* RFC 1123 host name: labels of [A-Za-z0-9-], 1..63, no edge hyphens. */
static int valid_dns_name(const char *s, size_t len)
{
	size_t label = 0;

	if (len && s[len - 1] == '.')
		len--;   /* a fully qualified trailing dot is fine */
	if (!len || len > 253)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (!label || label > 63 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_alnum(s[i]) && !(s[i] == '-' && label))
			return 0;
		label++;
	}
	return 1;
}

/* Bracket contents of an IPv6 literal: hex digits, ':' and '.' (v4 tail). */
static int valid_ipv6(const char *s, size_t len)
{
	int colons = 0;

	if (len < 2 || len > 45)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == ':')
			colons++;
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
			   c == '.'))
			return 0;
	}
	return colons >= 2;
}

int host_validate(const char *s, size_t len)
{
	const char *colon;

	if (!s || !len || len > HOST_MAX)
		return -1;
	if (s[0] == '[') {
		const char *close = (const char *)memchr(s, ']', len);
		if (!close || !valid_ipv6(s + 1, (size_t)(close - s - 1)))
			return -1;
		size_t rest = len - (size_t)(close - s) - 1;
		if (!rest)
			return 0;
		return (close[1] == ':' && valid_port(close + 2, rest - 1)) ? 0 : -1;
	}
	colon = (const char *)memchr(s, ':', len);
	if (colon) {
		size_t hlen = (size_t)(colon - s);
		if (!valid_port(colon + 1, len - hlen - 1))
			return -1;
		len = hlen;
	}
	/* dotted IPv4 is a subset of the name syntax */
	return valid_dns_name(s, len) ? 0 : -1;
}

int host_is_loopback_name(const char *s, size_t len)
{
	char h[HOST_MAX + 1];
	unsigned char a[16];

	if (!s || !len || len > HOST_MAX || host_validate(s, len))
		return 0;
	memcpy(h, s, len);
	h[len] = '\0';
	if (h[0] == '[') {
		char *close = strchr(h, ']');   /* host_validate: there is one */
		*close = '\0';
		if (inet_pton(AF_INET6, h + 1, a) != 1)
			return 0;
		static const unsigned char v6_loop[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
		static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		return !memcmp(a, v6_loop, 16) || (!memcmp(a, v4_mapped, 12) && a[12] == 127);
	}
	char *colon = strchr(h, ':');
	if (colon)
		*colon = '\0';
	if (!strcasecmp(h, "localhost") || !strcasecmp(h, "localhost."))
		return 1;
	return inet_pton(AF_INET, h, a) == 1 && a[0] == 127;
}

static int path_char(char c)
{
	return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}

int host_parse_public_url(const char *url, int *secure, char *base, size_t cap)
{
	static const struct { const char *prefix; int secure; } schemes[] = {
		{ "https://", 1 }, { "wss://", 1 }, { "http://", 0 }, { "ws://", 0 },
	};
	const char *p = NULL;
	int sec = 0;

	if (!url)
		return -1;
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		size_t n = strlen(schemes[i].prefix);
		if (!strncasecmp(url, schemes[i].prefix, n)) {
			p = url + n;
			sec = schemes[i].secure;
			break;
		}
	}
	if (!p)
		return -1;
	size_t total = strlen(p);
	const char *slash = strchr(p, '/');
	size_t alen = slash ? (size_t)(slash - p) : total;
	if (host_validate(p, alen))
		return -1;
	while (total > alen && p[total - 1] == '/')
		total--;
	for (size_t i = alen; i < total; i++)
		if (!path_char(p[i]))
			return -1;
	if (total + 1 > cap)
		return -1;
	memcpy(base, p, total);
	base[total] = '\0';
	*secure = sec;
	return 0;
}

int host_ws_uri(const char *public_base, int public_secure, const char *host, size_t host_len, int tls,
		const char *xfp, char *out, size_t cap)
{
	char h[HOST_MAX + 1];
	const char *authority = public_base;

	if (cap)
		out[0] = '\0';
	if (!authority || !authority[0]) {
		if (!host || !host_len || host_len > HOST_MAX || host_validate(host, host_len))
			return -1;
		memcpy(h, host, host_len);
		h[host_len] = '\0';
		authority = h;
	}
	int secure = tls || (public_base && public_base[0] && public_secure) || (xfp && !strcasecmp(xfp, "https"));
	int n = snprintf(out, cap, "%s://%s/socket", secure ? "wss" : "ws", authority);
	if (n < 0 || (size_t)n >= cap) {
		if (cap)
			out[0] = '\0';
		return -1;
	}
	return n;
}
