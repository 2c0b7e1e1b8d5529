import CanonicalJSON
import Glibc
import Ledger
import Logging
import OpenSSLKit
import RocksDBStore
import Sodium
import Synchronization

/// A certificate and the ledger entry that records its issuance.
public struct IssuedCertificate: Sendable {
    public let record: CertificateRecord
    public let receipt: AppendReceipt
    public var certificate: Certificate { record.certificate }
}

/// The appliance's two-level CA: a root (its key sealed and used only to certify the issuing
/// CA and sign the root CRL) and an issuing CA that certifies end entities by profile, keeps
/// their status, signs the CRL and, through a delegated responder, OCSP responses.
///
/// Contracts:
/// - A certificate is returned only once its record and its `certificate-issued` ledger entry
///   are durable, in one atomic batch; a revocation likewise with its `certificate-revoked`
///   entry and the re-signed CRL. What the ledger says and what the CA answers never differ.
/// - Serial numbers carry 126 random bits (at least 64, RFC 5280 and CA/B Forum), checked
///   against every stored serial and every issuance in flight before use.
/// - Revocations, CRL re-signing and responder renewal run one at a time (`gate`); issuance
///   runs concurrently.
public final class CertificateAuthority: Sendable {
    public let settings: CASettings
    public let store: CertificateStore
    let ledger: Ledger
    let keysDirectory: String
    let sealing: SealingSecret
    let logger: Logger
    let clock: @Sendable () -> Int64
    let issuingKey: PrivateKey
    private let current: Mutex<Current>
    private let inFlight = Mutex<Set<[UInt8]>>([])
    private let gate = SerialGate()

    private struct Current {
        var hierarchy: Hierarchy
        var responderKey: PrivateKey
        var crl: StoredCRL
    }

    /// Seal labels of the CA's key files (docs/sealed-key-format.md).
    static let rootKeyLabel = "notarium root CA key (PKCS#8)"
    static let issuingKeyLabel = "notarium issuing CA key (PKCS#8)"
    static let responderKeyLabel = "notarium OCSP responder key (PKCS#8)"
    /// A responder certificate closer than this to its notAfter is replaced.
    static let responderRenewalSeconds: Int64 = 30 * 86_400

    public var hierarchy: Hierarchy { current.withLock { $0.hierarchy } }
    public var currentCRL: StoredCRL { current.withLock { $0.crl } }

    private init(settings: CASettings, store: CertificateStore, ledger: Ledger, keysDirectory: String, sealing: SealingSecret, logger: Logger, clock: @escaping @Sendable () -> Int64, issuingKey: PrivateKey, current: Current) {
        self.settings = settings
        self.store = store
        self.ledger = ledger
        self.keysDirectory = keysDirectory
        self.sealing = sealing
        self.logger = logger
        self.clock = clock
        self.issuingKey = issuingKey
        self.current = Mutex(current)
    }

    static func keyFile(_ directory: String, role: String, serial: String) -> String { "\(directory)/ca-\(role)-\(serial).key" }

    // MARK: - Creating and opening

    /// Creates the hierarchy: root and issuing CA keys and certificates, the delegated OCSP
    /// responder, the ledger checkpoint key's certificate, and both CRLs; each certificate is
    /// recorded in the ledger. Keys are sealed under `sealing` in `keysDirectory`, in files
    /// named by certificate serial, so that an interrupted attempt never collides with the next.
    public static func initialize(database: Database, ledger: Ledger, settings: CASettings, keysDirectory: String, sealing: SealingSecret, logger: Logger, clock: @escaping @Sendable () -> Int64 = LedgerTime.nowMilliseconds) async throws(CAError) -> CertificateAuthority {
        do {
            try settings.validate()
        } catch {
            throw CAError(.invalidSettings, error.reason)
        }
        let store = try CertificateStore(database: database)
        guard try store.hierarchy() == nil else { throw CAError(.alreadyInitialized, "this data directory already has a CA") }
        let now = clock() / 1000
        let rootKey = try crypto { () throws(OpenSSLError) in try PrivateKey.generate(settings.algorithm) }
        let rootSerial = try newSerial(store: store)
        let root = try crypto { () throws(OpenSSLError) in
            try CertificateBuilder.build(
                serial: rootSerial, subject: settings.rootSubject, publicKey: rootKey.publicKey,
                notBefore: now, notAfter: now + Int64(settings.rootValidityDays) * 86_400,
                extensions: [
                    ExtensionSpec("basicConstraints", "critical,CA:TRUE"),
                    ExtensionSpec("keyUsage", "critical,keyCertSign,cRLSign"),
                    ExtensionSpec("subjectKeyIdentifier", "hash"),
                ],
                issuer: nil, signingKey: rootKey)
        }
        try seal(rootKey, to: keyFile(keysDirectory, role: "root", serial: root.serialHex), label: rootKeyLabel, sealing: sealing)

        let issuingKey = try crypto { () throws(OpenSSLError) in try PrivateKey.generate(settings.algorithm) }
        let issuingSerial = try newSerial(store: store)
        let issuing = try crypto { () throws(OpenSSLError) in
            try CertificateBuilder.build(
                serial: issuingSerial, subject: settings.issuingSubject, publicKey: issuingKey.publicKey,
                notBefore: now, notAfter: min(root.notAfter, now + Int64(settings.issuingValidityDays) * 86_400),
                extensions: [
                    ExtensionSpec("basicConstraints", "critical,CA:TRUE,pathlen:0"),
                    ExtensionSpec("keyUsage", "critical,keyCertSign,cRLSign"),
                    ExtensionSpec("subjectKeyIdentifier", "hash"),
                    ExtensionSpec("authorityKeyIdentifier", "keyid:always"),
                    ExtensionSpec("crlDistributionPoints", "URI:" + settings.rootCRLURL),
                    ExtensionSpec("authorityInfoAccess", "caIssuers;URI:" + settings.rootCertificateURL),
                    ExtensionSpec("certificatePolicies", settings.policyOID),
                ],
                issuer: root, signingKey: rootKey)
        }
        try seal(issuingKey, to: keyFile(keysDirectory, role: "issuing", serial: issuing.serialHex), label: issuingKeyLabel, sealing: sealing)

        let (responder, responderKey) = try makeResponder(settings: settings, store: store, issuing: issuing, issuingKey: issuingKey, now: now, keysDirectory: keysDirectory, sealing: sealing)
        let rootCRL = try signCRL(issuer: root, key: rootKey, number: 1, revoked: [], now: now, validity: Int64(settings.rootCRLValidityDays) * 86_400)
        let crl = try signCRL(issuer: issuing, key: issuingKey, number: 1, revoked: [], now: now, validity: Int64(settings.crlValidityHours) * 3600)
        let hierarchy = Hierarchy(algorithm: settings.algorithm, root: root, issuing: issuing, ocspResponder: responder)

        // The ledger records each certificate; the hierarchy is written with the last entry, so a
        // CA exists only once every certificate of it is in the ledger.
        try await record(CertificateRecord(certificate: root, profile: "root-ca", revocation: nil), type: .certificateIssued, ledger: ledger, store: store)
        try await record(CertificateRecord(certificate: issuing, profile: "issuing-ca", revocation: nil), type: .certificateIssued, ledger: ledger, store: store)
        try await record(CertificateRecord(certificate: responder, profile: CertificateProfile.ocsp.rawValue, revocation: nil), type: .certificateIssued, ledger: ledger, store: store)
        var final = WriteBatch()
        final.put(CertificateStore.hierarchyKey, hierarchy.record, in: store.state)
        final.put(CertificateStore.crlKey, crl.record, in: store.state)
        final.put(CertificateStore.rootCRLKey, rootCRL.record, in: store.state)

        let authority = CertificateAuthority(
            settings: settings, store: store, ledger: ledger, keysDirectory: keysDirectory, sealing: sealing, logger: logger, clock: clock,
            issuingKey: issuingKey, current: Current(hierarchy: hierarchy, responderKey: responderKey, crl: crl))
        // The ledger's own checkpoint key is certified last, with the hierarchy in its batch.
        let verifier = ledger.identity.verifier
        let ledgerKey = try crypto { () throws(OpenSSLError) in try PublicKey(ed25519: verifier.publicKey) }
        var subject = settings.issuingSubject.attributes.filter { $0.type == "O" || $0.type == "C" }
        subject.append(.init(type: "CN", value: "Ledger checkpoint key " + ledger.identity.origin))
        _ = try await authority.issue(
            publicKey: ledgerKey, subject: DistinguishedName(attributes: subject), names: [], profile: .ledger,
            type: .keyCertified, extraBody: ["ledgerOrigin": .string(ledger.identity.origin), "verifierKey": .string(verifier.text)],
            alongside: { _ in final })
        logger.notice("created the CA", metadata: [
            "ca.root": "\(root.subject)", "ca.issuing": "\(issuing.subject)", "ca.algorithm": "\(settings.algorithm.rawValue)",
        ])
        return authority
    }

    /// Opens the CA of a data directory, unsealing the issuing CA's and the responder's keys.
    public static func open(database: Database, ledger: Ledger, settings: CASettings, keysDirectory: String, sealing: SealingSecret, logger: Logger, clock: @escaping @Sendable () -> Int64 = LedgerTime.nowMilliseconds) throws(CAError) -> CertificateAuthority {
        let store = try CertificateStore(database: database)
        guard let hierarchy = try store.hierarchy() else {
            throw CAError(.notInitialized, "this data directory has no CA yet: run `notarium ca init` or start notariumd once")
        }
        guard let crl = try store.currentCRL() else { throw CAError(.corrupt, "the CA has no CRL") }
        // Names and URLs in settings apply to new certificates; the algorithm and CA names are
        // those the hierarchy was created with.
        var effective = settings
        effective.algorithm = hierarchy.algorithm
        effective.rootSubject = hierarchy.root.subjectName
        effective.issuingSubject = hierarchy.issuing.subjectName
        let issuingKey = try unseal(keyFile(keysDirectory, role: "issuing", serial: hierarchy.issuing.serialHex), sealing: sealing, matching: hierarchy.issuing)
        let responderFile = keyFile(keysDirectory, role: "ocsp", serial: hierarchy.ocspResponder.serialHex)
        let responderKey = try unseal(responderFile, sealing: sealing, matching: hierarchy.ocspResponder)
        return CertificateAuthority(
            settings: effective, store: store, ledger: ledger, keysDirectory: keysDirectory, sealing: sealing, logger: logger, clock: clock,
            issuingKey: issuingKey, current: Current(hierarchy: hierarchy, responderKey: responderKey, crl: crl))
    }

    // MARK: - Issuing

    /// Issues a certificate of `profile` for the key in a PKCS#10 request (PEM or DER), after
    /// checking its signature, its key against the key policy, and its names against the
    /// profile. Nothing is stored or appended when any check fails.
    /// - Parameters:
    ///   - extraBody: members added to the `certificate-issued` entry (an API client's name
    ///     and role, who asked).
    ///   - alongside: writes of the caller's own for the new certificate, in the same batch
    ///     (the API's access list), so that the ledger and the caller agree after any crash.
    public func issue(request bytes: [UInt8], profile: CertificateProfile, extraBody: [String: JSONValue] = [:], alongside: (Certificate) -> WriteBatch = { _ in WriteBatch() }) async throws(CAError) -> IssuedCertificate {
        guard profile.acceptsRequests else {
            throw CAError(.unknownProfile, "the \(profile.rawValue) profile certifies one of the appliance's own keys and takes no requests")
        }
        let request: CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(pemOrDER: bytes)
        } catch {
            throw CAError(.malformedRequest, error.reason)
        }
        guard let key = request.publicKey else { throw CAError(.forbiddenKey, "the request's public key cannot be read") }
        try profile.checkKey(key.kind)
        guard request.hasValidSignature else {
            throw CAError(.badRequestSignature, "the request's signature does not verify with the key it carries")
        }
        let (subject, names) = try profile.certifiedNames(subject: request.subject, names: request.requestedAlternativeNames)
        return try await issue(publicKey: key, subject: subject, names: names, profile: profile, extraBody: extraBody, alongside: alongside)
    }

    /// Issues a certificate for a key the appliance holds or was given directly (the ledger
    /// key, the TSA key, the OCSP responder).
    func issue(publicKey: PublicKey, subject: DistinguishedName, names: [GeneralName], profile: CertificateProfile, type: EntryType = .certificateIssued, extraBody: [String: JSONValue] = [:], alongside: (Certificate) -> WriteBatch = { _ in WriteBatch() }) async throws(CAError) -> IssuedCertificate {
        let serial = try reserveSerial()
        defer { _ = inFlight.withLock { $0.remove(serial) } }
        let now = clock() / 1000
        let issuing = hierarchy.issuing
        let certificate = try Self.crypto { () throws(OpenSSLError) in
            try CertificateBuilder.build(
                serial: serial, subject: subject, publicKey: publicKey,
                notBefore: now, notAfter: min(issuing.notAfter, now + Int64(profile.validityDays) * 86_400),
                extensions: profile.extensions(key: publicKey.kind, names: names, settings: settings),
                issuer: issuing, signingKey: issuingKey)
        }
        let record = CertificateRecord(certificate: certificate, profile: profile.rawValue, revocation: nil)
        let receipt = try await Self.record(record, type: type, extraBody: extraBody, ledger: ledger, store: store, alongside: alongside(certificate))
        return IssuedCertificate(record: record, receipt: receipt)
    }

    /// Certifies a key another part of the appliance holds and seals itself (the TSA's), with a
    /// `key-certified` ledger entry; what `alongside` makes of the new certificate is written
    /// in the same batch, so that the owner's record of its certificate and the ledger agree
    /// after any crash.
    /// - Parameter names: subject alternative names, where the profile takes them (the API's
    ///   TLS server certificate names its host names and addresses).
    public func certifyApplianceKey(_ publicKey: PublicKey, subject: DistinguishedName, names: [GeneralName] = [], profile: CertificateProfile, extraBody: [String: JSONValue] = [:], alongside: (Certificate) -> WriteBatch) async throws(CAError) -> IssuedCertificate {
        try await issue(publicKey: publicKey, subject: subject, names: names, profile: profile, type: .keyCertified, extraBody: extraBody, alongside: alongside)
    }

    /// Picks a serial no stored certificate and no issuance in flight has.
    private func reserveSerial() throws(CAError) -> [UInt8] {
        for _ in 0..<8 {
            let serial = try Self.newSerial(store: store)
            if inFlight.withLock({ $0.insert(serial).inserted }) { return serial }
        }
        throw CAError(.crypto, "no unused serial number after 8 random draws; the random source is broken")
    }

    /// 16 random bytes, the top bit cleared (a positive INTEGER of at most 16 octets) and the
    /// top byte non-zero (so the DER length is always 16), checked against storage.
    static func newSerial(store: CertificateStore) throws(CAError) -> [UInt8] {
        for _ in 0..<8 {
            var serial = randomBytes(16)
            serial[0] = (serial[0] & 0x7F) | 0x40
            if try !store.contains(serial: serial) { return serial }
        }
        throw CAError(.crypto, "no unused serial number after 8 random draws; the random source is broken")
    }

    /// Appends the entry that records `record` and writes the record in the same batch.
    @discardableResult
    static func record(_ record: CertificateRecord, type: EntryType, extraBody: [String: JSONValue] = [:], ledger: Ledger, store: CertificateStore, alongside: WriteBatch = WriteBatch()) async throws(CAError) -> AppendReceipt {
        let certificate = record.certificate
        var body: [String: JSONValue] = [
            "certificate": .string(Base64.encode(certificate.derBytes)),
            "certificateSha256": .string(record.sha256),
            "serial": .string(record.serialHex),
            "profile": .string(record.profile),
            "subject": .string(certificate.subject),
            "issuer": .string(certificate.issuer),
            "notBefore": .string(LedgerTime.format(milliseconds: certificate.notBefore * 1000)),
            "notAfter": .string(LedgerTime.format(milliseconds: certificate.notAfter * 1000)),
        ]
        body.merge(extraBody) { _, new in new }
        var batch = WriteBatch()
        batch.put(certificate.serialNumber, record.record, in: store.certificates)
        batch.append(contentsOf: alongside)
        do {
            return try await ledger.append(type: type, body: .object(body), alongside: batch)
        } catch {
            throw CAError(.ledger, "the ledger did not record the certificate, so it was not issued: \(error.reason)")
        }
    }

    // MARK: - Revoking

    /// The reasons `revoke` takes. certificateHold would make revocation reversible and
    /// removeFromCRL belongs to delta CRLs; aACompromise concerns attribute authorities.
    public static let revocationReasons: [RevocationReason] = [.unspecified, .keyCompromise, .cACompromise, .affiliationChanged, .superseded, .cessationOfOperation, .privilegeWithdrawn]

    /// Revokes an end-entity certificate: its record, the revocation list, a `certificate-
    /// revoked` ledger entry and the re-signed CRL are written in one batch.
    /// - Parameter extraBody: members added to the `certificate-revoked` entry (who asked, over
    ///   the API).
    public func revoke(serial: [UInt8], reason: RevocationReason, extraBody: [String: JSONValue] = [:]) async throws(CAError) -> (record: CertificateRecord, receipt: AppendReceipt) {
        guard Self.revocationReasons.contains(reason) else {
            throw CAError(.revocationRefused, "\(reason.name) is not a reason Notarium revokes for; use one of \(Self.revocationReasons.map(\.name).joined(separator: ", "))")
        }
        await gate.enter()
        let result = await revokeInGate(serial: serial, reason: reason, extraBody: extraBody)
        await gate.leave()
        return try result.get()
    }

    private func revokeInGate(serial: [UInt8], reason: RevocationReason, extraBody: [String: JSONValue]) async -> Result<(record: CertificateRecord, receipt: AppendReceipt), CAError> {
        do throws(CAError) {
            guard let record = try store.record(serial: serial) else {
                throw CAError(.unknownSerial, "no certificate with serial \(hex(serial)) was issued here")
            }
            guard record.revocation == nil else {
                throw CAError(.alreadyRevoked, "certificate \(record.serialHex) was already revoked (\(record.revocation!.reason.name), \(LedgerTime.format(milliseconds: record.revocation!.time)))")
            }
            guard record.profile != "root-ca", record.profile != "issuing-ca" else {
                throw CAError(.revocationRefused, "certificate \(record.serialHex) is the CA's own (\(record.profile)); a CA is retired by creating a new one, see docs/pki.md")
            }
            guard record.serialHex != hierarchy.ocspResponder.serialHex else {
                throw CAError(.revocationRefused, "certificate \(record.serialHex) is the current OCSP responder's; replace the responder first (docs/pki.md)")
            }
            let now = clock()
            let revocation = CertificateRecord.Revocation(reason: reason, time: now)
            let revoked = CertificateRecord(certificate: record.certificate, profile: record.profile, revocation: revocation)
            var list = try store.revokedCertificates()
            list.append(RevokedCertificate(serial: serial, revocationTime: now / 1000, reason: reason))
            let crl = try Self.signCRL(issuer: hierarchy.issuing, key: issuingKey, number: currentCRL.number + 1, revoked: list, now: now / 1000, validity: Int64(settings.crlValidityHours) * 3600)
            var batch = WriteBatch()
            batch.put(serial, revoked.record, in: store.certificates)
            batch.put(serial, JSONValue.object(revocation.members).canonicalBytes, in: store.revocations)
            batch.put(CertificateStore.crlKey, crl.record, in: store.state)
            var members: [String: JSONValue] = [
                "serial": .string(record.serialHex),
                "certificateSha256": .string(record.sha256),
                "reason": .string(reason.name),
                "reasonCode": .integer(Int64(reason.rawValue)),
                "revocationTime": .string(LedgerTime.format(milliseconds: now)),
                "crlNumber": .integer(Int64(crl.number)),
            ]
            members.merge(extraBody) { old, _ in old }
            let body: JSONValue = .object(members)
            let receipt: AppendReceipt
            do {
                receipt = try await ledger.append(type: .certificateRevoked, body: body, alongside: batch)
            } catch {
                throw CAError(.ledger, "the ledger did not record the revocation, so nothing changed: \(error.reason)")
            }
            current.withLock { $0.crl = crl }
            logger.notice("revoked a certificate", metadata: ["ca.serial": "\(record.serialHex)", "ca.reason": "\(reason.name)", "ledger.seq": "\(receipt.seq)"])
            return .success((revoked, receipt))
        } catch {
            return .failure(error)
        }
    }

    // MARK: - CRLs and the responder

    /// Re-signs the issuing CA's CRL when half its validity has passed, the root's CRL when it
    /// is within 30 days of its nextUpdate (both now when `force`), and replaces the OCSP
    /// responder's certificate when it is within 30 days of expiry. notariumd calls this at
    /// start and every 10 minutes.
    /// - Returns: what was done, for the log.
    @discardableResult
    public func maintain(force: Bool = false) async throws(CAError) -> [String] {
        await gate.enter()
        let result = await maintainInGate(force: force)
        await gate.leave()
        return try result.get()
    }

    private func maintainInGate(force: Bool) async -> Result<[String], CAError> {
        do throws(CAError) {
            var done: [String] = []
            let now = clock() / 1000
            let crl = currentCRL
            if force || now >= crl.thisUpdate + (crl.nextUpdate - crl.thisUpdate) / 2 {
                let next = try Self.signCRL(issuer: hierarchy.issuing, key: issuingKey, number: crl.number + 1, revoked: try store.revokedCertificates(), now: now, validity: Int64(settings.crlValidityHours) * 3600)
                try write(CertificateStore.crlKey, next.record)
                current.withLock { $0.crl = next }
                done.append("re-signed the CRL (number \(next.number))")
            }
            if let rootCRL = try store.currentRootCRL(), force || now >= rootCRL.nextUpdate - 30 * 86_400 {
                let root = hierarchy.root
                let rootKey = try Self.unseal(Self.keyFile(keysDirectory, role: "root", serial: root.serialHex), sealing: sealing, matching: root)
                let next = try Self.signCRL(issuer: root, key: rootKey, number: rootCRL.number + 1, revoked: [], now: now, validity: Int64(settings.rootCRLValidityDays) * 86_400)
                try write(CertificateStore.rootCRLKey, next.record)
                done.append("re-signed the root CRL (number \(next.number))")
            }
            if hierarchy.ocspResponder.notAfter - now < Self.responderRenewalSeconds {
                try await renewResponder(now: now)
                done.append("replaced the OCSP responder certificate (now \(hierarchy.ocspResponder.serialHex))")
            }
            for action in done { logger.notice("CA maintenance: \(action)") }
            return .success(done)
        } catch {
            return .failure(error)
        }
    }

    private func renewResponder(now: Int64) async throws(CAError) {
        let (responder, key) = try Self.makeResponder(settings: settings, store: store, issuing: hierarchy.issuing, issuingKey: issuingKey, now: now, keysDirectory: keysDirectory, sealing: sealing)
        let old = hierarchy
        let next = Hierarchy(algorithm: old.algorithm, root: old.root, issuing: old.issuing, ocspResponder: responder)
        var batch = WriteBatch()
        batch.put(CertificateStore.hierarchyKey, next.record, in: store.state)
        try await Self.record(CertificateRecord(certificate: responder, profile: CertificateProfile.ocsp.rawValue, revocation: nil), type: .certificateIssued, ledger: ledger, store: store, alongside: batch)
        current.withLock {
            $0.hierarchy = next
            $0.responderKey = key
        }
    }

    private func write(_ key: [UInt8], _ value: [UInt8]) throws(CAError) {
        do {
            try store.database.put(key, value, in: store.state, durability: .synced)
        } catch {
            throw CAError(.storage, "cannot store the CRL: \(error)")
        }
    }

    /// A new responder key (sealed) and its `ocsp`-profile certificate, not yet recorded.
    private static func makeResponder(settings: CASettings, store: CertificateStore, issuing: Certificate, issuingKey: PrivateKey, now: Int64, keysDirectory: String, sealing: SealingSecret) throws(CAError) -> (Certificate, PrivateKey) {
        let key = try crypto { () throws(OpenSSLError) in try PrivateKey.generate(.ecdsaP256) }
        let serial = try newSerial(store: store)
        var subject = settings.issuingSubject.attributes.filter { $0.type == "O" || $0.type == "C" }
        subject.append(.init(type: "CN", value: (settings.issuingSubject.value(of: "CN") ?? "Notarium") + " OCSP Responder"))
        let profile = CertificateProfile.ocsp
        let certificate = try crypto { () throws(OpenSSLError) in
            try CertificateBuilder.build(
                serial: serial, subject: DistinguishedName(attributes: subject), publicKey: key.publicKey,
                notBefore: now, notAfter: min(issuing.notAfter, now + Int64(profile.validityDays) * 86_400),
                extensions: profile.extensions(key: key.kind, names: [], settings: settings),
                issuer: issuing, signingKey: issuingKey)
        }
        try seal(key, to: keyFile(keysDirectory, role: "ocsp", serial: certificate.serialHex), label: responderKeyLabel, sealing: sealing)
        return (certificate, key)
    }

    static func signCRL(issuer: Certificate, key: PrivateKey, number: UInt64, revoked: [RevokedCertificate], now: Int64, validity: Int64) throws(CAError) -> StoredCRL {
        let crl = try crypto { () throws(OpenSSLError) in
            try CertificateRevocationList.build(issuer: issuer, signingKey: key, number: number, thisUpdate: now, nextUpdate: now + validity, revoked: revoked)
        }
        // Parsed again from its DER on purpose: OpenSSL fills a CRL's cached extension data
        // (issuing distribution point, delta indicators) only when it decodes one, and path
        // validation reads that cache; the object it signed never went through the decoder.
        return StoredCRL(der: crl.derBytes, number: number, thisUpdate: now, nextUpdate: now + validity)
    }

    /// The DER OCSPResponse for a DER OCSPRequest. Never throws: a request that cannot be
    /// parsed gets `malformedRequest`, one about another CA's certificates `unauthorized`, and
    /// a failure of ours `internalError` (RFC 6960 §2.3), each an unsigned response.
    public func ocspResponse(for requestBytes: [UInt8]) -> (response: [UInt8], status: OCSPResponseStatus) {
        let request: OCSPRequest
        do {
            request = try OCSPRequest(derEncoded: requestBytes)
        } catch {
            return (OCSPResponseSigner.errorResponse(.malformedRequest), .malformedRequest)
        }
        guard (1...OCSPRequest.maximumCertificates).contains(request.count) else {
            return (OCSPResponseSigner.errorResponse(.malformedRequest), .malformedRequest)
        }
        let (hierarchy, key) = current.withLock { ($0.hierarchy, $0.responderKey) }
        for index in 0..<request.count where !request.certificateID(at: index, isIssuedBy: hierarchy.issuing) {
            return (OCSPResponseSigner.errorResponse(.unauthorized), .unauthorized)
        }
        // The CA's own certificates are the root's to speak for, not this responder's.
        let caSerials = [hierarchy.root.serialNumber, hierarchy.issuing.serialNumber]
        var statuses: [[UInt8]: OCSPCertificateStatus] = [:]
        do {
            for serial in request.serials {
                statuses[serial] = caSerials.contains(serial) ? .unknown : try store.status(serial: serial)
            }
            let signer = OCSPResponseSigner(issuer: hierarchy.issuing, responder: hierarchy.ocspResponder, key: key)
            let response = try signer.respond(to: request, now: clock() / 1000, validity: settings.ocspValiditySeconds) { statuses[$0] ?? .unknown }
            return (response, .successful)
        } catch {
            logger.error("OCSP response failed", metadata: ["error": "\(error)"])
            return (OCSPResponseSigner.errorResponse(.internalError), .internalError)
        }
    }

    // MARK: - Keys

    /// Seals `key` (PKCS#8) to `path` under the data directory's seal key; the TSA uses it too.
    public static func seal(_ key: PrivateKey, to path: String, label: String, sealing: SealingSecret) throws(CAError) {
        do {
            let secret = key.withPKCS8 { SecureBytes(copying: $0) }
            guard let secret else { throw CAError(.key, "cannot export the new key for sealing") }
            try SealedKey.seal(secret, label: label, with: sealing).write(to: path)
        } catch let error as CAError {
            throw error
        } catch let error as SealedKeyError {
            throw CAError(.key, "cannot seal the key to \(path): \(error.reason)")
        } catch {
            throw CAError(.key, "cannot seal the key to \(path): \(error)")
        }
    }

    /// Unseals a key sealed by `seal` and checks it is the private half of `certificate`.
    public static func unseal(_ path: String, sealing: SealingSecret, matching certificate: Certificate) throws(CAError) -> PrivateKey {
        let secret: SecureBytes
        do {
            secret = try SealedKey(contentsOf: path).unseal(with: sealing)
        } catch {
            throw CAError(.key, "cannot open the sealed key \(path): \(error.reason)")
        }
        let key = try crypto { () throws(OpenSSLError) in try secret.withUnsafeBytes { bytes throws(OpenSSLError) in try PrivateKey(pkcs8: bytes) } }
        guard key.subjectPublicKeyInfo == certificate.publicKey?.subjectPublicKeyInfo else {
            throw CAError(.key, "\(path) is not the key of certificate \(certificate.serialHex) (\(certificate.subject))")
        }
        return key
    }

    static func crypto<T>(_ body: () throws(OpenSSLError) -> T) throws(CAError) -> T {
        do {
            return try body()
        } catch {
            throw CAError(.crypto, error.description)
        }
    }
}
