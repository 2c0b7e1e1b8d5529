import Foundation
import NotariumTestKit
import Testing

/// The port in notariumd's "listening on http://HOST:PORT" line.
func port(from line: String) -> Int? {
    guard let range = line.range(of: "http://") else { return nil }
    let address = line[range.upperBound...].prefix { !$0.isWhitespace }
    return address.split(separator: ":").last.flatMap { Int($0) }
}

/// notariumd as a real process on loopback, exercised with curl and signals.
@Suite("notariumd: the running appliance", .serialized)
struct ApplianceProcessTests {
    @Test("it starts on its embedded defaults, creating ./notarium-data, and answers /healthz")
    func startsOnDefaults() throws {
        let directory = TemporaryDirectory()
        // Only the port is changed (to a free one), through the environment; everything else is default.
        let daemon = try BackgroundProcess(builtProduct("notariumd"), [], environment: cleanEnvironment(["NOTARIUM_LISTEN": "127.0.0.1:0"]), currentDirectory: directory.path)
        let line = try #require(daemon.waitForOutputLine(containing: "listening on"), "no listening line; stderr: \(daemon.standardError)")
        let boundPort = try #require(port(from: line))
        #expect(FileManager.default.fileExists(atPath: directory.file("notarium-data/db/CURRENT")))
        #expect(FileManager.default.fileExists(atPath: directory.file("notarium-data/keys/seal.key")))

        let health = try curl("http://127.0.0.1:\(boundPort)/healthz")
        #expect(health.status == 200)
        #expect(health.contentType == "application/json")
        let document = try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any]
        #expect(document?["status"] as? String == "ok")

        let missing = try curl("http://127.0.0.1:\(boundPort)/no/such/thing")
        #expect(missing.status == 404)
        #expect(missing.contentType == "application/problem+json")
        let problem = try JSONSerialization.jsonObject(with: Data(missing.body.utf8)) as? [String: Any]
        #expect(problem?["status"] as? Int == 404)
        #expect(problem?["type"] as? String == "urn:notarium:problem:not-found")

        let wrongMethod = try curl("http://127.0.0.1:\(boundPort)/healthz", method: "DELETE")
        #expect(wrongMethod.contentType == "application/problem+json")
        #expect((400..<500).contains(wrongMethod.status))

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        // Structured logs: every line on stderr is a JSON object, and shutdown was logged.
        let logLines = daemon.standardError.split(separator: "\n")
        #expect(!logLines.isEmpty)
        for line in logLines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "not JSON: \(line)")
        }
        #expect(daemon.standardError.contains("\"message\":\"stopped\""))
    }

    @Test("a second notariumd on the same data directory fails at once with a clear message")
    func secondInstanceFails() throws {
        let directory = TemporaryDirectory()
        let data = directory.file("data")
        let first = try BackgroundProcess(builtProduct("notariumd"), ["--data", data, "--listen", "127.0.0.1:0"], environment: cleanEnvironment())
        #expect(first.waitForOutputLine(containing: "listening on") != nil)
        let second = try runProcess(builtProduct("notariumd"), ["--data", data, "--listen", "127.0.0.1:0"], environment: cleanEnvironment(), timeout: 30)
        #expect(second.status == 1)
        #expect(second.standardError.contains("data-directory-in-use"))
        #expect(second.standardError.contains("in use by process \(first.process.processIdentifier)"))
        first.signal(SIGINT)
        #expect(first.waitForExit() == 0)
        // After a graceful stop the lock is released: a new instance starts.
        let third = try BackgroundProcess(builtProduct("notariumd"), ["--data", data, "--listen", "127.0.0.1:0"], environment: cleanEnvironment())
        #expect(third.waitForOutputLine(containing: "listening on") != nil)
        third.signal(SIGTERM)
        #expect(third.waitForExit() == 0)
    }

    @Test("flags override the environment, which overrides the configuration file")
    func layeredConfiguration() throws {
        let directory = TemporaryDirectory()
        let file = directory.file("notarium.yaml")
        try "data: \(directory.file("from-file"))\nlisten: 127.0.0.1:0\nlog:\n  format: text\n".write(toFile: file, atomically: true, encoding: .utf8)

        let fromFile = try BackgroundProcess(builtProduct("notariumd"), ["--config", file], environment: cleanEnvironment())
        #expect(fromFile.waitForOutputLine(containing: "listening on http://127.0.0.1:")?.contains("data: \(directory.file("from-file"))") == true)
        fromFile.signal(SIGTERM)
        #expect(fromFile.waitForExit() == 0)
        #expect(!fromFile.standardError.hasPrefix("{"), "log.format: text from the file was not applied")

        let fromEnvironment = try BackgroundProcess(builtProduct("notariumd"), ["--config", file], environment: cleanEnvironment(["NOTARIUM_LISTEN": "127.0.0.2:0", "NOTARIUM_DATA": directory.file("from-env")]))
        #expect(fromEnvironment.waitForOutputLine(containing: "listening on http://127.0.0.2:")?.contains("data: \(directory.file("from-env"))") == true)
        fromEnvironment.signal(SIGTERM)
        #expect(fromEnvironment.waitForExit() == 0)

        let fromFlag = try BackgroundProcess(builtProduct("notariumd"), ["--config", file, "--listen", "127.0.0.3:0"], environment: cleanEnvironment(["NOTARIUM_LISTEN": "127.0.0.2:0"]))
        #expect(fromFlag.waitForOutputLine(containing: "listening on http://127.0.0.3:") != nil)
        fromFlag.signal(SIGTERM)
        #expect(fromFlag.waitForExit() == 0)
    }

    @Test("a bad setting stops start-up with its key and source, exit 2, before anything is created")
    func badSetting() throws {
        let directory = TemporaryDirectory()
        let result = try runProcess(builtProduct("notariumd"), ["--data", directory.file("data")], environment: cleanEnvironment(["NOTARIUM_LOG_LEVEL": "chatty"]), timeout: 30)
        #expect(result.status == 2)
        #expect(result.standardError.contains("log.level"))
        #expect(result.standardError.contains("NOTARIUM_LOG_LEVEL"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("data")))

        let unknownFlag = try runProcess(builtProduct("notariumd"), ["--lisen", "x"], environment: cleanEnvironment(), timeout: 30)
        #expect(unknownFlag.status != 0)
        #expect(unknownFlag.standardError.contains("lisen"))
    }

    @Test("a relay or SMS gateway CA file that holds no certificate stops start-up by name, before any notice is due")
    func unusableRelayCAFile() throws {
        let directory = TemporaryDirectory()
        try "not a certificate\n".write(toFile: directory.file("ca.pem"), atomically: true, encoding: .utf8)
        let result = try runProcess(builtProduct("notariumd"), ["--data", directory.file("data"), "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"], environment: cleanEnvironment([
            "NOTARIUM_DELIVERY_EMAIL_RELAY": "127.0.0.1:2525", "NOTARIUM_DELIVERY_EMAIL_FROM": "notices@notarium.test",
            "NOTARIUM_DELIVERY_EMAIL_CA_FILE": directory.file("ca.pem"),
        ]), timeout: 60)
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardError.contains("tls-failed") && result.standardError.contains(directory.file("ca.pem")), "\(result.standardError)")

        // The same for an https SMS gateway's trust roots.
        try "t0ken\n".write(toFile: directory.file("token"), atomically: true, encoding: .utf8)
        let gateway = try runProcess(builtProduct("notariumd"), ["--data", directory.file("data2"), "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"], environment: cleanEnvironment([
            "NOTARIUM_DELIVERY_SMS_GATEWAY_URL": "https://127.0.0.1:9/messages", "NOTARIUM_DELIVERY_SMS_TOKEN_FILE": directory.file("token"),
            "NOTARIUM_DELIVERY_SMS_REPORT_SECRET_FILE": directory.file("token"), "NOTARIUM_DELIVERY_SMS_CA_FILE": directory.file("ca.pem"),
        ]), timeout: 60)
        #expect(gateway.status == 1 && gateway.standardError.contains("connect-failed") && gateway.standardError.contains(directory.file("ca.pem")), "\(gateway.standardError)")
    }

    @Test("a port already taken is a clear failure, not a hang")
    func portTaken() throws {
        let directory = TemporaryDirectory()
        let first = try BackgroundProcess(builtProduct("notariumd"), ["--data", directory.file("one"), "--listen", "127.0.0.1:0"], environment: cleanEnvironment())
        let line = try #require(first.waitForOutputLine(containing: "listening on"))
        let taken = try #require(port(from: line))
        let second = try runProcess(builtProduct("notariumd"), ["--data", directory.file("two"), "--listen", "127.0.0.1:\(taken)"], environment: cleanEnvironment(), timeout: 30)
        #expect(second.status == 1)
        #expect(second.standardError.lowercased().contains("address already in use"))
        first.signal(SIGTERM)
        first.waitForExit()
    }

    @Test("--version names the linked RocksDB, OpenSSL and libsodium")
    func version() throws {
        let result = try runProcess(builtProduct("notariumd"), ["--version"], environment: cleanEnvironment())
        #expect(result.status == 0)
        #expect(result.standardOutput.hasPrefix("notariumd "))
        for library in ["RocksDB 7.", "OpenSSL 3.", "libsodium 1."] {
            #expect(result.standardOutput.contains(library), "--version lacks \(library)")
        }
    }

    @Test("--help lists every setting with its environment variable")
    func help() throws {
        let result = try runProcess(builtProduct("notariumd"), ["--help"], environment: cleanEnvironment())
        #expect(result.status == 0)
        for text in ["--data", "--listen", "--config", "NOTARIUM_DATA", "NOTARIUM_LISTEN", "SIGTERM"] {
            #expect(result.standardOutput.contains(text), "--help lacks \(text)")
        }
    }
}
