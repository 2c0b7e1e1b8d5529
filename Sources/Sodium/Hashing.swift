internal import CSodium

/// SHA-256 through libsodium (`crypto_hash_sha256`): the hash of RFC 9162's Merkle tree and of
/// signed-note key IDs.
public enum SHA256 {
    public static let byteCount = 32

    /// SHA-256 of the concatenation of `parts`, without concatenating them first: the Merkle
    /// tree hashes a one-byte prefix and one or two 32-byte hashes millions of times.
    public static func hash(_ parts: [UInt8]...) -> [UInt8] {
        hash(parts: parts)
    }

    public static func hash(parts: [[UInt8]]) -> [UInt8] {
        SodiumLibrary.ensureInitialized()
        var state = crypto_hash_sha256_state()
        crypto_hash_sha256_init(&state)
        for part in parts {
            part.withUnsafeBufferPointer { buffer in
                if let base = buffer.baseAddress { _ = crypto_hash_sha256_update(&state, base, UInt64(buffer.count)) }
            }
        }
        var digest = [UInt8](repeating: 0, count: byteCount)
        digest.withUnsafeMutableBufferPointer { buffer in
            _ = crypto_hash_sha256_final(&state, buffer.baseAddress!)
        }
        return digest
    }
}
