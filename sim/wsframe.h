/*
 * wsframe.h -- the client half of RFC 6455 that caller-sim needs, as pure
 * functions over caller buffers.
 *
 * Handshake: wsf_request() renders the upgrade GET (with Authorization when
 * given); wsf_response() reads the server's reply as bytes arrive and either
 * accepts it (101 with the right Sec-WebSocket-Accept) or says why not, e.g.
 * "handshake refused: HTTP 401 Unauthorized". Frames: a client frame is a
 * header (wsf_client_header) plus a payload XORed with a 4-byte mask (the
 * RFC requires masking client frames); server frames are unmasked and are
 * read with wsf_parse_header(). No I/O and no allocation: the load engine
 * calls these per frame.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "url.h"

#define WSF_OP_CONT   0x0
#define WSF_OP_TEXT   0x1
#define WSF_OP_BINARY 0x2
#define WSF_OP_CLOSE  0x8
#define WSF_OP_PING   0x9
#define WSF_OP_PONG   0xA

#define WSF_CLIENT_HDR_MAX 14      /* 2 + 8 (64-bit length) + 4 (mask) */
#define WSF_KEY_LEN        24      /* base64 of 16 bytes */
#define WSF_ACCEPT_LEN     28      /* base64 of a SHA-1 */
#define WSF_RESPONSE_MAX   4096    /* a longer response head is refused */

/*
 * Header of a final, masked client frame carrying len payload bytes.
 * Writes 6, 8 or 14 bytes into out and returns that count.
 */
size_t wsf_client_header(uint8_t *out, int opcode, uint64_t len, const uint8_t mask[4]);

/*
 * dst[i] = src[i] ^ mask[(i + phase) % 4] for len bytes (dst may equal src).
 * phase is the payload offset of src[0], for payloads masked in pieces.
 */
void wsf_mask_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t mask[4], size_t phase);

struct wsf_hdr {
	int      fin;
	int      opcode;
	int      masked;
	uint8_t  mask[4];
	uint64_t len;              /* payload bytes */
};

/*
 * Parse the frame header at buf (avail bytes). Returns the header length
 * (2..14), 0 when more bytes are needed, or -1 for a header no server may
 * send (reserved bits, unknown opcode, fragmented or oversized control
 * frame, 64-bit length with the top bit set).
 */
int wsf_parse_header(const uint8_t *buf, size_t avail, struct wsf_hdr *h);

/* Sec-WebSocket-Key from 16 random bytes into out[WSF_KEY_LEN + 1]. */
void wsf_key(const uint8_t rnd[16], char *out);

/* The Sec-WebSocket-Accept a server must answer to key, into out[WSF_ACCEPT_LEN + 1]. 0 or -1. */
int wsf_accept(const char *key, char *out);

/*
 * The upgrade request for u with key; authz (NULL = none) becomes the
 * Authorization header value. Returns its length, or -1 if cap is too small.
 */
int wsf_request(char *out, size_t cap, const struct url *u, const char *key, const char *authz);

/*
 * Look at the first len bytes the server sent. Returns the length of the
 * response head (through the blank line) when it is a valid 101 for key;
 * 0 when the head is not complete yet; -1 with a one-line reason in err
 * otherwise. *status gets the HTTP status once the status line is known
 * (else 0).
 */
int wsf_response(const char *buf, size_t len, const char *key, int *status, char *err, size_t errlen);
