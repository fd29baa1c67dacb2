/*
 * admin.cpp -- see admin.h: one JSON object in, one checked request out.
 */
#include "admin.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "log.h"
#include "stats.h"

static const char *const op_names[ADMIN__COUNT] = { "hangup", "block", "unblock" };

const char *admin_op_str(int op)
{
	return op >= 0 && op < ADMIN__COUNT ? op_names[op] : "unknown";
}

int admin_close_code_ok(int code)
{
	/* RFC 6455 7.4: the defined codes an endpoint may send, and the
	 * registered (3000-3999) and private (4000-4999) ranges */
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

static int fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

/* A whole number in [lo, hi]; 1 = present and good, 0 = absent, -1 = bad. */
static int get_int(const cJSON *o, const char *k, double lo, double hi, double *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!it)
		return 0;
	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble != floor(it->valuedouble) ||
	    it->valuedouble < lo || it->valuedouble > hi)
		return -1;
	*v = it->valuedouble;
	return 1;
}

/* 1 if every member is one of keys, once (cJSON keeps both of a repeated
 * member and reads the first: a log and a proxy might read the other). */
static int allowed_keys(const cJSON *o, const char *const *keys)
{
	for (const cJSON *m = o->child; m; m = m->next) {
		int known = 0;
		for (const char *const *k = keys; *k; k++)
			known |= m->string && !strcmp(m->string, *k);
		for (const cJSON *p = o->child; known && p != m; p = p->next)
			known = strcmp(p->string, m->string) != 0;
		if (!known)
			return 0;
	}
	return 1;
}

/*
 * What cJSON lets through but an operator's request must not carry, found
 * in the raw text (cJSON keeps neither a string's length nor a number's
 * spelling): a NUL byte or a \u0000 escape, where cJSON's C string ends --
 * "192.0.2.12\u0000junk" was taken for 192.0.2.12; a raw control character
 * in a string (not JSON); and a number that is not a plain whole number:
 * cJSON reads -0, 1e3, 3600.0, 007 and 3600.0000000000001 as doubles that
 * pass the integer check, and "seconds": -0 meant "until unblocked".
 * NULL when the text is clean, else what is wrong.
 */
static const char *text_problem(const char *b, size_t len)
{
	static const char bad_number[] =
		"numbers must be whole numbers written as plain digits (no fraction, exponent, leading zero or -0)";
	int in_string = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)b[i];
		if (!ch)
			return "the body holds a NUL byte";
		if (in_string) {
			if (ch == '"')
				in_string = 0;
			else if (ch < 0x20)
				return "a string holds a raw control character";
			else if (ch == '\\' && i + 1 < len) {
				i++;   /* the escaped character: \" does not end the string */
				if (b[i] == 'u' && len - i > 4 && !memcmp(b + i + 1, "0000", 4))
					return "a string holds \\u0000 (NUL)";
			}
			continue;
		}
		if (ch == '"') {
			in_string = 1;
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			size_t j = i + (ch == '-');
			if (j >= len || b[j] < '0' || b[j] > '9' ||
			    (b[j] == '0' && (ch == '-' || (j + 1 < len && b[j + 1] >= '0' && b[j + 1] <= '9'))))
				return bad_number;
			while (j < len && b[j] >= '0' && b[j] <= '9')
				j++;
			if (j < len && (b[j] == '.' || b[j] == 'e' || b[j] == 'E'))
				return bad_number;
			i = j - 1;
		}
	}
	return NULL;
}

static int parse(enum admin_op op, const cJSON *o, struct admin_req *r, char *err, size_t errlen)
{
	static const char *const hangup_keys[] = { "call", "uuid", "code", "reason", NULL };
	static const char *const block_keys[] = { "cidr", "seconds", "reason", "hangup", NULL };
	static const char *const unblock_keys[] = { "cidr", NULL };
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(o, "reason");
	double v;

	if (!allowed_keys(o, op == ADMIN_HANGUP ? hangup_keys : op == ADMIN_BLOCK ? block_keys : unblock_keys))
		return fail(err, errlen, op == ADMIN_HANGUP ? "unknown or repeated member (expected call or uuid, code, reason)"
					 : op == ADMIN_BLOCK ? "unknown or repeated member (expected cidr, seconds, reason, hangup)"
							     : "unknown or repeated member (expected cidr)");
	if (reason) {
		if (!cJSON_IsString(reason))
			return fail(err, errlen, "'reason' must be a string");
		vonage_msg_sanitize(r->reason, sizeof r->reason, reason->valuestring, strlen(reason->valuestring));
	}

	if (op == ADMIN_HANGUP) {
		const cJSON *uuid = cJSON_GetObjectItemCaseSensitive(o, "uuid");
		int has_call = get_int(o, "call", 1, 9.0e15, &v);
		if (has_call < 0)
			return fail(err, errlen, "'call' must be a call id (a positive whole number)");
		if (has_call)
			r->call = (uint64_t)v;
		if (uuid) {
			size_t n = cJSON_IsString(uuid) ? strlen(uuid->valuestring) : 0;
			if (!n || n >= sizeof r->uuid)
				return fail(err, errlen, "'uuid' must be a non-empty string of at most 63 bytes");
			vonage_msg_sanitize(r->uuid, sizeof r->uuid, uuid->valuestring, n);
		}
		if (has_call == !!uuid)
			return fail(err, errlen, "give exactly one of 'call' and 'uuid'");
		int c = get_int(o, "code", 0, 65535, &v);
		r->code = c > 0 ? (int)v : 1000;
		if (c < 0 || !admin_close_code_ok(r->code))
			return fail(err, errlen, "'code' must be 1000-1003, 1007-1014 or 3000-4999");
		return 0;
	}

	const cJSON *net = cJSON_GetObjectItemCaseSensitive(o, "cidr");
	if (!cJSON_IsString(net) || cidr_parse(net->valuestring, &r->net))
		return fail(err, errlen, "'cidr' must be an address or CIDR like 203.0.113.0/24");
	if (op == ADMIN_UNBLOCK)
		return 0;
	int s = get_int(o, "seconds", 0, (double)ADMIN_BLOCK_MAX, &v);
	if (s < 0)
		return fail(err, errlen, "'seconds' must be a whole number from 0 (until unblocked) to 31622400");
	r->seconds = s > 0 ? (long)v : ADMIN_BLOCK_DEFAULT;
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "hangup");
	if (h && !cJSON_IsBool(h))
		return fail(err, errlen, "'hangup' must be true or false");
	r->hangup = h && cJSON_IsTrue(h);
	return 0;
}

int admin_parse(enum admin_op op, const char *body, size_t len, struct admin_req *out, char *err,
		size_t errlen)
{
	const char *end = NULL;

	memset(out, 0, sizeof *out);
	out->op = op;
	if (op < 0 || op >= ADMIN__COUNT)
		return fail(err, errlen, "unknown action");
	if (len > ADMIN_BODY_MAX)
		return fail(err, errlen, "body too large");
	const char *problem = text_problem(body, len);
	if (problem)
		return fail(err, errlen, problem);
	cJSON *o = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!cJSON_IsObject(o) || end != body + len) {
		/* trailing whitespace after the object is fine */
		while (o && end && end < body + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
			end++;
		if (!cJSON_IsObject(o) || end != body + len) {
			cJSON_Delete(o);
			return fail(err, errlen, "body must be one JSON object");
		}
	}
	int r = parse(op, o, out, err, errlen);
	cJSON_Delete(o);
	if (r)
		memset(out, 0, sizeof *out), out->op = op;
	return r;
}

/* ---- doing it ------------------------------------------------------------------ */

static_assert(ADMIN_HANGUP == 0 && ADMIN_BLOCK == 1 && ADMIN_UNBLOCK == 2 && ADMIN__COUNT == STATS_ADMIN_OPS,
	      "stats counts admin actions in enum admin_op's order");

#define CLOSE_POLICY_VIOLATION 1008   /* a blocked client's calls (RFC 6455 7.4.1) */

static unsigned error(struct admin_answer *out, unsigned status, const char *why)
{
	out->status = status;
	out->error = why;
	return status;
}

/* Log, count and remember one operator action; answer 200 with o (consumed). */
static unsigned done(struct admin_world *w, struct admin_answer *out, enum admin_op op, const char *target,
		     const char *result, const char *by, time_t now, cJSON *o)
{
	out->json = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	stats_admin_record(w->stats, now, op, admin_op_str(op), target, by, result);
	const struct log_field lf[] = { LOG_STR("action", admin_op_str(op)), LOG_STR("target", target),
					LOG_STR("by", by), LOG_STR("result", result) };
	LOG_FIELDS(LOG_WARN, "admin_action", lf, "admin: %s %s by %s: %s", admin_op_str(op), target, by, result);
	if (!out->json)
		return error(out, 500, "out of memory");
	out->status = 200;
	return 200;
}

static unsigned hangup(struct admin_world *w, const struct admin_req *rq, time_t now, const char *by,
		       struct admin_answer *out)
{
	char target[80], result[80];
	uint64_t first = 0;

	if (rq->call)
		snprintf(target, sizeof target, "call %llu", (unsigned long long)rq->call);
	else
		snprintf(target, sizeof target, "uuid %s", rq->uuid);
	int n = calls_hangup_matching(w->calls, rq->call, rq->uuid, NULL, rq->code, "closed by the operator", &first);
	if (!n)
		return error(out, 404, "no open call matches");
	snprintf(result, sizeof result, "%d call(s) closed with %d", n, rq->code);
	cJSON *o = cJSON_CreateObject();
	if (o && !(cJSON_AddNumberToObject(o, "hung_up", n) && cJSON_AddNumberToObject(o, "call", (double)first) &&
		   cJSON_AddNumberToObject(o, "code", rq->code)))
		cJSON_Delete(o), o = NULL;
	return done(w, out, ADMIN_HANGUP, target, result, by, now, o);
}

static unsigned unblock(struct admin_world *w, const struct admin_req *rq, time_t now, const char *by,
			struct admin_answer *out)
{
	char target[80];

	cidr_format(&rq->net, target, sizeof target);
	if (block_remove(w->blocks, &rq->net))
		return error(out, 404, "not blocked (give the CIDR as listed)");
	cJSON *o = cJSON_CreateObject();
	if (o && !cJSON_AddStringToObject(o, "unblocked", target))
		cJSON_Delete(o), o = NULL;
	return done(w, out, ADMIN_UNBLOCK, target, "unblocked", by, now, o);
}

static unsigned block(struct admin_world *w, const struct admin_req *rq, time_t now, const char *by,
		      struct admin_answer *out)
{
	char target[80], result[80];
	uint64_t first = 0;

	cidr_format(&rq->net, target, sizeof target);
	time_t expires = rq->seconds ? now + rq->seconds : 0;
	enum block_add_result br = block_add(w->blocks, &rq->net, now, expires, BLOCK_MANUAL,
					     rq->reason[0] ? rq->reason : "operator", by);
	if (br == BLOCK_FULL)
		return error(out, 503, "block table full of the operator's blocks: unblock some first");
	int n = rq->hangup ? calls_hangup_matching(w->calls, 0, NULL, &rq->net, CLOSE_POLICY_VIOLATION,
						   "closed by the operator", &first) : 0;
	if (expires) {
		char until[32];
		stats_iso8601(expires, until, sizeof until);
		snprintf(result, sizeof result, "until %s, %d call(s) closed", until, n);
	} else {
		snprintf(result, sizeof result, "until unblocked, %d call(s) closed", n);
	}
	cJSON *o = cJSON_CreateObject();
	if (o && !(cJSON_AddStringToObject(o, "blocked", target) && cJSON_AddNumberToObject(o, "expires", (double)expires) &&
		   cJSON_AddBoolToObject(o, "updated", br == BLOCK_UPDATED) && cJSON_AddNumberToObject(o, "hung_up", n)))
		cJSON_Delete(o), o = NULL;
	return done(w, out, ADMIN_BLOCK, target, result, by, now, o);
}

unsigned admin_act(struct admin_world *w, enum admin_op op, const char *body, size_t len, time_t now, const char *by,
		   struct admin_answer *out)
{
	struct admin_req rq;

	memset(out, 0, sizeof *out);
	if (admin_parse(op, body, len, &rq, out->buf, sizeof out->buf)) {
		/* refused for what it is (not a strike: only the operator gets this far) */
		w->stats->rejected[REJECT_ADMIN_BAD_REQUEST]++;
		log_limited(w->bad_input, now, "admin %s from %s: %s", admin_op_str(op), by, out->buf);
		return error(out, 400, out->buf);
	}
	switch (op) {
	case ADMIN_HANGUP:  return hangup(w, &rq, now, by, out);
	case ADMIN_UNBLOCK: return unblock(w, &rq, now, by, out);
	case ADMIN_BLOCK:
	default:            return block(w, &rq, now, by, out);
	}
}
