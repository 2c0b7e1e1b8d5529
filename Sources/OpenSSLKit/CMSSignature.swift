internal import COpenSSL
internal import COpenSSLShims

/// Detached CMS (RFC 5652) signatures, the form in which submitters sign evidence and
/// arbitrators sign awards: the SignedData carries no content, only the signature over the
/// document's bytes, so the document itself never has to enter the ledger.
///
/// Signing uses OpenSSL's CMS engine with `CMS_CADES`, so each SignerInfo carries the
/// contentType, messageDigest and signingTime attributes and the ESS signing-certificate-v2
/// attribute (RFC 5035) that binds the signature to the signer's certificate.
public enum CMSSignature {
    /// Largest signature accepted for parsing: a SignedData with a few certificates is a few KiB.
    public static let maximumBytes = 256 * 1024

    /// A detached SignedData (DER) over `content`, with the signer's certificate and `chain`
    /// included, SHA-256 as the digest.
    public static func signDetached(_ content: [UInt8], certificate: Certificate, key: PrivateKey, chain: [Certificate] = []) throws(OpenSSLError) -> [UInt8] {
        OpenSSLError.clearQueue()
        let flags = UInt32(CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_CADES)
        guard let cms = CMS_sign(nil, nil, nil, nil, flags) else { throw OpenSSLError.drain(.operationFailed, "cannot start a CMS SignedData") }
        defer { CMS_ContentInfo_free(cms) }
        guard CMS_add1_signer(cms, certificate.pointer, key.pointer, EVP_sha256(), flags) != nil else {
            throw OpenSSLError.drain(.operationFailed, "cannot add the signer")
        }
        for extra in chain where CMS_add1_cert(cms, extra.pointer) != 1 {
            throw OpenSSLError.drain(.operationFailed, "cannot include a chain certificate")
        }
        let finished: Int32 = content.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return 0 }
            defer { BIO_free(bio) }
            return CMS_final(cms, bio, nil, flags)
        }
        guard finished == 1 else { throw OpenSSLError.drain(.operationFailed, "cannot sign the content") }
        let encoded = encodeDER { i2d_CMS_ContentInfo(cms, $0) }
        guard !encoded.isEmpty else { throw OpenSSLError.drain(.operationFailed, "cannot encode the SignedData") }
        return encoded
    }

    /// Checks a detached SignedData (DER) against `content`: every signature and message digest
    /// must match. The certificate chain is not judged here (that needs the time the signature
    /// is proven at, which the caller knows); the signers' certificates are returned for that.
    public static func verifyDetached(_ signature: [UInt8], content: [UInt8]) throws(OpenSSLError) -> [Certificate] {
        guard signature.count <= maximumBytes else {
            throw OpenSSLError(code: .malformedInput, reason: "a CMS signature is at most \(maximumBytes) bytes", openSSLErrors: [])
        }
        OpenSSLError.clearQueue()
        guard let cms = decodeDER(signature, { d2i_CMS_ContentInfo(nil, $0, $1) }, free: CMS_ContentInfo_free) else {
            throw OpenSSLError.drain(.malformedInput, "not a DER CMS ContentInfo")
        }
        defer { CMS_ContentInfo_free(cms) }
        guard OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_signed else {
            throw OpenSSLError(code: .malformedInput, reason: "the CMS ContentInfo is not SignedData", openSSLErrors: [])
        }
        guard CMS_is_detached(cms) == 1 else {
            throw OpenSSLError(code: .malformedInput, reason: "the SignedData carries its content; a detached signature is expected", openSSLErrors: [])
        }
        let flags = UInt32(CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY)
        let verified: Int32 = content.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return 0 }
            defer { BIO_free(bio) }
            return CMS_verify(cms, nil, nil, bio, nil, flags)
        }
        guard verified == 1 else { throw OpenSSLError.drain(.operationFailed, "the CMS signature does not verify over this content") }
        guard let signers = CMS_get0_signers(cms) else { throw OpenSSLError.drain(.operationFailed, "the SignedData names no signer certificate") }
        defer { OPENSSL_sk_free(signers) }
        return (0..<notarium_sk_X509_num(signers)).compactMap { index in
            guard let certificate = notarium_sk_X509_value(signers, index), X509_up_ref(certificate) == 1 else { return nil }
            return Certificate(taking: certificate)
        }
    }
}
