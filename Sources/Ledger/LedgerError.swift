import RocksDBStore

/// Why a ledger operation failed. Compare `code`; `reason` is for people and names what failed.
public struct LedgerError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The entry to append is not acceptable: unknown type, body not an object, too large.
        case invalidEntry = "invalid-entry"
        /// Bytes read as an entry or record are not canonical JSON (RFC 8785) or not well formed.
        case notCanonical = "not-canonical"
        /// No entry with this sequence number, or no checkpoint yet.
        case notFound = "not-found"
        /// An index, size or pair of sizes that cannot describe part of any tree (index ≥ size,
        /// from > to, from = 0).
        case invalidRange = "invalid-range"
        /// A tree size the ledger has not reached yet.
        case beyondTree = "beyond-tree"
        /// Stored data contradicts itself (audit tells where).
        case corrupt = "corrupt"
        /// The checkpoint key does not belong to this ledger, or signing failed.
        case key = "key"
        /// The ledger was closed; nothing more is accepted.
        case closed = "closed"
        /// RocksDB failed (disk full, I/O error); nothing of the failed group was acknowledged.
        case storage = "storage"
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    init(storage error: StorageError) {
        self.init(.storage, error.description)
    }

    public var description: String { "ledger: \(code.rawValue): \(reason)" }
}
