/*
 * vonage_msg.cpp -- cJSON parsing of Vonage's WebSocket text events and webhook bodies.
 */
#include "vonage_msg.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <string.h>

void vonage_msg_sanitize(char *dst, size_t cap, const char *s, size_t len)
{
	size_t n = 0;

	if (!cap)
		return;
	for (size_t i = 0; s && i < len && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[n++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '<' && c != '>' && c != '\\' &&
			    c != '&' && c != '\'') ? (char)c : '?';
	}
	dst[n] = '\0';
}

/*
 * Parse exactly one JSON value filling buf[0..len): cJSON_ParseWithLength
 * alone stops after the first value and ignores what follows ("{} x"), which
 * would let a malformed body pass as valid. Trailing whitespace is fine.
 */
static cJSON *parse_exact(const char *buf, size_t len)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(buf, len, &end, 0);

	if (!j)
		return NULL;
	while (end && end < buf + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end != buf + len) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static const char *str_item(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* 1 if s did not fit whole */
static int copy_str(char *dst, size_t cap, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	vonage_msg_sanitize(dst, cap, s, n);
	return n >= cap;
}

static int parse_rate(const char *ct)
{
	static const struct { const char *s; int rate; } known[] = {
		{ "audio/l16;rate=8000", 8000 },
		{ "audio/l16;rate=16000", 16000 },
		{ "audio/l16;rate=24000", 24000 },
	};
	for (size_t i = 0; ct && i < sizeof known / sizeof known[0]; i++)
		if (!strcmp(ct, known[i].s))
			return known[i].rate;
	return 0;
}

static char parse_digit(const char *d)
{
	if (!d || strlen(d) != 1)
		return 0;
	char c = d[0];
	if ((c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D'))
		return c;
	return 0;
}

enum ws_event_type vonage_msg_parse_ws(const char *buf, size_t len, struct ws_event *ev)
{
	memset(ev, 0, sizeof *ev);
	cJSON *j = parse_exact(buf, len);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return ev->type = WS_EV_INVALID;
	}
	const char *name = str_item(j, "event");
	if (!name) {
		cJSON_Delete(j);
		return ev->type = WS_EV_INVALID;
	}
	copy_str(ev->name, sizeof ev->name, name);

	if (!strcmp(name, "websocket:connected")) {
		const char *ct = str_item(j, "content-type");
		ev->type = WS_EV_CONNECTED;
		copy_str(ev->content_type, sizeof ev->content_type, ct);
		ev->rate = parse_rate(ct);
		copy_str(ev->uuid, sizeof ev->uuid, str_item(j, "uuid"));
		copy_str(ev->from, sizeof ev->from, str_item(j, "from"));
		copy_str(ev->to, sizeof ev->to, str_item(j, "to"));
	} else if (!strcmp(name, "websocket:dtmf")) {
		ev->type = WS_EV_DTMF;
		ev->digit = parse_digit(str_item(j, "digit"));
	} else if (!strcmp(name, "websocket:cleared")) {
		ev->type = WS_EV_CLEARED;
	} else if (!strcmp(name, "websocket:notify")) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "payload");
		ev->type = WS_EV_NOTIFY;
		/* +5: cJSON's own size estimate may overshoot by that much (cJSON.h) */
		char tmp[VONAGE_PAYLOAD_MAX + 5];
		if (cJSON_IsObject(p) && cJSON_PrintPreallocated((cJSON *)p, tmp, sizeof tmp, 0) &&
		    strlen(tmp) < sizeof ev->payload)
			memcpy(ev->payload, tmp, strlen(tmp) + 1);
	} else {
		ev->type = WS_EV_UNKNOWN;
	}
	cJSON_Delete(j);
	return ev->type;
}

int vonage_msg_notify(char *out, size_t cap, const char *payload_json, size_t len)
{
	cJSON *p = parse_exact(payload_json, len);
	cJSON *cmd = cJSON_IsObject(p) ? cJSON_CreateObject() : NULL;
	int n = -1;

	if (cmd && cJSON_AddStringToObject(cmd, "action", "notify")) {
		cJSON_AddItemToObject(cmd, "payload", p);   /* cmd owns it now */
		p = NULL;
		/* print into a margin, then check it fits: cJSON may overestimate by 5 */
		char tmp[VONAGE_PAYLOAD_MAX + 64];
		if (cJSON_PrintPreallocated(cmd, tmp, sizeof tmp, 0) && strlen(tmp) < cap) {
			n = (int)strlen(tmp);
			memcpy(out, tmp, (size_t)n + 1);
		}
	}
	cJSON_Delete(p);
	cJSON_Delete(cmd);
	return n;
}

int vonage_msg_parse_event_webhook(const char *buf, size_t len, struct hook_event *ev)
{
	memset(ev, 0, sizeof *ev);
	cJSON *j = parse_exact(buf, len);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return -1;
	}
	copy_str(ev->status, sizeof ev->status, str_item(j, "status"));
	const char *uuid = str_item(j, "uuid");
	copy_str(ev->uuid, sizeof ev->uuid, uuid ? uuid : str_item(j, "call_uuid"));
	cJSON_Delete(j);
	return 0;
}

int vonage_msg_parse_answer(const char *buf, size_t len, struct call_info *ci)
{
	memset(ci, 0, sizeof *ci);
	cJSON *j = parse_exact(buf, len);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return -1;
	}
	int cut = copy_str(ci->uuid, sizeof ci->uuid, str_item(j, "uuid")) +
		  copy_str(ci->conversation_uuid, sizeof ci->conversation_uuid, str_item(j, "conversation_uuid")) +
		  copy_str(ci->from, sizeof ci->from, str_item(j, "from")) +
		  copy_str(ci->to, sizeof ci->to, str_item(j, "to"));
	cJSON_Delete(j);
	return cut;
}

int vonage_msg_answer_arg(struct call_info *ci, const char *arg, size_t len)
{
	static const struct { const char *name; size_t off; } fields[] = {
		{ "uuid", offsetof(struct call_info, uuid) },
		{ "conversation_uuid", offsetof(struct call_info, conversation_uuid) },
		{ "from", offsetof(struct call_info, from) },
		{ "to", offsetof(struct call_info, to) },
	};
	const char *eq = (const char *)memchr(arg, '=', len);
	size_t nl = eq ? (size_t)(eq - arg) : len;

	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (strlen(fields[i].name) != nl || memcmp(arg, fields[i].name, nl))
			continue;
		char *dst = (char *)ci + fields[i].off;
		/* the first occurrence wins, as lws_get_urlarg_by_name() had it */
		if (dst[0])
			return 0;
		size_t vl = eq ? len - nl - 1 : 0;
		vonage_msg_sanitize(dst, VONAGE_UUID_MAX, eq ? eq + 1 : "", vl);
		return vl >= VONAGE_UUID_MAX;
	}
	return 0;
}
