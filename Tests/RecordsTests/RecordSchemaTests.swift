import CanonicalJSON
import NotariumTestKit
import Records
import Testing

/// Every refusal of the strict readers, with the path it names.
@Suite("Records: evidence bodies, bundles and trust files are read strictly")
struct RecordSchemaTests {
    static let sha256 = JSONValue.object(["algorithm": .string("sha-256"), "value": .string(Base64.encode([UInt8](repeating: 1, count: 32)))])
    static let sha512 = JSONValue.object(["algorithm": .string("sha-512"), "value": .string(Base64.encode([UInt8](repeating: 2, count: 64)))])

    static func evidence(_ change: (inout [String: JSONValue]) -> Void = { _ in }) -> JSONValue {
        var members: [String: JSONValue] = [
            "event": .string(EventURI.evidenceDeposit),
            "case": .string("ARB-2026/0142"),
            "document": .object(["digests": .array([sha256, sha512]), "size": .integer(6000), "mediaType": .string("application/pdf")]),
            "submitter": .object(["certificate": .string(Base64.encode([0x30, 0x01, 0x00])), "signature": .string(Base64.encode([0x30, 0x01, 0x00]))]),
        ]
        change(&members)
        return .object(members)
    }

    static func document(_ change: @escaping (inout [String: JSONValue]) -> Void) -> (inout [String: JSONValue]) -> Void {
        { members in
            var document = members["document"]!.objectValue!
            change(&document)
            members["document"] = .object(document)
        }
    }

    @Test("a well-formed body reads, and writes back to the same canonical bytes")
    func roundTrip() throws {
        let body = Self.evidence { $0["description"] = .string("Exhibit C-1") }
        let record = try EvidenceRecord(body: body)
        #expect(record.caseID == "ARB-2026/0142" && record.document.digests.map(\.algorithm) == [.sha256, .sha512] && record.description == "Exhibit C-1")
        #expect(record.body.canonicalBytes == body.canonicalBytes)
    }

    @Test("each schema violation is refused with its path")
    func refusals() {
        let cases: [(String, (inout [String: JSONValue]) -> Void)] = [
        ("body.event", { (m: inout [String: JSONValue]) in m["event"] = .string("http://uri.etsi.org/19522/Event/ContentHandover") }),
        ("body.case", { (m: inout [String: JSONValue]) in m["case"] = .string("with space") }),
        ("body.case", { (m: inout [String: JSONValue]) in m["case"] = .string(String(repeating: "a", count: 129)) }),
        ("body.extra", { (m: inout [String: JSONValue]) in m["extra"] = .null }),
        ("body.submitter", { (m: inout [String: JSONValue]) in m["submitter"] = nil }),
        ("body.description", { (m: inout [String: JSONValue]) in m["description"] = .string(String(repeating: "x", count: 2001)) }),
        ("body.document.mediaType", Self.document { $0["mediaType"] = .string("pdf") }),
        ("body.document.size", Self.document { $0["size"] = .integer(-1) }),
        ("body.document.digests", Self.document { $0["digests"] = .array([Self.sha512]) }),
        ("body.document.digests", Self.document { $0["digests"] = .array([Self.sha512, Self.sha256]) }),
        ("body.document.digests", Self.document { $0["digests"] = .array([Self.sha256, Self.sha256]) }),
        ("body.document.digests[0].algorithm", Self.document { $0["digests"] = .array([.object(["algorithm": .string("sha-1"), "value": .string("AAAA")])]) }),
        ("body.document.digests[0].value", Self.document { $0["digests"] = .array([.object(["algorithm": .string("sha-256"), "value": .string(Base64.encode([1, 2, 3]))])]) }),
        ("body.document.digests[0].value", Self.document { $0["digests"] = .array([.object(["algorithm": .string("sha-256"), "value": .string("not base64!")])]) }),
        ]
        for (path, change) in cases {
            let error = caught(RecordError.self) { _ = try EvidenceRecord(body: Self.evidence(change)) }
            #expect(error != nil && error!.reason.hasPrefix(path), "\(path): \(String(describing: error))")
        }
    }

    static func bundle(_ change: (inout [String: JSONValue]) -> Void = { _ in }) -> [UInt8] {
        var members: [String: JSONValue] = Bundle(
            kind: .evidence, subject: "6", exportedAt: "2026-11-23T07:51:51.825Z", origin: "notary.test/notarium",
            checkpoint: "notary.test/notarium\n7\nAAAA\n\n— x AAAA\n", checkpointTimestamp: [0x30],
            records: [Bundle.Record(entry: Array("{}".utf8), timestamp: [0x30], inclusionProof: [[UInt8](repeating: 0, count: 32)])],
            certificates: [], crls: [], documents: []).json.objectValue!
        change(&members)
        return JSONValue.object(members).canonicalBytes
    }

    @Test("requestedBy: the API client's certificate hash reads and writes back; any other form is refused by path")
    func requestedBy() throws {
        let digest = (0..<32).map { UInt8($0 * 7 % 256) }
        let hexText = digest.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        let body = Self.evidence { $0["requestedBy"] = .object(["clientCertificateSha256": .string(hexText)]) }
        let record = try EvidenceRecord(body: body)
        #expect(record.requestedBy == Requester(certificateSHA256: digest))
        #expect(record.body.canonicalBytes == body.canonicalBytes)
        #expect(try EvidenceRecord(body: Self.evidence()).requestedBy == nil)
        let bad: [JSONValue] = [
            .object(["clientCertificateSha256": .string(hexText.uppercased())]),
            .object(["clientCertificateSha256": .string(String(hexText.dropLast(2)))]),
            .object(["clientCertificateSha256": .string(String(hexText.dropLast(2)) + "zz")]),
            .object(["clientCertificateSha256": .string(hexText), "name": .string("extra")]),
            .string(hexText),
        ]
        for value in bad {
            let error = caught(RecordError.self) { _ = try EvidenceRecord(body: Self.evidence { $0["requestedBy"] = value }) }
            #expect(error?.code == .schema && error?.reason.contains("body.requestedBy") == true, "\(value): \(String(describing: error))")
        }
    }

    @Test("a base64 member holds at most its limit in bytes, not two more")
    func base64Limit() {
        let exact = Base64.encode([UInt8](repeating: 1, count: 32)), over = Base64.encode([UInt8](repeating: 1, count: 33))
        #expect((try? Field.base64(.string(exact), at: "x", maximumBytes: 32))?.count == 32)
        #expect(caught(RecordError.self) { _ = try Field.base64(.string(over), at: "x", maximumBytes: 32) }?.code == .schema)
        #expect(caught(RecordError.self) { _ = try Field.base64(.string("not base64"), at: "x", maximumBytes: 32) }?.code == .encoding)
    }

    @Test("bundles: canonical JSON in the schema, version 1 of this media type, 32-byte proof hashes, a size limit")
    func bundles() throws {
        #expect(try Bundle(parsing: Self.bundle()).records.count == 1)
        func refused(_ bytes: [UInt8]) -> RecordError? { caught(RecordError.self) { _ = try Bundle(parsing: bytes) } }
        #expect(refused(Array(" ".utf8) + Self.bundle())?.code == .notCanonical)
        #expect(refused(Self.bundle { $0["version"] = .integer(2) })?.reason.contains("version") == true)
        #expect(refused(Self.bundle { $0["mediaType"] = .string("application/json") })?.reason.hasPrefix("mediaType") == true)
        #expect(refused(Self.bundle { $0["kind"] = .string("invoice") })?.reason.hasPrefix("kind") == true)
        #expect(refused(Self.bundle { $0["unknown"] = .null })?.reason.hasPrefix("unknown") == true)
        #expect(refused(Self.bundle { $0["records"] = .array([]) })?.reason.hasPrefix("records") == true)
        #expect(refused(Self.bundle { members in
            members["records"] = .array([.object(["entry": .string("e30="), "inclusionProof": .array([.string(Base64.encode([1, 2]))])])])
        })?.reason.hasPrefix("records[0].inclusionProof[0]") == true)
        #expect(refused([UInt8](repeating: 0x20, count: Bundle.maximumBytes + 1))?.code == .tooLarge)
    }

    @Test("trust files: any JSON spelling, but strict members")
    func trustFiles() throws {
        let trust = TrustFile(roots: [[0x30]], ledgerKeys: ["notary.test/notarium+00000000+AA"], exportedAt: "2026-11-23T00:00:00.000Z")
        let pretty = Array("{\n  \"version\": 1, \"mediaType\": \"\(TrustFile.mediaType)\", \"roots\": [\"MA==\"], \"ledgerKeys\": []\n}".utf8)
        #expect(try TrustFile(parsing: trust.json.canonicalBytes) == trust)
        #expect(try TrustFile(parsing: pretty).roots == [[0x30]])
        #expect(caught(RecordError.self) { _ = try TrustFile(parsing: Array("{\"mediaType\":\"\(TrustFile.mediaType)\",\"version\":1,\"roots\":[]}".utf8)) }?.reason == "ledgerKeys is missing")
        #expect(caught(RecordError.self) { _ = try TrustFile(parsing: Array("[1]".utf8)) }?.code == .schema)
        #expect(caught(RecordError.self) { _ = try TrustFile(parsing: Array("{".utf8)) }?.code == .notCanonical)
    }
}
