import CoreMetrics
import Foundation
import Glibc
import Ledger
import Logging
import OpenSSLKit
import Synchronization

/// Gives the ledger its time proofs (docs/tsa.md, "The ledger's tokens"): an RFC 3161 token over
/// every checkpoint's signed-note body, and one over the leaf hash of every entry that people act
/// on (`EntryType.hasOwnTimestamp`), each stored beside what it stamps.
///
/// Stamping runs on its own thread, behind the appends: the ledger's append rate never waits on
/// the TSA. The thread walks the entries from the `timestamps-through` mark, stamps those that
/// need a token, and stores a chunk of tokens with the moved mark in one synced write, so a
/// restart goes on where it stopped and no entry is skipped. Checkpoints come first, since one
/// checkpoint token times every entry below it. When the TSA refuses (halted, clock), the
/// backlog grows, shows in `notarium_ledger_timestamp_backlog`, and stamping retries.
///
/// Whoever needs a token now (a bundle) calls `entryToken` or `checkpointToken`, which stamp at
/// once if the thread has not got there yet. Storing happens under one lock, after a check that
/// the subject has no token yet, so no subject ever has two (a token made twice in a race is
/// dropped, not stored).
public final class LedgerTimeStamper: @unchecked Sendable {
    public let ledger: Ledger
    public let authority: TimeStampAuthority
    let logger: Logger

    /// Entries looked at per synced write of tokens and the moved mark.
    static let chunk: UInt64 = 256
    /// The stamping thread's scheduling policy: idle priority.
    /// SCHED_IDLE is 5 in Linux's sched.h; Glibc hides the name behind _GNU_SOURCE.
    static let schedulingPolicy: Int32 = 5
    /// How long the thread waits before retrying after the TSA or the ledger failed.
    static let retryInterval: TimeInterval = 2

    private let condition = NSCondition()
    private var signaled = false
    private var stopping = false
    private var running = false
    /// Held while tokens are checked for and stored (on demand, also while the one token is
    /// made), so that no subject is ever stored with two tokens.
    private let stampLock = NSLock()
    /// The `timestamps-through` mark, as last stored.
    private let through: Mutex<UInt64>
    /// The `checkpoint-timestamps-through` mark, as last stored (only the thread moves it).
    private var stampedCheckpoint: UInt64
    /// The last failure logged, so a long TSA halt logs once rather than every retry.
    private var lastFailure: String?

    private let backlogGauge = Gauge(label: "notarium_ledger_timestamp_backlog")
    private let entryTokens = Counter(label: "notarium_ledger_timestamps_total", dimensions: [("subject", "entry")])
    private let checkpointTokens = Counter(label: "notarium_ledger_timestamps_total", dimensions: [("subject", "checkpoint")])
    private let failures = Counter(label: "notarium_ledger_timestamp_failures_total")

    public init(ledger: Ledger, authority: TimeStampAuthority, logger: Logger) throws(TSAError) {
        self.ledger = ledger
        self.authority = authority
        self.logger = logger
        do {
            through = Mutex(try ledger.timestampedThrough())
            stampedCheckpoint = try ledger.timestampedCheckpointsThrough()
        } catch {
            throw TSAError(.ledger, "cannot read the ledger's timestamps-through mark: \(error.reason)")
        }
        // Registered once: a stamper that is stopped and started again keeps one observer.
        ledger.onCommit { [weak self] _ in self?.wake() }
    }

    /// Entries appended but not yet passed by the time-stamper: those still waiting for their
    /// token, and any others not yet looked at.
    public var backlog: UInt64 {
        let size = ledger.size
        let mark = through.withLock { $0 }
        return size > mark ? size - mark : 0
    }

    /// Starts the stamping thread; it is woken by every group commit and by `wake()`.
    public func start() {
        condition.lock()
        guard !running else {
            condition.unlock()
            return
        }
        running = true
        stopping = false
        condition.unlock()
        let thread = Thread { [self] in run() }
        thread.name = "ledger-timestamps"
        thread.start()
    }

    /// Asks the thread to look again now (after a checkpoint is cut, or a halt is cleared).
    public func wake() {
        condition.lock()
        signaled = true
        condition.signal()
        condition.unlock()
    }

    /// Stops the thread after the chunk it is on; the backlog is taken up after a restart.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    /// Stamps until the backlog is empty or `deadline` passes (tests, and a clean shutdown that
    /// wants the tokens of what it just wrote). Returns whether the backlog is empty.
    public func drain(until deadline: Date) -> Bool {
        while backlog > 0 || checkpointNeedsToken() {
            guard Date() < deadline else { return false }
            wake()
            Thread.sleep(forTimeInterval: 0.01)
        }
        return true
    }

    // MARK: - On demand

    /// The token of entry `seq`, stamped now if it has none yet; nil for an entry whose type
    /// has no token of its own (its checkpoint's token proves its time).
    public func entryToken(_ seq: UInt64) throws(TSAError) -> [UInt8]? {
        let entry: LedgerEntry
        do {
            entry = try ledger.entry(seq)
        } catch {
            throw TSAError(.ledger, error.reason)
        }
        guard entry.type.hasOwnTimestamp else { return nil }
        if let token = try stored(.entry(seq)) { return token }
        stampLock.lock()
        defer { stampLock.unlock() }
        if let token = try stored(.entry(seq)) { return token }
        let token = try authority.token(imprint: entry.leafHash).token
        try store([(.entry(seq), token)], through: nil)
        entryTokens.increment()
        return token
    }

    /// The token of the checkpoint at `size`, stamped now if it has none yet; nil when no
    /// checkpoint was cut at that size.
    public func checkpointToken(size: UInt64) throws(TSAError) -> [UInt8]? {
        let record: CheckpointRecord?
        do {
            record = try ledger.checkpoint(size: size)
        } catch {
            throw TSAError(.ledger, error.reason)
        }
        guard let record else { return nil }
        if let token = try stored(.checkpoint(size)) { return token }
        return try stamp(record, movingMark: false)
    }

    /// The token of `record`, made and stored unless it has one; with `movingMark`, the
    /// `checkpoint-timestamps-through` mark moves to it in the same write (the thread only).
    private func stamp(_ record: CheckpointRecord, movingMark: Bool) throws(TSAError) -> [UInt8] {
        stampLock.lock()
        defer { stampLock.unlock() }
        let mark = movingMark ? record.size : nil
        if let token = try stored(.checkpoint(record.size)) {
            if mark != nil { try store([], through: nil, checkpointsThrough: mark) }
            return token
        }
        let token = try authority.token(imprint: Self.checkpointImprint(record)).token
        try store([(.checkpoint(record.size), token)], through: nil, checkpointsThrough: mark)
        checkpointTokens.increment()
        return token
    }

    /// What a checkpoint's token stamps: the SHA-256 of its signed-note body (the text the
    /// Ed25519 signature covers), so `openssl ts -verify -data body.txt` checks it.
    public static func checkpointImprint(_ record: CheckpointRecord) -> [UInt8] {
        TimeStampHash.sha256.digest(Array(record.body.text.utf8))
    }

    // MARK: - The thread

    private func run() {
        // SCHED_IDLE for this thread alone (on Linux, pid 0 is the calling thread): it runs
        // only on CPU nothing else wants, so appends, HTTP answers and the TSA's own clients
        // come first. At nice 0, and even at nice 10, 64 appenders on 2 cores lost about 30 %
        // beside it (docs/BENCHMARKS.md).
        var parameters = sched_param()
        if sched_setscheduler(0, Self.schedulingPolicy, &parameters) != 0 {
            logger.warning("cannot lower the time-stamper's priority; it competes with appends for CPU", metadata: ["errno": "\(errno)"])
        }
        while true {
            condition.lock()
            signaled = false
            let stop = stopping
            condition.unlock()
            if stop { break }

            var busy = false
            var failed = false
            do throws(TSAError) {
                try stampCheckpoints()
                busy = try stampEntries()
                if lastFailure != nil {
                    logger.notice("ledger time-stamping goes on", metadata: ["backlog": "\(backlog)"])
                    lastFailure = nil
                }
            } catch {
                failed = true
                failures.increment()
                if lastFailure != error.reason {
                    logger.error("ledger time-stamping is held up; it retries", metadata: ["error": "\(error)", "backlog": "\(backlog)"])
                    lastFailure = error.reason
                }
            }
            backlogGauge.record(Double(backlog))
            if busy && !failed { continue }

            condition.lock()
            if !signaled && !stopping {
                _ = condition.wait(until: Date(timeIntervalSinceNow: failed ? Self.retryInterval : 5))
            }
            condition.unlock()
        }
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
    }

    /// Stamps every checkpoint after the `checkpoint-timestamps-through` mark that has no token
    /// yet (several after a TSA halt; one an on-demand request stamped is skipped), oldest
    /// first, moving the mark with each, so that a pass cut short goes on where it stopped.
    private func stampCheckpoints() throws(TSAError) {
        var missing: [CheckpointRecord] = []
        do {
            guard var record = try ledger.latestCheckpoint(), record.size > stampedCheckpoint else { return }
            while record.size > stampedCheckpoint {
                missing.append(record)
                guard let previous = record.previous, let earlier = try ledger.checkpoint(size: previous) else { break }
                record = earlier
            }
        } catch {
            throw TSAError(.ledger, "\(error)")
        }
        for record in missing.reversed() {
            _ = try stamp(record, movingMark: true)
            stampedCheckpoint = record.size
        }
    }

    /// Whether the thread has checkpoints left to stamp (read from the stored mark, which the
    /// thread alone moves).
    private func checkpointNeedsToken() -> Bool {
        guard let latest = try? ledger.latestCheckpoint() else { return false }
        return ((try? ledger.timestampedCheckpointsThrough()) ?? 0) < latest.size
    }

    /// Stamps the next chunk of entries after the mark; returns whether there may be more.
    private func stampEntries() throws(TSAError) -> Bool {
        let size = ledger.size
        let start = through.withLock { $0 }
        guard start < size else { return false }
        let end = min(size, start + Self.chunk)
        // The chunk is signed without the lock, so that an on-demand request (an HTTP handler
        // on an event loop) never waits for a whole chunk; under the lock, a token made on
        // demand meanwhile wins and this one is dropped (its serial is simply unused).
        var tokens: [(subject: TimestampSubject, token: [UInt8])] = []
        var failure: TSAError?
        var mark = end
        for seq in start..<end {
            do throws(TSAError) {
                let entry: LedgerEntry
                do {
                    entry = try ledger.entry(seq)
                } catch {
                    throw TSAError(.ledger, error.reason)
                }
                guard entry.type.hasOwnTimestamp, try stored(.entry(seq)) == nil else { continue }
                tokens.append((.entry(seq), try authority.token(imprint: entry.leafHash).token))
            } catch {
                // Keep what was made before the failure; the mark stops at the entry that failed.
                failure = error
                mark = seq
                break
            }
        }
        stampLock.lock()
        defer { stampLock.unlock() }
        var fresh: [(subject: TimestampSubject, token: [UInt8])] = []
        for item in tokens where try stored(item.subject) == nil { fresh.append(item) }
        try store(fresh, through: mark)
        entryTokens.increment(by: fresh.count)
        if let failure { throw failure }
        return end < size
    }

    private func stored(_ subject: TimestampSubject) throws(TSAError) -> [UInt8]? {
        do {
            return try ledger.timestampToken(for: subject)
        } catch {
            throw TSAError(.ledger, error.reason)
        }
    }

    private func store(_ tokens: [(subject: TimestampSubject, token: [UInt8])], through mark: UInt64?, checkpointsThrough: UInt64? = nil) throws(TSAError) {
        if tokens.isEmpty && mark == nil && checkpointsThrough == nil { return }
        do {
            try ledger.storeTimestampTokens(tokens, through: mark, checkpointsThrough: checkpointsThrough)
        } catch {
            throw TSAError(.ledger, "cannot store time-stamp tokens: \(error.reason)")
        }
        if let mark { through.withLock { $0 = max($0, mark) } }
    }
}
