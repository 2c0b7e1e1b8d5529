import CanonicalJSON
import Ledger
import RocksDBStore
import Testing

@Suite("Ledger: writes keyed by the seq an entry gets")
struct KeyedWritesTests {
    @Test("under concurrent group commits each entry's keyed write names its own seq, and a refused body writes nothing")
    func keyedBySeq() async throws {
        let test = try TestLedger()
        defer { test.close() }
        let ledger = test.ledger
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<200 {
                group.addTask {
                    _ = try await ledger.append(type: .evidence, body: ["n": .integer(Int64(n))], keyedBySeq: { seq in
                        var batch = WriteBatch()
                        batch.put(Array("index/\(n)".utf8), Array(String(seq).utf8))
                        return batch
                    })
                }
            }
            try await group.waitForAll()
        }
        for n in 0..<200 {
            let stored = try #require(try test.database.get(Array("index/\(n)".utf8)))
            let seq = try #require(UInt64(String(decoding: stored, as: UTF8.self)))
            #expect(try ledger.entry(seq).body["n"]?.integerValue == Int64(n), "index/\(n) → \(seq)")
        }
        let size = ledger.size
        let deep = (0..<40).reduce(JSONValue.integer(0)) { inner, _ in .object(["x": inner]) }
        await #expect(throws: LedgerError.self) {
            _ = try await ledger.append(type: .evidence, body: deep, keyedBySeq: { _ in
                var batch = WriteBatch()
                batch.put(Array("index/refused".utf8), [1])
                return batch
            })
        }
        let refused = try test.database.get(Array("index/refused".utf8))
        #expect(ledger.size == size && refused == nil)
    }
}
