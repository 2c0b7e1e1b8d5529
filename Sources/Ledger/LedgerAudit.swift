import CanonicalJSON
import RocksDBStore

/// What an audit found wrong, by kind. The raw values appear in `notarium ledger audit` output
/// and in docs/ledger-format.md §Audit.
public enum AuditFindingKind: String, Sendable, Equatable {
    case identity = "identity"
    case head = "head"
    case entryMissing = "entry-missing"
    case entryKey = "entry-key"
    case entryNotCanonical = "entry-not-canonical"
    case entrySeq = "entry-seq"
    case entryTime = "entry-time"
    case chain = "chain"
    case entryBeyondHead = "entry-beyond-head"
    case nodeMissing = "node-missing"
    case nodeMismatch = "node-mismatch"
    case nodeUnexpected = "node-unexpected"
    case checkpointRecord = "checkpoint-record"
    case checkpointRoot = "checkpoint-root"
    case checkpointPrevious = "checkpoint-previous"
    case checkpointConsistency = "checkpoint-consistency"
    case checkpointBeyondTree = "checkpoint-beyond-tree"
    case latestCheckpoint = "latest-checkpoint"
    case timestampOrphan = "timestamp-orphan"
    /// The `timestamps-through` mark is unreadable or beyond the head.
    case timestampMark = "timestamp-mark"
    case storage = "storage"
}

/// The first inconsistency an audit found.
public struct AuditFinding: Sendable, Equatable, CustomStringConvertible {
    public let kind: AuditFindingKind
    /// The entry (or, for a checkpoint, the last entry it covers) where it was found.
    public let seq: UInt64?
    public let detail: String

    public var description: String {
        "\(kind.rawValue)\(seq.map { " at seq \($0)" } ?? ""): \(detail)"
    }
}

/// The result of an audit: how much was checked, and the first problem, if any.
public struct AuditReport: Sendable, Equatable {
    public var entries: UInt64 = 0
    public var nodes: UInt64 = 0
    public var checkpoints: UInt64 = 0
    public var finding: AuditFinding?
    public var passed: Bool { finding == nil }
}

/// Recomputes the ledger from its stored entries and compares everything else against that:
/// every entry's canonical form, seq, time order and chain link; every stored tree node (and that
/// no other node is stored); the head; every checkpoint's signature, origin, root, link to the
/// previous checkpoint and consistency proof; the latest-checkpoint pointer; that every stored
/// time-stamp belongs to an entry or checkpoint. It reads the database directly and needs no
/// opened `Ledger`, so it also works on a ledger too damaged to open.
///
/// The walk is in sequence order, so the finding reported is the first by seq.
public enum LedgerAudit {
    private struct Stop: Error { let finding: AuditFinding }

    /// - Parameter verifier: a verifier key obtained independently (e.g. published); when given,
    ///   checkpoints must verify with it and the stored identity must name it.
    public static func run(database: Database, verifier pinned: NoteVerifier? = nil) -> AuditReport {
        var report = AuditReport()
        do {
            try walk(database, pinned, &report)
        } catch let stop as Stop {
            report.finding = stop.finding
        } catch let error as StorageError {
            report.finding = AuditFinding(kind: .storage, seq: nil, detail: error.description)
        } catch let error as LedgerError {
            report.finding = AuditFinding(kind: .storage, seq: nil, detail: error.description)
        } catch {
            report.finding = AuditFinding(kind: .storage, seq: nil, detail: "\(error)")
        }
        return report
    }

    private static func stop(_ kind: AuditFindingKind, _ seq: UInt64?, _ detail: String) -> Stop {
        Stop(finding: AuditFinding(kind: kind, seq: seq, detail: detail))
    }

    private static func walk(_ database: Database, _ pinned: NoteVerifier?, _ report: inout AuditReport) throws {
        let entries = try database.columnFamily(LedgerStorage.entriesFamily)
        let tree = try database.columnFamily(LedgerStorage.treeFamily)
        let checkpoints = try database.columnFamily(LedgerStorage.checkpointsFamily)
        let timestamps = try database.columnFamily(LedgerStorage.timestampsFamily)
        let state = try database.columnFamily(LedgerStorage.stateFamily)

        // Identity and head.
        guard let identityBytes = try database.get(LedgerStorage.identityKey, in: state) else {
            throw stop(.identity, nil, "no ledger identity is recorded")
        }
        var identity: LedgerIdentity
        do {
            identity = try LedgerIdentity(record: identityBytes)
        } catch {
            throw stop(.identity, nil, error.reason)
        }
        if let pinned {
            guard pinned == identity.verifier else {
                throw stop(.identity, nil, "the ledger records verifier key \(identity.verifier.text), not the one given (\(pinned.text))")
            }
            identity = try LedgerIdentity(origin: identity.origin, verifier: pinned)
        }
        var headSize: UInt64 = 0
        if let headBytes = try database.get(LedgerStorage.headKey, in: state) {
            do {
                headSize = try LedgerStorage.parseSizeRecord(headBytes, what: "head")
            } catch {
                throw stop(.head, nil, error.reason)
            }
        }

        // The time-stamper's marks: how far it has stamped entries and checkpoints.
        func mark(_ key: [UInt8], _ name: String) throws -> UInt64? {
            guard let bytes = try database.get(key, in: state) else { return nil }
            do {
                return try LedgerStorage.parseSizeRecord(bytes, what: name)
            } catch {
                throw stop(.timestampMark, nil, error.reason)
            }
        }
        if let entriesMark = try mark(LedgerStorage.timestampsThroughKey, "timestamps-through"), entriesMark > headSize {
            throw stop(.timestampMark, nil, "timestamps-through is \(entriesMark), beyond the head's \(headSize) entries")
        }
        if let checkpointsMark = try mark(LedgerStorage.checkpointTimestampsThroughKey, "checkpoint-timestamps-through"),
           try database.get(LedgerStorage.checkpointKey(size: checkpointsMark), in: checkpoints) == nil {
            throw stop(.timestampMark, nil, "checkpoint-timestamps-through is \(checkpointsMark), which names no checkpoint")
        }

        // Entries, tree and checkpoints, in one pass in sequence order.
        let entryCursor = try database.cursor(in: entries, from: [])
        let checkpointCursor = try database.cursor(in: checkpoints, from: [])
        defer {
            entryCursor.release()
            checkpointCursor.release()
        }
        var range = CompactRange()
        var prevLeaf = LedgerEntry.genesisPrev
        var prevTime: Int64 = 0
        var nextCheckpoint = try checkpointCursor.next()
        var previousCheckpoint: CheckpointRecord?
        var seq: UInt64 = 0
        while let stored = try entryCursor.next() {
            guard let keySeq = LedgerStorage.decodeBigEndian(stored.key) else {
                throw stop(.entryKey, seq, "an entry key is \(stored.key.count) bytes, not an 8-byte sequence number")
            }
            guard keySeq == seq else {
                throw stop(.entryMissing, seq, "entry \(seq) is missing; the next stored entry is \(keySeq)")
            }
            guard seq < headSize else {
                throw stop(.entryBeyondHead, seq, "entry \(seq) is stored but the head says \(headSize) entries")
            }
            let entry: LedgerEntry
            do {
                entry = try LedgerEntry(parsing: stored.value)
            } catch {
                throw stop(.entryNotCanonical, seq, error.reason)
            }
            guard entry.seq == seq else { throw stop(.entrySeq, seq, "the entry stored at \(seq) says seq \(entry.seq)") }
            guard entry.prev == prevLeaf else {
                throw stop(.chain, seq, "prev is not the leaf hash of entry \(seq == 0 ? "-" : String(seq - 1)) (the chain is broken here)")
            }
            let time = LedgerTime.parse(entry.time) ?? 0
            guard time >= prevTime else { throw stop(.entryTime, seq, "the time \(entry.time) is earlier than the previous entry's") }

            let leaf = entry.leafHash
            var nodeProblem: Stop?
            range.append(leaf) { level, index, hash in
                guard nodeProblem == nil else { return }
                do {
                    guard let storedHash = try database.get(LedgerStorage.nodeKey(level: level, index: index), in: tree) else {
                        nodeProblem = stop(.nodeMissing, seq, "tree node (level \(level), index \(index)) is missing")
                        return
                    }
                    if storedHash != hash {
                        nodeProblem = stop(.nodeMismatch, seq, level == 0
                            ? "the stored leaf hash differs from the hash of the entry's bytes"
                            : "tree node (level \(level), index \(index)) differs from the hash of its children")
                    }
                } catch {
                    nodeProblem = stop(.storage, seq, "\(error)")
                }
                report.nodes += 1
            }
            if let nodeProblem { throw nodeProblem }
            prevLeaf = leaf
            prevTime = time
            seq += 1
            report.entries = seq

            while let checkpoint = nextCheckpoint, let size = LedgerStorage.decodeBigEndian(checkpoint.key), size <= seq {
                previousCheckpoint = try checkCheckpoint(checkpoint, size: size, identity: identity, root: range.root, previous: previousCheckpoint, seq: seq - 1)
                report.checkpoints += 1
                nextCheckpoint = try checkpointCursor.next()
            }
            if let checkpoint = nextCheckpoint, LedgerStorage.decodeBigEndian(checkpoint.key) == nil {
                throw stop(.checkpointRecord, seq - 1, "a checkpoint key is not an 8-byte tree size")
            }
        }
        guard seq == headSize else {
            throw stop(.head, seq, "the head says \(headSize) entries but \(seq) are stored")
        }
        if let checkpoint = nextCheckpoint {
            let size = LedgerStorage.decodeBigEndian(checkpoint.key).map(String.init) ?? "?"
            throw stop(.checkpointBeyondTree, nil, "a checkpoint of size \(size) is stored but the tree has \(seq) entries")
        }

        // The latest-checkpoint pointer.
        let pointer = try database.get(LedgerStorage.latestCheckpointKey, in: state)
        switch (pointer, previousCheckpoint) {
        case (nil, nil): break
        case (nil, let last?): throw stop(.latestCheckpoint, nil, "the latest-checkpoint pointer is missing (the latest is size \(last.size))")
        case (_?, nil): throw stop(.latestCheckpoint, nil, "a latest-checkpoint pointer is stored but there is no checkpoint")
        case (let bytes?, let last?):
            let size: UInt64
            do { size = try LedgerStorage.parseSizeRecord(bytes, what: "latest-checkpoint") } catch { throw stop(.latestCheckpoint, nil, error.reason) }
            guard size == last.size else { throw stop(.latestCheckpoint, nil, "the pointer says size \(size), the latest checkpoint is size \(last.size)") }
        }

        // No tree node may be stored that the entries do not account for: every expected node
        // was found above, so the stored ones must be exactly those, under keys below the count.
        let expectedNodes = LedgerStorage.storedNodeCount(size: headSize)
        let treeCursor = try database.cursor(in: tree, from: [])
        defer { treeCursor.release() }
        var storedNodes: UInt64 = 0
        while let node = try treeCursor.next() {
            storedNodes += 1
            guard let position = LedgerStorage.decodeBigEndian(node.key), position < expectedNodes else {
                throw stop(.nodeUnexpected, nil, "a tree node is stored under key \(hex(node.key)), which no entry accounts for")
            }
        }
        guard storedNodes == expectedNodes else {
            throw stop(.nodeUnexpected, nil, "\(storedNodes) tree nodes are stored; \(headSize) entries account for \(expectedNodes)")
        }

        // Time-stamp tokens (the TSA issue writes and verifies them) must belong to something.
        let stampCursor = try database.cursor(in: timestamps, from: [])
        defer { stampCursor.release() }
        while let stamp = try stampCursor.next() {
            let number = stamp.key.count == 9 ? LedgerStorage.decodeBigEndian(stamp.key[1...]) : nil
            let belongs: Bool
            switch (stamp.key.first, number) {
            case (UInt8(ascii: "e")?, let seqNumber?): belongs = seqNumber < headSize
            case (UInt8(ascii: "c")?, let size?): belongs = try database.get(LedgerStorage.checkpointKey(size: size), in: checkpoints) != nil
            default: belongs = false
            }
            guard belongs, !stamp.value.isEmpty else {
                throw stop(.timestampOrphan, number, "a time-stamp is stored under key \(hex(stamp.key)) for no entry or checkpoint")
            }
        }
    }

    /// Checks one stored checkpoint against the recomputed tree; returns it as the new previous.
    private static func checkCheckpoint(_ stored: KeyValue, size: UInt64, identity: LedgerIdentity, root: [UInt8], previous: CheckpointRecord?, seq: UInt64) throws -> CheckpointRecord {
        guard size == seq + 1 else {
            throw stop(.checkpointRecord, seq, "a checkpoint is stored under size \(size), which is not a tree size reached by the entries")
        }
        let record: CheckpointRecord
        do {
            record = try CheckpointRecord(parsing: stored.value, identity: identity)
        } catch {
            throw stop(.checkpointRecord, seq, "checkpoint of size \(size): \(error.reason)")
        }
        guard record.size == size else { throw stop(.checkpointRecord, seq, "the checkpoint stored under size \(size) says size \(record.size)") }
        guard record.rootHash == root else { throw stop(.checkpointRoot, seq, "the checkpoint of size \(size) signs a root that differs from the recomputed tree") }
        guard record.previous == previous?.size else {
            throw stop(.checkpointPrevious, seq, "the checkpoint of size \(size) names previous \(record.previous.map(String.init) ?? "none"), but the checkpoint before it is \(previous.map { String($0.size) } ?? "none")")
        }
        if let previous {
            do {
                try Merkle.verifyConsistency(fromSize: previous.size, toSize: size, fromRoot: previous.rootHash, toRoot: root, proof: record.consistency)
            } catch {
                throw stop(.checkpointConsistency, seq, "the consistency proof from \(previous.size) to \(size) does not verify: \(error)")
            }
        } else if !record.consistency.isEmpty {
            throw stop(.checkpointConsistency, seq, "the first checkpoint carries a consistency proof")
        }
        return record
    }
}
