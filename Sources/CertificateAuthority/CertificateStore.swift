import CanonicalJSON
import Ledger
import OpenSSLKit
import RocksDBStore

/// Where the CA keeps what, in RocksDB (docs/pki.md §Storage mirrors this).
///
/// | column family      | key                         | value (canonical JSON)                        |
/// |--------------------|-----------------------------|-----------------------------------------------|
/// | `ca-certificates`  | serial magnitude, big-endian | `CertificateRecord`                          |
/// | `ca-revocations`   | serial magnitude            | `{"reason","time"}`: what the CRL lists        |
/// | `ca-state`         | `hierarchy`, `crl`, `root-crl` | the CA certificates; the current CRLs       |
///
/// Records are written only in the same batch as the ledger entry that records the issuance
/// or revocation (`Ledger.append(type:body:alongside:)`), so the store and the ledger agree
/// after any crash.
public struct CertificateStore: Sendable {
    public static let certificatesFamily = "ca-certificates"
    public static let revocationsFamily = "ca-revocations"
    public static let stateFamily = "ca-state"
    /// Every column family the CA needs; the data directory creates them.
    public static let columnFamilies = [certificatesFamily, revocationsFamily, stateFamily]

    static let hierarchyKey = Array("hierarchy".utf8)
    static let crlKey = Array("crl".utf8)
    static let rootCRLKey = Array("root-crl".utf8)

    let database: Database
    let certificates: ColumnFamily
    let revocations: ColumnFamily
    let state: ColumnFamily
    private let parsedHierarchy = ParsedRecordCache<Hierarchy>()
    private let parsedCRL = ParsedRecordCache<StoredCRL>()
    private let parsedRootCRL = ParsedRecordCache<StoredCRL>()

    public init(database: Database) throws(CAError) {
        self.database = database
        do {
            certificates = try database.columnFamily(Self.certificatesFamily)
            revocations = try database.columnFamily(Self.revocationsFamily)
            state = try database.columnFamily(Self.stateFamily)
        } catch {
            throw CAError(.storage, "the CA's column families are missing: \(error)")
        }
    }

    /// The CA certificates, or nil before `ca init`.
    public func hierarchy() throws(CAError) -> Hierarchy? {
        try read(Self.hierarchyKey, in: state).map { bytes throws(CAError) in try parsedHierarchy.value(for: bytes) { bytes throws(CAError) in try Hierarchy(record: bytes) } }
    }

    /// The issuing CA's current CRL.
    public func currentCRL() throws(CAError) -> StoredCRL? {
        try read(Self.crlKey, in: state).map { bytes throws(CAError) in try parsedCRL.value(for: bytes) { bytes throws(CAError) in try StoredCRL(record: bytes) } }
    }

    /// The root CA's current CRL.
    public func currentRootCRL() throws(CAError) -> StoredCRL? {
        try read(Self.rootCRLKey, in: state).map { bytes throws(CAError) in try parsedRootCRL.value(for: bytes) { bytes throws(CAError) in try StoredCRL(record: bytes) } }
    }

    /// The record of one serial.
    public func record(serial: [UInt8]) throws(CAError) -> CertificateRecord? {
        try read(serial, in: certificates).map { bytes throws(CAError) in try CertificateRecord(record: bytes) }
    }

    /// The certificate (DER) and profile recorded for one serial, without parsing the
    /// certificate: what a signature check needs to know about a certificate it already holds.
    public func issued(serial: [UInt8]) throws(CAError) -> (der: [UInt8], profile: String)? {
        guard let bytes = try read(serial, in: certificates) else { return nil }
        let members = try parse(bytes, what: "certificate")
        guard let profile = members["profile"]?.stringValue else { throw CAError(.corrupt, "a certificate record has no profile") }
        return (try base64Field(members, "certificate", what: "certificate"), profile)
    }

    public func contains(serial: [UInt8]) throws(CAError) -> Bool {
        try read(serial, in: certificates) != nil
    }

    /// Records in serial order, starting after `after` (for paging).
    public func records(after: [UInt8]? = nil, limit: Int) throws(CAError) -> [CertificateRecord] {
        do {
            let lower = after.map { $0 + [0] } ?? []
            return try database.scan(in: certificates, from: lower, limit: limit).map { pair throws(CAError) in try CertificateRecord(record: pair.value) }
        } catch let error as CAError {
            throw error
        } catch {
            throw CAError(.storage, "cannot list certificates: \(error)")
        }
    }

    /// Every revocation, for a CRL.
    public func revokedCertificates() throws(CAError) -> [RevokedCertificate] {
        let pairs: [KeyValue]
        do {
            pairs = try database.scan(in: revocations, from: [])
        } catch {
            throw CAError(.storage, "cannot read revocations: \(error)")
        }
        return try pairs.map { pair throws(CAError) in
            let revocation = try CertificateRecord.Revocation(record: pair.value)
            return RevokedCertificate(serial: pair.key, revocationTime: revocation.time / 1000, reason: revocation.reason)
        }
    }

    /// The status of a serial as OCSP reports it, from the revocation list and the presence of
    /// a record: the certificate itself is not parsed (that costs ~300 µs in OpenSSL 3.0).
    public func status(serial: [UInt8]) throws(CAError) -> OCSPCertificateStatus {
        if let bytes = try read(serial, in: revocations) {
            let revocation = try CertificateRecord.Revocation(record: bytes)
            return .revoked(time: revocation.time / 1000, reason: revocation.reason)
        }
        return try contains(serial: serial) ? .good : .unknown
    }

    func read(_ key: [UInt8], in family: ColumnFamily) throws(CAError) -> [UInt8]? {
        do {
            return try database.get(key, in: family)
        } catch {
            throw CAError(.storage, "cannot read the CA's records: \(error)")
        }
    }
}

func parse(_ bytes: [UInt8], what: String) throws(CAError) -> [String: JSONValue] {
    guard case .object(let members)? = try? CanonicalJSON.parse(bytes) else {
        throw CAError(.corrupt, "the stored \(what) record is not a JSON object")
    }
    return members
}

func base64Field(_ members: [String: JSONValue], _ name: String, what: String) throws(CAError) -> [UInt8] {
    guard let text = members[name]?.stringValue, let bytes = Base64.decode(text) else {
        throw CAError(.corrupt, "the stored \(what) record has no valid \(name)")
    }
    return bytes
}

func parseCertificate(_ der: [UInt8], what: String) throws(CAError) -> Certificate {
    do {
        return try Certificate(derEncoded: der)
    } catch {
        throw CAError(.corrupt, "the stored \(what) certificate does not parse: \(error.reason)")
    }
}

/// The CA's own certificates: root, issuing CA, and the current delegated OCSP responder.
public struct Hierarchy: Sendable {
    public let algorithm: KeyAlgorithm
    public let root: Certificate
    public let issuing: Certificate
    public let ocspResponder: Certificate

    init(algorithm: KeyAlgorithm, root: Certificate, issuing: Certificate, ocspResponder: Certificate) {
        self.algorithm = algorithm
        self.root = root
        self.issuing = issuing
        self.ocspResponder = ocspResponder
    }

    init(record bytes: [UInt8]) throws(CAError) {
        let members = try parse(bytes, what: "hierarchy")
        guard let name = members["algorithm"]?.stringValue, let algorithm = KeyAlgorithm(rawValue: name) else {
            throw CAError(.corrupt, "the stored hierarchy names no known algorithm")
        }
        self.algorithm = algorithm
        root = try parseCertificate(try base64Field(members, "root", what: "hierarchy"), what: "root")
        issuing = try parseCertificate(try base64Field(members, "issuing", what: "hierarchy"), what: "issuing CA")
        ocspResponder = try parseCertificate(try base64Field(members, "ocsp", what: "hierarchy"), what: "OCSP responder")
    }

    var record: [UInt8] {
        JSONValue.object([
            "algorithm": .string(algorithm.rawValue),
            "root": .string(Base64.encode(root.derBytes)),
            "issuing": .string(Base64.encode(issuing.derBytes)),
            "ocsp": .string(Base64.encode(ocspResponder.derBytes)),
        ]).canonicalBytes
    }

    /// The issuing CA then the root, PEM: what `GET /ca/certs` serves and a client's
    /// `-untrusted` / `-CAfile` pair is made from.
    public var chainPEM: String { issuing.pem + root.pem }
}

/// A signed CRL as stored, with the number it carries.
public struct StoredCRL: Sendable {
    public let der: [UInt8]
    public let number: UInt64
    public let thisUpdate: Int64
    public let nextUpdate: Int64
    /// The CRL parsed for path validation, once per stored CRL (the store's reads of the
    /// current CRLs are cached per change); nil if OpenSSL cannot read it.
    public let parsed: CertificateRevocationList?

    init(der: [UInt8], number: UInt64, thisUpdate: Int64, nextUpdate: Int64) {
        self.der = der
        self.number = number
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        parsed = try? CertificateRevocationList(derEncoded: der)
    }

    init(record bytes: [UInt8]) throws(CAError) {
        let members = try parse(bytes, what: "CRL")
        der = try base64Field(members, "crl", what: "CRL")
        guard case .integer(let number)? = members["number"], number > 0,
              case .integer(let thisUpdate)? = members["thisUpdate"], case .integer(let nextUpdate)? = members["nextUpdate"] else {
            throw CAError(.corrupt, "the stored CRL record lacks its number or times")
        }
        self.number = UInt64(number)
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        parsed = try? CertificateRevocationList(derEncoded: der)
    }

    var record: [UInt8] {
        JSONValue.object([
            "crl": .string(Base64.encode(der)),
            "number": .integer(Int64(number)),
            "thisUpdate": .integer(thisUpdate),
            "nextUpdate": .integer(nextUpdate),
        ]).canonicalBytes
    }
}

/// What the CA knows about one certificate it issued.
public struct CertificateRecord: Sendable {
    public let certificate: Certificate
    /// The profile, or `root-ca` / `issuing-ca` for the CA's own.
    public let profile: String
    public let serialHex: String
    /// Lower-case hex SHA-256 of the DER certificate, as `sha256sum` prints it.
    public let sha256: String
    public let revocation: Revocation?

    public struct Revocation: Sendable, Equatable {
        public let reason: RevocationReason
        /// Milliseconds since the epoch.
        public let time: Int64

        init(reason: RevocationReason, time: Int64) {
            self.reason = reason
            self.time = time
        }

        /// `{"reason":"keyCompromise","time":"…"}`: in a certificate record, and alone in
        /// `ca-revocations`.
        init(members: [String: JSONValue]) throws(CAError) {
            guard let name = members["reason"]?.stringValue, let reason = RevocationReason(name: name),
                  let time = members["time"]?.stringValue, let milliseconds = LedgerTime.parse(time) else {
                throw CAError(.corrupt, "a revocation record is incomplete")
            }
            self.init(reason: reason, time: milliseconds)
        }

        init(record bytes: [UInt8]) throws(CAError) {
            try self.init(members: try parse(bytes, what: "revocation"))
        }

        var members: [String: JSONValue] {
            ["reason": .string(reason.name), "time": .string(LedgerTime.format(milliseconds: time))]
        }
    }

    init(certificate: Certificate, profile: String, revocation: Revocation?) {
        self.certificate = certificate
        self.profile = profile
        self.serialHex = certificate.serialHex
        self.sha256 = lowerHex(certificate.sha256Fingerprint)
        self.revocation = revocation
    }

    init(record bytes: [UInt8]) throws(CAError) {
        let members = try parse(bytes, what: "certificate")
        let der = try base64Field(members, "certificate", what: "certificate")
        guard let profile = members["profile"]?.stringValue else { throw CAError(.corrupt, "a certificate record has no profile") }
        var revocation: Revocation?
        if case .object(let revoked)? = members["revocation"] {
            revocation = try Revocation(members: revoked)
        }
        self.init(certificate: try parseCertificate(der, what: "issued"), profile: profile, revocation: revocation)
    }

    var record: [UInt8] {
        var members: [String: JSONValue] = [
            "certificate": .string(Base64.encode(certificate.derBytes)),
            "profile": .string(profile),
            "serial": .string(serialHex),
            "sha256": .string(sha256),
        ]
        if let revocation {
            members["revocation"] = .object(revocation.members)
        }
        return JSONValue.object(members).canonicalBytes
    }

    /// The record as JSON for people and scripts (`notarium ca show`, `ca list`).
    public var summary: JSONValue {
        var members: [String: JSONValue] = [
            "serial": .string(serialHex),
            "profile": .string(profile),
            "subject": .string(certificate.subject),
            "issuer": .string(certificate.issuer),
            "notBefore": .string(LedgerTime.format(milliseconds: certificate.notBefore * 1000)),
            "notAfter": .string(LedgerTime.format(milliseconds: certificate.notAfter * 1000)),
            "sha256": .string(sha256),
            "status": .string(revocation == nil ? "good" : "revoked"),
        ]
        if let revocation {
            members["revocationReason"] = .string(revocation.reason.name)
            members["revocationTime"] = .string(LedgerTime.format(milliseconds: revocation.time))
        }
        return .object(members)
    }
}
