import CanonicalJSON
import CertificateAuthority
import Foundation
import Ledger
import NotariumTestKit
import RocksDBStore
import Testing

@Suite("Certificate authority: crash safety", .serialized)
struct CACrashTests {
    /// `notarium-bench ca-crash-writer` issues from 64 tasks and prints `acked SERIAL SHA256
    /// SEQ` after each issuance returned. SIGKILL it, reopen, and check that every acknowledged
    /// certificate is stored and recorded in the ledger at its seq, that the store and the
    /// ledger list the same certificates (neither has one the other lacks), and that the audit
    /// passes; then let the next writer go on with the same CA.
    @Test("every acknowledged issuance survives kill -9, and the store and the ledger agree", arguments: 0..<2)
    func killNine(round: Int) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("data")
        var acknowledgedTotal = 0
        for attempt in 0..<3 {
            let writer = try BackgroundProcess(builtProduct("notarium-bench"), ["ca-crash-writer", path], environment: cleanEnvironment())
            let target = 150 + (round * 97 + attempt * 211) % 400
            var seen = 0
            for _ in 0..<600 where seen < target {
                usleep(50_000)
                seen = writer.standardOutput.split(separator: "\n").count
            }
            #expect(seen >= target, "the writer acknowledged only \(seen): \(writer.standardError)")
            usleep(UInt32.random(in: 0...20_000))
            writer.signal(SIGKILL)
            writer.waitForExit()
            var acknowledged: [(serial: String, sha256: String, seq: UInt64)] = []
            for line in writer.standardOutput.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count == 4, fields[0] == "acked", fields[2].count == 64, let seq = UInt64(fields[3]) else { continue }
                acknowledged.append((String(fields[1]), String(fields[2]), seq))
            }
            acknowledgedTotal += acknowledged.count

            let database = try Database(path: path + "/db", columnFamilies: ["meta"] + LedgerStorage.columnFamilies + CertificateStore.columnFamilies)
            let ledger = try Ledger.open(database: database, identity: nil)
            let store = try CertificateStore(database: database)
            let stored = Dictionary(uniqueKeysWithValues: try store.records(limit: 100_000).map { ($0.serialHex, $0.sha256) })
            for item in acknowledged {
                #expect(stored[item.serial] == item.sha256, "acknowledged certificate \(item.serial) is not stored")
                #expect(item.seq < ledger.size, "acknowledged certificate \(item.serial) has no ledger entry")
                if item.seq < ledger.size, case .object(let body) = try ledger.entry(item.seq).body {
                    #expect(body["certificateSha256"]?.stringValue == item.sha256)
                }
            }
            // Every certificate in the store is in the ledger, and the other way round.
            var inLedger: [String: String] = [:]
            for seq in 0..<ledger.size {
                let entry = try ledger.entry(seq)
                guard entry.type == .certificateIssued || entry.type == .keyCertified, case .object(let body) = entry.body,
                      let serial = body["serial"]?.stringValue, let sha256 = body["certificateSha256"]?.stringValue else { continue }
                inLedger[serial] = sha256
            }
            #expect(stored == inLedger, "store \(stored.count) certificates, ledger \(inLedger.count)")
            let report = LedgerAudit.run(database: database)
            #expect(report.passed, "\(report.finding.map { "\($0)" } ?? "")")
            ledger.close()
            database.close()
        }
        #expect(acknowledgedTotal >= 450)
    }
}
