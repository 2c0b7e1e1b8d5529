// notarium-bench: Notarium's benchmarks, one JSON object per line on standard output.
// Run in release: swift run -c release notarium-bench [--seconds S] [--dir DIR] [--only NAME]
// Every figure of ours is measured beside its baseline in the same run; this first benchmark
// is the baseline itself (raw RocksDB synced write batches).
//
// `notarium-bench crash-writer DIR` and `ledger-crash-writer DIR` are not benchmarks: they
// append forever (raw synced batches; ledger appends from 64 tasks), printing each acknowledged
// key, for the kill -9 durability tests; `ca-crash-writer DIR` likewise issues certificates.
import Appliance
import Foundation
import RocksDBStore

struct BenchOptions {
    var seconds = 3.0
    var directory = "./notarium-bench-data"
    var only: String? = nil
    /// Entries in the scale benchmark (append cost at 10^4/10^5/10^6, bytes, proof latency).
    var entries = 1_000_000
}

func parseOptions(_ arguments: [String]) -> BenchOptions {
    var options = BenchOptions()
    var index = 0
    func value() -> String {
        index += 1
        guard index < arguments.count else { fail("\(arguments[index - 1]) needs a value") }
        return arguments[index]
    }
    while index < arguments.count {
        switch arguments[index] {
        case "--seconds":
            guard let seconds = Double(value()), seconds > 0 else { fail("--seconds takes a positive number") }
            options.seconds = seconds
        case "--dir": options.directory = value()
        case "--only": options.only = value()
        case "--entries":
            guard let entries = Int(value()), entries >= 10_000 else { fail("--entries takes a number of at least 10000") }
            options.entries = entries
        case "-h", "--help":
            print("usage: notarium-bench [--seconds S (default 3)] [--dir DIR (default ./notarium-bench-data)]")
            print("                      [--only rocksdb.write-batch|ledger.append|ledger.scale|ca|ca.steps|tsa|ledger.timestamps|bundles|api|delivery] [--entries N (default 1000000)]")
            print("       notarium-bench crash-writer DIR | ledger-crash-writer DIR | ca-crash-writer DIR")
            print("       notarium-bench delivery-crash-writer DIR PORT NOTICES SERVICES [sent|deemed|sms [CLOCK-OFFSET-MS]]   (durability tests)")
            exit(0)
        default: fail("unknown argument \(arguments[index])")
        }
        index += 1
    }
    return options
}

func fail(_ message: String) -> Never {
    printToStandardError("notarium-bench: \(message)")
    exit(2)
}

/// A JSON line from ordered fields; values are numbers, booleans or strings.
func emit(_ fields: KeyValuePairs<String, Any>) {
    var parts: [String] = []
    for (key, value) in fields {
        let rendered: String
        switch value {
        case let text as String: rendered = jsonString(text)
        case let flag as Bool: rendered = flag ? "true" : "false"
        case let number as Double: rendered = String(format: "%.3f", number)
        default: rendered = "\(value)"
        }
        parts.append("\"\(key)\":\(rendered)")
    }
    print("{" + parts.joined(separator: ",") + "}")
    fflush(nil)
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Raw RocksDB write batches of `batchSize` 300-byte values, each written synced (or not), for
/// `seconds`: the baseline every later durable-append figure is compared with.
@discardableResult
func benchWriteBatches(directory: String, batchSize: Int, synced: Bool, seconds: Double) throws -> Double {
    let path = directory + "/write-batch-\(batchSize)-\(synced ? "sync" : "nosync")"
    try? FileManager.default.removeItem(atPath: path)
    let database = try Database(path: path, options: OpenOptions(createIfMissing: true))
    defer {
        database.close()
        try? FileManager.default.removeItem(atPath: path)
    }
    var generator = SystemRandomNumberGenerator()
    let value = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
    var counter: UInt64 = 0
    func nextBatch() -> WriteBatch {
        var batch = WriteBatch()
        for _ in 0..<batchSize {
            counter += 1
            batch.put(withUnsafeBytes(of: counter.bigEndian) { Array($0) }, value)
        }
        return batch
    }
    // Warm-up: a few batches so file creation is not measured.
    for _ in 0..<3 { try database.write(nextBatch(), durability: synced ? .synced : .unsynced) }
    var latencies: [Double] = []
    let start = now()
    while now() - start < seconds {
        let batch = nextBatch()
        let begin = now()
        try database.write(batch, durability: synced ? .synced : .unsynced)
        latencies.append(now() - begin)
    }
    let elapsed = now() - start
    latencies.sort()
    emit([
        "benchmark": "rocksdb.write-batch", "role": "baseline", "sync": synced, "batch_size": batchSize,
        "value_bytes": 300, "batches": latencies.count, "entries": latencies.count * batchSize,
        "seconds": elapsed, "batches_per_second": Double(latencies.count) / elapsed,
        "entries_per_second": Double(latencies.count * batchSize) / elapsed,
        "p50_batch_ms": percentile(latencies, 0.5) * 1000, "p99_batch_ms": percentile(latencies, 0.99) * 1000,
        "rocksdb": rocksDBVersion,
    ])
    return Double(latencies.count * batchSize) / elapsed
}

/// Appends synced single-key batches forever and prints each key once `write` has returned:
/// every printed key MUST survive a kill -9.
func crashWriter(directory: String) throws -> Never {
    let database = try Database(path: directory, options: OpenOptions(createIfMissing: true), columnFamilies: ["log"])
    let family = try database.columnFamily("log")
    var next: UInt64 = 0
    if let last = try database.scan(in: family, from: [], limit: .max).last {
        next = last.key.reduce(0) { ($0 << 8) | UInt64($1) } + 1
    }
    while true {
        var batch = WriteBatch()
        let key = withUnsafeBytes(of: next.bigEndian) { Array($0) }
        batch.put(key, Array(repeating: UInt8(truncatingIfNeeded: next), count: 300), in: family)
        try database.write(batch, durability: .synced)
        print("acked \(next)")
        fflush(nil)
        next += 1
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    if arguments.first == "crash-writer" {
        guard arguments.count == 2 else { fail("usage: notarium-bench crash-writer DIR") }
        try crashWriter(directory: arguments[1])
    }
    if arguments.first == "ledger-crash-writer" {
        guard arguments.count == 2 else { fail("usage: notarium-bench ledger-crash-writer DIR") }
        try await ledgerCrashWriter(directory: arguments[1])
    }
    if arguments.first == "ca-crash-writer" {
        guard arguments.count == 2 else { fail("usage: notarium-bench ca-crash-writer DIR") }
        try await caCrashWriter(path: arguments[1])
    }
    if arguments.first == "delivery-crash-writer" {
        guard (5...7).contains(arguments.count), let port = Int(arguments[2]), let services = Int(arguments[4]),
              arguments.count < 6 || ["sent", "deemed", "sms"].contains(arguments[5]), let offset = Int64(arguments.count == 7 ? arguments[6] : "0")
        else {
            fail("usage: notarium-bench delivery-crash-writer DIR PORT NOTICES SERVICES [sent|deemed|sms [CLOCK-OFFSET-MS]]")
        }
        try await deliveryCrashWriter(path: arguments[1], port: port, notices: arguments[3], services: services, until: arguments.count > 5 ? arguments[5] : "sent", offset: offset)
    }
    let options = parseOptions(arguments)
    try FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
    #if DEBUG
    printToStandardError("notarium-bench: this is a debug build; run `swift run -c release notarium-bench` for figures worth recording")
    #endif
    var baseline1000 = 0.0
    if options.only == nil || options.only == "rocksdb.write-batch" || options.only == "ledger.append" {
        for batchSize in [1, 100, 1000] where options.only != "ledger.append" || batchSize == 1000 {
            let rate = try benchWriteBatches(directory: options.directory, batchSize: batchSize, synced: true, seconds: options.seconds)
            if batchSize == 1000 { baseline1000 = rate }
        }
        if options.only != "ledger.append" {
            try benchWriteBatches(directory: options.directory, batchSize: 1, synced: false, seconds: options.seconds)
        }
    }
    if options.only == nil || options.only == "ledger.append" {
        try await benchLedgerAppends(directory: options.directory, seconds: options.seconds, baseline: baseline1000)
    }
    if options.only == "ledger.profile" { profileAppendCPU() }
    if options.only == "ca.steps" { try await profileCASteps(directory: options.directory) }
    if options.only == nil || options.only == "ca" {
        try await benchCA(directory: options.directory, seconds: options.seconds)
    }
    if options.only == nil || options.only == "tsa" {
        try await benchTSA(directory: options.directory, seconds: options.seconds)
    }
    if options.only == nil || options.only == "ledger.timestamps" {
        try await benchLedgerTimestamps(directory: options.directory, seconds: options.seconds)
    }
    if options.only == nil || options.only == "bundles" {
        try await benchBundles(directory: options.directory, entries: options.entries, seconds: options.seconds)
    }
    if options.only == nil || options.only == "api" {
        try await benchAPI(directory: options.directory, seconds: options.seconds)
    }
    if options.only == nil || options.only == "delivery" {
        try await benchDelivery(directory: options.directory, seconds: options.seconds)
    }
    if options.only == nil || options.only == "ledger.scale" {
        try await benchLedgerScale(directory: options.directory, entries: options.entries, samples: 100_000)
    }
    try? FileManager.default.removeItem(atPath: options.directory)
} catch {
    fail("\(error)")
}
