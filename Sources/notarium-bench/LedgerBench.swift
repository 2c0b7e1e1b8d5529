import Appliance
import CanonicalJSON
import Foundation
import Ledger
import RocksDBStore
import Sodium
import Synchronization

/// A ledger on its own database for benchmarks and the crash test, with a fixed-seed key (the
/// key's secrecy does not matter here; its determinism does not either, but it is cheap).
struct BenchLedger: Sendable {
    let database: Database
    let ledger: Ledger
    let signer: NoteSigner

    init(path: String) throws {
        database = try Database(path: path, options: OpenOptions(createIfMissing: true), columnFamilies: LedgerStorage.columnFamilies)
        signer = try NoteSigner(name: "bench.example/notarium", key: try Ed25519SigningKey(seed: SecureBytes(copying: [UInt8](repeating: 1, count: 32))))
        ledger = try Ledger.open(database: database, identity: try LedgerIdentity(origin: signer.name, verifier: signer.verifier))
    }

    func close() {
        ledger.close()
        database.close()
    }
}

/// A body of about 300 canonical bytes, shaped like an evidence record.
func benchBody(_ n: Int) -> JSONValue {
    [
        "case": .string("ODR-2026-\(100_000 + n % 900_000)"),
        "digests": [["alg": "sha-256", "value": .string(Base64.encode(SHA256.hash(Array(String(n).utf8))))]],
        "mediaType": "application/pdf", "size": .integer(Int64(n % 10_000_000)),
        "description": .string("Exhibit C-\(n % 1000): statement of claim with annexes and the expert report on damages, served electronically to the respondent"),
    ]
}

/// Runs `appenders` tasks that append until `deadline`; returns (appends, sorted latencies).
func appendUntil(_ ledger: Ledger, appenders: Int, seconds: Double) async throws -> (count: Int, latencies: [Double]) {
    let deadline = now() + seconds
    return try await withThrowingTaskGroup(of: [Double].self) { group in
        for worker in 0..<appenders {
            group.addTask {
                var latencies: [Double] = []
                var n = worker
                // The client's bodies are made before timing: building a JSONValue is the
                // caller's work (the API will parse it from JSON); canonicalizing it is ours.
                let bodies = (0..<16).map { benchBody(worker * 16 + $0) }
                while now() < deadline {
                    let begin = now()
                    _ = try await ledger.append(type: .evidence, body: bodies[n % 16])
                    latencies.append(now() - begin)
                    n += appenders
                }
                return latencies
            }
        }
        var all: [Double] = []
        for try await latencies in group { all += latencies }
        all.sort()
        return (all.count, all)
    }
}

/// Durable appends per second at 1, 16 and 256 concurrent appenders, beside the raw RocksDB
/// synced batch-1000 baseline measured in the same run.
func benchLedgerAppends(directory: String, seconds: Double, baseline: Double) async throws {
    for appenders in [1, 16, 256] {
        let path = directory + "/ledger-append-\(appenders)"
        try? FileManager.default.removeItem(atPath: path)
        let bench = try BenchLedger(path: path)
        _ = try await appendUntil(bench.ledger, appenders: appenders, seconds: min(0.5, seconds / 4))  // warm-up
        let start = now()
        let (count, latencies) = try await appendUntil(bench.ledger, appenders: appenders, seconds: seconds)
        let elapsed = now() - start
        let audit = LedgerAudit.run(database: bench.database)
        bench.close()
        try? FileManager.default.removeItem(atPath: path)
        let rate = Double(count) / elapsed
        emit([
            "benchmark": "ledger.append", "role": "ours", "appenders": appenders, "body_bytes": benchBody(7).canonicalBytes.count,
            "appends": count, "seconds": elapsed, "appends_per_second": rate,
            "p50_ms": percentile(latencies, 0.5) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000,
            "baseline": "rocksdb.write-batch sync batch 1000", "baseline_entries_per_second": baseline,
            "ratio_to_baseline": rate / baseline, "audit_passed": audit.passed,
        ])
    }
}

/// Builds a ledger of `entries` entries with 256 appenders, reporting the append rate in
/// windows at 10^4, 10^5 and 10^6 (is the cost flat?), then bytes on disk per entry and
/// inclusion-proof generation latency at the full size.
func benchLedgerScale(directory: String, entries: Int, samples: Int) async throws {
    let path = directory + "/ledger-scale"
    try? FileManager.default.removeItem(atPath: path)
    let bench = try BenchLedger(path: path)
    defer {
        bench.close()
        try? FileManager.default.removeItem(atPath: path)
    }
    let ledger = bench.ledger
    let marks = [10_000, 100_000, 1_000_000].filter { $0 <= entries }
    /// Each window is the last tenth before its mark, at most 10,000 appends.
    func window(_ mark: Int) -> Int { min(mark / 10, 10_000) }
    // Each window: the appends from mark − window to mark, timed.
    final class Progress: Sendable {
        let windowStarts = Mutex<[Int: Double]>([:])
        let windowEnds = Mutex<[Int: Double]>([:])
        let background = Mutex<[Int: String]>([:])
        let next = Atomic<Int>(0)
    }
    let progress = Progress()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<256 {
            group.addTask {
                while true {
                    let n = progress.next.add(1, ordering: .relaxed).oldValue
                    guard n < entries else { return }
                    let receipt = try await ledger.append(type: .evidence, body: benchBody(n))
                    let size = Int(receipt.seq) + 1
                    for mark in marks {
                        if size == mark - window(mark) { progress.windowStarts.withLock { $0[mark] = now() } }
                        if size == mark {
                            progress.windowEnds.withLock { $0[mark] = now() }
                            // What RocksDB is doing in the background at that moment.
                            let flushes = (try? bench.database.property("rocksdb.num-running-flushes")).flatMap { $0 } ?? "?"
                            let compactions = (try? bench.database.property("rocksdb.num-running-compactions")).flatMap { $0 } ?? "?"
                            let files = (try? bench.database.property("rocksdb.num-files-at-level0", in: bench.database.columnFamily(LedgerStorage.entriesFamily))).flatMap { $0 } ?? "?"
                            progress.background.withLock { $0[mark] = "flushes \(flushes), compactions \(compactions), L0 files (entries) \(files)" }
                        }
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    for mark in marks {
        guard let start = progress.windowStarts.withLock({ $0[mark] }), let end = progress.windowEnds.withLock({ $0[mark] }) else { continue }
        let rate = Double(window(mark)) / (end - start)
        emit([
            "benchmark": "ledger.append-cost", "role": "ours", "appenders": 256, "at_size": mark, "window_entries": window(mark),
            "appends_per_second": rate, "microseconds_per_append": 1e6 / rate,
            "rocksdb_background": progress.background.withLock { $0[mark] } ?? "",
        ])
    }

    // Bytes on disk, after the memtables are flushed to SST files.
    try bench.database.flush()
    let files = (try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []
    var bytes = 0
    for file in files where file.hasSuffix(".sst") || file.hasSuffix(".log") || file.hasSuffix(".blob") {
        bytes += ((try? FileManager.default.attributesOfItem(atPath: path + "/" + file))?[.size] as? Int) ?? 0
    }
    var entryBytes = 0
    for seq in stride(from: 0, to: entries, by: max(1, entries / 1000)) { entryBytes += try ledger.entry(UInt64(seq)).bytes.count }
    let sampled = (entries + max(1, entries / 1000) - 1) / max(1, entries / 1000)
    emit([
        "benchmark": "ledger.bytes-per-entry", "role": "ours", "entries": entries, "disk_bytes": bytes,
        "disk_bytes_per_entry": Double(bytes) / Double(entries), "canonical_entry_bytes": Double(entryBytes) / Double(sampled),
        "note": "RocksDB SST + WAL files after flush: entry, leaf and interior nodes, head",
    ])

    // Baseline: one raw RocksDB point read of a random leaf hash, the unit a proof is made of.
    var generator = SystemRandomNumberGenerator()
    let size = ledger.size
    let treeFamily = try bench.database.columnFamily(LedgerStorage.treeFamily)
    var reads: [Double] = []
    for _ in 0..<samples {
        let key = LedgerStorage.nodeKey(level: 0, index: UInt64.random(in: 0..<size, using: &generator))
        let begin = now()
        let value = try bench.database.get(key, in: treeFamily)
        reads.append(now() - begin)
        precondition(value?.count == 32)
    }
    reads.sort()
    emit([
        "benchmark": "rocksdb.point-read", "role": "baseline", "tree_size": Int(size), "samples": samples,
        "p50_us": percentile(reads, 0.5) * 1e6, "p99_us": percentile(reads, 0.99) * 1e6,
    ])

    // Inclusion proofs at the full size for random leaves.
    for _ in 0..<1000 { _ = try ledger.inclusionProof(index: UInt64.random(in: 0..<size, using: &generator), size: size) }
    var latencies: [Double] = []
    latencies.reserveCapacity(samples)
    for _ in 0..<samples {
        let index = UInt64.random(in: 0..<size, using: &generator)
        let begin = now()
        let proof = try ledger.inclusionProof(index: index, size: size)
        latencies.append(now() - begin)
        precondition(!proof.hashes.isEmpty)
    }
    latencies.sort()
    var consistency: [Double] = []
    for _ in 0..<(samples / 10) {
        let from = UInt64.random(in: 1...size, using: &generator)
        let begin = now()
        _ = try ledger.consistencyProof(from: from, to: size)
        consistency.append(now() - begin)
    }
    consistency.sort()
    emit([
        "benchmark": "ledger.inclusion-proof", "role": "ours", "tree_size": Int(size), "samples": samples,
        "p50_us": percentile(latencies, 0.5) * 1e6, "p99_us": percentile(latencies, 0.99) * 1e6,
        "consistency_p50_us": percentile(consistency, 0.5) * 1e6, "consistency_p99_us": percentile(consistency, 0.99) * 1e6,
    ])
}

/// Appends from 64 tasks forever, printing `acked SEQ LEAFHASH` once each append has returned:
/// every printed line MUST survive a kill -9, with no gap before it.
func ledgerCrashWriter(directory: String) async throws -> Never {
    let bench = try BenchLedger(path: directory)
    final class Output: Sendable { let lock = Mutex<Void>(()) }
    let output = Output()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<64 {
            group.addTask {
                var n = worker
                while true {
                    let receipt = try await bench.ledger.append(type: .evidence, body: benchBody(n))
                    output.lock.withLock { _ in
                        print("acked \(receipt.seq) \(Base64.encode(receipt.leafHash))")
                        fflush(nil)
                    }
                    n += 64
                }
            }
        }
        try await group.waitForAll()
    }
    exit(0)
}

/// Where an append's CPU time goes, single-threaded: building a body, canonicalizing it,
/// encoding and hashing the entry, extending the tree. For looking, not for recording.
func profileAppendCPU() {
    let count = 100_000
    var start = now()
    var bodies: [JSONValue] = []
    bodies.reserveCapacity(count)
    for n in 0..<count { bodies.append(benchBody(n)) }
    emit(["benchmark": "ledger.profile", "step": "build body", "microseconds": (now() - start) / Double(count) * 1e6])
    start = now()
    var total = 0
    for body in bodies { total += body.canonicalBytes.count }
    emit(["benchmark": "ledger.profile", "step": "canonical bytes", "microseconds": (now() - start) / Double(count) * 1e6])
    start = now()
    for body in bodies { total += body.depth }
    emit(["benchmark": "ledger.profile", "step": "depth", "microseconds": (now() - start) / Double(count) * 1e6])
    let canonical = bodies[0].canonicalBytes
    start = now()
    var range = CompactRange()
    var batch = WriteBatch()
    for n in 0..<count {
        let bytes = LedgerEntryProfile.encode(seq: UInt64(n), bodyBytes: canonical)
        let leaf = Merkle.leafHash(bytes)
        range.append(leaf) { level, index, hash in batch.put([UInt8(level)] + withUnsafeBytes(of: index.bigEndian) { Array($0) }, hash) }
        total += bytes.count
    }
    emit(["benchmark": "ledger.profile", "step": "encode + hash + tree + batch", "microseconds": (now() - start) / Double(count) * 1e6, "check": total])
}

enum LedgerEntryProfile {
    static func encode(seq: UInt64, bodyBytes: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = Array("{\"body\":".utf8) + bodyBytes
        bytes += Array(",\"prev\":\"\(Base64.encode([UInt8](repeating: 1, count: 32)))\",\"seq\":\(seq),\"time\":\"2026-11-18T11:06:40.000Z\",\"type\":\"evidence\"}".utf8)
        return bytes
    }
}
