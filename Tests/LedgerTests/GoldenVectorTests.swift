import CanonicalJSON
import Foundation
import Ledger
import NotariumTestKit
import Testing

/// Vectors/ledger/small-ledger.json: a five-entry ledger made from fixed inputs (clock, key seed,
/// bodies), with its entries, leaf hashes, roots, proofs and checkpoints. Ed25519 and the ledger
/// are deterministic, so a build that writes other bytes for the same inputs has changed the
/// format: that is a break of every proof ever handed out, and this test says so.
/// `NOTARIUM_WRITE_VECTORS=1 swift test --filter GoldenVector` rewrites the file deliberately.
@Suite("Ledger: golden vectors")
struct GoldenVectorTests {
    static let file = repositoryRoot + "/Vectors/ledger/small-ledger.json"

    static let bodies: [(EntryType, JSONValue)] = [
        (.evidence, ["case": "ODR-2026-0042", "digests": [["alg": "sha-256", "value": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]], "size": 0]),
        (.service, ["case": "ODR-2026-0042", "event": "http://uri.etsi.org/19522/Event/SubmissionAcceptance"]),
        (.certificateIssued, ["serial": "4f2a", "sha256": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="]),
        (.award, ["case": "ODR-2026-0042", "note": "裁决书 / award / sentence arbitrale"]),
        (.certificateRevoked, ["serial": "4f2a", "reason": 1]),
    ]

    private func make() async throws -> JSONValue {
        let fixture = try TestLedger(clock: { 1_795_000_000_000 })
        defer { fixture.close() }
        var notes: [JSONValue] = []
        for (index, (type, body)) in Self.bodies.enumerated() {
            _ = try await fixture.ledger.append(type: type, body: body)
            if index == 2 || index == 4 {
                let record = try fixture.ledger.cutCheckpoint(signer: fixture.signer).record
                notes.append(["size": .integer(Int64(record.size)), "note": .string(record.note), "previous": record.previous.map { .integer(Int64($0)) } ?? .null,
                              "consistency": .array(record.consistency.map { .string(Base64.encode($0)) })])
            }
        }
        let ledger = fixture.ledger
        var entries: [JSONValue] = []
        for seq in 0..<ledger.size {
            let entry = try ledger.entry(seq)
            entries.append(["seq": .integer(Int64(seq)), "entry": .string(String(decoding: entry.bytes, as: UTF8.self)), "leafHash": .string(Base64.encode(entry.leafHash))])
        }
        var roots: [JSONValue] = []
        for size in 1...ledger.size { roots.append(["size": .integer(Int64(size)), "rootHash": .string(Base64.encode(try ledger.rootHash(size: size)))]) }
        var inclusion: [JSONValue] = []
        for size in 1...ledger.size { for index in 0..<size { inclusion.append(try ledger.inclusionProof(index: index, size: size).json) } }
        var consistency: [JSONValue] = []
        for to in 2...ledger.size { for from in 1..<to { consistency.append(try ledger.consistencyProof(from: from, to: to).json) } }
        return [
            "description": "Five entries appended one by one at 2026-11-18T11:06:40.000Z with the Ed25519 key of seed 32 × 0x07, origin test.example/notarium; checkpoints cut after entries 3 and 5. Every item is expected valid.",
            "expect": "valid",
            "verifierKey": .string(fixture.signer.verifier.text),
            "entries": .array(entries), "roots": .array(roots), "checkpoints": .array(notes),
            "inclusion": .array(inclusion), "consistency": .array(consistency),
        ]
    }

    @Test("the same inputs give byte-identical entries, hashes, proofs and signed checkpoints")
    func matchesGolden() async throws {
        let made = try await make()
        let text = made.canonicalString + "\n"
        if ProcessInfo.processInfo.environment["NOTARIUM_WRITE_VECTORS"] == "1" {
            try text.write(toFile: Self.file, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOfFile: Self.file, encoding: .utf8)
        #expect(golden == text, "Vectors/ledger/small-ledger.json differs from what this build writes: the ledger format changed")
    }

    @Test("the golden file verifies on its own terms")
    func goldenVerifies() throws {
        let golden = try CanonicalJSON.parse(readBytes(Self.file))
        let verifier = try NoteVerifier(parsing: try #require(golden["verifierKey"]?.stringValue))
        var roots: [UInt64: [UInt8]] = [:]
        for root in try #require(golden["roots"]?.arrayValue) {
            roots[UInt64(try #require(root["size"]?.integerValue))] = try unb64(try #require(root["rootHash"]?.stringValue))
        }
        var leaves: [[UInt8]] = []
        for item in try #require(golden["entries"]?.arrayValue) {
            let entry = try LedgerEntry(parsing: Array(try #require(item["entry"]?.stringValue).utf8))
            #expect(Base64.encode(entry.leafHash) == item["leafHash"]?.stringValue)
            #expect(entry.prev == (leaves.last ?? LedgerEntry.genesisPrev))
            leaves.append(entry.leafHash)
            #expect(Merkle.root(ofLeafHashes: leaves) == roots[UInt64(leaves.count)])
        }
        for item in try #require(golden["inclusion"]?.arrayValue) {
            let index = UInt64(try #require(item["index"]?.integerValue)), size = UInt64(try #require(item["size"]?.integerValue))
            try Merkle.verifyInclusion(index: index, size: size, leafHash: leaves[Int(index)], proof: try (item["proof"]?.arrayValue ?? []).map { try unb64($0.stringValue ?? "") }, root: try #require(roots[size]))
        }
        for item in try #require(golden["consistency"]?.arrayValue) {
            let from = UInt64(try #require(item["from"]?.integerValue)), to = UInt64(try #require(item["to"]?.integerValue))
            try Merkle.verifyConsistency(fromSize: from, toSize: to, fromRoot: try #require(roots[from]), toRoot: try #require(roots[to]), proof: try (item["proof"]?.arrayValue ?? []).map { try unb64($0.stringValue ?? "") })
        }
        for item in try #require(golden["checkpoints"]?.arrayValue) {
            let body = try CheckpointBody(parsing: try SignedNote.open(try #require(item["note"]?.stringValue), verifiers: [verifier]))
            #expect(body.rootHash == roots[body.size])
        }
    }
}
