internal import CRocksDB

/// Ordered iteration over the keys in `[lowerBound, upperBound)` of one column family.
///
/// One task at a time: a cursor is not Sendable. It sees a consistent view (its snapshot's, or
/// the database's when the cursor was made). Closing the database releases it, and releasing its
/// snapshot ends it; `next()` then throws `.released` rather than read through a freed snapshot.
public final class Cursor: Dependent {
    private weak var database: Database?
    private var iterator: OpaquePointer?
    private var readOptions: OpaquePointer?
    /// RocksDB keeps a pointer to the upper bound for the iterator's lifetime, so it is owned here.
    private var upperBoundStorage: UnsafeMutableBufferPointer<CChar>?
    private var started = false
    /// Set once the range is exhausted: RocksDB asserts if an invalid iterator is advanced.
    private var finished = false
    private let lowerBound: [UInt8]
    /// Kept so that the snapshot the iterator reads through is held during every step.
    private let snapshot: Snapshot?

    /// Call only inside the database's `withHandle` and, with a snapshot, inside its `withHandle`.
    init(database: Database, db: OpaquePointer, family: OpaquePointer?, snapshot: (object: Snapshot, handle: OpaquePointer)?, lowerBound: [UInt8], upperBound: [UInt8]?) {
        self.database = database
        self.lowerBound = lowerBound
        self.snapshot = snapshot?.object
        let readOptions = rocksdb_readoptions_create()
        self.readOptions = readOptions
        if let snapshot { rocksdb_readoptions_set_snapshot(readOptions, snapshot.handle) }
        if let upperBound {
            let storage = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(upperBound.count, 1))
            _ = storage.initialize(from: upperBound.map { CChar(bitPattern: $0) })
            upperBoundStorage = storage
            rocksdb_readoptions_set_iterate_upper_bound(readOptions, storage.baseAddress, upperBound.count)
        }
        if let family {
            iterator = rocksdb_create_iterator_cf(db, readOptions, family)
        } else {
            iterator = rocksdb_create_iterator(db, readOptions)
        }
    }

    deinit {
        release()
        upperBoundStorage?.deallocate()
    }

    /// The next pair in key order, or nil at the end of the range.
    public func next() throws(StorageError) -> KeyValue? {
        guard let database else { throw StorageError(.released, "the cursor's database is gone") }
        return try database.withHandle { (_) throws(StorageError) -> KeyValue? in
            guard let iterator else { throw StorageError(.released, "the cursor was released (its database was closed)") }
            guard let snapshot else { return try step(iterator) }
            return try snapshot.withHandle(for: database) { (_) throws(StorageError) -> KeyValue? in try step(iterator) }
        }
    }

    /// Advances the iterator; the caller holds the database (and the snapshot, if any).
    private func step(_ iterator: OpaquePointer) throws(StorageError) -> KeyValue? {
        if finished { return nil }
        if started {
            rocksdb_iter_next(iterator)
        } else {
            started = true
            withCBytes(lowerBound) { kp, kl in rocksdb_iter_seek(iterator, kp, kl) }
        }
        guard rocksdb_iter_valid(iterator) != 0 else {
            finished = true
            try rocksCall { error in rocksdb_iter_get_error(iterator, error) }
            return nil
        }
        var keyLength = 0
        var valueLength = 0
        let key = rocksdb_iter_key(iterator, &keyLength)
        let value = rocksdb_iter_value(iterator, &valueLength)
        return KeyValue(
            key: Array(UnsafeRawBufferPointer(start: key, count: keyLength)),
            value: Array(UnsafeRawBufferPointer(start: value, count: valueLength)))
    }

    /// Frees the iterator now rather than when the cursor goes out of scope.
    public func release() {
        guard let database else { return }
        database.ifOpen { _ in freeCObjects() }
        database.unregister(self)
    }

    func releaseWhileDatabaseLocked(_ db: OpaquePointer) {
        freeCObjects()
    }

    private func freeCObjects() {
        if let iterator { rocksdb_iter_destroy(iterator) }
        iterator = nil
        if let readOptions { rocksdb_readoptions_destroy(readOptions) }
        readOptions = nil
    }
}
