/*
 * admin.h -- the admin API: what POST /admin/hangup, /admin/block and
 * /admin/unblock ask for, and doing it.
 *
 * admission.h decides who may ask (this host's operator or the
 * --admin-token bearer, never the stats token; never a web page, and only
 * with a JSON body, so another site's page cannot forge a request).
 * admin_parse() turns the JSON body into a checked struct admin_req, or a
 * one-line error for a 400; admin_act() carries it out on the calls
 * (calls.h) and the blocks (block.h), logs it, counts it and remembers it
 * for the page (stats.h), and says what to answer. No lws: the transport
 * (http.cpp) writes the answer.
 *
 *   hangup   {"call": 7} or {"uuid": "..."}, optional "code" (default 1000;
 *            1000-1003, 1007-1014 or 3000-4999) and "reason" (text)
 *   block    {"cidr": "203.0.113.0/24" or an address}, optional "seconds"
 *            (default 3600; 0 = until unblocked), "reason", and "hangup":
 *            true to also close the calls open from there (code 1008)
 *   unblock  {"cidr": ...}
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "block.h"
#include "vonage_msg.h"

enum admin_op { ADMIN_HANGUP = 0, ADMIN_BLOCK, ADMIN_UNBLOCK, ADMIN__COUNT };

#define ADMIN_BODY_MAX       4096
#define ADMIN_BLOCK_DEFAULT  3600       /* seconds */
#define ADMIN_BLOCK_MAX      (366L * 86400)

struct admin_req {
	enum admin_op op;
	uint64_t call;                    /* hangup by call id; 0 = by uuid */
	char     uuid[VONAGE_UUID_MAX];   /* hangup by call uuid; "" = by id */
	int      code;                    /* hangup: WebSocket close code */
	struct cidr net;                  /* block, unblock */
	long     seconds;                 /* block: 0 = until unblocked */
	int      hangup;                  /* block: close the open calls from net too */
	char     reason[BLOCK_REASON_MAX];/* sanitised; "" = none given */
};

/*
 * Parse the body of one action. Returns 0 and fills *out, or -1 with a
 * short reason in err ("'cidr' is not an address or CIDR", ...). Unknown
 * members are refused, so a typo ("second") is not silently ignored.
 */
int admin_parse(enum admin_op op, const char *body, size_t len, struct admin_req *out, char *err,
		size_t errlen);

/* "hangup", "block", "unblock". */
const char *admin_op_str(int op);

struct calls;
struct stats;
struct log_limit;

/* What the actions act on. */
struct admin_world {
	struct calls       *calls;
	struct block_table *blocks;
	struct stats       *stats;
	struct log_limit   *bad_input;   /* a refused body's log line */
};

/* What to answer: 200 with json (malloc'd: the caller frees it or hands it on), else status with error. */
struct admin_answer {
	unsigned    status;
	char       *json;
	const char *error;    /* the text of {"error": ...} */
	char        buf[160];
};

/*
 * Carry out op with its body, asked by `by` (the client's address as text)
 * at now. Returns out->status.
 */
unsigned admin_act(struct admin_world *w, enum admin_op op, const char *body, size_t len, time_t now, const char *by,
		   struct admin_answer *out);

/* A close code an operator may send: 1000-1003, 1007-1014, 3000-4999. */
int admin_close_code_ok(int code);
