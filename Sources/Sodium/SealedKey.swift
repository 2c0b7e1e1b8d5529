internal import CSodium
import Glibc

/// Private-key material sealed at rest: encrypted with XChaCha20-Poly1305 under a key derived by
/// Argon2id from a `SealingSecret`. docs/sealed-key-format.md specifies the file byte by byte.
///
/// ```
/// offset  size  field
///      0     8  magic "NTRMSEAL"
///      8     2  format version, big-endian (1)
///     10     1  KDF: 1 = Argon2id v1.3 (crypto_pwhash_ALG_ARGON2ID13)
///     11     1  AEAD: 1 = XChaCha20-Poly1305-IETF
///     12     4  Argon2id opslimit (iterations), big-endian
///     16     4  Argon2id memlimit in KiB, big-endian
///     20    16  salt
///     36    24  nonce
///     60    16  key check: crypto_kdf subkey 2 of the Argon2id output
///     76     2  label length L, big-endian (0…256)
///     78     L  label, UTF-8 (what the key is: "tsa", "ca-root", …)
///   78+L     4  ciphertext length C, big-endian (16…1 MiB)
///   82+L     C  ciphertext ‖ 16-byte tag; associated data = bytes 0 ..< 82+L
/// ```
/// The key check lets `unseal` tell a wrong secret from an altered file; the associated data
/// binds every header byte, so any other change is caught by the tag.
public struct SealedKey: Sendable, Equatable {
    /// Argon2id cost. Stored in each file, so it can be raised later without breaking old files.
    public struct KDFParameters: Sendable, Equatable {
        public var iterations: UInt32
        public var memoryKiB: UInt32

        public init(iterations: UInt32, memoryKiB: UInt32) {
            self.iterations = iterations
            self.memoryKiB = memoryKiB
        }

        /// RFC 9106 §4's second recommendation (t=3, m=64 MiB): well under a second here, and what
        /// every new key is sealed with.
        public static let standard = KDFParameters(iterations: 3, memoryKiB: 64 * 1024)
        /// libsodium's minimum; for tests only, where thousands of seals must be cheap.
        public static let minimumForTests = KDFParameters(iterations: 1, memoryKiB: 8)

        static let iterationRange: ClosedRange<UInt32> = 1...64
        /// Up to 1 GiB: enough for any sane cost, small enough that a crafted file cannot exhaust memory.
        static let memoryRange: ClosedRange<UInt32> = 8...(1 << 20)
    }

    public static let magic: [UInt8] = Array("NTRMSEAL".utf8)
    public static let formatVersion: UInt16 = 1
    static let kdfArgon2id13: UInt8 = 1
    static let aeadXChaCha20Poly1305: UInt8 = 1
    static let saltBytes = 16
    static let nonceBytes = 24
    static let keyCheckBytes = 16
    static let tagBytes = 16
    static let maximumLabelBytes = 256
    static let maximumCiphertextBytes = 1 << 20
    /// Context of libsodium's crypto_kdf: exactly 8 bytes.
    static let kdfContext = "NTRMSEAL"

    public let parameters: KDFParameters
    public let salt: [UInt8]
    public let nonce: [UInt8]
    public let keyCheck: [UInt8]
    /// What the key is, in clear, so an operator can tell files apart without unsealing them.
    public let label: String
    public let ciphertext: [UInt8]

    // MARK: - Sealing

    /// Seals `secret` under `sealingSecret`. Each call draws a fresh salt and nonce.
    public static func seal(_ secret: SecureBytes, label: String, with sealingSecret: SealingSecret, parameters: KDFParameters = .standard) throws(SealedKeyError) -> SealedKey {
        guard label.utf8.count <= maximumLabelBytes else {
            throw SealedKeyError(.invalidParameters, "label is \(label.utf8.count) bytes; at most \(maximumLabelBytes)")
        }
        guard secret.count + tagBytes <= maximumCiphertextBytes else {
            throw SealedKeyError(.invalidParameters, "secret of \(secret.count) bytes is too large to seal")
        }
        let salt = SodiumLibrary.randomBytes(saltBytes)
        let nonce = SodiumLibrary.randomBytes(nonceBytes)
        let keys = try DerivedKeys(secret: sealingSecret.material(), salt: salt, parameters: parameters)
        let associatedData = SealedKey(parameters: parameters, salt: salt, nonce: nonce, keyCheck: keys.check, label: label, ciphertext: [])
            .header(ciphertextLength: secret.count + tagBytes)
        var ciphertext = [UInt8](repeating: 0, count: secret.count + tagBytes)
        var ciphertextLength: UInt64 = 0
        secret.withBytePointer { plaintext, plaintextCount in
            keys.encryption.withBytePointer { key, _ in
                _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                    &ciphertext, &ciphertextLength,
                    plaintext, UInt64(plaintextCount),
                    associatedData, UInt64(associatedData.count), nil,
                    nonce, key)
            }
        }
        return SealedKey(parameters: parameters, salt: salt, nonce: nonce, keyCheck: keys.check, label: label, ciphertext: ciphertext)
    }

    /// Opens the key into guarded memory.
    /// - Throws: `.wrongSecret` when the secret does not match; `.tampered` when it does but the
    ///   file was altered; `.keyFile…` when the key file cannot be used.
    public func unseal(with sealingSecret: SealingSecret) throws(SealedKeyError) -> SecureBytes {
        let keys = try DerivedKeys(secret: sealingSecret.material(), salt: salt, parameters: parameters)
        guard sodium_memcmp(keys.check, keyCheck, SealedKey.keyCheckBytes) == 0 else {
            throw SealedKeyError(.wrongSecret, "the passphrase or key file does not open the sealed key \"\(label)\" (or the file's salt, cost or key check was altered)")
        }
        let associatedData = header(ciphertextLength: ciphertext.count)
        let plaintextLength = ciphertext.count - SealedKey.tagBytes
        return try SecureBytes(count: plaintextLength) { (buffer: UnsafeMutablePointer<UInt8>, count: Int) throws(SealedKeyError) in
            var length: UInt64 = 0
            let status = keys.encryption.withBytePointer { key, _ in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    buffer, &length, nil,
                    ciphertext, UInt64(ciphertext.count),
                    associatedData, UInt64(associatedData.count),
                    nonce, key)
            }
            guard status == 0, Int(length) == plaintextLength else {
                sodium_memzero(buffer, count)
                throw SealedKeyError(.tampered, "the sealed key \"\(label)\" was altered after it was sealed: its authentication tag does not match")
            }
        }
    }

    // MARK: - Encoding

    /// The file's bytes.
    public var serialized: [UInt8] {
        header(ciphertextLength: ciphertext.count) + ciphertext
    }

    private func header(ciphertextLength: Int) -> [UInt8] {
        var bytes = SealedKey.magic
        bytes.appendBigEndian(SealedKey.formatVersion)
        bytes.append(SealedKey.kdfArgon2id13)
        bytes.append(SealedKey.aeadXChaCha20Poly1305)
        bytes.appendBigEndian(parameters.iterations)
        bytes.appendBigEndian(parameters.memoryKiB)
        bytes += salt
        bytes += nonce
        bytes += keyCheck
        let labelBytes = Array(label.utf8)
        bytes.appendBigEndian(UInt16(labelBytes.count))
        bytes += labelBytes
        bytes.appendBigEndian(UInt32(ciphertextLength))
        return bytes
    }

    /// Parses a sealed key file's bytes; checks structure and bounds, not the secret.
    public init(parsing bytes: [UInt8]) throws(SealedKeyError) {
        var reader = ByteReader(bytes)
        guard bytes.count >= SealedKey.magic.count else {
            throw SealedKeyError(bytes.isEmpty ? .truncated : .notASealedKey, "the file holds \(bytes.count) bytes, fewer than the 8-byte magic")
        }
        guard try reader.take(SealedKey.magic.count) == SealedKey.magic else {
            throw SealedKeyError(.notASealedKey, "the file does not start with \"NTRMSEAL\": it is not a Notarium sealed key")
        }
        let version: UInt16 = try reader.bigEndian()
        guard version == SealedKey.formatVersion else {
            throw SealedKeyError(.unsupportedVersion, "format version \(version); this build reads version \(SealedKey.formatVersion)")
        }
        let kdf = try reader.take(1)[0]
        let aead = try reader.take(1)[0]
        guard kdf == SealedKey.kdfArgon2id13, aead == SealedKey.aeadXChaCha20Poly1305 else {
            throw SealedKeyError(.unsupportedAlgorithm, "KDF \(kdf), AEAD \(aead); this build knows KDF 1 (Argon2id) and AEAD 1 (XChaCha20-Poly1305)")
        }
        let parameters = KDFParameters(iterations: try reader.bigEndian(), memoryKiB: try reader.bigEndian())
        guard KDFParameters.iterationRange.contains(parameters.iterations),
              KDFParameters.memoryRange.contains(parameters.memoryKiB) else {
            throw SealedKeyError(.invalidParameters, "Argon2id cost t=\(parameters.iterations), m=\(parameters.memoryKiB) KiB is outside t 1…64, m 8 KiB…1 GiB")
        }
        let salt = try reader.take(SealedKey.saltBytes)
        let nonce = try reader.take(SealedKey.nonceBytes)
        let keyCheck = try reader.take(SealedKey.keyCheckBytes)
        let labelLength: UInt16 = try reader.bigEndian()
        guard Int(labelLength) <= SealedKey.maximumLabelBytes else {
            throw SealedKeyError(.invalidParameters, "label length \(labelLength) exceeds \(SealedKey.maximumLabelBytes)")
        }
        guard let label = String(validating: try reader.take(Int(labelLength)), as: UTF8.self) else {
            throw SealedKeyError(.invalidParameters, "the label is not valid UTF-8")
        }
        let ciphertextLength: UInt32 = try reader.bigEndian()
        guard Int(ciphertextLength) >= SealedKey.tagBytes, Int(ciphertextLength) <= SealedKey.maximumCiphertextBytes else {
            throw SealedKeyError(.invalidParameters, "ciphertext length \(ciphertextLength) is outside \(SealedKey.tagBytes)…\(SealedKey.maximumCiphertextBytes)")
        }
        let ciphertext = try reader.take(Int(ciphertextLength))
        guard reader.isAtEnd else {
            throw SealedKeyError(.trailingData, "\(reader.remaining) bytes follow the ciphertext")
        }
        self.init(parameters: parameters, salt: salt, nonce: nonce, keyCheck: keyCheck, label: label, ciphertext: ciphertext)
    }

    init(parameters: KDFParameters, salt: [UInt8], nonce: [UInt8], keyCheck: [UInt8], label: String, ciphertext: [UInt8]) {
        self.parameters = parameters
        self.salt = salt
        self.nonce = nonce
        self.keyCheck = keyCheck
        self.label = label
        self.ciphertext = ciphertext
    }

    // MARK: - Files

    /// The largest file the format allows: the header with the longest label, plus the longest
    /// ciphertext. Reading stops there, so `/dev/zero` or a huge file is refused, not swallowed.
    static let maximumFileBytes = 82 + maximumLabelBytes + maximumCiphertextBytes

    /// Reads and parses a sealed key file.
    public init(contentsOf path: String) throws(SealedKeyError) {
        try self.init(parsing: readFile(path, limit: SealedKey.maximumFileBytes))
    }

    /// Writes the sealed key to a new file (mode 0600), synced; never overwrites.
    public func write(to path: String) throws(SealedKeyError) {
        // Only ciphertext and a public header: no need for guarded memory here.
        let bytes = serialized
        let written = bytes.withUnsafeBytes { raw in
            Result { () throws(SealedKeyError) in try DurableFile.create(at: path, contents: raw, mode: 0o600) }
        }
        try written.get()
    }
}

/// The two keys derived from one Argon2id output with libsodium's crypto_kdf: subkey 1 encrypts,
/// subkey 2 is the key check.
private struct DerivedKeys {
    let encryption: SecureBytes
    let check: [UInt8]

    init(secret: SecureBytes, salt: [UInt8], parameters: SealedKey.KDFParameters) throws(SealedKeyError) {
        let master = try SecureBytes(count: Int(crypto_kdf_KEYBYTES)) { (out: UnsafeMutablePointer<UInt8>, outCount: Int) throws(SealedKeyError) in
            let status = secret.withBytePointer { input, inputCount in
                input.withMemoryRebound(to: CChar.self, capacity: inputCount) { password in
                    crypto_pwhash(
                        out, UInt64(outCount), password, UInt64(inputCount),
                        salt, UInt64(parameters.iterations), Int(parameters.memoryKiB) * 1024,
                        crypto_pwhash_ALG_ARGON2ID13)
                }
            }
            guard status == 0 else {
                throw SealedKeyError(.invalidParameters, "Argon2id failed with t=\(parameters.iterations), m=\(parameters.memoryKiB) KiB (out of memory?)")
            }
        }
        encryption = SecureBytes(count: Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)) { (out: UnsafeMutablePointer<UInt8>, outCount: Int) in
            master.withBytePointer { key, _ in
                _ = crypto_kdf_derive_from_key(out, outCount, 1, SealedKey.kdfContext, key)
            }
        }
        var check = [UInt8](repeating: 0, count: SealedKey.keyCheckBytes)
        master.withBytePointer { key, _ in
            _ = crypto_kdf_derive_from_key(&check, check.count, 2, SealedKey.kdfContext, key)
        }
        self.check = check
    }
}

/// Reads fields off a byte array, throwing `.truncated` rather than running past its end.
struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }
    var remaining: Int { bytes.count - offset }

    mutating func take(_ count: Int) throws(SealedKeyError) -> [UInt8] {
        guard count <= remaining else {
            throw SealedKeyError(.truncated, "the file ends at byte \(bytes.count), inside a field that needs \(count) bytes from byte \(offset)")
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func bigEndian<T: FixedWidthInteger>() throws(SealedKeyError) -> T {
        try take(MemoryLayout<T>.size).reduce(T.zero) { ($0 << 8) | T($1) }
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        for shift in stride(from: (MemoryLayout<T>.size - 1) * 8, through: 0, by: -8) {
            append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }
}

/// The file at `path`, read to its end but never past `limit` bytes.
/// - Throws: `.io` when it cannot be read, `.invalidParameters` when it is longer than `limit`.
func readFile(_ path: String, limit: Int) throws(SealedKeyError) -> [UInt8] {
    guard let file = fopen(path, "rb") else {
        throw SealedKeyError(.io, "cannot read \(path): \(String(cString: strerror(errno)))")
    }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let got = fread(&chunk, 1, chunk.count, file)
        bytes += chunk[0..<got]
        guard bytes.count <= limit else {
            throw SealedKeyError(.invalidParameters, "\(path) is longer than \(limit) bytes, the largest sealed key file the format allows")
        }
        if got < chunk.count {
            guard ferror(file) == 0 else { throw SealedKeyError(.io, "reading \(path) failed") }
            return bytes
        }
    }
}
