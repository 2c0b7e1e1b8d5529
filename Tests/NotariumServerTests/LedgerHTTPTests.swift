import Foundation
import NotariumTestKit
import Testing

/// A data directory with its CA (whose creation appends 4 entries, seq 0–3), then given `count`
/// entries with the CLI (notariumd stopped). notariumd's first start then creates the TSA,
/// whose certificate is one more entry.
private func dataDirectory(in directory: TemporaryDirectory, entries count: Int, type: String) throws -> String {
    let data = directory.file("data")
    let notarium = builtProduct("notarium")
    #expect(try runProcess(notarium, ["ca", "init", "--data", data], environment: cleanEnvironment()).status == 0)
    let body = directory.file("body.json")
    try "{\"case\":\"HTTP-1\"}".write(toFile: body, atomically: true, encoding: .utf8)
    for _ in 0..<count {
        #expect(try runProcess(notarium, ["ledger", "append", "--type", type, "--body-file", body, "--data", data], environment: cleanEnvironment()).status == 0)
    }
    return data
}

/// The ledger over HTTP on a live notariumd: a ledger filled with the CLI, then served.
@Suite("notariumd: ledger endpoints", .serialized)
struct LedgerHTTPTests {
    @Test("checkpoint, entries and proofs over HTTP; bad requests are problem+json 400/404; periodic checkpoints")
    func ledgerEndpoints() throws {
        let directory = TemporaryDirectory()
        let data = try dataDirectory(in: directory, entries: 6, type: "service")
        let raw = try runProcess(builtProduct("notarium"), ["ledger", "get", "4", "--raw", "--data", data], environment: cleanEnvironment()).standardOutput
        let appliance = try RunningAppliance(["--data", data, "--ledger-checkpoint-interval", "1"])
        defer { appliance.stop() }
        let base = appliance.baseURL

        // The periodic checkpointer signs the 13 entries (10 + the certificates of the TSA, the
        // API's TLS server and its first operator) within a couple of seconds.
        var checkpoint = try curl(base + "/ledger/checkpoint")
        for _ in 0..<50 where checkpoint.status != 200 {
            usleep(100_000)
            checkpoint = try curl(base + "/ledger/checkpoint")
        }
        #expect(checkpoint.status == 200)
        #expect(checkpoint.contentType.hasPrefix("text/plain"))
        #expect(checkpoint.body.contains("\n13\n"))

        let entry = try curl(base + "/ledger/entries/4")
        #expect(entry.status == 200 && entry.contentType == "application/json")
        #expect(entry.body == raw)

        let inclusion = try curl(base + "/ledger/proof/inclusion?index=4&size=13")
        #expect(inclusion.status == 200)
        let proof = try JSONSerialization.jsonObject(with: Data(inclusion.body.utf8)) as? [String: Any]
        #expect((proof?["proof"] as? [String])?.count == 4)
        #expect(checkpoint.body.contains((proof?["rootHash"] as? String) ?? "?"))
        let consistency = try curl(base + "/ledger/proof/consistency?from=3&to=6")
        #expect(consistency.status == 200)

        let problems: [(String, Int, String)] = [
            ("/ledger/entries/13", 404, "not-found"),
            ("/ledger/entries/-1", 400, "invalid-parameter"),
            ("/ledger/entries/01", 400, "invalid-parameter"),
            ("/ledger/entries/abc", 400, "invalid-parameter"),
            ("/ledger/proof/inclusion?index=6&size=6", 400, "invalid-range"),
            ("/ledger/proof/inclusion?index=1&size=14", 404, "size-beyond-tree"),
            ("/ledger/proof/inclusion?index=1", 400, "missing-parameter"),
            ("/ledger/proof/inclusion?index=x&size=2", 400, "invalid-parameter"),
            ("/ledger/proof/consistency?from=4&to=3", 400, "invalid-range"),
            ("/ledger/proof/consistency?from=0&to=3", 400, "invalid-range"),
            ("/ledger/proof/consistency?from=1&to=99999999999999999999", 400, "invalid-parameter"),
            ("/ledger/proof/consistency?from=1&to=14", 404, "size-beyond-tree"),
        ]
        for (path, status, type) in problems {
            let response = try curl(base + path)
            #expect(response.status == status, "\(path): \(response.status) \(response.body)")
            #expect(response.contentType == "application/problem+json", "\(path)")
            #expect(response.body.contains("urn:notarium:problem:\(type)"), "\(path): \(response.body)")
        }
    }

    @Test("with periodic checkpoints off, stopping the appliance still signs what was appended")
    func checkpointAtShutdown() throws {
        let directory = TemporaryDirectory()
        let data = try dataDirectory(in: directory, entries: 3, type: "evidence")
        let appliance = try RunningAppliance(["--data", data, "--ledger-checkpoint-interval", "0"])
        #expect(try curl(appliance.baseURL + "/ledger/checkpoint").status == 404)
        #expect(appliance.stop() == 0)
        let audit = try runProcess(builtProduct("notarium"), ["ledger", "audit", "--data", data], environment: cleanEnvironment())
        #expect(audit.status == 0, "\(audit.standardError)")
        #expect(audit.standardOutput.contains("\"checkpoints\":1"), "\(audit.standardOutput)")
    }

    @Test("an appliance whose ledger has no checkpoint yet answers 404 problem+json")
    func noCheckpointYet() throws {
        let directory = TemporaryDirectory()
        let appliance = try RunningAppliance(["--data", directory.file("data")])
        defer { appliance.stop() }
        let base = appliance.baseURL
        let response = try curl(base + "/ledger/checkpoint")
        #expect(response.status == 404)
        #expect(response.body.contains("urn:notarium:problem:no-checkpoint"))
    }
}
