import Foundation
import OpenSSLKit
import RocksDBStore
import Sodium

/// The documents being served, held encrypted at rest until the service no longer needs them
/// (docs/delivery.md §12). The ledger holds only their digests; the recipient downloads the
/// bytes from the portal, and a notice that is service by arrival carries them attached.
///
/// Column family `documents`:
/// - `doc/<sha-256 hex>` → XChaCha20-Poly1305 of the bytes under the vault's key, with the
///   digest as associated data (a value moved to another key does not open);
/// - `uploaded/<sha-256 hex>` → when it was stored (8 bytes big-endian ms);
/// - `ref/<sha-256 hex>/<service>` → until when that service holds it (8 bytes, ms).
///
/// A document is deleted by `sweep` once no service holds it: when every holding service's
/// retention has ended, or a day after its upload if no service ever named it.
public final class DocumentVault: Sendable {
    public static let family = "documents"
    /// The largest document held: a notice's attachments must also pass through mail relays,
    /// which commonly refuse messages over 20–25 MB.
    public static let maximumDocumentBytes = 16 << 20
    /// How long an upload waits for a service to name it.
    public static let unreferencedLifetimeMilliseconds: Int64 = 24 * 3_600_000

    let database: Database
    let column: ColumnFamily
    let key: SymmetricKey
    /// How long a service holds its documents, from its opening (`delivery.documents.retention-days`).
    public let retentionMilliseconds: Int64

    /// `key`: the delivery key; the vault uses its own subkey of it.
    public init(database: Database, key: SymmetricKey, retentionMilliseconds: Int64 = 90 * 86_400_000) throws(DeliveryError) {
        self.database = database
        self.retentionMilliseconds = retentionMilliseconds
        self.key = key.subkey(1, context: "NTRMDOCS")
        do {
            column = try database.columnFamily(Self.family)
        } catch {
            throw DeliveryError(.storage, "the data directory has no \(Self.family) column family: \(error)")
        }
    }

    /// The lower-case hex SHA-256 that names a document here.
    public static func name(of bytes: [UInt8]) -> String { lowerHex(SHA256.hash(bytes)) }

    static func documentKey(_ name: String) -> [UInt8] { Array("doc/\(name)".utf8) }
    static func uploadedKey(_ name: String) -> [UInt8] { Array("uploaded/\(name)".utf8) }
    static func referenceKey(_ name: String, _ service: String) -> [UInt8] { Array("ref/\(name)/\(service)".utf8) }

    /// Stores `bytes` (synced) and returns their SHA-256 in hex. Storing the same bytes again
    /// changes nothing but the upload time.
    @discardableResult
    public func store(_ bytes: [UInt8], now: Int64) throws(DeliveryError) -> String {
        guard bytes.count <= Self.maximumDocumentBytes else {
            throw DeliveryError(.documentTooLarge, "a document is at most \(Self.maximumDocumentBytes) bytes; this one is \(bytes.count)")
        }
        let name = Self.name(of: bytes)
        var batch = WriteBatch()
        if try !holds(name) {
            batch.put(Self.documentKey(name), key.seal(bytes, associatedData: Array(name.utf8)), in: column)
        }
        batch.put(Self.uploadedKey(name), Outbox.timeBytes(now), in: column)
        try write(batch, "store document \(name)")
        return name
    }

    public func holds(_ name: String) throws(DeliveryError) -> Bool {
        do {
            return try database.get(Self.documentKey(name), in: column) != nil
        } catch {
            throw DeliveryError(.storage, "cannot read the document vault: \(error)")
        }
    }

    /// The bytes of document `name`, checked against their name; nil when not (or no longer) held.
    public func document(_ name: String) throws(DeliveryError) -> [UInt8]? {
        let sealed: [UInt8]?
        do {
            sealed = try database.get(Self.documentKey(name), in: column)
        } catch {
            throw DeliveryError(.storage, "cannot read the document vault: \(error)")
        }
        guard let sealed else { return nil }
        let bytes: [UInt8]
        do {
            bytes = try key.open(sealed, associatedData: Array(name.utf8))
        } catch {
            throw DeliveryError(.storage, "document \(name) does not decrypt under this appliance's delivery key: \(error.reason)")
        }
        guard Self.name(of: bytes) == name else { throw DeliveryError(.storage, "document \(name) decrypts to other bytes") }
        return bytes
    }

    /// The writes by which `service` holds document `name` until `until` (for its opening's batch).
    public func hold(_ name: String, for service: String, until: Int64) -> WriteBatch {
        var batch = WriteBatch()
        batch.put(Self.referenceKey(name, service), Outbox.timeBytes(until), in: column)
        return batch
    }

    /// Deletes what no service holds any more; returns how many documents it deleted.
    @discardableResult
    public func sweep(now: Int64) throws(DeliveryError) -> Int {
        var batch = WriteBatch()
        var named: Set<String> = []
        var held: Set<String> = []
        for (key, value) in try scan("ref/") {
            guard let name = key.dropFirst("ref/".count).split(separator: "/", maxSplits: 1).first.map(String.init) else { continue }
            named.insert(name)
            if Outbox.time(from: value) <= now {
                batch.delete(Array(key.utf8), in: column)
            } else {
                held.insert(name)
            }
        }
        var deleted = 0
        for (key, value) in try scan("uploaded/") {
            let name = String(key.dropFirst("uploaded/".count))
            // Named by a service and held by none any more, or never named and a day old.
            if !held.contains(name), named.contains(name) || Outbox.time(from: value) + Self.unreferencedLifetimeMilliseconds <= now {
                batch.delete(Self.documentKey(name), in: column)
                batch.delete(Self.uploadedKey(name), in: column)
                deleted += 1
            }
        }
        if !batch.isEmpty { try write(batch, "sweep the document vault") }
        return deleted
    }

    func scan(_ prefix: String) throws(DeliveryError) -> [(key: String, value: [UInt8])] {
        do {
            return try database.scan(in: column, from: Array(prefix.utf8), to: Array(prefix.utf8) + [0xFF]).map { (String(decoding: $0.key, as: UTF8.self), $0.value) }
        } catch {
            throw DeliveryError(.storage, "cannot read the document vault: \(error)")
        }
    }

    func write(_ batch: WriteBatch, _ what: String) throws(DeliveryError) {
        do {
            try database.write(batch, durability: .synced)
        } catch {
            throw DeliveryError(.storage, "cannot \(what): \(error)")
        }
    }
}
