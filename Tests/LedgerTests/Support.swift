import CanonicalJSON
import Foundation
import Ledger
import NotariumTestKit
import RocksDBStore
import Sodium

/// A ledger on a real RocksDB database in a temporary directory, with a checkpoint key made
/// from a fixed seed (so signatures are reproducible).
final class TestLedger {
    let directory: TemporaryDirectory
    let database: Database
    let ledger: Ledger
    let signer: NoteSigner

    static let origin = "test.example/notarium"

    static func signer(seedByte: UInt8 = 7, origin: String = TestLedger.origin) throws -> NoteSigner {
        try NoteSigner(name: origin, key: try Ed25519SigningKey(seed: SecureBytes(copying: [UInt8](repeating: seedByte, count: 32))))
    }

    init(directory: TemporaryDirectory = TemporaryDirectory(), clock: (@Sendable () -> Int64)? = nil) throws {
        self.directory = directory
        database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: LedgerStorage.columnFamilies)
        signer = try Self.signer()
        let identity = try LedgerIdentity(origin: Self.origin, verifier: signer.verifier)
        if let clock {
            ledger = try Ledger.open(database: database, identity: identity, clock: clock)
        } else {
            ledger = try Ledger.open(database: database, identity: identity)
        }
    }

    func close() {
        ledger.close()
        database.close()
    }

    /// Appends `count` entries with small distinct bodies, `concurrency` at a time.
    @discardableResult
    func appendMany(_ count: Int, concurrency: Int = 8, type: EntryType = .evidence) async throws -> [AppendReceipt] {
        let ledger = self.ledger
        return try await withThrowingTaskGroup(of: AppendReceipt.self) { group in
            var receipts: [AppendReceipt] = []
            var next = 0
            func add() {
                let n = next
                next += 1
                group.addTask { try await ledger.append(type: type, body: ["case": .string("C-\(n)"), "n": .integer(Int64(n))]) }
            }
            for _ in 0..<min(concurrency, count) { add() }
            while let receipt = try await group.next() {
                receipts.append(receipt)
                if next < count { add() }
            }
            return receipts.sorted { $0.seq < $1.seq }
        }
    }
}

/// Straight from RFC 9162 §2.1.1–2.1.4, over a list of leaf hashes in memory: the reference the
/// stored-node implementation is compared with.
enum ReferenceMerkle {
    static func mth(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        if leaves.isEmpty { return SHA256.hash([]) }
        if leaves.count == 1 { return leaves.first! }
        let k = largestPowerOfTwoBelow(leaves.count)
        return Merkle.nodeHash(mth(leaves.prefix(k)), mth(leaves.dropFirst(k)))
    }

    static func path(_ m: Int, _ leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        if leaves.count <= 1 { return [] }
        let k = largestPowerOfTwoBelow(leaves.count)
        if m < k { return path(m, leaves.prefix(k)) + [mth(leaves.dropFirst(k))] }
        return path(m - k, leaves.dropFirst(k)) + [mth(leaves.prefix(k))]
    }

    static func subproof(_ m: Int, _ leaves: ArraySlice<[UInt8]>, _ b: Bool) -> [[UInt8]] {
        let n = leaves.count
        if m == n { return b ? [] : [mth(leaves)] }
        let k = largestPowerOfTwoBelow(n)
        if m <= k { return subproof(m, leaves.prefix(k), b) + [mth(leaves.dropFirst(k))] }
        return subproof(m - k, leaves.dropFirst(k), false) + [mth(leaves.prefix(k))]
    }

    static func largestPowerOfTwoBelow(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}

func b64(_ bytes: [UInt8]) -> String { Base64.encode(bytes) }

func unb64(_ text: String) throws -> [UInt8] {
    guard let bytes = Base64.decode(text) else { throw TestFailure("not base64: \(text)") }
    return bytes
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func readJSONFile(_ path: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
    guard let dictionary = object as? [String: Any] else { throw TestFailure("\(path) is not a JSON object") }
    return dictionary
}
