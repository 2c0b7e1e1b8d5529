import Delivery
import Glibc
import Logging
import Sodium

extension DataDirectory {
    /// The delivery key: the documents being served are encrypted under a subkey of it, and the
    /// portal's link tokens and one-time codes are keyed with others (docs/delivery.md §12).
    public var deliveryKeyFile: String { keysPath + "/delivery.key" }
    static let deliveryKeyLabel = "delivery"

    /// Opens the delivery key, sealed like every other key under the seal key file; creates it
    /// at first use. Losing it makes the held documents unreadable (they are copies: the
    /// platform keeps the originals) and every portal link invalid.
    public func openDeliveryKey(sealKeyFile: String, logger: Logger) throws(DataDirectoryError) -> SymmetricKey {
        do {
            if access(deliveryKeyFile, F_OK) != 0 {
                // A new key would make what the old one protects unreadable without a word:
                // held documents, and every link already sent. Only a directory with none of
                // them gets one.
                let links = try database.scan(in: database.columnFamily(Outbox.family), from: Array("link/".utf8), to: Array("link/".utf8) + [0xFF], limit: 1)
                let documents = try database.scan(in: database.columnFamily(DocumentVault.family), from: [], to: [0xFF], limit: 1)
                guard links.isEmpty && documents.isEmpty else {
                    throw DataDirectoryError(.sealKey, "the delivery key \(deliveryKeyFile) is missing, and this data directory holds documents or portal links made under it; restore the file from the backup (docs/operations.md)")
                }
                let sealed = try SealedKey.seal(SecureBytes.random(count: SymmetricKey.byteCount), label: Self.deliveryKeyLabel, with: .keyFile(path: sealKeyFile))
                try sealed.write(to: deliveryKeyFile)
                logger.notice("created the delivery key", metadata: ["file": "\(deliveryKeyFile)"])
            }
            return try SymmetricKey(SealedKey(contentsOf: deliveryKeyFile).unseal(with: .keyFile(path: sealKeyFile)))
        } catch let error as DataDirectoryError {
            throw error
        } catch let error as SealedKeyError {
            throw DataDirectoryError(.sealKey, "cannot open the delivery key \(deliveryKeyFile): \(error.reason)")
        } catch {
            throw DataDirectoryError(.sealKey, "the delivery key \(deliveryKeyFile) is unusable: \(error)")
        }
    }
}
