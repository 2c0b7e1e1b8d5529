import Access
import CanonicalJSON
import CertificateAuthority
import Foundation
import Logging
import OpenSSLKit
import Sodium

/// The API's parts of a data directory: its TLS identity, its clients and their credentials.
extension DataDirectory {
    /// Where notariumd writes the first operator's credentials at first start.
    public var clientsPath: String { path + "/clients" }

    /// The API's TLS server identity, issued or renewed as `ServerIdentity.current` decides.
    public func openServerIdentity(configuration: ApplianceConfiguration, authority: CertificateAuthority, logger: Logger) async throws(AccessError) -> (identity: ServerIdentity, renewed: Bool) {
        try await ServerIdentity.current(
            database: database, authority: authority, names: configuration.api.hostnames, keysDirectory: keysPath,
            sealing: SealingSecret.keyFile(path: configuration.sealKeyFile), logger: logger)
    }

    /// The renewed identity when the current one is due for renewal, else nil (without
    /// unsealing anything).
    public func renewServerIdentityIfDue(configuration: ApplianceConfiguration, authority: CertificateAuthority, logger: Logger) async throws(AccessError) -> ServerIdentity? {
        guard try ServerIdentity.isDue(database: database, authority: authority, names: configuration.api.hostnames) else { return nil }
        return try await openServerIdentity(configuration: configuration, authority: authority, logger: logger).identity
    }

    /// When the appliance has no API client yet (its first start), issues an operator's
    /// credentials into `DATA/clients/operator/`, so that whoever holds the data directory can
    /// register the platform's clients over the API without stopping the appliance. The
    /// operator moves them somewhere safer and may revoke them once another operator exists.
    /// - Returns: the directory written, or nil when clients existed already.
    public func bootstrapOperator(registry: ClientRegistry, logger: Logger) async throws -> String? {
        guard try registry.accessList.all().isEmpty else { return nil }
        let directory = clientsPath + "/operator"
        let issued = try await ClientCredentials.issue(registry: registry, name: "operator", role: .`operator`, into: directory, password: nil)
        logger.notice("issued the first operator's API credentials", metadata: [
            "client.directory": "\(directory)", "client.serial": "\(issued.client.serialHex)",
        ])
        return directory
    }
}

/// A client's credentials as files, made for curl, Python's `requests` and browsers.
///
/// | file                  | what                                                          |
/// |-----------------------|---------------------------------------------------------------|
/// | `client.key`          | the private key, PKCS#8 PEM, unencrypted, mode 0600            |
/// | `client.crt`          | the client certificate, PEM                                    |
/// | `ca.pem`              | the issuing CA and the root, PEM: what verifies the server     |
/// | `client.p12`          | key, certificate and CA chain as PKCS#12, mode 0600            |
/// | `client.p12.password` | the PKCS#12 password when none was given, mode 0600            |
///
/// The key is made here and never leaves the directory; the appliance sees only its CSR.
public enum ClientCredentials {
    public struct Issued: Sendable {
        public let client: ClientRecord
        public let directory: String
    }

    public static func issue(registry: ClientRegistry, name: String, role: Role, into directory: String, password: String?) async throws -> Issued {
        try ClientRecord.checkName(name)
        let manager = FileManager.default
        if manager.fileExists(atPath: directory + "/client.key") {
            throw AccessError(.invalidClient, "\(directory) already holds a client key; choose another directory")
        }
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = try PrivateKey.generate(.ecdsaP256)
        let request = try CertificateSigningRequest.create(key: key, subject: try DistinguishedName(parsing: "CN=\(name),O=Notarium API client"))
        let (client, certificate) = try await registry.register(request: request.derBytes, name: name, role: role)
        let hierarchy = registry.authority.hierarchy
        let secret = password ?? Base64.encode(randomBytes(18))
        try write(try key.unencryptedPEM(), to: directory + "/client.key", mode: 0o600)
        try write(certificate.pem, to: directory + "/client.crt", mode: 0o644)
        try write(hierarchy.chainPEM, to: directory + "/ca.pem", mode: 0o644)
        let p12 = try PKCS12.export(key: key, certificate: certificate, chain: [hierarchy.issuing, hierarchy.root], password: secret, name: name)
        try write(p12, to: directory + "/client.p12", mode: 0o600)
        if password == nil { try write(secret + "\n", to: directory + "/client.p12.password", mode: 0o600) }
        return Issued(client: client, directory: directory)
    }

    static func write(_ text: String, to path: String, mode: mode_t) throws {
        try write(Array(text.utf8), to: path, mode: mode)
    }

    /// Created with its final mode (never world-readable for a moment), synced, linked into
    /// place only if nothing is there: the sealed keys' writer.
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        try bytes.withUnsafeBytes { buffer in try DurableFile.create(at: path, contents: buffer, mode: mode) }
    }
}
