/*
 * fuzz_admin.cpp -- libFuzzer harness for src/admin.cpp admin_parse: the
 * operator's JSON requests (POST /admin/hangup, /admin/block,
 * /admin/unblock), which reach it from loopback or with the admin token.
 *
 * Input: the first byte picks the action, the rest is the body (exactly
 * sized, not NUL-terminated, as http.cpp's body buffer).
 * Checks: the result is 0 or -1; on -1 an error message is given and the
 * request is all zero but its op; on 0 every field obeys its contract
 * (exactly one of call/uuid for a hang-up, a close code an endpoint may
 * send, a masked CIDR that formats and parses back to itself, seconds in
 * range, reason and uuid sanitised and NUL-terminated), and the body was
 * one JSON object whose members are all known to the action, each once,
 * with no NUL byte anywhere (issue 19: cJSON's strings end at one).
 */
#include "fuzz.h"

#include <cjson/cJSON.h>

#include "admin.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct admin_req r;
	char err[160];

	if (!size)
		return 0;
	enum admin_op op = (enum admin_op)(data[0] % ADMIN__COUNT);
	size_t len = size - 1;
	char *body = (char *)malloc(len ? len : 1);
	if (!body)
		return 0;
	memcpy(body, data + 1, len);
	err[0] = '\0';
	memset(&r, 0x5a, sizeof r);
	int rc = admin_parse(op, body, len, &r, err, sizeof err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(r.op == op);
	if (rc) {
		FUZZ_CHECK(err[0] && memchr(err, '\0', sizeof err));
		FUZZ_CHECK(!r.call && !r.uuid[0] && !r.code && !r.seconds && !r.hangup && !r.reason[0]);
		free(body);
		return 0;
	}
	FUZZ_CHECK(!memchr(body, '\0', len));
	cJSON *j = cJSON_ParseWithLength(body, len);
	FUZZ_CHECK(cJSON_IsObject(j));
	for (const cJSON *m = j->child; m; m = m->next)
		for (const cJSON *k = m->next; k; k = k->next)
			FUZZ_CHECK(strcmp(m->string, k->string));
	FUZZ_CHECK(fuzz_is_sanitized(r.reason, sizeof r.reason));
	if (op == ADMIN_HANGUP) {
		FUZZ_CHECK(!!r.call != !!r.uuid[0]);
		FUZZ_CHECK(fuzz_is_sanitized(r.uuid, sizeof r.uuid));
		FUZZ_CHECK(admin_close_code_ok(r.code));
		FUZZ_CHECK(r.code != 1005 && r.code != 1006 && r.code != 1015);
	} else {
		char net[CIDR_STR_MAX];
		struct cidr back;
		cidr_format(&r.net, net, sizeof net);
		FUZZ_CHECK(!cidr_parse(net, &back) && cidr_equal(&back, &r.net));
		FUZZ_CHECK(r.net.bits <= 128);
		if (op == ADMIN_BLOCK)
			FUZZ_CHECK(r.seconds >= 0 && r.seconds <= ADMIN_BLOCK_MAX);
		else
			FUZZ_CHECK(!r.seconds && !r.hangup);
	}
	cJSON_Delete(j);
	free(body);
	return 0;
}
