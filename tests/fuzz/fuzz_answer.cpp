/*
 * fuzz_answer.cpp -- libFuzzer harness for the answer webhook's input path:
 * query or POST body -> call_info -> ws URI from Host or --public-url ->
 * NCCO, i.e. src/vonage_msg.cpp vonage_msg_parse_answer/vonage_msg_answer_arg,
 * src/host.cpp host_validate/host_parse_public_url/host_ws_uri and src/ncco.cpp
 * ncco_build, wired as src/http.cpp wires them.
 *
 * Input: fields split at 0xff bytes (fuzz.h):
 *   query 0xff body 0xff host 0xff public-url 0xff flags
 * flags[0] bit 0: POST (body) instead of GET (query); bits 1-2: rate; bit 3:
 * our own TLS; bit 4: an X-Forwarded-Proto header, "https" if bit 5 else "HTTP".
 * The query is split and %-decoded the way lws hands its fragments over
 * (that part is lws's, emulated here: fragments at '&', %XX and '+'
 * decoded, any length), and each fragment goes through the product's own
 * vonage_msg_answer_arg().
 *
 * Checks: call fields are sanitised; a Host or public URL that passes
 * validation contains only authority characters (so nothing can be
 * injected into the URI); the NCCO always fits NCCO_MAX for these inputs,
 * is valid JSON, and carries exactly the URI and call fields we put in --
 * no field can add or change another (JSON injection).
 */
#include "fuzz.h"

#include <cjson/cJSON.h>

#include "vonage_msg.h"
#include "host.h"
#include "ncco.h"

#define TALK_TEXT "Hello. Everything you say will be echoed back to you."

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * What lws does before our code sees the query: split at '&', decode %XX
 * and '+'. Each fragment then goes through the product's own
 * vonage_msg_answer_arg(), as http.cpp's answer_from_query() passes it. Returns
 * how many values it reported cut.
 */
static int query_to_call(const char *q, size_t qlen, struct call_info *ci)
{
	static char frag[65536];
	size_t i = 0;
	int cut = 0;

	memset(ci, 0, sizeof *ci);
	while (i <= qlen) {
		size_t n = 0;
		for (; i < qlen && q[i] != '&'; i++) {
			char c = q[i];
			if (c == '%' && i + 2 < qlen && hexval(q[i + 1]) >= 0 && hexval(q[i + 2]) >= 0) {
				c = (char)(hexval(q[i + 1]) << 4 | hexval(q[i + 2]));
				i += 2;
			} else if (c == '+') {
				c = ' ';
			}
			frag[n++] = c;
		}
		i++;
		/* lws's copy stops at an embedded NUL, as http.cpp's length does */
		size_t len = strnlen(frag, n);
		const char *eq = (const char *)memchr(frag, '=', len);
		int r = vonage_msg_answer_arg(ci, frag, len);
		FUZZ_CHECK(r == 0 || r == 1);
		/* cut exactly when one of our four names had a value too long */
		if (r)
			FUZZ_CHECK(eq && len - (size_t)(eq - frag) - 1 >= VONAGE_UUID_MAX);
		cut += r;
	}
	return cut;
}

static int authority_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == ':' || c == '[' || c == ']';
}

static const char *json_str(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* The field is in the headers exactly when set, with exactly our value. */
static void check_header(const cJSON *hdrs, const char *k, const char *want)
{
	const char *got = json_str(hdrs, k);
	if (want[0])
		FUZZ_CHECK(got && !strcmp(got, want));
	else
		FUZZ_CHECK(!cJSON_GetObjectItemCaseSensitive(hdrs, k));
}

static void check_ncco(const char *out, int n, const char *uri, int rate, const struct call_info *ci)
{
	char ctype[32];

	FUZZ_CHECK(n > 0 && (size_t)n == strlen(out) && n < NCCO_MAX);
	cJSON *root = cJSON_Parse(out);
	FUZZ_CHECK(cJSON_IsArray(root) && cJSON_GetArraySize(root) == 2);
	const cJSON *talk = cJSON_GetArrayItem(root, 0), *conn = cJSON_GetArrayItem(root, 1);
	FUZZ_CHECK(cJSON_GetArraySize(talk) == 2 && !strcmp(json_str(talk, "action"), "talk") &&
		   !strcmp(json_str(talk, "text"), TALK_TEXT));
	FUZZ_CHECK(cJSON_GetArraySize(conn) == 3 && !strcmp(json_str(conn, "action"), "connect") &&
		   !strcmp(json_str(conn, "from"), "447700900000"));
	const cJSON *eps = cJSON_GetObjectItemCaseSensitive(conn, "endpoint");
	FUZZ_CHECK(cJSON_IsArray(eps) && cJSON_GetArraySize(eps) == 1);
	const cJSON *ep = cJSON_GetArrayItem(eps, 0);
	FUZZ_CHECK(cJSON_GetArraySize(ep) == 5);
	FUZZ_CHECK(!strcmp(json_str(ep, "type"), "websocket"));
	FUZZ_CHECK(json_str(ep, "uri") && !strcmp(json_str(ep, "uri"), uri));
	FUZZ_CHECK(ncco_content_type(rate, ctype, sizeof ctype) > 0);
	FUZZ_CHECK(!strcmp(json_str(ep, "content-type"), ctype));
	const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(ep, "headers");
	FUZZ_CHECK(cJSON_IsObject(hdrs));
	FUZZ_CHECK(cJSON_GetArraySize(hdrs) == !!ci->uuid[0] + !!ci->from[0] + !!ci->to[0]);
	check_header(hdrs, "uuid", ci->uuid);
	check_header(hdrs, "from", ci->from);
	check_header(hdrs, "to", ci->to);
	const cJSON *az = cJSON_GetObjectItemCaseSensitive(ep, "authorization");
	FUZZ_CHECK(cJSON_GetArraySize(az) == 1 && !strcmp(json_str(az, "type"), "vonage"));
	cJSON_Delete(root);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int rates[] = { 8000, 16000, 24000, 12345 };
	struct fuzz_field f[5];
	struct call_info ci;

	fuzz_split(data, size, f, 5);
	int post = f[4].len ? f[4].p[0] & 1 : 0;
	int rate = rates[f[4].len ? (f[4].p[0] >> 1) & 3 : 2];

	if (post) {
		/* exactly sized, not NUL-terminated: as lws's body buffer */
		char *body = (char *)malloc(f[1].len ? f[1].len : 1);
		if (!body)
			return 0;
		memcpy(body, f[1].p, f[1].len);
		int r = vonage_msg_parse_answer(body, f[1].len, &ci);
		free(body);
		FUZZ_CHECK(r >= -1 && r <= 4);   /* -1, or how many of the four fields were cut */
		if (r < 0) {
			FUZZ_CHECK(!ci.uuid[0] && !ci.from[0] && !ci.to[0] && !ci.conversation_uuid[0]);
			return 0;   /* 400 malformed JSON body */
		}
	} else {
		int cut = query_to_call(f[0].p, f[0].len, &ci);
		FUZZ_CHECK(cut >= 0);
	}
	FUZZ_CHECK(fuzz_is_sanitized(ci.uuid, sizeof ci.uuid));
	FUZZ_CHECK(fuzz_is_sanitized(ci.conversation_uuid, sizeof ci.conversation_uuid));
	FUZZ_CHECK(fuzz_is_sanitized(ci.from, sizeof ci.from));
	FUZZ_CHECK(fuzz_is_sanitized(ci.to, sizeof ci.to));

	/* the URI: --public-url (config.cpp, at start-up) wins over Host */
	char base[256], uri[512];
	const char *authority = NULL;
	int secure = 0;
	char *url = fuzz_strdup(&f[3]);
	if (f[3].len && !host_parse_public_url(url, &secure, base, sizeof base)) {
		FUZZ_CHECK(secure == 0 || secure == 1);
		size_t blen = strlen(base), alen = strcspn(base, "/");
		FUZZ_CHECK(blen < sizeof base && !host_validate(base, alen));
		for (size_t i = 0; i < blen; i++)
			FUZZ_CHECK(i < alen ? authority_char(base[i])
					    : (authority_char(base[i]) || strchr("_~/", base[i])) &&
						      base[i] != ':' && base[i] != '[' && base[i] != ']');
		FUZZ_CHECK(!blen || base[blen - 1] != '/');
		authority = base;
	}
	/* Host header: http.cpp copies it (NUL-terminated) into HOST_MAX + 2 */
	char *host = fuzz_strdup(&f[2]);
	size_t hlen = strlen(host);
	if (!authority && hlen <= HOST_MAX + 1 && !host_validate(host, hlen)) {
		for (size_t i = 0; i < hlen; i++)
			FUZZ_CHECK(authority_char(host[i]));
		authority = host;
	}
	/* the product's rule (src/host.cpp host_ws_uri): our TLS, an https
	 * --public-url or a proxy's X-Forwarded-Proto: https make it wss */
	int tls = f[4].len ? (f[4].p[0] >> 3) & 1 : 0;
	const char *xfp = f[4].len && (f[4].p[0] >> 4) & 1 ? ((f[4].p[0] >> 5) & 1 ? "https" : "HTTP") : NULL;
	int n = host_ws_uri(authority == base ? base : "", secure, host, hlen, tls, xfp, uri, sizeof uri);
	FUZZ_CHECK((n >= 0) == !!authority);
	if (authority) {
		char want[512];
		int wss = tls || (authority == base && secure) || (xfp && !strcmp(xfp, "https"));
		int m0 = snprintf(want, sizeof want, "%s://%s/socket", wss ? "wss" : "ws", authority);
		FUZZ_CHECK(m0 == n && !strcmp(uri, want));
		struct ncco_params np = { TALK_TEXT, "447700900000", uri, rate, ci.uuid, ci.from, ci.to };
		char *out = (char *)malloc(NCCO_MAX);
		if (!out)
			abort();
		int m = ncco_build(&np, out, NCCO_MAX);
		if (rate == 12345)
			FUZZ_CHECK(m == -1 && out[0] == '\0');
		else
			check_ncco(out, m, uri, rate, &ci);
		free(out);
	}
	free(host);
	free(url);
	return 0;
}
