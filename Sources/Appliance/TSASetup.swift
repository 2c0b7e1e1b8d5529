import CertificateAuthority
import Logging
import Sodium
import TimeStamping

/// The TSA of a data directory: its key sealed in `DATA/keys/tsa-SERIAL.key`, its certificate
/// from the data directory's CA (`tsa` profile). The chain relying parties need is also
/// written to `DATA/public/tsa-chain.pem`.
extension DataDirectory {
    /// Opens the TSA, creating it first when `create` is set and it does not exist yet
    /// (notariumd's first start, after the CA).
    /// - Throws: `TSAError` (`tsa-not-initialized`, `tsa-key`…) or `DataDirectoryError`.
    public func openTSA(configuration: ApplianceConfiguration, authority: CertificateAuthority, create: Bool, logger: Logger) async throws -> TimeStampAuthority {
        let sealing = SealingSecret.keyFile(path: configuration.sealKeyFile)
        let tsa: TimeStampAuthority
        if create, try !TimeStampAuthority.exists(database: database) {
            tsa = try await TimeStampAuthority.initialize(
                database: database, authority: authority, settings: configuration.tsa, keysDirectory: keysPath, sealing: sealing, logger: logger)
        } else {
            tsa = try TimeStampAuthority.open(
                database: database, hierarchy: authority.hierarchy, settings: configuration.tsa, keysDirectory: keysPath, sealing: sealing, logger: logger)
        }
        // Rewritten on every start, so that the published file follows the CA's chain.
        if create { try writePublicFile("tsa-chain.pem", Array(tsa.chainPEM.utf8)) }
        return tsa
    }
}
