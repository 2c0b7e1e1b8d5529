internal import COpenSSL
internal import COpenSSLShims

/// A PKCS#10 certificate signing request (RFC 2986): the owning Swift type over `X509_REQ`.
///
/// Parsing checks the structure only; `hasValidSignature` tells whether the request was signed
/// by the key it carries (proof of possession), which the CA requires before issuing.
public final class CertificateSigningRequest: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { X509_REQ_free(pointer) }

    /// The largest request read: real ones are under 4 KiB even with RSA-4096 keys.
    public static let maximumBytes = 64 * 1024

    /// Parses one request, PEM ("-----BEGIN CERTIFICATE REQUEST-----") or DER.
    public convenience init(pemOrDER bytes: [UInt8]) throws(OpenSSLError) {
        guard !bytes.isEmpty else { throw OpenSSLError(code: .malformedInput, reason: "the request is empty", openSSLErrors: []) }
        guard bytes.count <= Self.maximumBytes else {
            throw OpenSSLError(code: .malformedInput, reason: "the request is \(bytes.count) bytes; at most \(Self.maximumBytes) are read", openSSLErrors: [])
        }
        OpenSSLError.clearQueue()
        let isPEM = bytes.starts(with: Array("-----BEGIN".utf8)) || String(decoding: bytes.prefix(512), as: UTF8.self).contains("-----BEGIN")
        let parsed: OpaquePointer?
        if isPEM {
            parsed = bytes.withUnsafeBufferPointer { buffer in
                guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
                defer { BIO_free(bio) }
                return PEM_read_bio_X509_REQ(bio, nil, nil, nil)
            }
        } else {
            parsed = decodeDER(bytes, { d2i_X509_REQ(nil, $0, $1) }, free: X509_REQ_free)
        }
        guard let parsed else {
            throw OpenSSLError.drain(.malformedInput, isPEM ? "not a PEM CERTIFICATE REQUEST" : "not a single DER-encoded PKCS#10 request (\(bytes.count) bytes)")
        }
        self.init(taking: parsed)
    }

    /// Whether the request's signature verifies with the public key it carries.
    public var hasValidSignature: Bool {
        defer { ERR_clear_error() }
        guard let key = X509_REQ_get0_pubkey(pointer) else { return false }
        return X509_REQ_verify(pointer, key) == 1
    }

    public var publicKey: PublicKey? {
        guard let key = X509_REQ_get_pubkey(pointer) else {
            ERR_clear_error()
            return nil
        }
        return PublicKey(taking: key, request: self)
    }

    public var subject: DistinguishedName { DistinguishedName(reading: X509_REQ_get_subject_name(pointer)) }

    /// The subject alternative names of the extensionRequest attribute, if any.
    public var requestedAlternativeNames: [GeneralName] {
        guard let extensions = X509_REQ_get_extensions(pointer) else {
            ERR_clear_error()
            return []
        }
        defer { notarium_sk_X509_EXTENSION_pop_free(extensions) }
        for index in 0..<notarium_sk_X509_EXTENSION_num(extensions) {
            guard let item = notarium_sk_X509_EXTENSION_value(extensions, index),
                  OBJ_obj2nid(X509_EXTENSION_get_object(item)) == NID_subject_alt_name,
                  let decoded = X509V3_EXT_d2i(item) else { continue }
            let names = OpaquePointer(decoded)
            defer { GENERAL_NAMES_free(names) }
            return GeneralName.read(names)
        }
        return []
    }

    /// Copies the request's SubjectPublicKeyInfo, as encoded, into `certificate`'s.
    /// - Returns: false when the key's algorithm parameters are of a kind not copied here (only
    ///   none, NULL and a named-curve OID are), so the caller encodes the key instead.
    func copyPublicKey(into certificate: OpaquePointer) -> Bool {
        guard let source = X509_REQ_get_X509_PUBKEY(pointer), let target = X509_get_X509_PUBKEY(certificate) else { return false }
        var algorithm: OpaquePointer? = nil
        var key: UnsafePointer<UInt8>? = nil
        var length: Int32 = 0
        var identifier: UnsafeMutablePointer<X509_ALGOR>? = nil
        guard X509_PUBKEY_get0_param(&algorithm, &key, &length, &identifier, source) == 1, let algorithm, let key, length > 0 else { return false }
        var parameterObject: OpaquePointer? = nil
        var parameterType: Int32 = 0
        var parameter: UnsafeRawPointer? = nil
        X509_ALGOR_get0(&parameterObject, &parameterType, &parameter, identifier)
        var copiedParameter: UnsafeMutableRawPointer? = nil
        switch parameterType {
        case V_ASN1_UNDEF, V_ASN1_NULL: break
        case V_ASN1_OBJECT:
            guard let parameter, let copied = OBJ_dup(OpaquePointer(parameter)) else { return false }
            copiedParameter = UnsafeMutableRawPointer(copied)
        default: return false
        }
        guard let encoded = CRYPTO_malloc(Int(length), #fileID, #line)?.assumingMemoryBound(to: UInt8.self) else { return false }
        encoded.initialize(from: key, count: Int(length))
        // set0 takes ownership of the algorithm, the parameter and the key bytes.
        return X509_PUBKEY_set0_param(target, OBJ_dup(algorithm), parameterType, copiedParameter, encoded, length) == 1
    }

    /// The DER encoding.
    public var derBytes: [UInt8] {
        return encodeDER { i2d_X509_REQ(pointer, $0) }
    }

    /// Makes a request signed by `key`: what a client (or a test, or the benchmark) sends.
    /// - Parameter alternativeNames: written as a subjectAltName in the extensionRequest.
    public static func create(key: PrivateKey, subject: DistinguishedName, alternativeNames: [GeneralName] = []) throws(OpenSSLError) -> CertificateSigningRequest {
        OpenSSLError.clearQueue()
        guard let request = X509_REQ_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate a request") }
        let result = CertificateSigningRequest(taking: request)
        let name = try subject.makeName()
        defer { X509_NAME_free(name) }
        guard X509_REQ_set_subject_name(request, name) == 1, X509_REQ_set_pubkey(request, key.pointer) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot fill the request")
        }
        if !alternativeNames.isEmpty {
            var context = X509V3_CTX()
            X509V3_set_ctx(&context, nil, nil, request, nil, 0)
            let value = alternativeNames.map(\.description).joined(separator: ",")
            guard let extensionObject = X509V3_EXT_nconf(nil, &context, "subjectAltName", value) else {
                throw OpenSSLError.drain(.malformedInput, "OpenSSL refused subjectAltName = \(value)")
            }
            guard let stack = notarium_sk_X509_EXTENSION_new_null() else {
                X509_EXTENSION_free(extensionObject)
                throw OpenSSLError.drain(.operationFailed, "cannot allocate a stack")
            }
            defer { notarium_sk_X509_EXTENSION_pop_free(stack) }
            guard notarium_sk_X509_EXTENSION_push(stack, extensionObject) > 0 else {
                X509_EXTENSION_free(extensionObject)
                throw OpenSSLError.drain(.operationFailed, "cannot fill a stack")
            }
            guard X509_REQ_add_extensions(request, stack) == 1 else {
                throw OpenSSLError.drain(.operationFailed, "cannot add the requested extensions")
            }
        }
        guard X509_REQ_sign(request, key.pointer, key.signingDigest) > 0 else {
            throw OpenSSLError.drain(.operationFailed, "signing the request failed")
        }
        return result
    }
}
