internal import CSodium

/// An Ed25519 signing key (libsodium `crypto_sign_*`). The 64-byte secret key (seed and public
/// key, libsodium's layout) lives in guarded memory; only the 32-byte seed is ever sealed.
public final class Ed25519SigningKey: Sendable {
    public static let seedByteCount = 32
    public static let publicKeyByteCount = 32
    public static let signatureByteCount = 64

    private let secretKey: SecureBytes
    public let publicKey: [UInt8]

    /// Derives the key pair from a 32-byte seed (deterministic, RFC 8032).
    public init(seed: SecureBytes) throws(Ed25519Error) {
        guard seed.count == Self.seedByteCount else {
            throw Ed25519Error("an Ed25519 seed is \(Self.seedByteCount) bytes, not \(seed.count)")
        }
        SodiumLibrary.ensureInitialized()
        var publicKey = [UInt8](repeating: 0, count: Self.publicKeyByteCount)
        secretKey = seed.withBytePointer { (seedPointer, _) in
            SecureBytes(count: Int(crypto_sign_SECRETKEYBYTES)) { (secretPointer: UnsafeMutablePointer<UInt8>, _: Int) in
                publicKey.withUnsafeMutableBufferPointer { publicBuffer in
                    _ = crypto_sign_seed_keypair(publicBuffer.baseAddress!, secretPointer, seedPointer)
                }
            }
        }
        self.publicKey = publicKey
    }

    /// A new random seed in guarded memory, for `init(seed:)` and for sealing.
    public static func generateSeed() -> SecureBytes {
        SecureBytes.random(count: seedByteCount)
    }

    /// The detached 64-byte signature of `message`.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: Self.signatureByteCount)
        secretKey.withBytePointer { (secretPointer, _) in
            message.withUnsafeBufferPointer { messageBuffer in
                signature.withUnsafeMutableBufferPointer { signatureBuffer in
                    _ = crypto_sign_detached(signatureBuffer.baseAddress!, nil, messageBuffer.baseAddress ?? secretPointer, UInt64(messageBuffer.count), secretPointer)
                }
            }
        }
        return signature
    }
}

/// Verification of Ed25519 signatures by public key.
public enum Ed25519 {
    /// Whether `signature` is a valid Ed25519 signature of `message` by `publicKey`. Wrong lengths
    /// are simply invalid.
    public static func isValidSignature(_ signature: [UInt8], of message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == Ed25519SigningKey.signatureByteCount, publicKey.count == Ed25519SigningKey.publicKeyByteCount else { return false }
        SodiumLibrary.ensureInitialized()
        return signature.withUnsafeBufferPointer { signatureBuffer in
            publicKey.withUnsafeBufferPointer { keyBuffer in
                message.withUnsafeBufferPointer { messageBuffer in
                    // An empty message still needs a non-null pointer; any valid address will do.
                    crypto_sign_verify_detached(signatureBuffer.baseAddress!, messageBuffer.baseAddress ?? keyBuffer.baseAddress!, UInt64(messageBuffer.count), keyBuffer.baseAddress!) == 0
                }
            }
        }
    }
}

public struct Ed25519Error: Error, Equatable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "Ed25519: \(reason)" }
}
