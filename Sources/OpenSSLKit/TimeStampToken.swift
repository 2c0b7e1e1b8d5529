import Foundation
internal import COpenSSL
internal import COpenSSLShims

/// RFC 3161 §2.4.2 PKIFailureInfo: the bit a rejected request's response carries.
public enum TimeStampFailure: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case badAlg = 0
    case badRequest = 2
    case badDataFormat = 5
    case timeNotAvailable = 14
    case unacceptedPolicy = 15
    case unacceptedExtension = 16
    case addInfoNotAvailable = 17
    case systemFailure = 25

    public var description: String {
        switch self {
        case .badAlg: "badAlg"
        case .badRequest: "badRequest"
        case .badDataFormat: "badDataFormat"
        case .timeNotAvailable: "timeNotAvailable"
        case .unacceptedPolicy: "unacceptedPolicy"
        case .unacceptedExtension: "unacceptedExtension"
        case .addInfoNotAvailable: "addInfoNotAvailable"
        case .systemFailure: "systemFailure"
        }
    }
}

/// Makes RFC 3161 time-stamp tokens with one TSA key (RFC 5816: ESSCertIDv2 over SHA-256).
///
/// What every token shares is prepared once here: the encoded signing-certificate attribute,
/// the TSA name, the accuracy and the policy objects. Per token OpenSSL builds the TSTInfo
/// (`TS_TST_INFO`), the SignedData (`PKCS7`) and its SignerInfo, and signs; no DER is
/// assembled by hand. The token carries only the TSA's own certificate (when asked), so its
/// `certificates` SET OF has one member and is trivially sorted, as strict DER requires.
public final class TimeStampSigner: @unchecked Sendable {
    public let certificate: Certificate
    let key: PrivateKey
    /// The DER of SigningCertificateV2 { ESSCertIDv2 { certHash, issuerSerial } }.
    let signingCertificate: UnsafeMutablePointer<ASN1_STRING>
    let tsaName: UnsafeMutablePointer<GENERAL_NAME>?
    let accuracy: OpaquePointer?
    let policies: [String: OpaquePointer]

    /// - Parameters:
    ///   - policies: the policy OIDs (dotted) tokens may carry.
    ///   - includeName: put the certificate's subject in TSTInfo's `tsa` field (a
    ///     directoryName), copied from the certificate so that it matches exactly.
    ///   - accuracyMilliseconds: TSTInfo's accuracy; 0 leaves it out.
    public init(certificate: Certificate, key: PrivateKey, policies: [String], includeName: Bool, accuracyMilliseconds: Int) throws(OpenSSLError) {
        OpenSSLError.clearQueue()
        self.certificate = certificate
        self.key = key
        guard let identifier = OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), certificate.pointer, nil, 1) else {
            throw OpenSSLError.drain(.operationFailed, "cannot make the ESSCertIDv2 of the TSA certificate")
        }
        defer { ESS_SIGNING_CERT_V2_free(identifier) }
        let encoded = encodeDER { i2d_ESS_SIGNING_CERT_V2(identifier, $0) }
        guard !encoded.isEmpty, let attribute = ASN1_STRING_type_new(V_ASN1_SEQUENCE), ASN1_STRING_set(attribute, encoded, Int32(encoded.count)) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot encode the signing-certificate attribute")
        }
        signingCertificate = attribute
        var prepared: [String: OpaquePointer] = [:]
        for oid in policies {
            guard let object = OBJ_txt2obj(oid, 1) else {
                prepared.values.forEach { ASN1_OBJECT_free($0) }
                ASN1_STRING_free(attribute)
                throw OpenSSLError.drain(.malformedInput, "\(oid) is not an OID")
            }
            prepared[oid] = object
        }
        self.policies = prepared
        if includeName {
            guard let name = X509_NAME_dup(X509_get_subject_name(certificate.pointer)) else { throw OpenSSLError.drain(.operationFailed, "cannot copy the TSA name") }
            guard let general = GENERAL_NAME_new() else {
                X509_NAME_free(name)
                throw OpenSSLError.drain(.operationFailed, "cannot allocate the TSA name")
            }
            GENERAL_NAME_set0_value(general, GEN_DIRNAME, UnsafeMutableRawPointer(name))
            self.tsaName = general
        } else {
            self.tsaName = nil
        }
        if accuracyMilliseconds > 0, let value = TS_ACCURACY_new() {
            let seconds = ASN1_INTEGER_new(), millis = ASN1_INTEGER_new()
            defer {
                ASN1_INTEGER_free(seconds)
                ASN1_INTEGER_free(millis)
            }
            ASN1_INTEGER_set(seconds, accuracyMilliseconds / 1000)
            ASN1_INTEGER_set(millis, accuracyMilliseconds % 1000)
            // Zero fields are left out: DER omits what the structure does not need.
            if accuracyMilliseconds / 1000 > 0 { TS_ACCURACY_set_seconds(value, seconds) }
            if accuracyMilliseconds % 1000 > 0 { TS_ACCURACY_set_millis(value, millis) }
            accuracy = value
        } else {
            accuracy = nil
        }
    }

    deinit {
        ASN1_STRING_free(signingCertificate)
        policies.values.forEach { ASN1_OBJECT_free($0) }
        if let tsaName { GENERAL_NAME_free(tsaName) }
        if let accuracy { TS_ACCURACY_free(accuracy) }
    }

    /// A granted TimeStampResp (DER) for `request`, which the caller has accepted: its
    /// imprint and nonce are echoed, `policy` must be one of `policies`, `serial` is the
    /// big-endian magnitude of a positive serial number, `genTime` milliseconds since the
    /// epoch.
    public func response(to request: TimeStampRequest, policy: String, serial: [UInt8], genTime: Int64) throws(OpenSSLError) -> [UInt8] {
        let (token, info) = try signedToken(for: request, policy: policy, serial: serial, genTime: genTime)
        return try Self.grantedResponse(token: token, info: info)
    }

    /// The token alone (a CMS ContentInfo, DER) for `request`, as `response` would carry it:
    /// what the ledger stores beside an entry or checkpoint.
    public func token(for request: TimeStampRequest, policy: String, serial: [UInt8], genTime: Int64) throws(OpenSSLError) -> [UInt8] {
        let (token, info) = try signedToken(for: request, policy: policy, serial: serial, genTime: genTime)
        defer {
            PKCS7_free(token)
            TS_TST_INFO_free(info)
        }
        let encoded = encodeDER { i2d_PKCS7(token, $0) }
        guard !encoded.isEmpty else { throw OpenSSLError.drain(.operationFailed, "cannot encode the token") }
        return encoded
    }

    /// A granted TimeStampResp around a stored token (DER ContentInfo), so that any RFC 3161
    /// client reads it as if it had just asked: `openssl ts -reply -in`, rfc3161-client.
    public static func grantedResponse(wrapping tokenBytes: [UInt8]) throws(OpenSSLError) -> [UInt8] {
        OpenSSLError.clearQueue()
        guard let (token, info) = try TimeStampReply.parseToken(tokenBytes) else {
            throw OpenSSLError.drain(.malformedInput, "the time-stamp token is not DER CMS SignedData")
        }
        return try grantedResponse(token: token, info: info)
    }

    /// Wraps `token` and `info` (both consumed) in a granted TimeStampResp.
    static func grantedResponse(token: UnsafeMutablePointer<PKCS7>, info: OpaquePointer) throws(OpenSSLError) -> [UInt8] {
        guard let response = TS_RESP_new(), let status = TS_STATUS_INFO_new() else {
            PKCS7_free(token)
            TS_TST_INFO_free(info)
            throw OpenSSLError.drain(.operationFailed, "cannot allocate the response")
        }
        defer { TS_RESP_free(response) }
        defer { TS_STATUS_INFO_free(status) }
        TS_RESP_set_tst_info(response, token, info)
        guard TS_STATUS_INFO_set_status(status, TS_STATUS_GRANTED) == 1, TS_RESP_set_status_info(response, status) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot set the status")
        }
        let encoded = encodeDER { i2d_TS_RESP(response, $0) }
        guard !encoded.isEmpty else { throw OpenSSLError.drain(.operationFailed, "cannot encode the response") }
        return encoded
    }

    /// Builds and signs the token; the caller owns both returned objects.
    func signedToken(for request: TimeStampRequest, policy: String, serial: [UInt8], genTime: Int64) throws(OpenSSLError) -> (token: UnsafeMutablePointer<PKCS7>, info: OpaquePointer) {
        OpenSSLError.clearQueue()
        guard let policyObject = policies[policy] else {
            throw OpenSSLError(code: .operationFailed, reason: "\(policy) is not a policy this signer was prepared for", openSSLErrors: [])
        }
        guard let info = TS_TST_INFO_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate a TSTInfo") }
        var infoOwned = true
        defer { if infoOwned { TS_TST_INFO_free(info) } }
        guard let serialNumber = makeInteger(serial) else { throw OpenSSLError.drain(.operationFailed, "cannot encode the serial number") }
        defer { ASN1_INTEGER_free(serialNumber) }
        guard let time = ASN1_GENERALIZEDTIME_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate genTime") }
        defer { ASN1_GENERALIZEDTIME_free(time) }
        guard ASN1_GENERALIZEDTIME_set_string(time, Self.generalizedTime(milliseconds: genTime)) == 1,
              TS_TST_INFO_set_version(info, 1) == 1,
              TS_TST_INFO_set_policy_id(info, policyObject) == 1,
              TS_TST_INFO_set_msg_imprint(info, TS_REQ_get_msg_imprint(request.pointer)) == 1,
              TS_TST_INFO_set_serial(info, serialNumber) == 1,
              TS_TST_INFO_set_time(info, time) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot fill in the TSTInfo")
        }
        if let accuracy, TS_TST_INFO_set_accuracy(info, accuracy) != 1 { throw OpenSSLError.drain(.operationFailed, "cannot set the accuracy") }
        if let nonce = TS_REQ_get_nonce(request.pointer), TS_TST_INFO_set_nonce(info, nonce) != 1 { throw OpenSSLError.drain(.operationFailed, "cannot echo the nonce") }
        if let tsaName, TS_TST_INFO_set_tsa(info, tsaName) != 1 { throw OpenSSLError.drain(.operationFailed, "cannot set the TSA name") }
        let content = encodeDER { i2d_TS_TST_INFO(info, $0) }
        guard !content.isEmpty else { throw OpenSSLError.drain(.operationFailed, "cannot encode the TSTInfo") }

        guard let token = PKCS7_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate the token") }
        var tokenOwned = true
        defer { if tokenOwned { PKCS7_free(token) } }
        guard PKCS7_set_type(token, NID_pkcs7_signed) == 1, notarium_pkcs7_set_signed_version(token, 3) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot make the SignedData")
        }
        if request.certificateRequested, PKCS7_add_certificate(token, certificate.pointer) != 1 {
            throw OpenSSLError.drain(.operationFailed, "cannot include the TSA certificate")
        }
        guard let signer = PKCS7_add_signature(token, certificate.pointer, key.pointer, EVP_sha256()) else {
            throw OpenSSLError.drain(.operationFailed, "cannot add the SignerInfo")
        }
        guard let attribute = ASN1_STRING_dup(signingCertificate) else { throw OpenSSLError.drain(.operationFailed, "cannot copy the signing-certificate attribute") }
        guard PKCS7_add_signed_attribute(signer, NID_pkcs9_contentType, V_ASN1_OBJECT, UnsafeMutableRawPointer(OBJ_nid2obj(NID_id_smime_ct_TSTInfo))) == 1 else {
            ASN1_STRING_free(attribute)
            throw OpenSSLError.drain(.operationFailed, "cannot add the content-type attribute")
        }
        guard PKCS7_add_signed_attribute(signer, NID_id_smime_aa_signingCertificateV2, V_ASN1_SEQUENCE, UnsafeMutableRawPointer(attribute)) == 1 else {
            ASN1_STRING_free(attribute)
            throw OpenSSLError.drain(.operationFailed, "cannot add the signing-certificate attribute")
        }
        let digest = TimeStampHash.sha256.digest(content)
        guard PKCS7_add1_attrib_digest(signer, digest, Int32(digest.count)) == 1,
              notarium_pkcs7_set_tstinfo_content(token, content, Int32(content.count)) == 1,
              PKCS7_SIGNER_INFO_sign(signer) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot sign the token")
        }

        tokenOwned = false
        infoOwned = false
        return (token, info)
    }

    /// A rejection (RFC 3161 §2.4.2: status rejection, one failInfo bit, a statusString).
    public static func failureResponse(_ failure: TimeStampFailure, _ text: String) -> [UInt8] {
        guard let response = notarium_ts_failure_response(failure.rawValue, text) else { return [] }
        defer { TS_RESP_free(response) }
        return encodeDER { i2d_TS_RESP(response, $0) }
    }

    /// GeneralizedTime with milliseconds, as DER wants it: UTC ("Z"), and the fraction without
    /// trailing zeros, left out when zero (X.690 §11.7).
    static func generalizedTime(milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Digits written by hand: Foundation's String(format:) cost more than the rest of
        // the TSTInfo together (perf, notarium-bench --only tsa).
        var text = ""
        text.reserveCapacity(20)
        func digits(_ value: Int32, _ width: Int) {
            let decimal = String(value)
            text += String(repeating: "0", count: max(0, width - decimal.count)) + decimal
        }
        digits(parts.tm_year + 1900, 4)
        digits(parts.tm_mon + 1, 2)
        digits(parts.tm_mday, 2)
        digits(parts.tm_hour, 2)
        digits(parts.tm_min, 2)
        digits(parts.tm_sec, 2)
        var fraction = Int32(milliseconds % 1000)
        if fraction > 0 {
            var width = 3
            while fraction % 10 == 0 {
                fraction /= 10
                width -= 1
            }
            text += "."
            digits(fraction, width)
        }
        return text + "Z"
    }
}
