import CanonicalJSON
import Foundation
import NotariumTestKit
import Testing

func notarium(_ arguments: [String]) throws -> ProcessResult {
    try runProcess(builtProduct("notarium"), arguments, environment: cleanEnvironment(), timeout: 120)
}

func openssl(_ arguments: [String], in directory: String) throws -> ProcessResult {
    try runProcess("/usr/bin/openssl", arguments, currentDirectory: directory, timeout: 60)
}

struct FixtureFailure: Error, CustomStringConvertible {
    let description: String
}

/// A data directory with a CA, a TSA, a signer certified by the CA, one evidence entry and its
/// bundles and trust file, made once through the real `notarium` command line and shared by
/// the tests of this target (they only read it).
final class EvidenceFixture: @unchecked Sendable {
    let directory = TemporaryDirectory("notarium-verify")
    let data: [String]
    let seq: Int
    let bundle: String
    let embeddedBundle: String
    let trust: String
    let document: String
    let otherDocument: String
    /// A trust file from another appliance: its ledger key is not this ledger's.
    let foreignTrust: String

    static let shared = Result { try EvidenceFixture() }

    /// Held by a test for as long as it runs commands on the shared data directory: one command
    /// at a time holds its lock, and tests of several suites that run in parallel compare what
    /// the directory holds before and after, so each needs it to itself for its whole body.
    private static let dataLock = NSLock()

    static func withData<T>(_ body: () throws -> T) rethrows -> T {
        dataLock.lock()
        defer { dataLock.unlock() }
        return try body()
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> ProcessResult {
        let result = try notarium(arguments)
        guard result.status == 0 else { throw FixtureFailure(description: "notarium \(arguments.joined(separator: " ")) → \(result.status): \(result.standardError)") }
        return result
    }

    private init() throws {
        let path = directory.path
        let data = ["--data", directory.file("data"), "--ledger-origin", "notary.test/notarium"]
        self.data = data
        try Self.run(["init"] + data)
        try Self.run(["ca", "init"] + data)
        for name in ["alice", "bob"] {
            _ = try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "\(name).key"], in: path)
            _ = try openssl(["req", "-new", "-key", "\(name).key", "-subj", "/CN=\(name.capitalized) Party/O=Example Ltd/C=DE", "-out", "\(name).csr"], in: path)
            try Self.run(["ca", "issue", "--profile", "signer", "--csr", directory.file("\(name).csr"), "--out", directory.file("\(name).pem")] + data)
        }
        document = directory.file("exhibit.pdf")
        otherDocument = directory.file("other.pdf")
        try Data((0..<6000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }).write(to: URL(fileURLWithPath: document))
        try Data((0..<6000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 4) }).write(to: URL(fileURLWithPath: otherDocument))
        let added = try Self.run([
            "evidence", "add", document, "--case", "ARB-2026/0142", "--key", directory.file("alice.key"), "--cert", directory.file("alice.pem"),
            "--media-type", "application/pdf", "--description", "Exhibit C-1",
        ] + data)
        guard let receipt = try JSONSerialization.jsonObject(with: Data(added.standardOutput.utf8)) as? [String: Any], let seq = receipt["seq"] as? Int else {
            throw FixtureFailure(description: "evidence add printed \(added.standardOutput)")
        }
        self.seq = seq
        bundle = directory.file("evidence.bundle")
        embeddedBundle = directory.file("embedded.bundle")
        trust = directory.file("trust.json")
        foreignTrust = directory.file("foreign-trust.json")
        try Self.run(["bundle", "export", "--seq", String(seq), "--out", bundle] + data)
        try Self.run(["bundle", "export", "--seq", String(seq), "--out", embeddedBundle, "--embed-document", document] + data)
        try Self.run(["trust", "export", "--out", trust] + data)
        let foreign = ["--data", directory.file("foreign"), "--ledger-origin", "notary.test/notarium"]
        try Self.run(["init"] + foreign)
        try Self.run(["ca", "init"] + foreign)
        try Self.run(["trust", "export", "--out", foreignTrust] + foreign)
    }

    func file(_ name: String) -> String { directory.file(name) }
}

/// The bundle as a JSON tree, and back to canonical bytes after a change.
func readJSON(_ path: String) throws -> JSONValue {
    try CanonicalJSON.parse(try readBytes(path))
}

func write(_ value: JSONValue, to path: String) throws {
    try Data(value.canonicalBytes).write(to: URL(fileURLWithPath: path))
}

/// Replaces the member at `path` (object keys and array indices) with `transform` of it.
func modify(_ value: JSONValue, _ path: [String], _ transform: (JSONValue) -> JSONValue) -> JSONValue {
    guard let head = path.first else { return transform(value) }
    let rest = Array(path.dropFirst())
    switch value {
    case .object(var members):
        members[head] = modify(members[head] ?? .null, rest, transform)
        return .object(members)
    case .array(var items):
        let index = Int(head)!
        items[index] = modify(items[index], rest, transform)
        return .array(items)
    default:
        return value
    }
}

/// Flips one bit of the base64-encoded bytes of a string member.
func flipBit(_ value: JSONValue, bit: Int) -> JSONValue {
    guard let text = value.stringValue, var bytes = Base64.decode(text), !bytes.isEmpty else { return value }
    let position = bit % (bytes.count * 8)
    bytes[position / 8] ^= UInt8(1 << (position % 8))
    return .string(Base64.encode(bytes))
}

struct Verification {
    let status: Int32
    let report: [String: Any]
    let text: String

    var verdict: String? { report["verdict"] as? String }
    var checks: [[String: Any]] { report["checks"] as? [[String: Any]] ?? [] }

    func status(of check: String) -> [String] {
        checks.filter { $0["check"] as? String == check }.compactMap { $0["status"] as? String }
    }

    func subIndications(of check: String) -> [String] {
        checks.filter { $0["check"] as? String == check }.compactMap { $0["subIndication"] as? String }
    }
}

/// `notarium verify --json`, parsed.
func verify(_ bundle: String, trust: String, extra: [String] = []) throws -> Verification {
    let result = try notarium(["verify", bundle, "--trust", trust, "--json"] + extra)
    let object = (try? JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))) as? [String: Any] ?? [:]
    return Verification(status: result.status, report: object, text: result.standardOutput + result.standardError)
}
