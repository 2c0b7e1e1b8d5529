import CanonicalJSON
import Foundation
import Records
import Ledger
import OpenSSLKit
import RocksDBStore
import Sodium

/// What is still to be sent, durably: at least once on the wire, exactly once in the ledger.
///
/// Column family `delivery`:
/// - `item/<id>` → the item (canonical JSON);
/// - `due/<next, 8 bytes big-endian ms>/<id>` → empty, for every item not yet done or failed,
///   so that what is due is a prefix scan in time order;
/// - `plan/<service>` → the service's delivery plan (`DeliveryPlan`);
/// - `envelope/<envelope id>` → the id of the item whose message carried it (for bounces);
/// - `bounce/<item id>` → the seq of the failure event a bounce of it was recorded as.
///
/// An item moves `pending` → `sending` (a synced write before anything goes on the wire, with
/// its next attempt already set: if the process dies while sending, the item comes due again
/// and is sent again, with the same Message-ID) → `done` or `failed`. `done` and `failed` are
/// written only in the batch of the ledger event that records the outcome, so the item and the
/// event are durable together: a crash before that batch sends the message again and records
/// one event; a crash after it never sends again.
public struct Outbox: Sendable {
    public static let family = "delivery"

    public enum State: String, Sendable {
        case pending, sending, done, failed
        /// The SMS gateway took the message; its delivery report decides (docs/delivery.md §11).
        /// Still due: if no report comes by `next`, the message is recorded as not delivered.
        case sent
    }

    public enum Kind: String, Sendable {
        /// The notice of service on a channel (with or without the documents).
        case notice
        /// A reminder of a notice nobody answered yet (the plan's `reminders`).
        case reminder
    }

    public struct Item: Sendable, Equatable {
        public let id: String
        public let service: String
        public let channel: ServiceChannel
        public let kind: Kind
        public var state: State
        /// Attempts made so far (a `sending` write counts one).
        public var attempts: Int
        /// When the item is next due (UTC ms).
        public var next: Int64
        /// The ledger entry that recorded the outcome, once done or failed.
        public var seq: UInt64?
        /// Why the last attempt did not succeed.
        public var lastError: String?
        /// The provider's id for the message the recorded event rests on (the relay's queue
        /// id): a later bounce's failure event names it, so that the verifier knows which
        /// notice failed (docs/records.md §2.4.2).
        public var evidenceID: String?
        /// The ENVID the message is sent with (RFC 3461): random, made at the first attempt
        /// and kept for the retries, and never in the message itself, so that only the relay's
        /// report can name it (a recipient cannot forge a bounce of the notice).
        public var envelopeID: String?

        public init(id: String, service: String, channel: ServiceChannel, kind: Kind, next: Int64) {
            self.id = id
            self.service = service
            self.channel = channel
            self.kind = kind
            self.state = .pending
            self.attempts = 0
            self.next = next
        }

        var json: JSONValue {
            var members: [String: JSONValue] = [
                "id": .string(id), "service": .string(service), "channel": .string(channel.rawValue), "kind": .string(kind.rawValue),
                "state": .string(state.rawValue), "attempts": .integer(Int64(attempts)), "next": .integer(next),
            ]
            if let seq { members["seq"] = .integer(Int64(seq)) }
            if let lastError { members["lastError"] = .string(lastError) }
            if let evidenceID { members["evidenceId"] = .string(evidenceID) }
            if let envelopeID { members["envelopeId"] = .string(envelopeID) }
            return .object(members)
        }

        init(json bytes: [UInt8]) throws(DeliveryError) {
            guard let value = try? CanonicalJSON.parse(bytes), case .object(let members) = value,
                  case .string(let id)? = members["id"], case .string(let service)? = members["service"],
                  case .string(let channelName)? = members["channel"], let channel = ServiceChannel(rawValue: channelName),
                  case .string(let kindName)? = members["kind"], let kind = Kind(rawValue: kindName),
                  case .string(let stateName)? = members["state"], let state = State(rawValue: stateName),
                  case .integer(let attempts)? = members["attempts"], case .integer(let next)? = members["next"]
            else { throw DeliveryError(.storage, "an outbox item is unreadable") }
            self.init(id: id, service: service, channel: channel, kind: kind, next: next)
            self.state = state
            self.attempts = Int(attempts)
            if case .integer(let seq)? = members["seq"] { self.seq = UInt64(seq) }
            if case .string(let error)? = members["lastError"] { self.lastError = error }
            if case .string(let id)? = members["evidenceId"] { self.evidenceID = id }
            if case .string(let id)? = members["envelopeId"] { self.envelopeID = id }
        }

        /// The Message-ID every attempt of this item carries, so that the copies a retry puts
        /// on the wire are one message to the recipient's mail program and to a bounce.
        public func messageID(domain: String) -> String {
            "notarium-" + lowerHex(Array(SHA256.hash(Array(id.utf8)).prefix(16))) + "@" + domain
        }
    }

    let database: Database
    let column: ColumnFamily

    public init(database: Database) throws(DeliveryError) {
        self.database = database
        do {
            column = try database.columnFamily(Self.family)
        } catch {
            throw DeliveryError(.storage, "the data directory has no \(Self.family) column family: \(error)")
        }
    }

    static func itemKey(_ id: String) -> [UInt8] { Array("item/".utf8) + Array(id.utf8) }
    static func dueKey(_ next: Int64, _ id: String) -> [UInt8] { timeKey("due/", next, id) }

    /// A key of a time index: `prefix`, the time (8 bytes big-endian ms, so keys sort by
    /// time), the id.
    static func timeKey(_ prefix: String, _ time: Int64, _ id: String) -> [UInt8] {
        Array(prefix.utf8) + timeBytes(time) + Array(id.utf8)
    }

    /// A time (UTC ms) as 8 bytes big-endian, so that keys and values sort by time.
    static func timeBytes(_ time: Int64) -> [UInt8] { LedgerStorage.bigEndian(UInt64(bitPattern: time)) }

    static func time<Bytes: Collection<UInt8>>(from bytes: Bytes) -> Int64 {
        Int64(bitPattern: LedgerStorage.decodeBigEndian(bytes.prefix(8)) ?? 0)
    }

    /// The (time, id) pairs of the time index `prefix`, earliest first, up to `through`.
    func timeIndex(_ prefix: String, through: Int64 = .max, limit: Int = .max) throws(DeliveryError) -> [(time: Int64, id: String)] {
        let start = Array(prefix.utf8)
        do {
            return try database.scan(in: column, from: start, to: Self.timeKey(prefix, through, "") + [0xFF], limit: limit).map { pair in
                (Self.time(from: pair.key.dropFirst(start.count)), String(decoding: pair.key.dropFirst(start.count + 8), as: UTF8.self))
            }
        } catch {
            throw DeliveryError(.storage, "cannot read the delivery index \(prefix): \(error)")
        }
    }

    /// The values under `prefix`, each read by `decode`.
    func values<T>(under prefix: [UInt8], _ decode: ([UInt8]) throws(DeliveryError) -> T) throws(DeliveryError) -> [T] {
        let pairs: [KeyValue]
        do {
            pairs = try database.scan(in: column, from: prefix, to: prefix + [0xFF])
        } catch {
            throw DeliveryError(.storage, "cannot read the delivery records under \(String(decoding: prefix, as: UTF8.self)): \(error)")
        }
        var values: [T] = []
        for pair in pairs { values.append(try decode(pair.value)) }
        return values
    }

    /// The writes that put `item` in the outbox (for a batch of the caller's).
    public func enqueue(_ item: Item) -> WriteBatch {
        var batch = WriteBatch()
        batch.put(Self.itemKey(item.id), item.json.canonicalBytes, in: column)
        batch.put(Self.dueKey(item.next, item.id), [], in: column)
        return batch
    }

    public func item(_ id: String) throws(DeliveryError) -> Item? {
        let bytes: [UInt8]?
        do {
            bytes = try database.get(Self.itemKey(id), in: column)
        } catch {
            throw DeliveryError(.storage, "cannot read outbox item \(id): \(error)")
        }
        return try bytes.map { bytes throws(DeliveryError) in try Item(json: bytes) }
    }

    /// Items of `service`, in id order.
    public func items(service: String) throws(DeliveryError) -> [Item] {
        try values(under: Self.itemKey(service + "|")) { bytes throws(DeliveryError) in try Item(json: bytes) }
    }

    /// The service an item belongs to: its id is `<service>|<channel>|<kind>`, and a service
    /// identifier has no `|`.
    static func service(ofItem id: String) -> String {
        String(id.prefix { $0 != "|" })
    }

    /// Moves `item` to `state` with `next` as its next due time, as one write of its own (with
    /// `extra` writes). `sending` is synced before anything goes on the wire.
    public func update(_ item: Item, to changed: Item, with extra: WriteBatch = WriteBatch()) throws(DeliveryError) {
        var batch = updateBatch(item, to: changed)
        batch.append(contentsOf: extra)
        do {
            try database.write(batch, durability: .synced)
        } catch {
            throw DeliveryError(.storage, "cannot update outbox item \(item.id): \(error)")
        }
    }

    /// The writes that replace `item` by `changed`, for the batch of the ledger event that
    /// records its outcome (done, failed) or for a write of its own.
    public func updateBatch(_ item: Item, to changed: Item) -> WriteBatch {
        var batch = WriteBatch()
        batch.delete(Self.dueKey(item.next, item.id), in: column)
        batch.put(Self.itemKey(changed.id), changed.json.canonicalBytes, in: column)
        if changed.state == .pending || changed.state == .sending || changed.state == .sent {
            batch.put(Self.dueKey(changed.next, changed.id), [], in: column)
        }
        return batch
    }

    static func envelopeKey(_ envelopeID: String) -> [UInt8] { Array("envelope/".utf8) + Array(envelopeID.utf8) }
    static func bounceKey(_ itemID: String) -> [UInt8] { Array("bounce/".utf8) + Array(itemID.utf8) }

    /// The write that lets a bounce carrying `envelopeID` find `item`.
    func remember(envelopeID: String, for item: Item) -> WriteBatch {
        var batch = WriteBatch()
        batch.put(Self.envelopeKey(envelopeID), Array(item.id.utf8), in: column)
        return batch
    }

    /// The item whose message carried `envelopeID`, if any.
    func item(envelopeID: String) throws(DeliveryError) -> Item? {
        let id: [UInt8]?
        do {
            id = try database.get(Self.envelopeKey(envelopeID), in: column)
        } catch {
            throw DeliveryError(.storage, "cannot read the outbox: \(error)")
        }
        guard let id else { return nil }
        return try item(String(decoding: id, as: UTF8.self))
    }

    /// The seq of the failure event already recorded for a bounce of `itemID`.
    func bounceRecorded(_ itemID: String) throws(DeliveryError) -> Bool {
        do {
            return try database.get(Self.bounceKey(itemID), in: column) != nil
        } catch {
            throw DeliveryError(.storage, "cannot read the outbox: \(error)")
        }
    }
}
