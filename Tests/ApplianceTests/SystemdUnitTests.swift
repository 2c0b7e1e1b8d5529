import Foundation
import NotariumTestKit
import Testing

/// appliance/notariumd.service, checked by systemd's own analyzer (no systemd runs as PID 1 in
/// the test sandbox, so the unit is verified statically, against the real built binary).
@Suite("Appliance: the systemd unit")
struct SystemdUnitTests {
    /// A copy of the unit whose ExecStart names the notariumd this test run built.
    func unitCopy(in directory: TemporaryDirectory) throws -> String {
        let text = try String(contentsOfFile: applianceFolder + "/notariumd.service", encoding: .utf8)
        let path = directory.file("notariumd.service")
        try text.replacingOccurrences(of: "/usr/local/bin/notariumd ", with: builtProduct("notariumd") + " ").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("systemd-analyze verify accepts the unit")
    func verifies() throws {
        let directory = TemporaryDirectory()
        let result = try runProcess("/usr/bin/systemd-analyze", ["verify", try unitCopy(in: directory)])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.isEmpty, "\(result.standardError)")
    }

    @Test("the unit is hardened: systemd's exposure score is at most 2.0 (\"OK\")")
    func hardened() throws {
        let directory = TemporaryDirectory()
        let result = try runProcess("/usr/bin/systemd-analyze", ["security", "--offline=true", "--no-pager", try unitCopy(in: directory)])
        let line = try #require(result.standardOutput.split(separator: "\n").first { $0.contains("Overall exposure level") })
        let score = line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
        #expect(score != nil && score! <= 2.0, "\(line)")
        let text = try String(contentsOfFile: applianceFolder + "/notariumd.service", encoding: .utf8)
        for directive in ["User=notarium", "NoNewPrivileges=yes", "ProtectSystem=strict", "RestartPreventExitStatus=2", "KillSignal=SIGTERM"] {
            #expect(text.contains(directive), "the unit lacks \(directive)")
        }
    }
}
