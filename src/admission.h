/*
 * admission.h -- every admit-or-refuse decision in one place: the audio
 * socket's upgrade, and every HTTP request on every route.
 *
 * The transport fills a struct adm_request with what it saw (who the client
 * is as peer.h resolved it, the request line, the headers that matter) and
 * the server's situation (draining, open calls), asks once, and acts on the
 * one verdict it gets: admit, or refuse with a reason (enum reject_reason,
 * refusal.h: counted, charged to the client when a strike), an HTTP status
 * and the text to answer. The checks run in the order SECURITY.md
 * documents ("The order of the checks"): cheap refusals first, the
 * per-address bucket before any token is parsed (a flood of bad tokens is
 * throttled too), every refusal that does not need the token before it,
 * and a token's jti spent only once everything else has passed -- so a
 * refused upgrade or webhook never uses up the genuine request's token. A
 * signed webhook POST is decided in two steps: its headers here, then its
 * body (admission_body) against what the token promised.
 *
 * No lws and no I/O: the tables it consults and updates (guard.h's
 * buckets, replay_store.h's jti, block.h's blocks) are plain data, so
 * tests/unit/test_admission.cpp walks tables of requests through it and
 * tests/fuzz/fuzz_admission.cpp feeds it.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "auth_jwt.h"
#include "http_routes.h"
#include "refusal.h"

struct config;
struct guard;
struct replay_store;
struct block_table;

/* What admission reads and updates; the server's, set up once. */
struct admission {
	const struct config   *cfg;
	const struct auth_cfg *auth;
	struct guard          *guard;     /* per-address buckets and call counts */
	struct replay_store   *replay;    /* the jti of every accepted token */
	struct block_table    *blocks;
};

enum adm_kind { ADM_UPGRADE = 0, ADM_HTTP };

/* What the transport saw, and the server's situation. Absent headers: NULL. */
struct adm_request {
	enum adm_kind kind;
	/* the client (peer.h): the address limits and blocks count, whether it
	 * is known, and whether the request is from this host itself (a
	 * loopback TCP peer, no proxy headers) */
	struct addr client;
	int         client_known;
	int         local;
	int         proxied;
	/* the request */
	enum http_method method;
	int         has_body;        /* a method that carries a body (POST, PUT, PATCH): a refusal leaves it unread */
	const char *path;            size_t path_len;    /* without the query */
	const char *host;            size_t host_len;
	const char *origin;          size_t origin_len;
	const char *authorization;   size_t authorization_len;
	int         authorization_too_long;   /* more than the transport could hold: malformed */
	int         transfer_encoding;        /* a Transfer-Encoding header was sent */
	const char *content_length;           /* its value as sent */
	const char *content_type;
	/*
	 * Sec-WebSocket-Protocol, as lws will treat it: NULL when none was
	 * offered (the vhost default, "audio"), else the name of the protocol
	 * lws would bind the upgrade to, or "" when it would bind none of ours
	 * (lws then hangs up without a word) or the list is malformed.
	 */
	const char *protocol;
	/* a GET: its query parameters as a JSON object in their order
	 * (Vonage's payload_hash recipe); nargs 0 when there are none */
	const char *query_json;      size_t query_json_len;
	int         query_nargs;
	/* the server */
	int         shutting_down;
	int         draining;
	int         reuse_port;      /* draining with --reuse-port: the other processes take new calls */
	uint32_t    calls_open;
	time_t      now;
	uint64_t    now_ms;
};

/* What a signed webhook POST's body must prove before its jti is spent. */
struct adm_body_check {
	int       active;            /* 1: check it (--verify-webhooks) */
	int       check_hash;        /* the token carries a payload_hash */
	char      payload_hash[AUTH_CLAIM_MAX];
	char      jti[AUTH_CLAIM_MAX];
	long long jti_expires;
	enum route route;
};

/* The answer. A refusal with reason 0 is an answer that counts as no refusal (404, 405, 411, 413, 415). */
struct adm_verdict {
	int          admit;          /* 1: go on (the 101, or the route) */
	int          reason;         /* refused: enum reject_reason, or 0 */
	unsigned     status;         /* refused: the HTTP status */
	const char  *body;           /* refused: the text (or, for an admin route, the JSON error's text) */
	const char  *allow;          /* a 405's Allow header */
	int          json;           /* the body is an admin API error: answer {"error": body} */
	int          close;          /* the connection cannot be reused: an unread request body */
	int          charge;         /* charge the refusal to the client (strikes, its log share) */
	enum route   route;          /* ADM_HTTP: the route asked for */
	char         hint[9];        /* the token's fingerprint for the log, "" when none */
	char         text[128];      /* where body points when it had to be composed */
	/* admitted */
	int          operator_here;  /* an admin request let in as this host's operator (no token) */
	size_t       body_len;       /* a POST: the body's length, as Content-Length said */
	struct adm_body_check body_check;
};

/* The request's one verdict. Returns v->admit. */
int admission_decide(struct admission *a, const struct adm_request *rq, struct adm_verdict *v);

/*
 * A POST's body arrived whole: a signed webhook's body must match its
 * token's payload_hash, and then the token's jti is spent (body_check from
 * the verdict of its headers). The answer webhook is refused while this
 * process drains alone. Returns v->admit.
 */
int admission_body(struct admission *a, const struct adm_body_check *bc, const char *body, size_t len,
		   const struct adm_request *situation, struct adm_verdict *v);

/* A POST's body did not arrive within --body-timeout: the 408 refusal. */
void admission_body_timeout(struct adm_verdict *v);

/* The largest body a POST to route may have (HTTP_BODY_MAX, or the admin API's). */
size_t admission_body_max(enum route r);
