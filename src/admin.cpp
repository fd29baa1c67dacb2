/*
 * admin.cpp -- see admin.h: one JSON object in, one checked request out.
 */
#include "admin.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

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

static int allowed_keys(const cJSON *o, const char *const *keys)
{
	for (const cJSON *m = o->child; m; m = m->next) {
		int known = 0;
		for (const char *const *k = keys; *k; k++)
			known |= m->string && !strcmp(m->string, *k);
		if (!known)
			return 0;
	}
	return 1;
}

static int parse(enum admin_op op, const cJSON *o, struct admin_req *r, char *err, size_t errlen)
{
	static const char *const hangup_keys[] = { "call", "uuid", "code", "reason", NULL };
	static const char *const block_keys[] = { "cidr", "seconds", "reason", "hangup", NULL };
	static const char *const unblock_keys[] = { "cidr", NULL };
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(o, "reason");
	double v;

	if (!allowed_keys(o, op == ADMIN_HANGUP ? hangup_keys : op == ADMIN_BLOCK ? block_keys : unblock_keys))
		return fail(err, errlen, op == ADMIN_HANGUP ? "unknown member (expected call or uuid, code, reason)"
					 : op == ADMIN_BLOCK ? "unknown member (expected cidr, seconds, reason, hangup)"
							     : "unknown member (expected cidr)");
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
