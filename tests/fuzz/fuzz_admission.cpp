/*
 * fuzz_admission.cpp -- libFuzzer harness for src/admission.cpp: requests
 * of every shape through the one decision, against real tables (guard, the
 * jti store in memory, blocks) and a real HS256 token where the input asks
 * for one.
 *
 * Input: two flag bytes (kind, method, local, proxied, the server's
 * situation, --verify-webhooks, the tokens configured, which token to
 * send), then fields split at 0xff: path, Host, Origin, Authorization (when
 * not the good token), Content-Length, Content-Type, the upgrade's
 * protocol, a GET's query JSON.
 * Checks: a verdict is either an admission (no reason, no status) or a
 * refusal with a status from the documented set; a counted refusal names a
 * real reason; an admitted upgrade carried a token that verified, and its
 * jti is spent (the same request again is a replay); a refusal decided
 * before the token leaves the good token's jti unspent; a read view is
 * only admitted for this host's operator (local, loopback Host) or the
 * stats token; the admin API only for the admin token or the operator
 * without an Origin; nothing is admitted while shutting down except
 * /healthz-like requests that do not open calls.
 */
#include "fuzz.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <strings.h>

#include "admission.h"
#include "block.h"
#include "config.h"
#include "guard.h"
#include "host.h"
#include "replay.h"
#include "replay_store.h"

#define SECRET "fuzz-secret-0123456789-0123456789-abcdef"
#define T_NOW 1700000000L

static struct config cfg;
static struct auth_cfg auth;
static struct guard *guard_tab;
static struct replay *table;
static struct replay_store store;
static struct block_table blocks;
static struct admission adm;
static unsigned long serial;
static time_t now_s;   /* each input a later time: the jti table holds each input's tokens only until the next */

static void init_once(void)
{
	if (guard_tab)
		return;
	cfg.max_calls = 4;
	cfg.jwt_max_age_s = 300;
	cfg.jwt_leeway_s = 30;
	snprintf(cfg.allow_origin[0], sizeof cfg.allow_origin[0], "https://ops.example.com");
	cfg.n_allow_origin = 1;
	auth.secret = (const unsigned char *)SECRET;
	auth.secret_len = strlen(SECRET);
	auth.max_age_s = 300;
	auth.leeway_s = 30;
	auth.issuer = "Vonage";
	guard_tab = (struct guard *)calloc(1, sizeof *guard_tab);
	struct guard_cfg gc = { 1000, 0, 1, 0, NULL, 0, 64 };   /* no rate limit: runs must not depend on history */
	guard_init(guard_tab, &gc, 1, 0);
	table = replay_create(REPLAY_SLOTS_MIN);
	replay_store_memory(&store, table, 3);
	adm.cfg = &cfg;
	adm.auth = &auth;
	adm.guard = guard_tab;
	adm.replay = &store;
	adm.blocks = &blocks;
}

static size_t b64url(const unsigned char *in, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	for (int i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	out[n] = '\0';
	return (size_t)n;
}

/* "Bearer <a token that verifies>" with a fresh jti each time. */
static const char *good_token(char *out, size_t cap)
{
	static const char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char payload[160], tok[512];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	snprintf(payload, sizeof payload, "{\"iat\":%ld,\"iss\":\"Vonage\",\"jti\":\"fz%lu\"}", (long)now_s, ++serial);
	size_t n = b64url((const unsigned char *)hdr, strlen(hdr), tok);
	tok[n++] = '.';
	n += b64url((const unsigned char *)payload, strlen(payload), tok + n);
	HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)tok, n, mac, &maclen);
	tok[n++] = '.';
	b64url(mac, maclen, tok + n);
	snprintf(out, cap, "Bearer %s", tok);
	return out;
}

static int status_ok(unsigned s)
{
	static const unsigned ok[] = { 400, 401, 403, 404, 405, 408, 411, 413, 415, 429, 503 };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (s == ok[i])
			return 1;
	return 0;
}

/* A NUL-terminated copy of a field (NULL, the header absent, when the field is empty). */
static const char *str(const struct fuzz_field *f, char *buf, size_t cap, size_t *len)
{
	if (!f->len) {
		*len = 0;
		return NULL;
	}
	size_t n = f->len < cap - 1 ? f->len : cap - 1;
	memcpy(buf, f->p, n);
	buf[n] = '\0';
	*len = strlen(buf);
	return buf;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_field f[8];
	char path[256], host[300], origin[300], authz[1024], cl[64], ct[128], proto[128], query[1024], good[1024];
	struct adm_request rq;
	struct adm_verdict v, again;

	if (size < 2)
		return 0;
	init_once();
	now_s = T_NOW + (time_t)(serial + 1) * 400;
	uint8_t a = data[0], b = data[1];
	fuzz_split(data + 2, size - 2, f, 8);
	cfg.verify_webhooks = b & 1;
	snprintf(cfg.stats_token, sizeof cfg.stats_token, "%s", b & 2 ? "stats-tok-123456" : "");
	snprintf(cfg.admin_token, sizeof cfg.admin_token, "%s", b & 4 ? "admin-tok-123456" : "");
	int send_good = b & 8;

	memset(&rq, 0, sizeof rq);
	rq.kind = a & 1 ? ADM_HTTP : ADM_UPGRADE;
	rq.method = (enum http_method)((a >> 1) % 3);
	rq.has_body = rq.method != HTTP_GET && (b & 16);
	rq.local = (a >> 3) & 1;
	rq.proxied = (a >> 4) & 1;
	rq.transfer_encoding = (b >> 5) & 1;
	rq.draining = (a >> 5) & 1;
	rq.shutting_down = (a >> 6) & 1 && (b >> 6) & 1;
	rq.calls_open = (a >> 7) & 1 ? 4 : 0;
	addr_parse(rq.local ? "127.0.0.1" : "198.51.100.9", &rq.client);
	rq.client_known = 1;
	rq.path = str(&f[0], path, sizeof path, &rq.path_len);
	rq.host = str(&f[1], host, sizeof host, &rq.host_len);
	rq.origin = str(&f[2], origin, sizeof origin, &rq.origin_len);
	rq.authorization = send_good ? good_token(good, sizeof good) : str(&f[3], authz, sizeof authz, &rq.authorization_len);
	if (send_good)
		rq.authorization_len = strlen(good);
	size_t n;
	rq.content_length = str(&f[4], cl, sizeof cl, &n);
	rq.content_type = str(&f[5], ct, sizeof ct, &n);
	rq.protocol = str(&f[6], proto, sizeof proto, &n);
	rq.query_json = str(&f[7], query, sizeof query, &rq.query_json_len);
	rq.query_nargs = rq.query_json ? 1 : 0;
	rq.now = now_s;
	rq.now_ms = 1000;

	int admit = admission_decide(&adm, &rq, &v);
	FUZZ_CHECK(admit == v.admit);
	if (admit) {
		FUZZ_CHECK(!v.reason && !v.status);
	} else {
		FUZZ_CHECK(status_ok(v.status));
		FUZZ_CHECK(v.reason >= 0 && v.reason < REJECT__COUNT);
		FUZZ_CHECK(v.body && v.body[0]);
		FUZZ_CHECK(!v.json || route_is_admin(v.route));
	}
	int here = rq.local && rq.host && host_is_loopback_name(rq.host, rq.host_len);
	int bearer = rq.authorization && rq.authorization_len > 7 && !strncasecmp(rq.authorization, "Bearer ", 7);
	if (rq.kind == ADM_UPGRADE) {
		if (admit) {
			FUZZ_CHECK(send_good);   /* only a token that verifies gets in */
			FUZZ_CHECK(!rq.shutting_down && rq.calls_open < (uint32_t)cfg.max_calls);
			FUZZ_CHECK(admission_decide(&adm, &rq, &again) == 0 && again.reason == REJECT_REPLAY);
		} else if (send_good && v.reason != REJECT_REPLAY) {
			/* refused before the token was spent: the same token, on a clean request, gets in */
			struct adm_request clean = rq;
			clean.shutting_down = clean.draining = clean.transfer_encoding = 0;
			clean.calls_open = 0;
			clean.path = "/socket";
			clean.path_len = 7;
			clean.origin = NULL;
			clean.protocol = NULL;
			FUZZ_CHECK(admission_decide(&adm, &clean, &again) == 1);
		}
	} else if (admit) {
		FUZZ_CHECK(!rq.transfer_encoding);
		if (route_is_view(v.route))
			FUZZ_CHECK(here || (bearer && cfg.stats_token[0] &&
					    !strcmp(rq.authorization + 7, cfg.stats_token)));
		if (route_is_admin(v.route))
			FUZZ_CHECK((bearer && cfg.admin_token[0] && !strcmp(rq.authorization + 7, cfg.admin_token)) ||
				   (here && !rq.origin));
		if (v.operator_here)
			FUZZ_CHECK(here && !rq.origin);
		if (route_is_webhook(v.route) && cfg.verify_webhooks)
			FUZZ_CHECK(send_good);
		if (v.route == ROUTE_ANSWER && rq.method == HTTP_GET)
			FUZZ_CHECK(!(rq.draining || rq.shutting_down));
	}
	return 0;
}
