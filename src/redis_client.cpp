/*
 * redis_client.cpp -- a bounded Redis round trip; see redis_client.h.
 *
 * Every wait is poll() on the one socket until the caller's deadline; no
 * call here blocks past it (connect, TLS, writes and reads are all
 * non-blocking). Reply bytes are counted before hiredis's reader sees them,
 * so its buffer never holds more than REDIS_CLIENT_REPLY_MAX, and its reply
 * objects are ours: they record the root reply's type and first bytes in a
 * fixed struct and allocate nothing (hiredis 0.14 would otherwise calloc an
 * array of whatever length a "*N" header claims).
 *
 * OpenSSL's error queue is per thread and shared with libwebsockets' TLS
 * in this one thread: it is cleared before and after every SSL call made
 * here, so neither side reads the other's errors.
 */
#include "redis_client.h"
#include "clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void say(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	if (!why || !cap)
		return;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

const char *redis_client_result_str(int r)
{
	switch (r) {
	case REDIS_CLIENT_OK: return "ok";
	case REDIS_CLIENT_NIL: return "nil";
	case REDIS_CLIENT_TIMEOUT: return "timeout";
	case REDIS_CLIENT_OVERSIZED: return "oversized";
	case REDIS_CLIENT_UNEXPECTED: return "unexpected";
	case REDIS_CLIENT_AUTH: return "auth";
	case REDIS_CLIENT_TLS: return "tls";
	case REDIS_CLIENT_CONNECTION: return "connection";
	case REDIS_CLIENT_PARTIAL: return "partial";
	default: return "unknown";
	}
}

/* ---- replies ------------------------------------------------------------- */

/* Only the root reply is recorded; elements of an array are parsed (to find
 * where the reply ends) and forgotten. Each returns a non-NULL pointer the
 * reader passes around and never frees (freeObject is NULL). */
static struct redis_reply *root(const redisReadTask *t)
{
	struct redis_replies *p = (struct redis_replies *)t->privdata;
	return t->parent ? NULL : &p->cur;
}

static void *on_string(const redisReadTask *t, char *s, size_t len)
{
	struct redis_reply *r = root(t);
	if (r) {
		r->type = t->type;
		r->len = len;
		size_t n = len < sizeof r->str - 1 ? len : sizeof r->str - 1;
		memcpy(r->str, s, n);
		r->str[n] = '\0';
	}
	return t->privdata;
}

static void *on_array(const redisReadTask *t, int elements)
{
	struct redis_reply *r = root(t);
	if (r) {
		r->type = REDIS_REPLY_ARRAY;
		r->elements = elements;
	}
	return t->privdata;
}

static void *on_integer(const redisReadTask *t, long long v)
{
	struct redis_reply *r = root(t);
	if (r) {
		r->type = REDIS_REPLY_INTEGER;
		r->integer = v;
	}
	return t->privdata;
}

static void *on_nil(const redisReadTask *t)
{
	struct redis_reply *r = root(t);
	if (r) {
		r->type = REDIS_REPLY_NIL;
		r->nil_array = t->type == REDIS_REPLY_ARRAY;
	}
	return t->privdata;
}

static redisReplyObjectFunctions reply_fns = { on_string, on_array, on_integer, on_nil, NULL };

int redis_replies_init(struct redis_replies *p)
{
	memset(p, 0, sizeof *p);
	p->reader = redisReaderCreateWithFunctions(&reply_fns);
	if (!p->reader)
		return -1;
	p->reader->privdata = p;   /* (redisReaderSetPrivdata casts a pointer to int) */
	return 0;
}

void redis_replies_free(struct redis_replies *p)
{
	if (p->reader)
		redisReaderFree(p->reader);
	p->reader = NULL;
}

int redis_replies_feed(struct redis_replies *p, const char *buf, size_t len)
{
	return p->reader && redisReaderFeed(p->reader, buf, len) == REDIS_OK ? 0 : -1;
}

size_t redis_replies_pending(const struct redis_replies *p)
{
	return p->reader && p->reader->buf ? p->reader->len - p->reader->pos : 0;
}

/* A status or error word for the log: letters, digits and a few marks only
 * (a fake store picks these bytes). */
static const char *printable(const struct redis_reply *r, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *s = r->str; *s && n + 1 < cap; s++)
		out[n++] = (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
				   *s == ' ' || *s == '-' || *s == '_' || *s == '.'
			   ? *s
			   : '?';
	out[n] = '\0';
	return out;
}

static int is_status(const struct redis_reply *r, const char *word)
{
	return r->type == REDIS_REPLY_STATUS && r->len == strlen(word) && !memcmp(r->str, word, r->len);
}

static int starts(const struct redis_reply *r, const char *word)
{
	size_t n = strlen(word);
	return r->len >= n && !strncmp(r->str, word, n) && (r->len == n || r->str[n] == ' ');
}

static int judge(enum redis_expect e, const struct redis_reply *r, char *why, size_t cap)
{
	char w[sizeof r->str];

	switch (r->type) {
	case REDIS_REPLY_STATUS:
		if (is_status(r, "OK") && e != REDIS_EXPECT_PONG)
			return REDIS_CLIENT_OK;
		if (is_status(r, "PONG") && e == REDIS_EXPECT_PONG)
			return REDIS_CLIENT_OK;
		say(why, cap, "a status reply '%s'", printable(r, w, sizeof w));
		return REDIS_CLIENT_UNEXPECTED;
	case REDIS_REPLY_ERROR:
		if (e == REDIS_EXPECT_AUTH || starts(r, "NOAUTH") || starts(r, "WRONGPASS") || starts(r, "NOPERM")) {
			say(why, cap, "%s: '%s'", e == REDIS_EXPECT_AUTH ? "AUTH refused" : "not allowed",
			    printable(r, w, sizeof w));
			return REDIS_CLIENT_AUTH;
		}
		say(why, cap, "an error reply '%s'", printable(r, w, sizeof w));
		return REDIS_CLIENT_UNEXPECTED;
	case REDIS_REPLY_NIL:
		if (e == REDIS_EXPECT_SET_NX && !r->nil_array)
			return REDIS_CLIENT_NIL;
		say(why, cap, "%s", r->nil_array ? "a nil array" : "a nil reply");
		return REDIS_CLIENT_UNEXPECTED;
	case REDIS_REPLY_INTEGER:
		say(why, cap, "an integer reply (%lld)", r->integer);
		return REDIS_CLIENT_UNEXPECTED;
	case REDIS_REPLY_STRING:
		say(why, cap, "a bulk string of %zu bytes", r->len);
		return REDIS_CLIENT_UNEXPECTED;
	case REDIS_REPLY_ARRAY:
		say(why, cap, "an array of %lld elements", r->elements);
		return REDIS_CLIENT_UNEXPECTED;
	default:
		say(why, cap, "a reply of unknown type %d", r->type);
		return REDIS_CLIENT_UNEXPECTED;
	}
}

int redis_replies_next(struct redis_replies *p, enum redis_expect e, char *why, size_t cap)
{
	void *obj = NULL;

	if (!p->reader || redisReaderGetReply(p->reader, &obj) != REDIS_OK) {
		/* hiredis's message prints the offending byte escaped ("\x5f") */
		say(why, cap, "not a RESP2 reply: %s", p->reader ? p->reader->errstr : "no reader");
		return REDIS_CLIENT_UNEXPECTED;
	}
	if (!obj)
		return REDIS_CLIENT_PARTIAL;
	struct redis_reply r = p->cur;
	memset(&p->cur, 0, sizeof p->cur);
	return judge(e, &r, why, cap);
}

/* ---- the connection -------------------------------------------------------- */

/*
 * Wait for ev on c->fd until deadline: 0 ready (or an error the next call
 * will report), REDIS_CLIENT_TIMEOUT, or REDIS_CLIENT_CONNECTION.
 */
static int wait_for(struct redis_client *c, short ev, uint64_t deadline, const char *what)
{
	for (;;) {
		uint64_t now = clock_mono_us();
		if (now >= deadline) {
			say(c->why, sizeof c->why, "no %s within the timeout", what);
			return REDIS_CLIENT_TIMEOUT;
		}
		struct pollfd pfd = { c->fd, ev, 0 };
		int n = poll(&pfd, 1, (int)((deadline - now + 999) / 1000));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			say(c->why, sizeof c->why, "poll: %s", strerror(errno));
			return REDIS_CLIENT_CONNECTION;
		}
	}
}

/* The TLS failure in words: the certificate check's verdict if it failed. */
static int tls_failed(struct redis_client *c, const char *what)
{
	long v = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
	unsigned long e = ERR_peek_last_error();
	char buf[120];

	if (v != X509_V_OK)
		say(c->why, sizeof c->why, "TLS: the certificate of %s did not verify: %s", c->name,
		    X509_verify_cert_error_string(v));
	else if (e) {
		ERR_error_string_n(e, buf, sizeof buf);
		say(c->why, sizeof c->why, "TLS %s: %s", what, buf);
	} else
		say(c->why, sizeof c->why, "TLS %s failed (%s)", what, errno ? strerror(errno) : "closed");
	ERR_clear_error();
	return REDIS_CLIENT_TLS;
}

static int tls_handshake(struct redis_client *c, uint64_t deadline)
{
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd))
		return tls_failed(c, "setup");
	if (c->name_is_ip) {
		/* SNI carries no IP literals (RFC 6066 3); the certificate must name the address */
		if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->name))
			return tls_failed(c, "setup");
	} else if (!SSL_set_tlsext_host_name(c->ssl, c->name) || !SSL_set1_host(c->ssl, c->name)) {
		return tls_failed(c, "setup");
	} else {
		SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	}
	for (;;) {
		ERR_clear_error();
		errno = 0;
		int r = SSL_connect(c->ssl);
		if (r == 1)
			break;
		int e = SSL_get_error(c->ssl, r), w;
		if (e == SSL_ERROR_WANT_READ)
			w = wait_for(c, POLLIN, deadline, "TLS handshake");
		else if (e == SSL_ERROR_WANT_WRITE)
			w = wait_for(c, POLLOUT, deadline, "TLS handshake");
		else
			return tls_failed(c, "handshake");
		if (w) {
			ERR_clear_error();
			return w;
		}
	}
	ERR_clear_error();
	return REDIS_CLIENT_OK;
}

static int open_conn(struct redis_client *c, uint64_t deadline)
{
	int one = 1, err = 0;
	socklen_t elen = sizeof err;

	c->fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		say(c->why, sizeof c->why, "socket: %s", strerror(errno));
		return REDIS_CLIENT_CONNECTION;
	}
	c->connects++;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	if (connect(c->fd, (const struct sockaddr *)&c->addr, c->addrlen) && errno != EINPROGRESS) {
		say(c->why, sizeof c->why, "connect: %s", strerror(errno));
		return REDIS_CLIENT_CONNECTION;
	}
	int w = wait_for(c, POLLOUT, deadline, "connection");
	if (w)
		return w;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) || err) {
		say(c->why, sizeof c->why, "connect: %s", strerror(err ? err : errno));
		return REDIS_CLIENT_CONNECTION;
	}
	if (redis_replies_init(&c->replies)) {
		say(c->why, sizeof c->why, "out of memory");
		return REDIS_CLIENT_CONNECTION;
	}
	return c->ctx ? tls_handshake(c, deadline) : REDIS_CLIENT_OK;
}

static int send_all(struct redis_client *c, const char *buf, size_t len, uint64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		int w;
		if (c->ssl) {
			ERR_clear_error();
			int n = SSL_write(c->ssl, buf + off, (int)(len - off));
			if (n > 0) {
				off += (size_t)n;
				continue;
			}
			int e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_WANT_WRITE)
				w = wait_for(c, POLLOUT, deadline, "room to send");
			else if (e == SSL_ERROR_WANT_READ)
				w = wait_for(c, POLLIN, deadline, "room to send");
			else {
				ERR_clear_error();
				say(c->why, sizeof c->why, "send: the TLS connection failed");
				return REDIS_CLIENT_CONNECTION;
			}
		} else {
			ssize_t n = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);
			if (n > 0) {
				off += (size_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				say(c->why, sizeof c->why, "send: %s", strerror(errno));
				return REDIS_CLIENT_CONNECTION;
			}
			w = wait_for(c, POLLOUT, deadline, "room to send");
		}
		if (w)
			return w;
	}
	return REDIS_CLIENT_OK;
}

/* Some reply bytes into buf: their count (> 0), or minus a failure. */
static long recv_some(struct redis_client *c, char *buf, size_t cap, uint64_t deadline)
{
	for (;;) {
		int w;
		if (c->ssl) {
			ERR_clear_error();
			int n = SSL_read(c->ssl, buf, (int)cap);
			if (n > 0)
				return n;
			int e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_WANT_READ)
				w = wait_for(c, POLLIN, deadline, "reply");
			else if (e == SSL_ERROR_WANT_WRITE)
				w = wait_for(c, POLLOUT, deadline, "reply");
			else {
				ERR_clear_error();
				say(c->why, sizeof c->why, "%s", e == SSL_ERROR_ZERO_RETURN ? "Redis closed the connection"
											      : "the TLS connection failed");
				return -REDIS_CLIENT_CONNECTION;
			}
		} else {
			ssize_t n = recv(c->fd, buf, cap, 0);
			if (n > 0)
				return (long)n;
			if (n == 0) {
				say(c->why, sizeof c->why, "Redis closed the connection");
				return -REDIS_CLIENT_CONNECTION;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				say(c->why, sizeof c->why, "recv: %s", strerror(errno));
				return -REDIS_CLIENT_CONNECTION;
			}
			w = wait_for(c, POLLIN, deadline, "reply");
		}
		if (w)
			return -w;
	}
}

/* Read until one whole reply is in, judge it against e. */
static int read_reply(struct redis_client *c, enum redis_expect e, uint64_t deadline)
{
	char buf[1024];

	for (;;) {
		int r = redis_replies_next(&c->replies, e, c->why, sizeof c->why);
		if (r != REDIS_CLIENT_PARTIAL)
			return r;
		/* one byte past the limit is enough to know; the rest stays in the kernel */
		size_t want = REDIS_CLIENT_REPLY_MAX + 1 - c->rx;
		long n = recv_some(c, buf, want < sizeof buf ? want : sizeof buf, deadline);
		if (n < 0)
			return (int)-n;
		c->rx += (size_t)n;
		if (c->rx > REDIS_CLIENT_REPLY_MAX) {
			say(c->why, sizeof c->why, "a reply of more than %d bytes", REDIS_CLIENT_REPLY_MAX);
			return REDIS_CLIENT_OVERSIZED;
		}
		if (redis_replies_feed(&c->replies, buf, (size_t)n)) {
			say(c->why, sizeof c->why, "out of memory");
			return REDIS_CLIENT_CONNECTION;
		}
	}
}

/* Nothing waiting on an idle connection: a byte now is a reply nobody asked
 * for (or a late one), and EOF is Redis gone (a restart, its idle timeout). */
static int idle_clean(struct redis_client *c)
{
	char b;

	if (c->ssl) {
		ERR_clear_error();
		int n = SSL_peek(c->ssl, &b, 1);   /* also takes TLS 1.3's session tickets off the socket */
		int e = n > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, n);
		ERR_clear_error();
		return n <= 0 && e == SSL_ERROR_WANT_READ;
	}
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

int redis_client_command(struct redis_client *c, const char *cmd, size_t len, enum redis_expect e,
			 uint64_t deadline_us)
{
	int r, fresh = 0;

	c->why[0] = '\0';
	c->rx = 0;
	if (c->fd >= 0 && !idle_clean(c))
		redis_client_close(c);
	if (c->fd < 0) {
		fresh = 1;
		r = open_conn(c, deadline_us);
		if (r != REDIS_CLIENT_OK)
			goto fail;
	}
	/* a new connection's AUTH goes ahead of the command, both replies read
	 * in order: one round trip (if AUTH fails, the command gets -NOAUTH) */
	if (fresh && c->auth_cmd && (r = send_all(c, c->auth_cmd, c->auth_len, deadline_us)) != REDIS_CLIENT_OK)
		goto fail;
	if ((r = send_all(c, cmd, len, deadline_us)) != REDIS_CLIENT_OK)
		goto fail;
	if (fresh && c->auth_cmd && (r = read_reply(c, REDIS_EXPECT_AUTH, deadline_us)) != REDIS_CLIENT_OK)
		goto fail;
	r = read_reply(c, e, deadline_us);
	if ((r == REDIS_CLIENT_OK || r == REDIS_CLIENT_NIL) && redis_replies_pending(&c->replies)) {
		say(c->why, sizeof c->why, "%zu bytes after the reply", redis_replies_pending(&c->replies));
		r = REDIS_CLIENT_UNEXPECTED;
	}
	if (r == REDIS_CLIENT_OK || r == REDIS_CLIENT_NIL)
		return r;
fail:
	redis_client_close(c);
	return r;
}

int redis_client_connected(const struct redis_client *c)
{
	return c->fd >= 0;
}

void redis_client_close(struct redis_client *c)
{
	if (c->ssl) {
		/* no close_notify: this connection is being dropped, not ended politely,
		 * and a write here could wait */
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	redis_replies_free(&c->replies);
}

int redis_client_init(struct redis_client *c, const char *name, const struct sockaddr *addr, socklen_t addrlen,
		      const struct redis_client_opts *o, char *err, size_t errlen)
{
	unsigned char ip[16];

	memset(c, 0, sizeof *c);
	c->fd = -1;
	if (strlen(name) >= sizeof c->name || addrlen > sizeof c->addr) {
		say(err, errlen, "host name too long");
		return -1;
	}
	snprintf(c->name, sizeof c->name, "%s", name);
	memcpy(&c->addr, addr, addrlen);
	c->addrlen = addrlen;
	c->name_is_ip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
	if (o->password) {
		int n = o->user && o->user[0]
				? redisFormatCommand(&c->auth_cmd, "AUTH %b %b", o->user, strlen(o->user), o->password,
						     o->password_len)
				: redisFormatCommand(&c->auth_cmd, "AUTH %b", o->password, o->password_len);
		if (n < 0) {
			say(err, errlen, "out of memory");
			return -1;
		}
		c->auth_len = (size_t)n;
	}
	if (!o->tls)
		return 0;
	ERR_clear_error();
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx || !SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION)) {
		say(err, errlen, "cannot set up TLS");
		goto fail;
	}
	SSL_CTX_set_options(c->ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (o->ca_file && o->ca_file[0] ? !SSL_CTX_load_verify_locations(c->ctx, o->ca_file, NULL)
					: !SSL_CTX_set_default_verify_paths(c->ctx)) {
		char buf[120];
		ERR_error_string_n(ERR_peek_last_error(), buf, sizeof buf);
		say(err, errlen, "cannot load the trust store %s: %s", o->ca_file && o->ca_file[0] ? o->ca_file : "(system)",
		    buf);
		goto fail;
	}
	ERR_clear_error();
	return 0;
fail:
	ERR_clear_error();
	redis_client_free(c);
	return -1;
}

void redis_client_free(struct redis_client *c)
{
	redis_client_close(c);
	if (c->ctx)
		SSL_CTX_free(c->ctx);
	c->ctx = NULL;
	if (c->auth_cmd) {
		explicit_bzero(c->auth_cmd, c->auth_len);
		redisFreeCommand(c->auth_cmd);
	}
	c->auth_cmd = NULL;
	c->auth_len = 0;
}
