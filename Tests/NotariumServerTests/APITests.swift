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
        let appliance = try RunningAppliance(["--data", data], environment: cleanEnvironment(["NOTARIUM_LEDGER_CHECKPOINT_INTERVAL": "0", "NOTARIUM_API_BODY_TIMEOUT_SECONDS": "2"]))
        defer { appliance.stop() }
        try FileManager.default.createDirectory(atPath: directory.file("work"), withIntermediateDirectories: true)
        let result = try runProcess("/usr/bin/env", ["python3", Self.script, appliance.apiURL, data, builtProduct("notarium"), directory.file("work")], timeout: 300)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)\nnotariumd: \(appliance.process.standardError.suffix(3000))")
        #expect(result.standardOutput.contains("all checks passed"))
    }

    @Test("schemathesis runs docs/openapi.yaml against the live server as operator, clerk and auditor: no 5xx, no response outside the contract, no invalid request accepted")
    func contract() throws {
        let directory = TemporaryDirectory()
        let data = directory.file("data")
        let appliance = try RunningAppliance(["--data", data], environment: cleanEnvironment(["NOTARIUM_LEDGER_CHECKPOINT_INTERVAL": "0"]))
        defer { appliance.stop() }
        try FileManager.default.createDirectory(atPath: directory.file("work"), withIntermediateDirectories: true)
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let contract = here.appendingPathComponent("../../docs/openapi.yaml").standardized.path
        let result = try runProcess(
            "/usr/bin/env", ["python3", here.appendingPathComponent("contract_check.py").path, appliance.apiURL, data, directory.file("work"), contract], timeout: 1200)
        #expect(result.status == 0, "\(result.standardOutput.suffix(12000))\n\(result.standardError.suffix(3000))\nnotariumd: \(appliance.process.standardError.suffix(3000))")
        #expect(result.standardOutput.contains("contract check: no failures"))
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

    /// curl over the API's TLS with the operator's credentials (or none): status, headers, body.
    static func curlTLS(_ url: String, operator directory: String?, ca: String, _ extra: [String]) throws -> (status: Int, headers: String, body: String) {
        let output = TemporaryDirectory()
        var arguments = ["-sS", "--cacert", ca, "-D", output.file("headers"), "-o", output.file("body"), "-w", "%{http_code}"]
        if let directory { arguments += ["--cert", directory + "/client.crt", "--key", directory + "/client.key"] }
        let result = try runProcess("/usr/bin/curl", arguments + extra + [url])
        let headers = (try? String(contentsOfFile: output.file("headers"), encoding: .utf8)) ?? ""
        let body = (try? String(contentsOfFile: output.file("body"), encoding: .isoLatin1)) ?? ""
        return (Int(result.standardOutput) ?? 0, headers, body)
    }

    @Test("a registration acknowledged before a kill -9 is replayed after the restart, not made twice")
    func idempotencyAcrossKill() throws {
        let directory = TemporaryDirectory()
        let data = directory.file("data")
        let operatorDirectory = data + "/clients/operator"
        #expect(try runProcess("/usr/bin/openssl", [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", directory.file("p.key"), "-subj", "/CN=platform", "-out", directory.file("p.csr"),
        ]).status == 0)
        let csr = try String(contentsOfFile: directory.file("p.csr"), encoding: .utf8)
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["name": "platform", "role": "clerk", "csr": csr]), as: UTF8.self)
        try body.write(toFile: directory.file("body.json"), atomically: true, encoding: .utf8)
        let post = ["-H", "Content-Type: application/json", "-H", "Idempotency-Key: register-platform-1", "--data-binary", "@" + directory.file("body.json")]

        let first = try RunningAppliance(["--data", data])
        let answered = try Self.curlTLS(first.apiURL + "/v1/clients", operator: operatorDirectory, ca: operatorDirectory + "/ca.pem", post)
        #expect(answered.status == 201, "\(answered.body)")
        first.process.signal(SIGKILL)
        #expect(first.process.waitForExit() != nil)

        let second = try RunningAppliance(["--data", data])
        defer { second.stop() }
        let retried = try Self.curlTLS(second.apiURL + "/v1/clients", operator: operatorDirectory, ca: operatorDirectory + "/ca.pem", post)
        #expect(retried.status == 201 && retried.headers.lowercased().contains("idempotent-replayed: true"), "\(retried.headers) \(retried.body)")
        let serial = { (text: String) in (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["serial"] as? String }
        #expect(serial(retried.body) != nil && serial(retried.body) == serial(answered.body))
        let listed = try Self.curlTLS(second.apiURL + "/v1/clients", operator: operatorDirectory, ca: operatorDirectory + "/ca.pem", [])
        #expect(listed.body.components(separatedBy: "\"name\":\"platform\"").count == 2, "one client, not two: \(listed.body)")
    }

    @Test("api.tsa-client-certificate: the TSA leaves the plain listener and needs a registered client over TLS")
    func tsaNeedsClient() throws {
        let directory = TemporaryDirectory()
        let data = directory.file("data")
        let appliance = try RunningAppliance(["--data", data], environment: cleanEnvironment(["NOTARIUM_API_TSA_CLIENT_CERTIFICATE": "true"]))
        defer { appliance.stop() }
        let operatorDirectory = data + "/clients/operator"
        try "exhibit".write(toFile: directory.file("doc.txt"), atomically: true, encoding: .utf8)
        #expect(try runProcess("/usr/bin/openssl", ["ts", "-query", "-data", directory.file("doc.txt"), "-sha256", "-cert", "-out", directory.file("q.tsq")]).status == 0)
        let query = ["-H", "Content-Type: application/timestamp-query", "--data-binary", "@" + directory.file("q.tsq")]
        let plain = try runProcess("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}"] + query + [appliance.baseURL + "/tsa"])
        #expect(plain.standardOutput == "404", "the plain listener no longer serves /tsa")
        let anonymous = try Self.curlTLS(appliance.apiURL + "/tsa", operator: nil, ca: operatorDirectory + "/ca.pem", query)
        #expect(anonymous.status == 401 && anonymous.body.contains("client-certificate-required"), "\(anonymous.body)")
        let output = TemporaryDirectory()
        let granted = try runProcess("/usr/bin/curl", [
            "-sS", "--cacert", operatorDirectory + "/ca.pem", "--cert", operatorDirectory + "/client.crt", "--key", operatorDirectory + "/client.key",
            "-o", output.file("r.tsr"), "-w", "%{http_code} %{content_type}",
        ] + query + [appliance.apiURL + "/tsa"])
        #expect(granted.standardOutput == "200 application/timestamp-reply", "\(granted.standardOutput) \(granted.standardError)")
        let reply = try runProcess("/usr/bin/openssl", ["ts", "-reply", "-in", output.file("r.tsr"), "-text"])
        #expect(reply.standardOutput.contains("Status: Granted"), "\(reply.standardOutput)")
    }
}
