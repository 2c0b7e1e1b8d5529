internal import CRocksDB
import Glibc

/// A column family of one open `Database`: a separate keyspace sharing the database's write-ahead
/// log, so one batch can write to several families atomically.
public struct ColumnFamily: Sendable, Hashable, CustomStringConvertible {
    /// The family's name; `"default"` always exists.
    public let name: String
    let index: Int
    let owner: ObjectIdentifier

    public var description: String { name }
}

/// An open RocksDB database: the owning Swift handle over `rocksdb_t`.
///
/// Thread-safe. Every call checks that the handle is still open, under a shared lock that
/// `close()` takes exclusively; after `close()` every call throws `StorageError.closed` and live
/// snapshots and cursors are released, so no C object is ever used after it was freed.
public final class Database: @unchecked Sendable {
    /// The directory RocksDB keeps its files in.
    public let path: String
    /// Whether the database was opened read-only (see `OpenOptions.readOnly`).
    public let isReadOnly: Bool

    private let lock = ReadWriteLock()
    // Guarded by `lock`: written only under the write lock.
    private var db: OpaquePointer?
    private var familyHandles: [OpaquePointer?]
    private let familyNames: [String]
    private let syncedWrite: OpaquePointer
    private let unsyncedWrite: OpaquePointer
    // Live snapshots and cursors, released by `close()`. Guarded by `registryLock`.
    private let registryLock = ReadWriteLock()
    private var dependents: [ObjectIdentifier: WeakDependent] = [:]

    /// Opens (or creates) the database at `path` with the column families it already has plus
    /// `columnFamilies`. RocksDB requires every existing family to be opened, so the existing ones
    /// are listed first; families asked for that do not exist yet are created (unless read-only).
    ///
    /// - Throws: `.databaseMissing` when there is no database and `createIfMissing` is false;
    ///   `.locked` when another process or handle holds it; `.corruption` for damaged files;
    ///   `.unknownColumnFamily` when a read-only open asks for a family that does not exist.
    public init(path: String, options openOptions: OpenOptions = OpenOptions(), columnFamilies: [String] = []) throws(StorageError) {
        self.path = path
        self.isReadOnly = openOptions.readOnly

        let hasCurrentFile = access(path + "/CURRENT", F_OK) == 0
        if !hasCurrentFile && (!openOptions.createIfMissing || openOptions.readOnly) {
            throw StorageError(
                .databaseMissing,
                access(path, F_OK) == 0 ? "\(path) holds no RocksDB database (no CURRENT file)" : "\(path) does not exist")
        }

        guard let options = rocksdb_options_create() else {
            throw StorageError(.other, "RocksDB could not allocate its options")
        }
        // RocksDB copies the options (and the per-family ones) when it opens; they are not kept.
        defer { rocksdb_options_destroy(options) }
        rocksdb_options_set_create_if_missing(options, openOptions.createIfMissing ? 1 : 0)
        rocksdb_options_set_create_missing_column_families(options, 1)
        rocksdb_options_set_paranoid_checks(options, openOptions.paranoidChecks ? 1 : 0)
        rocksdb_options_set_max_open_files(options, Int32(openOptions.maxOpenFiles))
        rocksdb_options_set_write_buffer_size(options, openOptions.writeBufferBytes)
        rocksdb_options_set_compression(options, Int32(rocksdb_lz4_compression))
        // One block cache for all families, and a Bloom filter per table so that a point read
        // skips the files that cannot hold its key. The table factory keeps its own references
        // to the cache and the filter; the handles made here are released after the open.
        let tableOptions = rocksdb_block_based_options_create()
        let blockCache = rocksdb_cache_create_lru(openOptions.blockCacheBytes)
        defer {
            rocksdb_block_based_options_destroy(tableOptions)
            rocksdb_cache_destroy(blockCache)
        }
        rocksdb_block_based_options_set_block_cache(tableOptions, blockCache)
        rocksdb_block_based_options_set_filter_policy(tableOptions, rocksdb_filterpolicy_create_bloom_full(10))
        rocksdb_options_set_block_based_table_factory(options, tableOptions)

        var names = hasCurrentFile ? try Database.listColumnFamilies(options: options, path: path) : ["default"]
        for name in columnFamilies where !names.contains(name) {
            if openOptions.readOnly {
                throw StorageError(.unknownColumnFamily, "column family \"\(name)\" does not exist in \(path) (opened read-only)")
            }
            names.append(name)
        }

        var handles = [OpaquePointer?](repeating: nil, count: names.count)
        let familyOptions = [OpaquePointer?](repeating: options, count: names.count)
        let cNames = names.map { strdup($0) }
        defer { cNames.forEach { free($0) } }
        var namePointers = cNames.map { UnsafePointer($0) }

        let opened = try rocksCall { error in
            if openOptions.readOnly {
                rocksdb_open_for_read_only_column_families(
                    options, path, Int32(names.count), &namePointers, familyOptions, &handles, 0, error)
            } else {
                rocksdb_open_column_families(
                    options, path, Int32(names.count), &namePointers, familyOptions, &handles, error)
            }
        }
        guard let opened else {
            throw StorageError(.other, "RocksDB returned no handle for \(path) and no error")
        }

        self.db = opened
        self.familyHandles = handles
        self.familyNames = names
        self.syncedWrite = rocksdb_writeoptions_create()
        rocksdb_writeoptions_set_sync(syncedWrite, 1)
        self.unsyncedWrite = rocksdb_writeoptions_create()
        rocksdb_writeoptions_set_sync(unsyncedWrite, 0)
    }

    deinit {
        close()
        rocksdb_writeoptions_destroy(syncedWrite)
        rocksdb_writeoptions_destroy(unsyncedWrite)
    }

    private static func listColumnFamilies(options: OpaquePointer, path: String) throws(StorageError) -> [String] {
        var count = 0
        let list = try rocksCall { error in rocksdb_list_column_families(options, path, &count, error) }
        guard let list else { return ["default"] }
        defer { rocksdb_list_column_families_destroy(list, count) }
        return (0..<count).compactMap { index in list[index].map { String(cString: $0) } }
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { lock.withReadLock { db == nil } }

    /// Releases every live snapshot and cursor, then closes RocksDB, which flushes and releases its
    /// lock. Idempotent. After it, every call on this handle throws `.closed`.
    public func close() {
        lock.withWriteLock {
            guard let db else { return }
            // Dependents register under the shared lock, so none can appear while this runs.
            let live = registryLock.withWriteLock { () -> [any Dependent] in
                let live = dependents.values.compactMap { $0.value }
                dependents.removeAll()
                return live
            }
            for dependent in live { dependent.releaseWhileDatabaseLocked(db) }
            for handle in familyHandles { if let handle { rocksdb_column_family_handle_destroy(handle) } }
            familyHandles = familyHandles.map { _ in nil }
            rocksdb_close(db)
            self.db = nil
        }
    }

    /// The names of the column families this handle has open, `"default"` first.
    public var columnFamilyNames: [String] { familyNames }

    /// The column family called `name`.
    /// - Throws: `.unknownColumnFamily` when the handle was not opened with it.
    public func columnFamily(_ name: String) throws(StorageError) -> ColumnFamily {
        guard let index = familyNames.firstIndex(of: name) else {
            throw StorageError(.unknownColumnFamily, "column family \"\(name)\" is not open in \(path); open families: \(familyNames.joined(separator: ", "))")
        }
        return ColumnFamily(name: name, index: index, owner: ObjectIdentifier(self))
    }

    // MARK: - Access under the lock

    /// Runs `body` with the open C handle under the shared lock, or throws `.closed`.
    func withHandle<T>(_ body: (OpaquePointer) throws(StorageError) -> T) throws(StorageError) -> T {
        try lock.withReadLock { () throws(StorageError) -> T in
            guard let db else { throw StorageError(.closed, "the database at \(path) is closed") }
            return try body(db)
        }
    }

    /// The C handle of `family` (nil for the default family). Call only inside `withHandle`.
    func familyHandle(_ family: ColumnFamily?) throws(StorageError) -> OpaquePointer? {
        guard let family else { return nil }
        guard family.owner == ObjectIdentifier(self), family.index < familyHandles.count,
              let handle = familyHandles[family.index] else {
            throw StorageError(.unknownColumnFamily, "column family \"\(family.name)\" belongs to another database handle")
        }
        return handle
    }

    // MARK: - Writes

    /// Puts one key. `durability: .synced` returns only once the write-ahead log is on disk.
    public func put(_ key: [UInt8], _ value: [UInt8], in family: ColumnFamily? = nil, durability: Durability) throws(StorageError) {
        var batch = WriteBatch()
        batch.put(key, value, in: family)
        try write(batch, durability: durability)
    }

    /// Deletes one key (no error if it is absent).
    public func delete(_ key: [UInt8], in family: ColumnFamily? = nil, durability: Durability) throws(StorageError) {
        var batch = WriteBatch()
        batch.delete(key, in: family)
        try write(batch, durability: durability)
    }

    /// Applies `batch` atomically. With `.synced` it MUST NOT return before the batch is durable:
    /// callers acknowledge appends to clients on the strength of this return.
    public func write(_ batch: WriteBatch, durability: Durability) throws(StorageError) {
        if isReadOnly { throw StorageError(.invalidArgument, "the database at \(path) is open read-only") }
        try withHandle { (db) throws(StorageError) in
            let cBatch = rocksdb_writebatch_create()
            defer { rocksdb_writebatch_destroy(cBatch) }
            for operation in batch.operations {
                switch operation {
                case .put(let family, let key, let value):
                    let handle = try familyHandle(family)
                    withCBytes(key) { kp, kl in
                        withCBytes(value) { vp, vl in
                            if let handle {
                                rocksdb_writebatch_put_cf(cBatch, handle, kp, kl, vp, vl)
                            } else {
                                rocksdb_writebatch_put(cBatch, kp, kl, vp, vl)
                            }
                        }
                    }
                case .delete(let family, let key):
                    let handle = try familyHandle(family)
                    withCBytes(key) { kp, kl in
                        if let handle {
                            rocksdb_writebatch_delete_cf(cBatch, handle, kp, kl)
                        } else {
                            rocksdb_writebatch_delete(cBatch, kp, kl)
                        }
                    }
                }
            }
            let writeOptions = durability == .synced ? syncedWrite : unsyncedWrite
            try rocksCall { error in rocksdb_write(db, writeOptions, cBatch, error) }
        }
    }

    // MARK: - Reads

    /// The value stored under `key`, or nil; read from `snapshot` when one is given.
    public func get(_ key: [UInt8], in family: ColumnFamily? = nil, snapshot: Snapshot? = nil) throws(StorageError) -> [UInt8]? {
        try withHandle { (db) throws(StorageError) -> [UInt8]? in
            let handle = try familyHandle(family)
            let readOptions = rocksdb_readoptions_create()
            defer { rocksdb_readoptions_destroy(readOptions) }
            func read() throws(StorageError) -> [UInt8]? {
                var length = 0
                let pointer = try rocksCall { error in
                    withCBytes(key) { kp, kl in
                        if let handle {
                            rocksdb_get_cf(db, readOptions, handle, kp, kl, &length, error)
                        } else {
                            rocksdb_get(db, readOptions, kp, kl, &length, error)
                        }
                    }
                }
                return takeRocksBuffer(pointer, length: length)
            }
            guard let snapshot else { return try read() }
            return try snapshot.withHandle(for: self) { (snapshotHandle) throws(StorageError) -> [UInt8]? in
                rocksdb_readoptions_set_snapshot(readOptions, snapshotHandle)
                return try read()
            }
        }
    }

    /// Every key–value pair with `lowerBound <= key < upperBound` (no upper bound: to the end) in
    /// bytewise key order, at most `limit` of them. For long ranges use `cursor(in:from:to:snapshot:)`.
    public func scan(in family: ColumnFamily? = nil, from lowerBound: [UInt8], to upperBound: [UInt8]? = nil, limit: Int = .max, snapshot: Snapshot? = nil) throws(StorageError) -> [KeyValue] {
        let cursor = try self.cursor(in: family, from: lowerBound, to: upperBound, snapshot: snapshot)
        var result: [KeyValue] = []
        while result.count < limit, let pair = try cursor.next() { result.append(pair) }
        return result
    }

    /// A cursor over keys in `[lowerBound, upperBound)` in key order. The cursor reads a consistent
    /// view: the one of `snapshot`, or the database as it was when the cursor was made.
    public func cursor(in family: ColumnFamily? = nil, from lowerBound: [UInt8], to upperBound: [UInt8]? = nil, snapshot: Snapshot? = nil) throws(StorageError) -> Cursor {
        let cursor = try withHandle { (db) throws(StorageError) -> Cursor in
            let handle = try familyHandle(family)
            let cursor: Cursor
            if let snapshot {
                cursor = try snapshot.withHandle(for: self) { (snapshotHandle) throws(StorageError) -> Cursor in
                    Cursor(database: self, db: db, family: handle, snapshot: (snapshot, snapshotHandle), lowerBound: lowerBound, upperBound: upperBound)
                }
            } else {
                cursor = Cursor(database: self, db: db, family: handle, snapshot: nil, lowerBound: lowerBound, upperBound: upperBound)
            }
            register(cursor)
            return cursor
        }
        return cursor
    }

    /// A consistent point-in-time view for reads and cursors, until it is released.
    public func snapshot() throws(StorageError) -> Snapshot {
        let snapshot = try withHandle { (db) throws(StorageError) -> Snapshot in
            let snapshot = Snapshot(database: self, handle: rocksdb_create_snapshot(db))
            register(snapshot)
            return snapshot
        }
        return snapshot
    }

    /// A RocksDB property such as `rocksdb.estimate-num-keys`, or nil if RocksDB does not know it.
    public func property(_ name: String, in family: ColumnFamily? = nil) throws(StorageError) -> String? {
        try withHandle { (db) throws(StorageError) -> String? in
            let handle = try familyHandle(family)
            let value = handle.map { rocksdb_property_value_cf(db, $0, name) } ?? rocksdb_property_value(db, name)
            guard let value else { return nil }
            defer { rocksdb_free(value) }
            return String(cString: value)
        }
    }

    // MARK: - Backups

    /// Writes a RocksDB checkpoint of the whole database into `directory`, which must not exist
    /// yet: a consistent copy (hard links where the file system allows) that opens as a database
    /// on its own. This is how backups are taken without stopping writes.
    public func createCheckpoint(at directory: String) throws(StorageError) {
        if access(directory, F_OK) == 0 {
            throw StorageError(.invalidArgument, "checkpoint target \(directory) already exists")
        }
        try withHandle { (db) throws(StorageError) in
            let checkpoint = try rocksCall { error in rocksdb_checkpoint_object_create(db, error) }
            defer { rocksdb_checkpoint_object_destroy(checkpoint) }
            // 0: always flush the memtables so the checkpoint holds no write-ahead log to replay.
            try rocksCall { error in rocksdb_checkpoint_create(checkpoint, directory, 0, error) }
        }
    }

    /// Flushes and compacts the keys in `[lowerBound, upperBound)` of `family`, so that values
    /// deleted there leave the table files now rather than at some later compaction (erasure of
    /// personal data).
    public func compact(in family: ColumnFamily? = nil, from lowerBound: [UInt8], to upperBound: [UInt8]) throws(StorageError) {
        try flush()
        try withHandle { (db) throws(StorageError) in
            let handle = try familyHandle(family)
            lowerBound.withUnsafeBufferPointer { lower in
                upperBound.withUnsafeBufferPointer { upper in
                    lower.withMemoryRebound(to: CChar.self) { lowerChars in
                        upper.withMemoryRebound(to: CChar.self) { upperChars in
                            if let handle {
                                rocksdb_compact_range_cf(db, handle, lowerChars.baseAddress, lower.count, upperChars.baseAddress, upper.count)
                            } else {
                                rocksdb_compact_range(db, lowerChars.baseAddress, lower.count, upperChars.baseAddress, upper.count)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Flushes memtables to table files (for tests and for a clean shutdown).
    public func flush() throws(StorageError) {
        try withHandle { (db) throws(StorageError) in
            let flushOptions = rocksdb_flushoptions_create()
            defer { rocksdb_flushoptions_destroy(flushOptions) }
            rocksdb_flushoptions_set_wait(flushOptions, 1)
            for handle in familyHandles {
                if let handle { try rocksCall { error in rocksdb_flush_cf(db, flushOptions, handle, error) } }
            }
        }
    }

    // MARK: - Who holds it

    /// The process that holds RocksDB's lock on the database at `path`, or nil when none does.
    ///
    /// RocksDB locks `LOCK` with a POSIX record lock (`fcntl F_SETLK`); `F_GETLK` reports the
    /// holder without opening the database, so asking changes nothing. POSIX locks are per
    /// process: a lock this process holds itself is not reported.
    public static func lockHolder(at path: String) -> pid_t? {
        let descriptor = open(path + "/LOCK", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { Glibc.close(descriptor) }
        var query = flock()
        query.l_type = Int16(F_WRLCK)
        query.l_whence = Int16(SEEK_SET)
        query.l_start = 0
        query.l_len = 0
        guard fcntl(descriptor, F_GETLK, &query) == 0, query.l_type != Int16(F_UNLCK) else { return nil }
        return query.l_pid
    }

    // MARK: - Dependents (snapshots, cursors)

    /// Call only under the shared lock (inside `withHandle`), so that `close()` sees every dependent.
    private func register(_ dependent: some Dependent) {
        registryLock.withWriteLock { dependents[ObjectIdentifier(dependent)] = WeakDependent(dependent) }
    }

    func unregister(_ dependent: some Dependent) {
        registryLock.withWriteLock { _ = dependents.removeValue(forKey: ObjectIdentifier(dependent)) }
    }

    /// Runs `body` under the shared lock if the database is still open (for dependents' deinit).
    func ifOpen(_ body: (OpaquePointer) -> Void) {
        lock.withReadLock {
            if let db { body(db) }
        }
    }
}

/// A key and its value, as read by a scan or a cursor.
public struct KeyValue: Sendable, Equatable {
    public let key: [UInt8]
    public let value: [UInt8]
}

/// Something that holds a C object tied to an open `rocksdb_t` and must free it before close.
protocol Dependent: AnyObject {
    /// Frees the C object; called by `close()` while it holds the database's exclusive lock.
    func releaseWhileDatabaseLocked(_ db: OpaquePointer)
}

struct WeakDependent {
    weak var value: (any Dependent)?
    init(_ value: any Dependent) { self.value = value }
}
