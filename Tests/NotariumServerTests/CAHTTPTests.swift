import Foundation
import NotariumTestKit
import Testing

/// The CA as relying parties meet it: a live notariumd on loopback, checked with openssl's own
/// `verify -crl_check` (CRL fetched from /ca/crl) and `ocsp -url`.
@Suite("CA over HTTP: CRL, OCSP and CA certificates with openssl", .serialized)
struct CAHTTPTests {
    private func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        try runProcess(executable, arguments, environment: cleanEnvironment(["NOTARIUM_PUBLIC_BASE_URL": "http://127.0.0.1:9"]))
    }

    @Test("openssl verify and openssl ocsp accept a live certificate and reject a revoked one")
    func liveCA() throws {
        let directory = TemporaryDirectory()
        let data = ["--data", directory.file("data")]
        let notarium = builtProduct("notarium")
        let created = try run(notarium, ["ca", "init"] + data)
        #expect(created.status == 0, "\(created.standardError)")
        let again = try run(notarium, ["ca", "init"] + data)
        #expect(again.status == 1 && again.standardError.contains("[ca-already-initialized]"), "\(again.standardError)")

        // Two certificates from CSRs that openssl made; revoke the second.
        for name in ["live", "revoked"] {
            let request = try runProcess("/usr/bin/openssl", [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", directory.file("\(name).key"),
                "-subj", "/CN=\(name).example.org", "-addext", "subjectAltName=DNS:\(name).example.org", "-out", directory.file("\(name).csr"),
            ])
            #expect(request.status == 0, "\(request.standardError)")
            let issued = try run(notarium, ["ca", "issue", "--profile", "tls-server", "--csr", directory.file("\(name).csr"), "--out", directory.file("\(name).pem")] + data)
            #expect(issued.status == 0, "\(issued.standardError)")
        }
        let serial = try runProcess("/usr/bin/openssl", ["x509", "-in", directory.file("revoked.pem"), "-noout", "-serial"]).standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
        let revoked = try run(notarium, ["ca", "revoke", "--serial", serial, "--reason", "keyCompromise"] + data)
        #expect(revoked.status == 0, "\(revoked.standardError)")
        let twice = try run(notarium, ["ca", "revoke", "--serial", serial, "--reason", "keyCompromise"] + data)
        #expect(twice.status == 1 && twice.standardError.contains("[already-revoked]"), "\(twice.standardError)")
        let unknown = try run(notarium, ["ca", "revoke", "--serial", "0123456789", "--reason", "superseded"] + data)
        #expect(unknown.status == 1 && unknown.standardError.contains("[unknown-serial]"), "\(unknown.standardError)")
        let badProfile = try run(notarium, ["ca", "issue", "--profile", "root", "--csr", directory.file("live.csr")] + data)
        #expect(badProfile.status == 2 && badProfile.standardError.contains("[unknown-profile]"), "\(badProfile.standardError)")
        let listed = try run(notarium, ["ca", "list", "--revoked"] + data)
        #expect(listed.standardOutput.split(separator: "\n").count == 1 && listed.standardOutput.contains(serial))
        let shown = try run(notarium, ["ca", "show", serial] + data)
        #expect(shown.standardOutput.contains("\"status\":\"revoked\"") && shown.standardOutput.contains("BEGIN CERTIFICATE"))

        let appliance = try RunningAppliance(data)
        defer { appliance.stop() }
        let base = appliance.baseURL

        // What a relying party fetches.
        func fetch(_ path: String, to file: String) throws -> String {
            let result = try runProcess("/usr/bin/curl", ["-sS", "-o", directory.file(file), "-w", "%{http_code} %{content_type}", base + path])
            return result.standardOutput
        }
        #expect(try fetch("/ca/crl", to: "crl.der") == "200 application/pkix-crl")
        #expect(try fetch("/ca/certs", to: "chain.pem") == "200 application/pem-certificate-chain")
        #expect(try fetch("/ca/root", to: "root.cer") == "200 application/pkix-cert")
        #expect(try fetch("/ca/issuing", to: "issuing.cer") == "200 application/pkix-cert")
        #expect(try fetch("/ca/root.crl", to: "root.crl") == "200 application/pkix-crl")
        let openssl = "/usr/bin/openssl"
        #expect(try runProcess(openssl, ["crl", "-inform", "DER", "-in", directory.file("crl.der"), "-out", directory.file("crl.pem")]).status == 0)
        #expect(try runProcess(openssl, ["x509", "-inform", "DER", "-in", directory.file("root.cer"), "-out", directory.file("root.pem")]).status == 0)
        #expect(try runProcess(openssl, ["x509", "-inform", "DER", "-in", directory.file("issuing.cer"), "-out", directory.file("issuing.pem")]).status == 0)
        let verify = [openssl, "verify", "-CAfile", directory.file("root.pem"), "-untrusted", directory.file("issuing.pem"), "-crl_check", "-CRLfile", directory.file("crl.pem")]
        let good = try runProcess(verify[0], Array(verify.dropFirst()) + [directory.file("live.pem")])
        #expect(good.status == 0, "\(good.standardOutput) \(good.standardError)")
        let bad = try runProcess(verify[0], Array(verify.dropFirst()) + [directory.file("revoked.pem")])
        #expect(bad.status != 0 && (bad.standardOutput + bad.standardError).contains("certificate revoked"))

        // OCSP, POST, with a nonce.
        for (name, status) in [("live", "good"), ("revoked", "revoked")] {
            let result = try runProcess(openssl, ["ocsp", "-issuer", directory.file("issuing.pem"), "-cert", directory.file("\(name).pem"), "-url", base + "/ocsp", "-CAfile", directory.file("root.pem")])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardError.contains("Response verify OK"), "\(result.standardError)")
            #expect(result.standardOutput.contains("\(name).pem: \(status)"), "\(result.standardOutput)")
            if status == "revoked" { #expect(result.standardOutput.contains("Reason: keyCompromise")) }
        }
        // OCSP, GET form (RFC 6960 A.1): base64, URL-encoded.
        _ = try runProcess(openssl, ["ocsp", "-issuer", directory.file("issuing.pem"), "-cert", directory.file("live.pem"), "-no_nonce", "-reqout", directory.file("req.der")])
        let encoded = try Data(readBytes(directory.file("req.der"))).base64EncodedString().addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        #expect(try fetch("/ocsp/" + encoded, to: "get.der") == "200 application/ocsp-response")
        let fromGet = try runProcess(openssl, ["ocsp", "-respin", directory.file("get.der"), "-CAfile", directory.file("root.pem"), "-verify_other", directory.file("issuing.pem"), "-resp_text"])
        #expect(fromGet.standardError.contains("Response verify OK") && fromGet.standardOutput.contains("Cert Status: good"), "\(fromGet.standardOutput) \(fromGet.standardError)")
        // Malformed: an OCSP malformedRequest, never a 500.
        let garbage = try runProcess("/usr/bin/curl", ["-sS", "-X", "POST", "--data-binary", "not an OCSP request", "-o", directory.file("bad.der"), "-w", "%{http_code}", base + "/ocsp"])
        #expect(garbage.standardOutput == "200")
        #expect(try readBytes(directory.file("bad.der")) == [0x30, 0x03, 0x0A, 0x01, 0x01])
        #expect(try fetch("/ocsp/%%%", to: "bad-get.der") == "200 application/ocsp-response")
        #expect(try readBytes(directory.file("bad-get.der")) == [0x30, 0x03, 0x0A, 0x01, 0x01])
    }

    @Test("notariumd creates the CA on its first start and publishes it under DATA/public")
    func firstStart() throws {
        let directory = TemporaryDirectory()
        let data = directory.file("data")
        let daemon = try BackgroundProcess(builtProduct("notariumd"), ["--data", data, "--listen", "127.0.0.1:0"], environment: cleanEnvironment())
        #expect(daemon.waitForOutputLine(containing: "listening on") != nil, "\(daemon.standardError)")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        for file in ["root-ca.pem", "root-ca.cer", "ca-chain.pem"] {
            #expect(FileManager.default.fileExists(atPath: data + "/public/" + file), "\(file)")
        }
        let chain = try runProcess("/usr/bin/openssl", ["verify", "-CAfile", data + "/public/root-ca.pem", data + "/public/ca-chain.pem"])
        #expect(chain.status == 0, "\(chain.standardOutput) \(chain.standardError)")
        let certs = try runProcess(builtProduct("notarium"), ["ca", "certs", "--data", data], environment: cleanEnvironment())
        #expect(certs.standardOutput == (try String(contentsOfFile: data + "/public/ca-chain.pem", encoding: .utf8)))
    }
}
