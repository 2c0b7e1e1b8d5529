import Foundation
import NotariumTestKit
import Testing

/// The authenticated API over real TLS on loopback, with clients Notarium did not write:
/// Python `requests` (the platform's integration, api_e2e.py), curl with a PKCS#12 file, and
/// `openssl s_client` checking the server's certificate chain.
@Suite("API over mutual TLS", .serialized)
struct APITests {
    static var script: String { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("api_e2e.py").path }

    @Test("an ODR platform's integration, end to end with Python requests: roles, deposits, idempotency, bad input, bundles, revocation")
    func platformIntegration() throws {
        let directory = TemporaryDirectory()
        let data = directory.file("data")
        let appliance = try RunningAppliance(["--data", data], environment: cleanEnvironment(["NOTARIUM_LEDGER_CHECKPOINT_INTERVAL": "0"]))
        defer { appliance.stop() }
        try FileManager.default.createDirectory(atPath: directory.file("work"), withIntermediateDirectories: true)
        let result = try runProcess("/usr/bin/env", ["python3", Self.script, appliance.apiURL, data, builtProduct("notarium"), directory.file("work")], timeout: 300)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)\nnotariumd: \(appliance.process.standardError.suffix(3000))")
        #expect(result.standardOutput.contains("all checks passed"))
    }

    @Test("openssl s_client verifies the server's chain to the CA's root; curl uses the PKCS#12 file; the plain listener stays public")
    func tlsClients() throws {
        let directory = TemporaryDirectory()
        let data = directory.file("data")
        let appliance = try RunningAppliance(["--data", data])
        defer { appliance.stop() }
        let operatorDirectory = data + "/clients/operator"
        let ca = operatorDirectory + "/ca.pem"
        let hostPort = String(appliance.apiURL.dropFirst("https://".count))
        let handshake = try runProcess("/usr/bin/openssl", [
            "s_client", "-connect", hostPort, "-servername", "localhost", "-CAfile", ca, "-verify_return_error", "-verify_hostname", "localhost",
            "-cert", operatorDirectory + "/client.crt", "-key", operatorDirectory + "/client.key",
        ], standardInput: "", timeout: 30)
        #expect(handshake.standardOutput.contains("Verify return code: 0 (ok)"), "\(handshake.standardOutput)\n\(handshake.standardError)")
        let wrongName = try runProcess("/usr/bin/openssl", ["s_client", "-connect", hostPort, "-CAfile", ca, "-verify_return_error", "-verify_hostname", "notarium.example.org"], standardInput: "", timeout: 30)
        #expect(!wrongName.standardOutput.contains("Verify return code: 0 (ok)"), "the certificate names only the configured hosts")

        let password = try String(contentsOfFile: operatorDirectory + "/client.p12.password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let whoami = try runProcess("/usr/bin/curl", ["-sS", "--cacert", ca, "--cert-type", "P12", "--cert", operatorDirectory + "/client.p12:" + password, appliance.apiURL + "/v1/whoami"])
        #expect(whoami.standardOutput.contains("\"role\":\"operator\""), "\(whoami.standardOutput) \(whoami.standardError)")
        // Python's cryptography reads the PKCS#12 file too.
        let p12 = try runProcess("/usr/bin/env", ["python3", "-c", """
            import sys
            from cryptography.hazmat.primitives.serialization import pkcs12
            key, cert, extra = pkcs12.load_key_and_certificates(open(sys.argv[1], 'rb').read(), sys.argv[2].encode())
            assert key is not None and cert is not None and len(extra) == 2, (key, cert, extra)
            print(cert.subject.rfc4514_string())
            """, operatorDirectory + "/client.p12", password])
        #expect(p12.status == 0 && p12.standardOutput.contains("CN=operator"), "\(p12.standardOutput) \(p12.standardError)")

        // Public endpoints: on the TLS listener without a certificate, and on plain HTTP.
        let crl = try runProcess("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca, appliance.apiURL + "/ca/crl"])
        #expect(crl.standardOutput == "200")
        #expect(try curl(appliance.baseURL + "/ca/certs").status == 200)
        #expect(try curl(appliance.baseURL + "/v1/whoami").status == 404, "the API is not served over plain HTTP")
        let contract = try runProcess("/usr/bin/curl", ["-sS", "--cacert", ca, appliance.apiURL + "/v1/openapi.yaml"])
        // The binary serves the contract in the repository, byte for byte (scripts/embed-openapi.sh).
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let inRepository = try String(contentsOf: repository.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        #expect(contract.standardOutput.hasPrefix("openapi: 3.1"))
        // (A multi-line literal ends before the file's last newline.)
        #expect(contract.standardOutput + "\n" == inRepository, "docs/openapi.yaml changed; run scripts/embed-openapi.sh")
    }

    @Test("notarium client issue and list work on the data directory; a bad role or name is refused and writes nothing")
    func clientCommands() throws {
        let directory = TemporaryDirectory()
        let data = ["--data", directory.file("data")]
        let notarium = builtProduct("notarium")
        let environment = cleanEnvironment()
        #expect(try runProcess(notarium, ["ca", "init"] + data, environment: environment).status == 0)
        let issued = try runProcess(notarium, ["client", "issue", "--name", "odr-platform", "--role", "clerk", "--out", directory.file("clerk")] + data, environment: environment)
        #expect(issued.status == 0, "\(issued.standardError)")
        #expect(issued.standardOutput.contains("\"role\":\"clerk\""))
        for file in ["client.key", "client.crt", "ca.pem", "client.p12", "client.p12.password"] {
            #expect(FileManager.default.fileExists(atPath: directory.file("clerk/" + file)), "\(file)")
        }
        let mode = try FileManager.default.attributesOfItem(atPath: directory.file("clerk/client.key"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let verify = try runProcess("/usr/bin/openssl", ["verify", "-CAfile", directory.file("clerk/ca.pem"), "-purpose", "sslclient", directory.file("clerk/client.crt")])
        #expect(verify.status == 0, "\(verify.standardOutput) \(verify.standardError)")
        let badRole = try runProcess(notarium, ["client", "issue", "--name", "x", "--role", "admin", "--out", directory.file("x")] + data, environment: environment)
        #expect(badRole.status == 2 && badRole.standardError.contains("[invalid-client]"), "\(badRole.standardError)")
        let badName = try runProcess(notarium, ["client", "issue", "--name", "../etc", "--role", "clerk", "--out", directory.file("y")] + data, environment: environment)
        #expect(badName.status == 2 && badName.standardError.contains("[invalid-client]"), "\(badName.standardError)")
        #expect(!FileManager.default.fileExists(atPath: directory.file("y")))
        let again = try runProcess(notarium, ["client", "issue", "--name", "second", "--role", "auditor", "--out", directory.file("clerk")] + data, environment: environment)
        #expect(again.status != 0 && again.standardError.contains("already holds a client key"), "\(again.standardError)")
        let listed = try runProcess(notarium, ["client", "list"] + data, environment: environment)
        #expect(listed.status == 0 && listed.standardOutput.contains("odr-platform") && !listed.standardOutput.contains("second"), "\(listed.standardOutput)")
    }
}
