/// A failure of the storage layer, with RocksDB's own message where RocksDB produced it.
///
/// Compare `code`, never `message`: the message is RocksDB's text (or ours) for people.
public struct StorageError: Error, Equatable, CustomStringConvertible {
    /// What kind of failure this is; stable across releases.
    public enum Code: String, Sendable, Equatable {
        /// The handle was closed; nothing was read or written.
        case closed = "closed"
        /// No database at the path and the caller did not ask to create one.
        case databaseMissing = "database-missing"
        /// Another process (or another handle in this process) holds the database's lock.
        case locked = "locked"
        /// RocksDB found damaged files: a manifest, table or log it cannot read.
        case corruption = "corruption"
        /// A column family was named that the handle was not opened with.
        case unknownColumnFamily = "unknown-column-family"
        /// The caller passed something RocksDB or this layer refuses.
        case invalidArgument = "invalid-argument"
        /// The snapshot or cursor was used after it was released or its database closed.
        case released = "released"
        /// An operating-system I/O failure (disk full, permission denied, …).
        case io = "io"
        /// Any other RocksDB status; the message says which.
        case other = "other"
    }

    public let code: Code
    /// RocksDB's status text, or this layer's explanation.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "storage error (\(code.rawValue)): \(message)" }

    /// Classifies a RocksDB status string. RocksDB's C API reports failures only as text that
    /// starts with the status name ("IO error: …", "Corruption: …"), so this is the one place that
    /// reads those prefixes.
    static func fromRocksDB(_ text: String) -> StorageError {
        let lower = text.lowercased()
        if lower.hasPrefix("corruption") { return StorageError(.corruption, text) }
        if lower.hasPrefix("io error") {
            // RocksDB reports a held LOCK file as "IO error: While lock file: …/LOCK: Resource
            // temporarily unavailable" (another process) or "lock hold by current process" (this one).
            if lower.contains("lock file") || lower.contains("lock hold") || lower.contains("/lock:") {
                return StorageError(.locked, text)
            }
            return StorageError(.io, text)
        }
        if lower.hasPrefix("invalid argument") {
            if lower.contains("does not exist") { return StorageError(.databaseMissing, text) }
            return StorageError(.invalidArgument, text)
        }
        return StorageError(.other, text)
    }
}
