import CanonicalJSON
import Foundation
import Ledger
import OpenSSLKit
import RocksDBStore
import Synchronization

/// Idempotency keys of API writes (IETF draft-ietf-httpapi-idempotency-key-header): a client
/// that retries a write with the same `Idempotency-Key` gets the first answer, and the ledger
/// gets one entry.
///
/// A key is scoped to the client that sent it. What is kept, in column family
/// `api-idempotency` under SHA-256(client certificate hash ‖ key), is the request's fingerprint
/// (SHA-256 of method, path and body) and the seq of the entry it made. The record is written
/// in the entry's own batch (`WriteContext.alongside`), so after any crash either both exist or
/// neither does: a retry after a cut connection finds the entry or makes it, never a second one.
/// Requests that failed leave no record; retrying them runs them again.
public final class IdempotencyStore: Sendable {
    public static let family = "api-idempotency"
    /// The draft leaves the length to the server; 255 is what Stripe and others accept.
    public static let maximumKeyLength = 255

    let database: Database
    let records: ColumnFamily
    /// How long a key is honoured.
    public let retentionMilliseconds: Int64
    let clock: @Sendable () -> Int64
    /// Keys of requests being handled now: a second request with one of them gets 409.
    private let inFlight = Mutex<Set<[UInt8]>>([])

    public init(database: Database, retentionHours: Int, clock: @escaping @Sendable () -> Int64 = LedgerTime.nowMilliseconds) throws(AccessError) {
        self.database = database
        do {
            records = try database.columnFamily(Self.family)
        } catch {
            throw AccessError(.storage, "the idempotency keys' column family is missing: \(error)")
        }
        retentionMilliseconds = Int64(retentionHours) * 3_600_000
        self.clock = clock
    }

    /// What a request with an idempotency key finds.
    public enum Lookup: Sendable, Equatable {
        /// First use (or the earlier use expired): handle it, holding the reservation.
        case new(Reservation)
        /// The same request was answered before, with this result.
        case replay(Answer)
        /// The key was used before with another method, path or body.
        case mismatch
        /// A request with this key is being handled right now.
        case inProgress
    }

    /// What a request's first answer was made of, enough to give it again.
    public enum Answer: Sendable, Equatable {
        /// The ledger entry it appended.
        case entry(seq: UInt64)
        /// The certificate it had issued (an API client's registration), by serial.
        case certificate(serialHex: String)
    }

    /// A key held while its request is handled; `release` it when the handler returns.
    public struct Reservation: Sendable, Equatable {
        public let storageKey: [UInt8]
        public let fingerprint: [UInt8]
    }

    /// Whether `key` (checked by `validKey`) was seen from this client, and reserves it if not.
    public func lookup(client: [UInt8], key: String, method: String, path: String, body: [UInt8]) throws(AccessError) -> Lookup {
        let storageKey = TimeStampHash.sha256.digest(client + Array(key.utf8))
        let fingerprint = TimeStampHash.sha256.digest(Array("\(method) \(path)\n".utf8) + body)
        guard inFlight.withLock({ $0.insert(storageKey).inserted }) else { return .inProgress }
        do {
            if let stored = try database.get(storageKey, in: records), let record = Self.decode(stored), record.expires > clock() {
                inFlight.withLock { _ = $0.remove(storageKey) }
                return record.fingerprint == fingerprint ? .replay(record.answer) : .mismatch
            }
        } catch {
            inFlight.withLock { _ = $0.remove(storageKey) }
            throw AccessError(.storage, "cannot read the idempotency keys: \(error)")
        }
        return .new(Reservation(storageKey: storageKey, fingerprint: fingerprint))
    }

    /// The write that records `reservation` as answered with `answer`: for the batch that
    /// makes the answer durable (the entry's own).
    public func record(_ reservation: Reservation, answer: Answer) -> WriteBatch {
        var batch = WriteBatch()
        var members: [String: JSONValue] = [
            "fingerprint": .string(Base64.encode(reservation.fingerprint)),
            "expires": .integer(clock() + retentionMilliseconds),
        ]
        switch answer {
        case .entry(let seq): members["seq"] = .integer(Int64(seq))
        case .certificate(let serial): members["certificate"] = .string(serial)
        }
        let value: JSONValue = .object(members)
        batch.put(reservation.storageKey, value.canonicalBytes, in: records)
        return batch
    }

    public func release(_ reservation: Reservation) {
        inFlight.withLock { _ = $0.remove(reservation.storageKey) }
    }

    /// Deletes the records whose retention has passed; returns how many.
    public func purgeExpired() throws(AccessError) -> Int {
        let now = clock()
        var batch = WriteBatch()
        var count = 0
        do {
            for pair in try database.scan(in: records, from: []) {
                guard let record = Self.decode(pair.value), record.expires > now else {
                    batch.delete(pair.key, in: records)
                    count += 1
                    continue
                }
            }
            if count > 0 { try database.write(batch, durability: .synced) }
        } catch {
            throw AccessError(.storage, "cannot purge the idempotency keys: \(error)")
        }
        return count
    }

    /// An idempotency key is 1 to 255 visible ASCII characters (the draft makes it a
    /// Structured Fields string; clients send UUIDs). Returns why not, or nil when valid.
    public static func problem(with key: String) -> String? {
        guard !key.isEmpty, key.utf8.count <= maximumKeyLength else { return "an Idempotency-Key is 1 to \(maximumKeyLength) characters" }
        guard key.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return "an Idempotency-Key holds printable ASCII only" }
        return nil
    }

    private static func decode(_ bytes: [UInt8]) -> (fingerprint: [UInt8], answer: Answer, expires: Int64)? {
        guard let value = try? CanonicalJSON.parse(bytes), let members = value.objectValue,
              let fingerprint = members["fingerprint"]?.stringValue.flatMap(Base64.decode), let expires = members["expires"]?.integerValue
        else { return nil }
        if let seq = members["seq"]?.integerValue, seq >= 0 { return (fingerprint, .entry(seq: UInt64(seq)), expires) }
        if let serial = members["certificate"]?.stringValue { return (fingerprint, .certificate(serialHex: serial), expires) }
        return nil
    }
}
