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
        let signed: Result<[UInt8], OpenSSLError> = content.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else {
                return .failure(OpenSSLError.drain(.operationFailed, "cannot read the content"))
            }
            defer { BIO_free(bio) }
            return Result { () throws(OpenSSLError) in try sign(bio, what: "the content", certificate: certificate, key: key, chain: chain) }
        }
        return try signed.get()
    }

    /// A detached SignedData over the file at `path`, streamed through a file BIO, so a large
    /// document is never held in memory.
    public static func signDetached(contentsOf path: String, certificate: Certificate, key: PrivateKey, chain: [Certificate] = []) throws(OpenSSLError) -> [UInt8] {
        OpenSSLError.clearQueue()
        guard let bio = BIO_new_file(path, "rb") else { throw OpenSSLError.drain(.malformedInput, "cannot open \(path)") }
        defer { BIO_free(bio) }
        return try sign(bio, what: path, certificate: certificate, key: key, chain: chain)
    }

    /// The one signing path: OpenSSL's CMS engine reads the content from `bio`.
    private static func sign(_ bio: OpaquePointer, what: String, certificate: Certificate, key: PrivateKey, chain: [Certificate]) throws(OpenSSLError) -> [UInt8] {
        let flags = UInt32(CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_CADES)
        guard let cms = CMS_sign(nil, nil, nil, nil, flags) else { throw OpenSSLError.drain(.operationFailed, "cannot start a CMS SignedData") }
        defer { CMS_ContentInfo_free(cms) }
        guard CMS_add1_signer(cms, certificate.pointer, key.pointer, EVP_sha256(), flags) != nil else {
            throw OpenSSLError.drain(.operationFailed, "cannot add the signer (does the key match the certificate?)")
        }
        for extra in chain where CMS_add1_cert(cms, extra.pointer) != 1 {
            throw OpenSSLError.drain(.operationFailed, "cannot include a chain certificate")
        }
        guard CMS_final(cms, bio, nil, flags) == 1 else { throw OpenSSLError.drain(.operationFailed, "cannot sign \(what)") }
        let encoded = encodeDER { i2d_CMS_ContentInfo(cms, $0) }
        guard !encoded.isEmpty else { throw OpenSSLError.drain(.operationFailed, "cannot encode the SignedData") }
        return encoded
    }

    /// Parses a detached SignedData, refusing what is too large, not CMS, not SignedData or
    /// not detached. The caller frees the result with `CMS_ContentInfo_free`.
    private static func parseDetached(_ signature: [UInt8]) throws(OpenSSLError) -> OpaquePointer {
        guard signature.count <= maximumBytes else {
            throw OpenSSLError(code: .malformedInput, reason: "a CMS signature is at most \(maximumBytes) bytes", openSSLErrors: [])
        }
        OpenSSLError.clearQueue()
        guard let cms = decodeDER(signature, { d2i_CMS_ContentInfo(nil, $0, $1) }, free: CMS_ContentInfo_free) else {
            throw OpenSSLError.drain(.malformedInput, "not a DER CMS ContentInfo")
        }
        guard OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_signed else {
            CMS_ContentInfo_free(cms)
            throw OpenSSLError(code: .malformedInput, reason: "the CMS ContentInfo is not SignedData", openSSLErrors: [])
        }
        guard CMS_is_detached(cms) == 1 else {
            CMS_ContentInfo_free(cms)
            throw OpenSSLError(code: .malformedInput, reason: "the SignedData carries its content; a detached signature is expected", openSSLErrors: [])
        }
        return cms
    }

    /// Checks a detached SignedData (DER) against `content`: every signature and message digest
    /// must match. The certificate chain is not judged here (that needs the time the signature
    /// is proven at, which the caller knows); the signers' certificates are returned for that.
    public static func verifyDetached(_ signature: [UInt8], content: [UInt8]) throws(OpenSSLError) -> [Certificate] {
        let cms = try parseDetached(signature)
        defer { CMS_ContentInfo_free(cms) }
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

    /// Checks every SignerInfo of a detached SignedData without the content: the signature over
    /// the signed attributes, and the ESS signing-certificate(-v2) attribute that binds it to
    /// the signer's certificate (RFC 5035). The content is then bound by comparing the returned
    /// `messageDigest` with the document's digest, which the caller computes once, streaming,
    /// for every use. A signature without signed attributes is refused: nothing would then
    /// bind the signer's certificate or the signing time.
    public static func verifySignedAttributes(_ signature: [UInt8]) throws(OpenSSLError) -> [CMSSignerFacts] {
        let cms = try parseDetached(signature)
        defer { CMS_ContentInfo_free(cms) }
        guard let infos = CMS_get0_SignerInfos(cms), notarium_sk_CMS_SignerInfo_num(infos) > 0 else {
            throw OpenSSLError(code: .malformedInput, reason: "the SignedData has no SignerInfo", openSSLErrors: [])
        }
        // Matches each SignerInfo's sid against the certificates inside the SignedData.
        guard CMS_set1_signers_certs(cms, nil, 0) >= 0 else {
            throw OpenSSLError.drain(.operationFailed, "a signer's certificate is not in the SignedData")
        }
        var facts: [CMSSignerFacts] = []
        for index in 0..<notarium_sk_CMS_SignerInfo_num(infos) {
            guard let info = notarium_sk_CMS_SignerInfo_value(infos, index) else { continue }
            var signer: OpaquePointer? = nil
            var digestAlgorithm: UnsafeMutablePointer<X509_ALGOR>? = nil
            CMS_SignerInfo_get0_algs(info, nil, &signer, &digestAlgorithm, nil)
            guard let signer else { throw OpenSSLError(code: .operationFailed, reason: "SignerInfo \(Int(index) + 1) names a certificate the SignedData does not carry", openSSLErrors: []) }
            guard CMS_signed_get_attr_count(info) > 0 else {
                throw OpenSSLError(code: .malformedInput, reason: "SignerInfo \(Int(index) + 1) has no signed attributes", openSSLErrors: [])
            }
            guard CMS_SignerInfo_verify(info) == 1 else {
                throw OpenSSLError.drain(.operationFailed, "the signature of SignerInfo \(Int(index) + 1) does not verify")
            }
            guard let digestPointer = CMS_signed_get0_data_by_OBJ(info, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, Int32(V_ASN1_OCTET_STRING)) else {
                throw OpenSSLError(code: .malformedInput, reason: "SignerInfo \(Int(index) + 1) has no messageDigest attribute", openSSLErrors: [])
            }
            let messageDigest = contentBytes(of: digestPointer.assumingMemoryBound(to: ASN1_STRING.self))
            try checkSigningCertificate(info, signer: signer, index: Int(index) + 1)
            var algorithmObject: OpaquePointer? = nil
            if let digestAlgorithm {
                var parameterType: Int32 = 0
                var parameter: UnsafeRawPointer? = nil
                X509_ALGOR_get0(&algorithmObject, &parameterType, &parameter, digestAlgorithm)
            }
            guard X509_up_ref(signer) == 1 else { throw OpenSSLError.drain(.operationFailed, "cannot reference the signer certificate") }
            facts.append(CMSSignerFacts(
                certificate: Certificate(taking: signer),
                digestAlgorithm: algorithmObject.flatMap { TimeStampHash(nid: OBJ_obj2nid($0)) },
                messageDigest: messageDigest,
                signingTime: signingTime(info)))
        }
        return facts
    }

    /// RFC 5035: the signing-certificate-v2 (or v1) attribute must name the signer's certificate.
    private static func checkSigningCertificate(_ info: OpaquePointer, signer: OpaquePointer, index: Int) throws(OpenSSLError) {
        func attribute(_ nid: Int32) -> [UInt8]? {
            guard let pointer = CMS_signed_get0_data_by_OBJ(info, OBJ_nid2obj(nid), -3, Int32(V_ASN1_SEQUENCE)) else { return nil }
            return contentBytes(of: pointer.assumingMemoryBound(to: ASN1_STRING.self))
        }
        let version2 = attribute(NID_id_smime_aa_signingCertificateV2).flatMap { decodeDER($0, { d2i_ESS_SIGNING_CERT_V2(nil, $0, $1) }, free: ESS_SIGNING_CERT_V2_free) }
        let version1 = attribute(NID_id_smime_aa_signingCertificate).flatMap { decodeDER($0, { d2i_ESS_SIGNING_CERT(nil, $0, $1) }, free: ESS_SIGNING_CERT_free) }
        defer {
            if let version2 { ESS_SIGNING_CERT_V2_free(version2) }
            if let version1 { ESS_SIGNING_CERT_free(version1) }
        }
        guard version1 != nil || version2 != nil else {
            throw OpenSSLError(code: .malformedInput, reason: "SignerInfo \(index) has no signing-certificate attribute binding its certificate", openSSLErrors: [])
        }
        guard let chain = notarium_sk_X509_new_null() else { throw OpenSSLError.drain(.operationFailed, "out of memory") }
        defer { OPENSSL_sk_free(chain) }
        notarium_sk_X509_push(chain, signer)
        guard OSSL_ESS_check_signing_certs(version1, version2, chain, 1) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "SignerInfo \(index)'s signing-certificate attribute names another certificate")
        }
    }

    /// The signingTime attribute (seconds since 1970), if present: the signer's own claim.
    private static func signingTime(_ info: OpaquePointer) -> Int64? {
        let index = CMS_signed_get_attr_by_NID(info, NID_pkcs9_signingTime, -1)
        guard index >= 0, let attribute = CMS_signed_get_attr(info, index), let value = X509_ATTRIBUTE_get0_type(attribute, 0) else { return nil }
        let type = value.pointee.type
        guard type == V_ASN1_UTCTIME || type == V_ASN1_GENERALIZEDTIME, let time = value.pointee.value.asn1_string else { return nil }
        return seconds(UnsafePointer(time))
    }
}

/// What a verified SignerInfo says about itself.
public struct CMSSignerFacts: @unchecked Sendable {
    /// The certificate the SignerInfo's sid and signing-certificate attribute name.
    public let certificate: Certificate
    /// The digest algorithm of `messageDigest`; nil when it is not SHA-256/384/512.
    public let digestAlgorithm: TimeStampHash?
    /// The signed digest of the content.
    public let messageDigest: [UInt8]
    /// The signer's claimed signing time (seconds), from the signed attributes.
    public let signingTime: Int64?
}
