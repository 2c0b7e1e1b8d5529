import CanonicalJSON
import Foundation
import Ledger
import NotariumTestKit
import RocksDBStore
import Testing

@Suite("Ledger: crash safety", .serialized)
struct CrashTests {
    /// `notarium-bench ledger-crash-writer` appends from 64 tasks and prints `acked SEQ LEAF`
    /// after each append returned. SIGKILL it at random moments, reopen, and check that every
    /// acknowledged entry is there with its leaf hash, that there is no gap, and that audit
    /// passes; then let the next writer continue the same ledger.
    @Test("every acknowledged append survives kill -9, with no gap and a clean audit", arguments: 0..<6)
    func killNine(round: Int) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("db")
        var total = 0
        for attempt in 0..<3 {
            let writer = try BackgroundProcess(builtProduct("notarium-bench"), ["ledger-crash-writer", path])
            let target = total + 200 + (round * 131 + attempt * 577) % 1500
            #expect(writer.waitForOutputLine(containing: "acked \(target) ") != nil, "writer never reached \(target): \(writer.standardError)")
            usleep(UInt32.random(in: 0...30_000))
            writer.signal(SIGKILL)
            writer.waitForExit()
            var acknowledged: [UInt64: [UInt8]] = [:]
            for line in writer.standardOutput.split(separator: "\n") {
                let fields = line.split(separator: " ")
                // The last line may have been cut by the kill: only whole lines count.
                guard fields.count == 3, fields[0] == "acked", let seq = UInt64(fields[1]), let leaf = Base64.decode(String(fields[2])), leaf.count == 32 else { continue }
                acknowledged[seq] = leaf
            }
            #expect(acknowledged.count >= 200)

            let database = try Database(path: path, columnFamilies: LedgerStorage.columnFamilies)
            let ledger = try Ledger.open(database: database, identity: nil)
            let size = ledger.size
            for (seq, leaf) in acknowledged {
                #expect(seq < size, "acknowledged entry \(seq) is missing (size \(size))")
                if seq < size { #expect(try ledger.leafHash(seq) == leaf, "entry \(seq) has another leaf hash") }
            }
            let keys = try database.scan(in: database.columnFamily(LedgerStorage.entriesFamily), from: []).map(\.key)
            #expect(keys.count == Int(size), "\(keys.count) entries stored, head says \(size)")
            let report = LedgerAudit.run(database: database)
            #expect(report.passed, "\(report.finding.map { "\($0)" } ?? "")")
            ledger.close()
            database.close()
            total = Int(size)
        }
    }
}
