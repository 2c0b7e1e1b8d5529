import Foundation
import NotariumTestKit
@testable import Notary
import RocksDBStore
import Testing

@Suite("Notary: the record index, the erasable recipient store, one writer per service")
struct RecordIndexTests {
    static let families = ValidationStore.columnFamilies + [RecordIndex.family, RecipientVault.family]

    @Test("a service's events come back in seq order (not byte order of decimals), and one service's prefix never takes another's")
    func serviceIndex() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: Self.families)
        defer { database.close() }
        let index = try RecordIndex(database: database)
        var batch = WriteBatch()
        for seq: UInt64 in [256, 1, 70_000, 2] { batch.append(contentsOf: index.serviceEvent("SVC-1", seq: seq)) }
        batch.append(contentsOf: index.serviceEvent("SVC-10", seq: 5))
        batch.append(contentsOf: index.award("AWD-1", seq: 1 << 40))
        try database.write(batch, durability: .synced)
        #expect(try index.serviceEvents("SVC-1") == [1, 2, 256, 70_000])
        #expect(try index.serviceEvents("SVC-10") == [5])
        #expect(try index.serviceEvents("SVC") == [])
        #expect(try index.awardEntry("AWD-1") == 1 << 40)
        #expect(try index.awardEntry("AWD-2") == nil)
    }

    @Test("erase deletes a service's recipients, leaves the others, and no file of the database still holds the address")
    func erasure() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("db")
        let address = "erase-me-\(UUID().uuidString)@example.org"
        do {
            let database = try Database(path: path, options: OpenOptions(createIfMissing: true), columnFamilies: Self.families)
            defer { database.close() }
            let vault = try RecipientVault(database: database)
            var batch = WriteBatch()
            vault.store(service: "SVC-1", channel: "email", address: address, salt: [UInt8](repeating: 7, count: 32), in: &batch)
            vault.store(service: "SVC-1", channel: "sms", address: "+4915112345678", salt: [UInt8](repeating: 8, count: 32), in: &batch)
            vault.store(service: "SVC-2", channel: "email", address: "keep@example.org", salt: [UInt8](repeating: 9, count: 32), in: &batch)
            try database.write(batch, durability: .synced)
            // On disk in table files too, not only in the write-ahead log.
            try database.flush()
            #expect(try vault.disclose(service: "SVC-1").map(\.address) == [address, "+4915112345678"])
            #expect(try vault.erase(service: "SVC-1") == 2)
            #expect(try vault.disclose(service: "SVC-1").isEmpty)
            #expect(try vault.disclose(service: "SVC-2").map(\.address) == ["keep@example.org"])
        }
        var holders: [String] = []
        let needle = Data(address.utf8)
        for name in try FileManager.default.subpathsOfDirectory(atPath: path) {
            guard let contents = FileManager.default.contents(atPath: path + "/" + name) else { continue }
            if contents.range(of: needle) != nil { holders.append(name) }
        }
        #expect(holders.isEmpty, "the erased address is still in \(holders)")
    }

    @Test("the CRLs of several records come back in order, each once")
    func capturedForSeveral() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: Self.families)
        defer { database.close() }
        let store = try ValidationStore(database: database)
        var batch = WriteBatch()
        store.record(crls: [[1], [2]], for: Array("first".utf8), in: &batch)
        store.record(crls: [[2], [3]], for: Array("second".utf8), in: &batch)
        try database.write(batch, durability: .synced)
        let all = try store.crls(for: [Array("first".utf8), Array("second".utf8), Array("none".utf8)])
        #expect(all.count == 3 && Set(all) == [[1], [2], [3]] && all.last == [3])
    }

    @Test("one writer per key: concurrent read-modify-writes on one key lose nothing, and a failing writer frees the key")
    func serializer() async throws {
        final class Box: @unchecked Sendable { var value = 0 }
        let serializer = KeyedSerializer()
        let box = Box()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await serializer.run("SVC-1") { () async throws -> Void in
                        let seen = box.value
                        try await Task.sleep(nanoseconds: 200_000)
                        box.value = seen + 1
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(box.value == 50)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await serializer.run("SVC-1") { () async throws(Refused) -> Void in throw Refused() } }
        let after = try await serializer.run("SVC-1") { () async throws -> Int in box.value }
        #expect(after == 50)
    }
}
