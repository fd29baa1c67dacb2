/*
 * url.cpp -- URL splitting for caller-sim; see url.h.
 */
#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct { const char *name; enum url_scheme s; int tls, port; } schemes[] = {
	{ "http", URL_HTTP, 0, 80 }, { "https", URL_HTTPS, 1, 443 },
	{ "ws", URL_WS, 0, 80 },     { "wss", URL_WSS, 1, 443 },
};

const char *url_scheme_str(enum url_scheme s)
{
	return (unsigned)s < sizeof schemes / sizeof schemes[0] ? schemes[s].name : "?";
}

static int fail(char *err, size_t errlen, const char *what, const char *s)
{
	snprintf(err, errlen, "URL '%.200s': %s", s, what);
	return -1;
}

/* Copy [b, e) into out[cap] as a string. -1 if it does not fit. */
static int copy_span(char *out, size_t cap, const char *b, const char *e)
{
	size_t n = (size_t)(e - b);

	if (n >= cap)
		return -1;
	memcpy(out, b, n);
	out[n] = '\0';
	return 0;
}

int url_parse(const char *s, struct url *u, char *err, size_t errlen)
{
	const char *sep = strstr(s, "://");
	size_t i;

	memset(u, 0, sizeof *u);
	if (!sep)
		return fail(err, errlen, "no scheme (expected http://, https://, ws:// or wss://)", s);
	for (i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
		if (strlen(schemes[i].name) == (size_t)(sep - s) && !strncasecmp(s, schemes[i].name, (size_t)(sep - s)))
			break;
	if (i == sizeof schemes / sizeof schemes[0])
		return fail(err, errlen, "scheme is not http, https, ws or wss", s);
	u->scheme = schemes[i].s;
	u->tls = schemes[i].tls;
	u->port = schemes[i].port;

	const char *auth = sep + 3;
	const char *end = auth + strcspn(auth, "/?#");
	const char *hb = auth, *he, *colon;
	if (end == auth)
		return fail(err, errlen, "no host", s);
	if (memchr(auth, '@', (size_t)(end - auth)))
		return fail(err, errlen, "user@ in URLs is not supported", s);
	if (*hb == '[') {                       /* [IPv6]:port */
		he = (const char *)memchr(hb, ']', (size_t)(end - hb));
		if (!he)
			return fail(err, errlen, "unclosed '[' in host", s);
		if (copy_span(u->host, sizeof u->host, hb + 1, he))
			return fail(err, errlen, "host too long", s);
		colon = he + 1 < end && he[1] == ':' ? he + 1 : NULL;
		if (he + 1 < end && !colon)
			return fail(err, errlen, "junk after ']'", s);
	} else {
		colon = (const char *)memchr(hb, ':', (size_t)(end - hb));
		he = colon ? colon : end;
		if (copy_span(u->host, sizeof u->host, hb, he))
			return fail(err, errlen, "host too long", s);
	}
	if (!u->host[0])
		return fail(err, errlen, "no host", s);
	if (colon) {
		char *pe;
		long p = strtol(colon + 1, &pe, 10);
		if (pe != end || colon + 1 == end || p < 1 || p > 65535)
			return fail(err, errlen, "port is not 1..65535", s);
		u->port = (int)p;
	}
	if (copy_span(u->host_header, sizeof u->host_header, auth, end))
		return fail(err, errlen, "host too long", s);

	const char *frag = end + strcspn(end, "#");
	if (end == frag || *end == '?') {       /* "" or "?q": path is "/" */
		if ((size_t)(frag - end) + 2 > sizeof u->path)
			return fail(err, errlen, "path too long", s);
		u->path[0] = '/';
		memcpy(u->path + 1, end, (size_t)(frag - end));
		u->path[1 + (frag - end)] = '\0';
	} else if (copy_span(u->path, sizeof u->path, end, frag)) {
		return fail(err, errlen, "path too long", s);
	}
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return fail(err, errlen, "contains a space or control character", s);
	return 0;
}
