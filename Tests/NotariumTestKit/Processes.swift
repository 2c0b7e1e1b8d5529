import Foundation

/// The directory holding the executables `swift build` made beside the running test bundle.
public func builtProductsDirectory() -> String {
    if let override = ProcessInfo.processInfo.environment["NOTARIUM_BIN_DIR"] { return override }
    // The test runner is .build/<triple>/<config>/NotariumPackageTests.xctest; its directory also
    // holds notarium, notariumd and notarium-bench.
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return (executable as NSString).deletingLastPathComponent
}

/// The path of a built executable such as `notariumd`.
public func builtProduct(_ name: String) -> String {
    builtProductsDirectory() + "/" + name
}

/// What a finished process left behind.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let standardOutput: String
    public let standardError: String
}

/// Runs `executable` to completion (killing it after `timeout` seconds) and collects its output.
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, currentDirectory: String? = nil, standardInput: String? = nil, timeout: Double = 120) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let output = TemporaryDirectory("notarium-proc")
    _ = FileManager.default.createFile(atPath: output.file("out"), contents: nil)
    _ = FileManager.default.createFile(atPath: output.file("err"), contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output.file("out")))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: output.file("err")))
    if let standardInput {
        let pipe = Pipe()
        process.standardInput = pipe
        try process.run()
        pipe.fileHandleForWriting.write(Data(standardInput.utf8))
        try pipe.fileHandleForWriting.close()
    } else {
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
    }
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus,
        standardOutput: (try? String(contentsOfFile: output.file("out"), encoding: .utf8)) ?? "",
        standardError: (try? String(contentsOfFile: output.file("err"), encoding: .utf8)) ?? "")
}

/// A process started in the background whose output is captured to files, for servers and
/// crash tests: wait for a line, signal it, wait for it to exit.
public final class BackgroundProcess: @unchecked Sendable {
    public let process = Process()
    private let output = TemporaryDirectory("notarium-bg")

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, currentDirectory: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        _ = FileManager.default.createFile(atPath: output.file("out"), contents: nil)
        _ = FileManager.default.createFile(atPath: output.file("err"), contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output.file("out")))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: output.file("err")))
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    public var standardOutput: String { (try? String(contentsOfFile: output.file("out"), encoding: .utf8)) ?? "" }
    public var standardError: String { (try? String(contentsOfFile: output.file("err"), encoding: .utf8)) ?? "" }

    /// Waits until standard output has a line containing `text`; returns that line, or nil if the
    /// process exits or `timeout` passes first.
    public func waitForOutputLine(containing text: String, timeout: Double = 60) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = standardOutput.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            if !process.isRunning { return nil }
            usleep(20_000)
        }
        return nil
    }

    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit; returns its status, or nil (after SIGKILL) on timeout.
    @discardableResult
    public func waitForExit(timeout: Double = 60) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }
}

/// An HTTP exchange made with curl, a client we did not write.
public struct CurlResponse: Sendable {
    public let status: Int
    public let contentType: String
    public let body: String
}

public func curl(_ url: String, method: String = "GET") throws -> CurlResponse {
    let result = try runProcess("/usr/bin/curl", ["-sS", "-X", method, "-o", "-", "-w", "\n%{http_code} %{content_type}", url], timeout: 30)
    guard result.status == 0 else {
        return CurlResponse(status: 0, contentType: "", body: result.standardError)
    }
    let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
    let trailer = lines.last.map(String.init) ?? ""
    let parts = trailer.split(separator: " ", maxSplits: 1)
    return CurlResponse(
        status: Int(parts.first ?? "") ?? 0,
        contentType: parts.count > 1 ? String(parts[1]) : "",
        body: lines.dropLast().joined(separator: "\n"))
}

/// The environment for a child process: this one's, less every NOTARIUM_ setting (so that the
/// developer's own settings cannot leak into a test), plus `extra`.
public func cleanEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("NOTARIUM_") }
    // The API's TLS listener on a free port, so that appliances of tests running side by side
    // never contend for its default 8443.
    environment["NOTARIUM_API_LISTEN"] = "127.0.0.1:0"
    environment.merge(extra) { $1 }
    return environment
}

/// `curl` from async code, on a thread of its own: a blocking wait on one of the few cooperative
/// threads could starve the in-process server the request is for.
public func curlAsync(_ url: String, method: String = "GET") async throws -> CurlResponse {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try curl(url, method: method) })
        }
    }
}

/// notariumd on a free loopback port, once it has printed where it listens. Stop it with
/// `stop()` (SIGTERM, then the exit status), usually in a `defer`: that also keeps it alive to
/// the end of the test, which a last use of `baseURL` would not. `deinit` stops it too.
public final class RunningAppliance {
    public let process: BackgroundProcess
    /// `http://127.0.0.1:PORT`.
    public let baseURL: String
    /// `https://127.0.0.1:PORT`: the API over TLS.
    public let apiURL: String

    public struct DidNotStart: Error, CustomStringConvertible {
        public let standardError: String
        public var description: String { "notariumd printed no listening line; stderr: \(standardError)" }
    }

    public init(_ arguments: [String], environment: [String: String] = cleanEnvironment()) throws {
        process = try BackgroundProcess(builtProduct("notariumd"), arguments + ["--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"], environment: environment)
        guard let line = process.waitForOutputLine(containing: "listening on http://"), let url = line.split(separator: " ").first(where: { $0.hasPrefix("http://") }) else {
            throw DidNotStart(standardError: process.standardError)
        }
        baseURL = String(url)
        guard let apiLine = process.waitForOutputLine(containing: "API serving on"), let api = apiLine.split(separator: " ").first(where: { $0.hasPrefix("https://") }) else {
            throw DidNotStart(standardError: process.standardError)
        }
        apiURL = String(api)
    }

    @discardableResult
    public func stop() -> Int32? {
        if process.process.isRunning { process.signal(SIGTERM) }
        return process.waitForExit()
    }

    deinit { stop() }
}
