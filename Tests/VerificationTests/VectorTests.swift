import CanonicalJSON
import Foundation
import Ledger
import NotariumTestKit
import Records
import Testing
import Verification

/// Vectors/bundles/, written by `notarium-vectors` (Sources/notarium-vectors): every bundle gets
/// the verdict and the failing check its manifest expects, in process and through the CLI;
/// independent tools agree on the valid service and award bundles' parts.
@Suite("Vectors/bundles: valid and broken bundles of each kind", .serialized)
struct VectorTests {
    static let directory = repositoryRoot + "/Vectors/bundles"

    struct Expectation {
        let file: String
        let kind: String
        let expect: String
        let check: String?
        let subIndication: String?
    }

    static func manifest() throws -> [Expectation] {
        let manifest = try CanonicalJSON.parse(try readBytes(directory + "/manifest.json"))
        return manifest["vectors"]!.arrayValue!.map { item in
            Expectation(file: item["file"]!.stringValue!, kind: item["kind"]!.stringValue!, expect: item["expect"]!.stringValue!, check: item["check"]?.stringValue, subIndication: item["subIndication"]?.stringValue)
        }
    }

    static func verifier() throws -> Verifier {
        try Verifier(trust: try TrustFile(parsing: try readBytes(directory + "/trust.json")))
    }

    @Test("each vector: the manifest's verdict, exit status and failing check, and nothing else fails")
    func verdicts() throws {
        let verifier = try Self.verifier()
        let vectors = try Self.manifest()
        for vector in vectors {
            let path = Self.directory + "/" + vector.file
            let report = verifier.verify(bundle: try readBytes(path))
            #expect(report.verdict.rawValue == vector.expect, "\(vector.file): \(report.verdict) \(report.checks.filter { $0.status != .passed })")
            let concluding = report.checks.filter { $0.status == .failed || $0.status == .indeterminate }
            if let check = vector.check {
                let named = concluding.filter { $0.check == check }
                #expect(!named.isEmpty, "\(vector.file): \(check) did not fail; failing: \(concluding.map(\.check))")
                #expect(named.allSatisfy { $0.subIndication == vector.subIndication }, "\(vector.file): \(named.map { $0.subIndication ?? "-" })")
                if vector.expect == "FAILED" {
                    // One layer broken once: no other check fails.
                    #expect(concluding.filter { $0.status == .failed }.allSatisfy { $0.check == check }, "\(vector.file): \(concluding.map(\.check))")
                }
            } else {
                #expect(concluding.isEmpty, "\(vector.file): \(concluding)")
            }
            let cli = try notarium(["verify", path, "--trust", Self.directory + "/trust.json"])
            let status: Int32 = switch vector.expect {
            case "PASSED": 0
            case "FAILED": 1
            default: 3
            }
            #expect(cli.status == status, "\(vector.file): exit \(cli.status)")
        }
    }

    @Test("the vectors cover every layer the issue names, and a valid bundle of each kind")
    func coverage() throws {
        let vectors = try Self.manifest()
        for kind in BundleKind.allCases {
            #expect(vectors.contains { $0.kind == kind.rawValue && $0.expect == "PASSED" }, "no valid \(kind) bundle")
        }
        let broken = Set(vectors.compactMap { vector in vector.check.map { "\($0)/\(vector.subIndication ?? "")" } })
        for layer in ["document.digest/HASH_FAILURE", "signature.cms/SIG_CRYPTO_FAILURE", "signature.certificate/REVOKED", "signature.certificate/EXPIRED",
                      "timestamp.token/SIG_CRYPTO_FAILURE", "ledger.inclusion/HASH_FAILURE", "ledger.checkpoint-signature/SIG_CRYPTO_FAILURE",
                      "service.chain/FORMAT_FAILURE", "service.delivery/FORMAT_FAILURE", "award.signers/FORMAT_FAILURE", "signature.certificate/TRY_LATER"] {
            #expect(broken.contains(layer), "no vector breaks \(layer)")
        }
        #expect(vectors.filter { $0.check == "timestamp.token" }.count >= 2 && vectors.filter { $0.check == "service.chain" }.count >= 2)
        #expect(vectors.contains { $0.expect == "INDETERMINATE" })
    }

    @Test("the valid service and award bundles' tokens, signatures and chains, checked with OpenSSL")
    func independentTools() throws {
        let work = TemporaryDirectory("notarium-vector-tools")
        func save(_ bytes: [UInt8], _ name: String) throws -> String {
            try Data(bytes).write(to: URL(fileURLWithPath: work.file(name)))
            return work.file(name)
        }
        let trust = try CanonicalJSON.parse(try readBytes(Self.directory + "/trust.json"))
        _ = try openssl(["x509", "-inform", "DER", "-in", try save(Base64.decode(trust["roots"]!.arrayValue![0].stringValue!)!, "root.der"), "-out", "root.pem"], in: work.path)
        for name in ["service-valid", "award-valid"] {
            let bundle = try CanonicalJSON.parse(try readBytes("\(Self.directory)/\(name).json"))
            var chainPEM = ""
            for (index, certificate) in bundle["certificates"]!.arrayValue!.enumerated() {
                chainPEM += try openssl(["x509", "-inform", "DER", "-in", try save(Base64.decode(certificate.stringValue!)!, "cert\(index).der")], in: work.path).standardOutput
            }
            try chainPEM.write(toFile: work.file("chain.pem"), atomically: true, encoding: .utf8)
            var crlPEM = ""
            for (index, crl) in bundle["crls"]!.arrayValue!.enumerated() {
                crlPEM += try openssl(["crl", "-inform", "DER", "-in", try save(Base64.decode(crl.stringValue!)!, "crl\(index).der")], in: work.path).standardOutput
            }
            try crlPEM.write(toFile: work.file("crls.pem"), atomically: true, encoding: .utf8)
            try (try String(contentsOfFile: work.file("root.pem"), encoding: .utf8) + chainPEM).write(toFile: work.file("cafile.pem"), atomically: true, encoding: .utf8)
            // Every entry's token over its RFC 9162 leaf hash.
            for (index, record) in bundle["records"]!.arrayValue!.enumerated() {
                let leaf = Merkle.leafHash(Base64.decode(record["entry"]!.stringValue!)!).map { String(format: "%02x", $0) }.joined()
                _ = try save(Base64.decode(record["timestamp"]!.stringValue!)!, "entry\(index).tst")
                let verified = try openssl(["ts", "-verify", "-token_in", "-in", "entry\(index).tst", "-digest", leaf, "-CAfile", "root.pem", "-untrusted", "chain.pem"], in: work.path)
                #expect(verified.standardOutput.contains("Verification: OK"), "\(name) record \(index): \(verified.standardOutput) \(verified.standardError)")
            }
            guard name == "award-valid" else { continue }
            // Every signature over the embedded English version; each signer's path with the CRLs.
            let english = try save(Base64.decode(bundle["documents"]!.arrayValue![0].stringValue!)!, "award-en.txt")
            let body = try CanonicalJSON.parse(Base64.decode(bundle["records"]!.arrayValue![0]["entry"]!.stringValue!)!)["body"]!
            let signatures = body["signatures"]!.arrayValue!
            let entryTime = try CanonicalJSON.parse(Base64.decode(bundle["records"]!.arrayValue![0]["entry"]!.stringValue!)!)["time"]!.stringValue!
            let provenAt = try #require(LedgerTime.parse(entryTime)) / 1000
            #expect(signatures.count == 4)
            for (index, signature) in signatures.enumerated() {
                _ = try save(Base64.decode(signature["signature"]!.stringValue!)!, "sig\(index).der")
                _ = try openssl(["x509", "-inform", "DER", "-in", try save(Base64.decode(signature["certificate"]!.stringValue!)!, "signer\(index).der"), "-out", "signer\(index).pem"], in: work.path)
                let cms = try openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", "sig\(index).der", "-content", english, "-CAfile", "cafile.pem", "-purpose", "any", "-out", "/dev/null"], in: work.path)
                #expect(cms.status == 0 && cms.standardError.contains("Verification successful"), "signature \(index): \(cms.standardError)")
                // At the time the award's entry proves (its ledger time, which its token
                // carries), as a relying party validates years later: the captured CRLs were
                // current then, and have long passed their nextUpdate now.
                let chain = try openssl(["verify", "-attime", String(provenAt), "-crl_check_all", "-CAfile", "root.pem", "-untrusted", "chain.pem", "-CRLfile", "crls.pem", "signer\(index).pem"], in: work.path)
                #expect(chain.status == 0, "signer \(index): \(chain.standardOutput) \(chain.standardError)")
            }
            // And over nothing else.
            let otherText = try save(Array("Final award, case ARB-2026-0001. The respondent shall pay EUR 100,000.\n".utf8), "other.txt")
            let other = try openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", "sig0.der", "-content", otherText, "-CAfile", "cafile.pem", "-purpose", "any", "-out", "/dev/null"], in: work.path)
            #expect(other.status != 0)
        }
    }

    @Test("the valid bundles of each kind and their record bodies match docs/schemas (jsonschema) and are their own RFC 8785 form (rfc8785)")
    func schemas() throws {
        for name in ["evidence-valid", "service-valid", "award-valid"] {
            let result = try runProcess("/usr/bin/env", ["python3", repositoryRoot + "/Tests/VerificationTests/check_schemas.py", "\(Self.directory)/\(name).json", Self.directory + "/trust.json", repositoryRoot + "/docs/schemas"])
            #expect(result.status == 0 && result.standardOutput.hasSuffix("ok\n"), "\(name): \(result.standardOutput) \(result.standardError)")
        }
    }

    @Test("150 single-bit flips in the signed or hashed values of the valid service and award bundles: none yields PASSED")
    func bitFlips() throws {
        let verifier = try Self.verifier()
        var generator = SystemRandomNumberGenerator()
        for name in ["service-valid", "award-valid"] {
            let original = try CanonicalJSON.parse(try readBytes("\(Self.directory)/\(name).json"))
            #expect(verifier.verify(bundle: original.canonicalBytes).verdict == .passed)
            var targets: [[String]] = [["ledger", "checkpointTimestamp"]]
            for (index, record) in original["records"]!.arrayValue!.enumerated() {
                targets += [["records", String(index), "entry"], ["records", String(index), "timestamp"]]
                for proof in record["inclusionProof"]!.arrayValue!.indices { targets.append(["records", String(index), "inclusionProof", String(proof)]) }
            }
            var passed: [String] = []
            for _ in 0..<150 {
                let target = targets[Int.random(in: 0..<targets.count, using: &generator)]
                let bit = Int.random(in: 0..<1_000_000, using: &generator)
                let changed = modify(original, target) { flipBit($0, bit: bit) }
                if verifier.verify(bundle: changed.canonicalBytes).verdict == .passed { passed.append("\(target.joined(separator: ".")) bit \(bit)") }
            }
            #expect(passed.isEmpty, "\(name) PASSED after: \(passed)")
        }
    }
}
