import Appliance
import Foundation
import Logging
import NotariumServer
import NotariumTestKit
import Testing

/// The port the application bound, handed over from its onListening callback.
actor BoundPort {
    private(set) var port: Int?
    func set(_ port: Int) { self.port = port }
}

/// `buildApplication` in this process on a real loopback socket, so the data directory can be
/// broken under it.
@Suite("NotariumServer: health")
struct HealthTests {
    @Test("/healthz is 503 problem+json once the database cannot be read")
    func unhealthyWhenDatabaseUnreadable() async throws {
        let directory = TemporaryDirectory()
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let data = try DataDirectory.openOrInitialize(at: directory.file("data"), sealKeyFile: directory.file("seal.key"), logger: logger)
        let configuration = try await ApplianceConfiguration.load(flags: [.listen: "127.0.0.1:0", .data: data.path, .sealKeyFile: directory.file("seal.key")], environment: [:])
        let (ledger, _) = try data.openLedger(configuration: configuration, withSigner: false, logger: logger)
        let bound = BoundPort()
        let application = buildApplication(configuration: configuration, dataDirectory: data, ledger: ledger, logger: logger, onListening: { await bound.set($0.port) })
        let server = Task { try await application.run() }
        defer { server.cancel() }
        var port: Int? = nil
        for _ in 0..<500 where port == nil {
            try await Task.sleep(for: .milliseconds(10))
            port = await bound.port
        }
        let boundPort = try #require(port)

        let healthy = try await curlAsync("http://127.0.0.1:\(boundPort)/healthz")
        #expect(healthy.status == 200)

        ledger.close()
        data.close()
        let unhealthy = try await curlAsync("http://127.0.0.1:\(boundPort)/healthz")
        #expect(unhealthy.status == 503)
        #expect(unhealthy.contentType == "application/problem+json")
        let problem = try JSONSerialization.jsonObject(with: Data(unhealthy.body.utf8)) as? [String: Any]
        #expect(problem?["type"] as? String == "urn:notarium:problem:database-unavailable")
        #expect(problem?["status"] as? Int == 503)
    }
}
