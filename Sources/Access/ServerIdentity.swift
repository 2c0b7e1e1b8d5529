import CertificateAuthority
import Foundation
import Ledger
import Logging
import OpenSSLKit
import RocksDBStore
import Sodium

/// The API's TLS server certificate and key: issued by the appliance's own CA (`tls-server`
/// profile) for the configured host names at first start, and issued again, with a new key,
/// when it nears its end or the configured names change.
///
/// Kept in column family `api-tls` (`certificate`: DER; `key-file`: the sealed key's name in
/// `keys/`), written in the batch that records the certificate in the ledger, as the TSA's is.
public struct ServerIdentity: Sendable {
    public let certificate: Certificate
    public let key: PrivateKey
    /// Issuing CA then root: what the server sends after its own certificate.
    public let chain: [Certificate]

    public static let family = "api-tls"
    static let certificateKey = Array("certificate".utf8)
    static let keyFileKey = Array("key-file".utf8)
    /// A certificate with less than this left is replaced: well before clients see it expire,
    /// and with room for an appliance that is restarted only monthly.
    public static let renewalWindowSeconds: Int64 = 30 * 86_400

    /// The names to certify, parsed from `api.hostnames`: DNS names and IP addresses.
    public static func names(_ hosts: [String]) throws(AccessError) -> [GeneralName] {
        var names: [GeneralName] = []
        for host in hosts {
            let trimmed = host.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
            if let address = Self.ipAddress(trimmed) {
                names.append(.ipAddress(address))
            } else {
                names.append(.dns(trimmed.lowercased()))
            }
        }
        guard !names.isEmpty else { throw AccessError(.serverIdentity, "api.hostnames names no host; the TLS certificate needs at least one") }
        do {
            _ = try CertificateProfile.tlsServer.certifiedNames(subject: try DistinguishedName(parsing: "CN=notarium"), names: names)
        } catch let error as CAError {
            throw AccessError(.serverIdentity, error.reason)
        } catch {
            throw AccessError(.serverIdentity, "\(error)")
        }
        return names
    }

    static func ipAddress(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// What is stored: the current certificate and its sealed key's file name, if any.
    struct Stored {
        let state: ColumnFamily
        let certificate: Certificate?
        let keyFile: String?

        init(database: Database) throws(AccessError) {
            do {
                state = try database.columnFamily(ServerIdentity.family)
                let der = try database.get(ServerIdentity.certificateKey, in: state)
                certificate = der.flatMap { try? Certificate(derEncoded: $0) }
                keyFile = try database.get(ServerIdentity.keyFileKey, in: state).map { String(decoding: $0, as: UTF8.self) }
            } catch {
                throw AccessError(.storage, "cannot read the API's TLS identity: \(error)")
            }
        }

        /// Whether the stored certificate may go on being used: it exists with its key, was
        /// issued by the current issuing CA for exactly `names`, and has more than
        /// `renewalWindowSeconds` left.
        func isCurrent(names: [GeneralName], issuing: Certificate, now: Int64) -> Bool {
            guard let certificate, keyFile != nil else { return false }
            return Set(certificate.alternativeNames.map(\.description)) == Set(names.map(\.description))
                && certificate.notAfter - now > ServerIdentity.renewalWindowSeconds && certificate.isSigned(by: issuing)
        }
    }

    /// Whether `current` would issue a new certificate now: the maintenance tick asks this
    /// first, so that an identity in good standing costs no unsealing (Argon2id) every tick.
    public static func isDue(database: Database, authority: CertificateAuthority, names: [GeneralName], now: Int64 = LedgerTime.nowMilliseconds() / 1000) throws(AccessError) -> Bool {
        !(try Stored(database: database).isCurrent(names: names, issuing: authority.hierarchy.issuing, now: now))
    }

    /// The current identity, issued first (or again) when there is none, when it is within
    /// `renewalWindowSeconds` of its end, or when `names` differ from the ones it certifies.
    /// - Returns: the identity and whether it was issued now.
    public static func current(
        database: Database, authority: CertificateAuthority, names: [GeneralName], keysDirectory: String, sealing: SealingSecret,
        logger: Logger, now: Int64 = LedgerTime.nowMilliseconds() / 1000
    ) async throws(AccessError) -> (identity: ServerIdentity, renewed: Bool) {
        let stored = try Stored(database: database)
        let state = stored.state
        let chain = [authority.hierarchy.issuing, authority.hierarchy.root]
        if stored.isCurrent(names: names, issuing: authority.hierarchy.issuing, now: now), let certificate = stored.certificate, let keyFile = stored.keyFile {
            do {
                let key = try CertificateAuthority.unseal(keysDirectory + "/" + keyFile, sealing: sealing, matching: certificate)
                return (ServerIdentity(certificate: certificate, key: key, chain: chain), false)
            } catch {
                throw AccessError(.serverIdentity, "cannot unseal the API's TLS key: \(error.reason)")
            }
        }
        if let certificate = stored.certificate {
            logger.notice("renewing the API's TLS certificate", metadata: [
                "tls.serial": "\(certificate.serialHex)", "tls.not-after": "\(LedgerTime.format(milliseconds: certificate.notAfter * 1000))",
                "tls.names": "\(names.map(\.description).joined(separator: ","))",
            ])
        }
        let key: PrivateKey
        do {
            key = try PrivateKey.generate(.ecdsaP256)
        } catch {
            throw AccessError(.serverIdentity, "cannot generate the TLS key: \(error.reason)")
        }
        let keyName = "api-tls-\(hex(Array(TimeStampHash.sha256.digest(key.subjectPublicKeyInfo).prefix(8)))).key"
        do {
            try CertificateAuthority.seal(key, to: keysDirectory + "/" + keyName, label: "notarium api tls", sealing: sealing)
        } catch {
            throw AccessError(.serverIdentity, "cannot seal the TLS key: \(error.reason)")
        }
        let subject: DistinguishedName
        do {
            subject = try DistinguishedName(parsing: "CN=\(names.first!.hostText),O=Notarium")
        } catch {
            throw AccessError(.serverIdentity, "cannot name the TLS certificate: \(error.reason)")
        }
        let issued: IssuedCertificate
        do {
            issued = try await authority.certifyApplianceKey(key.publicKey, subject: subject, names: names, profile: .tlsServer, extraBody: ["role": .string("api-tls")]) { certificate in
                var batch = WriteBatch()
                batch.put(certificateKey, certificate.derBytes, in: state)
                batch.put(keyFileKey, Array(keyName.utf8), in: state)
                return batch
            }
        } catch {
            unlink(keysDirectory + "/" + keyName)
            throw AccessError(.serverIdentity, "the CA did not certify the TLS key: \(error.reason)")
        }
        // The replaced key is no longer named anywhere; its certificate simply expires.
        if let replaced = stored.keyFile { unlink(keysDirectory + "/" + replaced) }
        logger.notice("issued the API's TLS certificate", metadata: [
            "tls.serial": "\(issued.certificate.serialHex)", "tls.names": "\(names.map(\.description).joined(separator: ","))",
            "tls.not-after": "\(LedgerTime.format(milliseconds: issued.certificate.notAfter * 1000))",
        ])
        return (ServerIdentity(certificate: issued.certificate, key: key, chain: chain), true)
    }
}

extension GeneralName {
    /// The name as a host: the DNS name, or the address in text.
    var hostText: String {
        switch self {
        case .dns(let name): name
        case .ipAddress: String(description.dropFirst(3))
        case .email(let address): address
        case .other(let label): label
        }
    }
}
