import CanonicalJSON
import Foundation
import NotariumTestKit
import Records
import Testing
import Verification

@Suite("notarium verify: random single-bit changes never PASS")
struct MutationTests {
    @Test("300 single-bit flips in signed or hashed values of a valid bundle: none yields PASSED")
    func bitFlips() throws {
        let fixture = try EvidenceFixture.shared.get()
        let verifier = try Verifier(trust: try TrustFile(parsing: try readBytes(fixture.trust)))
        let original = try readJSON(fixture.bundle)
        #expect(verifier.verify(bundle: original.canonicalBytes).verdict == .passed)
        let record = original["records"]!.arrayValue![0]
        // Every value that is signed or hashed: the entry (which holds the signature and the
        // signer's certificate), its token, each proof hash, the checkpoint token, the note.
        var targets: [[String]] = [["records", "0", "entry"], ["records", "0", "timestamp"], ["ledger", "checkpointTimestamp"]]
        for index in record["inclusionProof"]!.arrayValue!.indices { targets.append(["records", "0", "inclusionProof", String(index)]) }
        var generator = SystemRandomNumberGenerator()
        var passed: [String] = []
        for trial in 0..<300 {
            let changed: JSONValue
            let label: String
            if trial % 10 == 9 {
                // A character of the signed note (checkpoint body or signature line).
                let note = Array(original["ledger"]!["checkpoint"]!.stringValue!.utf8)
                let position = Int.random(in: 0..<(note.count - 1), using: &generator)
                var bytes = note
                bytes[position] ^= UInt8(1 << Int.random(in: 0..<7, using: &generator))
                changed = modify(original, ["ledger", "checkpoint"]) { _ in .string(String(decoding: bytes, as: UTF8.self)) }
                label = "checkpoint note byte \(position)"
            } else {
                let target = targets[Int.random(in: 0..<targets.count, using: &generator)]
                let bit = Int.random(in: 0..<1_000_000, using: &generator)
                changed = modify(original, target) { flipBit($0, bit: bit) }
                label = "\(target.joined(separator: ".")) bit \(bit)"
            }
            if verifier.verify(bundle: changed.canonicalBytes).verdict == .passed { passed.append(label) }
        }
        #expect(passed.isEmpty, "PASSED after: \(passed)")
    }
}
