/*
 * tls_server.h -- TLS for the one listening vhost: OpenSSL through lws.
 *
 * TLS 1.2 and 1.3 only, AEAD suites with forward secrecy (Mozilla
 * "intermediate"), ALPN http/1.1 only (Vonage speaks HTTP/1.1 WebSockets;
 * h2 would need another write discipline for no gain). lws builds the
 * SSL_CTX from what tls_server_info() puts in the creation info and hands
 * it to tls_server_setup() from the OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS
 * callback, where the protocol floor is pinned and the context kept for
 * tls_server_reload() (SIGHUP): the new certificate and key go into that
 * same SSL_CTX, so SSL objects made from then on use them while existing
 * connections keep theirs (OpenSSL copies the pair into each SSL at SSL_new).
 */
#pragma once
#include <libwebsockets.h>

struct server;
struct config;

/* The certificate, key, suites and options, when cfg has TLS; else nothing. */
void tls_server_info(const struct config *cfg, struct lws_context_creation_info *info);

/* OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: `ssl_ctx` is the vhost's SSL_CTX. 0, or 1 to fail. */
int tls_server_setup(struct server *srv, void *ssl_ctx);

/*
 * Load the configured pair again into the live SSL_CTX, after checking it
 * in a scratch one (a half-written or mismatched pair never goes live).
 * Logs what it did. 0, or -1 when the old pair stays in service.
 */
int tls_server_reload(struct server *srv);
