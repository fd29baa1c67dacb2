/*
 * admission.cpp -- the checks and their order; see admission.h.
 *
 * Each check is a small function that returns 0 to go on or the refusal it
 * wrote into the verdict; admission_decide() runs them in SECURITY.md's
 * order. A refusal is "counted" when it has a reason (the stats' rejected
 * counters) and "charged" when the client's address is known to the
 * transport as the one the refusal belongs to.
 */
#include "admission.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "admin.h"
#include "block.h"
#include "config.h"
#include "guard.h"
#include "host.h"
#include "log.h"
#include "replay_store.h"

#define BODY_MAX 16384   /* webhook bodies are a few hundred bytes */

/* ---- writing the verdict ----------------------------------------------------- */

static int refuse(struct adm_verdict *v, int reason, unsigned status, const char *body)
{
	v->admit = 0;
	v->reason = reason;
	v->status = status;
	v->body = body;
	v->charge = reason != 0;
	return -1;
}

/* An answer that is no refusal of the client's: not counted, not charged. */
static int answer(struct adm_verdict *v, unsigned status, const char *body)
{
	refuse(v, 0, status, body);
	v->charge = 0;
	return -1;
}

/* ---- what a request says ------------------------------------------------------- */

/* Authorization: Bearer <token>, compared in constant time: the comparison
 * must not tell how much of a guess was right. */
static int bearer_is(const struct adm_request *rq, const char *token)
{
	size_t tl = strlen(token);

	return tl && rq->authorization && !rq->authorization_too_long && rq->authorization_len == 7 + tl &&
	       !strncasecmp(rq->authorization, "Bearer ", 7) && !CRYPTO_memcmp(rq->authorization + 7, token, tl);
}

/*
 * This host's operator, without a token: the request is local (the TCP
 * peer itself is loopback and nothing was forwarded) and its Host is a
 * loopback name. The Host rule closes DNS rebinding: a page of evil.example
 * whose name now points at 127.0.0.1 is a loopback peer in the browser of
 * anyone on this host (or at the end of an SSH tunnel), but it still says
 * "Host: evil.example".
 */
static int operator_here(const struct adm_request *rq)
{
	return rq->local && rq->host && host_is_loopback_name(rq->host, rq->host_len);
}

static int origin_allowed(const struct config *cfg, const char *origin, size_t len)
{
	for (int i = 0; i < cfg->n_allow_origin; i++)
		if (strlen(cfg->allow_origin[i]) == len && !strncasecmp(origin, cfg->allow_origin[i], len))
			return 1;
	return 0;
}

static int sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -1;
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int hash_matches(const char *claim, const void *data, size_t len)
{
	char hex[65];
	return !sha256_hex(data, len, hex) && !strcasecmp(hex, claim);
}

/* The token in Authorization, checked (auth_jwt.h); its fingerprint into v->hint. */
static enum auth_result token(const struct admission *a, const struct adm_request *rq, struct adm_verdict *v,
			      struct auth_claims *claims)
{
	if (!rq->authorization)
		return AUTH_MISSING;
	if (rq->authorization_too_long || !rq->authorization_len)
		return AUTH_MALFORMED;
	/* a fingerprint lets operators match repeats without logging the token */
	log_token_hint(rq->authorization, rq->authorization_len, v->hint);
	return auth_jwt_check_claims(a->auth, rq->authorization, rq->authorization_len, rq->now, claims);
}

/* Remember the token's jti until it could no longer pass the age check anyway. */
static int spend_jti(struct admission *a, const char *jti, long long expires, time_t now, struct adm_verdict *v)
{
	if (!jti[0])
		return refuse(v, REJECT_MISSING_JTI, 401, "token has no jti\n");
	switch (replay_store_check(a->replay, jti, strlen(jti), now, (time_t)expires)) {
	case REPLAY_NEW:
		return 0;
	case REPLAY_SEEN:
		return refuse(v, REJECT_REPLAY, 401, "token already used\n");
	case REPLAY_UNAVAILABLE:
		return refuse(v, REJECT_REPLAY_UNAVAILABLE, 503, "try again later\n");
	case REPLAY_FULL:
	default:
		return refuse(v, REJECT_REPLAY_FULL, 503, "try again later\n");
	}
}

static long long token_expires(const struct config *cfg, const struct auth_claims *c)
{
	return c->iat + cfg->jwt_max_age_s + cfg->jwt_leeway_s;
}

/* ---- the upgrade ------------------------------------------------------------------- */

static int draining_alone(const struct adm_request *rq)
{
	return rq->shutting_down || (rq->draining && !rq->reuse_port);
}

static int upgrade(struct admission *a, const struct adm_request *rq, struct adm_verdict *v)
{
	const struct config *cfg = a->cfg;
	struct auth_claims claims;

	/* draining with --reuse-port, a new call belongs to the other process;
	 * one that still reaches us (a kept-alive connection) is taken and drained */
	if (draining_alone(rq))
		return refuse(v, REJECT_SHUTTING_DOWN, 503, "unavailable\n"), v->charge = 0, -1;
	if (a->blocks->n && block_match(a->blocks, &rq->client, rq->now))
		return refuse(v, REJECT_BLOCKED, 403, "forbidden\n"), v->charge = 0, -1;
	/* before the token is parsed: a flood of bad tokens is throttled too;
	 * an unknown address (unusable X-Forwarded-For) is one shared address */
	switch (guard_handshake(a->guard, &rq->client, rq->now_ms)) {
	case GUARD_OK:
		break;
	case GUARD_RATE:
		return refuse(v, REJECT_ADDR_RATE, 429, "too many requests\n");
	case GUARD_CALLS:
		return refuse(v, REJECT_ADDR_CALLS, 429, "too many requests\n");
	case GUARD_FULL:
	case GUARD_CONNS:   /* not returned here; handled at accept */
		return refuse(v, REJECT_ADDR_TABLE_FULL, 503, "unavailable\n");
	}
	/* an upgrade has no body; one that claims to could smuggle bytes past a
	 * proxy that reads it differently (RFC 9112 6.3) */
	if (rq->transfer_encoding)
		return refuse(v, REJECT_TRANSFER_ENCODING, 400, "bad request\n");
	if (!rq->path || rq->path_len != 7 || memcmp(rq->path, "/socket", 7))
		return refuse(v, REJECT_BAD_PATH, 404, "not found\n");
	/* Vonage is a server and sends no Origin; a browser always does, so an
	 * Origin not on the list is a web page trying to hijack the socket */
	if (rq->origin && !origin_allowed(cfg, rq->origin, rq->origin_len))
		return refuse(v, REJECT_ORIGIN, 403, "forbidden\n");
	/* before the token: a refused upgrade must not spend its jti */
	if (rq->protocol && strcmp(rq->protocol, "audio"))
		return refuse(v, REJECT_SUBPROTOCOL, 400, "bad request\n");
	if (rq->calls_open >= (uint32_t)cfg->max_calls)
		return refuse(v, REJECT_CAPACITY, 503, "unavailable\n");
	enum auth_result r = token(a, rq, v, &claims);
	if (r != AUTH_OK)
		return refuse(v, r, 401, "unauthorized\n");
	/* last, once the token has proved itself: shared with the signed
	 * webhooks, a token is good for one use, wherever */
	if (spend_jti(a, claims.jti, token_expires(cfg, &claims), rq->now, v))
		return -1;
	v->admit = 1;
	return 0;
}

/* ---- HTTP requests ------------------------------------------------------------------ */

/* The request's body, when it has one, stays unread by a refusal: then the connection cannot be reused. */
static int has_body(const struct adm_request *rq)
{
	return rq->has_body;
}

/*
 * --verify-webhooks: Vonage's signed JWT. A GET is checked whole here
 * (query against payload_hash, jti spent). A POST with a body must name its
 * payload_hash; the body is checked against it, and only then the jti
 * spent (admission_body): a body that does not match must not use up the
 * genuine request's token.
 */
static int signed_webhook(struct admission *a, const struct adm_request *rq, struct adm_verdict *v)
{
	struct auth_claims claims;
	enum auth_result r = token(a, rq, v, &claims);

	if (r != AUTH_OK) {
		v->close = rq->method == HTTP_POST;   /* the body stays unread */
		if (r == AUTH_MALFORMED)
			v->hint[0] = '\0';   /* nothing worth matching repeats by */
		return refuse(v, REJECT_WEBHOOK_AUTH, 401, "unauthorized\n");
	}
	v->hint[0] = '\0';   /* a webhook's later refusals are the body's or the jti's, not the token's */
	long long expires = token_expires(a->cfg, &claims);
	if (rq->method == HTTP_POST) {
		int body = rq->content_length && strcmp(rq->content_length, "0");
		if (body && !claims.has_payload_hash) {
			/* without it the token would vouch for any body at all */
			v->close = 1;
			return refuse(v, REJECT_MISSING_PAYLOAD_HASH, 401, "token has no payload_hash for the body\n");
		}
		struct adm_body_check *bc = &v->body_check;
		bc->active = 1;
		bc->check_hash = claims.has_payload_hash;
		memcpy(bc->payload_hash, claims.payload_hash, sizeof bc->payload_hash);
		memcpy(bc->jti, claims.jti, sizeof bc->jti);
		bc->jti_expires = expires;
		return 0;
	}
	/* GET: the query parameters as a JSON object, Vonage's recipe; with
	 * none, "" and "{}" are both accepted */
	if (claims.has_payload_hash &&
	    !(hash_matches(claims.payload_hash, rq->query_json ? rq->query_json : "{}",
			   rq->query_json ? rq->query_json_len : 2) ||
	      (!rq->query_nargs && hash_matches(claims.payload_hash, "", 0))))
		return refuse(v, REJECT_PAYLOAD_HASH, 401, "payload_hash does not match\n");
	return spend_jti(a, claims.jti, expires, rq->now, v);
}

/*
 * /admin/: the --admin-token bearer from anywhere (the stats token never
 * opens it), or this host's operator without one -- and that way is closed
 * to any request with an Origin header, so no web page a browser on this
 * host shows can act for it.
 */
static int admin_access(const struct admission *a, const struct adm_request *rq, struct adm_verdict *v)
{
	const struct config *cfg = a->cfg;
	const char *why = NULL;

	if (bearer_is(rq, cfg->admin_token))
		return 0;
	if (!rq->local)
		why = cfg->admin_token[0] ? "admin token required"
		      : rq->proxied ? "admin API is for loopback clients only, never through a proxy"
				    : "admin API is for loopback clients only";
	else if (rq->origin)
		why = "request from a web page (Origin): send the admin token";
	else if (!operator_here(rq))
		why = "Host is not a loopback name: send the admin token";
	if (!why) {
		v->operator_here = 1;
		return 0;
	}
	snprintf(v->text, sizeof v->text, "forbidden: %s\n", why);
	v->close = has_body(rq);
	return refuse(v, REJECT_ADMIN_ACCESS, 403, v->text);
}

/* JSON only: an HTML form (any site's) cannot send it. */
static int admin_content_type(const struct adm_request *rq, struct adm_verdict *v)
{
	const char *ct = rq->content_type;

	if (rq->method != HTTP_POST || (ct && !strncasecmp(ct, "application/json", 16) && (!ct[16] || ct[16] == ';')))
		return 0;
	v->close = 1;
	v->json = 1;
	return refuse(v, REJECT_ADMIN_BAD_REQUEST, 415, "Content-Type must be application/json"), v->charge = 0, -1;
}

/*
 * A POST's body is read by Content-Length only, up to the route's limit
 * (lws 4.1 would otherwise expect up to 100 MiB). 0 to go on, with its
 * length in v->body_len.
 */
static int post_length(const struct adm_request *rq, struct adm_verdict *v)
{
	const char *cl = rq->content_length;
	unsigned long long n = 0;

	v->close = 1;   /* a refusal here leaves the body unread */
	if (!cl || !cl[0])
		return answer(v, 411, "Content-Length required\n");
	for (const char *p = cl; *p; p++) {
		if (*p < '0' || *p > '9')
			return answer(v, 400, "bad Content-Length\n");
		if (n < (1ull << 40))   /* past any limit: too large, however large */
			n = n * 10 + (unsigned long long)(*p - '0');
	}
	if (n > admission_body_max(v->route)) {
		if (route_is_admin(v->route)) {
			v->json = 1;
			refuse(v, REJECT_ADMIN_BAD_REQUEST, 413, "body too large");
			v->charge = 0;
			return -1;
		}
		return answer(v, 400, "body too large\n");
	}
	v->close = 0;
	v->body_len = (size_t)n;
	return 0;
}

static int http_request(struct admission *a, const struct adm_request *rq, struct adm_verdict *v)
{
	const struct config *cfg = a->cfg;
	int method_ok;

	/*
	 * Bodies are read by Content-Length only (lws 4.1.6 has no chunked
	 * request decoding). With Transfer-Encoding the request is ambiguous: a
	 * proxy that honours it sees other request boundaries than we do, so
	 * chunk data could run here as a request of its own -- with its own
	 * X-Forwarded-For (RFC 9112 6.3). Refuse, and close.
	 */
	if (rq->transfer_encoding) {
		v->close = 1;
		return rq->content_length ? refuse(v, REJECT_TRANSFER_ENCODING, 400, "Transfer-Encoding with Content-Length\n")
					  : refuse(v, REJECT_TRANSFER_ENCODING, 411,
						   "Transfer-Encoding not supported: send Content-Length\n");
	}
	v->route = routes_find(rq->path, rq->path_len, rq->method, &method_ok, &v->allow);
	/* a blocked loopback or proxied client (others never get this far):
	 * everything but /admin/ from this host itself, so the operator can unblock */
	if (a->blocks->n && block_match(a->blocks, &rq->client, rq->now) && !(route_is_admin(v->route) && rq->local)) {
		v->close = has_body(rq);
		return refuse(v, REJECT_BLOCKED, 403, "forbidden\n");
	}
	if (v->route == ROUTE_NONE) {
		v->close = has_body(rq);
		return answer(v, 404, "not found\n");
	}
	if (!method_ok) {
		v->close = has_body(rq);
		return answer(v, 405, "method not allowed\n");
	}
	v->allow = NULL;
	if (cfg->verify_webhooks && route_is_webhook(v->route) && signed_webhook(a, rq, v))
		return -1;
	if (route_is_view(v->route) && !operator_here(rq) && !bearer_is(rq, cfg->stats_token))
		return refuse(v, REJECT_STATS_ACCESS, 403, "forbidden\n");
	if (route_is_admin(v->route) && (admin_access(a, rq, v) || admin_content_type(rq, v)))
		return -1;
	if (rq->method == HTTP_POST && post_length(rq, v))
		return -1;
	/* draining alone: the socket the NCCO would name refuses the call (a
	 * POST is refused once its body is in: admission_body) */
	if (v->route == ROUTE_ANSWER && rq->method == HTTP_GET && draining_alone(rq))
		return refuse(v, REJECT_SHUTTING_DOWN, 503, "draining\n");
	v->body_check.route = v->route;
	v->admit = 1;
	return 0;
}

int admission_decide(struct admission *a, const struct adm_request *rq, struct adm_verdict *v)
{
	memset(v, 0, sizeof *v);
	if (rq->kind == ADM_UPGRADE)
		upgrade(a, rq, v);
	else
		http_request(a, rq, v);
	return v->admit;
}

int admission_body(struct admission *a, const struct adm_body_check *bc, const char *body, size_t len,
		   const struct adm_request *situation, struct adm_verdict *v)
{
	memset(v, 0, sizeof *v);
	v->route = bc->route;
	if (bc->active) {
		if (bc->check_hash && !hash_matches(bc->payload_hash, body ? body : "", len))
			return refuse(v, REJECT_PAYLOAD_HASH, 401, "payload_hash does not match\n"), 0;
		if (spend_jti(a, bc->jti, bc->jti_expires, situation->now, v))
			return 0;
	}
	if (bc->route == ROUTE_ANSWER && draining_alone(situation))
		return refuse(v, REJECT_SHUTTING_DOWN, 503, "draining\n"), 0;
	v->admit = 1;
	return 1;
}

void admission_body_timeout(struct adm_verdict *v)
{
	memset(v, 0, sizeof *v);
	refuse(v, REJECT_BODY_TIMEOUT, 408, "request timeout\n");
	v->close = 1;
}

size_t admission_body_max(enum route r)
{
	return route_is_admin(r) ? ADMIN_BODY_MAX : BODY_MAX;
}
