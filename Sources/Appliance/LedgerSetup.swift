import Glibc
import Ledger
import Logging
import Sodium

/// The ledger of a data directory, and the key that signs its checkpoints.
///
/// The checkpoint key is an Ed25519 seed sealed in `DATA/keys/ledger.key` (docs/sealed-key-
/// format.md) under the seal key file. It is made, with the ledger's identity (origin and
/// verifier key), the first time the ledger is opened; after that the identity recorded in the
/// database wins over configuration, because every checkpoint already published names it.
extension DataDirectory {
    public static let ledgerKeyLabel = "notarium ledger checkpoint key (Ed25519 seed)"

    public var ledgerKeyFile: String { keysPath + "/ledger.key" }

    /// Opens the ledger, creating its key and identity on first use.
    /// - Parameters:
    ///   - withSigner: also unseal the checkpoint key (for cutting checkpoints); reading,
    ///     appending and auditing do not need it.
    public func openLedger(configuration: ApplianceConfiguration, withSigner: Bool, logger: Logger, clock: @escaping @Sendable () -> Int64 = LedgerTime.nowMilliseconds) throws(DataDirectoryError) -> (ledger: Ledger, signer: NoteSigner?) {
        let stored: LedgerIdentity?
        do {
            stored = try Ledger.storedIdentity(in: database)
        } catch {
            throw DataDirectoryError(.ledger, "the ledger's identity record is unreadable: \(error.reason)")
        }
        if let stored {
            if configuration.ledgerOriginIsExplicit && configuration.ledgerOrigin != stored.origin {
                logger.warning("ledger.origin is set to a different origin than the ledger was created with; the recorded origin stays", metadata: [
                    "configured": "\(configuration.ledgerOrigin)", "recorded": "\(stored.origin)",
                ])
            }
            let signer = withSigner ? try loadSigner(name: stored.origin, sealKeyFile: configuration.sealKeyFile) : nil
            if let signer, signer.verifier != stored.verifier {
                throw DataDirectoryError(.ledger, "\(ledgerKeyFile) is not the key of this ledger (its verifier key is \(stored.verifier.text))")
            }
            return (try open(identity: nil, clock: clock), signer)
        }
        // First use: make the key, then record the identity it implies.
        if access(ledgerKeyFile, F_OK) != 0 {
            try createLedgerKey(sealKeyFile: configuration.sealKeyFile)
            logger.notice("created the ledger checkpoint key", metadata: ["file": "\(ledgerKeyFile)"])
        }
        let signer = try loadSigner(name: configuration.ledgerOrigin, sealKeyFile: configuration.sealKeyFile)
        let identity: LedgerIdentity
        do {
            identity = try LedgerIdentity(origin: configuration.ledgerOrigin, verifier: signer.verifier)
        } catch {
            throw DataDirectoryError(.ledger, error.reason)
        }
        let ledger = try open(identity: identity, clock: clock)
        logger.notice("created the ledger", metadata: ["origin": "\(identity.origin)", "verifier-key": "\(identity.verifier.text)"])
        return (ledger, withSigner ? signer : nil)
    }

    private func open(identity: LedgerIdentity?, clock: @escaping @Sendable () -> Int64) throws(DataDirectoryError) -> Ledger {
        do {
            return try Ledger.open(database: database, identity: identity, clock: clock)
        } catch {
            throw DataDirectoryError(.ledger, error.reason)
        }
    }

    private func createLedgerKey(sealKeyFile: String) throws(DataDirectoryError) {
        do {
            let sealed = try SealedKey.seal(Ed25519SigningKey.generateSeed(), label: Self.ledgerKeyLabel, with: .keyFile(path: sealKeyFile))
            try sealed.write(to: ledgerKeyFile)
        } catch {
            throw DataDirectoryError(.sealKey, "cannot create the ledger key \(ledgerKeyFile): \(error.reason)")
        }
    }

    private func loadSigner(name: String, sealKeyFile: String) throws(DataDirectoryError) -> NoteSigner {
        do {
            let seed = try SealedKey(contentsOf: ledgerKeyFile).unseal(with: .keyFile(path: sealKeyFile))
            return try NoteSigner(name: name, key: try Ed25519SigningKey(seed: seed))
        } catch let error as SealedKeyError {
            throw DataDirectoryError(.sealKey, "cannot open the ledger key \(ledgerKeyFile): \(error.reason)")
        } catch {
            throw DataDirectoryError(.ledger, "the ledger key \(ledgerKeyFile) is unusable: \(error)")
        }
    }
}
