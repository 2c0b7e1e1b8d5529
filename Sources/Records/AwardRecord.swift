import CanonicalJSON
import OpenSSLKit

/// One language version of an award.
public struct AwardVersion: Sendable, Equatable {
    /// BCP 47 language tag (`en`, `zh-Hans`, `de`).
    public let language: String
    /// Whether this version is authentic (signed by the tribunal), not a translation for convenience.
    public let authentic: Bool
    public let document: DocumentDescription

    public init(language: String, authentic: Bool, document: DocumentDescription) {
        self.language = language
        self.authentic = authentic
        self.document = document
    }
}

/// Who signed an award, in what capacity.
public enum AwardRole: String, CaseIterable, Sendable {
    case arbitrator
    /// The presiding arbitrator (counts as one of the tribunal).
    case presidingArbitrator = "presiding-arbitrator"
    /// The administering institution's seal (an organization's signature).
    case institutionSeal = "institution-seal"

    public var isArbitrator: Bool { self != .institutionSeal }
}

/// One signature on one language version.
public struct AwardSignature: Sendable, Equatable {
    public let role: AwardRole
    public let language: String
    public let signed: RecordedSignature

    public init(role: AwardRole, language: String, signed: RecordedSignature) {
        self.role = role
        self.language = language
        self.signed = signed
    }
}

/// The body of an `award` entry (event `urn:notarium:event:AwardIssued`): the award's language
/// versions by digest, each authentic version signed by every arbitrator (CMS, detached) and
/// sealed by the institution. Schema: docs/schemas/award.schema.json; meaning: docs/records.md §3.
public struct AwardRecord: Sendable, Equatable {
    public let awardID: String
    public let caseID: String
    /// The date the award states as its date of issue (YYYY-MM-DD).
    public let issued: String
    /// The seat (legal place) of arbitration, e.g. `Beijing, China`.
    public let seat: String
    /// How many arbitrators the tribunal has.
    public let arbitrators: Int
    public let versions: [AwardVersion]
    public let signatures: [AwardSignature]
    /// The API client that registered the award; nil for the command line.
    public var requestedBy: Requester?

    public static let maximumArbitrators = 15

    public init(awardID: String, caseID: String, issued: String, seat: String, arbitrators: Int, versions: [AwardVersion], signatures: [AwardSignature]) {
        self.awardID = awardID
        self.caseID = caseID
        self.issued = issued
        self.seat = seat
        self.arbitrators = arbitrators
        self.versions = versions
        self.signatures = signatures
    }

    public var body: JSONValue {
        var members: [String: JSONValue] = [
            "event": .string(EventURI.awardIssued),
            "award": .string(awardID),
            "case": .string(caseID),
            "issued": .string(issued),
            "seat": .string(seat),
            "arbitrators": .integer(Int64(arbitrators)),
            "versions": .array(versions.map { version in
                guard case .object(var members) = version.document.json else { fatalError("a document description is an object") }
                members["language"] = .string(version.language)
                members["authentic"] = .bool(version.authentic)
                return .object(members)
            }),
            "signatures": .array(signatures.map { signature in
                var members = signature.signed.members
                members["role"] = .string(signature.role.rawValue)
                members["language"] = .string(signature.language)
                return .object(members)
            }),
        ]
        if let requestedBy { members["requestedBy"] = requestedBy.json }
        return .object(members)
    }

    /// Reads an award body against the schema. Whether the signers are complete is a separate
    /// rule (`checkSigners`), so that a verifier can name it.
    public init(body: JSONValue) throws(RecordError) {
        let members = try Field.object(body, at: "body", required: ["event", "award", "case", "issued", "seat", "arbitrators", "versions", "signatures"], optional: ["requestedBy"])
        let event = try Field.string(members["event"], at: "body.event")
        guard event == EventURI.awardIssued else {
            throw RecordError(.unknownEvent, "body.event of an award entry must be \(EventURI.awardIssued), not \"\(event)\"")
        }
        awardID = try Field.identifier(members["award"], at: "body.award")
        caseID = try Field.identifier(members["case"], at: "body.case")
        issued = try Field.string(members["issued"], at: "body.issued", maximumLength: 10)
        guard CivilDay(issued) != nil else { throw RecordError(.schema, "body.issued \"\(issued)\" is not a date YYYY-MM-DD") }
        seat = try Field.string(members["seat"], at: "body.seat", maximumLength: 200)
        guard !seat.isEmpty else { throw RecordError(.schema, "body.seat is empty; an award names its seat of arbitration") }
        arbitrators = Int(try Field.integer(members["arbitrators"], at: "body.arbitrators", range: 1...Int64(Self.maximumArbitrators)))
        var versions: [AwardVersion] = []
        for (index, item) in try Field.array(members["versions"], at: "body.versions", minimum: 1, maximum: 10).enumerated() {
            let path = "body.versions[\(index)]"
            let fields = try Field.object(item, at: path, required: ["language", "authentic", "digests", "size", "mediaType"])
            let language = try Self.language(fields["language"], at: path + ".language")
            // BCP 47 tags are case-insensitive: `en` and `EN` are one language.
            guard !versions.contains(where: { $0.language.lowercased() == language.lowercased() }) else { throw RecordError(.schema, "body.versions has language \(language) twice") }
            guard case .bool(let authentic)? = fields["authentic"] else { throw RecordError(.schema, "\(path).authentic must be true or false") }
            let document = try DocumentDescription.parse(.object(fields.filter { $0.key != "language" && $0.key != "authentic" }), at: path)
            versions.append(AwardVersion(language: language, authentic: authentic, document: document))
        }
        guard versions.contains(where: \.authentic) else { throw RecordError(.schema, "body.versions has no authentic version") }
        self.versions = versions
        var signatures: [AwardSignature] = []
        for (index, item) in try Field.array(members["signatures"], at: "body.signatures", minimum: 1, maximum: 100).enumerated() {
            let path = "body.signatures[\(index)]"
            let fields = try Field.object(item, at: path, required: ["role", "language", "certificate", "signature"])
            let roleName = try Field.string(fields["role"], at: path + ".role", maximumLength: 32)
            guard let role = AwardRole(rawValue: roleName) else {
                throw RecordError(.schema, "\(path).role \"\(roleName)\" is not arbitrator, presiding-arbitrator or institution-seal")
            }
            let language = try Self.language(fields["language"], at: path + ".language")
            guard versions.contains(where: { $0.language == language }) else { throw RecordError(.schema, "\(path).language \(language) names no version of the award") }
            signatures.append(AwardSignature(role: role, language: language, signed: try RecordedSignature.parse(fields, at: path)))
        }
        self.signatures = signatures
        requestedBy = try Requester.parse(members["requestedBy"], at: "body.requestedBy")
    }

    static func language(_ value: JSONValue?, at path: String) throws(RecordError) -> String {
        try Field.languageTag(value, at: path)
    }

    /// The tribunal's rule: every authentic version carries one signature from each of
    /// `arbitrators` distinct arbitrators (at most one presiding) and one institution seal; the
    /// same arbitrators sign every authentic version; the seal is not an arbitrator's.
    public func checkSigners() throws(RecordError) {
        // Signers are told apart by their public keys, not their certificates' bytes: one key
        // certified three times is still one person (and a renewed certificate the same one).
        func signer(_ signature: AwardSignature) -> [UInt8] {
            (try? Certificate(derEncoded: signature.signed.certificate))?.publicKey?.subjectPublicKeyInfo ?? signature.signed.certificate
        }
        var tribunal: (language: String, certificates: Set<[UInt8]>)?
        for version in versions where version.authentic {
            let on = signatures.filter { $0.language == version.language }
            let arbitrators = on.filter(\.role.isArbitrator)
            let distinct = Set(arbitrators.map(signer))
            guard distinct.count == arbitrators.count else {
                throw RecordError(.inconsistent, "the \(version.language) version carries two arbitrator signatures made with one key")
            }
            guard arbitrators.count == self.arbitrators else {
                throw RecordError(.inconsistent, "the \(version.language) version carries \(arbitrators.count) arbitrator signature\(arbitrators.count == 1 ? "" : "s"); the tribunal has \(self.arbitrators)")
            }
            guard arbitrators.filter({ $0.role == .presidingArbitrator }).count <= 1 else {
                throw RecordError(.inconsistent, "the \(version.language) version names more than one presiding arbitrator")
            }
            let seals = on.filter { $0.role == .institutionSeal }
            guard seals.count == 1, let seal = seals.first else {
                throw RecordError(.inconsistent, "the \(version.language) version carries \(seals.count) institution seals; it needs exactly one")
            }
            guard !distinct.contains(signer(seal)) else {
                throw RecordError(.inconsistent, "the \(version.language) version is sealed with an arbitrator's key; the seal is the institution's")
            }
            if let tribunal, tribunal.certificates != distinct {
                throw RecordError(.inconsistent, "the \(version.language) version is signed by other arbitrators than the \(tribunal.language) version")
            }
            tribunal = tribunal ?? (version.language, distinct)
        }
    }
}

/// BCP 47 language tags as records, notices and delivery plans take them: a primary subtag of
/// 2–3 letters, then subtags of 1–8 letters or digits (`en`, `zh-Hans`, `pt-BR`, `es-419`).
public enum LanguageTag {
    public static func isValid(_ tag: String) -> Bool {
        guard tag.utf8.count <= 35 else { return false }
        let subtags = tag.split(separator: "-", omittingEmptySubsequences: false)
        return subtags.enumerated().allSatisfy { index, subtag in
            let letters = subtag.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || (index > 0 && ("0"..."9").contains($0)) }
            return letters && (index == 0 ? (2...3).contains(subtag.count) : (1...8).contains(subtag.count))
        }
    }
}

extension Field {
    /// A member that must be a BCP 47 language tag (`LanguageTag`).
    public static func languageTag(_ value: JSONValue?, at path: String) throws(RecordError) -> String {
        let tag = try Field.string(value, at: path, maximumLength: 35)
        guard LanguageTag.isValid(tag) else { throw RecordError(.schema, "\(path) \"\(tag)\" is not a BCP 47 language tag (en, zh-Hans, pt-BR)") }
        return tag
    }
}
