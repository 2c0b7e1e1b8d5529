import CanonicalJSON
import Foundation
import OpenSSLKit
import Ledger
import Records
import RocksDBStore

/// A registered API client: the certificate the appliance issued it and the role it holds.
/// It keeps what recognising the client on each request needs (serial, validity), so that no
/// request parses a certificate (~300 µs in OpenSSL 3.0).
public struct ClientRecord: Sendable, Equatable {
    /// A short name people recognise in logs and in the ledger ("odr-platform", "clerk-li").
    public let name: String
    public let role: Role
    /// SHA-256 of the client certificate's DER: the key of the access list and what the
    /// ledger's `requestedBy` members name.
    public let certificateSHA256: [UInt8]
    public let serialHex: String
    /// The certificate's validity, seconds since the epoch.
    public let notBefore: Int64
    public let notAfter: Int64
    /// RFC 3339 UTC.
    public let registeredAt: String

    public init(name: String, role: Role, certificate: Certificate, registeredAt: String) {
        self.init(
            name: name, role: role, certificateSHA256: certificate.sha256Fingerprint, serialHex: certificate.serialHex,
            notBefore: certificate.notBefore, notAfter: certificate.notAfter, registeredAt: registeredAt)
    }

    init(name: String, role: Role, certificateSHA256: [UInt8], serialHex: String, notBefore: Int64, notAfter: Int64, registeredAt: String) {
        self.name = name
        self.role = role
        self.certificateSHA256 = certificateSHA256
        self.serialHex = serialHex
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.registeredAt = registeredAt
    }

    public var fingerprintHex: String { lowerHex(certificateSHA256) }

    public var json: JSONValue {
        .object([
            "name": .string(name), "role": .string(role.rawValue), "certificateSha256": .string(fingerprintHex),
            "serial": .string(serialHex), "registeredAt": .string(registeredAt),
            "notBefore": .string(LedgerTime.format(milliseconds: notBefore * 1000)), "notAfter": .string(LedgerTime.format(milliseconds: notAfter * 1000)),
        ])
    }

    init(stored bytes: [UInt8]) throws(AccessError) {
        guard let value = try? CanonicalJSON.parse(bytes), let members = value.objectValue,
              let name = members["name"]?.stringValue, let roleName = members["role"]?.stringValue, let role = Role(rawValue: roleName),
              let fingerprint = members["certificateSha256"]?.stringValue, let serial = members["serial"]?.stringValue,
              let registered = members["registeredAt"]?.stringValue, let digest = OpenSSLKit.bytes(fromHex: fingerprint), digest.count == 32,
              let notBefore = try? Field.time(members["notBefore"], at: "notBefore"), let notAfter = try? Field.time(members["notAfter"], at: "notAfter")
        else {
            throw AccessError(.storage, "an access-list record is damaged")
        }
        self.init(name: name, role: role, certificateSHA256: digest, serialHex: serial, notBefore: notBefore / 1000, notAfter: notAfter / 1000, registeredAt: registered)
    }

    /// Refuses a name `isValidName` does not accept, saying what a name is.
    public static func checkName(_ name: String) throws(AccessError) {
        guard isValidName(name) else {
            throw AccessError(.invalidClient, "a client name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit; \"\(name.prefix(80))\" is not")
        }
    }

    /// A name is 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit: it
    /// appears in logs and file names, so nothing that needs quoting.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, (1...64).contains(name.unicodeScalars.count) else { return false }
        func allowed(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "." || scalar == "_" || scalar == "-"
        }
        return allowed(first) && first != "." && first != "_" && first != "-" && name.unicodeScalars.allSatisfy(allowed)
    }
}

/// The access list: which certificates are API clients, with their roles. Column family
/// `api-clients`, keyed by the certificate's SHA-256, value the client's record in canonical
/// JSON. Written only in the batch that records the certificate's issuance in the ledger.
public struct AccessList: Sendable {
    public static let family = "api-clients"

    let database: Database
    let clients: ColumnFamily

    public init(database: Database) throws(AccessError) {
        self.database = database
        do {
            clients = try database.columnFamily(Self.family)
        } catch {
            throw AccessError(.storage, "the access list's column family is missing: \(error)")
        }
    }

    public func client(certificateSHA256 digest: [UInt8]) throws(AccessError) -> ClientRecord? {
        let stored: [UInt8]?
        do {
            stored = try database.get(digest, in: clients)
        } catch {
            throw AccessError(.storage, "cannot read the access list: \(error)")
        }
        return try stored.map { bytes throws(AccessError) in try ClientRecord(stored: bytes) }
    }

    public func all() throws(AccessError) -> [ClientRecord] {
        do {
            return try database.scan(in: clients, from: []).map { pair throws(AccessError) in try ClientRecord(stored: pair.value) }
        } catch let error as AccessError {
            throw error
        } catch {
            throw AccessError(.storage, "cannot read the access list: \(error)")
        }
    }

    func put(_ record: ClientRecord, in batch: inout WriteBatch) {
        batch.put(record.certificateSHA256, record.json.canonicalBytes, in: clients)
    }
}
