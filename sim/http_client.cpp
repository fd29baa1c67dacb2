/*
 * http_client.cpp -- the answer webhook request through libcurl; see http_client.h.
 */
#include "http_client.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

struct sink {
	char  *buf;
	size_t cap, len;
	int    over;         /* the body did not fit */
	char  *reason;       /* the last status line's reason phrase */
	size_t reason_cap;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = (struct sink *)arg;
	size_t len = size * n;

	if (len >= s->cap - s->len) {
		s->over = 1;
		return 0;   /* libcurl stops with CURLE_WRITE_ERROR */
	}
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return len;
}

/* "HTTP/1.1 200 OK\r\n": keep "OK" (every status line, so the final one wins) */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = (struct sink *)arg;
	size_t len = size * n;

	if (len > 5 && !memcmp(p, "HTTP/", 5)) {
		const char *sp = (const char *)memchr(p, ' ', len);
		sp = sp ? (const char *)memchr(sp + 1, ' ', len - (size_t)(sp + 1 - p)) : NULL;
		size_t k = 0;
		if (sp)
			for (sp++; sp < p + len && *sp != '\r' && *sp != '\n' && k + 1 < s->reason_cap; sp++)
				s->reason[k++] = *sp;
		s->reason[k] = '\0';
	}
	return len;
}

/* --cafile adds to the system's trust store instead of replacing it */
static CURLcode add_cafile(CURL *c, void *ssl_ctx, void *arg)
{
	(void)c;
	return SSL_CTX_load_verify_locations((SSL_CTX *)ssl_ctx, (const char *)arg, NULL) == 1 ? CURLE_OK
												: CURLE_SSL_CACERT_BADFILE;
}

/*
 * One easy handle for every request: libcurl then keeps the connection to
 * the server open between calls (keep-alive) and its CA store loaded. A new
 * handle per call parsed the system trust store again for every https
 * call, about 17 ms each: 1,000 wss calls spent their first 5 s there.
 */
static CURL *handle;

void http_client_cleanup(void)
{
	if (handle)
		curl_easy_cleanup(handle);
	handle = NULL;
}

int http_request(const struct url *u, const char *cafile, int insecure, const char *method,
		 const char *content_type, const char *body, size_t body_len, int timeout_ms,
		 char *buf, size_t cap, struct http_resp *r, char *err, size_t errlen)
{
	char url[URL_HOST_MAX + URL_PATH_MAX + 32], ctype[128], cerr[CURL_ERROR_SIZE] = "";
	struct sink s = { buf, cap, 0, 0, r->reason, sizeof r->reason };
	struct curl_slist *hdrs = NULL;
	long status = 0;
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (!cap) {
		snprintf(err, errlen, "no buffer");
		return -1;
	}
	buf[0] = '\0';
	snprintf(url, sizeof url, "%s://%s%s", u->tls ? "https" : "http", u->host_header, u->path);
	if (handle)
		curl_easy_reset(handle);   /* options back to defaults; connections and caches kept */
	else
		handle = curl_easy_init();
	CURL *c = handle;
	if (!c) {
		snprintf(err, errlen, "libcurl: cannot start");
		return -1;
	}
	/* the Host header and the path exactly as url.cpp split them */
	int bad = curl_easy_setopt(c, CURLOPT_URL, url) || curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) ||
		  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") ||
		  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms) ||
		  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms) ||
		  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr) ||
		  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) || curl_easy_setopt(c, CURLOPT_WRITEDATA, &s) ||
		  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) || curl_easy_setopt(c, CURLOPT_HEADERDATA, &s) ||
		  curl_easy_setopt(c, CURLOPT_USERAGENT, "caller-sim") || curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (!bad && insecure)
		bad = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L) || curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	else if (!bad && cafile)
		bad = curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, add_cafile) ||
		      curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, (void *)cafile);
	if (!bad && !strcmp(method, "POST")) {
		bad = curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "") ||
		      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body ? body_len : 0));
		if (content_type) {
			snprintf(ctype, sizeof ctype, "Content-Type: %s", content_type);
			hdrs = curl_slist_append(hdrs, ctype);
			bad = bad || !hdrs || curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		}
	} else if (!bad && strcmp(method, "GET")) {
		bad = curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	if (bad) {
		snprintf(err, errlen, "libcurl: cannot set the request up");
		goto out;
	}
	CURLcode res;
	res = curl_easy_perform(c);
	if (res != CURLE_OK) {
		if (s.over)
			snprintf(err, errlen, "reply body over %zu bytes", cap - 1);
		else
			snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(res));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	r->status = (int)status;
	r->body = buf;
	r->body_len = s.len;
	rc = 0;
out:
	curl_slist_free_all(hdrs);
	return rc;
}
