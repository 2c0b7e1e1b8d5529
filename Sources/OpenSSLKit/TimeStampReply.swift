internal import COpenSSL
internal import COpenSSLShims

/// An RFC 3161 TimeStampResp or a bare TimeStampToken, read back: what `notarium ts show`
/// prints and `notarium ts verify` checks. Owns the parsed `PKCS7` token and its `TS_TST_INFO`.
public final class TimeStampReply: @unchecked Sendable {
    /// PKIStatus: 0 granted, 1 grantedWithMods, 2 rejection, 3 waiting, 4 revocationWarning,
    /// 5 revocationNotification. A bare token reads as granted.
    public let status: Int
    public let failures: [TimeStampFailure]
    public let statusText: [String]
    let token: UnsafeMutablePointer<PKCS7>?
    let info: OpaquePointer?

    deinit {
        if let token { PKCS7_free(token) }
        if let info { TS_TST_INFO_free(info) }
    }

    /// Reads a DER TimeStampResp, or a DER TimeStampToken (a CMS ContentInfo) when the bytes
    /// are not a response.
    public init(derEncoded bytes: [UInt8]) throws(OpenSSLError) {
        OpenSSLError.clearQueue()
        if let response = decodeDER(bytes, { d2i_TS_RESP(nil, $0, $1) }, free: TS_RESP_free) {
            defer { TS_RESP_free(response) }
            let statusInfo = TS_RESP_get_status_info(response)
            status = Int(ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(statusInfo)))
            if let bits = TS_STATUS_INFO_get0_failure_info(statusInfo) {
                failures = TimeStampFailure.allCases.filter { ASN1_BIT_STRING_get_bit(bits, $0.rawValue) == 1 }
            } else {
                failures = []
            }
            var texts: [String] = []
            if let strings = TS_STATUS_INFO_get0_text(statusInfo) {
                for index in 0..<notarium_sk_ASN1_UTF8STRING_num(strings) {
                    if let string = notarium_sk_ASN1_UTF8STRING_value(strings, index) {
                        texts.append(String(decoding: contentBytes(of: string), as: UTF8.self))
                    }
                }
            }
            statusText = texts
            if let token = TS_RESP_get_token(response), let info = TS_RESP_get_tst_info(response) {
                self.token = PKCS7_dup(token)
                self.info = TS_TST_INFO_dup(info)
            } else {
                self.token = nil
                self.info = nil
            }
            return
        }
        ERR_clear_error()
        guard let (token, info) = try Self.parseToken(bytes) else {
            throw OpenSSLError.drain(.malformedInput, "neither a DER TimeStampResp nor a DER TimeStampToken")
        }
        self.token = token
        self.info = info
        status = 0
        failures = []
        statusText = []
    }

    public var isGranted: Bool { (status == 0 || status == 1) && token != nil }

    /// The token alone (ContentInfo), DER: what is stored beside a ledger entry.
    public var tokenBytes: [UInt8] {
        guard let token else { return [] }
        return encodeDER { i2d_PKCS7(token, $0) }
    }

    public var policyOID: String { info.map { objectText(TS_TST_INFO_get_policy_id($0)) } ?? "" }

    public var hash: TimeStampHash? {
        guard let info, let imprint = TS_TST_INFO_get_msg_imprint(info) else { return nil }
        var object: OpaquePointer? = nil
        X509_ALGOR_get0(&object, nil, nil, TS_MSG_IMPRINT_get_algo(imprint))
        return TimeStampHash(nid: OBJ_obj2nid(object))
    }

    public var imprint: [UInt8] {
        guard let info, let imprint = TS_TST_INFO_get_msg_imprint(info), let message = TS_MSG_IMPRINT_get_msg(imprint) else { return [] }
        return contentBytes(of: message)
    }

    public var serial: [UInt8] { info.map { integerBytes(TS_TST_INFO_get_serial($0)) } ?? [] }

    public var nonce: [UInt8]? {
        guard let info, let nonce = TS_TST_INFO_get_nonce(info) else { return nil }
        return integerBytes(nonce)
    }

    /// genTime in milliseconds since the epoch (finer fractions are cut).
    public var genTime: Int64 {
        guard let info, let time = TS_TST_INFO_get_time(info) else { return 0 }
        let text = String(decoding: contentBytes(of: time), as: UTF8.self)
        let wholeSeconds = seconds(UnsafePointer(time))
        guard let dot = text.firstIndex(of: ".") else { return wholeSeconds * 1000 }
        let digits = text[text.index(after: dot)...].prefix { $0.isNumber }
        let millis = Int64((digits + "000").prefix(3)) ?? 0
        return wholeSeconds * 1000 + millis
    }

    /// genTime exactly as encoded ("20261123051200.123Z").
    public var genTimeText: String {
        guard let info, let time = TS_TST_INFO_get_time(info) else { return "" }
        return String(decoding: contentBytes(of: time), as: UTF8.self)
    }

    /// The TSA name in TSTInfo, if present: a directoryName in RFC 2253 form
    /// ("CN=…,O=…"), any other kind of name as OpenSSL prints it ("DNS:…").
    public var tsaName: String? {
        guard let info, let name = TS_TST_INFO_get_tsa(info) else { return nil }
        var type: Int32 = 0
        if let value = GENERAL_NAME_get0_value(name, &type), type == GEN_DIRNAME {
            return Certificate.format(OpaquePointer(value))
        }
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        GENERAL_NAME_print(bio, name)
        return readAll(bio)
    }

    /// The certificates the token carries, in order.
    public var certificates: [Certificate] {
        guard let token, let signed = token.pointee.d.sign, let stack = signed.pointee.cert else { return [] }
        return (0..<notarium_sk_X509_num(stack)).compactMap { index in
            guard let certificate = notarium_sk_X509_value(stack, index) else { return nil }
            X509_up_ref(certificate)
            return Certificate(taking: certificate)
        }
    }

    /// The certificate that signed the token, found by its SignerInfo's identifier among the
    /// token's own certificates and `others`; nil when neither holds it.
    public func signerCertificate(among others: [Certificate]) -> Certificate? {
        guard let token, let stack = notarium_sk_X509_new_null() else { return nil }
        defer { notarium_sk_X509_pop_free(stack) }
        for certificate in others where X509_up_ref(certificate.pointer) == 1 {
            notarium_sk_X509_push(stack, certificate.pointer)
        }
        OpenSSLError.clearQueue()
        defer { OpenSSLError.clearQueue() }
        guard let signers = PKCS7_get0_signers(token, stack, 0) else { return nil }
        defer { OPENSSL_sk_free(signers) }
        guard notarium_sk_X509_num(signers) == 1, let signer = notarium_sk_X509_value(signers, 0), X509_up_ref(signer) == 1 else { return nil }
        return Certificate(taking: signer)
    }

    /// Whether the SignerInfo's unsigned fields say exactly what the signer's certificate does:
    /// its sid names the certificate's issuer byte for byte (OpenSSL matches names after
    /// case folding) and serial, and its signatureAlgorithm fits the key and digest (OpenSSL's
    /// token verifier takes the key type from the certificate and never reads the field). No
    /// signature covers these fields; a verifier that lets no byte change unseen checks them.
    public func signerInfoMatches(_ signer: Certificate) -> Bool {
        guard let token, let infos = PKCS7_get_signer_info(token), notarium_sk_PKCS7_SIGNER_INFO_num(infos) == 1,
              let info = notarium_sk_PKCS7_SIGNER_INFO_value(infos, 0), let key = X509_get0_pubkey(signer.pointer) else { return false }
        var digest: UnsafeMutablePointer<X509_ALGOR>? = nil
        var signature: UnsafeMutablePointer<X509_ALGOR>? = nil
        PKCS7_SIGNER_INFO_get0_algs(info, nil, &digest, &signature)
        guard let digest, let signature, let sid = info.pointee.issuer_and_serial else { return false }
        let sidIssuer = encodeDER { i2d_X509_NAME(sid.pointee.issuer, $0) }
        let certificateIssuer = encodeDER { i2d_X509_NAME(X509_get_issuer_name(signer.pointer), $0) }
        guard !sidIssuer.isEmpty, sidIssuer == certificateIssuer, integerBytes(sid.pointee.serial) == signer.serialNumber else { return false }
        // SignedData version 3 and SignerInfo version 1 (RFC 5652 §5.1, §5.3); digestAlgorithms
        // lists exactly the SignerInfo's digest algorithm; its parameters are NULL or absent.
        guard let signed = token.pointee.d.sign, ASN1_INTEGER_get(signed.pointee.version) == 3, ASN1_INTEGER_get(info.pointee.version) == 1 else { return false }
        var parameterType: Int32 = 0
        var parameter: UnsafeRawPointer? = nil
        var object: OpaquePointer? = nil
        X509_ALGOR_get0(&object, &parameterType, &parameter, digest)
        guard parameterType == V_ASN1_NULL || parameterType == V_ASN1_UNDEF else { return false }
        let digestDER = encodeDER { i2d_X509_ALGOR(digest, $0) }
        guard let algorithms = signed.pointee.md_algs, notarium_sk_X509_ALGOR_num(algorithms) == 1,
              let listed = notarium_sk_X509_ALGOR_value(algorithms, 0), encodeDER({ i2d_X509_ALGOR(listed, $0) }) == digestDER else { return false }
        let digestNID = OBJ_obj2nid(digest.pointee.algorithm)
        let signatureNID = OBJ_obj2nid(signature.pointee.algorithm)
        let keyType = EVP_PKEY_get_base_id(key)
        // The bare key algorithm (rsaEncryption, id-ecPublicKey, Ed25519) is allowed as RFC 5652
        // §10.1.2 lets it stand for "this key type with the SignerInfo's digest".
        if signatureNID == keyType { return true }
        var hashNID: Int32 = 0
        var keyNID: Int32 = 0
        guard OBJ_find_sigid_algs(signatureNID, &hashNID, &keyNID) == 1 else { return false }
        return keyNID == keyType && (hashNID == NID_undef || hashNID == digestNID)
    }

    /// What `openssl ts -reply -text` prints for the TSTInfo.
    public var text: String {
        guard let info, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        TS_TST_INFO_print_bio(bio, info)
        return readAll(bio)
    }


    /// A bare token (DER ContentInfo) and its TSTInfo, both owned by the caller; nil when the
    /// bytes are not DER CMS at all; throws when they are CMS but carry no TSTInfo.
    static func parseToken(_ bytes: [UInt8]) throws(OpenSSLError) -> (token: UnsafeMutablePointer<PKCS7>, info: OpaquePointer)? {
        // PKCS7 is a public struct, so its pointers are typed; decodeDER deals in opaque ones.
        guard let parsed = decodeDER(bytes, { OpaquePointer(d2i_PKCS7(nil, $0, $1)) }, free: { PKCS7_free(UnsafeMutablePointer($0)) }) else {
            return nil
        }
        let token = UnsafeMutablePointer<PKCS7>(parsed)
        guard let info = PKCS7_to_TS_TST_INFO(token) else {
            PKCS7_free(token)
            throw OpenSSLError.drain(.malformedInput, "a CMS structure, but not a time-stamp token (no TSTInfo inside)")
        }
        return (token, info)
    }

    /// Checks the token with OpenSSL's verifier (`TS_RESP_verify_token`): the imprint equals
    /// `imprint`, the CMS signature and the ESSCertID(v2) bind the signer certificate (found
    /// through SignerInfo's sid, never by position in the bag), and that certificate chains
    /// to one of `trusted` through the token's certificates and `untrusted`, with the TSA
    /// purpose (critical EKU timeStamping), at `time` (seconds; the token's genTime when nil,
    /// so that a certificate that expired after the token still counts).
    public func verify(imprint expected: [UInt8], trusted: [Certificate], untrusted: [Certificate] = [], at time: Int64? = nil) throws(OpenSSLError) {
        guard let token else { throw OpenSSLError(code: .malformedInput, reason: "the response carries no token (status \(status))", openSSLErrors: []) }
        OpenSSLError.clearQueue()
        guard let context = TS_VERIFY_CTX_new(), let store = X509_STORE_new() else {
            throw OpenSSLError.drain(.operationFailed, "cannot allocate a verification context")
        }
        defer { TS_VERIFY_CTX_free(context) }
        for certificate in trusted where X509_STORE_add_cert(store, certificate.pointer) != 1 {
            X509_STORE_free(store)
            throw OpenSSLError.drain(.operationFailed, "cannot add a trust anchor")
        }
        let parameters = X509_STORE_get0_param(store)
        X509_VERIFY_PARAM_set_time(parameters, time_t(time ?? genTime / 1000))
        TS_VERIFY_CTX_set_store(context, store)
        if !untrusted.isEmpty, let stack = notarium_sk_X509_new_null() {
            for certificate in untrusted {
                X509_up_ref(certificate.pointer)
                notarium_sk_X509_push(stack, certificate.pointer)
            }
            TS_VERIFY_CTX_set_certs(context, stack)
        }
        guard let copy = CRYPTO_malloc(max(expected.count, 1), #fileID, #line) else { throw OpenSSLError.drain(.operationFailed, "out of memory") }
        expected.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: expected.count) }
        TS_VERIFY_CTX_set_imprint(context, copy.assumingMemoryBound(to: UInt8.self), Int(expected.count))
        TS_VERIFY_CTX_set_flags(context, Int32(TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT))
        guard TS_RESP_verify_token(context, token) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "the time-stamp token does not verify")
        }
    }
}
