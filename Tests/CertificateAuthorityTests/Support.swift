import CertificateAuthority
import Foundation
import Ledger
import Logging
import NotariumTestKit
import OpenSSLKit
import RocksDBStore
import Sodium

/// A CA on a real RocksDB database and ledger in a temporary directory, with its keys sealed
/// under a key file there.
final class TestCA {
    let directory: TemporaryDirectory
    let database: Database
    let ledger: Ledger
    let authority: CertificateAuthority

    static let baseURL = "http://127.0.0.1:9"

    static func settings(algorithm: KeyAlgorithm = .ecdsaP256) throws -> CASettings {
        CASettings(
            algorithm: algorithm,
            rootSubject: try DistinguishedName(parsing: "CN=Test Root CA,O=Notarium Tests,C=CH"),
            issuingSubject: try DistinguishedName(parsing: "CN=Test Issuing CA,O=Notarium Tests,C=CH"),
            rootValidityDays: 3650, issuingValidityDays: 1825, publicBaseURL: baseURL,
            policyOID: NotariumOID.defaultCertificatePolicy, crlValidityHours: 24)
    }

    init(algorithm: KeyAlgorithm = .ecdsaP256, clock: @escaping @Sendable () -> Int64 = LedgerTime.nowMilliseconds) async throws {
        directory = TemporaryDirectory("notarium-ca-test")
        database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: LedgerStorage.columnFamilies + CertificateStore.columnFamilies)
        let signer = try NoteSigner(name: "ca.test/notarium", key: try Ed25519SigningKey(seed: Ed25519SigningKey.generateSeed()))
        ledger = try Ledger.open(database: database, identity: try LedgerIdentity(origin: "ca.test/notarium", verifier: signer.verifier))
        try FileManager.default.createDirectory(atPath: directory.file("keys"), withIntermediateDirectories: true)
        try SealingSecret.createKeyFile(at: directory.file("seal.key"))
        authority = try await CertificateAuthority.initialize(
            database: database, ledger: ledger, settings: try Self.settings(algorithm: algorithm), keysDirectory: directory.file("keys"),
            sealing: .keyFile(path: directory.file("seal.key")), logger: Logger(label: "test"), clock: clock)
    }

    func close() {
        ledger.close()
        database.close()
    }

    /// Writes root.pem, issuing.pem and crl.pem (the current CRL) into the directory.
    func writeTrustFiles() throws {
        try authority.hierarchy.root.pem.write(toFile: directory.file("root.pem"), atomically: true, encoding: .utf8)
        try authority.hierarchy.issuing.pem.write(toFile: directory.file("issuing.pem"), atomically: true, encoding: .utf8)
        try CertificateRevocationList(derEncoded: authority.currentCRL.der).pem.write(toFile: directory.file("crl.pem"), atomically: true, encoding: .utf8)
    }

    /// `openssl verify` with the CRL, optionally for a purpose.
    func opensslVerify(_ certificate: Certificate, purpose: String? = nil) throws -> ProcessResult {
        try writeTrustFiles()
        let leaf = directory.file("leaf-\(certificate.serialHex).pem")
        try certificate.pem.write(toFile: leaf, atomically: true, encoding: .utf8)
        var arguments = ["verify", "-CAfile", directory.file("root.pem"), "-untrusted", directory.file("issuing.pem"), "-crl_check", "-CRLfile", directory.file("crl.pem")]
        if let purpose { arguments += ["-purpose", purpose] }
        return try runProcess("/usr/bin/openssl", arguments + [leaf])
    }
}

/// A fresh key and a CSR for it.
func request(_ algorithm: KeyAlgorithm = .ecdsaP256, subject: String = "CN=Test Subject,O=Example", names: [GeneralName] = []) throws -> (PrivateKey, [UInt8]) {
    let key = try PrivateKey.generate(algorithm)
    let csr = try CertificateSigningRequest.create(key: key, subject: try DistinguishedName(parsing: subject), alternativeNames: names)
    return (key, csr.derBytes)
}
