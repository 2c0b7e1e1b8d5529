internal import COpenSSL
internal import COpenSSLShims

/// RFC 6960 §4.2.1 OCSPResponseStatus.
public enum OCSPResponseStatus: Int, Sendable, CustomStringConvertible {
    case successful = 0
    case malformedRequest = 1
    case internalError = 2
    case tryLater = 3
    case sigRequired = 5
    case unauthorized = 6

    public var description: String {
        switch self {
        case .successful: "successful"
        case .malformedRequest: "malformedRequest"
        case .internalError: "internalError"
        case .tryLater: "tryLater"
        case .sigRequired: "sigRequired"
        case .unauthorized: "unauthorized"
        }
    }
}

/// The status an OCSP responder reports for one certificate (RFC 6960 §2.2).
public enum OCSPCertificateStatus: Sendable, Equatable {
    case good
    /// Revocation time in seconds since the epoch, and the reason.
    case revoked(time: Int64, reason: RevocationReason)
    case unknown
}

/// An OCSP request (RFC 6960 §4.1.1): the owning Swift type over `OCSP_REQUEST`.
public final class OCSPRequest: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { OCSP_REQUEST_free(pointer) }

    /// Requests larger than this are not read: one CertID is about 80 bytes.
    public static let maximumBytes = 16 * 1024
    /// At most this many certificates per request.
    public static let maximumCertificates = 32

    public convenience init(derEncoded bytes: [UInt8]) throws(OpenSSLError) {
        guard !bytes.isEmpty, bytes.count <= Self.maximumBytes else {
            throw OpenSSLError(code: .malformedInput, reason: "an OCSP request is 1 to \(Self.maximumBytes) bytes; this one is \(bytes.count)", openSSLErrors: [])
        }
        OpenSSLError.clearQueue()
        let parsed = decodeDER(bytes, { d2i_OCSP_REQUEST(nil, $0, $1) }, free: OCSP_REQUEST_free)
        guard let parsed else { throw OpenSSLError.drain(.malformedInput, "not a single DER-encoded OCSP request") }
        self.init(taking: parsed)
    }

    /// A request for `certificate`'s status (SHA-1 CertID, as RFC 5019 profiles it), with a
    /// random 16-byte nonce when `nonce` is true. What a client sends; tests and the
    /// benchmark use it.
    public static func create(certificate: Certificate, issuer: Certificate, nonce: Bool) throws(OpenSSLError) -> [UInt8] {
        OpenSSLError.clearQueue()
        guard let request = OCSP_REQUEST_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate a request") }
        defer { OCSP_REQUEST_free(request) }
        guard let id = OCSP_cert_to_id(EVP_sha1(), certificate.pointer, issuer.pointer) else {
            throw OpenSSLError.drain(.operationFailed, "cannot make the CertID")
        }
        guard OCSP_request_add0_id(request, id) != nil else {
            OCSP_CERTID_free(id)
            throw OpenSSLError.drain(.operationFailed, "cannot add the CertID")
        }
        if nonce {
            guard OCSP_request_add1_nonce(request, nil, 16) == 1 else { throw OpenSSLError.drain(.operationFailed, "cannot add a nonce") }
        }
        let encoded = encodeDER { i2d_OCSP_REQUEST(request, $0) }
        guard !encoded.isEmpty else { throw OpenSSLError.drain(.operationFailed, "cannot encode the request") }
        return encoded
    }

    /// The number of certificates asked about.
    public var count: Int { Int(OCSP_request_onereq_count(pointer)) }

    /// The serial number asked about in each CertID, in order.
    public var serials: [[UInt8]] {
        (0..<Int32(count)).map { index in
            guard let one = OCSP_request_onereq_get0(pointer, index), let id = OCSP_onereq_get0_id(one) else { return [] }
            var serial: UnsafeMutablePointer<ASN1_INTEGER>? = nil
            guard OCSP_id_get0_info(nil, nil, nil, &serial, id) == 1 else { return [] }
            return integerBytes(serial)
        }
    }

    /// Whether CertID `index` names `issuer` (its name and key hashed with the CertID's own
    /// hash algorithm).
    public func certificateID(at index: Int, isIssuedBy issuer: Certificate) -> Bool {
        guard let one = OCSP_request_onereq_get0(pointer, Int32(index)), let id = OCSP_onereq_get0_id(one) else { return false }
        var algorithm: OpaquePointer? = nil
        guard OCSP_id_get0_info(nil, &algorithm, nil, nil, id) == 1, let algorithm,
              let digest = EVP_get_digestbyname(OBJ_nid2sn(OBJ_obj2nid(algorithm))),
              let ours = OCSP_cert_to_id(digest, nil, issuer.pointer) else {
            ERR_clear_error()
            return false
        }
        defer { OCSP_CERTID_free(ours) }
        return OCSP_id_issuer_cmp(ours, id) == 0
    }
}

/// Signs OCSP responses (RFC 6960 §4.2) for one issuing CA with a delegated responder
/// certificate.
public struct OCSPResponseSigner: @unchecked Sendable {
    public let issuer: Certificate
    public let responder: Certificate
    let key: PrivateKey

    public init(issuer: Certificate, responder: Certificate, key: PrivateKey) {
        self.issuer = issuer
        self.responder = responder
        self.key = key
    }

    /// An unsigned OCSPResponse with only a status: malformedRequest, unauthorized… (RFC 6960
    /// §4.2.1: such responses carry no responseBytes).
    public static func errorResponse(_ status: OCSPResponseStatus) -> [UInt8] {
        guard let response = OCSP_response_create(Int32(status.rawValue), nil) else { return [] }
        defer { OCSP_RESPONSE_free(response) }
        return encodeDER { i2d_OCSP_RESPONSE(response, $0) }
    }

    /// The signed response for `request`: one SingleResponse per CertID with the status
    /// `status(serial)` gives, thisUpdate `now`, nextUpdate `now + validity`, the request's
    /// nonce echoed, the responder identified by key hash and its certificate included.
    public func respond(to request: OCSPRequest, now: Int64, validity: Int64, status: ([UInt8]) -> OCSPCertificateStatus) throws(OpenSSLError) -> [UInt8] {
        OpenSSLError.clearQueue()
        guard let basic = OCSP_BASICRESP_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate a response") }
        defer { OCSP_BASICRESP_free(basic) }
        guard let thisUpdate = makeTime(now), let nextUpdate = makeTime(now + validity) else {
            throw OpenSSLError.drain(.operationFailed, "cannot encode the response times")
        }
        defer {
            ASN1_TIME_free(thisUpdate)
            ASN1_TIME_free(nextUpdate)
        }
        let serials = request.serials
        for (index, serial) in serials.enumerated() {
            guard let one = OCSP_request_onereq_get0(request.pointer, Int32(index)), let id = OCSP_onereq_get0_id(one) else {
                throw OpenSSLError.drain(.malformedInput, "CertID \(index) is unreadable")
            }
            let added: OpaquePointer?
            switch status(serial) {
            case .good:
                added = OCSP_basic_add1_status(basic, id, V_OCSP_CERTSTATUS_GOOD, 0, nil, thisUpdate, nextUpdate)
            case .unknown:
                added = OCSP_basic_add1_status(basic, id, V_OCSP_CERTSTATUS_UNKNOWN, 0, nil, thisUpdate, nextUpdate)
            case .revoked(let time, let reason):
                guard let revoked = makeTime(time) else { throw OpenSSLError.drain(.operationFailed, "cannot encode the revocation time") }
                defer { ASN1_TIME_free(revoked) }
                let code = reason == .unspecified ? OCSP_REVOKED_STATUS_NOSTATUS : Int32(reason.rawValue)
                added = OCSP_basic_add1_status(basic, id, V_OCSP_CERTSTATUS_REVOKED, code, revoked, thisUpdate, nextUpdate)
            }
            guard added != nil else { throw OpenSSLError.drain(.operationFailed, "cannot add the status of CertID \(index)") }
        }
        guard OCSP_copy_nonce(basic, request.pointer) > 0 else { throw OpenSSLError.drain(.operationFailed, "cannot echo the nonce") }
        guard OCSP_basic_sign(basic, responder.pointer, key.pointer, key.signingDigest, nil, UInt(OCSP_RESPID_KEY)) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "signing the response failed")
        }
        guard let response = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic) else {
            throw OpenSSLError.drain(.operationFailed, "cannot wrap the response")
        }
        defer { OCSP_RESPONSE_free(response) }
        return encodeDER { i2d_OCSP_RESPONSE(response, $0) }
    }
}

/// What an OCSP response says, read back (tests; `openssl ocsp` is the independent check).
public struct OCSPResponseSummary: Sendable, Equatable {
    public let status: OCSPResponseStatus
    /// The status of each SingleResponse, in order (empty unless successful).
    public let certificateStatuses: [OCSPCertificateStatus]
    public let hasNonce: Bool

    public init(derEncoded bytes: [UInt8]) throws(OpenSSLError) {
        OpenSSLError.clearQueue()
        guard let parsed = decodeDER(bytes, { d2i_OCSP_RESPONSE(nil, $0, $1) }, free: OCSP_RESPONSE_free) else {
            throw OpenSSLError.drain(.malformedInput, "not a single DER OCSP response")
        }
        defer { OCSP_RESPONSE_free(parsed) }
        guard let status = OCSPResponseStatus(rawValue: Int(OCSP_response_status(parsed))) else {
            throw OpenSSLError(code: .malformedInput, reason: "unknown OCSP response status", openSSLErrors: [])
        }
        self.status = status
        guard status == .successful, let basic = OCSP_response_get1_basic(parsed) else {
            certificateStatuses = []
            hasNonce = false
            return
        }
        defer { OCSP_BASICRESP_free(basic) }
        hasNonce = OCSP_BASICRESP_get_ext_by_NID(basic, NID_id_pkix_OCSP_Nonce, -1) >= 0
        certificateStatuses = (0..<OCSP_resp_count(basic)).map { index in
            guard let single = OCSP_resp_get0(basic, index) else { return .unknown }
            var reason: Int32 = 0
            var revoked: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil
            switch OCSP_single_get0_status(single, &reason, &revoked, nil, nil) {
            case V_OCSP_CERTSTATUS_GOOD: return .good
            case V_OCSP_CERTSTATUS_REVOKED:
                return .revoked(time: seconds(revoked), reason: RevocationReason(rawValue: Int(reason)) ?? .unspecified)
            default: return .unknown
            }
        }
    }
}
