import Foundation
import NotariumTestKit
import Testing

/// The TSA as any RFC 3161 client meets it: a live notariumd on loopback, requests made by
/// `openssl ts -query` and by Python's rfc3161-client, replies checked by `openssl ts -verify`
/// and rfc3161-client's verifier; then bad requests and a short fuzz run.
@Suite("TSA over HTTP: openssl ts and rfc3161-client", .serialized)
struct TSAHTTPTests {
    /// POSTs `file` to /tsa; returns the HTTP status, the content type and the saved reply.
    private func post(_ base: String, _ file: String, to output: String, contentType: String = "application/timestamp-query") throws -> (Int, String) {
        let result = try runProcess("/usr/bin/curl", [
            "-sS", "-o", output, "-w", "%{http_code} %{content_type}", "--data-binary", "@" + file, "-H", "Content-Type: " + contentType, base + "/tsa",
        ], timeout: 30)
        let parts = result.standardOutput.split(separator: " ", maxSplits: 1)
        return (Int(parts.first ?? "") ?? 0, parts.count > 1 ? String(parts[1]) : "")
    }

    @Test("openssl and rfc3161-client get tokens that verify; bad requests are refused precisely; fuzzed requests never get a 500")
    func liveTSA() throws {
        let directory = TemporaryDirectory()
        let appliance = try RunningAppliance(["--data", directory.file("data")])
        defer { appliance.stop() }
        let base = appliance.baseURL

        // The chain, as a relying party fetches it: TSA certificate, issuing CA, root.
        let certs = try curl(base + "/tsa/certs")
        #expect(certs.status == 200 && certs.contentType == "application/pem-certificate-chain")
        let blocks = certs.body.components(separatedBy: "-----END CERTIFICATE-----").filter { $0.contains("BEGIN") }.map { $0 + "-----END CERTIFICATE-----\n" }
        try #require(blocks.count == 3)
        try blocks[2].write(toFile: directory.file("root.pem"), atomically: true, encoding: .utf8)
        try (blocks[0] + blocks[1]).write(toFile: directory.file("chain.pem"), atomically: true, encoding: .utf8)
        let published = try String(contentsOfFile: directory.file("data/public/tsa-chain.pem"), encoding: .utf8)
        #expect(published.filter { !$0.isWhitespace } == certs.body.filter { !$0.isWhitespace }, "DATA/public/tsa-chain.pem is what /tsa/certs serves")

        // openssl ts -query | POST | openssl ts -verify, for each hash, with and without nonce.
        let document = directory.file("document.pdf")
        try Data("%PDF-1.7 the award\n".utf8).write(to: URL(fileURLWithPath: document))
        for hash in ["sha256", "sha384", "sha512"] {
            for nonce in [true, false] {
                let query = directory.file("q.tsq"), reply = directory.file("r.tsr")
                let made = try runProcess("/usr/bin/openssl", ["ts", "-query", "-data", document, "-" + hash, "-cert", "-out", query] + (nonce ? [] : ["-no_nonce"]))
                #expect(made.status == 0, "\(made.standardError)")
                let (status, type) = try post(base, query, to: reply)
                #expect(status == 200 && type == "application/timestamp-reply")
                let verified = try runProcess("/usr/bin/openssl", [
                    "ts", "-verify", "-data", document, "-in", reply, "-CAfile", directory.file("root.pem"), "-untrusted", directory.file("chain.pem"),
                ])
                #expect(verified.status == 0 && verified.standardOutput.contains("Verification: OK"), "\(hash) nonce \(nonce): \(verified.standardOutput) \(verified.standardError)")
                // The reply matches the query (nonce and imprint), as openssl checks it.
                let matched = try runProcess("/usr/bin/openssl", [
                    "ts", "-verify", "-queryfile", query, "-in", reply, "-CAfile", directory.file("root.pem"), "-untrusted", directory.file("chain.pem"),
                ])
                #expect(matched.status == 0, "\(hash) nonce \(nonce): \(matched.standardOutput) \(matched.standardError)")
            }
        }

        // Python's rfc3161-client builds the request and verifies the reply (strict DER).
        let checker = repositoryRoot + "/Tests/TimeStampingTests/rfc3161_client_check.py"
        for hash in ["sha256", "sha512"] {
            for nonce in ["nonce", "no-nonce"] {
                let checked = try runProcess("/usr/bin/env", ["python3", checker, base + "/tsa", directory.file("root.pem"), directory.file("chain.pem"), hash, nonce])
                #expect(checked.status == 0 && checked.standardOutput.hasPrefix("VERIFIED"), "\(hash) \(nonce): \(checked.standardOutput) \(checked.standardError)")
            }
        }

        // HTTP-level mistakes are problem+json.
        let query = directory.file("q.tsq")
        #expect(try runProcess("/usr/bin/openssl", ["ts", "-query", "-data", document, "-sha256", "-out", query]).status == 0)
        let wrongType = try post(base, query, to: directory.file("out"), contentType: "application/octet-stream")
        #expect(wrongType.0 == 415 && wrongType.1 == "application/problem+json")
        let big = directory.file("big.bin")
        try Data(repeating: 0x30, count: 70_000).write(to: URL(fileURLWithPath: big))
        let tooBig = try post(base, big, to: directory.file("out"))
        #expect(tooBig.0 == 413 && tooBig.1 == "application/problem+json")
        let wrongMethod = try curl(base + "/tsa")
        #expect(wrongMethod.status == 405 && wrongMethod.body.contains("urn:notarium:problem:method-not-allowed"))

        // Client mistakes inside a well-formed POST are TimeStampResp rejections.
        let empty = directory.file("empty.bin")
        try Data().write(to: URL(fileURLWithPath: empty))
        let sha1 = directory.file("sha1.tsq")
        #expect(try runProcess("/usr/bin/openssl", ["ts", "-query", "-data", document, "-sha1", "-out", sha1]).status == 0)
        for (file, failure) in [(empty, "wrong format"), (sha1, "unrecognized or unsupported algorithm")] {
            let reply = directory.file("refused.tsr")
            let (status, type) = try post(base, file, to: reply)
            #expect(status == 200 && type == "application/timestamp-reply")
            let shown = try runProcess("/usr/bin/openssl", ["ts", "-reply", "-in", reply, "-text"])
            #expect(shown.standardOutput.contains("Status: Rejected.") && shown.standardOutput.contains(failure), "\(shown.standardOutput)")
        }

        // A short fuzz run: random bytes, and a valid request with bytes flipped, cut or added.
        var generator = SystemRandomNumberGenerator()
        let valid = try readBytes(query)
        let fuzzed = directory.file("fuzz.bin")
        var statuses: [Int: Int] = [:]
        for round in 0..<150 {
            var bytes: [UInt8]
            switch round % 3 {
            case 0: bytes = (0..<Int.random(in: 0..<200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            case 1:
                bytes = valid
                for _ in 0..<Int.random(in: 1...4, using: &generator) { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            default:
                bytes = Array(valid.prefix(Int.random(in: 0..<valid.count, using: &generator)))
                if Bool.random(using: &generator) { bytes += (0..<Int.random(in: 1...8, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) } }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: fuzzed))
            let (status, type) = try post(base, fuzzed, to: directory.file("fuzz.tsr"))
            statuses[status, default: 0] += 1
            #expect(status == 200 && type == "application/timestamp-reply", "round \(round): \(status) for \(bytes.map { String(format: "%02x", $0) }.joined())")
        }
        #expect(statuses[200] == 150, "\(statuses)")
        // And it still serves.
        let (status, _) = try post(base, query, to: directory.file("after.tsr"))
        let after = try runProcess("/usr/bin/openssl", ["ts", "-verify", "-data", document, "-in", directory.file("after.tsr"), "-CAfile", directory.file("root.pem"), "-untrusted", directory.file("chain.pem")])
        #expect(status == 200 && after.status == 0)
    }

    @Test("notarium ts: stamp against a live appliance, verify and show offline; tokens OpenSSL made as a TSA certified by our CA verify too")
    func cli() throws {
        let directory = TemporaryDirectory()
        let notarium = builtProduct("notarium")
        let data = ["--data", directory.file("data")]
        #expect(try runProcess(notarium, ["ca", "init"] + data, environment: cleanEnvironment()).status == 0)
        // OpenSSL acting as a TSA, with a certificate from our CA's tsa profile.
        let made = try runProcess("/usr/bin/openssl", [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", directory.file("ossl-tsa.key"),
            "-subj", "/CN=OpenSSL test TSA/O=Notarium Tests", "-out", directory.file("ossl-tsa.csr"),
        ])
        #expect(made.status == 0, "\(made.standardError)")
        let issued = try runProcess(notarium, ["ca", "issue", "--profile", "tsa", "--csr", directory.file("ossl-tsa.csr"), "--out", directory.file("ossl-tsa.pem")] + data, environment: cleanEnvironment())
        #expect(issued.status == 0, "\(issued.standardError)")
        #expect(try runProcess(notarium, ["ca", "certs", "--out", directory.file("public")] + data, environment: cleanEnvironment()).status == 0)
        let chain = try String(contentsOfFile: directory.file("public/ca-chain.pem"), encoding: .utf8)
        let blocks = chain.components(separatedBy: "-----END CERTIFICATE-----").filter { $0.contains("BEGIN") }.map { $0 + "-----END CERTIFICATE-----\n" }
        try #require(blocks.count == 2)
        try blocks[0].write(toFile: directory.file("issuing.pem"), atomically: true, encoding: .utf8)
        try blocks[1].write(toFile: directory.file("root.pem"), atomically: true, encoding: .utf8)
        try "01\n".write(toFile: directory.file("tsaserial"), atomically: true, encoding: .utf8)
        try """
            [ tsa ]
            default_tsa = tsa_config
            [ tsa_config ]
            serial = \(directory.file("tsaserial"))
            signer_digest = sha256
            default_policy = 1.2.3.4.1
            digests = sha256, sha384, sha512
            accuracy = secs:1
            ordering = no
            tsa_name = yes
            ess_cert_id_alg = sha256

            """.write(toFile: directory.file("tsa.cnf"), atomically: true, encoding: .utf8)
        let document = directory.file("evidence.bin")
        try Data((0..<4096).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: document))
        #expect(try runProcess("/usr/bin/openssl", ["ts", "-query", "-data", document, "-sha384", "-cert", "-out", directory.file("q.tsq")]).status == 0)
        let replied = try runProcess("/usr/bin/openssl", [
            "ts", "-reply", "-config", directory.file("tsa.cnf"), "-queryfile", directory.file("q.tsq"), "-signer", directory.file("ossl-tsa.pem"),
            "-inkey", directory.file("ossl-tsa.key"), "-out", directory.file("ossl.tsr"),
        ])
        #expect(replied.status == 0, "\(replied.standardError)")
        let ours = try runProcess(notarium, ["ts", "verify", "--token", directory.file("ossl.tsr"), "--file", document, "--hash", "sha384", "--trust", directory.file("root.pem"), "--untrusted", directory.file("issuing.pem")])
        #expect(ours.status == 0 && ours.standardOutput.hasPrefix("PASSED"), "\(ours.standardOutput) \(ours.standardError)")
        try Data("another document".utf8).write(to: URL(fileURLWithPath: directory.file("other.bin")))
        let other = try runProcess(notarium, ["ts", "verify", "--token", directory.file("ossl.tsr"), "--file", directory.file("other.bin"), "--trust", directory.file("root.pem"), "--untrusted", directory.file("issuing.pem")])
        #expect(other.status == 1 && other.standardError.contains("[verification-failed]"), "\(other.standardError)")

        // Stamp against the live appliance, then verify and show offline.
        let appliance = try RunningAppliance(data)
        defer { appliance.stop() }
        let base = appliance.baseURL
        let stamped = try runProcess(notarium, ["ts", "stamp", "--file", document, "--url", base + "/tsa", "--out", directory.file("ours.tsr")])
        #expect(stamped.status == 0 && stamped.standardOutput.contains("\"serial\""), "\(stamped.standardOutput) \(stamped.standardError)")
        let tsaChain = try curl(base + "/tsa/certs").body
        try tsaChain.write(toFile: directory.file("tsa-chain.pem"), atomically: true, encoding: .utf8)
        let verified = try runProcess(notarium, ["ts", "verify", "--token", directory.file("ours.tsr"), "--file", document, "--trust", directory.file("root.pem"), "--untrusted", directory.file("tsa-chain.pem")])
        #expect(verified.status == 0 && verified.standardOutput.hasPrefix("PASSED"), "\(verified.standardOutput) \(verified.standardError)")
        let digest = try runProcess("/usr/bin/openssl", ["dgst", "-sha256", "-r", document]).standardOutput.split(separator: " ").first.map(String.init) ?? ""
        // The token carries the TSA certificate, so the issuing CA is all the chain needs besides.
        let byDigest = try runProcess(notarium, ["ts", "verify", "--token", directory.file("ours.tsr"), "--digest", digest, "--trust", directory.file("root.pem"), "--untrusted", directory.file("issuing.pem")])
        #expect(byDigest.status == 0 && byDigest.standardOutput.hasPrefix("PASSED"), "\(byDigest.standardOutput) \(byDigest.standardError)")
        let shown = try runProcess(notarium, ["ts", "show", "--token", directory.file("ours.tsr")])
        #expect(shown.status == 0 && shown.standardOutput.contains("Status: granted") && shown.standardOutput.contains("Policy OID: 2.25.171119743600037763923101405922864101537.3.1"), "\(shown.standardOutput)")
        let garbage = try runProcess(notarium, ["ts", "show", "--token", document])
        #expect(garbage.status == 2 && garbage.standardError.contains("[malformed-token]"), "\(garbage.standardError)")

        // With the appliance stopped, the data directory's own TSA stamps; its serial is above
        // every serial the running appliance may have used. resume on a TSA that is not halted
        // says so and changes nothing.
        #expect(appliance.stop() == 0)
        let local = try runProcess(notarium, ["ts", "stamp", "--digest", digest, "--out", directory.file("local.tsr")] + data, environment: cleanEnvironment())
        #expect(local.status == 0, "\(local.standardError)")
        let localVerified = try runProcess(notarium, ["ts", "verify", "--token", directory.file("local.tsr"), "--digest", digest, "--trust", directory.file("root.pem"), "--untrusted", directory.file("issuing.pem")])
        #expect(localVerified.status == 0 && localVerified.standardOutput.hasPrefix("PASSED"), "\(localVerified.standardOutput) \(localVerified.standardError)")
        let serial = { (output: String) in output.split(separator: "\"").drop { $0 != "serial" }.dropFirst(2).first.map(String.init) ?? "" }
        #expect(UInt64(serial(local.standardOutput), radix: 16) ?? 0 > UInt64(serial(stamped.standardOutput), radix: 16) ?? .max, "\(stamped.standardOutput) then \(local.standardOutput)")
        let resumed = try runProcess(notarium, ["ts", "resume"] + data, environment: cleanEnvironment())
        #expect(resumed.status == 0 && resumed.standardOutput.contains("the TSA was not halted"), "\(resumed.standardOutput) \(resumed.standardError)")
    }

    /// Starts notariumd once on a new data directory (creating its CA and TSA), stops it, and
    /// appends one entry of each type with the CLI, so that a later start finds them waiting
    /// for their tokens. Returns their seqs.
    private func appendWhileStopped(_ types: [String], data: [String], in directory: TemporaryDirectory) throws -> [UInt64] {
        let first = try RunningAppliance(data)
        #expect(first.stop() == 0)
        let body = directory.file("body.json")
        try #"{"case":"TSA-HTTP-1"}"#.write(toFile: body, atomically: true, encoding: .utf8)
        return try types.map { type in
            let result = try runProcess(builtProduct("notarium"), ["ledger", "append", "--type", type, "--body-file", body] + data, environment: cleanEnvironment())
            #expect(result.status == 0, "\(result.standardError)")
            let seq = result.standardOutput.split(separator: "\"").drop { $0 != "seq" }.dropFirst().first.map { $0.filter(\.isNumber) }
            return try #require(seq.flatMap { UInt64($0) }, "\(result.standardOutput)")
        }
    }

    @Test("the ledger's tokens over HTTP: entries appended while stopped are stamped after the start; openssl ts -verify checks entry and checkpoint tokens; /metrics shows the backlog")
    func ledgerTokens() throws {
        let directory = TemporaryDirectory()
        let notarium = builtProduct("notarium")
        let data = ["--data", directory.file("data")]
        // A first start creates the CA and TSA; then three entries people act on are appended
        // with the appliance stopped, so the time-stamper finds them as a backlog when it starts.
        let appended = try appendWhileStopped(["evidence", "service", "award"], data: data, in: directory)
        let appliance = try RunningAppliance(data + ["--ledger-checkpoint-interval", "1"])
        defer { appliance.stop() }
        let base = appliance.baseURL
        let chain = try curl(base + "/tsa/certs").body
        let blocks = chain.components(separatedBy: "-----END CERTIFICATE-----").filter { $0.contains("BEGIN") }.map { $0 + "-----END CERTIFICATE-----\n" }
        try #require(blocks.count == 3)
        try blocks[2].write(toFile: directory.file("root.pem"), atomically: true, encoding: .utf8)
        try (blocks[0] + blocks[1]).write(toFile: directory.file("chain.pem"), atomically: true, encoding: .utf8)
        func fetch(_ path: String, to file: String) throws -> (Int, String) {
            let result = try runProcess("/usr/bin/curl", ["-sS", "-o", file, "-w", "%{http_code} %{content_type}", base + path], timeout: 30)
            let parts = result.standardOutput.split(separator: " ", maxSplits: 1)
            return (Int(parts.first ?? "") ?? 0, parts.count > 1 ? String(parts[1]) : "")
        }
        func verify(_ reply: String, _ what: [String]) throws -> ProcessResult {
            try runProcess("/usr/bin/openssl", ["ts", "-verify", "-in", reply] + what + ["-CAfile", directory.file("root.pem"), "-untrusted", directory.file("chain.pem")])
        }
        for seq in appended {
            let entry = try curl(base + "/ledger/entries/\(seq)").body
            let leafHash = try runProcess("/bin/sh", ["-c", "(printf '\\000'; cat) | openssl dgst -sha256 -r | cut -d' ' -f1"], standardInput: entry).standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            let reply = directory.file("entry-\(seq).tsr")
            let (status, type) = try fetch("/ledger/entries/\(seq)/timestamp", to: reply)
            #expect(status == 200 && type == "application/timestamp-reply")
            let verified = try verify(reply, ["-digest", leafHash])
            #expect(verified.status == 0 && verified.standardOutput.contains("Verification: OK"), "entry \(seq): \(verified.standardOutput) \(verified.standardError)")
        }
        // A certificate-issued entry (seq 0) has no token of its own; an entry not yet written none at all.
        let (ownless, _) = try fetch("/ledger/entries/0/timestamp", to: directory.file("none.json"))
        let ownlessBody = try String(contentsOfFile: directory.file("none.json"), encoding: .utf8)
        #expect(ownless == 404 && ownlessBody.contains("no-own-timestamp"), "\(ownlessBody)")
        #expect(try fetch("/ledger/entries/999999/timestamp", to: directory.file("none.json")).0 == 404)
        #expect(try fetch("/ledger/entries/x/timestamp", to: directory.file("none.json")).0 == 400)

        // The checkpoint cut after the start covers the appended entries; its token is over the
        // note's body: the first three lines.
        var note = ""
        for _ in 0..<100 {
            note = try curl(base + "/ledger/checkpoint").body
            if let size = note.split(separator: "\n").dropFirst().first.flatMap({ UInt64($0) }), size > appended.last! { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let lines = note.split(separator: "\n", omittingEmptySubsequences: false)
        let size = try #require(lines.count > 3 ? UInt64(lines[1]) : nil, "\(note)")
        #expect(try curl(base + "/ledger/checkpoints/\(size)").body == note)
        try (lines[0..<3].joined(separator: "\n") + "\n").write(toFile: directory.file("body.txt"), atomically: true, encoding: .utf8)
        let (checkpointStatus, _) = try fetch("/ledger/checkpoints/\(size)/timestamp", to: directory.file("checkpoint.tsr"))
        #expect(checkpointStatus == 200)
        let checkpointVerified = try verify(directory.file("checkpoint.tsr"), ["-data", directory.file("body.txt")])
        #expect(checkpointVerified.status == 0 && checkpointVerified.standardOutput.contains("Verification: OK"), "\(checkpointVerified.standardOutput) \(checkpointVerified.standardError)")
        #expect(try fetch("/ledger/checkpoints/\(size + 1000)/timestamp", to: directory.file("none.json")).0 == 404)

        // The metrics: tokens made, and a backlog that drained to zero.
        var metrics = ""
        for _ in 0..<100 {
            metrics = try curl(base + "/metrics").body
            if metrics.contains("notarium_ledger_timestamp_backlog 0") { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(metrics.contains("notarium_ledger_timestamp_backlog 0"), "\(metrics)")
        #expect(metrics.contains(#"notarium_ledger_timestamps_total{subject="entry"} 3"#), "\(metrics)")
        #expect(metrics.contains(#"notarium_ledger_timestamps_total{subject="checkpoint"}"#), "\(metrics)")
    }

    @Test("a halted TSA: /tsa answers timeNotAvailable, an entry's token is 503 timestamp-unavailable and waits in the backlog; after ts resume it is stamped")
    func haltedTSA() throws {
        let directory = TemporaryDirectory()
        let notarium = builtProduct("notarium")
        let data = ["--data", directory.file("data")]
        let seq = try appendWhileStopped(["evidence"], data: data, in: directory)[0]
        let halted = try runProcess(notarium, ["ts", "halt", "--reason", "the clock is in doubt"] + data, environment: cleanEnvironment())
        #expect(halted.status == 0, "\(halted.standardError)")

        var appliance = try RunningAppliance(data)
        let base = appliance.baseURL
        let refused = try runProcess("/usr/bin/curl", ["-sS", "-o", directory.file("problem.json"), "-w", "%{http_code}", base + "/ledger/entries/\(seq)/timestamp"])
        let problem = try String(contentsOfFile: directory.file("problem.json"), encoding: .utf8)
        #expect(refused.standardOutput == "503" && problem.contains("timestamp-unavailable"), "\(refused.standardOutput) \(problem)")
        #expect(try runProcess("/usr/bin/openssl", ["ts", "-query", "-digest", String(repeating: "ab", count: 32), "-sha256", "-out", directory.file("q.tsq")]).status == 0)
        #expect(try runProcess("/usr/bin/curl", [
            "-sS", "-o", directory.file("r.tsr"), "--data-binary", "@" + directory.file("q.tsq"), "-H", "Content-Type: application/timestamp-query", base + "/tsa",
        ]).status == 0)
        let reply = try runProcess("/usr/bin/openssl", ["ts", "-reply", "-in", directory.file("r.tsr"), "-text"])
        #expect(reply.standardOutput.contains("Status: Rejected") && reply.standardOutput.contains("time source is not available"), "\(reply.standardOutput)")
        // The time-stamper sets the backlog gauge on its own thread after its first pass, which
        // may come after this request: wait for it (the entry stays unstamped while halted).
        var metrics = ""
        for _ in 0..<100 {
            metrics = try curl(base + "/metrics").body
            if metrics.contains("notarium_ledger_timestamp_backlog"), !metrics.contains("notarium_ledger_timestamp_backlog 0") { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(!metrics.contains("notarium_ledger_timestamp_backlog 0") && metrics.contains("notarium_ledger_timestamp_backlog"), "\(metrics)")
        #expect(appliance.stop() == 0)

        let resumed = try runProcess(notarium, ["ts", "resume"] + data, environment: cleanEnvironment())
        #expect(resumed.status == 0 && resumed.standardOutput.contains("an operator halted it: the clock is in doubt"), "\(resumed.standardOutput) \(resumed.standardError)")
        appliance = try RunningAppliance(data)
        defer { appliance.stop() }
        let served = try runProcess("/usr/bin/curl", ["-sS", "-o", directory.file("entry.tsr"), "-w", "%{http_code}", appliance.baseURL + "/ledger/entries/\(seq)/timestamp"])
        #expect(served.standardOutput == "200")
        #expect(try runProcess("/usr/bin/openssl", ["ts", "-reply", "-in", directory.file("entry.tsr"), "-text"]).standardOutput.contains("Status: Granted"))
    }
}
