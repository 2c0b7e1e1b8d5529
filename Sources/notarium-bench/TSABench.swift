import Appliance
import Foundation
import Ledger
import Logging
import OpenSSLKit
import TimeStamping

/// The TSA benchmark (`--only tsa`): tokens per second and latency from a live notariumd over
/// HTTP keep-alive, driven by wrk, beside the same load on tsabase (a thin C server on OpenSSL's
/// own TS engine, ../shared/bench/tsabase) and OpenSSL's raw ECDSA P-256 signing rate, all in
/// this run. Needs wrk (appliance/install-deps.sh --bench) and, for tsabase, gcc and the
/// tsabase sources; what is missing is reported as skipped, never guessed.
func benchTSA(directory: String, seconds: Double) async throws {
    let baseline = benchOpenSSLSigning(seconds: seconds)
    let work = directory + "/tsa-bench"
    try? FileManager.default.removeItem(atPath: work)
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    guard let wrk = executable("wrk") else {
        emit(["bench": "tsa.http", "skipped": "wrk is not installed (appliance/install-deps.sh --bench)"])
        return
    }
    // One fixed query, as a client that asks for the certificate would send it.
    let document = work + "/document.bin"
    try Data((0..<65_536).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: document))
    let query = work + "/query.tsq"
    try run("/usr/bin/openssl", ["ts", "-query", "-data", document, "-sha256", "-cert", "-out", query])
    let script = work + "/post.lua"
    try wrkScript.write(toFile: script, atomically: true, encoding: .utf8)
    let duration = "\(max(1, Int(seconds.rounded())))s"

    // Ours, first in this process: the TSA's own work per token on one thread (parse the
    // query, check it, sign, encode the reply), beside tsabase's engine figure below.
    do {
        let (configuration, data, ledger, authority) = try await benchDataDirectory(work + "/data")
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let tsa = try await data.openTSA(configuration: configuration, authority: authority, create: true, logger: logger)
        let queryBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: query)))
        var count = 0
        let start = now()
        while now() - start < seconds {
            for _ in 0..<50 { _ = tsa.respond(to: queryBytes) }
            count += 50
        }
        emit(["bench": "tsa.engine", "threads": 1, "tokensPerSecond": Int(Double(count) / (now() - start)), "microsecondsPerToken": (now() - start) / Double(count) * 1e6])
        ledger.close()
        data.close()
    }
    // Then notariumd on that data directory, over HTTP.
    let daemon = try startDaemon(dataDirectory: work + "/data")
    for connections in [1, 16, 64] {
        let cpuBefore = processCPUSeconds(daemon.process.processIdentifier)
        let result = try runWrk(wrk, script: script, query: query, connections: connections, duration: duration, url: "http://127.0.0.1:\(daemon.port)/tsa")
        let cpu = processCPUSeconds(daemon.process.processIdentifier) - cpuBefore
        emit([
            "bench": "tsa.http", "server": "notariumd", "connections": connections,
            "tokensPerSecond": result.rate, "p50Milliseconds": result.p50, "p99Milliseconds": result.p99,
            "errors": result.errors, "serverCpuMicrosecondsPerToken": result.requests > 0 ? Int(cpu / Double(result.requests) * 1e6) : 0,
            "baselineSignaturesPerSecond": Int(baseline),
        ])
    }
    // Every reply must be a granted token: check one the way a client would.
    let reply = work + "/reply.tsr"
    try run("/usr/bin/curl", ["-sS", "-o", reply, "--data-binary", "@" + query, "-H", "Content-Type: application/timestamp-query", "http://127.0.0.1:\(daemon.port)/tsa"])
    try run("/usr/bin/curl", ["-sS", "-o", work + "/chain.pem", "http://127.0.0.1:\(daemon.port)/tsa/certs"])
    let verified = (try? run("/usr/bin/openssl", ["ts", "-verify", "-in", reply, "-queryfile", query, "-CAfile", work + "/data/public/root-ca.pem", "-untrusted", work + "/chain.pem"])) != nil
    daemon.stop()
    emit(["bench": "tsa.http.check", "replyVerifies": verified])

    // tsabase, same query, same wrk settings, same machine.
    let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/bench/tsabase").standardized.path
    guard FileManager.default.fileExists(atPath: sources + "/tsabase.c"), let gcc = executable("gcc") else {
        emit(["bench": "tsabase.http", "skipped": "no tsabase sources at \(sources) or no gcc"])
        return
    }
    try run(gcc, ["-O2", "-o", work + "/tsabase", sources + "/tsabase.c", "-lcrypto", "-lpthread"])
    try run("/bin/bash", [sources + "/pki.sh", work + "/tsapki"])
    let engine = try runCapturing(work + "/tsabase", ["bench", work + "/tsapki/tsa.pem", work + "/tsapki/tsa.key", work + "/tsapki/chain.pem", query])
    emit(["bench": "tsabase.engine", "output": engine.trimmingCharacters(in: .whitespacesAndNewlines)])
    let port = 18_321
    let base = Process()
    base.executableURL = URL(fileURLWithPath: work + "/tsabase")
    base.arguments = ["\(port)", work + "/tsapki/tsa.pem", work + "/tsapki/tsa.key", work + "/tsapki/chain.pem", "\(ProcessInfo.processInfo.activeProcessorCount)"]
    base.standardOutput = FileHandle.nullDevice
    base.standardError = FileHandle.nullDevice
    try base.run()
    defer {
        // SIGKILL: a process spawned from a Swift concurrency thread may inherit a signal
        // mask that blocks SIGTERM, and tsabase has nothing to save.
        kill(base.processIdentifier, SIGKILL)
        base.waitUntilExit()
    }
    usleep(500_000)
    for connections in [1, 16, 64] {
        let result = try runWrk(wrk, script: script, query: query, connections: connections, duration: duration, url: "http://127.0.0.1:\(port)/tsa")
        emit([
            "bench": "tsabase.http", "connections": connections, "tokensPerSecond": result.rate,
            "p50Milliseconds": result.p50, "p99Milliseconds": result.p99, "errors": result.errors,
        ])
    }
}

/// Our own wrk script: POST the query named by $TSQ; print one machine-readable line.
let wrkScript = """
    local f = io.open(os.getenv("TSQ"), "rb"); local body = f:read("*a"); f:close()
    wrk.method = "POST"; wrk.body = body
    wrk.headers["Content-Type"] = "application/timestamp-query"
    done = function(summary, latency, requests)
      io.write(string.format("NOTARIUM requests=%d seconds=%.3f p50_us=%d p99_us=%d errors=%d non2xx=%d\\n",
        summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
    end
    """

struct WrkResult {
    let requests: Int
    let rate: Int
    let p50: Double
    let p99: Double
    let errors: Int
}

func runWrk(_ wrk: String, script: String, query: String, connections: Int, duration: String, url: String) throws -> WrkResult {
    let output = try runCapturing(wrk, ["-t1", "-c\(connections)", "-d\(duration)", "--latency", "-s", script, url], environment: ["TSQ": query])
    guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("NOTARIUM ") }) else { fail("wrk printed no result: \(output)") }
    var fields: [String: Double] = [:]
    for pair in line.split(separator: " ").dropFirst() {
        let parts = pair.split(separator: "=")
        if parts.count == 2 { fields[String(parts[0])] = Double(parts[1]) }
    }
    let requests = Int(fields["requests"] ?? 0)
    let elapsed = fields["seconds"] ?? 1
    return WrkResult(
        requests: requests, rate: Int(Double(requests) / elapsed),
        p50: ((fields["p50_us"] ?? 0) / 10).rounded() / 100, p99: ((fields["p99_us"] ?? 0) / 10).rounded() / 100,
        errors: Int((fields["errors"] ?? 0) + (fields["non2xx"] ?? 0)))
}

/// A notariumd started for a benchmark, and the ports it bound.
struct BenchDaemon {
    let process: Process
    let port: UInt16
    /// The API's TLS listener.
    let apiPort: UInt16
    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

/// Starts notariumd (beside this executable) on `dataDirectory` and reads its ports, both
/// picked by the system.
func startDaemon(dataDirectory: String, environment: [String: String] = [:]) throws -> BenchDaemon {
    let daemonPath = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("notariumd").path
    let daemon = Process()
    daemon.executableURL = URL(fileURLWithPath: daemonPath)
    daemon.arguments = ["--data", dataDirectory, "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0", "--log-level", "error"]
    if !environment.isEmpty { daemon.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let output = Pipe()
    daemon.standardOutput = output
    try daemon.run()
    // "… listening on http://127.0.0.1:PORT (…)" and "… API serving on https://127.0.0.1:PORT (…)".
    func port(after marker: String, in line: Substring) -> UInt16? {
        guard let range = line.range(of: marker) else { return nil }
        return UInt16(line[range.upperBound...].split(separator: ":").dropFirst().first?.prefix(while: \.isNumber) ?? "")
    }
    var text = "", plain: UInt16?, api: UInt16?
    while plain == nil || api == nil, let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty {
        text += String(decoding: byte, as: UTF8.self)
        guard text.hasSuffix("\n"), let line = text.split(separator: "\n").last else { continue }
        plain = plain ?? port(after: "listening on http://", in: line)
        api = api ?? port(after: "API serving on https://", in: line)
    }
    guard let plain, let api else {
        daemon.terminate()
        fail("notariumd did not report its ports: \(text)")
    }
    return BenchDaemon(process: daemon, port: plain, apiPort: api)
}

func executable(_ name: String) -> String? {
    ["/usr/bin/", "/usr/local/bin/", "/bin/"].map { $0 + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

@discardableResult
func run(_ path: String, _ arguments: [String]) throws -> String {
    try runCapturing(path, arguments)
}

/// Runs a tool to its end; its standard output, or a failure naming it.
func runCapturing(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { fail("\(path) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)") }
    return String(decoding: data, as: UTF8.self)
}

/// Whether the ledger's appends wait on the TSA (`--only ledger.timestamps`): evidence appends
/// from 64 tasks, first with no time-stamper, then with it stamping every entry behind them;
/// then how fast the left-over backlog drains with nothing else running. On two cores the
/// stamper's signing competes with the appends for CPU, though never for a lock.
func benchLedgerTimestamps(directory: String, seconds: Double) async throws {
    let (configuration, data, ledger, authority) = try await benchDataDirectory(directory + "/ledger-timestamps")
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let tsa = try await data.openTSA(configuration: configuration, authority: authority, create: true, logger: logger)
    defer {
        ledger.close()
        data.close()
    }
    let alone = try await appendUntil(ledger, appenders: 64, seconds: seconds)
    emit(["bench": "ledger.timestamps", "stamper": false, "appendsPerSecond": Int(Double(alone.count) / seconds), "p99Milliseconds": (percentile(alone.latencies, 0.99) * 1e5).rounded() / 100])

    let stamper = try LedgerTimeStamper(ledger: ledger, authority: tsa, logger: logger)
    let markBefore = try ledger.timestampedThrough()
    stamper.start()
    let together = try await appendUntil(ledger, appenders: 64, seconds: seconds)
    let stampedDuring = try ledger.timestampedThrough() - markBefore
    let backlog = stamper.backlog
    emit([
        "bench": "ledger.timestamps", "stamper": true, "appendsPerSecond": Int(Double(together.count) / seconds),
        "p99Milliseconds": (percentile(together.latencies, 0.99) * 1e5).rounded() / 100,
        "entriesStampedPerSecond": Int(Double(stampedDuring) / seconds), "backlogAtEnd": Int(backlog),
    ])
    let drainStart = now()
    let drained = stamper.drain(until: Date(timeIntervalSinceNow: 600))
    let drainSeconds = now() - drainStart
    stamper.stop()
    emit(["bench": "ledger.timestamps.drain", "entries": Int(backlog), "drained": drained, "entriesStampedPerSecond": drainSeconds > 0 ? Int(Double(backlog) / drainSeconds) : 0])
}
