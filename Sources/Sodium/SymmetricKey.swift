internal import CSodium

/// A 32-byte secret key in guarded memory for libsodium's symmetric primitives: subkeys for
/// one purpose each (`crypto_kdf`, so that the document key and the portal's link key can never
/// be confused), authenticated encryption (XChaCha20-Poly1305-IETF, random 24-byte nonces, safe
/// for any number of messages) and HMAC-SHA-256 (`crypto_auth_hmacsha256`).
public final class SymmetricKey: Sendable {
    public static let byteCount = 32
    static let nonceBytes = 24
    static let tagBytes = 16
    public static let macBytes = 32

    let secret: SecureBytes

    /// - Precondition: `secret` holds `byteCount` bytes.
    public init(_ secret: SecureBytes) throws(SymmetricKeyError) {
        guard secret.count == Self.byteCount else { throw SymmetricKeyError("a symmetric key is \(Self.byteCount) bytes, not \(secret.count)") }
        self.secret = secret
    }

    /// For bytes known to be `byteCount` long.
    private init(exactly secret: SecureBytes) {
        self.secret = secret
    }

    public static func random() -> SymmetricKey {
        SymmetricKey(exactly: SecureBytes.random(count: byteCount))
    }

    /// Subkey `id` for `context` (exactly 8 ASCII bytes, libsodium's crypto_kdf context).
    public func subkey(_ id: UInt64, context: String) -> SymmetricKey {
        precondition(context.utf8.count == 8, "a crypto_kdf context is 8 bytes")
        let bytes = secret.withBytePointer { master, _ in
            SecureBytes(count: Self.byteCount) { (out: UnsafeMutablePointer<UInt8>, count: Int) in
                _ = crypto_kdf_derive_from_key(out, count, id, context, master)
            }
        }
        return SymmetricKey(exactly: bytes)
    }

    /// `nonce ‖ ciphertext ‖ tag` of `plaintext`, bound to `associatedData`.
    public func seal(_ plaintext: [UInt8], associatedData: [UInt8] = []) -> [UInt8] {
        let nonce = SodiumLibrary.randomBytes(Self.nonceBytes)
        var output = [UInt8](repeating: 0, count: Self.nonceBytes + plaintext.count + Self.tagBytes)
        output.replaceSubrange(0..<Self.nonceBytes, with: nonce)
        secret.withBytePointer { key, _ in
            output.withUnsafeMutableBufferPointer { out in
                var written: UInt64 = 0
                _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                    out.baseAddress! + Self.nonceBytes, &written, plaintext, UInt64(plaintext.count),
                    associatedData, UInt64(associatedData.count), nil, nonce, key)
            }
        }
        return output
    }

    /// The plaintext of `sealed`, or an error when it is not `seal`'s output under this key and
    /// `associatedData` (altered, truncated, another key).
    public func open(_ sealed: [UInt8], associatedData: [UInt8] = []) throws(SymmetricKeyError) -> [UInt8] {
        guard sealed.count >= Self.nonceBytes + Self.tagBytes else { throw SymmetricKeyError("sealed data is too short (\(sealed.count) bytes)") }
        let nonce = Array(sealed[0..<Self.nonceBytes])
        let ciphertext = Array(sealed[Self.nonceBytes...])
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count - Self.tagBytes)
        let status = secret.withBytePointer { key, _ in
            plaintext.withUnsafeMutableBufferPointer { out in
                var written: UInt64 = 0
                return crypto_aead_xchacha20poly1305_ietf_decrypt(
                    out.baseAddress, &written, nil, ciphertext, UInt64(ciphertext.count),
                    associatedData, UInt64(associatedData.count), nonce, key)
            }
        }
        guard status == 0 else { throw SymmetricKeyError("sealed data does not open under this key: altered, or sealed under another key") }
        return plaintext
    }

    /// HMAC-SHA-256 of `message`.
    public func authenticate(_ message: [UInt8]) -> [UInt8] { HMACSHA256.authenticate(message, key: secret) }

    /// Whether `mac` is the HMAC-SHA-256 of `message`, compared in constant time.
    public func isValid(mac: [UInt8], of message: [UInt8]) -> Bool { HMACSHA256.isValid(mac: mac, of: message, key: secret) }
}

/// HMAC-SHA-256 under a key of any length (a shared secret a peer chose, such as the SMS
/// gateway's report secret), which `SymmetricKey`'s fixed 32 bytes do not fit.
public enum HMACSHA256 {
    public static func authenticate(_ message: [UInt8], key: SecureBytes) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: SymmetricKey.macBytes)
        key.withBytePointer { pointer, count in
            var state = crypto_auth_hmacsha256_state()
            _ = crypto_auth_hmacsha256_init(&state, pointer, count)
            _ = crypto_auth_hmacsha256_update(&state, message, UInt64(message.count))
            _ = crypto_auth_hmacsha256_final(&state, &mac)
            // The state holds the key's padded blocks.
            sodium_memzero(&state, MemoryLayout<crypto_auth_hmacsha256_state>.size)
        }
        return mac
    }

    /// Constant-time check of `mac` against the HMAC of `message` under `key`.
    public static func isValid(mac: [UInt8], of message: [UInt8], key: SecureBytes) -> Bool {
        let expected = authenticate(message, key: key)
        guard mac.count == expected.count else { return false }
        return sodium_memcmp(mac, expected, expected.count) == 0
    }
}

public struct SymmetricKeyError: Error, Equatable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "symmetric key: \(reason)" }
}
