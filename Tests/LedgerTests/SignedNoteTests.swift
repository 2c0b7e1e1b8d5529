import CanonicalJSON
import Foundation
import Ledger
import NotariumTestKit
import Sodium
import Testing

@Suite("Ledger: C2SP signed notes and checkpoints")
struct SignedNoteTests {
    @Test("signed-note vectors (C2SP and Go's note tests): every verdict agrees", .enabled(if: externalVectors != nil))
    func noteVectors() throws {
        let file = try readJSONFile(externalVectors! + "/signed-note/note-vectors.json")
        let cases = try #require(file["cases"] as? [[String: Any]])
        #expect(cases.count >= 15)
        for testCase in cases {
            let id = testCase["id"] as? String ?? "?"
            let note: String
            if let text = testCase["note"] as? String {
                note = text
            } else {
                // Not valid UTF-8: it cannot even become a String, which is a rejection already.
                #expect((testCase["expect"] as? [String: Any])?["result"] as? String == "reject", "\(id)")
                continue
            }
            let keys = (testCase["verifier_keys"] as? [String]) ?? []
            let verifiers = try keys.map { try NoteVerifier(parsing: $0) }
            let expectation = try #require(testCase["expect"] as? [String: Any])
            let result = Result { () throws(SignedNote.Failure) in try SignedNote.open(note, verifiers: verifiers) }
            switch expectation["result"] as? String {
            case "valid": #expect((try? result.get()) != nil, "\(id): \(result)")
            default: #expect((try? result.get()) == nil, "\(id) was accepted")
            }
        }
    }

    @Test("signing with Go's published test key reproduces its signature byte for byte", .enabled(if: externalVectors != nil))
    func deterministicSignature() throws {
        let file = try readJSONFile(externalVectors! + "/signed-note/note-vectors.json")
        let cases = try #require(file["cases"] as? [[String: Any]])
        let peter = try #require(cases.first { $0["id"] as? String == "go-peter-valid" })
        let privateKey = try #require(peter["signer_key"] as? String)
        // PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ seed)
        let parts = privateKey.split(separator: "+", maxSplits: 4).map(String.init)
        let seed = Array(try unb64(parts[4]).dropFirst())
        let signer = try NoteSigner(name: parts[2], key: try Ed25519SigningKey(seed: SecureBytes(copying: seed)))
        #expect(signer.sign(try #require(peter["note_text"] as? String)) == peter["note"] as? String)
    }

    @Test("verifier keys: good ones parse and round-trip, bad ones are refused", .enabled(if: externalVectors != nil))
    func verifierKeys() throws {
        let file = try readJSONFile(externalVectors! + "/signed-note/note-vectors.json")
        for entry in try #require(file["verifier_keys"] as? [[String: Any]]) {
            let text = try #require(entry["vkey"] as? String)
            if entry["valid"] as? Bool == true {
                #expect(try NoteVerifier(parsing: text).text == text)
            } else {
                #expect(caught(SignedNote.Failure.self) { _ = try NoteVerifier(parsing: text) } != nil, "\(text)")
            }
        }
        for bad in ["", "a+b", "name+530d903a+", "na me+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"] {
            #expect(caught(SignedNote.Failure.self) { _ = try NoteVerifier(parsing: bad) } != nil, "\(bad)")
        }
        // Upper-case key IDs parse, as in Go's note package; the text is written in lower case.
        #expect(try NoteVerifier(parsing: "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k").text == "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
    }

    /// Tessera's test log: 16 checkpoints of a real tlog-tiles log, each over the first N of
    /// known leaves. Verifies our note verifier, checkpoint parser and Merkle root together.
    @Test("tessera's test log: every checkpoint verifies and its root is the MTH of its leaves", .enabled(if: externalVectors != nil))
    func tesseraCheckpoints() throws {
        let base = externalVectors! + "/tlog/tessera-testdata-log"
        let verifier = try NoteVerifier(parsing: "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx")
        let leaves = "one two three four five six seven eit nain ten ileven twelf threeten fourten fivten".split(separator: " ").map { Merkle.leafHash(Array($0.utf8)) }
        for name in ["checkpoint"] + (0...15).map({ "checkpoint.\($0)" }) {
            let note = try String(contentsOfFile: base + "/" + name, encoding: .utf8)
            let body = try CheckpointBody(parsing: try SignedNote.open(note, verifiers: [verifier]))
            #expect(body.origin == "example.com/log/testdata")
            #expect(body.rootHash == Merkle.root(ofLeafHashes: Array(leaves.prefix(Int(body.size)))), "\(name)")
            var tampered = Array(note.utf8)
            tampered[2] ^= 0x01
            #expect(caught(SignedNote.Failure.self) { _ = try SignedNote.open(String(decoding: tampered, as: UTF8.self), verifiers: [verifier]) } != nil)
        }
    }

    @Test("the Rekor v2 staging checkpoint verifies with its Ed25519 verifier key", .enabled(if: externalVectors != nil))
    func rekorCheckpoint() throws {
        let vector = try readJSONFile(externalVectors! + "/merkle/rekor-v2-staging-inclusion.json")
        let verifier = try NoteVerifier(parsing: try #require(vector["vkey"] as? String))
        let body = try CheckpointBody(parsing: try SignedNote.open(try #require(vector["checkpoint"] as? String), verifiers: [verifier]))
        #expect(body.size == 646)
        #expect(hex(body.rootHash) == vector["root_hash_hex"] as? String)
    }

    @Test("checkpoint bodies: extension lines kept, malformed ones refused")
    func checkpointBodies() throws {
        let root = [UInt8](repeating: 9, count: 32)
        let body = CheckpointBody(origin: "o.example/log", size: 12, rootHash: root, extensions: ["Timestamp: 1"])
        #expect(try CheckpointBody(parsing: body.text) == body)
        for bad in ["o\n12\n", "o\n012\n\(b64(root))\n", "o\n-1\n\(b64(root))\n", "o\n1\nAAAA\n", "\n1\n\(b64(root))\n", "o\n1\n\(b64(root))", "o\n1\n\(b64(root))\n\n"] {
            #expect(caught(SignedNote.Failure.self) { _ = try CheckpointBody(parsing: bad) } != nil, "\(bad.debugDescription)")
        }
    }
}
