/*
 * tls_server.cpp -- see tls_server.h.
 */
#include "tls_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "server_state.h"

/* Mozilla "intermediate" TLS 1.2 suites; TLS 1.3 uses OpenSSL's defaults. */
static const char TLS12_CIPHERS[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

void tls_server_info(const struct config *cfg, struct lws_context_creation_info *info)
{
	info->alpn = "http/1.1";
	if (!cfg->tls_cert[0])
		return;
	info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info->ssl_cert_filepath = cfg->tls_cert;
	info->ssl_private_key_filepath = cfg->tls_key;
	info->ssl_cipher_list = TLS12_CIPHERS;
	info->ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_RENEGOTIATION;
}

int tls_server_setup(struct server *srv, void *ssl_ctx)
{
	/* lws only sets NO_SSLv2/3; pin the floor here as well as via options */
	if (ssl_ctx && !SSL_CTX_set_min_proto_version((SSL_CTX *)ssl_ctx, TLS1_2_VERSION)) {
		log_err("TLS: cannot set minimum protocol version");
		return 1;
	}
	srv->tls = ssl_ctx;   /* kept for the SIGHUP reload */
	return 0;
}

static void log_tls_errors(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	ERR_error_string_n(e, buf, sizeof buf);
	log_err("TLS reload: %s: %s; still serving the previous certificate", what, e ? buf : "?");
	ERR_clear_error();
}

/*
 * Load the pair into a scratch SSL_CTX first, so a half-written or
 * mismatched pair never reaches the live one; then install certificate,
 * chain and key in one call, which checks they belong together. A new key
 * type would only fill a second slot next to the old pair (OpenSSL keeps one
 * per type and may still pick the old one), so that needs a restart.
 */
int tls_server_reload(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	SSL_CTX *live = (SSL_CTX *)srv->tls;
	SSL_CTX *fresh;
	STACK_OF(X509) *chain = NULL;
	X509 *x;
	EVP_PKEY *k, *old;
	int ok = 0;

	if (!live) {
		log_info("reload: no TLS configured, nothing to reload");
		return 0;
	}
	ERR_clear_error();
	fresh = SSL_CTX_new(TLS_server_method());
	if (!fresh) {
		log_tls_errors("out of memory");
		return -1;
	}
	if (SSL_CTX_use_certificate_chain_file(fresh, cfg->tls_cert) != 1)
		log_tls_errors(cfg->tls_cert);
	else if (SSL_CTX_use_PrivateKey_file(fresh, cfg->tls_key, SSL_FILETYPE_PEM) != 1)
		log_tls_errors(cfg->tls_key);
	else if (SSL_CTX_check_private_key(fresh) != 1)
		log_tls_errors("the key does not match the certificate");
	else
		ok = 1;
	x = SSL_CTX_get0_certificate(fresh);
	k = SSL_CTX_get0_privatekey(fresh);
	old = SSL_CTX_get0_privatekey(live);
	if (ok && old && EVP_PKEY_get_base_id(old) != EVP_PKEY_get_base_id(k)) {
		log_err("TLS reload: the new key is of another type (%s, was %s); restart to change it; "
			"still serving the previous certificate", EVP_PKEY_get0_type_name(k),
			EVP_PKEY_get0_type_name(old));
		ok = 0;
	}
	if (ok && (!SSL_CTX_get0_chain_certs(fresh, &chain) ||
		   SSL_CTX_use_cert_and_key(live, x, k, chain, 1) != 1)) {
		log_tls_errors("cannot install the new pair");
		ok = 0;
	}
	if (ok) {
		char subject[256], serial[80] = "?", until[64] = "?";
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
		char *hex = bn ? BN_bn2hex(bn) : NULL;
		BIO *mem = BIO_new(BIO_s_mem());

		X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof subject);
		if (hex)
			snprintf(serial, sizeof serial, "%s", hex);
		if (mem && ASN1_TIME_print(mem, X509_get0_notAfter(x)) > 0) {
			int n = BIO_read(mem, until, sizeof until - 1);
			until[n > 0 ? n : 0] = '\0';
		}
		log_info("TLS reload: new connections get %s serial %s, valid until %s", subject, serial, until);
		OPENSSL_free(hex);
		BN_free(bn);
		BIO_free(mem);
	}
	SSL_CTX_free(fresh);
	return ok ? 0 : -1;
}

