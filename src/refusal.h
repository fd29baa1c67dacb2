/*
 * refusal.h -- the vocabulary of refusals: every reason a connection, a
 * request, an upgrade or a call is refused, and for each its name (the
 * /stats.json `rejected` key, the /metrics label, the log's "reason"
 * field) and whether it is the client's fault (a strike: block.h's
 * automatic blocking counts those, and fail2ban's filter matches exactly
 * them). Admission decides refusals, stats counts them, block charges the
 * strikes: all three read this, and it reads none of them.
 */
#pragma once
#include "auth_jwt.h"

/*
 * Why something was refused: the auth results, then the other reasons.
 * Handshake refusals, calls closed by a per-call limit and refused
 * webhook/stats requests all count here (SECURITY.md lists them).
 */
enum reject_reason {
	REJECT_BAD_PATH = AUTH__COUNT,
	REJECT_ORIGIN,
	REJECT_CAPACITY,
	REJECT_SHUTTING_DOWN,
	REJECT_ADDR_CALLS,       /* per-address open-call cap (429) */
	REJECT_ADDR_RATE,        /* per-address handshake rate (429) */
	REJECT_ADDR_TABLE_FULL,  /* no room to track the address (503) */
	REJECT_ADDR_CONNS,       /* too many non-call connections from one address (closed at accept) */
	REJECT_CONNS_FULL,       /* the process is near its open-file limit (closed at accept) */
	REJECT_REPLAY,           /* jti seen before (401) */
	REJECT_MISSING_JTI,      /* token without jti (401) */
	REJECT_REPLAY_FULL,      /* no room to remember the jti (503) */
	REJECT_MSG_RATE,         /* call closed 1008: message flood */
	REJECT_IDLE,             /* call closed 1001: no message for --idle-timeout */
	REJECT_WEBHOOK_AUTH,     /* webhook without a valid signed JWT (401) */
	REJECT_PAYLOAD_HASH,     /* webhook body does not match payload_hash (401) */
	REJECT_STATS_ACCESS,     /* /stats from outside without the stats token (403) */
	REJECT_BODY_TIMEOUT,     /* request body not complete within --body-timeout (408) */
	REJECT_SUBPROTOCOL,      /* Sec-WebSocket-Protocol that would not land on "audio" (400) */
	REJECT_MISSING_PAYLOAD_HASH, /* signed webhook with a body but no payload_hash (401) */
	REJECT_TRANSFER_ENCODING,/* request with Transfer-Encoding (400 with Content-Length, else 411) */
	REJECT_BAD_CLOSE,        /* peer close frame with an invalid code or a 1-byte payload (1002) */
	REJECT_BLOCKED,          /* address blocked by the operator or automatically (403 / at accept) */
	REJECT_ADMIN_ACCESS,     /* /admin/ without loopback or the admin token, or cross-site (403) */
	REJECT_REPLAY_UNAVAILABLE, /* the replay store (Redis) did not answer in time (503) */
	REJECT_ADMIN_BAD_REQUEST,/* an admin action's body refused: bad JSON, member, value, a NUL (400) */
	REJECT_STATS_BAD_QUERY,  /* /stats, /stats.json with a ?calls= or ?match= refused (400) */
	REJECT__COUNT
};

/* "bad_path", "bad_signature", ...; "unknown" for anything else. */
const char *refusal_name(int reason);

/*
 * 1 if a refusal for reason is the client's doing: a bad or replayed token,
 * a forged webhook, probing, a flood. Those are strikes against its address.
 */
int refusal_is_strike(int reason);
