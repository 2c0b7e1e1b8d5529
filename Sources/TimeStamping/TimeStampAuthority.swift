import CertificateAuthority
import Glibc
import Ledger
import Logging
import OpenSSLKit
import RocksDBStore
import Sodium
import Synchronization

/// What the TSA did with one request.
public enum TimeStampOutcome: Sendable, Equatable {
    case granted(serial: UInt64, genTime: Int64)
    case rejected(TimeStampFailure, String)
}

/// The RFC 3161 time-stamp authority (docs/tsa.md).
///
/// Every request gets a TimeStampResp: a token, or a rejection with the failure code that
/// names the client's mistake. Serial numbers and genTime only grow, within a run and across
/// restarts; the ceilings that guarantee it are reserved on disk ahead of use (`TSAStore`).
/// If the system clock steps back by more than the configured tolerance, the TSA stops
/// issuing (`timeNotAvailable`) and records why, until an operator runs `notarium ts resume`.
public final class TimeStampAuthority: Sendable {
    public let settings: TSASettings
    /// The TSA certificate, then the issuing CA, then the root.
    public let chain: [Certificate]
    public var certificate: Certificate { chain[0] }
    let signer: TimeStampSigner
    let store: TSAStore
    let clock: @Sendable () -> Int64
    let logger: Logger
    let sequence: Mutex<Sequence>

    /// The column families the TSA needs; the data directory creates them.
    public static let columnFamilies = [TSAStore.family]

    /// Serial numbers reserved per synced write.
    static let serialBlock: UInt64 = 4096
    /// How far ahead of the last genTime the stored time ceiling is set.
    static let timeLeaseMilliseconds: Int64 = 1000

    struct Sequence {
        var nextSerial: UInt64
        var serialCeiling: UInt64
        var lastGenTime: Int64
        var timeCeiling: Int64
        var halted: String?
        /// After opening, lastGenTime is the stored ceiling, up to a lease above the last genTime
        /// really issued; the backward-step check allows for that until the first token.
        var slack: Int64
    }

    init(settings: TSASettings, chain: [Certificate], key: PrivateKey, store: TSAStore, clock: @escaping @Sendable () -> Int64, logger: Logger) throws(TSAError) {
        self.settings = settings
        self.chain = chain
        self.store = store
        self.clock = clock
        self.logger = logger
        do {
            signer = try TimeStampSigner(
                certificate: chain[0], key: key, policies: settings.acceptedPolicies,
                includeName: settings.includeName,
                accuracyMilliseconds: settings.accuracyMilliseconds)
        } catch {
            throw TSAError(.crypto, "cannot prepare the token signer: \(error)")
        }
        let serialCeiling = try store.readNumber(TSAStore.serialKey)
        let timeCeiling = Int64(bitPattern: try store.readNumber(TSAStore.timeKey))
        let halted = try store.read(TSAStore.haltedKey).map { String(decoding: $0, as: UTF8.self) }
        // Serials restart above every serial that could have been handed out; genTime never
        // goes below the time ceiling.
        sequence = Mutex(Sequence(nextSerial: max(serialCeiling, 1), serialCeiling: max(serialCeiling, 1), lastGenTime: timeCeiling, timeCeiling: timeCeiling, halted: halted, slack: Self.timeLeaseMilliseconds))
        if let halted { logger.error("the TSA is halted and issues no tokens until `notarium ts resume`", metadata: ["reason": "\(halted)"]) }
    }

    // MARK: - Creating and opening

    /// Creates the TSA key (ECDSA P-256, sealed in `keysDirectory`) and has the CA certify it
    /// with the `tsa` profile; the certificate's ledger entry and the TSA state are one batch.
    public static func initialize(database: Database, authority: CertificateAuthority, settings: TSASettings, keysDirectory: String, sealing: SealingSecret, logger: Logger, clock: @escaping @Sendable () -> Int64 = LedgerTime.nowMilliseconds) async throws(TSAError) -> TimeStampAuthority {
        do {
            try settings.validate()
        } catch {
            throw TSAError(.invalidSettings, error.description)
        }
        let store = try TSAStore(database: database)
        guard try store.read(TSAStore.certificateKey) == nil else { throw TSAError(.alreadyInitialized, "this data directory has a TSA") }
        let key: PrivateKey
        do {
            key = try PrivateKey.generate(.ecdsaP256)
        } catch {
            throw TSAError(.crypto, "cannot generate the TSA key: \(error)")
        }
        // The key file is named by its public key's hash, known before the certificate exists;
        // the certificate and the file's name are stored in the batch that records the
        // certificate in the ledger. A crash before that leaves an unused sealed file, never a
        // certificate without its key.
        let keyName = "tsa-\(hex(Array(TimeStampHash.sha256.digest(key.subjectPublicKeyInfo).prefix(8)))).key"
        do {
            try CertificateAuthority.seal(key, to: keysDirectory + "/" + keyName, label: "notarium tsa", sealing: sealing)
        } catch {
            throw TSAError(.key, error.reason)
        }
        let issued: IssuedCertificate
        do {
            issued = try await authority.certifyApplianceKey(key.publicKey, subject: settings.subject, profile: .tsa, extraBody: ["role": .string("tsa")]) { certificate in
                var batch = WriteBatch()
                batch.put(TSAStore.certificateKey, certificate.derBytes, in: store.state)
                batch.put(TSAStore.keyFileKey, Array(keyName.utf8), in: store.state)
                return batch
            }
        } catch {
            unlink(keysDirectory + "/" + keyName)
            throw TSAError(.certification, error.description)
        }
        logger.notice("created the TSA", metadata: ["tsa.certificate": "\(issued.certificate.serialHex)", "tsa.subject": "\(issued.certificate.subject)"])
        let hierarchy = authority.hierarchy
        return try TimeStampAuthority(settings: settings, chain: [issued.certificate, hierarchy.issuing, hierarchy.root], key: key, store: store, clock: clock, logger: logger)
    }

    /// Whether the data directory has a TSA.
    public static func exists(database: Database) throws(TSAError) -> Bool {
        try TSAStore(database: database).read(TSAStore.certificateKey) != nil
    }

    /// Opens the TSA of a data directory, unsealing its key.
    public static func open(database: Database, hierarchy: Hierarchy, settings: TSASettings, keysDirectory: String, sealing: SealingSecret, logger: Logger, clock: @escaping @Sendable () -> Int64 = LedgerTime.nowMilliseconds) throws(TSAError) -> TimeStampAuthority {
        do {
            try settings.validate()
        } catch {
            throw TSAError(.invalidSettings, error.description)
        }
        let store = try TSAStore(database: database)
        guard let der = try store.read(TSAStore.certificateKey) else {
            throw TSAError(.notInitialized, "this data directory has no TSA; start notariumd once to create it")
        }
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: der)
        } catch {
            throw TSAError(.corrupt, "the stored TSA certificate does not parse: \(error)")
        }
        guard let keyName = try store.read(TSAStore.keyFileKey).map({ String(decoding: $0, as: UTF8.self) }), !keyName.contains("/") else {
            throw TSAError(.corrupt, "the TSA state names no key file")
        }
        let key: PrivateKey
        do {
            key = try CertificateAuthority.unseal(keysDirectory + "/" + keyName, sealing: sealing, matching: certificate)
        } catch {
            throw TSAError(.key, error.reason)
        }
        return try TimeStampAuthority(settings: settings, chain: [certificate, hierarchy.issuing, hierarchy.root], key: key, store: store, clock: clock, logger: logger)
    }

    /// Clears a halt after the operator has checked the clock (`notarium ts resume`, on a
    /// stopped appliance's data directory). The stored time ceiling is up to one lease above the
    /// last genTime really issued, so the clock must read at least the ceiling less that lease;
    /// genTime itself still never goes below the ceiling.
    public static func resume(database: Database, clock: @Sendable () -> Int64 = LedgerTime.nowMilliseconds) throws(TSAError) -> String? {
        let store = try TSAStore(database: database)
        let reason = try store.read(TSAStore.haltedKey).map { String(decoding: $0, as: UTF8.self) }
        let ceiling = Int64(bitPattern: try store.readNumber(TSAStore.timeKey))
        let now = clock()
        guard now >= ceiling - timeLeaseMilliseconds else {
            throw TSAError(.clockBehind, "the clock reads \(LedgerTime.format(milliseconds: now)), before the last genTime the TSA may have issued (\(LedgerTime.format(milliseconds: ceiling))); set the clock right first")
        }
        var batch = WriteBatch()
        batch.delete(TSAStore.haltedKey, in: store.state)
        try store.write(batch)
        return reason
    }

    /// Stops the TSA by an operator's decision (`notarium ts halt`, on a stopped appliance's
    /// data directory), as a clock step does: it answers `timeNotAvailable` and the ledger's
    /// tokens wait, until `resume`. For when the clock or the key is in doubt.
    public static func halt(database: Database, reason: String) throws(TSAError) {
        let store = try TSAStore(database: database)
        guard try store.read(TSAStore.certificateKey) != nil else {
            throw TSAError(.notInitialized, "this data directory has no TSA; start notariumd once to create it")
        }
        var batch = WriteBatch()
        batch.put(TSAStore.haltedKey, Array("an operator halted it: \(reason)".utf8), in: store.state)
        try store.write(batch)
    }

    /// The TSA's chain in PEM: TSA certificate, issuing CA, root (`GET /tsa/certs`).
    public var chainPEM: String { chain.map(\.pem).joined() }

    public var isHalted: Bool { sequence.withLock { $0.halted != nil } }

    // MARK: - Answering

    /// A TimeStampResp (DER) for a DER TimeStampReq: a token, or a rejection naming why.
    public func respond(to bytes: [UInt8]) -> (response: [UInt8], outcome: TimeStampOutcome) {
        let request: TimeStampRequest
        do {
            request = try TimeStampRequest(derEncoded: bytes)
        } catch {
            return reject(.badDataFormat, "the request is not a DER TimeStampReq (RFC 3161 section 2.4.1): \(error.reason)")
        }
        if let refusal = check(request) { return reject(refusal.0, refusal.1) }
        let policy = request.policyOID ?? settings.policyOID
        let (serial, genTime): (UInt64, Int64)
        switch nextSerialAndTime() {
        case .success(let picked): (serial, genTime) = picked
        case .failure(let refusal): return reject(refusal.failure, refusal.text)
        }
        do {
            let response = try signer.response(to: request, policy: policy, serial: TSAStore.encode(serial).drop { $0 == 0 }.map { $0 }, genTime: genTime)
            return (response, .granted(serial: serial, genTime: genTime))
        } catch {
            logger.error("signing a time-stamp token failed", metadata: ["error": "\(error)"])
            return reject(.systemFailure, "the TSA could not sign the token")
        }
    }

    /// A token (DER ContentInfo) over `imprint` under the default policy, with the TSA
    /// certificate included: what the ledger stores beside an entry or a checkpoint. The same
    /// serial and clock discipline as `respond(to:)`.
    public func token(imprint: [UInt8], hash: TimeStampHash = .sha256) throws(TSAError) -> (token: [UInt8], serial: UInt64, genTime: Int64) {
        let request: TimeStampRequest
        do {
            request = try TimeStampRequest(imprint: imprint, hash: hash, certificateRequested: true)
        } catch {
            throw TSAError(.crypto, "cannot make a time-stamp request for the ledger: \(error)")
        }
        if let refusal = check(request) { throw TSAError(.refused, refusal.1) }
        let serial: UInt64, genTime: Int64
        switch nextSerialAndTime() {
        case .success(let picked): (serial, genTime) = picked
        case .failure(let refusal): throw TSAError(.refused, refusal.text)
        }
        do {
            let token = try signer.token(for: request, policy: settings.policyOID, serial: TSAStore.encode(serial).drop { $0 == 0 }.map { $0 }, genTime: genTime)
            return (token, serial, genTime)
        } catch {
            logger.error("signing a time-stamp token failed", metadata: ["error": "\(error)"])
            throw TSAError(.crypto, "the TSA could not sign the token: \(error)")
        }
    }

    /// The first reason to refuse `request`, in the order RFC 3161 §2.4.2 lists the failures.
    func check(_ request: TimeStampRequest) -> (TimeStampFailure, String)? {
        guard request.version == 1 else { return (.badDataFormat, "version \(request.version) is not 1") }
        guard let hash = request.hash else {
            return (.badAlg, "hash algorithm \(request.hashAlgorithmOID) is not accepted; use SHA-256, SHA-384 or SHA-512")
        }
        guard !request.hashHasParameters else { return (.badAlg, "the \(hash) algorithm identifier carries parameters") }
        guard request.imprint.count == hash.length else {
            return (.badDataFormat, "a \(hash) imprint is \(hash.length) bytes; this one is \(request.imprint.count)")
        }
        if let policy = request.policyOID, !settings.acceptedPolicies.contains(policy) {
            return (.unacceptedPolicy, "policy \(policy) is not one this TSA issues under (\(settings.acceptedPolicies.joined(separator: ", ")))")
        }
        if let critical = request.extensions.first(where: \.critical) {
            return (.unacceptedExtension, "critical extension \(critical.oid) is not supported")
        }
        return nil
    }

    /// The next serial and genTime, reserving ceilings on disk when they run out.
    func nextSerialAndTime() -> Result<(UInt64, Int64), Refusal> {
        sequence.withLock { state -> Result<(UInt64, Int64), Refusal> in
            // A clock step or an operator halted it; either way an operator resumes it.
            if state.halted != nil { return .failure(Refusal(.timeNotAvailable, "the TSA has stopped issuing until an operator resumes it")) }
            let now = clock()
            if now < state.lastGenTime - Int64(settings.clockToleranceMilliseconds) - state.slack {
                let reason = "the clock read \(LedgerTime.format(milliseconds: now)), \(state.lastGenTime - now) ms before the last genTime \(LedgerTime.format(milliseconds: state.lastGenTime)) (tolerance \(settings.clockToleranceMilliseconds) ms)"
                logger.critical("the TSA stops issuing: the system clock stepped back", metadata: ["reason": "\(reason)"])
                var batch = WriteBatch()
                batch.put(TSAStore.haltedKey, Array(reason.utf8), in: store.state)
                do {
                    try store.write(batch)
                } catch {
                    logger.critical("the halt could not be recorded; a restart would issue again", metadata: ["error": "\(error)"])
                }
                state.halted = reason
                return .failure(Refusal(.timeNotAvailable, "the TSA has stopped issuing: its clock stepped back; an operator must check it"))
            }
            let genTime = max(now, state.lastGenTime)
            var batch = WriteBatch()
            if state.nextSerial >= state.serialCeiling {
                batch.put(TSAStore.serialKey, TSAStore.encode(state.nextSerial + Self.serialBlock), in: store.state)
            }
            if genTime > state.timeCeiling {
                batch.put(TSAStore.timeKey, TSAStore.encode(UInt64(bitPattern: genTime + Self.timeLeaseMilliseconds)), in: store.state)
            }
            if !batch.isEmpty {
                do {
                    try store.write(batch)
                } catch {
                    logger.error("cannot reserve TSA serials or time", metadata: ["error": "\(error)"])
                    return .failure(Refusal(.systemFailure, "the TSA cannot record its state"))
                }
                if state.nextSerial >= state.serialCeiling { state.serialCeiling = state.nextSerial + Self.serialBlock }
                if genTime > state.timeCeiling { state.timeCeiling = genTime + Self.timeLeaseMilliseconds }
            }
            let serial = state.nextSerial
            state.nextSerial += 1
            state.lastGenTime = genTime
            state.slack = 0
            return .success((serial, genTime))
        }
    }

    struct Refusal: Error {
        let failure: TimeStampFailure
        let text: String
        init(_ failure: TimeStampFailure, _ text: String) {
            self.failure = failure
            self.text = text
        }
    }

    func reject(_ failure: TimeStampFailure, _ text: String) -> (response: [UInt8], outcome: TimeStampOutcome) {
        (TimeStampSigner.failureResponse(failure, text), .rejected(failure, text))
    }
}
