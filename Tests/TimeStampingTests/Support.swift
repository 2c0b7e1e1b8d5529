import CertificateAuthority
import Foundation
import Ledger
import Logging
import NotariumTestKit
import OpenSSLKit
import RocksDBStore
import Sodium
import Synchronization
import TimeStamping

/// A CA and its TSA on a real RocksDB database and ledger in a temporary directory; the TSA
/// reads `clock`. `reopen()` closes everything and opens it again, as a restart does.
final class TestTSA {
    let directory: TemporaryDirectory
    let clock: TestClock
    let settings: TSASettings
    private(set) var database: Database
    private(set) var ledger: Ledger
    private(set) var authority: CertificateAuthority
    private(set) var tsa: TimeStampAuthority
    let signer: NoteSigner

    static let families = LedgerStorage.columnFamilies + CertificateStore.columnFamilies + TimeStampAuthority.columnFamilies

    static func caSettings() throws -> CASettings {
        CASettings(
            algorithm: .ecdsaP256,
            rootSubject: try DistinguishedName(parsing: "CN=TSA Test Root CA,O=Notarium Tests,C=CH"),
            issuingSubject: try DistinguishedName(parsing: "CN=TSA Test Issuing CA,O=Notarium Tests,C=CH"),
            rootValidityDays: 3650, issuingValidityDays: 1825, publicBaseURL: "http://127.0.0.1:9",
            policyOID: NotariumOID.defaultCertificatePolicy, crlValidityHours: 24)
    }

    init(settings: TSASettings = TSASettings(), clock: TestClock = TestClock()) async throws {
        self.clock = clock
        self.settings = settings
        directory = TemporaryDirectory("notarium-tsa-test")
        database = try Database(path: directory.file("db"), options: OpenOptions(createIfMissing: true), columnFamilies: Self.families)
        signer = try NoteSigner(name: "tsa.test/notarium", key: try Ed25519SigningKey(seed: Ed25519SigningKey.generateSeed()))
        ledger = try Ledger.open(database: database, identity: try LedgerIdentity(origin: "tsa.test/notarium", verifier: signer.verifier))
        try FileManager.default.createDirectory(atPath: directory.file("keys"), withIntermediateDirectories: true)
        try SealingSecret.createKeyFile(at: directory.file("seal.key"))
        authority = try await CertificateAuthority.initialize(
            database: database, ledger: ledger, settings: try Self.caSettings(), keysDirectory: directory.file("keys"),
            sealing: .keyFile(path: directory.file("seal.key")), logger: Logger(label: "test"))
        let clock = self.clock
        tsa = try await TimeStampAuthority.initialize(
            database: database, authority: authority, settings: settings, keysDirectory: directory.file("keys"),
            sealing: .keyFile(path: directory.file("seal.key")), logger: Logger(label: "test"), clock: { clock.read() })
    }

    func reopen(settings: TSASettings? = nil) throws {
        close()
        open = true
        database = try Database(path: directory.file("db"), options: OpenOptions(), columnFamilies: Self.families)
        ledger = try Ledger.open(database: database, identity: nil)
        authority = try CertificateAuthority.open(
            database: database, ledger: ledger, settings: try Self.caSettings(), keysDirectory: directory.file("keys"),
            sealing: .keyFile(path: directory.file("seal.key")), logger: Logger(label: "test"))
        let clock = self.clock
        tsa = try TimeStampAuthority.open(
            database: database, hierarchy: authority.hierarchy, settings: settings ?? self.settings, keysDirectory: directory.file("keys"),
            sealing: .keyFile(path: directory.file("seal.key")), logger: Logger(label: "test"), clock: { clock.read() })
    }

    private var open = true

    func close() {
        guard open else { return }
        ledger.close()
        database.close()
        open = false
    }

    /// Runs `body` on the bare database while the TSA is closed (as the CLI does on a stopped
    /// appliance), then reopens.
    func withStoppedAppliance<T>(_ body: (Database) throws -> T) throws -> T {
        close()
        let bare = try Database(path: directory.file("db"), options: OpenOptions(), columnFamilies: Self.families)
        let result = Result { try body(bare) }
        bare.close()
        try reopen()
        return try result.get()
    }

    /// root.pem, and chain.pem (TSA certificate and issuing CA: what `-untrusted` takes).
    func writeTrustFiles() throws {
        try tsa.chain[2].pem.write(toFile: directory.file("root.pem"), atomically: true, encoding: .utf8)
        try (tsa.chain[0].pem + tsa.chain[1].pem).write(toFile: directory.file("chain.pem"), atomically: true, encoding: .utf8)
    }

    /// Stamps `data` and returns the parsed reply and the response bytes.
    func stamp(_ data: [UInt8], hash: TimeStampHash = .sha256, nonce: [UInt8]? = randomBytes(8), certificateRequested: Bool = true, policy: String? = nil) throws -> (TimeStampReply, [UInt8], TimeStampOutcome) {
        let request = try TimeStampRequest.create(imprint: hash.digest(data), hash: hash, nonce: nonce, certificateRequested: certificateRequested, policyOID: policy)
        let (response, outcome) = tsa.respond(to: request)
        return (try TimeStampReply(derEncoded: response), response, outcome)
    }
}
