internal import COpenSSL
internal import COpenSSLShims

/// The kinds of key Notarium makes and accepts, as named in configuration and documentation.
public enum KeyAlgorithm: String, Sendable, CaseIterable {
    case ecdsaP256 = "ecdsa-p256"
    case ecdsaP384 = "ecdsa-p384"
    case rsa2048 = "rsa-2048"
    case rsa3072 = "rsa-3072"
    case rsa4096 = "rsa-4096"
    case ed25519 = "ed25519"
}

/// What a public key is, as far as key policy cares: the family and its size or curve.
public enum KeyKind: Sendable, Equatable, CustomStringConvertible {
    case rsa(bits: Int)
    /// An EC key on a named curve, by OpenSSL's name ("prime256v1", "secp384r1"); nil when the
    /// key carries explicit curve parameters instead of a name (which policy refuses).
    case ec(curve: String?)
    case ed25519
    /// Anything else (DSA, RSA-PSS-only keys, Ed448, X25519…), by OpenSSL's type name.
    case other(String)

    public var description: String {
        switch self {
        case .rsa(let bits): "RSA-\(bits)"
        case .ec(let curve?): curve == "prime256v1" ? "ECDSA P-256" : curve == "secp384r1" ? "ECDSA P-384" : "EC \(curve)"
        case .ec(nil): "EC with explicit curve parameters"
        case .ed25519: "Ed25519"
        case .other(let name): name
        }
    }
}

/// A public key: the owning Swift type over an `EVP_PKEY` that may lack its private half.
public final class PublicKey: @unchecked Sendable {
    let pointer: OpaquePointer
    /// The request the key was read from, if any: its encoded SubjectPublicKeyInfo can be copied
    /// into a certificate as it is, which costs microseconds, where encoding `pointer` afresh
    /// goes through OpenSSL 3.0's encoder machinery and costs about 250 µs (BENCHMARKS.md).
    let request: CertificateSigningRequest?

    /// Takes ownership of an `EVP_PKEY *`.
    init(taking pointer: OpaquePointer, request: CertificateSigningRequest? = nil) {
        self.pointer = pointer
        self.request = request
    }

    deinit { EVP_PKEY_free(pointer) }

    /// Parses a DER SubjectPublicKeyInfo.
    public convenience init(subjectPublicKeyInfo bytes: [UInt8]) throws(OpenSSLError) {
        OpenSSLError.clearQueue()
        let parsed = decodeDER(bytes, { d2i_PUBKEY(nil, $0, $1) }, free: EVP_PKEY_free)
        guard let parsed else { throw OpenSSLError.drain(.malformedInput, "not a DER SubjectPublicKeyInfo") }
        self.init(taking: parsed)
    }

    /// A raw 32-byte Ed25519 public key (as libsodium holds it).
    public convenience init(ed25519 raw: [UInt8]) throws(OpenSSLError) {
        OpenSSLError.clearQueue()
        guard raw.count == 32, let key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, raw, raw.count) else {
            throw OpenSSLError.drain(.malformedInput, "not a 32-byte Ed25519 public key")
        }
        self.init(taking: key)
    }

    public var kind: KeyKind { Self.kind(of: pointer) }

    /// The DER SubjectPublicKeyInfo.
    public var subjectPublicKeyInfo: [UInt8] { Self.spki(of: pointer) }

    static func kind(of pointer: OpaquePointer) -> KeyKind {
        switch EVP_PKEY_get_base_id(pointer) {
        case EVP_PKEY_RSA: return .rsa(bits: Int(EVP_PKEY_get_bits(pointer)))
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 80)
            var length = 0
            guard EVP_PKEY_get_utf8_string_param(pointer, "group", &name, name.count, &length) == 1 else {
                ERR_clear_error()
                return .ec(curve: nil)
            }
            return .ec(curve: String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        case EVP_PKEY_ED25519: return .ed25519
        default:
            guard let name = EVP_PKEY_get0_type_name(pointer) else { return .other("unknown key type") }
            return .other(String(cString: name))
        }
    }

    static func spki(of pointer: OpaquePointer) -> [UInt8] {
        return encodeDER { i2d_PUBKEY(pointer, $0) }
    }
}

/// A private key: the owning Swift type over an `EVP_PKEY`, freed in `deinit` (OpenSSL cleanses
/// private key material when it frees it). It leaves the process only as PKCS#8 through
/// `withPKCS8`, which wipes its buffer after use, so callers can seal it without a stray copy.
public final class PrivateKey: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { EVP_PKEY_free(pointer) }

    /// A new key from OpenSSL's generator.
    public static func generate(_ algorithm: KeyAlgorithm) throws(OpenSSLError) -> PrivateKey {
        OpenSSLError.clearQueue()
        let key: OpaquePointer? = switch algorithm {
        case .ecdsaP256: notarium_generate_ec_key("P-256")
        case .ecdsaP384: notarium_generate_ec_key("P-384")
        case .rsa2048: notarium_generate_rsa_key(2048)
        case .rsa3072: notarium_generate_rsa_key(3072)
        case .rsa4096: notarium_generate_rsa_key(4096)
        case .ed25519: notarium_generate_ed25519_key()
        }
        guard let key else { throw OpenSSLError.drain(.operationFailed, "cannot generate a \(algorithm.rawValue) key") }
        return PrivateKey(taking: key)
    }

    /// Reads an unencrypted PEM private key (PKCS#8 `PRIVATE KEY`, or the traditional EC/RSA
    /// forms `openssl genpkey` and older tools write): a submitter's own key file. An
    /// encrypted key is refused, never prompted for.
    public convenience init(pem: String) throws(OpenSSLError) {
        OpenSSLError.clearQueue()
        let bytes = Array(pem.utf8)
        let parsed: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            // A password callback that gives none: without it OpenSSL would prompt on the
            // terminal for an encrypted key, and a command or test would hang there.
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let parsed else { throw OpenSSLError.drain(.malformedInput, "not an unencrypted PEM private key") }
        self.init(taking: parsed)
    }

    /// Reads a DER PKCS#8 PrivateKeyInfo (unencrypted: the caller unsealed it).
    public convenience init(pkcs8 bytes: UnsafeRawBufferPointer) throws(OpenSSLError) {
        OpenSSLError.clearQueue()
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var cursor: UnsafePointer<UInt8>? = base.map { UnsafePointer($0) }
        guard let key = d2i_AutoPrivateKey(nil, &cursor, bytes.count) else {
            throw OpenSSLError.drain(.malformedInput, "not a DER PKCS#8 private key")
        }
        if let cursor, let base, UnsafeRawPointer(cursor) - UnsafeRawPointer(base) != bytes.count {
            EVP_PKEY_free(key)
            throw OpenSSLError(code: .malformedInput, reason: "trailing bytes after the PKCS#8 private key", openSSLErrors: [])
        }
        self.init(taking: key)
    }

    /// Lends the DER PKCS#8 encoding to `body`, then wipes it.
    public func withPKCS8<T, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T? {
        guard let info = EVP_PKEY2PKCS8(pointer) else {
            ERR_clear_error()
            return nil
        }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_PKCS8_PRIV_KEY_INFO(info, &output)
        guard length > 0, let output else { return nil }
        defer {
            OPENSSL_cleanse(output, Int(length))
            CRYPTO_free(output, #fileID, #line)
        }
        return try body(UnsafeRawBufferPointer(start: output, count: Int(length)))
    }

    public var kind: KeyKind { PublicKey.kind(of: pointer) }

    /// The public half.
    public var publicKey: PublicKey {
        EVP_PKEY_up_ref(pointer)
        return PublicKey(taking: pointer)
    }

    /// The DER SubjectPublicKeyInfo of the public half.
    public var subjectPublicKeyInfo: [UInt8] { PublicKey.spki(of: pointer) }

    /// The digest a signature by this key is made over: SHA-256, or none for Ed25519 (which
    /// hashes internally, and OpenSSL requires a null digest for it).
    var signingDigest: OpaquePointer? { kind == .ed25519 ? nil : EVP_sha256() }

    /// Signs `message` (hash-then-sign with SHA-256; pure Ed25519). The benchmark's baseline:
    /// what OpenSSL alone does for one signature.
    public func sign(_ message: [UInt8]) throws(OpenSSLError) -> [UInt8] {
        OpenSSLError.clearQueue()
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate a digest context") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, signingDigest, nil, pointer) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot start a signature")
        }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot size a signature")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "signing failed")
        }
        return Array(signature.prefix(length))
    }
}

/// `count` bytes from OpenSSL's CSPRNG (serial numbers, nonces).
public func randomBytes(_ count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    if RAND_bytes(&bytes, Int32(count)) != 1 {
        // RAND_bytes fails only when the DRBG cannot be seeded; nothing may use weak bytes.
        fatalError("OpenSSL's random generator failed: \(OpenSSLError.drain(.operationFailed, "RAND_bytes").description)")
    }
    return bytes
}
