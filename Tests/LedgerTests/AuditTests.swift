import CanonicalJSON
import Foundation
import Ledger
import NotariumTestKit
import RocksDBStore
import Testing

@Suite("Ledger: audit")
struct AuditTests {
    /// A ledger of 23 entries with checkpoints at 4, 9, 16 and 23 and a stored time-stamp slot.
    private func populated() async throws -> TestLedger {
        let fixture = try TestLedger()
        for count in [4, 5, 7, 7] {
            try await fixture.appendMany(count)
            _ = try fixture.ledger.cutCheckpoint(signer: fixture.signer)
        }
        let timestamps = try fixture.database.columnFamily(LedgerStorage.timestampsFamily)
        try fixture.database.put(LedgerStorage.checkpointTimestampKey(size: 9), [0x30, 0x03, 0x02, 0x01, 0x00], in: timestamps, durability: .synced)
        try fixture.database.put(LedgerStorage.entryTimestampKey(seq: 3), [0x30, 0x03, 0x02, 0x01, 0x01], in: timestamps, durability: .synced)
        return fixture
    }

    @Test("an intact ledger passes, counting what it checked")
    func intact() async throws {
        let fixture = try await populated()
        defer { fixture.close() }
        let report = LedgerAudit.run(database: fixture.database, verifier: fixture.signer.verifier)
        #expect(report.passed, "\(report.finding.map { "\($0)" } ?? "")")
        #expect(report.entries == 23 && report.checkpoints == 4)
        #expect(report.nodes == 2 * 23 - UInt64(23.nonzeroBitCount))
        let other = try TestLedger.signer(seedByte: 99)
        #expect(LedgerAudit.run(database: fixture.database, verifier: other.verifier).finding?.kind == .identity)
    }

    /// Flips one bit at a time, in every byte of every stored value (and of every key), of every
    /// ledger column family; audit must fail for each flip and pass again once it is undone.
    @Test("every single-bit flip anywhere in the stored ledger is found")
    func everyFlipIsFound() async throws {
        let fixture = try await populated()
        defer { fixture.close() }
        let database = fixture.database
        var flips = 0
        var kinds: Set<AuditFindingKind> = []
        // Time-stamp tokens are verified by the TSA issue's audit; here they only need an owner.
        for name in LedgerStorage.columnFamilies where name != LedgerStorage.timestampsFamily {
            let family = try database.columnFamily(name)
            let records = try database.scan(in: family, from: [])
            #expect(!records.isEmpty, "\(name) is empty")
            for record in records {
                // Every byte of values up to 64 bytes; for longer ones, a spread of positions
                // that covers the start, the end and every region in between.
                let positions = record.value.count <= 64 ? Array(record.value.indices) : stride(from: 0, to: record.value.count, by: max(1, record.value.count / 48)).map { $0 } + [record.value.count - 1]
                for position in positions {
                    for bit in [0, 5] {
                        var flipped = record.value
                        flipped[position] ^= UInt8(1 << bit)
                        try database.put(record.key, flipped, in: family, durability: .unsynced)
                        let report = LedgerAudit.run(database: database)
                        #expect(!report.passed, "flip of bit \(bit) at byte \(position) of \(name)/\(hex(record.key)) went unnoticed")
                        report.finding.map { kinds.insert($0.kind) }
                        flips += 1
                    }
                }
                try database.put(record.key, record.value, in: family, durability: .unsynced)
                // The same record under a key with one bit flipped: a moved record.
                for position in record.key.indices {
                    var key = record.key
                    key[position] ^= 0x01
                    let displaced = try database.get(key, in: family)
                    try database.delete(record.key, in: family, durability: .unsynced)
                    try database.put(key, record.value, in: family, durability: .unsynced)
                    let report = LedgerAudit.run(database: database)
                    #expect(!report.passed, "moving \(name)/\(hex(record.key)) to \(hex(key)) went unnoticed")
                    flips += 1
                    try database.delete(key, in: family, durability: .unsynced)
                    if let displaced { try database.put(key, displaced, in: family, durability: .unsynced) }
                    try database.put(record.key, record.value, in: family, durability: .unsynced)
                }
            }
        }
        #expect(LedgerAudit.run(database: database).passed)
        #expect(flips > 1000)
        // The flips were found by different checks, not by one catch-all.
        for kind: AuditFindingKind in [.identity, .head, .entryNotCanonical, .nodeMismatch, .checkpointRecord, .latestCheckpoint, .entrySeq, .chain] {
            #expect(kinds.contains(kind), "no flip was reported as \(kind.rawValue)")
        }
    }

    @Test("a deleted entry, node or checkpoint is found and named")
    func deletions() async throws {
        let fixture = try await populated()
        defer { fixture.close() }
        let database = fixture.database
        let cases: [(String, [UInt8], AuditFindingKind, UInt64?)] = [
            (LedgerStorage.entriesFamily, [0, 0, 0, 0, 0, 0, 0, 7], .entryMissing, 7),
            (LedgerStorage.entriesFamily, [0, 0, 0, 0, 0, 0, 0, 22], .head, 22),
            (LedgerStorage.treeFamily, LedgerStorage.nodeKey(level: 1, index: 3), .nodeMissing, 7),
            (LedgerStorage.checkpointsFamily, [0, 0, 0, 0, 0, 0, 0, 9], .checkpointPrevious, 15),
            (LedgerStorage.checkpointsFamily, [0, 0, 0, 0, 0, 0, 0, 23], .latestCheckpoint, nil),
        ]
        for (name, key, kind, seq) in cases {
            let family = try database.columnFamily(name)
            let value = try #require(try database.get(key, in: family))
            try database.delete(key, in: family, durability: .unsynced)
            let finding = LedgerAudit.run(database: database).finding
            #expect(finding?.kind == kind, "\(name)/\(hex(key)): \(finding.map { "\($0)" } ?? "passed")")
            #expect(finding?.seq == seq, "\(name)/\(hex(key)): \(finding.map { "\($0)" } ?? "passed")")
            try database.put(key, value, in: family, durability: .unsynced)
        }
        #expect(LedgerAudit.run(database: database).passed)
        // A time-stamp for an entry or checkpoint that does not exist.
        let timestamps = try database.columnFamily(LedgerStorage.timestampsFamily)
        for key in [LedgerStorage.entryTimestampKey(seq: 23), LedgerStorage.checkpointTimestampKey(size: 10), [UInt8(ascii: "x")]] {
            try database.put(key, [1], in: timestamps, durability: .unsynced)
            #expect(LedgerAudit.run(database: database).finding?.kind == .timestampOrphan)
            try database.delete(key, in: timestamps, durability: .unsynced)
        }
        #expect(LedgerAudit.run(database: database).passed)
    }

    @Test("a checkpoint note with a signature line added (copied, or by another key) is found")
    func addedSignatureLines() async throws {
        let fixture = try await populated()
        defer { fixture.close() }
        let checkpoints = try fixture.database.columnFamily(LedgerStorage.checkpointsFamily)
        let key = [UInt8](repeating: 0, count: 7) + [16]
        let original = try #require(try fixture.database.get(key, in: checkpoints))
        let record = try #require(try CanonicalJSON.parseCanonical(original).objectValue)
        let note = try #require(record["note"]?.stringValue)
        let signatureLine = String(note[note.range(of: "\n\u{2014} ")!.upperBound...])
        for extra in ["\u{2014} " + signatureLine, "\u{2014} other.example/log AAAAAAAAAAAAAAAAAAAA\n"] {
            var changed = record
            changed["note"] = .string(note + extra)
            try fixture.database.put(key, JSONValue.object(changed).canonicalBytes, in: checkpoints, durability: .unsynced)
            let finding = LedgerAudit.run(database: fixture.database).finding
            #expect(finding?.kind == .checkpointRecord, "\(finding.map { "\($0)" } ?? "passed")")
        }
        try fixture.database.put(key, original, in: checkpoints, durability: .unsynced)
        #expect(LedgerAudit.run(database: fixture.database).passed)
    }

    @Test("an entry rewritten consistently (new body, new leaf) is still caught by the checkpoints and the chain")
    func rewrittenHistory() async throws {
        let fixture = try await populated()
        defer { fixture.close() }
        let database = fixture.database
        let entries = try database.columnFamily(LedgerStorage.entriesFamily)
        let tree = try database.columnFamily(LedgerStorage.treeFamily)
        // Replace entry 22's body and store the matching leaf hash and parents: the forger's best.
        let original = try fixture.ledger.entry(22)
        let forged = Array(String(decoding: original.bytes, as: UTF8.self).replacingOccurrences(of: "\"case\":\"C-", with: "\"case\":\"D-").utf8)
        #expect(forged != original.bytes)
        try database.put([0, 0, 0, 0, 0, 0, 0, 22], forged, in: entries, durability: .unsynced)
        try database.put(LedgerStorage.nodeKey(level: 0, index: 22), Merkle.leafHash(forged), in: tree, durability: .unsynced)
        let finding = LedgerAudit.run(database: database).finding
        // 22 is the last leaf of a 23-leaf tree: no stored parent covers it, so only the signed
        // checkpoint of size 23 can catch the change.
        #expect(finding?.kind == .checkpointRoot && finding?.seq == 22, "\(finding.map { "\($0)" } ?? "passed")")
    }
}
