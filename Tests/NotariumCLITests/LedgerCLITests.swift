import Foundation
import NotariumTestKit
import Testing

private func json(_ text: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
    guard let dictionary = object as? [String: Any] else { throw CLIJSONError(text: text) }
    return dictionary
}

private struct CLIJSONError: Error { let text: String }

@Suite("notarium ledger: the command line", .serialized)
struct LedgerCLITests {
    @Test("append, get, checkpoint, prove, consistency, verifier-key and audit on a data directory")
    func ledgerRoundTrip() throws {
        let directory = TemporaryDirectory()
        let data = ["--data", directory.file("data"), "--ledger-origin", "notary.test/notarium"]
        let initialized = try notarium(["init"] + data)
        #expect(initialized.status == 0, "\(initialized.standardError)")
        #expect(initialized.standardOutput.contains("verifier key:   notary.test/notarium+"))

        let body = directory.file("body.json")
        var receipts: [[String: Any]] = []
        for n in 0..<5 {
            try "{ \"case\": \"ODR-7\", \"exhibit\": \(n) }".write(toFile: body, atomically: true, encoding: .utf8)
            let append = try notarium(["ledger", "append", "--type", "evidence", "--body-file", body] + data)
            #expect(append.status == 0, "\(append.standardError)")
            receipts.append(try json(append.standardOutput))
        }
        #expect(receipts.map { $0["seq"] as? Int } == [0, 1, 2, 3, 4])
        #expect((receipts[0]["leafHash"] as? String)?.count == 44)

        let get = try notarium(["ledger", "get", "3"] + data)
        #expect(get.status == 0)
        let got = try json(get.standardOutput)
        #expect(got["leafHash"] as? String == receipts[3]["leafHash"] as? String)
        #expect((got["entry"] as? [String: Any])?["type"] as? String == "evidence")
        let raw = try notarium(["ledger", "get", "3", "--raw"] + data)
        #expect(raw.standardOutput.hasPrefix("{\"body\":{\"case\":\"ODR-7\",\"exhibit\":3},\"prev\":\"\(receipts[2]["leafHash"] as? String ?? "")\""))

        let checkpoint = try notarium(["ledger", "checkpoint"] + data)
        #expect(checkpoint.status == 0, "\(checkpoint.standardError)")
        #expect(checkpoint.standardOutput.hasPrefix("notary.test/notarium\n5\n"))
        #expect(checkpoint.standardOutput.contains("\n\n\u{2014} notary.test/notarium "))

        let prove = try json(try notarium(["ledger", "prove", "--index", "1", "--size", "5"] + data).standardOutput)
        #expect(prove["leafHash"] as? String == receipts[1]["leafHash"] as? String)
        #expect((prove["proof"] as? [String])?.count == 3)
        let rootLine = checkpoint.standardOutput.split(separator: "\n")[2]
        #expect(prove["rootHash"] as? String == String(rootLine))
        let consistency = try json(try notarium(["ledger", "consistency", "--from", "2"] + data).standardOutput)
        #expect(consistency["to"] as? Int == 5 && consistency["toRoot"] as? String == String(rootLine))

        let verifierKey = try notarium(["ledger", "verifier-key"] + data)
        #expect(verifierKey.standardOutput.hasPrefix("notary.test/notarium+"))
        let audit = try notarium(["ledger", "audit", "--verifier-key", verifierKey.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)] + data)
        #expect(audit.status == 0, "\(audit.standardError)")
        #expect(try json(audit.standardOutput)["passed"] as? Bool == true)
        #expect(try json(audit.standardOutput)["checkpoints"] as? Int == 1)

        // Audit against someone else's key fails with exit 1 and names why.
        let foreign = "notary.test/notarium+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
        let wrongKey = try notarium(["ledger", "audit", "--verifier-key", foreign] + data)
        #expect(wrongKey.status == 2)  // the key ID does not match: a malformed argument
        let other = try notarium(["ledger", "audit", "--verifier-key", "other.test/notarium+68a1c1b1+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"] + data)
        #expect([1, 2].contains(other.status))
        #expect(other.standardError.contains("[audit-failed]") || other.standardError.contains("[verifier-key-invalid]"))
    }

    @Test("bad input is refused by name and appends nothing")
    func badInput() throws {
        let directory = TemporaryDirectory()
        let data = ["--data", directory.file("data")]
        #expect(try notarium(["init"] + data).status == 0)
        let body = directory.file("body.json")
        let cases: [(String, [String], String)] = [
            ("{\"a\":1}", ["--type", "memo"], "[ledger-unknown-type]"),
            ("{\"a\":", ["--type", "award"], "[body-not-json]"),
            ("[1,2]", ["--type", "award"], "[ledger-invalid-entry]"),
            ("{\"a\":1.5}", ["--type", "award"], "[body-not-json]"),
            ("{\"a\":1,\"a\":2}", ["--type", "award"], "[body-not-json]"),
        ]
        for (text, arguments, name) in cases {
            try text.write(toFile: body, atomically: true, encoding: .utf8)
            let result = try notarium(["ledger", "append", "--body-file", body] + arguments + data)
            #expect(result.status == 2, "\(text): \(result.standardError)")
            #expect(result.standardError.contains(name), "\(text): \(result.standardError)")
        }
        try String(repeating: " ", count: 600_000).write(toFile: body, atomically: true, encoding: .utf8)
        let tooLarge = try notarium(["ledger", "append", "--type", "award", "--body-file", body] + data)
        #expect(tooLarge.status == 2 && tooLarge.standardError.contains("[body-too-large]"), "\(tooLarge.standardError)")
        let missing = try notarium(["ledger", "append", "--type", "award", "--body-file", directory.file("absent.json")] + data)
        #expect(missing.standardError.contains("[body-unreadable]"))
        let get = try notarium(["ledger", "get", "0"] + data)
        #expect(get.status == 1)
        #expect(get.standardError.contains("[ledger-not-found]"))
        let prove = try notarium(["ledger", "prove", "--index", "0", "--size", "1"] + data)
        #expect(prove.status == 2)
        #expect(prove.standardError.contains("[ledger-beyond-tree]"))
        let empty = try notarium(["ledger", "checkpoint"] + data)
        #expect(empty.standardError.contains("nothing to checkpoint"))
        let audit = try notarium(["ledger", "audit"] + data)
        #expect(audit.status == 0)
        #expect(try json(audit.standardOutput)["entries"] as? Int == 0)
    }

    @Test("a body from standard input; the origin is fixed at creation; a foreign ledger key is refused by name")
    func originAndKey() throws {
        let directory = TemporaryDirectory()
        let a = ["--data", directory.file("a"), "--ledger-origin", "first.test/notarium"]
        #expect(try notarium(["init"] + a).status == 0)
        let stdin = try runProcess(builtProduct("notarium"), ["ledger", "append", "--type", "evidence", "--body-file", "-"] + a, environment: cleanEnvironment(), standardInput: "{\"from\":\"stdin\"}")
        #expect(stdin.status == 0, "\(stdin.standardError)")
        #expect(stdin.standardOutput.contains("\"seq\":0"))

        // A later, different origin is ignored: the ledger keeps the one it was created with.
        let later = try notarium(["ledger", "verifier-key", "--data", directory.file("a"), "--ledger-origin", "second.test/notarium"])
        #expect(later.standardOutput.hasPrefix("first.test/notarium+"))

        // Directory b's ledger key, sealed under a's seal key so that it opens, is not a's key.
        let b = ["--data", directory.file("b"), "--seal-key-file", directory.file("a/keys/seal.key")]
        #expect(try notarium(["init"] + b).status == 0)
        try FileManager.default.removeItem(atPath: directory.file("a/keys/ledger.key"))
        try FileManager.default.copyItem(atPath: directory.file("b/keys/ledger.key"), toPath: directory.file("a/keys/ledger.key"))
        let checkpoint = try notarium(["ledger", "checkpoint"] + a)
        #expect(checkpoint.status == 1)
        #expect(checkpoint.standardError.contains("[ledger]") && checkpoint.standardError.contains("is not the key of this ledger"), "\(checkpoint.standardError)")
        // Reading needs no key and still works.
        #expect(try notarium(["ledger", "get", "0"] + a).status == 0)
    }

    @Test("while notariumd runs, ledger commands say that it holds the data directory")
    func heldByAppliance() throws {
        let directory = TemporaryDirectory()
        let data = directory.file("data")
        let daemon = try BackgroundProcess(builtProduct("notariumd"), ["--data", data, "--listen", "127.0.0.1:0"], environment: cleanEnvironment())
        #expect(daemon.waitForOutputLine(containing: "listening on") != nil)
        let get = try notarium(["ledger", "verifier-key", "--data", data])
        #expect(get.status == 1)
        #expect(get.standardError.contains("[data-directory-in-use]"))
        #expect(get.standardError.contains("process \(daemon.process.processIdentifier)"))
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }
}
