/// How to open a database. The defaults open an existing database read-write and refuse to
/// create one, so that a mistyped path is an error rather than a new empty ledger.
public struct OpenOptions: Sendable {
    /// Create the database if the path holds none.
    public var createIfMissing: Bool = false
    /// Open without taking RocksDB's lock and refuse every write; for inspecting a database that
    /// another process may hold (reads see what was on disk, write-ahead log included, when it opened).
    public var readOnly: Bool = false
    /// Ask RocksDB to check more aggressively and fail on any inconsistency it sees.
    public var paranoidChecks: Bool = true
    /// Upper bound on open table files (`-1`: no limit).
    public var maxOpenFiles: Int32 = 512
    /// Size of each memtable before it is flushed.
    public var writeBufferBytes: Int = 32 << 20
    /// Size of the block cache shared by every column family. Proofs read tree nodes at random
    /// places; RocksDB's default (32 MiB) holds the nodes of only a few million entries.
    public var blockCacheBytes: Int = 256 << 20

    public init(createIfMissing: Bool = false, readOnly: Bool = false) {
        self.createIfMissing = createIfMissing
        self.readOnly = readOnly
    }
}

/// Whether a write returns before or after it is on disk.
public enum Durability: Sendable {
    /// `fsync`/`fdatasync` of RocksDB's write-ahead log before the call returns: the write survives
    /// a power cut or `kill -9`. Everything that is acknowledged to a client uses this.
    case synced
    /// Written to the write-ahead log in the OS page cache only: survives a process crash, not a
    /// machine crash. For rebuildable data only.
    case unsynced
}
