import NotariumTestKit
@testable import Notary
import RocksDBStore
import Sodium
import Testing

@Suite("Notary: validation data kept beside records")
struct ValidationStoreTests {
    @Test("CRLs are kept per signature, shared between signatures, and a second deposit of the same signature adds rather than replaces")
    func keepsEveryCRL() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: ValidationStore.columnFamilies)
        defer { database.close() }
        let store = try ValidationStore(database: database)
        let signature: [UInt8] = Array("a CMS SignedData".utf8), other: [UInt8] = Array("another".utf8)
        let first: [UInt8] = [1, 2, 3], second: [UInt8] = [4, 5, 6], shared: [UInt8] = [7, 8, 9]

        #expect(try store.crls(for: signature).isEmpty)
        var batch = WriteBatch()
        store.record(crls: [first, shared], for: signature, in: &batch)
        store.record(crls: [shared], for: other, in: &batch)
        try database.write(batch, durability: .synced)
        var again = WriteBatch()
        store.record(crls: [second], for: signature, in: &again)
        try database.write(again, durability: .synced)

        #expect(Set(try store.crls(for: signature)) == Set([first, second, shared]))
        #expect(try store.crls(for: other) == [shared])
    }

    @Test("a damaged stored CRL is reported, not returned")
    func damagedCRL() throws {
        let directory = TemporaryDirectory()
        let database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: ValidationStore.columnFamilies)
        defer { database.close() }
        let store = try ValidationStore(database: database)
        let crl: [UInt8] = [1, 2, 3]
        var batch = WriteBatch()
        store.record(crls: [crl], for: [9], in: &batch)
        try database.write(batch, durability: .synced)
        try database.put(ValidationStore.crlKey(SHA256.hash(crl)), [1, 2, 4], in: try database.columnFamily(ValidationStore.family), durability: .synced)
        let error = caught(NotaryError.self) { _ = try store.crls(for: [9]) }
        #expect(error?.code == .storage && error?.reason.contains("missing or damaged") == true)
    }
}
