internal import COpenSSL
internal import COpenSSLShims

/// An X.509 certificate: the owning Swift type over OpenSSL's `X509`, freed in `deinit`.
///
/// Immutable once parsed; `derBytes` are the exact bytes it was read from re-encoded by OpenSSL,
/// which for a DER-parsed certificate are the same bytes (X509 caches its encoding).
public final class Certificate: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Takes ownership of an `X509 *`.
    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        X509_free(pointer)
    }

    /// Parses one DER-encoded certificate; trailing bytes are an error.
    public convenience init(derEncoded bytes: [UInt8]) throws(OpenSSLError) {
        OpenSSLError.clearQueue()
        let parsed = decodeDER(bytes, { d2i_X509(nil, $0, $1) }, free: X509_free)
        guard let parsed else {
            throw OpenSSLError.drain(.malformedInput, "not a single DER-encoded X.509 certificate (\(bytes.count) bytes)")
        }
        self.init(taking: parsed)
    }

    /// Every certificate in a PEM text, in order. Text between PEM blocks is ignored, as
    /// `openssl` does; a text with no certificate or a damaged block is an error.
    public static func parseChain(pem: String) throws(OpenSSLError) -> [Certificate] {
        let stack = try CertificateStack(pem: pem)
        return stack.certificates
    }

    /// The certificates of a file as people hand them over: a PEM text with one or more
    /// certificates, or a single DER certificate (trust anchors, chains for verification).
    public static func parseFile(_ bytes: [UInt8]) throws(OpenSSLError) -> [Certificate] {
        if let text = String(bytes: bytes, encoding: .utf8), text.contains("-----BEGIN") {
            return try parseChain(pem: text)
        }
        return [try Certificate(derEncoded: bytes)]
    }

    /// The DER encoding.
    public var derBytes: [UInt8] {
        return encodeDER { i2d_X509(pointer, $0) }
    }

    /// The subject as OpenSSL prints it in RFC 2253 form ("CN=Example,O=Org").
    public var subject: String { Certificate.format(X509_get_subject_name(pointer)) }
    /// The issuer, in RFC 2253 form.
    public var issuer: String { Certificate.format(X509_get_issuer_name(pointer)) }

    /// SHA-256 over the DER encoding, computed by libcrypto (`X509_digest`).
    public var sha256Fingerprint: [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(pointer, EVP_sha256(), &digest, &length) == 1 else { return [] }
        return Array(digest[0..<Int(length)])
    }

    /// An `X509_NAME` in RFC 2253 form, UTF-8 left unescaped.
    static func format(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, notarium_XN_FLAG_RFC2253()) >= 0 else { return "" }
        return readAll(bio)
    }
}

/// An owned `STACK_OF(X509)`, the shape OpenSSL's verify, CMS and TS calls take chains in.
/// Freeing it frees every certificate it holds (`sk_X509_pop_free`).
final class CertificateStack {
    let pointer: OpaquePointer

    init() throws(OpenSSLError) {
        guard let stack = notarium_sk_X509_new_null() else {
            throw OpenSSLError.drain(.operationFailed, "cannot allocate a certificate stack")
        }
        pointer = stack
    }

    /// Reads every CERTIFICATE block of a PEM text.
    convenience init(pem: String) throws(OpenSSLError) {
        try self.init()
        OpenSSLError.clearQueue()
        // A memory BIO reads the caller's buffer in place, so every read happens while it is lent.
        let pushed: Bool = Array(pem.utf8).withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return false }
            defer { BIO_free(bio) }
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                guard notarium_sk_X509_push(pointer, certificate) > 0 else {
                    X509_free(certificate)
                    return false
                }
            }
            return true
        }
        guard pushed else { throw OpenSSLError.drain(.operationFailed, "cannot read PEM into a certificate stack") }
        // PEM_read_bio_X509 ends with PEM_R_NO_START_LINE when it simply ran out of blocks; any
        // other queued error means a block was damaged.
        let last = ERR_peek_last_error()
        let ranOut = ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE
        if last != 0 && !ranOut {
            throw OpenSSLError.drain(.malformedInput, "a PEM certificate block is damaged")
        }
        OpenSSLError.clearQueue()
        guard count > 0 else {
            throw OpenSSLError(code: .malformedInput, reason: "the PEM text holds no CERTIFICATE block", openSSLErrors: [])
        }
    }

    deinit {
        notarium_sk_X509_pop_free(pointer)
    }

    var count: Int { Int(notarium_sk_X509_num(pointer)) }

    /// The certificates, each with its own reference (the stack keeps its own).
    var certificates: [Certificate] {
        (0..<count).compactMap { index in
            guard let certificate = notarium_sk_X509_value(pointer, Int32(index)) else { return nil }
            X509_up_ref(certificate)
            return Certificate(taking: certificate)
        }
    }
}

/// Everything written to a memory BIO, as text.
func readAll(_ bio: OpaquePointer) -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let got = BIO_read(bio, &chunk, Int32(chunk.count))
        guard got > 0 else { break }
        bytes += chunk[0..<Int(got)]
    }
    return String(decoding: bytes, as: UTF8.self)
}
