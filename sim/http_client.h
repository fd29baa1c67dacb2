/*
 * http_client.h -- one blocking HTTP/1.1 request, for the answer webhook.
 *
 * caller-sim fetches each call's NCCO before its load engine starts, so a
 * plain blocking client is enough: resolve, connect (each address in turn,
 * with a timeout), TLS when the URL is https (verified unless insecure),
 * send one request with "Connection: close", read the reply into the
 * caller's buffer, undo chunked encoding in place. The body is returned as
 * a pointer into that buffer. Nothing is allocated beyond what getaddrinfo
 * and OpenSSL do for themselves.
 */
#pragma once
#include <openssl/ssl.h>
#include <stddef.h>

#include "url.h"

struct http_resp {
	int         status;
	char        reason[64];
	const char *body;          /* inside the caller's buffer, NUL-terminated */
	size_t      body_len;
};

/*
 * method "GET" or "POST"; content_type/body may be NULL for none. tls is
 * the client context (needed only for https). buf[cap] receives the whole
 * response. Returns 0 with *r filled (any status), or -1 with the reason in
 * err: no connection, timeout, TLS failure, reply too big or not HTTP.
 */
int http_request(const struct url *u, SSL_CTX *tls, int insecure, const char *method,
		 const char *content_type, const char *body, size_t body_len, int timeout_ms,
		 char *buf, size_t cap, struct http_resp *r, char *err, size_t errlen);

/*
 * Decode a chunked body of len bytes in place. Returns the decoded length,
 * or -1 if it is malformed or ends before the last chunk. (Exposed for tests.)
 */
long http_dechunk(char *p, size_t len);
