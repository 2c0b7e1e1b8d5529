import CanonicalJSON
import CertificateAuthority
import Ledger
import OpenSSLKit
import Records
import RocksDBStore

/// An authenticated API client: who it is and what it may do, for one request.
public struct Client: Sendable, Equatable {
    public let record: ClientRecord

    public init(record: ClientRecord) {
        self.record = record
    }

    public var role: Role { record.role }
    public var name: String { record.name }
    /// What the ledger records as the client that asked for a write.
    public var requester: Requester { Requester(certificateSHA256: record.certificateSHA256) }

    /// - Throws: `AccessError(.forbidden)` naming the role and what it lacks.
    public func require(_ action: Action) throws(AccessError) {
        guard role.permits(action) else {
            throw AccessError(.forbidden, "client \(name) has the \(role.rawValue) role, which does not grant \(action.rawValue); roles that do: \(Role.allCases.filter { $0.permits(action) }.map(\.rawValue).joined(separator: ", "))")
        }
    }
}

/// Registers API clients (a `tls-client` certificate from the CA plus an access-list record, in
/// one batch with the ledger entry) and recognises them on each request.
///
/// Recognition reads the CA's record of the certificate on every request, not a cache: a
/// revocation written a moment ago locks the client out from its next request, with no
/// restart and no CRL refresh in between (docs/api.md §1).
public final class ClientRegistry: Sendable {
    public let authority: CertificateAuthority
    public let accessList: AccessList
    let clock: @Sendable () -> Int64

    public init(authority: CertificateAuthority, database: Database, clock: @escaping @Sendable () -> Int64 = LedgerTime.nowMilliseconds) throws(AccessError) {
        self.authority = authority
        accessList = try AccessList(database: database)
        self.clock = clock
    }

    /// Issues a `tls-client` certificate for the key in `request` (a PKCS#10 CSR, PEM or DER)
    /// and grants it `role`. The ledger's `certificate-issued` entry carries the client's name,
    /// role and, when an operator asked over the API, who asked.
    /// - Parameter alongside: the caller's writes for the new certificate, in the same batch
    ///   (the API's idempotency record).
    public func register(request: [UInt8], name: String, role: Role, requestedBy: Requester? = nil, alongside: @escaping (Certificate) -> WriteBatch = { _ in WriteBatch() }) async throws(AccessError) -> (client: ClientRecord, certificate: Certificate) {
        try ClientRecord.checkName(name)
        var extra: [String: JSONValue] = ["client": .object(["name": .string(name), "role": .string(role.rawValue)])]
        if let requestedBy { extra["requestedBy"] = requestedBy.json }
        let registeredAt = LedgerTime.format(milliseconds: clock())
        let list = accessList
        let issued: IssuedCertificate
        do {
            issued = try await authority.issue(request: request, profile: .tlsClient, extraBody: extra) { certificate in
                var batch = WriteBatch()
                list.put(ClientRecord(name: name, role: role, certificate: certificate, registeredAt: registeredAt), in: &batch)
                batch.append(contentsOf: alongside(certificate))
                return batch
            }
        } catch {
            // The request's fault (a bad CSR, a refused key) or the appliance's (storage, ledger).
            throw AccessError(error.isClientError ? .issuance : .storage, "\(error.code.rawValue): \(error.reason)")
        }
        return (ClientRecord(name: name, role: role, certificate: issued.certificate, registeredAt: registeredAt), issued.certificate)
    }

    /// Recognises the client that presented `certificate` (DER; nil when the connection had
    /// none). TLS has already checked its chain to this CA's root; this checks that it is a
    /// registered client's, that the CA has not revoked it, and that it is within its validity.
    public func authenticate(certificate der: [UInt8]?) throws(AccessError) -> Client {
        guard let der else {
            throw AccessError(.noCertificate, "this endpoint needs a client certificate from this appliance's CA (tls-client profile); connect with one (curl --cert, requests cert=)")
        }
        let digest = TimeStampHash.sha256.digest(der)
        guard let record = try accessList.client(certificateSHA256: digest) else {
            throw AccessError(.unknownClient, "the client certificate (SHA-256 \(lowerHex(digest))) is not a registered API client of this appliance")
        }
        // The access list is keyed by the certificate's own hash, written when it was issued:
        // what remains to check is the CA's revocation list and the validity period.
        let status: OCSPCertificateStatus
        do {
            status = try authority.store.status(serial: OpenSSLKit.bytes(fromHex: record.serialHex) ?? [])
        } catch {
            throw AccessError(.storage, "cannot read the CA's record of the client's certificate: \(error.reason)")
        }
        switch status {
        case .good: break
        case .unknown: throw AccessError(.unknownClient, "the CA has no record of the client certificate \(record.serialHex)")
        case .revoked(let time, let reason):
            throw AccessError(.revoked, "the client certificate \(record.serialHex) of \(record.name) was revoked at \(LedgerTime.format(milliseconds: time * 1000)) (\(reason.name))")
        }
        let now = clock() / 1000
        guard record.notBefore <= now, now <= record.notAfter else {
            throw AccessError(.expired, "the client certificate \(record.serialHex) of \(record.name) is valid from \(LedgerTime.format(milliseconds: record.notBefore * 1000)) to \(LedgerTime.format(milliseconds: record.notAfter * 1000))")
        }
        return Client(record: record)
    }
}
