internal import CSodium

/// Secret bytes in libsodium's guarded memory: their own pages, fenced by inaccessible guard
/// pages, locked against swapping where the system allows, read-only once filled, and zeroed
/// when released (`sodium_free`). Private keys and passphrases live only in these.
///
/// Never printed: `description` shows the length only.
public final class SecureBytes: @unchecked Sendable, CustomStringConvertible {
    private let pointer: UnsafeMutableRawPointer
    /// The number of secret bytes.
    public let count: Int

    /// Allocates `count` bytes, lets `fill` write them, then makes them read-only.
    /// - Throws: what `fill` throws (the memory is then zeroed and freed). Guarded memory that
    ///   cannot be had at all stops the process: there is no safe place left for a secret.
    public init<E: Error>(count: Int, fill: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        SodiumLibrary.ensureInitialized()
        // sodium_malloc(0) is valid but awkward to lend out; one spare byte costs nothing.
        guard let pointer = sodium_malloc(max(count, 1)) else {
            fatalError("guarded memory exhausted: sodium_malloc(\(count)) failed")
        }
        self.pointer = pointer
        self.count = count
        // Every stored property is set, so if `fill` throws, deinit runs and frees (and zeroes) it.
        try fill(UnsafeMutableRawBufferPointer(start: pointer, count: count))
        sodium_mprotect_readonly(pointer)
    }

    /// Copies `bytes` into guarded memory. The caller remains responsible for its own copy.
    public convenience init(copying bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        self.init(count: array.count) { (buffer: UnsafeMutableRawBufferPointer) in
            buffer.copyBytes(from: array)
        }
    }

    /// `count` random bytes made directly in guarded memory.
    public static func random(count: Int) -> SecureBytes {
        SecureBytes(count: count) { (pointer: UnsafeMutablePointer<UInt8>, count: Int) in
            randombytes_buf(pointer, count)
        }
    }

    /// Like `init(count:fill:)`, with a non-null typed pointer for libsodium's nonnull parameters.
    convenience init<E: Error>(count: Int, fillPointer: (UnsafeMutablePointer<UInt8>, Int) throws(E) -> Void) throws(E) {
        try self.init(count: count) { (buffer: UnsafeMutableRawBufferPointer) throws(E) in
            // sodium_malloc always returns at least one byte, so the base address exists.
            guard let base = buffer.baseAddress else { return }
            try fillPointer(base.assumingMemoryBound(to: UInt8.self), count)
        }
    }

    /// Lends the bytes as a non-null typed pointer (libsodium's nonnull parameters). MUST NOT escape.
    func withBytePointer<T, E: Error>(_ body: (UnsafePointer<UInt8>, Int) throws(E) -> T) throws(E) -> T {
        try body(UnsafePointer(pointer.assumingMemoryBound(to: UInt8.self)), count)
    }

    deinit {
        // sodium_free makes the region writable, zeroes it, unlocks it and unmaps it.
        sodium_free(pointer)
    }

    /// Lends the bytes for reading. The pointer MUST NOT escape `body`.
    public func withUnsafeBytes<T, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Constant-time comparison (`sodium_memcmp`).
    public func constantTimeEquals(_ other: SecureBytes) -> Bool {
        guard count == other.count else { return false }
        return sodium_memcmp(pointer, other.pointer, count) == 0
    }

    public var description: String { "SecureBytes(\(count) bytes, redacted)" }
}
