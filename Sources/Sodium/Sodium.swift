internal import CSodium

/// libsodium as this process uses it: initialization once, and the linked version.
public enum SodiumLibrary {
    /// `sodium_init()` must run before any other call; it is idempotent and thread-safe, and a
    /// failure (no entropy source) leaves nothing safe to do, so it stops the process.
    private static let initialized: Bool = {
        guard sodium_init() >= 0 else { fatalError("libsodium could not initialize (no entropy source?)") }
        return true
    }()

    static func ensureInitialized() {
        precondition(initialized)
    }

    /// The libsodium library this process linked, as it reports itself ("1.0.18").
    public static var version: String {
        ensureInitialized()
        return String(cString: sodium_version_string())
    }

    /// `count` bytes from libsodium's CSPRNG (the kernel's `getrandom`).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        ensureInitialized()
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { randombytes_buf(base, buffer.count) }
        }
        return bytes
    }

    /// A uniformly random number below `bound` (`randombytes_uniform`, no modulo bias): the
    /// digits of a one-time code.
    public static func uniformRandom(_ bound: UInt32) -> UInt32 {
        ensureInitialized()
        return randombytes_uniform(bound)
    }
}
