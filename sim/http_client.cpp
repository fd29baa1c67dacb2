/*
 * http_client.cpp -- blocking HTTP/1.1 over a socket or OpenSSL; see http_client.h.
 */
#include "http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls.h"

struct conn {
	int  fd;
	SSL *ssl;
};

/* Non-blocking connect bounded by timeout_ms, then back to blocking. 0 or -1 (errno kept). */
static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t salen, int timeout_ms)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	if (connect(fd, sa, salen) < 0) {
		if (errno != EINPROGRESS)
			return -1;
		struct pollfd p = { fd, POLLOUT, 0 };
		int n;
		do
			n = poll(&p, 1, timeout_ms);
		while (n < 0 && errno == EINTR);
		if (n == 0)
			errno = ETIMEDOUT;
		if (n <= 0)
			return -1;
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			return -1;
		if (soerr) {
			errno = soerr;
			return -1;
		}
	}
	return fcntl(fd, F_SETFL, fl) < 0 ? -1 : 0;
}

static int dial(const struct url *u, int timeout_ms, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	int fd = -1, e = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%d", u->port);
	int g = getaddrinfo(u->host, port, &hints, &res);
	if (g) {
		snprintf(err, errlen, "cannot resolve %s: %s", u->host, gai_strerror(g));
		return -1;
	}
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (!connect_timeout(fd, a->ai_addr, a->ai_addrlen, timeout_ms))
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to %s:%d: %s", u->host, u->port, strerror(e));
		return -1;
	}
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one)) {
		snprintf(err, errlen, "socket options: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(struct conn *c, const char *p, size_t len, char *err, size_t errlen)
{
	while (len) {
		ssize_t n = c->ssl ? SSL_write(c->ssl, p, (int)(len > 65536 ? 65536 : len))
				   : send(c->fd, p, len, MSG_NOSIGNAL);
		if (n <= 0) {
			if (!c->ssl && n < 0 && errno == EINTR)
				continue;
			if (c->ssl)
				tls_error(c->ssl, "sending the request", err, errlen);
			else
				snprintf(err, errlen, "sending the request: %s", strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One read; >0 bytes, 0 at end of stream, -1 on error/timeout (err set). */
static ssize_t recv_some(struct conn *c, char *p, size_t cap, char *err, size_t errlen)
{
	for (;;) {
		if (c->ssl) {
			int n = SSL_read(c->ssl, p, (int)(cap > 65536 ? 65536 : cap));
			if (n > 0)
				return n;
			int se = SSL_get_error(c->ssl, n);
			if (se == SSL_ERROR_ZERO_RETURN)
				return 0;
			/* a server that closes without close_notify: treat as end of stream */
			if (se == SSL_ERROR_SYSCALL && !ERR_peek_error() && (n == 0 || errno == ECONNRESET))
				return 0;
			if (se == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))
				snprintf(err, errlen, "timed out waiting for the reply");
			else
				tls_error(c->ssl, "reading the reply", err, errlen);
			return -1;
		}
		ssize_t n = recv(c->fd, p, cap, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		snprintf(err, errlen, "%s", errno == EAGAIN || errno == EWOULDBLOCK ? "timed out waiting for the reply"
										 : strerror(errno));
		return -1;
	}
}

long http_dechunk(char *p, size_t len)
{
	size_t in = 0, out = 0;

	for (;;) {
		char *end;
		char *eol = (char *)memmem(p + in, len - in, "\r\n", 2);
		if (!eol)
			return -1;
		errno = 0;
		unsigned long n = strtoul(p + in, &end, 16);
		if (end == p + in || errno || (*end != '\r' && *end != ';' && *end != ' '))
			return -1;
		in = (size_t)(eol - p) + 2;
		if (n == 0)
			return (long)out;   /* trailers after the last chunk are ignored */
		if (n > len - in || len - in - n < 2 || memcmp(p + in + n, "\r\n", 2))
			return -1;
		memmove(p + out, p + in, n);
		out += n;
		in += n + 2;
	}
}

/* Parse the response head in buf[0..len): status, body bounds. */
static int parse_response(char *buf, size_t len, struct http_resp *r, char *err, size_t errlen)
{
	char *end = (char *)memmem(buf, len, "\r\n\r\n", 4);
	int chunked = 0;
	long clen = -1;

	if (!end || len < 12 || strncmp(buf, "HTTP/1.", 7) || sscanf(buf + 9, "%3d", &r->status) != 1) {
		snprintf(err, errlen, "the reply is not an HTTP response");
		return -1;
	}
	char *eol = (char *)memmem(buf, len, "\r\n", 2);
	if (eol - buf > 13) {
		size_t rn = (size_t)(eol - buf - 13);
		if (rn >= sizeof r->reason)
			rn = sizeof r->reason - 1;
		memcpy(r->reason, buf + 13, rn);
		r->reason[rn] = '\0';
	}
	for (char *h = eol + 2; h < end; ) {
		char *e = (char *)memmem(h, (size_t)(end + 2 - h), "\r\n", 2);
		if (!e)
			break;
		if (!strncasecmp(h, "Content-Length:", 15))
			clen = strtol(h + 15, NULL, 10);
		else if (!strncasecmp(h, "Transfer-Encoding:", 18) && memmem(h, (size_t)(e - h), "chunked", 7))
			chunked = 1;
		h = e + 2;
	}
	char *body = end + 4;
	size_t blen = len - (size_t)(body - buf);
	if (chunked) {
		long n = http_dechunk(body, blen);
		if (n < 0) {
			snprintf(err, errlen, "malformed chunked body");
			return -1;
		}
		blen = (size_t)n;
	} else if (clen >= 0) {
		if ((size_t)clen > blen) {
			snprintf(err, errlen, "the reply ended after %zu of %ld body bytes", blen, clen);
			return -1;
		}
		blen = (size_t)clen;
	}
	body[blen] = '\0';   /* room: read_reply keeps one spare byte */
	r->body = body;
	r->body_len = blen;
	return 0;
}

/* Is the response in buf complete (Content-Length satisfied)? Chunked/unsized: wait for close. */
static int complete(const char *buf, size_t len)
{
	const char *end = (const char *)memmem(buf, len, "\r\n\r\n", 4);

	if (!end)
		return 0;
	for (const char *h = (const char *)memmem(buf, len, "\r\n", 2) + 2; h < end;) {
		const char *e = (const char *)memmem(h, (size_t)(end + 2 - h), "\r\n", 2);
		if (!e)
			break;
		if (!strncasecmp(h, "Content-Length:", 15))
			return len - (size_t)(end + 4 - buf) >= (size_t)strtol(h + 15, NULL, 10);
		h = e + 2;
	}
	return 0;
}

int http_request(const struct url *u, SSL_CTX *tls, int insecure, const char *method,
		 const char *content_type, const char *body, size_t body_len, int timeout_ms,
		 char *buf, size_t cap, struct http_resp *r, char *err, size_t errlen)
{
	struct conn c = { -1, NULL };
	char head[URL_PATH_MAX + URL_HOST_MAX + 512];
	size_t len = 0;
	int ret = -1, n;

	memset(r, 0, sizeof *r);
	if (!buf || cap < 64) {
		snprintf(err, errlen, "reply buffer too small");
		return -1;
	}
	if (u->tls && !tls) {
		snprintf(err, errlen, "https needs a TLS context");
		return -1;
	}
	c.fd = dial(u, timeout_ms, err, errlen);
	if (c.fd < 0)
		return -1;
	if (u->tls) {
		c.ssl = tls_client_new(tls, c.fd, u->host, insecure, err, errlen);
		if (!c.ssl)
			goto out;
		if (SSL_connect(c.ssl) != 1) {
			tls_error(c.ssl, "TLS handshake", err, errlen);
			goto out;
		}
	}
	if (content_type)
		n = snprintf(head, sizeof head,
			     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: caller-sim\r\nAccept: application/json\r\n"
			     "Connection: close\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n",
			     method, u->path, u->host_header, content_type, body_len);
	else
		n = snprintf(head, sizeof head,
			     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: caller-sim\r\nAccept: application/json\r\n"
			     "Connection: close\r\n\r\n", method, u->path, u->host_header);
	if (n < 0 || (size_t)n >= sizeof head) {
		snprintf(err, errlen, "request head too long");
		goto out;
	}
	if (send_all(&c, head, (size_t)n, err, errlen) || (body_len && send_all(&c, body, body_len, err, errlen)))
		goto out;
	for (;;) {
		if (len + 1 >= cap) {
			snprintf(err, errlen, "the reply is over %zu bytes", cap - 1);
			goto out;
		}
		ssize_t got = recv_some(&c, buf + len, cap - 1 - len, err, errlen);
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		len += (size_t)got;
		if (complete(buf, len))
			break;
	}
	if (!len) {
		snprintf(err, errlen, "the server closed the connection without a reply");
		goto out;
	}
	buf[len] = '\0';
	ret = parse_response(buf, len, r, err, errlen);
out:
	if (c.ssl) {
		SSL_shutdown(c.ssl);   /* best effort close_notify; the reply is already in */
		SSL_free(c.ssl);
	}
	close(c.fd);
	return ret;
}
