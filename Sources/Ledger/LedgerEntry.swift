import CanonicalJSON
import Glibc

/// What an entry records. Later issues define each type's body; the ledger checks the name only.
public struct EntryType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(rawValue: String) {
        guard EntryType.known.contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    private init(known name: String) { rawValue = name }

    public static let evidence = EntryType(known: "evidence")
    public static let service = EntryType(known: "service")
    public static let award = EntryType(known: "award")
    public static let certificateIssued = EntryType(known: "certificate-issued")
    public static let certificateRevoked = EntryType(known: "certificate-revoked")
    public static let keyCertified = EntryType(known: "key-certified")

    /// Every type this build writes and accepts. A new type is added here and in
    /// docs/ledger-format.md; an unknown one is refused rather than stored unexplained.
    public static let known: [String] = ["evidence", "service", "award", "certificate-issued", "certificate-revoked", "key-certified"]

    public var description: String { rawValue }

    /// Entries that people act on (evidence, service events, awards) get their own RFC 3161
    /// token over their leaf hash; the others are time-proven by their checkpoint's token.
    public var hasOwnTimestamp: Bool { self == .evidence || self == .service || self == .award }
}

/// One ledger entry as stored: the canonical JSON object
/// `{"body":{…},"prev":"<base64>","seq":N,"time":"YYYY-MM-DDTHH:MM:SS.mmmZ","type":"…"}`.
public struct LedgerEntry: Sendable, Equatable {
    /// The canonical bytes: what the leaf hash commits to.
    public let bytes: [UInt8]
    public let type: EntryType
    public let seq: UInt64
    /// RFC 3339 UTC with milliseconds.
    public let time: String
    /// The leaf hash of entry seq − 1; 32 zero bytes for entry 0.
    public let prev: [UInt8]
    public let body: JSONValue

    /// The largest canonical entry the ledger stores. Records hold digests, signatures and
    /// certificates, never documents; 128 KiB leaves room for an award with many signers.
    public static let maximumBytes = 128 * 1024
    /// Bodies nest at most this deep.
    public static let maximumBodyDepth = 32
    /// `prev` of entry 0.
    public static let genesisPrev = [UInt8](repeating: 0, count: 32)

    /// RFC 9162 leaf hash of the entry's bytes.
    public var leafHash: [UInt8] { Merkle.leafHash(bytes) }

    /// The canonical bytes of a new entry. Members are written in canonical (sorted) order:
    /// body, prev, seq, time, type; `bodyBytes` must already be canonical.
    static func encode(type: EntryType, seq: UInt64, time: String, prev: [UInt8], bodyBytes: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(bodyBytes.count + 160)
        bytes += Array("{\"body\":".utf8)
        bytes += bodyBytes
        bytes += Array(",\"prev\":\"\(Base64.encode(prev))\",\"seq\":\(seq),\"time\":\"\(time)\",\"type\":\"\(type.rawValue)\"}".utf8)
        return bytes
    }

    /// Checks a body before it is queued, so that a bad body fails its own append only. Public
    /// so that a writer can refuse an oversized record before doing expensive checks on it.
    /// - Returns: the body's canonical bytes.
    public static func validatedBody(_ body: JSONValue) throws(LedgerError) -> [UInt8] {
        guard case .object = body else {
            throw LedgerError(.invalidEntry, "the body must be a JSON object")
        }
        // One pass writes the canonical form and refuses what could not be read back.
        let bytes: [UInt8]
        do {
            bytes = try body.canonicalBytes(maximumDepth: maximumBodyDepth)
        } catch {
            throw LedgerError(.invalidEntry, "the body cannot be stored: \(error.reason)")
        }
        // The envelope around the body is at most ~200 bytes.
        guard bytes.count + 200 <= maximumBytes else {
            throw LedgerError(.invalidEntry, "the body is \(bytes.count) bytes in canonical form; an entry may be at most \(maximumBytes) bytes")
        }
        return bytes
    }

    /// Reads stored (or presented) entry bytes, refusing anything that is not exactly what the
    /// ledger writes.
    public init(parsing bytes: [UInt8]) throws(LedgerError) {
        guard bytes.count <= Self.maximumBytes else {
            throw LedgerError(.notCanonical, "the entry is \(bytes.count) bytes, more than \(Self.maximumBytes)")
        }
        let value: JSONValue
        do {
            value = try CanonicalJSON.parseCanonical(bytes)
        } catch {
            throw LedgerError(.notCanonical, "the entry is not canonical JSON: \(error)")
        }
        guard case .object(let members) = value else { throw LedgerError(.notCanonical, "the entry is not a JSON object") }
        let expected: Set<String> = ["body", "prev", "seq", "time", "type"]
        guard Set(members.keys) == expected else {
            throw LedgerError(.notCanonical, "an entry has exactly the members body, prev, seq, time, type; this one has \(members.keys.sorted().joined(separator: ", "))")
        }
        guard let typeName = members["type"]?.stringValue, let type = EntryType(rawValue: typeName) else {
            throw LedgerError(.notCanonical, "unknown entry type \(members["type"].map { $0.canonicalString } ?? "")")
        }
        guard let seq = members["seq"]?.integerValue, seq >= 0 else {
            throw LedgerError(.notCanonical, "seq must be a non-negative integer")
        }
        guard let time = members["time"]?.stringValue, LedgerTime.isValid(time) else {
            throw LedgerError(.notCanonical, "time must be RFC 3339 UTC with milliseconds (YYYY-MM-DDTHH:MM:SS.mmmZ)")
        }
        guard let prevText = members["prev"]?.stringValue, let prev = Base64.decode(prevText), prev.count == 32 else {
            throw LedgerError(.notCanonical, "prev must be the base64 of 32 bytes")
        }
        guard let body = members["body"], case .object = body else {
            throw LedgerError(.notCanonical, "body must be a JSON object")
        }
        guard body.depth <= Self.maximumBodyDepth else {
            throw LedgerError(.notCanonical, "the body nests deeper than \(Self.maximumBodyDepth) levels")
        }
        self.bytes = bytes
        self.type = type
        self.seq = UInt64(seq)
        self.time = time
        self.prev = prev
        self.body = body
    }
}

/// Entry times: RFC 3339, UTC, milliseconds, e.g. `2026-11-23T09:41:07.250Z`. Fixed width, so
/// text order is time order.
public enum LedgerTime {
    /// Milliseconds since the Unix epoch from the system's real-time clock.
    public static func nowMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    public static func format(milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds % 1000), 3))Z"
    }

    /// Milliseconds since the epoch of a valid entry time, or nil.
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 24 else { return nil }
        let shape = Array("dddd-dd-ddTdd:dd:dd.dddZ".utf8)
        for (byte, expected) in zip(bytes, shape) {
            if expected == UInt8(ascii: "d") {
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            } else if byte != expected {
                return nil
            }
        }
        func number(_ range: Range<Int>) -> Int32 {
            bytes[range].reduce(0) { $0 * 10 + Int32($1 - UInt8(ascii: "0")) }
        }
        var parts = tm()
        parts.tm_year = number(0..<4) - 1900
        parts.tm_mon = number(5..<7) - 1
        parts.tm_mday = number(8..<10)
        parts.tm_hour = number(11..<13)
        parts.tm_min = number(14..<16)
        parts.tm_sec = number(17..<19)
        let seconds = timegm(&parts)
        let milliseconds = Int64(seconds) * 1000 + Int64(number(20..<23))
        // timegm normalizes out-of-range fields (Feb 30 → Mar 2); a valid time survives a round
        // trip. Times before 1970 are not entry times (the appliance's clock is past them).
        return milliseconds >= 0 && format(milliseconds: milliseconds) == text ? milliseconds : nil
    }

    public static func isValid(_ text: String) -> Bool { parse(text) != nil }
}
