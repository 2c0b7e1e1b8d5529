import CanonicalJSON
import Ledger

/// What a bundle proves: one evidence entry, one service with all its events, or one award.
public enum BundleKind: String, Sendable, CaseIterable {
    case evidence
    case service
    case award
}

/// One self-contained proof file (media type `application/vnd.notarium.bundle+json`), written
/// as canonical JSON (RFC 8785) so that its bytes are reproducible and any JSON library reads
/// it. docs/bundle-format.md and docs/schemas/bundle.schema.json define every member; what
/// each check does with them is in docs/verification.md.
public struct Bundle: Sendable, Equatable {
    public static let mediaType = "application/vnd.notarium.bundle+json"
    public static let version: Int64 = 1
    /// Largest bundle `notarium verify` reads: room for embedded documents of tens of MiB.
    public static let maximumBytes = 96 << 20

    /// One ledger entry with its own time-stamp and its path to the checkpoint.
    public struct Record: Sendable, Equatable {
        /// The entry's canonical bytes: what its leaf hash commits to.
        public let entry: [UInt8]
        /// RFC 3161 TimeStampToken (DER) over the entry's leaf hash; nil for entry types
        /// without one (their time is the checkpoint's).
        public let timestamp: [UInt8]?
        /// RFC 9162 inclusion proof of the entry (index = its seq) in the checkpoint's tree.
        public let inclusionProof: [[UInt8]]

        public init(entry: [UInt8], timestamp: [UInt8]?, inclusionProof: [[UInt8]]) {
            self.entry = entry
            self.timestamp = timestamp
            self.inclusionProof = inclusionProof
        }
    }

    public let kind: BundleKind
    /// The seq (evidence), service id or award id the bundle was exported for.
    public let subject: String
    /// When the bundle was written (RFC 3339 UTC, ms): the records' own times are in their entries.
    public let exportedAt: String
    /// The ledger's origin line, as its checkpoints name it.
    public let origin: String
    /// The C2SP signed note of the checkpoint that includes every record.
    public let checkpoint: String
    /// RFC 3161 token over SHA-256 of the checkpoint's signed-note body.
    public let checkpointTimestamp: [UInt8]
    public let records: [Record]
    /// DER certificates that complete paths to the trust anchors (issuing CAs, TSA); trust
    /// never comes from here, only from the trust file.
    public let certificates: [[UInt8]]
    /// DER CRLs captured when the records were signed, and those current at export.
    public let crls: [[UInt8]]
    /// Documents embedded on request (`--embed-document`), matched to records by digest.
    public let documents: [[UInt8]]

    public init(kind: BundleKind, subject: String, exportedAt: String, origin: String, checkpoint: String, checkpointTimestamp: [UInt8], records: [Record], certificates: [[UInt8]], crls: [[UInt8]], documents: [[UInt8]]) {
        self.kind = kind
        self.subject = subject
        self.exportedAt = exportedAt
        self.origin = origin
        self.checkpoint = checkpoint
        self.checkpointTimestamp = checkpointTimestamp
        self.records = records
        self.certificates = certificates
        self.crls = crls
        self.documents = documents
    }

    public var json: JSONValue {
        func list(_ items: [[UInt8]]) -> JSONValue { .array(items.map { .string(Base64.encode($0)) }) }
        return .object([
            "mediaType": .string(Self.mediaType),
            "version": .integer(Self.version),
            "kind": .string(kind.rawValue),
            "subject": .string(subject),
            "exportedAt": .string(exportedAt),
            "ledger": .object([
                "origin": .string(origin),
                "checkpoint": .string(checkpoint),
                "checkpointTimestamp": .string(Base64.encode(checkpointTimestamp)),
            ]),
            "records": .array(records.map { record in
                var members: [String: JSONValue] = [
                    "entry": .string(Base64.encode(record.entry)),
                    "inclusionProof": list(record.inclusionProof),
                ]
                if let token = record.timestamp { members["timestamp"] = .string(Base64.encode(token)) }
                return .object(members)
            }),
            "certificates": list(certificates),
            "crls": list(crls),
            "documents": list(documents),
        ])
    }

    /// The bytes of the bundle file: canonical JSON.
    public var encoded: [UInt8] { json.canonicalBytes }

    /// Reads a bundle file, refusing anything that is not canonical JSON in this schema.
    public init(parsing bytes: [UInt8]) throws(RecordError) {
        guard bytes.count <= Self.maximumBytes else {
            throw RecordError(.tooLarge, "the bundle is \(bytes.count) bytes; Notarium reads bundles of at most \(Self.maximumBytes)")
        }
        let value: JSONValue
        do {
            value = try CanonicalJSON.parseCanonical(bytes)
        } catch {
            throw RecordError(.notCanonical, "the bundle is not canonical JSON (RFC 8785): \(error)")
        }
        let members = try Field.object(value, at: "", required: ["mediaType", "version", "kind", "subject", "exportedAt", "ledger", "records", "certificates", "crls", "documents"])
        let mediaType = try Field.string(members["mediaType"], at: "mediaType")
        guard mediaType == Self.mediaType else { throw RecordError(.schema, "mediaType is \"\(mediaType)\", not \(Self.mediaType)") }
        let version = try Field.integer(members["version"], at: "version", range: 0...JSONValue.maximumInteger)
        guard version == Self.version else { throw RecordError(.schema, "this verifier reads bundle version \(Self.version); the bundle is version \(version)") }
        let kindName = try Field.string(members["kind"], at: "kind")
        guard let kind = BundleKind(rawValue: kindName) else { throw RecordError(.schema, "kind \"\(kindName)\" is not evidence, service or award") }
        self.kind = kind
        subject = try Field.string(members["subject"], at: "subject", maximumLength: 128)
        exportedAt = LedgerTime.format(milliseconds: try Field.time(members["exportedAt"], at: "exportedAt"))
        let ledger = try Field.object(members["ledger"], at: "ledger", required: ["origin", "checkpoint", "checkpointTimestamp"])
        origin = try Field.string(ledger["origin"], at: "ledger.origin")
        checkpoint = try Field.string(ledger["checkpoint"], at: "ledger.checkpoint", maximumLength: 8192)
        checkpointTimestamp = try Field.base64(ledger["checkpointTimestamp"], at: "ledger.checkpointTimestamp", maximumBytes: 64 * 1024)
        var records: [Record] = []
        for (index, item) in try Field.array(members["records"], at: "records", minimum: 1, maximum: 10_000).enumerated() {
            let path = "records[\(index)]"
            let fields = try Field.object(item, at: path, required: ["entry", "inclusionProof"], optional: ["timestamp"])
            let proof = try Field.array(fields["inclusionProof"], at: path + ".inclusionProof", maximum: 64).enumerated().map { (position, hash) throws(RecordError) in
                let bytes = try Field.base64(hash, at: "\(path).inclusionProof[\(position)]")
                guard bytes.count == 32 else { throw RecordError(.schema, "\(path).inclusionProof[\(position)] is \(bytes.count) bytes, not a 32-byte hash") }
                return bytes
            }
            records.append(Record(
                entry: try Field.base64(fields["entry"], at: path + ".entry", maximumBytes: LedgerEntry.maximumBytes),
                timestamp: try fields["timestamp"].map { token throws(RecordError) in try Field.base64(token, at: path + ".timestamp", maximumBytes: 64 * 1024) },
                inclusionProof: proof))
        }
        self.records = records
        func list(_ name: String, maximum: Int, maximumBytes: Int) throws(RecordError) -> [[UInt8]] {
            try Field.array(members[name], at: name, maximum: maximum).enumerated().map { (index, item) throws(RecordError) in
                try Field.base64(item, at: "\(name)[\(index)]", maximumBytes: maximumBytes)
            }
        }
        certificates = try list("certificates", maximum: 1000, maximumBytes: 16 * 1024)
        crls = try list("crls", maximum: 1000, maximumBytes: 16 << 20)
        documents = try list("documents", maximum: 100, maximumBytes: Self.maximumBytes)
    }
}

/// What a relying party trusts, in one file (`application/vnd.notarium.trust+json`): root CA
/// certificates and the ledgers' checkpoint verifier keys. `notarium trust export` writes it;
/// a relying party may add roots and ledger keys of other appliances.
public struct TrustFile: Sendable, Equatable {
    public static let mediaType = "application/vnd.notarium.trust+json"
    public static let maximumBytes = 4 << 20

    /// DER root certificates.
    public let roots: [[UInt8]]
    /// C2SP note verifier keys (`<name>+<hash>+<base64>`), one per trusted ledger.
    public let ledgerKeys: [String]
    public let exportedAt: String

    public init(roots: [[UInt8]], ledgerKeys: [String], exportedAt: String) {
        self.roots = roots
        self.ledgerKeys = ledgerKeys
        self.exportedAt = exportedAt
    }

    public var json: JSONValue {
        .object([
            "mediaType": .string(Self.mediaType),
            "version": .integer(1),
            "exportedAt": .string(exportedAt),
            "roots": .array(roots.map { .string(Base64.encode($0)) }),
            "ledgerKeys": .array(ledgerKeys.map { .string($0) }),
        ])
    }

    /// Reads a trust file. Any JSON is accepted here (people edit trust files), but the schema
    /// is strict.
    public init(parsing bytes: [UInt8]) throws(RecordError) {
        guard bytes.count <= Self.maximumBytes else { throw RecordError(.tooLarge, "the trust file is larger than \(Self.maximumBytes) bytes") }
        let value: JSONValue
        do {
            value = try CanonicalJSON.parse(bytes)
        } catch {
            throw RecordError(.notCanonical, "the trust file is not JSON: \(error)")
        }
        let members = try Field.object(value, at: "", required: ["mediaType", "version", "roots", "ledgerKeys"], optional: ["exportedAt"])
        let mediaType = try Field.string(members["mediaType"], at: "mediaType")
        guard mediaType == Self.mediaType else { throw RecordError(.schema, "mediaType is \"\(mediaType)\", not \(Self.mediaType)") }
        guard try Field.integer(members["version"], at: "version", range: 0...JSONValue.maximumInteger) == 1 else {
            throw RecordError(.schema, "this verifier reads trust file version 1")
        }
        roots = try Field.array(members["roots"], at: "roots", maximum: 1000).enumerated().map { (index, item) throws(RecordError) in
            try Field.base64(item, at: "roots[\(index)]", maximumBytes: 16 * 1024)
        }
        ledgerKeys = try Field.array(members["ledgerKeys"], at: "ledgerKeys", maximum: 1000).enumerated().map { (index, item) throws(RecordError) in
            try Field.string(item, at: "ledgerKeys[\(index)]", maximumLength: 512)
        }
        exportedAt = try Field.optionalString(members["exportedAt"], at: "exportedAt") ?? ""
    }
}
