/*
 * tls.cpp -- OpenSSL client setup and error text; see tls.h.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

static void queue_error(char *out, size_t cap)
{
	unsigned long e = ERR_get_error();

	if (!e) {
		snprintf(out, cap, "no detail from OpenSSL");
		return;
	}
	ERR_error_string_n(e, out, cap);
	ERR_clear_error();
}

SSL_CTX *tls_ctx_create(int insecure, const char *cafile, char *err, size_t errlen)
{
	char q[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		queue_error(q, sizeof q);
		snprintf(err, errlen, "TLS: cannot create a context: %s", q);
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		queue_error(q, sizeof q);
		snprintf(err, errlen, "TLS: %s", q);
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* writes of whole frames may be taken in part when the socket is full */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (!SSL_CTX_set_default_verify_paths(ctx) ||
	    (cafile && !SSL_CTX_load_verify_locations(ctx, cafile, NULL))) {
		queue_error(q, sizeof q);
		snprintf(err, errlen, "TLS: cannot load %s: %s", cafile ? cafile : "the system trust store", q);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL *tls_client_new(SSL_CTX *ctx, int fd, const char *host, int insecure, char *err, size_t errlen)
{
	unsigned char ip[16];
	int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
	SSL *ssl = SSL_new(ctx);

	if (!ssl || !SSL_set_fd(ssl, fd))
		goto fail;
	/* RFC 6066: SNI carries DNS names only, never address literals */
	if (!is_ip && !SSL_set_tlsext_host_name(ssl, host))
		goto fail;
	if (!insecure) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		if (is_ip ? !X509_VERIFY_PARAM_set1_ip_asc(vp, host) : !SSL_set1_host(ssl, host))
			goto fail;
	}
	return ssl;
fail:
	tls_error(NULL, "TLS setup", err, errlen);
	SSL_free(ssl);
	return NULL;
}

void tls_error(SSL *ssl, const char *what, char *err, size_t errlen)
{
	char q[256];

	if (ssl && SSL_get_verify_result(ssl) != X509_V_OK) {
		ERR_clear_error();
		snprintf(err, errlen, "%s: certificate refused: %s (--insecure accepts it, --cafile trusts a CA)", what,
			 X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
		return;
	}
	queue_error(q, sizeof q);
	snprintf(err, errlen, "%s: %s", what, q);
}
