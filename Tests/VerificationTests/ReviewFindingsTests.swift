import CanonicalJSON
import Foundation
import Ledger
import NotariumTestKit
import Sodium
import Testing

/// Cases a review found the verifier or the notary let through; each test fails if the fix is
/// undone.
@Suite("notarium verify and evidence add: what a review found", .serialized)
struct ReviewFindingsTests {
    let fixture: EvidenceFixture

    init() throws { fixture = try EvidenceFixture.shared.get() }

    @Test("a trusted key of another ledger cannot vouch for this ledger's checkpoint")
    func checkpointKeyMustBeNamedForTheOrigin() throws {
        let work = TemporaryDirectory("notarium-review")
        let bundle = try readJSON(fixture.bundle)
        let note = bundle["ledger"]!["checkpoint"]!.stringValue!
        let body = String(note[..<note.range(of: "\n\n")!.lowerBound]) + "\n"
        // Another ledger's key, trusted too, signs this ledger's checkpoint body.
        let other = try NoteSigner(name: "other.test/notarium", key: try Ed25519SigningKey(seed: Ed25519SigningKey.generateSeed()))
        let forged = modify(bundle, ["ledger", "checkpoint"]) { _ in .string(other.sign(body)) }
        try write(forged, to: work.file("forged.bundle"))
        var trust = try readJSON(fixture.trust)
        trust = modify(trust, ["ledgerKeys"]) { keys in .array(keys.arrayValue! + [.string(other.verifier.text)]) }
        try write(trust, to: work.file("trust.json"))

        let result = try verify(work.file("forged.bundle"), trust: work.file("trust.json"))
        #expect(result.status == 1 && result.status(of: "ledger.checkpoint-signature") == ["failed"], "\(result.text)")
        // The same trust file still passes the genuine bundle: only the forgery is refused.
        #expect(try verify(fixture.bundle, trust: work.file("trust.json")).status == 0)
    }

    @Test("a wrong embedded document is found even when the right one is given with --document")
    func everyDocumentIsCompared() throws {
        let work = TemporaryDirectory("notarium-review")
        let other = try readBytes(fixture.otherDocument)
        let changed = modify(try readJSON(fixture.embeddedBundle), ["documents"]) { _ in .array([.string(Base64.encode(other))]) }
        try write(changed, to: work.file("wrong-embedded.bundle"))
        let result = try verify(work.file("wrong-embedded.bundle"), trust: fixture.trust, extra: ["--document", fixture.document])
        #expect(result.status == 1 && result.status(of: "document.digest") == ["passed", "failed"], "\(result.text)")
    }

    @Test("with no verified time-stamp the signer's certificate is NO_POE, with its own message")
    func noProofOfExistence() throws {
        let work = TemporaryDirectory("notarium-review")
        var bundle = try readJSON(fixture.bundle)
        let garbage = JSONValue.string(Base64.encode([0x30, 0x03, 0x02, 0x01, 0x00]))
        bundle = modify(bundle, ["records", "0", "timestamp"]) { _ in garbage }
        bundle = modify(bundle, ["ledger", "checkpointTimestamp"]) { _ in garbage }
        try write(bundle, to: work.file("no-poe.bundle"))
        let result = try verify(work.file("no-poe.bundle"), trust: fixture.trust)
        #expect(result.status == 1 && result.subIndications(of: "signature.certificate") == ["NO_POE"], "\(result.text)")
        let message = result.checks.first { $0["check"] as? String == "signature.certificate" }?["message"] as? String
        #expect(message?.contains("no verified time-stamp") == true)
    }

    @Test("a token with a SHA-512 imprint, or a TimeStampResp where a bare token belongs, is refused")
    func tokenForm() throws {
        try EvidenceFixture.withData {
            let work = TemporaryDirectory("notarium-review")
            let digest = String(repeating: "ab", count: 64)
            try EvidenceFixture.run(["ts", "stamp", "--digest", digest, "--hash", "sha512", "--out", work.file("sha512.tsr")] + fixture.data)
            _ = try openssl(["ts", "-reply", "-in", "sha512.tsr", "-token_out", "-out", "sha512.tst"], in: work.path)
            let token = try readBytes(work.file("sha512.tst"))
            try write(modify(try readJSON(fixture.bundle), ["records", "0", "timestamp"]) { _ in .string(Base64.encode(token)) }, to: work.file("sha512.bundle"))
            let sha512 = try verify(work.file("sha512.bundle"), trust: fixture.trust)
            #expect(sha512.status == 1 && sha512.subIndications(of: "timestamp.token") == ["HASH_FAILURE"], "\(sha512.text)")

            // The entry's own token wrapped in a granted TimeStampResp: same token, wrong form.
            let bundle = try readJSON(fixture.bundle)
            try Data(Base64.decode(bundle["records"]!.arrayValue![0]["timestamp"]!.stringValue!)!).write(to: URL(fileURLWithPath: work.file("entry.tst")))
            let wrapped = try openssl(["ts", "-reply", "-token_in", "-in", "entry.tst", "-out", "entry.tsr"], in: work.path)
            #expect(wrapped.status == 0, "\(wrapped.standardError)")
            let response = try readBytes(work.file("entry.tsr"))
            try write(modify(bundle, ["records", "0", "timestamp"]) { _ in .string(Base64.encode(response)) }, to: work.file("response.bundle"))
            let asResponse = try verify(work.file("response.bundle"), trust: fixture.trust)
            #expect(asResponse.status == 1 && asResponse.subIndications(of: "timestamp.token") == ["FORMAT_FAILURE"], "\(asResponse.text)")
        }
    }

    @Test("evidence add refuses a certificate of this CA that is not a signer's (tls-client), and records nothing")
    func signerProfileOnly() throws {
        try EvidenceFixture.withData {
            let path = fixture.directory.path
            _ = try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "client.key"], in: path)
            _ = try openssl(["req", "-new", "-key", "client.key", "-subj", "/CN=client.example/O=Example Ltd/C=DE", "-out", "client.csr"], in: path)
            try EvidenceFixture.run(["ca", "issue", "--profile", "tls-client", "--csr", fixture.file("client.csr"), "--out", fixture.file("client.pem")] + fixture.data)
            let before = try EvidenceFixture.run(["status"] + fixture.data).standardOutput
            let refused = try notarium(["evidence", "add", fixture.document, "--case", "ARB-1", "--key", fixture.file("client.key"), "--cert", fixture.file("client.pem")] + fixture.data)
            #expect(refused.status == 1 && refused.standardError.contains("[signer-refused]") && refused.standardError.contains("signer profile"), "\(refused.standardError)")
            #expect(try EvidenceFixture.run(["status"] + fixture.data).standardOutput == before)
        }
    }
}
