// Static inline wrappers live in include/COpenSSLShims.h; the two RFC 3161 helpers declared there
// (a token's encapsulated TSTInfo, a failure response) are defined here.
#include "COpenSSLShims.h"

int notarium_pkcs7_set_tstinfo_content(PKCS7 *p7, const unsigned char *der, int length) {
    PKCS7 *inner = PKCS7_new();
    ASN1_OCTET_STRING *octets = ASN1_OCTET_STRING_new();
    ASN1_TYPE *any = ASN1_TYPE_new();
    if (inner == NULL || octets == NULL || any == NULL || !ASN1_OCTET_STRING_set(octets, der, length)) {
        PKCS7_free(inner);
        ASN1_OCTET_STRING_free(octets);
        ASN1_TYPE_free(any);
        return 0;
    }
    ASN1_TYPE_set(any, V_ASN1_OCTET_STRING, octets);
    inner->type = OBJ_nid2obj(NID_id_smime_ct_TSTInfo);
    inner->d.other = any;
    if (!PKCS7_set_content(p7, inner)) {
        PKCS7_free(inner);
        return 0;
    }
    return 1;
}

struct notarium_ts_failure {
    int failure;
    const char *text;
};

/// The serial-number callback is the first thing TS_RESP_create_response asks after it has
/// accepted the request: it records the failure and returns no serial, which makes the engine
/// stop and answer with exactly that status.
static ASN1_INTEGER *notarium_ts_inject_failure(TS_RESP_CTX *context, void *data) {
    const struct notarium_ts_failure *failure = data;
    TS_RESP_CTX_set_status_info(context, TS_STATUS_REJECTION, failure->text);
    TS_RESP_CTX_add_failure_info(context, failure->failure);
    return NULL;
}

TS_RESP *notarium_ts_failure_response(int failure, const char *text) {
    // A well-formed request for the engine to accept before the callback rejects it.
    static const unsigned char zeros[32] = {0};
    TS_RESP *response = NULL;
    TS_REQ *request = TS_REQ_new();
    TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new();
    X509_ALGOR *algorithm = X509_ALGOR_new();
    TS_RESP_CTX *context = TS_RESP_CTX_new();
    ASN1_OBJECT *policy = OBJ_txt2obj("1.3.6.1.4.1.0", 1);
    BIO *input = NULL;
    unsigned char *der = NULL;
    int length;
    struct notarium_ts_failure data = { failure, text };
    if (request == NULL || imprint == NULL || algorithm == NULL || context == NULL || policy == NULL) goto end;
    if (!X509_ALGOR_set0(algorithm, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL)
        || !TS_MSG_IMPRINT_set_algo(imprint, algorithm)
        || !TS_MSG_IMPRINT_set_msg(imprint, (unsigned char *)zeros, sizeof zeros)
        || !TS_REQ_set_version(request, 1)
        || !TS_REQ_set_msg_imprint(request, imprint)) goto end;
    if ((length = i2d_TS_REQ(request, &der)) <= 0) goto end;
    if ((input = BIO_new_mem_buf(der, length)) == NULL) goto end;
    if (!TS_RESP_CTX_set_def_policy(context, policy) || !TS_RESP_CTX_add_md(context, EVP_sha256())) goto end;
    TS_RESP_CTX_set_serial_cb(context, notarium_ts_inject_failure, &data);
    response = TS_RESP_create_response(context, input);
end:
    ERR_clear_error();
    BIO_free(input);
    OPENSSL_free(der);
    ASN1_OBJECT_free(policy);
    TS_RESP_CTX_free(context);
    X509_ALGOR_free(algorithm);
    TS_MSG_IMPRINT_free(imprint);
    TS_REQ_free(request);
    return response;
}
