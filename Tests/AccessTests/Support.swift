import CertificateAuthority
import Foundation
import Ledger
import Logging
import NotariumTestKit
import OpenSSLKit
import RocksDBStore
import Sodium
import Synchronization
import Access

/// A CA on a real RocksDB database and ledger in a temporary directory, with the API's column
/// families; `reopen()` closes and opens everything again, as a restart does.
final class TestAppliance {
    let directory = TemporaryDirectory("notarium-access-test")
    private(set) var database: Database
    private(set) var ledger: Ledger
    private(set) var authority: CertificateAuthority
    private var open = true

    static let families = LedgerStorage.columnFamilies + CertificateStore.columnFamilies + [AccessList.family, ServerIdentity.family, IdempotencyStore.family]

    var keys: String { directory.file("keys") }
    var sealing: SealingSecret { .keyFile(path: directory.file("seal.key")) }

    static func settings() throws -> CASettings {
        CASettings(
            algorithm: .ecdsaP256,
            rootSubject: try DistinguishedName(parsing: "CN=Access Test Root CA,O=Notarium Tests"),
            issuingSubject: try DistinguishedName(parsing: "CN=Access Test Issuing CA,O=Notarium Tests"),
            rootValidityDays: 3650, issuingValidityDays: 1825, publicBaseURL: "http://127.0.0.1:9",
            policyOID: NotariumOID.defaultCertificatePolicy, crlValidityHours: 24)
    }

    init() async throws {
        database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: Self.families)
        let signer = try NoteSigner(name: "access.test/notarium", key: try Ed25519SigningKey(seed: Ed25519SigningKey.generateSeed()))
        ledger = try Ledger.open(database: database, identity: try LedgerIdentity(origin: "access.test/notarium", verifier: signer.verifier))
        try FileManager.default.createDirectory(atPath: directory.file("keys"), withIntermediateDirectories: true)
        try SealingSecret.createKeyFile(at: directory.file("seal.key"))
        authority = try await CertificateAuthority.initialize(
            database: database, ledger: ledger, settings: try Self.settings(), keysDirectory: directory.file("keys"),
            sealing: .keyFile(path: directory.file("seal.key")), logger: Logger(label: "test"))
    }

    func reopen() throws {
        close()
        open = true
        database = try Database(path: directory.file("db"), options: OpenOptions(), columnFamilies: Self.families)
        ledger = try Ledger.open(database: database, identity: nil)
        authority = try CertificateAuthority.open(
            database: database, ledger: ledger, settings: try Self.settings(), keysDirectory: directory.file("keys"), sealing: sealing, logger: Logger(label: "test"))
    }

    func close() {
        guard open else { return }
        ledger.close()
        database.close()
        open = false
    }

    deinit { close() }

    /// A DER PKCS#10 request for a new P-256 key.
    static func request(_ commonName: String) throws -> (key: PrivateKey, der: [UInt8]) {
        let key = try PrivateKey.generate(.ecdsaP256)
        return (key, try CertificateSigningRequest.create(key: key, subject: try DistinguishedName(parsing: "CN=\(commonName)")).derBytes)
    }
}
