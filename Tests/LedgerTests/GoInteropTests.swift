import CanonicalJSON
import Foundation
import Ledger
import NotariumTestKit
import Testing

/// Go's golang.org/x/mod/sumdb/tlog and sumdb/note, which we did not write, check our
/// leaf hashes, inclusion proofs, consistency proofs and checkpoint notes.
@Suite("Ledger: interoperability with Go's sumdb/tlog and sumdb/note")
struct GoInteropTests {
    static let goSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("GoVerifier/verify.go").path

    /// Builds the verifier once (GOPATH mode over Debian's golang-golang-x-mod-dev) and runs it.
    private func runGo(_ input: JSONValue, in directory: TemporaryDirectory) throws -> [String] {
        let inputFile = directory.file("input.json")
        try Data(input.canonicalBytes).write(to: URL(fileURLWithPath: inputFile))
        let environment = cleanEnvironment([
            "GO111MODULE": "off", "GOPATH": "/usr/share/gocode", "GOCACHE": directory.file("gocache"),
            "HOME": directory.path, "GOFLAGS": "",
        ])
        let build = try runProcess("/usr/bin/env", ["go", "build", "-o", directory.file("verify"), Self.goSource], environment: environment, timeout: 300)
        try #require(build.status == 0, "go build failed: \(build.standardError)")
        let result = try runProcess(directory.file("verify"), [inputFile])
        try #require(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        return result.standardOutput.split(separator: "\n").map(String.init)
    }

    @Test("Go verifies our leaf hashes, every inclusion and consistency proof, and our checkpoints; and rejects altered ones")
    func goAgrees() async throws {
        let fixture = try TestLedger()
        defer { fixture.close() }
        var notes: [String] = []
        for count in [1, 6, 10, 16, 20] {
            try await fixture.appendMany(count)
            notes.append(try fixture.ledger.cutCheckpoint(signer: fixture.signer).record.note)
        }
        let size = fixture.ledger.size  // 53
        var inclusion: [JSONValue] = []
        var consistency: [JSONValue] = []
        for n in stride(from: UInt64(1), through: size, by: 4) {
            for i in stride(from: UInt64(0), to: n, by: 3) { inclusion.append(try fixture.ledger.inclusionProof(index: i, size: n).json) }
            for m in stride(from: UInt64(1), to: n, by: 5) { consistency.append(try fixture.ledger.consistencyProof(from: m, to: n).json) }
        }
        let entries = try (0..<size).map { JSONValue.string(Base64.encode(try fixture.ledger.entry($0).bytes)) }
        let input: JSONValue = [
            "verifierKey": .string(fixture.signer.verifier.text), "notes": .array(notes.map { .string($0) }),
            "entries": .array(entries), "inclusion": .array(inclusion), "consistency": .array(consistency),
        ]
        let directory = TemporaryDirectory()
        let lines = try runGo(input, in: directory)
        #expect(lines.count == notes.count + entries.count + inclusion.count + consistency.count)
        #expect(lines.allSatisfy { $0.hasPrefix("ok ") }, "\(lines.filter { !$0.hasPrefix("ok ") }.prefix(5))")
        // Go's reading of each checkpoint is ours: size and root.
        for (line, note) in zip(lines, notes) {
            let record = try CheckpointBody(parsing: try SignedNote.open(note, verifiers: [fixture.signer.verifier]))
            #expect(line == "ok note \(record.size) \(Base64.encode(record.rootHash))")
        }
        // Go's RecordHash of each entry's bytes is our leaf hash.
        for (offset, line) in lines.dropFirst(notes.count).prefix(entries.count).enumerated() {
            #expect(line == "ok leaf \(Base64.encode(try fixture.ledger.leafHash(UInt64(offset))))")
        }

        // Altered inputs must fail in Go too: a flipped proof hash, a wrong index, a note signed
        // by another key, a note whose body was changed.
        let proof = try fixture.ledger.inclusionProof(index: 17, size: 53)
        var flipped = proof.hashes
        flipped[2][5] ^= 0x10
        let alteredInclusion = InclusionProof(index: 17, size: 53, leafHash: proof.leafHash, rootHash: proof.rootHash, hashes: flipped)
        let wrongIndex = InclusionProof(index: 18, size: 53, leafHash: proof.leafHash, rootHash: proof.rootHash, hashes: proof.hashes)
        let other = try TestLedger.signer(seedByte: 42)
        let foreignNote = other.sign(CheckpointBody(origin: TestLedger.origin, size: 53, rootHash: proof.rootHash).text)
        let editedNote = notes[4].replacingOccurrences(of: "\n53\n", with: "\n54\n")
        let consistencyProof = try fixture.ledger.consistencyProof(from: 7, to: 53)
        let shortened = ConsistencyProof(from: 7, to: 53, fromRoot: consistencyProof.fromRoot, toRoot: consistencyProof.toRoot, hashes: Array(consistencyProof.hashes.dropLast()))
        let bad: JSONValue = [
            "verifierKey": .string(fixture.signer.verifier.text), "notes": [.string(foreignNote), .string(editedNote)],
            "entries": [], "inclusion": [alteredInclusion.json, wrongIndex.json], "consistency": [shortened.json],
        ]
        let badLines = try runGo(bad, in: directory)
        #expect(badLines.count == 5)
        #expect(badLines.allSatisfy { $0.hasPrefix("fail") }, "\(badLines)")
    }
}
