import CanonicalJSON
import RocksDBStore

/// Where a service's events and an award are in the ledger, so that a bundle is exported
/// without scanning the ledger. Column family `notary-index`, written in the entry's own batch
/// (the ledger hands the seq to `Ledger.append(keyedBySeq:)`), so an entry and its index entry
/// are durable together:
/// - `service/<service id>` 0x00 `<seq, 8 bytes big-endian>` → empty, one key per event, in
///   ledger order under a prefix scan;
/// - `award/<award id>` → the seq, 8 bytes big-endian.
/// Everything here can be rebuilt from the ledger (the ledger is the record; this is a lookup).
public struct RecordIndex: Sendable {
    public static let family = "notary-index"

    let database: Database
    let column: ColumnFamily

    public init(database: Database) throws(NotaryError) {
        self.database = database
        column = try notaryFamily(Self.family, in: database)
    }

    static func servicePrefix(_ id: String) -> [UInt8] { Array("service/".utf8) + Array(id.utf8) + [0] }
    static func awardKey(_ id: String) -> [UInt8] { Array("award/".utf8) + Array(id.utf8) }
    static func seqBytes(_ seq: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: seq >> (56 - 8 * $0)) } }

    /// The index write for event `seq` of service `id` (for `Ledger.append(keyedBySeq:)`).
    public func serviceEvent(_ id: String, seq: UInt64) -> WriteBatch {
        var batch = WriteBatch()
        batch.put(Self.servicePrefix(id) + Self.seqBytes(seq), [], in: column)
        return batch
    }

    /// The index write for award `id` at entry `seq`.
    public func award(_ id: String, seq: UInt64) -> WriteBatch {
        var batch = WriteBatch()
        batch.put(Self.awardKey(id), Self.seqBytes(seq), in: column)
        return batch
    }

    /// The seqs of a service's events, in ledger order; empty for an unknown service.
    public func serviceEvents(_ id: String) throws(NotaryError) -> [UInt64] {
        let prefix = Self.servicePrefix(id)
        do {
            return try database.scan(in: column, from: prefix, to: prefix + [UInt8](repeating: 0xFF, count: 9)).map { pair in
                pair.key.suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            }
        } catch {
            throw NotaryError(.storage, "cannot read the index of service \(id): \(error)")
        }
    }

    public func awardEntry(_ id: String) throws(NotaryError) -> UInt64? {
        do {
            guard let bytes = try database.get(Self.awardKey(id), in: column) else { return nil }
            guard bytes.count == 8 else { throw NotaryError(.storage, "the index of award \(id) is damaged") }
            return bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        } catch let error as NotaryError {
            throw error
        } catch {
            throw NotaryError(.storage, "cannot read the index of award \(id): \(error)")
        }
    }
}

/// The recipients' clear addresses and the salts of their commitments: personal data, kept
/// apart from the ledger so that it can be erased (GDPR art. 17, PIPL art. 47) while the
/// ledger, which nothing erases, keeps only commitments. Column family `notary-recipients`:
/// `<service id>` 0x00 `<channel>` → `{"address":…,"salt":<base64>}` (canonical JSON), written
/// in the batch of the service's opening entry.
///
/// Erasing deletes the keys; RocksDB drops the old values at its next compaction of those
/// files, which `erase` asks for at once.
public struct RecipientVault: Sendable {
    public static let family = "notary-recipients"

    let database: Database
    let column: ColumnFamily

    public init(database: Database) throws(NotaryError) {
        self.database = database
        column = try notaryFamily(Self.family, in: database)
    }

    public struct Disclosure: Sendable, Equatable {
        public let channel: String
        public let address: String
        public let salt: [UInt8]
    }

    static func prefix(_ service: String) -> [UInt8] { Array(service.utf8) + [0] }

    func store(service: String, channel: String, address: String, salt: [UInt8], in batch: inout WriteBatch) {
        let value = JSONValue.object(["address": .string(address), "salt": .string(Base64.encode(salt))]).canonicalBytes
        batch.put(Self.prefix(service) + Array(channel.utf8), value, in: column)
    }

    /// The recipients of a service, for whoever must check a commitment (a court).
    public func disclose(service: String) throws(NotaryError) -> [Disclosure] {
        let prefix = Self.prefix(service)
        let pairs: [KeyValue]
        do {
            pairs = try database.scan(in: column, from: prefix, to: prefix + [0xFF])
        } catch {
            throw NotaryError(.storage, "cannot read the recipients of service \(service): \(error)")
        }
        return try pairs.map { pair throws(NotaryError) in
            guard let value = try? CanonicalJSON.parse(pair.value), case .string(let address)? = value["address"],
                  case .string(let saltText)? = value["salt"], let salt = Base64.decode(saltText) else {
                throw NotaryError(.storage, "a recipient record of service \(service) is damaged")
            }
            return Disclosure(channel: String(decoding: pair.key.dropFirst(prefix.count), as: UTF8.self), address: address, salt: salt)
        }
    }

    /// Deletes the recipients of a service, durably. Returns how many were deleted.
    public func erase(service: String) throws(NotaryError) -> Int {
        let prefix = Self.prefix(service)
        do {
            let pairs = try database.scan(in: column, from: prefix, to: prefix + [0xFF])
            var batch = WriteBatch()
            for pair in pairs { batch.delete(pair.key, in: column) }
            try database.write(batch, durability: .synced)
            try database.compact(in: column, from: prefix, to: prefix + [0xFF])
            return pairs.count
        } catch {
            throw NotaryError(.storage, "cannot erase the recipients of service \(service): \(error)")
        }
    }
}
