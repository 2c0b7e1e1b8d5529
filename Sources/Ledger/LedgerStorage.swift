import CanonicalJSON
import RocksDBStore

/// Where the ledger keeps what, in RocksDB. docs/ledger-format.md §Storage mirrors this.
///
/// | column family        | key                            | value                                 |
/// |----------------------|--------------------------------|---------------------------------------|
/// | `ledger-entries`     | seq, u64 big-endian            | the entry's canonical bytes           |
/// | `ledger-tree`        | post-order position, u64 BE    | 32-byte hash of that perfect subtree  |
/// | `ledger-checkpoints` | tree size, u64 BE              | checkpoint record, canonical JSON     |
/// | `ledger-timestamps`  | `c` ‖ size BE / `e` ‖ seq BE   | RFC 3161 token (DER), TSA issue       |
/// | `ledger-state`       | `head`, `identity`, `latest-checkpoint` | canonical JSON               |
///
/// Big-endian keys sort in numeric order, so a cursor walks entries and nodes in sequence.
public enum LedgerStorage {
    public static let entriesFamily = "ledger-entries"
    public static let treeFamily = "ledger-tree"
    public static let checkpointsFamily = "ledger-checkpoints"
    public static let timestampsFamily = "ledger-timestamps"
    public static let stateFamily = "ledger-state"

    /// Every column family the ledger needs; the data directory creates them.
    public static let columnFamilies = [entriesFamily, treeFamily, checkpointsFamily, timestampsFamily, stateFamily]

    static let headKey = Array("head".utf8)
    static let identityKey = Array("identity".utf8)
    static let latestCheckpointKey = Array("latest-checkpoint".utf8)

    /// 8 bytes, most significant first: keys that sort as the numbers do.
    public static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(56 - 8 * $0)) }
    }

    public static func decodeBigEndian(_ bytes: some Collection<UInt8>) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func entryKey(_ seq: UInt64) -> [UInt8] { bigEndian(seq) }

    /// A tree node's key: its position in post-order, the order in which appends complete nodes
    /// (the numbering of Go's `tlog.StoredHashIndex`). Keys therefore only grow, like entry keys,
    /// so RocksDB's flushed files never overlap and compaction moves them instead of rewriting
    /// them; a level-major key made every flush overlap every other and the tree was rewritten
    /// again and again as it grew.
    public static func nodeKey(level: Int, index: UInt64) -> [UInt8] { bigEndian(storedIndex(level: level, index: index)) }

    /// Post-order position of node (level, index): the number of nodes completed before it.
    public static func storedIndex(level: Int, index: UInt64) -> UInt64 {
        // Descend to the node's last leaf, (index + 1)·2^level − 1. Leaf n is stored at position
        // n + ⌊n/2⌋ + ⌊n/4⌋ + … (the leaves and the nodes completed before it), and appending it
        // completes `level` more nodes up to this one, stored right after it.
        var leaf = index
        for _ in 0..<level { leaf = leaf << 1 | 1 }
        var position: UInt64 = 0
        var n = leaf
        while n > 0 {
            position += n
            n >>= 1
        }
        return position + UInt64(level)
    }

    /// The number of nodes a tree of `size` leaves stores: 2·size − popcount(size).
    static func storedNodeCount(size: UInt64) -> UInt64 { 2 * size - UInt64(size.nonzeroBitCount) }

    static func checkpointKey(size: UInt64) -> [UInt8] { bigEndian(size) }

    /// `{"size":N}`: every entry below N whose type needs its own token has one.
    static let timestampsThroughKey = Array("timestamps-through".utf8)
    /// `{"size":N}`: every checkpoint of size up to N has its token.
    static let checkpointTimestampsThroughKey = Array("checkpoint-timestamps-through".utf8)

    /// Key of a checkpoint's time-stamp token.
    public static func checkpointTimestampKey(size: UInt64) -> [UInt8] { [UInt8(ascii: "c")] + bigEndian(size) }

    /// Key of an entry's time-stamp token.
    public static func entryTimestampKey(seq: UInt64) -> [UInt8] { [UInt8(ascii: "e")] + bigEndian(seq) }

    /// `{"size":N}`: the committed tree size, written in the same batch as the entries.
    static func sizeRecord(_ size: UInt64) -> [UInt8] {
        JSONValue.object(["size": .integer(Int64(size))]).canonicalBytes
    }

    static func parseSizeRecord(_ bytes: [UInt8], what: String) throws(LedgerError) -> UInt64 {
        guard let value = try? CanonicalJSON.parseCanonical(bytes), let members = value.objectValue, members.count == 1,
            let size = members["size"]?.integerValue, size >= 0
        else {
            throw LedgerError(.corrupt, "the \(what) record is not {\"size\":N} in canonical JSON")
        }
        return UInt64(size)
    }
}

/// The ledger's name and checkpoint key, fixed when the ledger is created: every checkpoint
/// names the origin and verifies with this key.
public struct LedgerIdentity: Sendable, Equatable {
    /// The checkpoint origin line, also the note key name (e.g. `notary.example.org/notarium`).
    public let origin: String
    /// The C2SP verifier key of the checkpoint key.
    public let verifier: NoteVerifier

    public init(origin: String, verifier: NoteVerifier) throws(LedgerError) {
        guard SignedNote.isValidKeyName(origin) else {
            throw LedgerError(.key, "the origin \"\(origin)\" is not usable as a note key name (no spaces, no '+', not empty)")
        }
        guard verifier.name == origin else {
            throw LedgerError(.key, "the verifier key is named \(verifier.name), not the origin \(origin)")
        }
        self.origin = origin
        self.verifier = verifier
    }

    var record: [UInt8] {
        JSONValue.object(["origin": .string(origin), "verifierKey": .string(verifier.text)]).canonicalBytes
    }

    init(record bytes: [UInt8]) throws(LedgerError) {
        guard let value = try? CanonicalJSON.parseCanonical(bytes), let members = value.objectValue, members.count == 2,
            let origin = members["origin"]?.stringValue, let key = members["verifierKey"]?.stringValue
        else {
            throw LedgerError(.corrupt, "the ledger identity record is not {\"origin\",\"verifierKey\"} in canonical JSON")
        }
        let verifier: NoteVerifier
        do {
            verifier = try NoteVerifier(parsing: key)
        } catch {
            throw LedgerError(.corrupt, "the stored verifier key is not valid: \(error.reason)")
        }
        do {
            try self.init(origin: origin, verifier: verifier)
        } catch {
            throw LedgerError(.corrupt, "the stored identity is inconsistent: \(error.reason)")
        }
    }
}

/// A checkpoint as stored: the signed note, and the consistency proof from the checkpoint before
/// it (none for the first). Canonical JSON:
/// `{"consistency":["<base64>",…],"note":"<signed note>","previous":M|null}`.
public struct CheckpointRecord: Sendable, Equatable {
    public let note: String
    public let body: CheckpointBody
    /// Tree size of the previous checkpoint, nil for the first.
    public let previous: UInt64?
    /// RFC 9162 consistency proof from `previous` to this size.
    public let consistency: [[UInt8]]

    public var size: UInt64 { body.size }
    public var rootHash: [UInt8] { body.rootHash }

    init(note: String, body: CheckpointBody, previous: UInt64?, consistency: [[UInt8]]) {
        self.note = note
        self.body = body
        self.previous = previous
        self.consistency = consistency
    }

    var bytes: [UInt8] {
        JSONValue.object([
            "consistency": .array(consistency.map { .string(Base64.encode($0)) }),
            "note": .string(note),
            "previous": previous.map { .integer(Int64($0)) } ?? .null,
        ]).canonicalBytes
    }

    /// Reads a stored record; the note's signature is checked against `identity`.
    init(parsing bytes: [UInt8], identity: LedgerIdentity) throws(LedgerError) {
        let value: JSONValue
        do {
            value = try CanonicalJSON.parseCanonical(bytes)
        } catch {
            throw LedgerError(.notCanonical, "the checkpoint record is not canonical JSON: \(error)")
        }
        guard let members = value.objectValue, Set(members.keys) == ["consistency", "note", "previous"],
            let note = members["note"]?.stringValue, let proofItems = members["consistency"]?.arrayValue
        else {
            throw LedgerError(.notCanonical, "a checkpoint record has exactly consistency, note and previous")
        }
        var previous: UInt64?
        switch members["previous"] {
        case .null?: previous = nil
        case .integer(let size)? where size > 0: previous = UInt64(size)
        default: throw LedgerError(.notCanonical, "previous must be a positive integer or null")
        }
        var consistency: [[UInt8]] = []
        for item in proofItems {
            guard let text = item.stringValue, let hash = Base64.decode(text), hash.count == 32 else {
                throw LedgerError(.notCanonical, "a consistency proof hash is not the base64 of 32 bytes")
            }
            consistency.append(hash)
        }
        let text: String
        do {
            text = try SignedNote.open(note, verifiers: [identity.verifier])
        } catch {
            throw LedgerError(.corrupt, "the checkpoint note does not verify: \(error.reason)")
        }
        let body: CheckpointBody
        do {
            body = try CheckpointBody(parsing: text)
        } catch {
            throw LedgerError(.corrupt, "the checkpoint body is malformed: \(error.reason)")
        }
        guard body.origin == identity.origin else {
            throw LedgerError(.corrupt, "the checkpoint names origin \(body.origin), not \(identity.origin)")
        }
        // The ledger writes exactly one signature line, its own; anything else was added later.
        let signatureBlock = note.utf8.dropFirst(text.utf8.count + 1)
        let expectedPrefix = Array("\u{2014} \(identity.origin) ".utf8)
        guard signatureBlock.starts(with: expectedPrefix), signatureBlock.filter({ $0 == 0x0A }).count == 1 else {
            throw LedgerError(.corrupt, "the checkpoint note must carry exactly one signature line, by \(identity.origin)")
        }
        self.init(note: note, body: body, previous: previous, consistency: consistency)
    }
}

/// What a stored time-stamp token stamps: an entry (its imprint is the entry's leaf hash) or a
/// checkpoint (its imprint is the SHA-256 of the checkpoint's signed-note body).
public enum TimestampSubject: Sendable, Hashable, CustomStringConvertible {
    case entry(UInt64)
    case checkpoint(UInt64)

    var key: [UInt8] {
        switch self {
        case .entry(let seq): LedgerStorage.entryTimestampKey(seq: seq)
        case .checkpoint(let size): LedgerStorage.checkpointTimestampKey(size: size)
        }
    }

    public var description: String {
        switch self {
        case .entry(let seq): "entry \(seq)"
        case .checkpoint(let size): "the checkpoint at size \(size)"
        }
    }
}
