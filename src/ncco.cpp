/*
 * ncco.cpp -- build the NCCO with cJSON into a caller buffer; see ncco.h.
 */
#include "ncco.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

int ncco_content_type(int rate, char *out, size_t cap)
{
	if (rate != 8000 && rate != 16000 && rate != 24000)
		return -1;
	int n = snprintf(out, cap, "audio/l16;rate=%d", rate);
	return (n < 0 || (size_t)n >= cap) ? -1 : n;
}

static int set(const char *s) { return s && s[0]; }

int ncco_build(const struct ncco_params *p, char *out, size_t cap)
{
	char ctype[32];
	int ret = -1;

	if (!cap)
		return -1;
	out[0] = '\0';
	if (!set(p->ws_uri) || ncco_content_type(p->rate, ctype, sizeof ctype) < 0)
		return -1;

	cJSON *root = cJSON_CreateArray();
	cJSON *talk = NULL, *connect = NULL, *eps = NULL, *ep = NULL, *hdrs = NULL, *authz = NULL;
	int ok = root != NULL;

	if (ok && set(p->talk_text)) {
		ok = (talk = cJSON_CreateObject()) && cJSON_AddItemToArray(root, talk) &&
		     cJSON_AddStringToObject(talk, "action", "talk") &&
		     cJSON_AddStringToObject(talk, "text", p->talk_text);
	}
	ok = ok && (connect = cJSON_CreateObject()) && cJSON_AddItemToArray(root, connect) &&
	     cJSON_AddStringToObject(connect, "action", "connect");
	if (ok && set(p->from_number))
		ok = cJSON_AddStringToObject(connect, "from", p->from_number) != NULL;
	ok = ok && (eps = cJSON_AddArrayToObject(connect, "endpoint")) &&
	     (ep = cJSON_CreateObject()) && cJSON_AddItemToArray(eps, ep) &&
	     cJSON_AddStringToObject(ep, "type", "websocket") &&
	     cJSON_AddStringToObject(ep, "uri", p->ws_uri) &&
	     cJSON_AddStringToObject(ep, "content-type", ctype) &&
	     (hdrs = cJSON_AddObjectToObject(ep, "headers"));
	if (ok && set(p->uuid))
		ok = cJSON_AddStringToObject(hdrs, "uuid", p->uuid) != NULL;
	if (ok && set(p->call_from))
		ok = cJSON_AddStringToObject(hdrs, "from", p->call_from) != NULL;
	if (ok && set(p->call_to))
		ok = cJSON_AddStringToObject(hdrs, "to", p->call_to) != NULL;
	ok = ok && (authz = cJSON_AddObjectToObject(ep, "authorization")) &&
	     cJSON_AddStringToObject(authz, "type", "vonage");

	/* cJSON.h: PrintPreallocated may need 5 bytes more than the output */
	if (ok && cap > 5 && cJSON_PrintPreallocated(root, out, (int)(cap - 5), 0)) {
		ret = (int)strlen(out);
	} else {
		out[0] = '\0';
	}
	cJSON_Delete(root);
	return ret;
}
