// Static inline wrappers for OpenSSL's function-like macros, which Swift cannot import.
// Only OpenSSLKit uses these; add one here when a wrapper needs another macro.
#ifndef NOTARIUM_COPENSSL_SHIMS_H
#define NOTARIUM_COPENSSL_SHIMS_H

#include <openssl/x509.h>
#include <openssl/safestack.h>

static inline STACK_OF(X509) *notarium_sk_X509_new_null(void) { return sk_X509_new_null(); }
static inline int notarium_sk_X509_push(STACK_OF(X509) *stack, X509 *certificate) {
    return sk_X509_push(stack, certificate);
}
static inline int notarium_sk_X509_num(const STACK_OF(X509) *stack) { return sk_X509_num(stack); }
static inline X509 *notarium_sk_X509_value(const STACK_OF(X509) *stack, int index) {
    return sk_X509_value(stack, index);
}
/// Frees the stack and every certificate it holds.
static inline void notarium_sk_X509_pop_free(STACK_OF(X509) *stack) { sk_X509_pop_free(stack, X509_free); }

/// XN_FLAG_RFC2253 is an OR of other macros, which Swift does not import.
static inline unsigned long notarium_XN_FLAG_RFC2253(void) { return XN_FLAG_RFC2253; }

#endif
