internal import COpenSSL
internal import COpenSSLShims

/// The hash algorithms Notarium's TSA accepts in a message imprint (SHA-1 and MD5 are refused
/// with `badAlg`: a collision would let one token vouch for two documents).
public enum TimeStampHash: String, Sendable, CaseIterable, CustomStringConvertible {
    case sha256 = "SHA-256"
    case sha384 = "SHA-384"
    case sha512 = "SHA-512"

    public var description: String { rawValue }

    var nid: Int32 {
        switch self {
        case .sha256: NID_sha256
        case .sha384: NID_sha384
        case .sha512: NID_sha512
        }
    }

    var md: OpaquePointer? {
        switch self {
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
    }

    /// Bytes in a digest: what a well-formed imprint's length must be.
    public var length: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    init?(nid: Int32) {
        guard let hash = Self.allCases.first(where: { $0.nid == nid }) else { return nil }
        self = hash
    }

    /// Accepts "sha256", "SHA-256", "sha-256" and the like (command-line spelling).
    public init?(name: String) {
        let folded = name.lowercased().replacingOccurrences(of: "-", with: "")
        guard let hash = Self.allCases.first(where: { $0.rawValue.lowercased().replacingOccurrences(of: "-", with: "") == folded }) else { return nil }
        self = hash
    }

    /// The digest of `bytes`, computed by libcrypto.
    public func digest(_ bytes: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_Digest(bytes, bytes.count, &output, &length, md, nil) == 1 else { return [] }
        return Array(output.prefix(Int(length)))
    }
}

/// An RFC 3161 TimeStampReq (§2.4.1): the owning Swift type over OpenSSL's `TS_REQ`.
///
/// Parsing only decodes; whether the TSA accepts what it asks for (version, algorithm,
/// imprint length, policy, extensions) is the authority's decision, so that each refusal
/// gets its own failure code.
public final class TimeStampRequest: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { TS_REQ_free(pointer) }

    /// Requests larger than this are not read. A request is about 60 to 120 bytes; the bound
    /// leaves room for extensions.
    public static let maximumBytes = 64 * 1024

    /// Parses exactly one DER TimeStampReq; trailing bytes are an error.
    public convenience init(derEncoded bytes: [UInt8]) throws(OpenSSLError) {
        guard !bytes.isEmpty, bytes.count <= Self.maximumBytes else {
            throw OpenSSLError(code: .malformedInput, reason: "a time-stamp request is 1 to \(Self.maximumBytes) bytes; this one is \(bytes.count)", openSSLErrors: [])
        }
        OpenSSLError.clearQueue()
        guard let parsed = decodeDER(bytes, { d2i_TS_REQ(nil, $0, $1) }, free: TS_REQ_free) else {
            throw OpenSSLError.drain(.malformedInput, "not a single DER-encoded TimeStampReq")
        }
        self.init(taking: parsed)
    }

    public var version: Int { Int(TS_REQ_get_version(pointer)) }

    private var algorithm: UnsafeMutablePointer<X509_ALGOR>? {
        guard let imprint = TS_REQ_get_msg_imprint(pointer) else { return nil }
        return TS_MSG_IMPRINT_get_algo(imprint)
    }

    /// The imprint's hash algorithm as a dotted OID ("2.16.840.1.101.3.4.2.1").
    public var hashAlgorithmOID: String {
        var object: OpaquePointer? = nil
        X509_ALGOR_get0(&object, nil, nil, algorithm)
        return objectText(object)
    }

    /// The imprint's hash algorithm, if it is one Notarium accepts.
    public var hash: TimeStampHash? {
        var object: OpaquePointer? = nil
        X509_ALGOR_get0(&object, nil, nil, algorithm)
        return TimeStampHash(nid: OBJ_obj2nid(object))
    }

    /// True when the AlgorithmIdentifier carries parameters other than NULL, which no
    /// SHA-2 identifier has (RFC 5754 §2).
    public var hashHasParameters: Bool {
        var type: Int32 = 0
        var value: UnsafeRawPointer? = nil
        X509_ALGOR_get0(nil, &type, &value, algorithm)
        return type != V_ASN1_UNDEF && type != V_ASN1_NULL
    }

    /// The hashed message.
    public var imprint: [UInt8] {
        guard let imprint = TS_REQ_get_msg_imprint(pointer), let message = TS_MSG_IMPRINT_get_msg(imprint) else { return [] }
        return contentBytes(of: message)
    }

    /// The requested policy as a dotted OID, if the client named one.
    public var policyOID: String? {
        guard let policy = TS_REQ_get_policy_id(pointer) else { return nil }
        return objectText(policy)
    }

    /// The nonce's magnitude, if the client sent one.
    public var nonce: [UInt8]? {
        guard let nonce = TS_REQ_get_nonce(pointer) else { return nil }
        return integerBytes(nonce)
    }

    public var certificateRequested: Bool { TS_REQ_get_cert_req(pointer) != 0 }

    /// Each extension's OID and criticality, in order.
    public var extensions: [(oid: String, critical: Bool)] {
        (0..<TS_REQ_get_ext_count(pointer)).compactMap { index in
            guard let item = TS_REQ_get_ext(pointer, index) else { return nil }
            return (objectText(X509_EXTENSION_get_object(item)), X509_EXTENSION_get_critical(item) != 0)
        }
    }

    /// A DER TimeStampReq, what a client sends (the CLI and the tests): version 1, the
    /// imprint, the nonce if given, certReq, a policy if given, and extensions (each with an
    /// empty value; tests use them to ask for what the TSA must refuse).
    public static func create(imprint: [UInt8], hash: TimeStampHash, nonce: [UInt8]?, certificateRequested: Bool, policyOID: String? = nil, extensions: [(oid: String, critical: Bool)] = []) throws(OpenSSLError) -> [UInt8] {
        let encoded = try TimeStampRequest(imprint: imprint, hash: hash, nonce: nonce, certificateRequested: certificateRequested, policyOID: policyOID, extensions: extensions).derBytes
        guard !encoded.isEmpty else { throw OpenSSLError.drain(.operationFailed, "cannot encode the time-stamp request") }
        return encoded
    }

    /// The request `create` encodes, as an object: what the TSA's own callers (the ledger's
    /// time-stamper) hand it without a round trip through DER.
    public convenience init(imprint: [UInt8], hash: TimeStampHash, nonce: [UInt8]? = nil, certificateRequested: Bool, policyOID: String? = nil, extensions: [(oid: String, critical: Bool)] = []) throws(OpenSSLError) {
        OpenSSLError.clearQueue()
        guard let request = TS_REQ_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate a time-stamp request") }
        // Owned from here on: freed by deinit whether filling it in succeeds or not.
        self.init(taking: request)
        guard let messageImprint = TS_MSG_IMPRINT_new(), let algorithm = X509_ALGOR_new() else {
            throw OpenSSLError.drain(.operationFailed, "cannot allocate a time-stamp request")
        }
        defer {
            TS_MSG_IMPRINT_free(messageImprint)
            X509_ALGOR_free(algorithm)
        }
        var message = imprint
        guard X509_ALGOR_set0(algorithm, OBJ_nid2obj(hash.nid), V_ASN1_NULL, nil) == 1,
              TS_MSG_IMPRINT_set_algo(messageImprint, algorithm) == 1,
              TS_MSG_IMPRINT_set_msg(messageImprint, &message, Int32(message.count)) == 1,
              TS_REQ_set_version(request, 1) == 1,
              TS_REQ_set_msg_imprint(request, messageImprint) == 1,
              TS_REQ_set_cert_req(request, certificateRequested ? 1 : 0) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot fill in the time-stamp request")
        }
        if let nonce {
            guard let integer = makeInteger(nonce) else { throw OpenSSLError.drain(.operationFailed, "cannot encode the nonce") }
            defer { ASN1_INTEGER_free(integer) }
            guard TS_REQ_set_nonce(request, integer) == 1 else { throw OpenSSLError.drain(.operationFailed, "cannot set the nonce") }
        }
        if let policyOID {
            guard let policy = OBJ_txt2obj(policyOID, 1) else { throw OpenSSLError.drain(.malformedInput, "\(policyOID) is not an OID") }
            defer { ASN1_OBJECT_free(policy) }
            guard TS_REQ_set_policy_id(request, policy) == 1 else { throw OpenSSLError.drain(.operationFailed, "cannot set the policy") }
        }
        for (oid, critical) in extensions {
            guard let object = OBJ_txt2obj(oid, 1), let value = ASN1_OCTET_STRING_new() else { throw OpenSSLError.drain(.malformedInput, "\(oid) is not an OID") }
            defer {
                ASN1_OBJECT_free(object)
                ASN1_OCTET_STRING_free(value)
            }
            guard let item = X509_EXTENSION_create_by_OBJ(nil, object, critical ? 1 : 0, value) else { throw OpenSSLError.drain(.operationFailed, "cannot make extension \(oid)") }
            defer { X509_EXTENSION_free(item) }
            guard TS_REQ_add_ext(request, item, -1) == 1 else { throw OpenSSLError.drain(.operationFailed, "cannot add extension \(oid)") }
        }
    }

    /// The request's DER; empty if OpenSSL cannot encode it.
    public var derBytes: [UInt8] { encodeDER { i2d_TS_REQ(pointer, $0) } }
}

/// An OID in dotted form.
func objectText(_ object: OpaquePointer?) -> String {
    guard let object else { return "" }
    var buffer = [CChar](repeating: 0, count: 128)
    let length = OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
    guard length > 0 else { return "" }
    return String(decoding: buffer.prefix(Int(min(length, 127))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The contents of an ASN1_STRING (OCTET STRING, BIT STRING…).
func contentBytes(of string: UnsafePointer<ASN1_STRING>) -> [UInt8] {
    let length = Int(ASN1_STRING_length(string))
    guard length > 0, let data = ASN1_STRING_get0_data(string) else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: length))
}
