import CertificateAuthority
import Glibc
import Ledger
import Logging
import OpenSSLKit
import Sodium

/// The CA of a data directory. Its keys are sealed in `DATA/keys/ca-*.key` under the seal key
/// file; the certificates relying parties need are also written to `DATA/public/` (root-ca.pem,
/// root-ca.cer, ca-chain.pem) for the operator to publish.
extension DataDirectory {
    public var publicPath: String { path + "/public" }

    /// Whether the CA has been created.
    public func hasCA() throws(DataDirectoryError) -> Bool {
        do {
            return try CertificateStore(database: database).hierarchy() != nil
        } catch {
            throw DataDirectoryError(.ca, error.description)
        }
    }

    /// Creates the CA with `configuration.ca`. Fails with `ca-already-initialized` inside the
    /// reason when it exists.
    /// - Throws: `CAError` (e.g. `ca-already-initialized`), or `DataDirectoryError` when the
    ///   public files cannot be written.
    public func createCA(configuration: ApplianceConfiguration, ledger: Ledger, logger: Logger) async throws -> CertificateAuthority {
        let authority = try await CertificateAuthority.initialize(
            database: database, ledger: ledger, settings: configuration.ca, keysDirectory: keysPath,
            sealing: .keyFile(path: configuration.sealKeyFile), logger: logger)
        try writePublicFiles(authority.hierarchy)
        let base = configuration.ca.publicBaseURL
        if base.contains("://127.") || base.contains("://localhost") || base.contains("://[::1]") {
            logger.warning("certificates name CRL and OCSP URLs under \(base), which only this machine reaches; set public-base-url to the appliance's public name before issuing certificates others will check (docs/pki.md)")
        }
        return authority
    }

    /// Opens the CA, creating it first when `create` is set and it does not exist yet
    /// (notariumd's first start).
    /// - Throws: `CAError` (`ca-not-initialized`, `ca-key`…) or `DataDirectoryError`.
    public func openCA(configuration: ApplianceConfiguration, ledger: Ledger, create: Bool, logger: Logger) async throws -> CertificateAuthority {
        if create, try !hasCA() {
            return try await createCA(configuration: configuration, ledger: ledger, logger: logger)
        }
        return try CertificateAuthority.open(
            database: database, ledger: ledger, settings: configuration.ca, keysDirectory: keysPath,
            sealing: .keyFile(path: configuration.sealKeyFile), logger: logger)
    }

    /// Writes root-ca.pem, root-ca.cer and ca-chain.pem (issuing CA, then root) to `directory`.
    public func writePublicFiles(_ hierarchy: Hierarchy, to directory: String? = nil) throws(DataDirectoryError) {
        let files: [(String, [UInt8])] = [
            ("root-ca.pem", Array(hierarchy.root.pem.utf8)),
            ("root-ca.cer", hierarchy.root.derBytes),
            ("ca-chain.pem", Array(hierarchy.chainPEM.utf8)),
        ]
        for (name, bytes) in files {
            try writePublicFile(name, bytes, in: directory)
        }
    }

    /// Writes one file of `DATA/public/` (or `directory`), creating the folder if needed.
    func writePublicFile(_ name: String, _ bytes: [UInt8], in directory: String? = nil) throws(DataDirectoryError) {
        let folder = directory ?? publicPath
        if access(folder, F_OK) != 0 && mkdir(folder, 0o755) != 0 {
            throw DataDirectoryError(.cannotCreate, "cannot create \(folder): \(String(cString: strerror(errno)))")
        }
        let file = folder + "/" + name
        guard let handle = fopen(file, "wb") else {
            throw DataDirectoryError(.cannotCreate, "cannot write \(file): \(String(cString: strerror(errno)))")
        }
        let written = fwrite(bytes, 1, bytes.count, handle)
        fclose(handle)
        guard written == bytes.count else { throw DataDirectoryError(.cannotCreate, "cannot write \(file)") }
    }
}
