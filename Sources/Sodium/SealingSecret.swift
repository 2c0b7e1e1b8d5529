internal import CSodium
import Glibc

/// What unlocks sealed keys: a passphrase an operator types or passes in the environment, or a
/// key file of random bytes that only the appliance's user can read.
///
/// Both go through Argon2id (see `SealedKey`), so a stolen sealed key costs an attacker the same
/// per guess whichever is used; a key file simply makes guessing hopeless.
public enum SealingSecret: Sendable {
    case passphrase(SecureBytes)
    case keyFile(path: String)

    /// Key files hold at least this many bytes.
    public static let minimumKeyFileBytes = 32
    /// Anything larger is not a key file someone meant to use.
    static let maximumKeyFileBytes = 4096

    /// The bytes that go into Argon2id.
    func material() throws(SealedKeyError) -> SecureBytes {
        switch self {
        case .passphrase(let bytes):
            guard bytes.count > 0 else { throw SealedKeyError(.emptyPassphrase, "the passphrase is empty") }
            return bytes
        case .keyFile(let path):
            return try SealingSecret.readKeyFile(path)
        }
    }

    /// Creates a key file of 32 random bytes at `path`, mode 0600, synced to disk.
    /// - Throws: `.fileExists` rather than replace a key that may already seal keys.
    public static func createKeyFile(at path: String) throws(SealedKeyError) {
        let secret = SecureBytes.random(count: minimumKeyFileBytes)
        try secret.withUnsafeBytes { (bytes) throws(SealedKeyError) in
            try DurableFile.create(at: path, contents: bytes, mode: 0o600)
        }
    }

    private static func readKeyFile(_ path: String) throws(SealedKeyError) -> SecureBytes {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw SealedKeyError(.keyFileUnreadable, "cannot open key file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw SealedKeyError(.keyFileUnreadable, "key file \(path) is not a regular file")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw SealedKeyError(.keyFileInsecure, "key file \(path) has mode \(String(info.st_mode & 0o777, radix: 8)); it must not be readable by group or others (chmod 600)")
        }
        let size = Int(info.st_size)
        guard size >= minimumKeyFileBytes else {
            throw SealedKeyError(.keyFileTooShort, "key file \(path) holds \(size) bytes; at least \(minimumKeyFileBytes) random bytes are required")
        }
        guard size <= maximumKeyFileBytes else {
            throw SealedKeyError(.invalidParameters, "key file \(path) holds \(size) bytes; at most \(maximumKeyFileBytes) are accepted")
        }
        return try SecureBytes(count: size) { (buffer) throws(SealedKeyError) in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < size {
                let got = read(descriptor, base + offset, size - offset)
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else {
                    throw SealedKeyError(.keyFileUnreadable, "reading key file \(path) failed after \(offset) bytes")
                }
                offset += got
            }
        }
    }
}

/// Writing a file so that it is either wholly there after a crash or not there at all.
public enum DurableFile {
    /// Writes `contents` to a temporary file beside `path`, syncs it, links it into place only if
    /// `path` does not exist, and syncs the directory.
    public static func create(at path: String, contents: UnsafeRawBufferPointer, mode: UInt32) throws(SealedKeyError) {
        if access(path, F_OK) == 0 {
            throw SealedKeyError(.fileExists, "\(path) already exists; refusing to overwrite it")
        }
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw SealedKeyError(.io, "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        var offset = 0
        while offset < contents.count, let base = contents.baseAddress {
            let written = write(descriptor, base + offset, contents.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                let message = String(cString: strerror(errno))
                close(descriptor)
                unlink(temporary)
                throw SealedKeyError(.io, "writing \(temporary) failed: \(message)")
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else {
            let message = String(cString: strerror(errno))
            close(descriptor)
            unlink(temporary)
            throw SealedKeyError(.io, "syncing \(temporary) failed: \(message)")
        }
        close(descriptor)
        // link(2) fails if the target exists, so a concurrent writer cannot be overwritten.
        guard link(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw SealedKeyError(errno == EEXIST ? .fileExists : .io, "cannot create \(path): \(message)")
        }
        unlink(temporary)
        syncDirectory(of: path)
    }

    static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let descriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }
}

extension SealingSecret {
    /// Checks that the secret can be used (for a key file: present, a regular file, mode 0600 or
    /// stricter, long enough), without unsealing anything. The appliance calls this at start so
    /// that a bad key file is reported then, not at the first signature.
    public func check() throws(SealedKeyError) {
        _ = try material()
    }
}
