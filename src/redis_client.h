/*
 * redis_client.h -- one Redis connection that can never hold the event loop
 * longer than the caller's deadline, nor take more memory than a small
 * reply, nor take a reply it did not expect for an answer.
 *
 * The replay store (replay_store.h) asks Redis one question per accepted
 * token, synchronously, inside libwebsockets' handshake callback: every
 * call's audio waits while it does. So the whole exchange -- a connect, a
 * TLS handshake, AUTH, and the command -- runs against ONE monotonic
 * deadline, with non-blocking sockets and poll(); OpenSSL does TLS; hiredis
 * does only the RESP framing (redisFormatCommand, redisReader), with reply
 * objects of our own that allocate nothing.
 *
 * What comes back is judged strictly (redis_replies_next): a command's one
 * expected answer, or a failure. On any failure the connection is dropped,
 * so a late reply can never be read as the answer to a later command, and
 * a connection that has bytes waiting before a command is sent (a late
 * reply, or the peer's close) is replaced first.
 *
 * The address is resolved once, before the loop runs (no DNS inside it);
 * the name the operator gave is kept for TLS: SNI and the certificate's
 * name check (an IP literal is checked against the certificate's IP
 * addresses). No password, command or reply is ever logged: the detail
 * kept for the log (why) is printable, short, and says what kind of reply
 * it was.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* a reply's bytes, all of them: SET, PING and AUTH answers are 5 bytes */
#define REDIS_CLIENT_REPLY_MAX 4096
#define REDIS_CLIENT_WHY 160

/* What an exchange came to. The first two are answers, the rest failures. */
enum redis_client_result {
	REDIS_CLIENT_OK = 0,         /* the expected answer: +OK (SET NX, AUTH), +PONG (PING) */
	REDIS_CLIENT_NIL,            /* SET NX: a nil bulk reply, the key was there */
	REDIS_CLIENT_TIMEOUT,        /* the deadline passed (connect, TLS, the reply) */
	REDIS_CLIENT_OVERSIZED,      /* more than REDIS_CLIENT_REPLY_MAX bytes of reply */
	REDIS_CLIENT_UNEXPECTED,     /* any other reply: integer, array, bulk, another status, -ERR,
				      * a type hiredis 0.14 does not know (RESP3), bytes after the reply */
	REDIS_CLIENT_AUTH,           /* AUTH refused, or -NOAUTH / -WRONGPASS / -NOPERM */
	REDIS_CLIENT_TLS,            /* the TLS handshake failed or the certificate did not verify */
	REDIS_CLIENT_CONNECTION,     /* connect refused, reset, closed by Redis */
	REDIS_CLIENT_PARTIAL = -1    /* redis_replies_next: not all of a reply yet */
};

/* what a command's one good answer is */
enum redis_expect { REDIS_EXPECT_OK = 0, REDIS_EXPECT_PONG, REDIS_EXPECT_AUTH, REDIS_EXPECT_SET_NX };

/* "ok", "nil", "timeout", "oversized", "unexpected", "auth", "tls", "connection" (static strings) */
const char *redis_client_result_str(int r);

/* ---- the RESP side: bytes in, judged replies out (no I/O) ---------------- */

struct redisReader;

/* The root of the reply being read, as our reply functions saw it. */
struct redis_reply {
	int       type;         /* REDIS_REPLY_* of hiredis; 0 = none yet */
	int       nil_array;    /* a nil that was *-1, not $-1 */
	long long integer;
	long long elements;
	size_t    len;          /* a string's length */
	char      str[24];      /* its first bytes (status and error replies are judged by them) */
};

struct redis_replies {
	struct redisReader *reader;
	struct redis_reply  cur;
};

/* 0, or -1 (out of memory). */
int  redis_replies_init(struct redis_replies *p);
void redis_replies_free(struct redis_replies *p);
/* 0, or -1 (out of memory: the reader is unusable). */
int  redis_replies_feed(struct redis_replies *p, const char *buf, size_t len);
/*
 * The next reply judged against e: REDIS_CLIENT_OK / _NIL / _UNEXPECTED /
 * _AUTH, or REDIS_CLIENT_PARTIAL until all of it has been fed. A protocol
 * error is UNEXPECTED, and the reader stays in error (feed no more).
 * why (cap bytes, may be NULL) says what the reply was, never its content
 * beyond a status or error word.
 */
int redis_replies_next(struct redis_replies *p, enum redis_expect e, char *why, size_t cap);
/* Bytes fed that no reply has taken yet. */
size_t redis_replies_pending(const struct redis_replies *p);

/* ---- the connection -------------------------------------------------------- */

struct redis_client_opts {
	int         tls;            /* TLS, verified (below) */
	const char *ca_file;        /* NULL or "": the system trust store */
	const char *user;           /* NULL or "": AUTH <password> (requirepass); else AUTH <user> <password> */
	const char *password;       /* NULL: no AUTH */
	size_t      password_len;
};

struct ssl_ctx_st;
struct ssl_st;

struct redis_client {
	char     name[256];                 /* as the operator gave it: SNI, the certificate check */
	struct sockaddr_storage addr;       /* resolved once, at start */
	socklen_t addrlen;
	int      name_is_ip;
	int      fd;                        /* -1: not connected */
	struct ssl_ctx_st *ctx;             /* TLS: made once, trust store loaded */
	struct ssl_st *ssl;
	char    *auth_cmd;                  /* AUTH, formatted once; wiped at free */
	size_t   auth_len;
	struct redis_replies replies;       /* this connection's reader */
	size_t   rx;                        /* reply bytes of the exchange so far */
	uint32_t connects;                  /* connections made (the first included) */
	char     why[REDIS_CLIENT_WHY];     /* the last failure, for the log */
};

/*
 * Set up c for the server at addr, named name (both copied), with o's TLS
 * and AUTH (the password is copied into the formatted AUTH command, which
 * is wiped at redis_client_free). Loads the trust store now. Connects
 * nothing. 0, or -1 with the reason in err (a CA file that does not load).
 */
int redis_client_init(struct redis_client *c, const char *name, const struct sockaddr *addr, socklen_t addrlen,
		      const struct redis_client_opts *o, char *err, size_t errlen);

/*
 * Send one RESP command (cmd, len bytes, e.g. from redisFormatCommand) and
 * read its reply, all before deadline_us (clock_mono_us()'s clock).
 * Not connected, or the connection has bytes waiting (a late reply, the
 * peer's close): connects first -- TCP, TLS, AUTH sent ahead of cmd in the
 * same exchange -- within the same deadline. Returns REDIS_CLIENT_OK, _NIL
 * (only for REDIS_EXPECT_SET_NX) or a failure, after which the connection
 * is closed and c->why says what happened.
 */
int redis_client_command(struct redis_client *c, const char *cmd, size_t len, enum redis_expect e,
			 uint64_t deadline_us);

int  redis_client_connected(const struct redis_client *c);
/* Drop the connection (c stays usable: the next command connects). */
void redis_client_close(struct redis_client *c);
/* Close, free the TLS context, wipe the AUTH command. */
void redis_client_free(struct redis_client *c);

