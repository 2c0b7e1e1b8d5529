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
