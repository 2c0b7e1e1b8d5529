// Static inline wrappers for OpenSSL's function-like macros and variadic functions, which Swift
// cannot import. Only OpenSSLKit uses these; add one here when a wrapper needs another macro.
#ifndef NOTARIUM_COPENSSL_SHIMS_H
#define NOTARIUM_COPENSSL_SHIMS_H

#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/ocsp.h>
#include <openssl/safestack.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/ess.h>
#include <openssl/err.h>
#include <openssl/cms.h>

// MARK: STACK_OF(X509)
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

// MARK: STACK_OF(X509_EXTENSION), GENERAL_NAMES, X509_REVOKED
static inline int notarium_sk_X509_EXTENSION_num(const STACK_OF(X509_EXTENSION) *stack) {
    return sk_X509_EXTENSION_num(stack);
}
static inline X509_EXTENSION *notarium_sk_X509_EXTENSION_value(const STACK_OF(X509_EXTENSION) *stack, int index) {
    return sk_X509_EXTENSION_value(stack, index);
}
static inline STACK_OF(X509_EXTENSION) *notarium_sk_X509_EXTENSION_new_null(void) { return sk_X509_EXTENSION_new_null(); }
static inline int notarium_sk_X509_EXTENSION_push(STACK_OF(X509_EXTENSION) *stack, X509_EXTENSION *item) {
    return sk_X509_EXTENSION_push(stack, item);
}
static inline void notarium_sk_X509_EXTENSION_pop_free(STACK_OF(X509_EXTENSION) *stack) {
    sk_X509_EXTENSION_pop_free(stack, X509_EXTENSION_free);
}
static inline int notarium_sk_GENERAL_NAME_num(const GENERAL_NAMES *names) { return sk_GENERAL_NAME_num(names); }
static inline GENERAL_NAME *notarium_sk_GENERAL_NAME_value(const GENERAL_NAMES *names, int index) {
    return sk_GENERAL_NAME_value(names, index);
}
static inline int notarium_sk_X509_REVOKED_num(const STACK_OF(X509_REVOKED) *stack) {
    return sk_X509_REVOKED_num(stack);
}
static inline X509_REVOKED *notarium_sk_X509_REVOKED_value(const STACK_OF(X509_REVOKED) *stack, int index) {
    return sk_X509_REVOKED_value(stack, index);
}

// MARK: STACK_OF(PKCS7_SIGNER_INFO)
static inline int notarium_sk_PKCS7_SIGNER_INFO_num(const STACK_OF(PKCS7_SIGNER_INFO) *stack) { return sk_PKCS7_SIGNER_INFO_num(stack); }
static inline PKCS7_SIGNER_INFO *notarium_sk_PKCS7_SIGNER_INFO_value(const STACK_OF(PKCS7_SIGNER_INFO) *stack, int index) {
    return sk_PKCS7_SIGNER_INFO_value(stack, index);
}

static inline int notarium_sk_X509_ALGOR_num(const STACK_OF(X509_ALGOR) *stack) { return sk_X509_ALGOR_num(stack); }
static inline X509_ALGOR *notarium_sk_X509_ALGOR_value(const STACK_OF(X509_ALGOR) *stack, int index) { return sk_X509_ALGOR_value(stack, index); }

// MARK: STACK_OF(CMS_SignerInfo)
static inline int notarium_sk_CMS_SignerInfo_num(const STACK_OF(CMS_SignerInfo) *stack) { return sk_CMS_SignerInfo_num(stack); }
static inline CMS_SignerInfo *notarium_sk_CMS_SignerInfo_value(const STACK_OF(CMS_SignerInfo) *stack, int index) {
    return sk_CMS_SignerInfo_value(stack, index);
}

// MARK: Key generation (EVP_PKEY_Q_keygen is variadic)
static inline EVP_PKEY *notarium_generate_ec_key(const char *curve) {
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
}
static inline EVP_PKEY *notarium_generate_rsa_key(size_t bits) {
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
}
static inline EVP_PKEY *notarium_generate_ed25519_key(void) {
    return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

/// RFC 2253 name printing (XN_FLAG_RFC2253, an OR of macros Swift does not import), but with
/// non-ASCII characters left as UTF-8 rather than escaped as \C3\BC: names are for people.
static inline unsigned long notarium_XN_FLAG_RFC2253(void) { return XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB; }

// MARK: RFC 3161 tokens: PKCS7 fields that have no accessor function

static inline int notarium_sk_ASN1_UTF8STRING_num(const STACK_OF(ASN1_UTF8STRING) *stack) { return sk_ASN1_UTF8STRING_num(stack); }
static inline ASN1_UTF8STRING *notarium_sk_ASN1_UTF8STRING_value(const STACK_OF(ASN1_UTF8STRING) *stack, int index) {
    return sk_ASN1_UTF8STRING_value(stack, index);
}

/// SignedData version 3, which RFC 5652 §5.1 requires when eContentType is not id-data.
static inline int notarium_pkcs7_set_signed_version(PKCS7 *p7, long version) {
    return ASN1_INTEGER_set(p7->d.sign->version, version);
}

/// The token's encapContentInfo: { id-ct-TSTInfo, [0] EXPLICIT OCTET STRING tstInfo }
/// (RFC 3161 §2.4.2). Copies `der`.
int notarium_pkcs7_set_tstinfo_content(PKCS7 *p7, const unsigned char *der, int length);

/// An unsigned TimeStampResp with status rejection, `failure` (a TS_INFO_* bit) and `text`,
/// made by OpenSSL's own response engine (TS_STATUS_INFO has no public setter for failInfo).
TS_RESP *notarium_ts_failure_response(int failure, const char *text);

#endif
