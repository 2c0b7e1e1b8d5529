import CanonicalJSON
import Foundation
import NotariumTestKit
import Testing

/// Services and awards end to end through the real `notarium` command line on a fresh data
/// directory: what is recorded, what is refused (with its name, changing nothing), the
/// erasable recipient store, and bundles that `notarium verify` passes, also after the CA's
/// CRLs were re-signed.
@Suite("notarium service / award: record, refuse, export, verify", .serialized)
struct ServiceAwardCLITests {
    let directory = TemporaryDirectory("notarium-service-cli")
    var data: [String] { ["--data", directory.file("data"), "--ledger-origin", "notary.test/service"] }

    func run(_ arguments: [String]) throws -> ProcessResult { try notarium(arguments + data) }

    func succeed(_ arguments: [String]) throws -> [String: Any] {
        let result = try run(arguments)
        guard result.status == 0 else { throw FixtureFailure(description: "notarium \(arguments.joined(separator: " ")) → \(result.status): \(result.standardError)") }
        // Most commands print one JSON object; the others (ca crl) print text.
        return ((try? JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))) as? [String: Any]) ?? [:]
    }

    /// Runs a command that must be refused with `name` and exit `status`.
    func refuse(_ arguments: [String], _ name: String, status: Int32) throws {
        let result = try run(arguments)
        #expect(result.status == status, "\(arguments): exit \(result.status) \(result.standardError)")
        #expect(result.standardError.contains("[\(name)]"), "\(arguments): \(result.standardError)")
    }

    func write(_ text: String, _ name: String) throws -> String {
        try text.write(toFile: directory.file(name), atomically: true, encoding: .utf8)
        return directory.file(name)
    }

    func signer(_ name: String) throws -> (key: String, cert: String) {
        _ = try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "\(name).key"], in: directory.path)
        _ = try openssl(["req", "-new", "-key", "\(name).key", "-subj", "/CN=\(name)/O=Tribunal/C=CN", "-out", "\(name).csr"], in: directory.path)
        _ = try succeed(["ca", "issue", "--profile", "signer", "--csr", directory.file("\(name).csr"), "--out", directory.file("\(name).pem")])
        return (directory.file("\(name).key"), directory.file("\(name).pem"))
    }

    @Test("a service: events recorded and linked, bad events refused with nothing appended, recipients disclosed and erased, the bundle PASSES after a CRL re-sign")
    func service() throws {
        _ = try run(["init"])
        _ = try succeed(["ca", "init"])
        let rules = try write(#"{"timeZone":"Europe/Berlin","calendar":{"id":"DE-BE","version":"2026.1","weekend":[6,7],"holidays":["2026-12-25"]},"confirmedChannels":["portal"],"readReportPresumesService":true,"acceptanceWindowDays":14}"#, "rules.json")
        let notice = try write("Notice of arbitration ARB-9.\n", "notice.txt")
        let service = ["--service", "SVC-9"]
        let opened = try succeed(["service", "open", "--case", "ARB-9", "--part", "notice=\(notice)", "--part-type", "notice=text/plain", "--recipient", "email=party@example.org", "--recipient", "portal=acct-9", "--rules", rules] + service)
        var last = opened["seq"] as! Int
        try refuse(["service", "open", "--case", "ARB-9", "--part", "notice=\(notice)", "--recipient", "email=party@example.org", "--rules", rules] + service, "conflict", status: 1)
        let notified = try succeed(["service", "record", "--event", "ConsignmentNotification", "--channel", "email", "--notice", "link-only", "--provider-kind", "smtp-reply", "--provider-report", "250 2.0.0 Ok: queued as QX1", "--provider-id", "QX1"] + service)
        #expect(notified["seq"] as? Int == last + 1)
        last += 1

        // Refused, each with its name; nothing is appended (the next good event is the next seq).
        try refuse(["service", "record", "--event", "ContentHandover", "--channel", "email", "--identified-by", "one-time-code", "--provider-kind", "smtp-reply", "--provider-report", "250 ok", "--provider-id", "QX1"] + service, "service-rule", status: 1)
        try refuse(["service", "record", "--event", "ContentConsignmentFailure", "--channel", "email"] + service, "invalid-record", status: 1)
        try refuse(["service", "record", "--event", "ContentTeleportation", "--channel", "email"] + service, "unknown-event", status: 2)
        try refuse(["service", "record", "--event", "ContentConsignment", "--channel", "pigeon"] + service, "invalid-channel", status: 2)
        try refuse(["service", "record", "--event", "ContentConsignment", "--channel", "sms"] + service, "invalid-record", status: 1)
        try refuse(["service", "record", "--event", "ContentConsignment", "--channel", "email", "--service", "SVC-404"], "not-found", status: 2)
        try refuse(["service", "record", "--event", "ContentConsignment", "--channel", "portal", "--time", "2099-01-01T00:00:00Z"] + service, "service-rule", status: 1)
        try refuse(["service", "record", "--event", "ConsignmentRejection", "--channel", "email", "--reason", "felt-like-it"] + service, "invalid-reason", status: 2)
        try refuse(["service", "record", "--event", "ContentAccessTracking", "--channel", "portal", "--session", "s-1"] + service, "invalid-argument", status: 2)
        try refuse(["service", "record", "--event", "ServiceDeemedEffective", "--channel", "portal"] + service, "service-rule", status: 1)
        try refuse(["service", "open", "--case", "ARB-9", "--part", "notice=\(notice)", "--recipient", "email=not-an-address", "--rules", rules, "--service", "SVC-10"], "invalid-record", status: 1)
        try refuse(["service", "open", "--case", "ARB-9", "--part", "notice=\(notice)", "--recipient", "sms=0151-1234", "--rules", rules, "--service", "SVC-10"], "invalid-record", status: 1)
        try refuse(["service", "open", "--case", "ARB-9", "--part", "notice=\(notice)", "--part-type", "other=text/plain", "--recipient", "email=a@example.org", "--rules", rules, "--service", "SVC-10"], "invalid-argument", status: 2)
        let badRules = try write(#"{"timeZone":"Mars/Olympus","calendar":{"id":"X","version":"1","weekend":[],"holidays":[]},"confirmedChannels":[],"readReportPresumesService":false}"#, "bad-rules.json")
        try refuse(["service", "open", "--case", "ARB-9", "--part", "notice=\(notice)", "--recipient", "email=a@example.org", "--rules", badRules, "--service", "SVC-10"], "invalid-rules", status: 2)

        let consigned = try succeed(["service", "record", "--event", "ContentConsignment", "--channel", "portal", "--provider-kind", "portal-log", "--provider-report", "stored"] + service)
        #expect(consigned["seq"] as? Int == last + 1, "a refused event appended something")
        let deemed = try succeed(["service", "record", "--event", "ServiceDeemedEffective", "--channel", "portal"] + service)
        #expect(deemed["basis"] as? String == "arrival-at-confirmed-address" && deemed["effectiveAt"] as? String != nil)

        // The CA re-signs its CRLs: tokens made before still verify with the CRLs kept per event.
        _ = try succeed(["ca", "crl", "--resign"])
        _ = try succeed(["trust", "export", "--out", directory.file("trust.json")])
        let stranger = try write("Not the notice.\n", "stranger.txt")
        try refuse(["bundle", "export", "--out", directory.file("refused.json"), "--embed-document", stranger] + service, "digest-mismatch", status: 1)
        #expect(!FileManager.default.fileExists(atPath: directory.file("refused.json")))
        _ = try succeed(["bundle", "export", "--out", directory.file("service.json"), "--embed-document", notice] + service)
        let result = try verify(directory.file("service.json"), trust: directory.file("trust.json"))
        #expect(result.status == 0 && result.verdict == "PASSED", "\(result.text)")
        for check in ["service.chain", "service.delivery", "service.effective", "document.digest"] {
            #expect(result.status(of: check) == ["passed"], "\(check): \(result.status(of: check))")
        }
        let facts = result.report["facts"] as? [[String: String]] ?? []
        #expect(facts.contains { $0["label"] == "effective-at" && $0["value"]!.hasPrefix(deemed["effectiveAt"] as! String) })
        #expect(facts.contains { $0["label"] == "delivery-state" && $0["value"] == "notified" })
        let human = try notarium(["verify", directory.file("service.json"), "--trust", directory.file("trust.json"), "--lang", "zh"])
        #expect(human.status == 0 && human.standardOutput.contains("送达生效时间"))

        // The ledger holds commitments; `disclose` opens them; `erase` destroys what opens them.
        let bundle = try readJSON(directory.file("service.json"))
        let openingBody = try CanonicalJSON.parse(Base64.decode(bundle["records"]!.arrayValue![0]["entry"]!.stringValue!)!)["body"]!
        #expect(!String(decoding: bundle.canonicalBytes, as: UTF8.self).contains("party@example.org"))
        let disclosed = try succeed(["service", "disclose"] + service)["recipients"] as? [[String: String]] ?? []
        #expect(disclosed.count == 2)
        for recipient in disclosed {
            let recorded = openingBody["recipients"]!.arrayValue!.first { $0["channel"]?.stringValue == recipient["channel"] }?["commitment"]?.stringValue
            #expect(recorded == recipient["commitment"], "\(recipient)")
            // Recomputed independently: SHA-256(salt ‖ address).
            let salt = Base64.decode(recipient["salt"]!)!
            let digest = try runProcess("/usr/bin/env", ["python3", "-c", "import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(base64.b64decode(sys.argv[1]) + sys.argv[2].encode()).digest()).decode())", Base64.encode(salt), recipient["address"]!])
            #expect(digest.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == recorded)
        }
        #expect(try succeed(["service", "erase"] + service)["erased"] as? Int == 2)
        try refuse(["service", "disclose"] + service, "not-found", status: 2)
        let afterErasure = try verify(directory.file("service.json"), trust: directory.file("trust.json"))
        #expect(afterErasure.verdict == "PASSED")

        // A submission the provider refused: recorded, verifiable, and the end of its service.
        let rejected = ["--service", "SVC-11"]
        _ = try succeed(["service", "open", "--case", "ARB-9", "--part", "notice=\(notice)", "--recipient", "email=party@example.org", "--rules", rules, "--rejected", "submission-invalid"] + rejected)
        try refuse(["service", "record", "--event", "ContentConsignment", "--channel", "email"] + rejected, "service-rule", status: 1)
        _ = try succeed(["bundle", "export", "--out", directory.file("rejected.json")] + rejected)
        let rejectedReport = try verify(directory.file("rejected.json"), trust: directory.file("trust.json"))
        #expect(rejectedReport.verdict == "PASSED" && rejectedReport.status(of: "service.effective") == ["passed"])
        let rejectedFacts = rejectedReport.report["facts"] as? [[String: String]] ?? []
        #expect(rejectedFacts.contains { $0["label"] == "delivery-state" && $0["value"] == "none" } && rejectedFacts.contains { $0["label"] == "effective-at" && $0["value"] == "—" })
        try refuse(["service", "open", "--case", "ARB-9", "--part", "notice=\(notice)", "--recipient", "email=party@example.org", "--rules", rules, "--rejected", "felt-like-it", "--service", "SVC-12"], "invalid-reason", status: 2)
    }

    @Test("an award: short of a signature or with a bad date it is refused before anything is appended; complete, its bundle PASSES with the document given")
    func award() throws {
        _ = try run(["init"])
        _ = try succeed(["ca", "init"])
        let english = try write("Final award ARB-9: the claim is allowed.\n", "award-en.txt")
        let chinese = try write("仲裁裁决书 ARB-9：支持申请人的请求。\n", "award-zh.txt")
        let people = try ["presiding", "second", "third", "institution"].map { try signer($0) }
        func sign(_ role: String, _ person: (key: String, cert: String)) -> [String] { ["--sign", "\(role):en:\(person.key):\(person.cert)"] }
        let common = ["award", "register", "--award", "AWD-9", "--case", "ARB-9", "--seat", "Beijing, China", "--arbitrators", "3", "--version", "en=\(english)", "--version", "zh-Hans=\(chinese)", "--authentic", "en", "--media-type", "text/plain"]
        let complete = sign("presiding-arbitrator", people[0]) + sign("arbitrator", people[1]) + sign("arbitrator", people[2]) + sign("institution-seal", people[3])
        try refuse(common + ["--issued", "20.11.2026"] + complete, "invalid-award", status: 2)
        try refuse(common + ["--issued", "2026-11-20", "--authentic", "fr"] + complete, "invalid-argument", status: 2)
        try refuse(common + ["--issued", "2026-11-20"] + sign("presiding-arbitrator", people[0]) + sign("arbitrator", people[1]) + sign("institution-seal", people[3]), "invalid-record", status: 1)
        try refuse(common + ["--issued", "2026-11-20", "--sign", "arbitrator:en:\(people[0].key):\(people[1].cert)"], "key-certificate-mismatch", status: 2)
        // A signature made elsewhere, with openssl cms, is taken as it is: refused without the
        // signing-certificate attribute (plain -sign) or with the content attached; accepted
        // as a detached CAdES signature (-cades).
        _ = try openssl(["cms", "-sign", "-binary", "-in", english, "-signer", people[2].cert, "-inkey", people[2].key, "-outform", "DER", "-out", "plain.der"], in: directory.path)
        _ = try openssl(["cms", "-sign", "-binary", "-cades", "-nodetach", "-in", english, "-signer", people[2].cert, "-inkey", people[2].key, "-outform", "DER", "-out", "attached.der"], in: directory.path)
        for made in ["plain.der", "attached.der"] {
            try refuse(common + ["--issued", "2026-11-20", "--signature", "arbitrator:en:\(directory.file(made)):\(people[2].cert)"] + sign("presiding-arbitrator", people[0]) + sign("arbitrator", people[1]) + sign("institution-seal", people[3]), "bad-signature", status: 1)
        }
        _ = try openssl(["cms", "-sign", "-binary", "-cades", "-in", english, "-signer", people[2].cert, "-inkey", people[2].key, "-outform", "DER", "-out", "detached.der"], in: directory.path)
        let registered = try succeed(common + ["--issued", "2026-11-20", "--signature", "arbitrator:en:\(directory.file("detached.der")):\(people[2].cert)"] + sign("presiding-arbitrator", people[0]) + sign("arbitrator", people[1]) + sign("institution-seal", people[3]))
        #expect(registered["signatures"] as? Int == 4)
        try refuse(common + ["--issued", "2026-11-20"] + complete, "conflict", status: 1)
        _ = try succeed(["trust", "export", "--out", directory.file("trust.json")])
        _ = try succeed(["bundle", "export", "--award", "AWD-9", "--out", directory.file("award.json")])
        let result = try verify(directory.file("award.json"), trust: directory.file("trust.json"), extra: ["--document", english])
        #expect(result.status == 0 && result.verdict == "PASSED", "\(result.text)")
        #expect(result.status(of: "signature.cms") == Array(repeating: "passed", count: 4) && result.status(of: "award.signers") == ["passed"])
        #expect(result.status(of: "document.digest") == ["passed"])
        let wrong = try verify(directory.file("award.json"), trust: directory.file("trust.json"), extra: ["--document", try write("Final award ARB-9: the claim is dismissed.\n", "forged.txt")])
        #expect(wrong.status == 1 && wrong.status(of: "document.digest") == ["failed"])
        try refuse(["bundle", "export", "--award", "AWD-404", "--out", directory.file("none.json")], "not-found", status: 2)
        try refuse(["bundle", "export", "--award", "AWD-9", "--out", directory.file("none.json"), "--embed-document", directory.file("forged.txt")], "digest-mismatch", status: 1)
        _ = try succeed(["bundle", "export", "--award", "AWD-9", "--out", directory.file("both.json"), "--embed-document", english, "--embed-document", chinese])
        #expect(try verify(directory.file("both.json"), trust: directory.file("trust.json")).status(of: "document.digest") == ["passed", "passed"])

        // Fifteen arbitrators on four authentic versions: 64 valid signatures, more than one
        // ledger entry holds. Refused as the client's error before any signature is checked.
        var large = ["award", "register", "--award", "AWD-BIG", "--case", "ARB-9", "--seat", "Beijing, China", "--arbitrators", "15", "--issued", "2026-11-20", "--media-type", "text/plain"]
        let languages = ["en", "zh-Hans", "fr", "de"]
        for language in languages { large += ["--version", "\(language)=\(english)"] }
        let tribunal = [people[0], people[1], people[2]] + (try (3..<15).map { try signer("member\($0)") })
        for language in languages {
            for (index, member) in tribunal.enumerated() { large += ["--sign", "\(index == 0 ? "presiding-arbitrator" : "arbitrator"):\(language):\(member.key):\(member.cert)"] }
            large += ["--sign", "institution-seal:\(language):\(people[3].key):\(people[3].cert)"]
        }
        try refuse(large, "invalid-record", status: 1)
        let after = try run(["bundle", "export", "--award", "AWD-BIG", "--out", directory.file("big.json")])
        #expect(after.status == 2 && after.standardError.contains("[not-found]"))
    }
}
