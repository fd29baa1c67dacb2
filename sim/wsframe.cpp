/*
 * wsframe.cpp -- RFC 6455 client framing and handshake; see wsframe.h.
 */
#include "wsframe.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

size_t wsf_client_header(uint8_t *out, int opcode, uint64_t len, const uint8_t mask[4])
{
	size_t n = 2;

	out[0] = (uint8_t)(0x80 | (opcode & 0x0f));
	if (len < 126) {
		out[1] = (uint8_t)(0x80 | len);
	} else if (len <= 0xffff) {
		out[1] = 0x80 | 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		n = 4;
	} else {
		out[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
		n = 10;
	}
	memcpy(out + n, mask, 4);
	return n + 4;
}

void wsf_mask_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t mask[4], size_t phase)
{
	size_t i = 0;

	/* eight bytes at a time with the mask rotated to the payload phase */
	uint8_t m8[8];
	for (int k = 0; k < 8; k++)
		m8[k] = mask[(phase + (size_t)k) & 3];
	uint64_t m;
	memcpy(&m, m8, 8);
	for (; i + 8 <= len; i += 8) {
		uint64_t v;
		memcpy(&v, src + i, 8);
		v ^= m;
		memcpy(dst + i, &v, 8);
	}
	for (; i < len; i++)
		dst[i] = src[i] ^ mask[(phase + i) & 3];
}

int wsf_parse_header(const uint8_t *buf, size_t avail, struct wsf_hdr *h)
{
	size_t n = 2;

	if (avail < 2)
		return 0;
	h->fin = buf[0] >> 7;
	h->opcode = buf[0] & 0x0f;
	h->masked = buf[1] >> 7;
	h->len = buf[1] & 0x7f;
	if (buf[0] & 0x70)
		return -1;   /* RSV bits: no extension was negotiated */
	if ((h->opcode > WSF_OP_BINARY && h->opcode < WSF_OP_CLOSE) || h->opcode > WSF_OP_PONG)
		return -1;
	if (h->len == 126) {
		if (avail < 4)
			return 0;
		h->len = (uint64_t)buf[2] << 8 | buf[3];
		n = 4;
	} else if (h->len == 127) {
		if (avail < 10)
			return 0;
		h->len = 0;
		for (int i = 0; i < 8; i++)
			h->len = h->len << 8 | buf[2 + i];
		if (h->len >> 63)
			return -1;
		n = 10;
	}
	if (h->opcode >= WSF_OP_CLOSE && (!h->fin || h->len > 125))
		return -1;   /* control frames: final and at most 125 bytes */
	if (h->masked) {
		if (avail < n + 4)
			return 0;
		memcpy(h->mask, buf + n, 4);
		n += 4;
	}
	return (int)n;
}

void wsf_key(const uint8_t rnd[16], char *out)
{
	EVP_EncodeBlock((unsigned char *)out, rnd, 16);   /* 24 chars + NUL */
}

int wsf_accept(const char *key, char *out)
{
	char buf[WSF_KEY_LEN + sizeof WS_GUID];
	unsigned char sha[SHA_DIGEST_LENGTH];

	int n = snprintf(buf, sizeof buf, "%s%s", key, WS_GUID);
	if (n < 0 || (size_t)n >= sizeof buf)
		return -1;
	if (!SHA1((const unsigned char *)buf, (size_t)n, sha))
		return -1;
	EVP_EncodeBlock((unsigned char *)out, sha, SHA_DIGEST_LENGTH);
	return 0;
}

int wsf_request(char *out, size_t cap, const struct url *u, const char *key, const char *authz)
{
	int n = snprintf(out, cap,
			 "GET %s HTTP/1.1\r\n"
			 "Host: %s\r\n"
			 "Upgrade: websocket\r\n"
			 "Connection: Upgrade\r\n"
			 "Sec-WebSocket-Key: %s\r\n"
			 "Sec-WebSocket-Version: 13\r\n"
			 "User-Agent: caller-sim\r\n"
			 "%s%s%s"
			 "\r\n",
			 u->path, u->host_header, key, authz ? "Authorization: " : "", authz ? authz : "",
			 authz ? "\r\n" : "");
	return (n < 0 || (size_t)n >= cap) ? -1 : n;
}

/* Value of header `name` in the head [p, end) into out; 1 found, 0 not. Trims spaces. */
static int header_value(const char *p, const char *end, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	while (p < end) {
		const char *eol = (const char *)memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
			const char *v = p + nl + 1, *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			size_t n = (size_t)(ve - v) < cap - 1 ? (size_t)(ve - v) : cap - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 1;
		}
		p = eol + 2;
	}
	return 0;
}

/* Does the comma-separated list contain token (case-insensitive)? */
static int has_token(const char *list, const char *token)
{
	size_t tl = strlen(token);

	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		size_t n = strcspn(p, ", \t");
		if (n == tl && !strncasecmp(p, token, tl))
			return 1;
		p += n;
	}
	return 0;
}

int wsf_response(const char *buf, size_t len, const char *key, int *status, char *err, size_t errlen)
{
	char v[128], want[WSF_ACCEPT_LEN + 1], reason[64] = "";
	const char *eol = (const char *)memmem(buf, len, "\r\n", 2);
	int st = 0;

	*status = 0;
	if (!eol) {
		if (len >= WSF_RESPONSE_MAX)
			goto too_long;
		return 0;
	}
	/* "HTTP/1.1 101 Switching Protocols" */
	if ((size_t)(eol - buf) < 12 || strncmp(buf, "HTTP/1.", 7) || buf[8] != ' ' ||
	    sscanf(buf + 9, "%3d", &st) != 1 || st < 100 || st > 599) {
		snprintf(err, errlen, "handshake failed: the reply is not HTTP (%.40s)", buf);
		return -1;
	}
	*status = st;
	if (eol - buf > 13) {
		size_t rn = (size_t)(eol - buf - 13) < sizeof reason - 1 ? (size_t)(eol - buf - 13) : sizeof reason - 1;
		memcpy(reason, buf + 13, rn);
		reason[rn] = '\0';
	}
	if (st != 101) {
		/* the status line is enough to refuse; the body (if any) is not needed */
		snprintf(err, errlen, "handshake refused: HTTP %d%s%s", st, reason[0] ? " " : "", reason);
		return -1;
	}
	{
		const char *end = (const char *)memmem(buf, len, "\r\n\r\n", 4);
		if (!end) {
			if (len >= WSF_RESPONSE_MAX)
				goto too_long;
			return 0;
		}
		const char *h = eol + 2;
		if (!header_value(h, end + 2, "Upgrade", v, sizeof v) || strcasecmp(v, "websocket")) {
			snprintf(err, errlen, "handshake failed: 101 without \"Upgrade: websocket\"");
			return -1;
		}
		if (!header_value(h, end + 2, "Connection", v, sizeof v) || !has_token(v, "upgrade")) {
			snprintf(err, errlen, "handshake failed: 101 without \"Connection: Upgrade\"");
			return -1;
		}
		if (wsf_accept(key, want) || !header_value(h, end + 2, "Sec-WebSocket-Accept", v, sizeof v) ||
		    strcmp(v, want)) {
			snprintf(err, errlen, "handshake failed: wrong or missing Sec-WebSocket-Accept");
			return -1;
		}
		if (header_value(h, end + 2, "Sec-WebSocket-Extensions", v, sizeof v) && v[0]) {
			snprintf(err, errlen, "handshake failed: server chose extension \"%.40s\" that was not offered", v);
			return -1;
		}
		return (int)(end + 4 - buf);
	}
too_long:
	snprintf(err, errlen, "handshake failed: response head over %d bytes", WSF_RESPONSE_MAX);
	return -1;
}
