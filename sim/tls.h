/*
 * tls.h -- the one OpenSSL client context caller-sim uses for https answer
 * URLs and wss endpoints.
 *
 * Verification is on unless --insecure: the system trust store plus an
 * optional --cafile, and the certificate must name the host we dialled
 * (DNS name, or IP address for a literal). Each connection gets its SSL
 * from tls_client_new(); the context is made once at start-up.
 */
#pragma once
#include <openssl/ssl.h>
#include <stddef.h>

/* NULL with a reason in err on failure. */
SSL_CTX *tls_ctx_create(int insecure, const char *cafile, char *err, size_t errlen);

/*
 * A client SSL on fd for host (SNI for names, name/IP check unless
 * insecure). NULL with err on failure.
 */
SSL *tls_client_new(SSL_CTX *ctx, int fd, const char *host, int insecure, char *err, size_t errlen);

/*
 * Why a handshake or I/O failed, in one line: the verify result when the
 * certificate was refused, else OpenSSL's error queue (which it clears).
 */
void tls_error(SSL *ssl, const char *what, char *err, size_t errlen);
