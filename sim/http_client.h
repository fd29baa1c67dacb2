/*
 * http_client.h -- one blocking HTTP request, for the answer webhook.
 *
 * caller-sim fetches each call's NCCO before its load engine starts, so
 * speed does not matter here and libcurl does the work (DNS, connect
 * timeout, TLS with verification, chunked bodies, HTTP/1.1 edge cases) --
 * one more runtime library for caller-sim only, never for the server
 * (README "Dependencies"). The engine's WebSocket traffic stays on its own
 * epoll loop (engine.h).
 */
#pragma once
#include <stddef.h>

#include "url.h"

struct http_resp {
	int         status;
	char        reason[64];    /* the status line's reason phrase, "" if none */
	const char *body;          /* inside the caller's buffer, NUL-terminated */
	size_t      body_len;
};

/*
 * method "GET" or "POST"; content_type/body may be NULL for none. TLS is
 * verified (system store, plus cafile if not NULL) unless insecure.
 * buf[cap] receives the body. Returns 0 with *r filled (any status), or -1
 * with the reason in err: no connection, timeout, TLS failure, a body over
 * cap - 1 bytes, not HTTP.
 */
int http_request(const struct url *u, const char *cafile, int insecure, const char *method,
		 const char *content_type, const char *body, size_t body_len, int timeout_ms,
		 char *buf, size_t cap, struct http_resp *r, char *err, size_t errlen);

/* Close the one libcurl handle every request shares (its kept-alive connection). */
void http_client_cleanup(void);
