/// A set of puts and deletes that `Database.write(_:durability:)` applies atomically: after a
/// crash either every operation in it is on disk or none is.
///
/// A plain value: build it on any task, hand it to `write`. It touches no C handle until then,
/// so a batch that outlives its database is harmless (the write fails with `.closed`).
public struct WriteBatch: Sendable {
    enum Operation: Sendable {
        case put(family: ColumnFamily?, key: [UInt8], value: [UInt8])
        case delete(family: ColumnFamily?, key: [UInt8])
    }

    private(set) var operations: [Operation] = []

    public init() {}

    /// Number of operations added so far.
    public var count: Int { operations.count }
    public var isEmpty: Bool { operations.isEmpty }

    public mutating func put(_ key: [UInt8], _ value: [UInt8], in family: ColumnFamily? = nil) {
        operations.append(.put(family: family, key: key, value: value))
    }

    public mutating func delete(_ key: [UInt8], in family: ColumnFamily? = nil) {
        operations.append(.delete(family: family, key: key))
    }

    /// Adds every operation of `other`, after this batch's own.
    public mutating func append(contentsOf other: WriteBatch) {
        operations += other.operations
    }

    /// Removes every operation, keeping the storage for reuse.
    public mutating func removeAll() {
        operations.removeAll(keepingCapacity: true)
    }
}
