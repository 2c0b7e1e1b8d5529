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
                let sealed = try SealedKey.seal(SecureBytes.random(count: SymmetricKey.byteCount), label: Self.deliveryKeyLabel, with: .keyFile(path: sealKeyFile))
                try sealed.write(to: deliveryKeyFile)
                logger.notice("created the delivery key", metadata: ["file": "\(deliveryKeyFile)"])
            }
            return try SymmetricKey(SealedKey(contentsOf: deliveryKeyFile).unseal(with: .keyFile(path: sealKeyFile)))
        } catch let error as SealedKeyError {
            throw DataDirectoryError(.sealKey, "cannot open the delivery key \(deliveryKeyFile): \(error.reason)")
        } catch {
            throw DataDirectoryError(.sealKey, "the delivery key \(deliveryKeyFile) is unusable: \(error)")
        }
    }
}
