internal import CRocksDB

/// A consistent, point-in-time view of a `Database`: reads and cursors given this snapshot see
/// exactly the writes that had completed when it was taken.
///
/// Release it when done (or let it go out of scope): RocksDB keeps every version a live snapshot
/// can see. Closing the database releases it too; using it afterwards throws `.released`.
public final class Snapshot: Dependent, @unchecked Sendable {
    private weak var database: Database?
    // Guarded by the database's lock: read under the shared lock, cleared under the exclusive one
    // or by `release()` under the shared lock of a still-open database.
    private var pointer: OpaquePointer?
    private let stateLock = ReadWriteLock()

    init(database: Database, handle: OpaquePointer?) {
        self.database = database
        self.pointer = handle
    }

    deinit { release() }

    /// The C snapshot for a read on `database`. Call only inside the database's `withHandle`.
    func handle(for database: Database) throws(StorageError) -> OpaquePointer? {
        guard database === self.database else {
            throw StorageError(.invalidArgument, "the snapshot belongs to another database handle")
        }
        guard let pointer = stateLock.withReadLock({ pointer }) else {
            throw StorageError(.released, "the snapshot was released")
        }
        return pointer
    }

    /// Whether the snapshot can still be read from.
    public var isReleased: Bool { stateLock.withReadLock { pointer == nil } }

    /// Releases the snapshot; idempotent.
    public func release() {
        guard let database else { return }
        database.ifOpen { db in
            let released = stateLock.withWriteLock { () -> OpaquePointer? in
                defer { pointer = nil }
                return pointer
            }
            if let released { rocksdb_release_snapshot(db, released) }
        }
        database.unregister(self)
    }

    func releaseWhileDatabaseLocked(_ db: OpaquePointer) {
        let released = stateLock.withWriteLock { () -> OpaquePointer? in
            defer { pointer = nil }
            return pointer
        }
        if let released { rocksdb_release_snapshot(db, released) }
    }
}
