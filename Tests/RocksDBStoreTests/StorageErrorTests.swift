import Foundation
import NotariumTestKit
import RocksDBStore
import Testing

@Suite("RocksDBStore: every failure is a named error, never a crash")
struct StorageErrorTests {
    @Test("every call on a closed handle throws closed")
    func closedHandle() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: ["f"])
        let family = try database.columnFamily("f")
        database.close()
        database.close()  // idempotent
        #expect(database.isClosed)
        let calls: [() throws -> Void] = [
            { _ = try database.get(bytes("k")) },
            { try database.put(bytes("k"), bytes("v"), in: family, durability: .synced) },
            { try database.delete(bytes("k"), durability: .unsynced) },
            { try database.write(WriteBatch(), durability: .synced) },
            { _ = try database.scan(from: []) },
            { _ = try database.cursor(from: []) },
            { _ = try database.snapshot() },
            { try database.createCheckpoint(at: directory.file("cp")) },
            { _ = try database.property("rocksdb.estimate-num-keys") },
            { try database.flush() },
        ]
        for call in calls {
            let error = #expect(throws: StorageError.self) { try call() }
            #expect(error?.code == .closed)
        }
    }

    @Test("closing the database releases live cursors and snapshots; using them throws released")
    func closeReleasesDependents() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true))
        try database.put(bytes("a"), bytes("1"), durability: .synced)
        try database.put(bytes("b"), bytes("2"), durability: .synced)
        let cursor = try database.cursor(from: [])
        _ = try cursor.next()
        let snapshot = try database.snapshot()
        database.close()
        let cursorError = #expect(throws: StorageError.self) { try cursor.next() }
        #expect(cursorError?.code == .closed || cursorError?.code == .released)
        #expect(snapshot.isReleased)
        // Reopening works: the lock was released although a cursor object still exists.
        let reopened = try Database(path: directory.file("db"))
        #expect(try reopened.get(bytes("b")) == bytes("2"))
    }

    @Test("opening a missing database without createIfMissing is databaseMissing")
    func missingDatabase() throws {
        let directory = TemporaryDirectory()
        let error = #expect(throws: StorageError.self) { try Database(path: directory.file("nothing-here")) }
        #expect(error?.code == .databaseMissing)
        // An existing but empty directory is not a database either.
        let emptyError = #expect(throws: StorageError.self) { try Database(path: directory.path) }
        #expect(emptyError?.code == .databaseMissing)
    }

    @Test("a second open of a database held by this process is locked, at once")
    func lockedInProcess() throws {
        let directory = TemporaryDirectory()
        let first = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true))
        let error = #expect(throws: StorageError.self) { try Database(path: directory.file("db")) }
        #expect(error?.code == .locked)
        #expect(error?.message.contains("LOCK") == true)
        first.close()
        _ = try Database(path: directory.file("db"))
    }

    @Test("a database held by another process is locked, and can still be opened read-only")
    func lockedByAnotherProcess() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("db")
        #expect(Database.lockHolder(at: path) == nil)
        let writer = try BackgroundProcess(builtProduct("notarium-bench"), ["crash-writer", path])
        #expect(writer.waitForOutputLine(containing: "acked 10") != nil)
        let error = #expect(throws: StorageError.self) { try Database(path: path, columnFamilies: ["log"]) }
        #expect(error?.code == .locked)
        // Who holds it is read from the lock itself, without opening the database.
        #expect(Database.lockHolder(at: path) == writer.process.processIdentifier)
        let reader = try Database(path: path, options: OpenOptions(readOnly: true))
        #expect(reader.columnFamilyNames.contains("log"))
        let writeError = #expect(throws: StorageError.self) { try reader.put(bytes("k"), bytes("v"), durability: .synced) }
        #expect(writeError?.code == .invalidArgument)
        writer.signal(SIGKILL)
        writer.waitForExit()
        #expect(Database.lockHolder(at: path) == nil)
    }

    @Test("a damaged CURRENT file is reported as corruption")
    func corruptCurrentFile() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("db")
        do {
            let database = try Database(path: path, options: OpenOptions(createIfMissing: true))
            try database.put(bytes("k"), bytes("v"), durability: .synced)
        }
        try Data("garbage without newline".utf8).write(to: URL(fileURLWithPath: path + "/CURRENT"))
        let error = #expect(throws: StorageError.self) { try Database(path: path) }
        #expect(error?.code == .corruption)
    }

    @Test("a damaged MANIFEST is reported as a named error")
    func corruptManifest() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("db")
        do {
            let database = try Database(path: path, options: OpenOptions(createIfMissing: true))
            try database.put(bytes("k"), bytes("v"), durability: .synced)
        }
        let manifest = try FileManager.default.contentsOfDirectory(atPath: path).first { $0.hasPrefix("MANIFEST-") }
        let manifestPath = path + "/" + (manifest ?? "MANIFEST-missing")
        var contents = try Data(contentsOf: URL(fileURLWithPath: manifestPath))
        for index in stride(from: 0, to: contents.count, by: 7) { contents[index] ^= 0x5a }
        try contents.write(to: URL(fileURLWithPath: manifestPath))
        let error = #expect(throws: StorageError.self) { try Database(path: path) }
        #expect(error?.code == .corruption)
    }

    @Test("a missing MANIFEST that CURRENT names is a named error")
    func missingManifest() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("db")
        do { _ = try Database(path: path, options: OpenOptions(createIfMissing: true)) }
        for name in try FileManager.default.contentsOfDirectory(atPath: path) where name.hasPrefix("MANIFEST-") {
            try FileManager.default.removeItem(atPath: path + "/" + name)
        }
        let error = #expect(throws: StorageError.self) { try Database(path: path) }
        #expect(error != nil)
        #expect(error?.code == .corruption || error?.code == .io)
    }

    @Test("a read-only open never creates a column family")
    func readOnlyUnknownFamily() throws {
        let directory = TemporaryDirectory()
        do { _ = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true)) }
        let error = #expect(throws: StorageError.self) {
            try Database(path: directory.file("db"), options: OpenOptions(readOnly: true), columnFamilies: ["new"])
        }
        #expect(error?.code == .unknownColumnFamily)
    }
}

@Suite("RocksDBStore: durability", .serialized)
struct DurabilityTests {
    /// The writer prints a key only after its synced write returned; kill -9 at random moments
    /// and check that every printed key is in the reopened database, with no gap before it.
    @Test("every acknowledged synced write survives kill -9", arguments: 0..<5)
    func killNine(round: Int) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("db")
        var acknowledged: UInt64 = 0
        for attempt in 0..<3 {
            let writer = try BackgroundProcess(builtProduct("notarium-bench"), ["crash-writer", path])
            let target = acknowledged + UInt64(50 + (round * 37 + attempt * 91) % 400)
            #expect(writer.waitForOutputLine(containing: "acked \(target)") != nil, "writer never reached \(target): \(writer.standardError)")
            usleep(UInt32.random(in: 0...20_000))
            writer.signal(SIGKILL)
            writer.waitForExit()
            let acks = writer.standardOutput.split(separator: "\n").compactMap { $0.hasPrefix("acked ") ? UInt64($0.dropFirst(6)) : nil }
            acknowledged = acks.max() ?? acknowledged

            let database = try Database(path: path, columnFamilies: ["log"])
            let keys = try database.scan(in: database.columnFamily("log"), from: []).map { $0.key.reduce(UInt64(0)) { ($0 << 8) | UInt64($1) } }
            database.close()
            #expect(keys == Array(0..<UInt64(keys.count)), "keys have a gap")
            #expect(UInt64(keys.count) > acknowledged, "acknowledged \(acknowledged) but only \(keys.count) keys survived")
        }
    }
}
