import CanonicalJSON
import Foundation
import NotariumTestKit
import Testing

@Suite("notarium verify: evidence bundles", .serialized)
struct EvidenceBundleTests {
    let fixture: EvidenceFixture

    init() throws { fixture = try EvidenceFixture.shared.get() }

    @Test("a fresh evidence bundle PASSES every named check, with the document given, embedded or absent")
    func passes() throws {
        let withDocument = try verify(fixture.bundle, trust: fixture.trust, extra: ["--document", fixture.document])
        #expect(withDocument.status == 0, "\(withDocument.text)")
        #expect(withDocument.verdict == "PASSED")
        let expected = ["bundle.format", "ledger.checkpoint-signature", "ledger.checkpoint-timestamp", "ledger.inclusion", "timestamp.token", "document.digest", "signature.cms", "signature.certificate"]
        #expect(withDocument.checks.compactMap { $0["check"] as? String } == expected)
        #expect(withDocument.checks.allSatisfy { $0["status"] as? String == "passed" })

        let embedded = try verify(fixture.embeddedBundle, trust: fixture.trust)
        #expect(embedded.status == 0 && embedded.status(of: "document.digest") == ["passed"], "\(embedded.text)")

        let absent = try verify(fixture.bundle, trust: fixture.trust)
        #expect(absent.status == 0 && absent.status(of: "document.digest") == ["skipped"], "\(absent.text)")
    }

    @Test("the human report names the verdict and the facts, in English and in Simplified Chinese")
    func humanReport() throws {
        let english = try notarium(["verify", fixture.bundle, "--trust", fixture.trust, "--document", fixture.document])
        #expect(english.status == 0)
        #expect(english.standardOutput.hasPrefix("Verdict: PASSED"))
        #expect(english.standardOutput.contains("ARB-2026/0142") && english.standardOutput.contains("Alice Party"))
        let chinese = try notarium(["verify", fixture.bundle, "--trust", fixture.trust, "--lang", "zh"])
        #expect(chinese.status == 0)
        #expect(chinese.standardOutput.hasPrefix("验证结论: 通过"))
        #expect(chinese.standardOutput.contains("时间戳令牌"))
        let unknown = try notarium(["verify", fixture.bundle, "--trust", fixture.trust, "--lang", "xx"])
        #expect(unknown.status == 2 && unknown.standardError.contains("[unknown-language]"))
    }

    @Test("verify runs in a process with no network at all (unshare -n) and needs no data directory")
    func offline() throws {
        let result = try runProcess("/usr/bin/unshare", ["-n", builtProduct("notarium"), "verify", fixture.bundle, "--trust", fixture.trust, "--document", fixture.document],
                                    environment: cleanEnvironment(["NOTARIUM_DATA": "/nonexistent"]), timeout: 60)
        #expect(result.status == 0, "\(result.standardOutput) \(result.standardError)")
        #expect(result.standardOutput.hasPrefix("Verdict: PASSED"))
    }

    @Test("each part of the bundle is accepted by OpenSSL's own tools: ts -verify, cms -verify, verify -crl_check_all")
    func independentTools() throws {
        try EvidenceFixture.withData {
            let work = TemporaryDirectory("notarium-openssl")
            let bundle = try readJSON(fixture.bundle)
            let record = bundle["records"]!.arrayValue![0]
            let entryBytes = Base64.decode(record["entry"]!.stringValue!)!
            let entry = try CanonicalJSON.parseCanonical(entryBytes)
            func save(_ bytes: [UInt8], _ name: String) throws -> String {
                try Data(bytes).write(to: URL(fileURLWithPath: work.file(name)))
                return work.file(name)
            }
            let root = try save(Base64.decode(try readJSON(fixture.trust)["roots"]!.arrayValue![0].stringValue!)!, "root.der")
            _ = try openssl(["x509", "-inform", "DER", "-in", root, "-out", "root.pem"], in: work.path)
            var chainPEM = ""
            for (index, certificate) in bundle["certificates"]!.arrayValue!.enumerated() {
                let der = try save(Base64.decode(certificate.stringValue!)!, "cert\(index).der")
                chainPEM += try openssl(["x509", "-inform", "DER", "-in", der], in: work.path).standardOutput
            }
            try chainPEM.write(toFile: work.file("chain.pem"), atomically: true, encoding: .utf8)
            var crlPEM = ""
            for (index, crl) in bundle["crls"]!.arrayValue!.enumerated() {
                let der = try save(Base64.decode(crl.stringValue!)!, "crl\(index).der")
                crlPEM += try openssl(["crl", "-inform", "DER", "-in", der], in: work.path).standardOutput
            }
            try crlPEM.write(toFile: work.file("crls.pem"), atomically: true, encoding: .utf8)

            // The entry's token, over the leaf hash `notarium ledger get` reports.
            let got = try EvidenceFixture.run(["ledger", "get", String(fixture.seq)] + fixture.data)
            let leafBase64 = (try JSONSerialization.jsonObject(with: Data(got.standardOutput.utf8)) as? [String: Any])?["leafHash"] as? String ?? ""
            let leafHex = Base64.decode(leafBase64)!.map { String(format: "%02x", $0) }.joined()
            _ = try save(Base64.decode(record["timestamp"]!.stringValue!)!, "entry.tst")
            let entryToken = try openssl(["ts", "-verify", "-token_in", "-in", "entry.tst", "-digest", leafHex, "-CAfile", "root.pem", "-untrusted", "chain.pem"], in: work.path)
            #expect(entryToken.standardOutput.contains("Verification: OK"), "\(entryToken.standardOutput) \(entryToken.standardError)")
            let wrongDigest = try openssl(["ts", "-verify", "-token_in", "-in", "entry.tst", "-digest", String(repeating: "00", count: 32), "-CAfile", "root.pem", "-untrusted", "chain.pem"], in: work.path)
            #expect(!wrongDigest.standardOutput.contains("Verification: OK"))

            // The checkpoint's token, over the signed-note body (the text before the blank line).
            let note = bundle["ledger"]!["checkpoint"]!.stringValue!
            let body = String(note[..<note.range(of: "\n\n")!.lowerBound]) + "\n"
            try body.write(toFile: work.file("body.txt"), atomically: true, encoding: .utf8)
            _ = try save(Base64.decode(bundle["ledger"]!["checkpointTimestamp"]!.stringValue!)!, "checkpoint.tst")
            let checkpointToken = try openssl(["ts", "-verify", "-token_in", "-in", "checkpoint.tst", "-data", "body.txt", "-CAfile", "root.pem", "-untrusted", "chain.pem"], in: work.path)
            #expect(checkpointToken.standardOutput.contains("Verification: OK"), "\(checkpointToken.standardOutput) \(checkpointToken.standardError)")

            // The submitter's CMS signature over the document itself.
            let submitter = entry["body"]!["submitter"]!
            _ = try save(Base64.decode(submitter["signature"]!.stringValue!)!, "signature.der")
            _ = try save(Base64.decode(submitter["certificate"]!.stringValue!)!, "signer.der")
            _ = try openssl(["x509", "-inform", "DER", "-in", "signer.der", "-out", "signer.pem"], in: work.path)
            try (try String(contentsOfFile: work.file("root.pem"), encoding: .utf8) + chainPEM).write(toFile: work.file("cafile.pem"), atomically: true, encoding: .utf8)
            let cms = try openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", "signature.der", "-content", fixture.document, "-CAfile", "cafile.pem", "-purpose", "any", "-out", "/dev/null"], in: work.path)
            #expect(cms.status == 0 && cms.standardError.contains("Verification successful"), "\(cms.standardError)")
            let cmsOther = try openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", "signature.der", "-content", fixture.otherDocument, "-CAfile", "cafile.pem", "-purpose", "any", "-out", "/dev/null"], in: work.path)
            #expect(cmsOther.status != 0)

            // The signer's path with every CRL the bundle carries.
            let chain = try openssl(["verify", "-crl_check_all", "-CAfile", "root.pem", "-untrusted", "chain.pem", "-CRLfile", "crls.pem", "signer.pem"], in: work.path)
            #expect(chain.status == 0 && chain.standardOutput.contains("signer.pem: OK"), "\(chain.standardOutput) \(chain.standardError)")
        }
    }

    @Test("the bundle, its evidence body and the trust file match docs/schemas (jsonschema) and are their own RFC 8785 form (rfc8785)")
    func schemasAndJCS() throws {
        let script = repositoryRoot + "/Tests/VerificationTests/check_schemas.py"
        let result = try runProcess("/usr/bin/env", ["python3", script, fixture.bundle, fixture.trust, repositoryRoot + "/docs/schemas"])
        #expect(result.status == 0 && result.standardOutput.hasSuffix("ok\n"), "\(result.standardOutput) \(result.standardError)")
    }

    @Test("each broken layer is named: document, signature, token, inclusion proof, checkpoint key, revocation data, encoding")
    func brokenLayers() throws {
        let work = TemporaryDirectory("notarium-broken")
        let original = try readJSON(fixture.bundle)
        func broken(_ name: String, _ change: (JSONValue) -> JSONValue) throws -> String {
            let path = work.file(name)
            try write(change(original), to: path)
            return path
        }

        let wrongDocument = try verify(fixture.bundle, trust: fixture.trust, extra: ["--document", fixture.otherDocument])
        #expect(wrongDocument.status == 1 && wrongDocument.subIndications(of: "document.digest") == ["HASH_FAILURE"], "\(wrongDocument.text)")

        let token = try broken("token.bundle") { bundle in
            // The checkpoint's token in place of the entry's: a valid token over another hash.
            modify(bundle, ["records", "0", "timestamp"]) { _ in bundle["ledger"]!["checkpointTimestamp"]! }
        }
        let tokenResult = try verify(token, trust: fixture.trust)
        #expect(tokenResult.status == 1 && tokenResult.status(of: "timestamp.token") == ["failed"], "\(tokenResult.text)")
        #expect(tokenResult.status(of: "ledger.inclusion") == ["passed"])

        let proof = try broken("proof.bundle") { modify($0, ["records", "0", "inclusionProof", "0"]) { flipBit($0, bit: 77) } }
        let proofResult = try verify(proof, trust: fixture.trust)
        #expect(proofResult.status == 1 && proofResult.status(of: "ledger.inclusion") == ["failed"], "\(proofResult.text)")
        #expect(proofResult.status(of: "timestamp.token") == ["passed"])

        let unknownKey = try verify(fixture.bundle, trust: fixture.foreignTrust)
        #expect(unknownKey.status == 1 && unknownKey.status(of: "ledger.checkpoint-signature") == ["failed"], "\(unknownKey.text)")

        let noRevocation = try broken("norevocation.bundle") { modify($0, ["crls"]) { _ in .array([]) } }
        let noRevocationResult = try verify(noRevocation, trust: fixture.trust)
        #expect(noRevocationResult.status == 3 && noRevocationResult.verdict == "INDETERMINATE", "\(noRevocationResult.text)")
        #expect(noRevocationResult.subIndications(of: "signature.certificate") == ["TRY_LATER"])

        let signature = try broken("signature.bundle") { bundle in
            modify(bundle, ["records", "0", "entry"]) { entry in
                let value = try! CanonicalJSON.parseCanonical(Base64.decode(entry.stringValue!)!)
                let changed = modify(value, ["body", "submitter", "signature"]) { flipBit($0, bit: 8 * 40 + 3) }
                return .string(Base64.encode(changed.canonicalBytes))
            }
        }
        let signatureResult = try verify(signature, trust: fixture.trust)
        #expect(signatureResult.status == 1 && signatureResult.verdict == "FAILED", "\(signatureResult.text)")
        // The entry holds the signature, so the entry's hash changed: the ledger no longer
        // includes it and its token is over another hash, whatever the flipped bit meant to CMS.
        #expect(signatureResult.status(of: "ledger.inclusion") == ["failed"])
        #expect(signatureResult.status(of: "timestamp.token") == ["failed"])

        // Pretty-printed JSON is not the canonical encoding: refused before anything is read.
        let pretty = work.file("pretty.bundle")
        let object = try JSONSerialization.jsonObject(with: Data(try readBytes(fixture.bundle)))
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: pretty))
        let prettyResult = try verify(pretty, trust: fixture.trust)
        #expect(prettyResult.status == 1 && prettyResult.subIndications(of: "bundle.format") == ["FORMAT_FAILURE"], "\(prettyResult.text)")

        let garbage = work.file("garbage.bundle")
        try Data([0x30, 0x82, 0xFF, 0x00, 0x7B]).write(to: URL(fileURLWithPath: garbage))
        #expect(try verify(garbage, trust: fixture.trust).status == 1)

        // What keeps verify from running at all is exit 2, named.
        let badTrust = try notarium(["verify", fixture.bundle, "--trust", garbage])
        #expect(badTrust.status == 2 && badTrust.standardError.contains("[invalid-trust-file]"), "\(badTrust.standardError)")
        let missing = try notarium(["verify", work.file("absent.bundle"), "--trust", fixture.trust])
        #expect(missing.status == 2 && missing.standardError.contains("[unreadable-file]"))
    }

    @Test("a certificate revoked after it signed still PASSES; one revoked before is refused at deposit and the ledger is unchanged")
    func revocation() throws {
        try EvidenceFixture.withData {
            let bobKey = fixture.file("bob.key"), bobCert = fixture.file("bob.pem")
            let added = try EvidenceFixture.run(["evidence", "add", fixture.document, "--case", "ARB-2026/0142", "--key", bobKey, "--cert", bobCert] + fixture.data)
            let seq = (try JSONSerialization.jsonObject(with: Data(added.standardOutput.utf8)) as? [String: Any])?["seq"] as? Int ?? -1
            let serial = try openssl(["x509", "-in", bobCert, "-noout", "-serial"], in: fixture.directory.path).standardOutput
                .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
            // CRL times have whole seconds: a revocation in the same second as the token would
            // rightly count as before it. Wait for the next second, as a real revocation would be.
            usleep(1_100_000)
            try EvidenceFixture.run(["ca", "revoke", "--serial", serial, "--reason", "keyCompromise"] + fixture.data)
            let after = fixture.file("bob-after.bundle")
            try EvidenceFixture.run(["bundle", "export", "--seq", String(seq), "--out", after] + fixture.data)
            let result = try verify(after, trust: fixture.trust, extra: ["--document", fixture.document])
            #expect(result.status == 0 && result.verdict == "PASSED", "\(result.text)")

            let size = try EvidenceFixture.run(["status"] + fixture.data).standardOutput
            let refused = try notarium(["evidence", "add", fixture.document, "--case", "ARB-2026/0142", "--key", bobKey, "--cert", bobCert] + fixture.data)
            #expect(refused.status == 1 && refused.standardError.contains("[signer-refused]") && refused.standardError.contains("revoked"), "\(refused.standardError)")
            #expect(try EvidenceFixture.run(["status"] + fixture.data).standardOutput == size)

            // A key that does not match the certificate, and a document that is not there.
            let mismatched = try notarium(["evidence", "add", fixture.document, "--case", "ARB-1", "--key", fixture.file("alice.key"), "--cert", bobCert] + fixture.data)
            #expect(mismatched.status == 2 && mismatched.standardError.contains("[key-certificate-mismatch]"), "\(mismatched.standardError)")
            let badType = try notarium(["evidence", "add", fixture.document, "--case", "ARB-1", "--media-type", "pdf", "--key", bobKey, "--cert", bobCert] + fixture.data)
            #expect(badType.status == 2 && badType.standardError.contains("[invalid-media-type]"), "\(badType.standardError)")
            let badCase = try notarium(["evidence", "add", fixture.document, "--case", "no spaces", "--key", bobKey, "--cert", bobCert] + fixture.data)
            #expect(badCase.status == 2 && badCase.standardError.contains("[invalid-case]"))
        }
    }
}
