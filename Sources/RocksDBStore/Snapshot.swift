internal import CRocksDB

/// A consistent, point-in-time view of a `Database`: reads and cursors given this snapshot see
/// exactly the writes that had completed when it was taken.
///
/// Release it when done (or let it go out of scope): RocksDB keeps every version a live snapshot
/// can see. Closing the database releases it too; using it afterwards throws `.released`.
/// A read or cursor step that is using the snapshot holds it, so `release()` from another task
/// waits for that step instead of freeing the snapshot under it.
public final class Snapshot: Dependent, @unchecked Sendable {
    private weak var database: Database?
    /// Guarded by `stateLock`: held shared while a read uses it, exclusive to clear it.
    private var pointer: OpaquePointer?
    private let stateLock = ReadWriteLock()

    init(database: Database, handle: OpaquePointer?) {
        self.database = database
        self.pointer = handle
    }

    deinit { release() }

    /// Runs `body` with the C snapshot, which cannot be released until `body` returns. Call only
    /// inside `database`'s `withHandle` (lock order: database, then snapshot).
    func withHandle<T>(for database: Database, _ body: (OpaquePointer) throws(StorageError) -> T) throws(StorageError) -> T {
        guard database === self.database else {
            throw StorageError(.invalidArgument, "the snapshot belongs to another database handle")
        }
        return try stateLock.withReadLock { () throws(StorageError) -> T in
            guard let pointer else { throw StorageError(.released, "the snapshot was released") }
            return try body(pointer)
        }
    }

    /// Whether the snapshot can still be read from.
    public var isReleased: Bool { stateLock.withReadLock { pointer == nil } }

    /// Releases the snapshot; idempotent.
    public func release() {
        guard let database else { return }
        database.ifOpen { db in releaseWhileDatabaseLocked(db) }
        database.unregister(self)
    }

    func releaseWhileDatabaseLocked(_ db: OpaquePointer) {
        let taken = stateLock.withWriteLock { () -> OpaquePointer? in
            defer { pointer = nil }
            return pointer
        }
        if let taken { rocksdb_release_snapshot(db, taken) }
    }
}
