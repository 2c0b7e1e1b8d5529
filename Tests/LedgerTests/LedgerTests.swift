import CanonicalJSON
import Foundation
import Ledger
import NotariumTestKit
import RocksDBStore
import Sodium
import Synchronization
import Testing

@Suite("Ledger: entries, group commit, checkpoints")
struct LedgerBehaviourTests {
    @Test("entries are canonical JSON chained by leaf hash, and read back as written")
    func entriesAndChain() async throws {
        let fixture = try TestLedger(clock: { 1_795_000_000_123 })
        defer { fixture.close() }
        let first = try await fixture.ledger.append(type: .evidence, body: ["case": "ODR-1", "size": 42, "note": "合同"])
        let second = try await fixture.ledger.append(type: .certificateRevoked, body: ["serial": "0A1B"])
        #expect(first.seq == 0 && second.seq == 1)
        #expect(first.time == "2026-11-18T11:06:40.123Z")

        let entry0 = try fixture.ledger.entry(0)
        #expect(String(decoding: entry0.bytes, as: UTF8.self)
            == #"{"body":{"case":"ODR-1","note":"合同","size":42},"prev":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","seq":0,"time":"2026-11-18T11:06:40.123Z","type":"evidence"}"#)
        #expect(entry0.leafHash == first.leafHash)
        #expect(first.leafHash == SHA256.hash([0x00], entry0.bytes))
        let entry1 = try fixture.ledger.entry(1)
        #expect(entry1.prev == first.leafHash)
        #expect(entry1.type == .certificateRevoked)
        #expect(try fixture.ledger.leafHash(1) == second.leafHash)
        #expect(caught(LedgerError.self) { _ = try fixture.ledger.entry(2) }?.code == .notFound)
    }

    @Test("bodies that cannot be stored are refused by name and append nothing")
    func invalidBodies() async throws {
        let fixture = try TestLedger()
        defer { fixture.close() }
        var deep: JSONValue = [:]
        for _ in 0..<40 { deep = ["x": deep] }
        let huge = JSONValue.object(["blob": .string(String(repeating: "a", count: LedgerEntry.maximumBytes))])
        let outOfRange: JSONValue = ["serial": .integer(1 << 60)]
        for body: JSONValue in [[1, 2], "text", 5, .null, deep, huge, outOfRange, ["list": [.integer(-(1 << 53))]]] {
            let error = await caught(LedgerError.self) { _ = try await fixture.ledger.append(type: .award, body: body) }
            #expect(error?.code == .invalidEntry)
        }
        #expect(fixture.ledger.size == 0)
        #expect(EntryType(rawValue: "evidence ") == nil && EntryType(rawValue: "note") == nil)
    }

    @Test("256 concurrent appenders: no gaps, no duplicates, every receipt matches what is stored")
    func concurrentAppends() async throws {
        let fixture = try TestLedger()
        defer { fixture.close() }
        let receipts = try await fixture.appendMany(3000, concurrency: 256)
        #expect(receipts.map(\.seq) == Array(0..<3000))
        for receipt in receipts.filter({ $0.seq % 97 == 0 }) {
            #expect(try fixture.ledger.leafHash(receipt.seq) == receipt.leafHash)
        }
        #expect(LedgerAudit.run(database: fixture.database, verifier: fixture.signer.verifier).passed)
    }

    @Test("entry times: RFC 3339 UTC with milliseconds, from 1970, real calendar dates only")
    func timeFormat() {
        #expect(LedgerTime.parse("2026-11-18T11:06:40.123Z") == 1_795_000_000_123)
        #expect(LedgerTime.format(milliseconds: 1_795_000_000_123) == "2026-11-18T11:06:40.123Z")
        for bad in ["2026-02-30T00:00:00.000Z", "2026-11-18T11:06:40Z", "2026-11-18T11:06:40.123+00:00", "2026-11-18 11:06:40.123Z", "1969-12-31T23:59:59.000Z", "2026-11-18T24:00:00.000Z"] {
            #expect(LedgerTime.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("entry times never go backward, even when the clock does")
    func monotonicTime() async throws {
        let now = Mutex<Int64>(1_800_000_000_000)
        let fixture = try TestLedger(clock: { now.withLock { $0 } })
        defer { fixture.close() }
        let a = try await fixture.ledger.append(type: .evidence, body: [:])
        now.withLock { $0 -= 3_600_000 }
        let b = try await fixture.ledger.append(type: .evidence, body: [:])
        #expect(b.time == a.time)
        now.withLock { $0 += 7_200_000 }
        let c = try await fixture.ledger.append(type: .evidence, body: [:])
        #expect(c.time > b.time)
    }

    @Test("a reopened ledger continues the chain and the tree where it stopped")
    func reopen() async throws {
        let directory = TemporaryDirectory()
        var fixture: TestLedger? = try TestLedger(directory: directory)
        let before = try await fixture!.appendMany(37)
        let root37 = fixture!.ledger.head.rootHash
        fixture!.close()
        fixture = nil
        let reopened = try TestLedger(directory: directory)
        defer { reopened.close() }
        #expect(reopened.ledger.size == 37)
        #expect(reopened.ledger.head.rootHash == root37)
        let next = try await reopened.ledger.append(type: .service, body: ["event": "x"])
        #expect(next.seq == 37)
        #expect(try reopened.ledger.entry(37).prev == before.last!.leafHash)
        #expect(try reopened.ledger.rootHash(size: 37) == root37)
        #expect(LedgerAudit.run(database: reopened.database).passed)
        // Proofs after reopening (upper tree levels reloaded into memory) match the reference.
        let leaves = before.map(\.leafHash) + [next.leafHash]
        for index in 0..<38 {
            let proof = try reopened.ledger.inclusionProof(index: UInt64(index), size: 38)
            #expect(proof.hashes == ReferenceMerkle.path(index, leaves[...]))
        }
    }

    @Test("a failed write fails its appends, changes nothing, and close does not hang")
    func failedWrites() async throws {
        let directory = TemporaryDirectory()
        let fixture = try TestLedger(directory: directory)
        try await fixture.appendMany(5)
        let root = fixture.ledger.head.rootHash
        // Closing the database under the ledger makes every RocksDB write fail.
        fixture.database.close()
        let ledger = fixture.ledger
        let results = await withTaskGroup(of: LedgerError?.self) { group in
            for n in 0..<40 {
                group.addTask { await caught(LedgerError.self) { _ = try await ledger.append(type: .award, body: ["n": .integer(Int64(n))]) } }
            }
            var errors: [LedgerError?] = []
            for await error in group { errors.append(error) }
            return errors
        }
        #expect(results.allSatisfy { $0?.code == .storage }, "\(results)")
        #expect(fixture.ledger.size == 5)
        // After a failed write the ledger takes no more appends until it is reopened.
        let refused = await caught(LedgerError.self) { _ = try await ledger.append(type: .award, body: [:]) }
        #expect(refused?.code == .storage && refused?.reason.contains("reopen") == true, "\(refused.map { "\($0)" } ?? "")")
        fixture.ledger.close()
        let reopened = try TestLedger(directory: directory)
        defer { reopened.close() }
        #expect(reopened.ledger.size == 5 && reopened.ledger.head.rootHash == root)
        #expect(LedgerAudit.run(database: reopened.database).passed)
        #expect(try await reopened.ledger.append(type: .award, body: [:]).seq == 5)
    }

    @Test("a ledger opened with another key or origin is refused")
    func identityIsFixed() async throws {
        let directory = TemporaryDirectory()
        let fixture = try TestLedger(directory: directory)
        fixture.ledger.close()
        let other = try TestLedger.signer(seedByte: 8)
        let error = caught(LedgerError.self) {
            _ = try Ledger.open(database: fixture.database, identity: try LedgerIdentity(origin: TestLedger.origin, verifier: other.verifier))
        }
        #expect(error?.code == .key)
        let reopened = try Ledger.open(database: fixture.database, identity: nil)
        #expect(reopened.identity.verifier == fixture.signer.verifier)
        #expect(caught(LedgerError.self) { _ = try reopened.cutCheckpoint(signer: other) }?.code == .key)
        reopened.close()
        fixture.database.close()
    }

    @Test("checkpoints: signed notes of the tree, each consistent with the one before")
    func checkpoints() async throws {
        let fixture = try TestLedger()
        defer { fixture.close() }
        #expect(caught(LedgerError.self) { _ = try fixture.ledger.cutCheckpoint(signer: fixture.signer) }?.code == .invalidRange)
        #expect(try fixture.ledger.latestCheckpoint() == nil)
        try await fixture.appendMany(5)
        let (first, firstIsNew) = try fixture.ledger.cutCheckpoint(signer: fixture.signer)
        #expect(firstIsNew && first.previous == nil && first.consistency.isEmpty)
        let (again, againIsNew) = try fixture.ledger.cutCheckpoint(signer: fixture.signer)
        #expect(!againIsNew && again == first)
        try await fixture.appendMany(13)
        let (second, _) = try fixture.ledger.cutCheckpoint(signer: fixture.signer)
        #expect(second.previous == 5 && second.size == 18)
        try Merkle.verifyConsistency(fromSize: 5, toSize: 18, fromRoot: first.rootHash, toRoot: second.rootHash, proof: second.consistency)
        #expect(try fixture.ledger.latestCheckpoint() == second)
        #expect(try fixture.ledger.checkpoint(size: 5) == first)

        let text = try SignedNote.open(second.note, verifiers: [fixture.signer.verifier])
        #expect(text == "test.example/notarium\n18\n\(b64(fixture.ledger.head.rootHash))\n")
        #expect(second.note.hasPrefix(text + "\n\u{2014} test.example/notarium "))
    }

    @Test("proof requests outside the tree are refused by name")
    func proofRanges() async throws {
        let fixture = try TestLedger()
        defer { fixture.close() }
        try await fixture.appendMany(10)
        #expect(caught(LedgerError.self) { _ = try fixture.ledger.inclusionProof(index: 10, size: 10) }?.code == .invalidRange)
        #expect(caught(LedgerError.self) { _ = try fixture.ledger.inclusionProof(index: 1, size: 11) }?.code == .beyondTree)
        #expect(caught(LedgerError.self) { _ = try fixture.ledger.consistencyProof(from: 0, to: 5) }?.code == .invalidRange)
        #expect(caught(LedgerError.self) { _ = try fixture.ledger.consistencyProof(from: 6, to: 5) }?.code == .invalidRange)
        #expect(caught(LedgerError.self) { _ = try fixture.ledger.consistencyProof(from: 5, to: 11) }?.code == .beyondTree)
        #expect(try fixture.ledger.consistencyProof(from: 10, to: 10).hashes.isEmpty)
    }

    @Test("stored bytes that are not canonical are refused with the reason")
    func nonCanonicalStoredEntry() async throws {
        let fixture = try TestLedger()
        defer { fixture.close() }
        try await fixture.appendMany(3)
        let entries = try fixture.database.columnFamily(LedgerStorage.entriesFamily)
        let key: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1]
        let original = try #require(try fixture.database.get(key, in: entries))
        // Same JSON value, one space added: a different leaf hash for the same meaning.
        let spaced = Array(String(decoding: original, as: UTF8.self).replacingOccurrences(of: "\"prev\":", with: "\"prev\": ").utf8)
        try fixture.database.put(key, spaced, in: entries, durability: .synced)
        let error = caught(LedgerError.self) { _ = try fixture.ledger.entry(1) }
        #expect(error?.code == .corrupt)
        #expect(error?.reason.contains("whitespace") == true, "\(error?.reason ?? "")")
        let report = LedgerAudit.run(database: fixture.database)
        #expect(report.finding?.kind == .entryNotCanonical && report.finding?.seq == 1)
        // Reordered members are refused too.
        #expect(caught(LedgerError.self) { _ = try LedgerEntry(parsing: Array(#"{"prev":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","body":{},"seq":0,"time":"2026-11-18T11:06:40.123Z","type":"evidence"}"#.utf8)) }?.code == .notCanonical)
    }
}
