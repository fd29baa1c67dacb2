/*
 * host.h -- validate the host part we put into the NCCO's wss:// URI.
 *
 * The answer webhook builds the WebSocket URI from either --public-url
 * (checked once at start-up) or the request's Host header (checked on every
 * request). Whatever reaches the NCCO must be a plain authority -- a DNS
 * name, IPv4 address or bracketed IPv6 address, optional :port -- so a
 * crafted Host cannot point Vonage at somebody else's server path or inject
 * characters into the URI. Pure string code: no lws, no allocation.
 */
#pragma once
#include <stddef.h>

#define HOST_MAX 260   /* longest authority: 253-char name, trailing dot, ":65535" */

/* 0 if `s` (len bytes) is a valid authority "host[:port]", else -1. */
int host_validate(const char *s, size_t len);

/*
 * 1 if the Host header value `s` (len bytes) names this machine's loopback
 * interface: localhost, 127.x.x.x or [::1] (or [::ffff:127.x.x.x]), with
 * an optional valid :port. A browser sends the name the page was loaded
 * from, so a page of evil.example whose name now resolves to 127.0.0.1
 * (DNS rebinding) still says "evil.example": the privileged views ask for
 * a loopback name as well as a loopback peer.
 */
int host_is_loopback_name(const char *s, size_t len);

/*
 * Split a --public-url such as "https://echo.example.com" or
 * "https://example.com:8443/echo" into *secure (1 for https/wss, 0 for
 * http/ws) and base = "authority[/path]" without a trailing slash.
 * Returns 0, or -1 (base untouched) if the URL is not of that form.
 */
int host_parse_public_url(const char *url, int *secure, char *base, size_t cap);

/*
 * The WebSocket URI the NCCO gives Vonage: "ws[s]://<authority>/socket".
 * The authority is --public-url's (public_base, "" when unset), else the
 * Host header (host, host_len bytes, validated: -1 when missing or bad).
 * The scheme is ws only when nothing says the outside world reaches us
 * over TLS: not our own listener (tls), not an https --public-url
 * (public_secure), not a proxy's X-Forwarded-Proto "https" (xfp, NULL when
 * absent). Returns the URI's length, or -1 (out is "" then).
 */
int host_ws_uri(const char *public_base, int public_secure, const char *host, size_t host_len, int tls,
		const char *xfp, char *out, size_t cap);
