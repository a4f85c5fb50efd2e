// OpenSSL's libssl for TLS links between nodes. Only KonnectHTTP's TLS files use this module.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bio.h>

// Macros over SSL_ctrl and CRYPTO_free, which Swift cannot call.
static inline int konnect_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline void konnect_OPENSSL_free(void *pointer) { OPENSSL_free(pointer); }

// The server asks every client for a certificate and accepts any, also one that does not chain to the
// trusted authority (pinned, self-signed data-plane certificates): the application decides, from
// SSL_get_verify_result, which keeps the chain's verification error.
static inline int konnect_accept_any_certificate(int preverified, X509_STORE_CTX *store) {
    (void)preverified;
    (void)store;
    return 1;
}

static inline void konnect_SSL_CTX_require_client_certificate(SSL_CTX *context) {
    SSL_CTX_set_verify(
        context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, konnect_accept_any_certificate);
}

// What every node-to-node TLS context shares: TLS 1.2 at least; no renegotiation; a peer closing without
// close_notify reads as an end of stream; non-blocking writes may be retried from a moved buffer and
// complete record by record; idle connections give their buffers back.
static inline int konnect_SSL_CTX_configure(SSL_CTX *context) {
    if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1) return 0;
    SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(
        context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    return 1;
}

// BIO_set_retry_read / BIO_set_retry_write / BIO_clear_retry_flags are macros.
static inline void konnect_BIO_set_retry_read(BIO *bio) { BIO_set_retry_read(bio); }
static inline void konnect_BIO_set_retry_write(BIO *bio) { BIO_set_retry_write(bio); }
static inline void konnect_BIO_clear_retry_flags(BIO *bio) { BIO_clear_retry_flags(bio); }
