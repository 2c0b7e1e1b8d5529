import Foundation
import NotariumTestKit
import RocksDBStore
import Testing

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite("RocksDBStore: reads, writes, column families, iteration")
struct DatabaseTests {
    @Test("a synced put is read back, and survives close and reopen")
    func putGetReopen() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("db")
        do {
            let database = try Database(path: path, options: OpenOptions(createIfMissing: true))
            try database.put(bytes("k"), bytes("v"), durability: .synced)
            try database.put(bytes("u"), bytes("unsynced"), durability: .unsynced)
            #expect(try database.get(bytes("k")) == bytes("v"))
            #expect(try database.get(bytes("missing")) == nil)
            database.close()
        }
        let reopened = try Database(path: path)
        #expect(try reopened.get(bytes("k")) == bytes("v"))
        #expect(try reopened.get(bytes("u")) == bytes("unsynced"))
        try reopened.delete(bytes("k"), durability: .synced)
        #expect(try reopened.get(bytes("k")) == nil)
    }

    @Test("empty keys and values are stored as such")
    func emptyKeysAndValues() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true))
        try database.put([], [], durability: .synced)
        #expect(try database.get([]) == [])
    }

    @Test("column families are separate keyspaces, and reopen without naming them")
    func columnFamilies() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("db")
        do {
            let database = try Database(path: path, options: OpenOptions(createIfMissing: true), columnFamilies: ["a", "b"])
            let a = try database.columnFamily("a")
            let b = try database.columnFamily("b")
            try database.put(bytes("k"), bytes("in a"), in: a, durability: .synced)
            try database.put(bytes("k"), bytes("in b"), in: b, durability: .synced)
            #expect(try database.get(bytes("k"), in: a) == bytes("in a"))
            #expect(try database.get(bytes("k"), in: b) == bytes("in b"))
            #expect(try database.get(bytes("k")) == nil)
        }
        // RocksDB must be opened with every existing family; the wrapper lists them itself.
        let reopened = try Database(path: path)
        #expect(reopened.columnFamilyNames.sorted() == ["a", "b", "default"])
        #expect(try reopened.get(bytes("k"), in: reopened.columnFamily("b")) == bytes("in b"))
    }

    @Test("an unknown column family is a named error")
    func unknownColumnFamily() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true))
        #expect(throws: StorageError.self) { try database.columnFamily("nope") }
        do {
            _ = try database.columnFamily("nope")
        } catch {
            #expect(error.code == .unknownColumnFamily)
        }
    }

    @Test("a column family of another handle is refused, not misused")
    func foreignColumnFamily() throws {
        let one = TemporaryDirectory()
        let two = TemporaryDirectory()
        let first = try Database(path: one.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: ["x"])
        let second = try Database(path: two.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: ["x"])
        let foreign = try first.columnFamily("x")
        let error = #expect(throws: StorageError.self) { try second.put(bytes("k"), bytes("v"), in: foreign, durability: .synced) }
        #expect(error?.code == .unknownColumnFamily)
    }

    @Test("a write batch spanning column families is applied whole")
    func atomicBatch() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: ["entries", "index"])
        let entries = try database.columnFamily("entries")
        let index = try database.columnFamily("index")
        try database.put(bytes("old"), bytes("x"), in: index, durability: .synced)
        var batch = WriteBatch()
        batch.put(bytes("e1"), bytes("entry one"), in: entries)
        batch.put(bytes("i1"), bytes("e1"), in: index)
        batch.delete(bytes("old"), in: index)
        #expect(batch.count == 3)
        try database.write(batch, durability: .synced)
        #expect(try database.get(bytes("e1"), in: entries) == bytes("entry one"))
        #expect(try database.get(bytes("i1"), in: index) == bytes("e1"))
        #expect(try database.get(bytes("old"), in: index) == nil)
    }

    @Test("a batch with one bad operation writes nothing")
    func batchAllOrNothing() throws {
        let directory = TemporaryDirectory()
        let other = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true))
        let foreignDatabase = try Database(path: other.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: ["f"])
        var batch = WriteBatch()
        batch.put(bytes("first"), bytes("1"))
        batch.put(bytes("second"), bytes("2"), in: try foreignDatabase.columnFamily("f"))
        #expect(throws: StorageError.self) { try database.write(batch, durability: .synced) }
        #expect(try database.get(bytes("first")) == nil)
    }

    @Test("iteration returns the keys of [lower, upper) in byte order")
    func orderedRange() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true))
        var batch = WriteBatch()
        for key in ["b", "a", "d", "c", "e", "ca", "\u{7f}"] { batch.put(bytes(key), bytes(key.uppercased())) }
        batch.put([0xff, 0x00], [1])
        try database.write(batch, durability: .unsynced)
        let range = try database.scan(from: bytes("b"), to: bytes("d"))
        #expect(range.map { String(decoding: $0.key, as: UTF8.self) } == ["b", "c", "ca"])
        #expect(range.map { String(decoding: $0.value, as: UTF8.self) } == ["B", "C", "CA"])
        let all = try database.scan(from: [])
        #expect(all.map(\.key) == [bytes("a"), bytes("b"), bytes("c"), bytes("ca"), bytes("d"), bytes("e"), [0x7f], [0xff, 0x00]])
        #expect(try database.scan(from: bytes("x"), to: bytes("y")).isEmpty)
        #expect(try database.scan(from: [], limit: 2).count == 2)
    }

    @Test("a cursor walks a long range one pair at a time")
    func cursor() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true))
        var batch = WriteBatch()
        for number in 0..<5000 { batch.put(withUnsafeBytes(of: UInt32(number).bigEndian) { Array($0) }, [UInt8(number & 0xff)]) }
        try database.write(batch, durability: .unsynced)
        let cursor = try database.cursor(from: withUnsafeBytes(of: UInt32(1000).bigEndian) { Array($0) }, to: withUnsafeBytes(of: UInt32(4000).bigEndian) { Array($0) })
        var count = 0
        var previous: [UInt8]? = nil
        while let pair = try cursor.next() {
            if let previous { #expect(previous.lexicographicallyPrecedes(pair.key)) }
            previous = pair.key
            count += 1
        }
        #expect(count == 3000)
        #expect(try cursor.next() == nil)
    }

    @Test("a snapshot keeps seeing the data as it was when taken")
    func snapshotConsistency() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true))
        try database.put(bytes("a"), bytes("1"), durability: .synced)
        let snapshot = try database.snapshot()
        try database.put(bytes("a"), bytes("2"), durability: .synced)
        try database.put(bytes("b"), bytes("new"), durability: .synced)
        #expect(try database.get(bytes("a"), snapshot: snapshot) == bytes("1"))
        #expect(try database.get(bytes("b"), snapshot: snapshot) == nil)
        #expect(try database.scan(from: [], snapshot: snapshot).count == 1)
        #expect(try database.get(bytes("a")) == bytes("2"))
        snapshot.release()
        #expect(snapshot.isReleased)
        let error = #expect(throws: StorageError.self) { try database.get(bytes("a"), snapshot: snapshot) }
        #expect(error?.code == .released)
    }

    @Test("a cursor reading through a snapshot ends with released when the snapshot is released")
    func cursorOutlivingItsSnapshot() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true))
        for key in ["a", "b", "c"] { try database.put(bytes(key), bytes(key), durability: .unsynced) }
        let snapshot = try database.snapshot()
        try database.put(bytes("d"), bytes("d"), durability: .unsynced)
        let cursor = try database.cursor(from: [], snapshot: snapshot)
        #expect(try cursor.next()?.key == bytes("a"))
        snapshot.release()
        // Reading on would go through a freed RocksDB snapshot; it must be refused instead.
        let error = #expect(throws: StorageError.self) { try cursor.next() }
        #expect(error?.code == .released)
        let late = #expect(throws: StorageError.self) { try database.cursor(from: [], snapshot: snapshot) }
        #expect(late?.code == .released)
    }

    @Test("a cursor over a live snapshot sees only what the snapshot saw")
    func cursorOverSnapshot() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true))
        try database.put(bytes("a"), bytes("1"), durability: .unsynced)
        let snapshot = try database.snapshot()
        try database.put(bytes("b"), bytes("2"), durability: .unsynced)
        #expect(try database.scan(from: [], snapshot: snapshot).map(\.key) == [bytes("a")])
        #expect(try database.scan(from: []).count == 2)
    }

    @Test("a checkpoint is a consistent copy that opens as a database on its own")
    func checkpoint() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: ["meta"])
        try database.put(bytes("k"), bytes("v"), in: database.columnFamily("meta"), durability: .synced)
        try database.createCheckpoint(at: directory.file("backup"))
        try database.put(bytes("after"), bytes("x"), durability: .synced)
        let copy = try Database(path: directory.file("backup"), options: OpenOptions(readOnly: true))
        #expect(try copy.get(bytes("k"), in: copy.columnFamily("meta")) == bytes("v"))
        #expect(try copy.get(bytes("after")) == nil)
        let error = #expect(throws: StorageError.self) { try database.createCheckpoint(at: directory.file("backup")) }
        #expect(error?.code == .invalidArgument)
    }

    @Test("properties are readable")
    func properties() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true))
        try database.put(bytes("k"), bytes("v"), durability: .synced)
        try database.flush()
        #expect(try database.property("rocksdb.estimate-num-keys") != nil)
        #expect(try database.property("rocksdb.no-such-property") == nil)
    }

    @Test("many tasks write and read concurrently")
    func concurrentUse() async throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for item in 0..<200 {
                        try database.put(bytes("\(task)-\(item)"), bytes("\(item)"), durability: .unsynced)
                        #expect(try database.get(bytes("\(task)-\(item)")) == bytes("\(item)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try database.scan(from: []).count == 1600)
    }

    @Test("the linked RocksDB reports its version")
    func version() {
        #expect(rocksDBVersion.split(separator: ".").count == 3)
    }
}
