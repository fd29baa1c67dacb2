/*
 * url.h -- split an http(s):// or ws(s):// URL into what a client dials.
 *
 * Pure: no DNS, no sockets. The answer webhook client and the load engine
 * both take a struct url; the NCCO check uses url_parse to reject an
 * endpoint uri the engine could not dial. Userinfo ("user@") is refused,
 * a fragment is dropped, an empty path becomes "/".
 */
#pragma once
#include <stddef.h>

#define URL_HOST_MAX 256
#define URL_PATH_MAX 1024

enum url_scheme { URL_HTTP, URL_HTTPS, URL_WS, URL_WSS };

struct url {
	enum url_scheme scheme;
	int  tls;                           /* https or wss */
	int  port;                          /* explicit, or the scheme's default */
	char host[URL_HOST_MAX];            /* IPv6 without brackets */
	char host_header[URL_HOST_MAX + 8]; /* "Host:" value: as written, port if explicit */
	char path[URL_PATH_MAX];            /* path and query, at least "/" */
};

/*
 * Parse s. Returns 0, or -1 with a one-line reason in err (the URL may be
 * quoted in it). *u is unspecified after a failure.
 */
int url_parse(const char *s, struct url *u, char *err, size_t errlen);

/* "http", "https", "ws", "wss" */
const char *url_scheme_str(enum url_scheme s);
