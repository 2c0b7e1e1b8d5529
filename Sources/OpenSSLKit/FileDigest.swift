internal import COpenSSL
import Glibc

/// Digests of a file computed in one streaming pass, so a multi-gigabyte document is hashed
/// with SHA-256 and SHA-512 together without ever being held in memory.
public enum FileDigest {
    /// Bytes read per call: large enough that the system-call cost disappears behind hashing.
    static let chunkBytes = 1 << 20

    public struct Result: Sendable, Equatable {
        public let size: UInt64
        /// In the order of the algorithms asked for.
        public let digests: [[UInt8]]
    }

    /// Reads `path` once and returns its size and one digest per algorithm.
    public static func compute(path: String, algorithms: [TimeStampHash]) throws(OpenSSLError) -> Result {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw OpenSSLError(code: .malformedInput, reason: "cannot open \(path): \(String(cString: strerror(errno)))", openSSLErrors: [])
        }
        defer { close(descriptor) }
        let contexts = try algorithms.map { algorithm throws(OpenSSLError) in try DigestContext(algorithm) }
        var buffer = [UInt8](repeating: 0, count: chunkBytes)
        var size: UInt64 = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, chunkBytes) }
            if count < 0 {
                if errno == EINTR { continue }
                throw OpenSSLError(code: .malformedInput, reason: "cannot read \(path): \(String(cString: strerror(errno)))", openSSLErrors: [])
            }
            if count == 0 { break }
            size += UInt64(count)
            for context in contexts {
                let ok = buffer.withUnsafeBytes { context.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                guard ok else { throw OpenSSLError.drain(.operationFailed, "digest update failed") }
            }
        }
        return Result(size: size, digests: try contexts.map { context throws(OpenSSLError) in try context.finish() })
    }

    /// Digests of bytes already in memory (an embedded document).
    public static func compute(bytes: [UInt8], algorithms: [TimeStampHash]) -> Result {
        Result(size: UInt64(bytes.count), digests: algorithms.map { $0.digest(bytes) })
    }
}

/// An owning `EVP_MD_CTX` for one running digest.
final class DigestContext {
    let pointer: OpaquePointer

    init(_ algorithm: TimeStampHash) throws(OpenSSLError) {
        OpenSSLError.clearQueue()
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate a digest context") }
        guard EVP_DigestInit_ex(context, algorithm.md, nil) == 1 else {
            EVP_MD_CTX_free(context)
            throw OpenSSLError.drain(.operationFailed, "cannot start a \(algorithm) digest")
        }
        pointer = context
    }

    deinit { EVP_MD_CTX_free(pointer) }

    /// False when libcrypto fails (its error queue says why).
    func update(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.isEmpty || EVP_DigestUpdate(pointer, bytes.baseAddress, bytes.count) == 1
    }

    func finish() throws(OpenSSLError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(pointer, &output, &length) == 1 else { throw OpenSSLError.drain(.operationFailed, "digest final failed") }
        return Array(output.prefix(Int(length)))
    }
}
