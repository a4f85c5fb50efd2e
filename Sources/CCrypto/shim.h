#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>

// Macros Swift cannot call, wrapped as functions.

/// A fresh EC key on the NIST P-256 curve (EVP_EC_gen is a variadic macro).
static inline EVP_PKEY *ccrypto_generate_p256_key(void) { return EVP_EC_gen("P-256"); }

/// Frees memory libcrypto allocated (OPENSSL_free is a macro).
static inline void ccrypto_free(void *pointer) { OPENSSL_free(pointer); }
