import RocksDBStore

/// What the TSA keeps in RocksDB, column family `tsa-state` (docs/tsa.md §State):
///
/// | key           | value                                                              |
/// |---------------|--------------------------------------------------------------------|
/// | `certificate` | DER of the current TSA certificate                                 |
/// | `key-file`    | the name of its sealed key in `keys/` (`tsa-HASH.key`)            |
/// | `serial`      | 8 bytes, big-endian: no token so far has a serial at or above this  |
/// | `time`        | 8 bytes, big-endian ms: no token so far has a genTime above this    |
/// | `halted`      | UTF-8: why issuing stopped (clock stepped back); absent when issuing |
///
/// `serial` and `time` are ceilings reserved ahead (synced) rather than the last values, so
/// that a token costs no disk write; after a restart the TSA starts above both.
struct TSAStore: Sendable {
    static let family = "tsa-state"
    static let certificateKey = Array("certificate".utf8)
    static let keyFileKey = Array("key-file".utf8)
    static let serialKey = Array("serial".utf8)
    static let timeKey = Array("time".utf8)
    static let haltedKey = Array("halted".utf8)

    let database: Database
    let state: ColumnFamily

    init(database: Database) throws(TSAError) {
        self.database = database
        do {
            state = try database.columnFamily(Self.family)
        } catch {
            throw TSAError(.storage, "the TSA's column family is missing: \(error)")
        }
    }

    func read(_ key: [UInt8]) throws(TSAError) -> [UInt8]? {
        do {
            return try database.get(key, in: state)
        } catch {
            throw TSAError(.storage, "cannot read the TSA state: \(error)")
        }
    }

    func readNumber(_ key: [UInt8]) throws(TSAError) -> UInt64 {
        guard let bytes = try read(key) else { return 0 }
        guard bytes.count == 8 else { throw TSAError(.corrupt, "the stored \(String(decoding: key, as: UTF8.self)) is \(bytes.count) bytes, not 8") }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func encode(_ number: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: number >> (56 - 8 * $0)) } }

    func write(_ batch: WriteBatch) throws(TSAError) {
        do {
            try database.write(batch, durability: .synced)
        } catch {
            throw TSAError(.storage, "cannot write the TSA state: \(error)")
        }
    }
}
