import CanonicalJSON
import Foundation
import RocksDBStore
import Synchronization

/// What an append returns, once the entry is on disk.
public struct AppendReceipt: Sendable, Equatable {
    public let seq: UInt64
    public let leafHash: [UInt8]
    public let time: String

    public init(seq: UInt64, leafHash: [UInt8], time: String) {
        self.seq = seq
        self.leafHash = leafHash
        self.time = time
    }
}

/// An RFC 9162 inclusion proof, with the hashes it connects.
public struct InclusionProof: Sendable, Equatable {
    public let index: UInt64
    public let size: UInt64
    public let leafHash: [UInt8]
    public let rootHash: [UInt8]
    public let hashes: [[UInt8]]

    public init(index: UInt64, size: UInt64, leafHash: [UInt8], rootHash: [UInt8], hashes: [[UInt8]]) {
        self.index = index
        self.size = size
        self.leafHash = leafHash
        self.rootHash = rootHash
        self.hashes = hashes
    }
}

/// An RFC 9162 consistency proof between two tree sizes, with both roots.
public struct ConsistencyProof: Sendable, Equatable {
    public let from: UInt64
    public let to: UInt64
    public let fromRoot: [UInt8]
    public let toRoot: [UInt8]
    public let hashes: [[UInt8]]

    public init(from: UInt64, to: UInt64, fromRoot: [UInt8], toRoot: [UInt8], hashes: [[UInt8]]) {
        self.from = from
        self.to = to
        self.fromRoot = fromRoot
        self.toRoot = toRoot
        self.hashes = hashes
    }
}

/// The append-only ledger: entries chained by hash, an RFC 9162 Merkle tree over them, and
/// signed checkpoints of that tree, all in the appliance's RocksDB.
///
/// Appends go through two threads. The preparer gathers whatever is queued into one group,
/// assigns sequence numbers and times, encodes the entries, hashes them into the tree and builds
/// a single RocksDB batch (entries, new tree nodes, the new head). The writer writes each batch
/// with one sync, publishes the new size and only then resumes the group's appenders: the group
/// commit. While the writer waits for the disk, the preparer builds the next group, so hashing
/// and flushing overlap. A failed write fails its group and every group prepared on top of it,
/// and the ledger then refuses appends until reopened (the failed write's outcome is unknown, so
/// nothing may be built on it).
/// Each batch is atomic, so the chain and the tree on disk are consistent after any failure or
/// crash, with no gap.
///
/// Reads (entries, roots, proofs) run on the caller's thread against the committed size; stored
/// nodes never change once written, so they need no lock.
public final class Ledger: @unchecked Sendable {
    public let identity: LedgerIdentity
    let database: Database
    let entries: ColumnFamily
    let tree: ColumnFamily
    let checkpoints: ColumnFamily
    let state: ColumnFamily
    private let clock: @Sendable () -> Int64

    /// The most entries one group commit writes; more wait for the next group.
    public static let maximumGroupEntries = 10_000

    // Queue of appends waiting for the preparer; guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [PendingAppend] = []
    private var isClosing = false
    private var committerRunning = false
    /// Set after a failed write: the ledger then refuses appends until it is reopened, because
    /// RocksDB may or may not have kept that write (see `append`).
    private var stoppedBy: LedgerError?

    /// The preparer's state: the tree as it will be once every prepared group is written. Only
    /// the preparer thread touches it after `open`.
    private var prepared: WriterState
    // Hand-over of one prepared group to the writer; guarded by `handoff`.
    private let handoff = NSCondition()
    private var slot: PreparedGroup?
    private var writerShouldStop = false
    private var writerRunning = false
    /// The committed tree, for readers.
    private let committed: Mutex<CompactRange>
    /// Cutting checkpoints one at a time keeps `previous` and the latest pointer in step.
    private let checkpointLock = NSLock()
    /// The upper levels of the tree, in memory (see `UpperLevels`).
    private let upper: Mutex<UpperLevels>
    /// Called by the writer after each group commit with the new size (see `onCommit`).
    private let commitObservers = Mutex<[@Sendable (UInt64) -> Void]>([])
    let timestamps: ColumnFamily

    private struct PendingAppend {
        let type: EntryType
        let bodyBytes: [UInt8]
        let alongside: WriteBatch
        let keyedBySeq: (@Sendable (UInt64) -> WriteBatch)?
        let continuation: CheckedContinuation<AppendReceipt, any Error>
    }

    private struct WriterState {
        var range: CompactRange
        var lastLeaf: [UInt8]
        var lastTime: Int64
    }

    private struct PreparedGroup {
        let group: [PendingAppend]
        let batch: WriteBatch
        let receipts: [AppendReceipt]
        let next: WriterState
        /// New nodes at `UpperLevels.lowest` and above, for the in-memory copy.
        let upperNodes: [(level: Int, index: UInt64, hash: [UInt8])]
    }

    /// Opens the ledger in `database` (which must have `LedgerStorage.columnFamilies`).
    /// - Parameters:
    ///   - identity: the identity to record if the ledger has none yet. When the ledger already
    ///     has one and this differs, opening fails: a ledger's origin and key never change.
    ///   - clock: milliseconds since the epoch, for entry times (tests pass their own).
    public static func open(database: Database, identity: LedgerIdentity?, clock: @escaping @Sendable () -> Int64 = LedgerTime.nowMilliseconds) throws(LedgerError) -> Ledger {
        let families: [ColumnFamily]
        do {
            families = try LedgerStorage.columnFamilies.map { name throws(StorageError) in try database.columnFamily(name) }
        } catch {
            throw LedgerError(storage: error)
        }
        let stateFamily = families[4]
        let resolved: LedgerIdentity
        if let stored = try read(database, LedgerStorage.identityKey, in: stateFamily) {
            let storedIdentity = try LedgerIdentity(record: stored)
            if let identity, identity != storedIdentity {
                throw LedgerError(.key, "this ledger's identity is \(storedIdentity.verifier.text); the key or origin given (\(identity.verifier.text)) is another one")
            }
            resolved = storedIdentity
        } else if let identity {
            guard !database.isReadOnly else { throw LedgerError(.notFound, "the ledger has not been created yet") }
            do {
                try database.put(LedgerStorage.identityKey, identity.record, in: stateFamily, durability: .synced)
            } catch {
                throw LedgerError(storage: error)
            }
            resolved = identity
        } else {
            throw LedgerError(.notFound, "the ledger has not been created yet (no identity recorded)")
        }
        let ledger = try Ledger(database: database, families: families, identity: resolved, clock: clock)
        ledger.startCommitter()
        return ledger
    }

    /// The identity recorded in `database`, if any, without opening the ledger.
    public static func storedIdentity(in database: Database) throws(LedgerError) -> LedgerIdentity? {
        let family: ColumnFamily
        do { family = try database.columnFamily(LedgerStorage.stateFamily) } catch { return nil }
        return try read(database, LedgerStorage.identityKey, in: family).map { bytes throws(LedgerError) in try LedgerIdentity(record: bytes) }
    }

    private init(database: Database, families: [ColumnFamily], identity: LedgerIdentity, clock: @escaping @Sendable () -> Int64) throws(LedgerError) {
        self.database = database
        self.entries = families[0]
        self.tree = families[1]
        self.checkpoints = families[2]
        self.timestamps = families[3]
        self.state = families[4]
        self.identity = identity
        self.clock = clock
        let size = try Self.read(database, LedgerStorage.headKey, in: families[4]).map { bytes throws(LedgerError) in
            try LedgerStorage.parseSizeRecord(bytes, what: "head")
        } ?? 0
        let treeFamily = families[1]
        let range = try CompactRange(size: size) { (level, index) throws(LedgerError) in
            try Self.readNode(database, treeFamily, level: level, index: index)
        }
        var lastLeaf = LedgerEntry.genesisPrev
        var lastTime: Int64 = 0
        if size > 0 {
            lastLeaf = try Self.readNode(database, treeFamily, level: 0, index: size - 1)
            guard let bytes = try Self.read(database, LedgerStorage.entryKey(size - 1), in: families[0]) else {
                throw LedgerError(.corrupt, "the head says \(size) entries but entry \(size - 1) is missing")
            }
            let last = try LedgerEntry(parsing: bytes)
            lastTime = LedgerTime.parse(last.time) ?? 0
        }
        prepared = WriterState(range: range, lastLeaf: lastLeaf, lastTime: lastTime)
        committed = Mutex(range)
        upper = Mutex(try UpperLevels(database: database, tree: treeFamily, size: size))
    }

    // MARK: - Appending

    /// Appends an entry and returns once it is durable.
    /// - Throws: `.invalidEntry` for a body that cannot be stored (nothing is queued);
    ///   `.closed`; `.storage` when the group's write failed. Then the outcome is unknown
    ///   (RocksDB may have logged the write before its sync failed, and would replay it when
    ///   reopened), so the ledger takes no more appends until it is reopened; a caller that must
    ///   not duplicate an entry looks for it after the restart.
    ///
    /// - Parameter alongside: writes of the caller's own (its records in its own column families)
    ///   that MUST be durable exactly when this entry is: they go into the same atomic RocksDB
    ///   batch, so after a crash both or neither are on disk. The CA stores a certificate this
    ///   way together with the entry that records its issuance.
    /// - Parameter keyedBySeq: more such writes, for records indexed by the seq the entry gets
    ///   (a service's list of events); called once, on the ledger's writer, with that seq.
    public func append(type: EntryType, body: JSONValue, alongside: WriteBatch = WriteBatch(), keyedBySeq: (@Sendable (UInt64) -> WriteBatch)? = nil) async throws(LedgerError) -> AppendReceipt {
        let bodyBytes = try LedgerEntry.validatedBody(body)
        do {
            return try await withCheckedThrowingContinuation { continuation in
                enqueue(PendingAppend(type: type, bodyBytes: bodyBytes, alongside: alongside, keyedBySeq: keyedBySeq, continuation: continuation))
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.storage, "\(error)")
        }
    }

    private func enqueue(_ pending: PendingAppend) {
        condition.lock()
        defer { condition.unlock() }
        guard !isClosing else {
            pending.continuation.resume(throwing: LedgerError(.closed, "the ledger is closed"))
            return
        }
        if let stoppedBy {
            pending.continuation.resume(throwing: LedgerError(.storage, "the ledger stopped taking appends after a failed write; reopen it (restart the appliance) to go on. The failure: \(stoppedBy.reason)"))
            return
        }
        queue.append(pending)
        condition.signal()
    }

    private func startCommitter() {
        committerRunning = true
        writerRunning = true
        let preparer = Thread { [self] in runPreparer() }
        preparer.name = "ledger-preparer"
        preparer.start()
        let writerThread = Thread { [self] in runWriter() }
        writerThread.name = "ledger-writer"
        writerThread.start()
    }

    private func runPreparer() {
        while true {
            condition.lock()
            while queue.isEmpty && !isClosing { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                break
            }
            let count = min(queue.count, Self.maximumGroupEntries)
            let group = Array(queue.prefix(count))
            queue.removeFirst(count)
            condition.unlock()

            let item = prepare(group)
            handoff.lock()
            while slot != nil { handoff.wait() }
            slot = item
            handoff.broadcast()
            handoff.unlock()
        }
        // Queue drained and closing: let the writer finish the last group, then report stopped.
        handoff.lock()
        writerShouldStop = true
        handoff.broadcast()
        while writerRunning { handoff.wait() }
        handoff.unlock()
        condition.lock()
        committerRunning = false
        condition.broadcast()
        condition.unlock()
    }

    /// Builds the batch of one group on top of `prepared`, and advances `prepared`.
    private func prepare(_ group: [PendingAppend]) -> PreparedGroup {
        var next = prepared
        // Entry times never go backward in sequence order, even if the system clock does.
        next.lastTime = max(clock(), prepared.lastTime)
        let time = LedgerTime.format(milliseconds: next.lastTime)
        var batch = WriteBatch()
        var receipts: [AppendReceipt] = []
        var upperNodes: [(level: Int, index: UInt64, hash: [UInt8])] = []
        receipts.reserveCapacity(group.count)
        for pending in group {
            let seq = next.range.size
            let bytes = LedgerEntry.encode(type: pending.type, seq: seq, time: time, prev: next.lastLeaf, bodyBytes: pending.bodyBytes)
            let leaf = Merkle.leafHash(bytes)
            batch.put(LedgerStorage.entryKey(seq), bytes, in: entries)
            if !pending.alongside.isEmpty { batch.append(contentsOf: pending.alongside) }
            if let keyed = pending.keyedBySeq { batch.append(contentsOf: keyed(seq)) }
            next.range.append(leaf) { level, index, hash in
                batch.put(LedgerStorage.nodeKey(level: level, index: index), hash, in: tree)
                if level >= UpperLevels.lowest { upperNodes.append((level, index, hash)) }
            }
            next.lastLeaf = leaf
            receipts.append(AppendReceipt(seq: seq, leafHash: leaf, time: time))
        }
        batch.put(LedgerStorage.headKey, LedgerStorage.sizeRecord(next.range.size), in: state)
        prepared = next
        return PreparedGroup(group: group, batch: batch, receipts: receipts, next: next, upperNodes: upperNodes)
    }

    private func runWriter() {
        while true {
            handoff.lock()
            while slot == nil && !writerShouldStop { handoff.wait() }
            guard let item = slot else {
                writerRunning = false
                handoff.broadcast()
                handoff.unlock()
                return
            }
            slot = nil
            handoff.broadcast()
            handoff.unlock()

            // After a failed write nothing more is written, not even groups prepared before it
            // failed: they build on entries whose fate is unknown.
            condition.lock()
            let earlierFailure = stoppedBy
            condition.unlock()
            if let earlierFailure {
                let failure = LedgerError(.storage, "an earlier write failed, so this one was not attempted; reopen the ledger. The failure: \(earlierFailure.reason)")
                for pending in item.group { pending.continuation.resume(throwing: failure) }
                continue
            }
            do {
                try database.write(item.batch, durability: .synced)
            } catch {
                // The write may still have reached the log (a failed sync after a good write),
                // so its outcome is unknown: stop taking appends; reopening reads the head from
                // disk and goes on from whatever was kept.
                let failure = LedgerError(storage: error)
                condition.lock()
                stoppedBy = failure
                condition.unlock()
                for pending in item.group { pending.continuation.resume(throwing: failure) }
                continue
            }
            // The nodes first, then the size: a reader that sees the new size finds them.
            upper.withLock { levels in
                for node in item.upperNodes { levels.add(level: node.level, index: node.index, hash: node.hash) }
            }
            committed.withLock { $0 = item.next.range }
            for (pending, receipt) in zip(item.group, item.receipts) { pending.continuation.resume(returning: receipt) }
            let observers = commitObservers.withLock { $0 }
            for observer in observers { observer(item.next.range.size) }
        }
    }

    /// Registers `observer` to be called with the new size after every group commit, on the
    /// writer's thread: it must return at once (signal a waiting thread, not do the work), or
    /// it delays the next group's appenders.
    public func onCommit(_ observer: @escaping @Sendable (UInt64) -> Void) {
        commitObservers.withLock { $0.append(observer) }
    }

    /// Stops accepting appends, lets queued ones commit, and stops the committer. The database
    /// stays open (its owner closes it).
    public func close() {
        condition.lock()
        isClosing = true
        condition.broadcast()
        while committerRunning { condition.wait() }
        condition.unlock()
    }

    // MARK: - Reading

    /// The number of committed entries.
    public var size: UInt64 { committed.withLock { $0.size } }

    /// The committed size and its root, read together.
    public var head: (size: UInt64, rootHash: [UInt8]) {
        committed.withLock { ($0.size, $0.root) }
    }

    /// The entry with sequence number `seq`, checked to be canonical and in its place.
    public func entry(_ seq: UInt64) throws(LedgerError) -> LedgerEntry {
        let size = self.size
        guard seq < size else { throw LedgerError(.notFound, "no entry \(seq); the ledger has \(size) entries") }
        guard let bytes = try Self.read(database, LedgerStorage.entryKey(seq), in: entries) else {
            throw LedgerError(.corrupt, "entry \(seq) is missing below the head (\(size))")
        }
        let entry: LedgerEntry
        do {
            entry = try LedgerEntry(parsing: bytes)
        } catch {
            throw LedgerError(.corrupt, "stored entry \(seq): \(error.reason)")
        }
        guard entry.seq == seq else { throw LedgerError(.corrupt, "the entry stored at \(seq) says seq \(entry.seq)") }
        return entry
    }

    /// The leaf hash of entry `seq`, from the stored tree.
    public func leafHash(_ seq: UInt64) throws(LedgerError) -> [UInt8] {
        let size = self.size
        guard seq < size else { throw LedgerError(.notFound, "no entry \(seq); the ledger has \(size) entries") }
        return try Self.readNode(database, tree, level: 0, index: seq)
    }

    /// The root of the tree of the first `size` entries.
    public func rootHash(size: UInt64) throws(LedgerError) -> [UInt8] {
        let current = head
        guard size <= current.size else { throw LedgerError(.beyondTree, "size \(size) is beyond the tree (size \(current.size))") }
        if size == current.size { return current.rootHash }
        return try builder.subtreeHash(0, size)
    }

    /// Proof that entry `index` is in the tree of `size` entries.
    public func inclusionProof(index: UInt64, size: UInt64) throws(LedgerError) -> InclusionProof {
        let current = self.size
        guard size <= current else { throw LedgerError(.beyondTree, "size \(size) is beyond the tree (size \(current))") }
        guard index < size else { throw LedgerError(.invalidRange, "index \(index) is not below size \(size)") }
        let builder = self.builder
        let head = self.head
        return InclusionProof(
            index: index, size: size,
            leafHash: try Self.readNode(database, tree, level: 0, index: index),
            rootHash: size == head.size ? head.rootHash : try builder.subtreeHash(0, size),
            hashes: try builder.inclusionPath(index, 0, size))
    }

    /// Proof that the tree of `to` entries extends the tree of `from` entries.
    public func consistencyProof(from: UInt64, to: UInt64) throws(LedgerError) -> ConsistencyProof {
        let current = self.size
        guard to <= current else { throw LedgerError(.beyondTree, "size \(to) is beyond the tree (size \(current))") }
        guard from <= to else { throw LedgerError(.invalidRange, "from (\(from)) is larger than to (\(to))") }
        guard from > 0 else { throw LedgerError(.invalidRange, "from must be at least 1: nothing is proved about the empty tree") }
        let builder = self.builder
        let head = self.head
        return ConsistencyProof(
            from: from, to: to,
            fromRoot: try builder.subtreeHash(0, from),
            toRoot: to == head.size ? head.rootHash : try builder.subtreeHash(0, to),
            hashes: from == to ? [] : try builder.consistencySubproof(from, 0, to, true))
    }

    private var builder: Merkle.ProofBuilder<LedgerError> {
        Merkle.ProofBuilder { (level, index) throws(LedgerError) in
            try self.node(level: level, index: index)
        }
    }

    /// A node held in memory (upper levels, or the right edge of the committed tree), or nil.
    private func memoryNode(level: Int, index: UInt64) -> [UInt8]? {
        if level >= UpperLevels.lowest, let hash = upper.withLock({ $0.hash(level: level, index: index) }) { return hash }
        return committed.withLock { range -> [UInt8]? in
            guard range.size >> UInt64(level) & 1 == 1, index == (range.size >> UInt64(level)) - 1 else { return nil }
            return range.hashes[level]
        }
    }

    /// A stored node: from memory for the upper levels, else from RocksDB.
    func node(level: Int, index: UInt64) throws(LedgerError) -> [UInt8] {
        // The right edge of the committed tree (its compact range) is in memory too; proofs to
        // the current size need it for the root and for the right-hand sibling.
        if let hash = memoryNode(level: level, index: index) { return hash }
        return try Self.readNode(database, tree, level: level, index: index)
    }

    // MARK: - Checkpoints

    /// The most recent checkpoint, or nil before the first.
    public func latestCheckpoint() throws(LedgerError) -> CheckpointRecord? {
        guard let pointer = try Self.read(database, LedgerStorage.latestCheckpointKey, in: state) else { return nil }
        let size = try LedgerStorage.parseSizeRecord(pointer, what: "latest-checkpoint")
        guard let record = try checkpoint(size: size) else {
            throw LedgerError(.corrupt, "the latest checkpoint (size \(size)) is missing")
        }
        return record
    }

    /// The checkpoint cut at tree size `size`, if there is one.
    public func checkpoint(size: UInt64) throws(LedgerError) -> CheckpointRecord? {
        guard let bytes = try Self.read(database, LedgerStorage.checkpointKey(size: size), in: checkpoints) else { return nil }
        let record = try CheckpointRecord(parsing: bytes, identity: identity)
        guard record.size == size else { throw LedgerError(.corrupt, "the checkpoint stored at size \(size) says size \(record.size)") }
        return record
    }

    /// Signs and stores a checkpoint of the current tree, with the consistency proof from the
    /// previous checkpoint. When the tree has not grown since the latest checkpoint, that one is
    /// returned and nothing is written.
    /// - Returns: the checkpoint, and whether it is new.
    public func cutCheckpoint(signer: NoteSigner) throws(LedgerError) -> (record: CheckpointRecord, isNew: Bool) {
        guard signer.verifier == identity.verifier else {
            throw LedgerError(.key, "the signing key is not this ledger's checkpoint key (\(identity.verifier.text))")
        }
        checkpointLock.lock()
        defer { checkpointLock.unlock() }
        let current = head
        guard current.size > 0 else { throw LedgerError(.invalidRange, "the ledger is empty; there is nothing to checkpoint") }
        let latest = try latestCheckpoint()
        if let latest, latest.size == current.size { return (latest, false) }
        let body = CheckpointBody(origin: identity.origin, size: current.size, rootHash: current.rootHash)
        let note = signer.sign(body.text)
        var proof: [[UInt8]] = []
        if let latest {
            let consistency = try consistencyProof(from: latest.size, to: current.size)
            guard consistency.fromRoot == latest.rootHash else {
                throw LedgerError(.corrupt, "the tree's root at size \(latest.size) differs from the checkpoint cut at that size")
            }
            proof = consistency.hashes
        }
        let record = CheckpointRecord(note: note, body: body, previous: latest?.size, consistency: proof)
        var batch = WriteBatch()
        batch.put(LedgerStorage.checkpointKey(size: current.size), record.bytes, in: checkpoints)
        batch.put(LedgerStorage.latestCheckpointKey, LedgerStorage.sizeRecord(current.size), in: state)
        do {
            try database.write(batch, durability: .synced)
        } catch {
            throw LedgerError(storage: error)
        }
        return (record, true)
    }

    // MARK: - Time-stamp tokens

    /// The RFC 3161 token stored for `subject`, if it has one (docs/ledger-format.md §6.1).
    public func timestampToken(for subject: TimestampSubject) throws(LedgerError) -> [UInt8]? {
        try Self.read(database, subject.key, in: timestamps)
    }

    /// The `timestamps-through` mark: every entry below it that needs its own token has one.
    public func timestampedThrough() throws(LedgerError) -> UInt64 {
        try Self.read(database, LedgerStorage.timestampsThroughKey, in: state).map { bytes throws(LedgerError) in
            try LedgerStorage.parseSizeRecord(bytes, what: "timestamps-through")
        } ?? 0
    }

    /// The `checkpoint-timestamps-through` mark: every checkpoint up to this size has a token.
    public func timestampedCheckpointsThrough() throws(LedgerError) -> UInt64 {
        try Self.read(database, LedgerStorage.checkpointTimestampsThroughKey, in: state).map { bytes throws(LedgerError) in
            try LedgerStorage.parseSizeRecord(bytes, what: "checkpoint-timestamps-through")
        } ?? 0
    }

    /// Stores tokens beside their entries and checkpoints, and optionally moves the
    /// `timestamps-through` and `checkpoint-timestamps-through` marks, in one synced batch. The ledger checks only that each subject
    /// exists and the token is not empty; what the token says is the time-stamper's business
    /// (the ledger does not parse CMS).
    public func storeTimestampTokens(_ tokens: [(subject: TimestampSubject, token: [UInt8])], through: UInt64? = nil, checkpointsThrough: UInt64? = nil) throws(LedgerError) {
        let size = self.size
        var batch = WriteBatch()
        for (subject, token) in tokens {
            guard !token.isEmpty else { throw LedgerError(.invalidEntry, "an empty time-stamp token for \(subject)") }
            switch subject {
            case .entry(let seq):
                guard seq < size else { throw LedgerError(.notFound, "no entry \(seq); the ledger has \(size)") }
            case .checkpoint(let checkpointSize):
                guard try Self.read(database, LedgerStorage.checkpointKey(size: checkpointSize), in: checkpoints) != nil else {
                    throw LedgerError(.notFound, "no checkpoint at size \(checkpointSize)")
                }
            }
            batch.put(subject.key, token, in: timestamps)
        }
        if let through {
            guard through <= size else { throw LedgerError(.invalidRange, "timestamps-through \(through) is beyond the ledger's \(size) entries") }
            batch.put(LedgerStorage.timestampsThroughKey, LedgerStorage.sizeRecord(through), in: state)
        }
        if let checkpointsThrough {
            guard try Self.read(database, LedgerStorage.checkpointKey(size: checkpointsThrough), in: checkpoints) != nil else {
                throw LedgerError(.notFound, "checkpoint-timestamps-through \(checkpointsThrough) names no checkpoint")
            }
            batch.put(LedgerStorage.checkpointTimestampsThroughKey, LedgerStorage.sizeRecord(checkpointsThrough), in: state)
        }
        do {
            try database.write(batch, durability: .synced)
        } catch {
            throw LedgerError(storage: error)
        }
    }

    // MARK: - Storage helpers

    static func read(_ database: Database, _ key: [UInt8], in family: ColumnFamily) throws(LedgerError) -> [UInt8]? {
        do {
            return try database.get(key, in: family)
        } catch {
            throw LedgerError(storage: error)
        }
    }

    static func readNode(_ database: Database, _ tree: ColumnFamily, level: Int, index: UInt64) throws(LedgerError) -> [UInt8] {
        guard let hash = try read(database, LedgerStorage.nodeKey(level: level, index: index), in: tree) else {
            throw LedgerError(.corrupt, "tree node (level \(level), index \(index)) is missing")
        }
        guard hash.count == Merkle.hashByteCount else {
            throw LedgerError(.corrupt, "tree node (level \(level), index \(index)) is \(hash.count) bytes, not 32")
        }
        return hash
    }
}

/// The tree's nodes at level `lowest` (5) and above, held in memory. There are about n/16 of
/// them (32 bytes each: 2 bytes per entry, 200 MB for 10^8 entries, against some 280 bytes per
/// entry on disk), and every proof's path crosses about log2(n) − 5 of them; keeping them here
/// leaves a proof about six RocksDB reads (the leaf and its bottom siblings), which is what brings
/// a proof at 10^6 entries under 50 µs on this machine (docs/BENCHMARKS.md). They are copies:
/// RocksDB holds the same nodes, and audit checks those.
struct UpperLevels: Sendable {
    static let lowest = 5
    /// Nodes per chunk: a level grows by whole chunks of 2 MiB, so adding a node never copies
    /// the level (which, under the lock, would stall proofs and the writer on a large ledger).
    static let chunkNodes = 1 << 16
    /// `levels[l - lowest]` holds the nodes of level l in index order, 32 bytes each, in chunks.
    private var levels: [[[UInt8]]] = Array(repeating: [], count: 64 - lowest)

    /// Reads the upper nodes of a stored tree of `size` leaves (about size/16 point reads: a
    /// quarter of a second per million entries at start-up).
    init(database: Database, tree: ColumnFamily, size: UInt64) throws(LedgerError) {
        for level in Self.lowest..<64 {
            let count = size >> UInt64(level)
            guard count > 0 else { break }
            for index in 0..<count {
                add(level: level, index: index, hash: try Ledger.readNode(database, tree, level: level, index: index))
            }
        }
    }

    func hash(level: Int, index: UInt64) -> [UInt8]? {
        let chunks = levels[level - Self.lowest]
        let chunk = Int(index) / Self.chunkNodes
        let start = (Int(index) % Self.chunkNodes) * 32
        guard chunk < chunks.count, start + 32 <= chunks[chunk].count else { return nil }
        return Array(chunks[chunk][start..<(start + 32)])
    }

    /// Nodes arrive in index order per level (the tree grows left to right).
    mutating func add(level: Int, index: UInt64, hash: [UInt8]) {
        let slot = level - Self.lowest
        let stored = levels[slot].count == 0 ? 0 : (levels[slot].count - 1) * Self.chunkNodes + levels[slot][levels[slot].count - 1].count / 32
        precondition(stored == Int(index), "upper tree nodes arrive in order")
        if Int(index) % Self.chunkNodes == 0 { levels[slot].append([]) }
        levels[slot][levels[slot].count - 1] += hash
    }
}
