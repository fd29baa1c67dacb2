/*
 * ncco_check.cpp -- validate an NCCO and derive the websocket call; see ncco_check.h.
 */
#include "ncco_check.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "url.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *json_type(const cJSON *j)
{
	if (!j)
		return "missing";
	if (cJSON_IsArray(j))
		return "an array";
	if (cJSON_IsObject(j))
		return "an object";
	if (cJSON_IsString(j))
		return "a string";
	if (cJSON_IsNumber(j))
		return "a number";
	if (cJSON_IsBool(j))
		return "a boolean";
	return "null";
}

int ncco_rate_of(const char *ct)
{
	static const struct { const char *s; int rate; } known[] = {
		{ "audio/l16;rate=8000", 8000 }, { "audio/l16;rate=16000", 16000 }, { "audio/l16;rate=24000", 24000 },
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (!strcmp(ct, known[i].s))
			return known[i].rate;
	return 0;
}

static int copy_str(char *out, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n >= cap)
		return -1;
	memcpy(out, s, n + 1);
	return 0;
}

static int check_talk(const cJSON *a, int i, char *err, size_t errlen)
{
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(a, "text");

	if (!cJSON_IsString(text))
		return fail(err, errlen, "NCCO action %d (talk): \"text\" is %s, not a string", i, json_type(text));
	return 0;
}

static int check_auth(const cJSON *ep, struct ncco_ws *out, char *err, size_t errlen)
{
	const cJSON *au = cJSON_GetObjectItemCaseSensitive(ep, "authorization");

	out->auth = NCCO_AUTH_NONE;
	if (!au)
		return 0;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(au, "type");
	if (!cJSON_IsObject(au) || !cJSON_IsString(type))
		return fail(err, errlen, "websocket endpoint: \"authorization\" needs a string \"type\" (vonage or custom)");
	if (!strcmp(type->valuestring, "vonage")) {
		out->auth = NCCO_AUTH_VONAGE;
		return 0;
	}
	if (strcmp(type->valuestring, "custom"))
		return fail(err, errlen, "websocket endpoint: authorization type \"%.40s\" is not vonage or custom",
			    type->valuestring);
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(au, "value");
	if (!cJSON_IsString(val) || copy_str(out->auth_value, sizeof out->auth_value, val->valuestring))
		return fail(err, errlen, "websocket endpoint: custom authorization needs a string \"value\" under %d bytes",
			    NCCO_AUTH_MAX);
	out->auth = NCCO_AUTH_CUSTOM;
	return 0;
}

/*
 * websocket:connected = {"event":..., "content-type":..., <headers...>}.
 * Vonage flattens the endpoint's headers into this first message.
 */
static int build_connected(const cJSON *headers, struct ncco_ws *out, char *err, size_t errlen)
{
	cJSON *msg = cJSON_CreateObject();
	int ret = -1;

	if (!msg || !cJSON_AddStringToObject(msg, "event", "websocket:connected") ||
	    !cJSON_AddStringToObject(msg, "content-type", out->content_type)) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	for (const cJSON *h = headers ? headers->child : NULL; h; h = h->next) {
		if (!strcmp(h->string, "event") || !strcmp(h->string, "content-type")) {
			fail(err, errlen, "websocket endpoint: header \"%s\" would clash with the connected event's own key",
			     h->string);
			goto out;
		}
		cJSON *copy = cJSON_Duplicate(h, 1);
		if (!copy || !cJSON_AddItemToObject(msg, h->string, copy)) {
			cJSON_Delete(copy);
			fail(err, errlen, "out of memory");
			goto out;
		}
	}
	if (!cJSON_PrintPreallocated(msg, out->connected, (int)sizeof out->connected - 5, 0)) {
		fail(err, errlen, "websocket endpoint: connected message over %d bytes", NCCO_CONNECTED_MAX);
		goto out;
	}
	ret = 0;
out:
	cJSON_Delete(msg);
	return ret;
}

static int check_headers(const cJSON *ep, struct ncco_ws *out, char *err, size_t errlen)
{
	const cJSON *headers = cJSON_GetObjectItemCaseSensitive(ep, "headers");
	char buf[NCCO_HEADERS_MAX + 8];

	if (headers && !cJSON_IsObject(headers))
		return fail(err, errlen, "websocket endpoint: \"headers\" is %s, not an object", json_type(headers));
	if (headers && !cJSON_PrintPreallocated((cJSON *)headers, buf, (int)sizeof buf - 5, 0))
		return fail(err, errlen, "websocket endpoint: \"headers\" is over Vonage's %d-byte limit", NCCO_HEADERS_MAX);
	if (headers && strlen(buf) > NCCO_HEADERS_MAX)
		return fail(err, errlen, "websocket endpoint: \"headers\" is %zu bytes, over Vonage's %d-byte limit",
			    strlen(buf), NCCO_HEADERS_MAX);
	return build_connected(headers, out, err, errlen);
}

static int check_endpoint(const cJSON *ep, struct ncco_ws *out, char *err, size_t errlen)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ep, "type");
	const cJSON *uri = cJSON_GetObjectItemCaseSensitive(ep, "uri");
	const cJSON *ct = cJSON_GetObjectItemCaseSensitive(ep, "content-type");
	struct url u;
	char uerr[300];

	if (!cJSON_IsObject(ep))
		return fail(err, errlen, "connect action: endpoint 0 is %s, not an object", json_type(ep));
	if (!cJSON_IsString(type))
		return fail(err, errlen, "connect action: endpoint 0 has no string \"type\"");
	if (strcmp(type->valuestring, "websocket"))
		return fail(err, errlen, "connect action: endpoint type is \"%.40s\", not \"websocket\"", type->valuestring);
	if (!cJSON_IsString(uri))
		return fail(err, errlen, "websocket endpoint: \"uri\" is %s, not a string", json_type(uri));
	if (url_parse(uri->valuestring, &u, uerr, sizeof uerr))
		return fail(err, errlen, "websocket endpoint: %s", uerr);
	if (u.scheme != URL_WS && u.scheme != URL_WSS)
		return fail(err, errlen, "websocket endpoint: uri \"%.200s\" is not ws:// or wss://", uri->valuestring);
	if (copy_str(out->uri, sizeof out->uri, uri->valuestring))
		return fail(err, errlen, "websocket endpoint: uri longer than %d bytes", NCCO_URI_MAX - 1);
	if (!cJSON_IsString(ct))
		return fail(err, errlen, "websocket endpoint: \"content-type\" is %s, not a string", json_type(ct));
	out->rate = ncco_rate_of(ct->valuestring);
	if (!out->rate)
		return fail(err, errlen,
			    "websocket endpoint: content-type \"%.60s\" is not audio/l16;rate=8000, 16000 or 24000",
			    ct->valuestring);
	if (copy_str(out->content_type, sizeof out->content_type, ct->valuestring))
		return -1;   /* cannot happen: a known value */
	if (check_auth(ep, out, err, errlen))
		return -1;
	return check_headers(ep, out, err, errlen);
}

static int check_connect(const cJSON *a, int i, struct ncco_ws *out, char *err, size_t errlen)
{
	const cJSON *eps = cJSON_GetObjectItemCaseSensitive(a, "endpoint");

	if (!cJSON_IsArray(eps) || cJSON_GetArraySize(eps) < 1)
		return fail(err, errlen, "NCCO action %d (connect): \"endpoint\" is %s, not a non-empty array", i,
			    cJSON_IsArray(eps) ? "an empty array" : json_type(eps));
	return check_endpoint(cJSON_GetArrayItem(eps, 0), out, err, errlen);
}

int ncco_check(const char *body, size_t len, struct ncco_ws *out, char *err, size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	int i = 0, connects = 0, ret = -1;

	memset(out, 0, sizeof *out);
	if (!root)
		return fail(err, errlen, "NCCO is not valid JSON");
	if (!cJSON_IsArray(root)) {
		fail(err, errlen, "NCCO is %s, not a JSON array of actions", json_type(root));
		goto out;
	}
	for (const cJSON *a = root->child; a; a = a->next, i++) {
		const cJSON *action = cJSON_GetObjectItemCaseSensitive(a, "action");
		if (!cJSON_IsObject(a) || !cJSON_IsString(action)) {
			fail(err, errlen, "NCCO action %d has no string \"action\"", i);
			goto out;
		}
		if (!strcmp(action->valuestring, "talk")) {
			if (check_talk(a, i, err, errlen))
				goto out;
			out->talk_actions++;
		} else if (!strcmp(action->valuestring, "connect")) {
			/* Vonage runs actions in order; the first connect is the call's bridge */
			if (!connects++ && check_connect(a, i, out, err, errlen))
				goto out;
		} else {
			fail(err, errlen, "NCCO action %d: \"%.40s\" is not supported (caller-sim plays talk and connect)",
			     i, action->valuestring);
			goto out;
		}
	}
	if (!connects) {
		fail(err, errlen, "NCCO has no connect action (%d action%s: %s)", i, i == 1 ? "" : "s",
		     i ? "talk only" : "empty array");
		goto out;
	}
	ret = 0;
out:
	cJSON_Delete(root);
	return ret;
}

int ncco_direct(const char *uri, int rate, enum ncco_auth auth, struct ncco_ws *out)
{
	char err[64];

	memset(out, 0, sizeof *out);
	out->rate = rate;
	out->auth = auth;
	if (snprintf(out->content_type, sizeof out->content_type, "audio/l16;rate=%d", rate) < 0 ||
	    !ncco_rate_of(out->content_type) || copy_str(out->uri, sizeof out->uri, uri))
		return -1;
	return build_connected(NULL, out, err, sizeof err);
}
