import CanonicalJSON

/// A detached CMS signature as records hold it: the signer's certificate beside the SignedData,
/// so a reader needs no lookup to see who signed.
public struct RecordedSignature: Sendable, Equatable {
    /// DER X.509 certificate of the signer.
    public let certificate: [UInt8]
    /// DER CMS ContentInfo (SignedData, detached, with signed attributes).
    public let signature: [UInt8]

    public init(certificate: [UInt8], signature: [UInt8]) {
        self.certificate = certificate
        self.signature = signature
    }

    var members: [String: JSONValue] {
        ["certificate": .string(Base64.encode(certificate)), "signature": .string(Base64.encode(signature))]
    }

    public static func parse(_ members: [String: JSONValue], at path: String) throws(RecordError) -> RecordedSignature {
        RecordedSignature(
            certificate: try Field.base64(members["certificate"], at: path + ".certificate", maximumBytes: 16 * 1024),
            signature: try Field.base64(members["signature"], at: path + ".signature", maximumBytes: 64 * 1024))
    }
}

/// A document as records describe it: its digests, size and media type. The document itself
/// is never in the ledger (docs/records.md §1).
public struct DocumentDescription: Sendable, Equatable {
    public let digests: [NamedDigest]
    public let size: UInt64
    public let mediaType: String

    public init(digests: [NamedDigest], size: UInt64, mediaType: String) {
        self.digests = digests
        self.size = size
        self.mediaType = mediaType
    }

    /// The description of `bytes` held in memory (every permitted digest).
    public init(describing bytes: [UInt8], mediaType: String) {
        let measured = NamedDigest.compute(bytes: bytes)
        self.init(digests: measured.digests, size: measured.size, mediaType: mediaType)
    }

    public var sha256: [UInt8] { digests.first { $0.algorithm == .sha256 }!.value }

    /// Whether a document with these `computed` digests is the one described: every recorded
    /// digest is among them.
    public func isDescribed(by computed: [NamedDigest]) -> Bool {
        digests.allSatisfy(computed.contains)
    }

    public var json: JSONValue {
        .object(["digests": .array(digests.map(\.json)), "size": .integer(Int64(size)), "mediaType": .string(mediaType)])
    }

    public static func parse(_ value: JSONValue?, at path: String) throws(RecordError) -> DocumentDescription {
        let members = try Field.object(value, at: path, required: ["digests", "size", "mediaType"])
        return DocumentDescription(
            digests: try NamedDigest.list(members["digests"], at: path + ".digests"),
            size: UInt64(try Field.integer(members["size"], at: path + ".size", range: 0...JSONValue.maximumInteger)),
            mediaType: try Field.mediaType(members["mediaType"], at: path + ".mediaType"))
    }
}

/// The body of an `evidence` entry (event `urn:notarium:event:EvidenceDeposit`): a party's
/// document, signed by the party, deposited in a case. Schema: docs/schemas/evidence.schema.json.
public struct EvidenceRecord: Sendable, Equatable {
    public let caseID: String
    public let document: DocumentDescription
    public let submitter: RecordedSignature
    public let description: String?
    /// The API client that asked for the deposit; nil for the command line.
    public var requestedBy: Requester?

    public static let maximumDescriptionLength = 2000

    public init(caseID: String, document: DocumentDescription, submitter: RecordedSignature, description: String?) {
        self.caseID = caseID
        self.document = document
        self.submitter = submitter
        self.description = description
    }

    public var body: JSONValue {
        var members: [String: JSONValue] = [
            "event": .string(EventURI.evidenceDeposit),
            "case": .string(caseID),
            "document": document.json,
            "submitter": .object(submitter.members),
        ]
        if let description { members["description"] = .string(description) }
        if let requestedBy { members["requestedBy"] = requestedBy.json }
        return .object(members)
    }

    /// Reads and checks an entry body against the schema; refuses anything else.
    public init(body: JSONValue) throws(RecordError) {
        let members = try Field.object(body, at: "body", required: ["event", "case", "document", "submitter"], optional: ["description", "requestedBy"])
        let event = try Field.string(members["event"], at: "body.event")
        guard event == EventURI.evidenceDeposit else {
            throw RecordError(.unknownEvent, "body.event of an evidence entry must be \(EventURI.evidenceDeposit), not \"\(event)\"")
        }
        caseID = try Field.identifier(members["case"], at: "body.case")
        document = try DocumentDescription.parse(members["document"], at: "body.document")
        let signer = try Field.object(members["submitter"], at: "body.submitter", required: ["certificate", "signature"])
        submitter = try RecordedSignature.parse(signer, at: "body.submitter")
        description = try Field.optionalString(members["description"], at: "body.description", maximumLength: Self.maximumDescriptionLength)
        requestedBy = try Requester.parse(members["requestedBy"], at: "body.requestedBy")
    }
}
