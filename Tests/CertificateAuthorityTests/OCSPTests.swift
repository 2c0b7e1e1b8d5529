import CertificateAuthority
import Foundation
import NotariumTestKit
import OpenSSLKit
import Testing

@Suite("OCSP responder")
struct OCSPTests {
    @Test("good, revoked with time and reason, and unknown; the nonce is echoed; openssl accepts the signature")
    func statuses() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        let issuing = ca.authority.hierarchy.issuing
        let good = try await ca.authority.issue(request: try request().1, profile: .signer).certificate
        let revoked = try await ca.authority.issue(request: try request().1, profile: .signer).certificate
        _ = try await ca.authority.revoke(serial: revoked.serialNumber, reason: .affiliationChanged)

        for (certificate, expected) in [(good, "good"), (revoked, "revoked")] {
            let requestBytes = try OCSPRequest.create(certificate: certificate, issuer: issuing, nonce: true)
            let (response, status) = ca.authority.ocspResponse(for: requestBytes)
            #expect(status == .successful)
            let summary = try OCSPResponseSummary(derEncoded: response)
            #expect(summary.hasNonce)
            if expected == "good" {
                #expect(summary.certificateStatuses == [.good])
            } else if case .revoked(_, let reason)? = summary.certificateStatuses.first {
                #expect(reason == .affiliationChanged)
            } else {
                Issue.record("expected revoked, got \(summary.certificateStatuses)")
            }
            // openssl checks the signature, the delegated responder's chain and the nonce.
            try ca.writeTrustFiles()
            let requestFile = ca.directory.file("req-\(expected).der"), responseFile = ca.directory.file("resp-\(expected).der")
            try Data(requestBytes).write(to: URL(fileURLWithPath: requestFile))
            try Data(response).write(to: URL(fileURLWithPath: responseFile))
            let result = try runProcess("/usr/bin/openssl", ["ocsp", "-reqin", requestFile, "-respin", responseFile, "-verify_other", ca.directory.file("issuing.pem"), "-CAfile", ca.directory.file("root.pem"), "-resp_text"])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardError.contains("Response verify OK"), "\(result.standardError)")
            #expect(result.standardOutput.contains("Cert Status: \(expected)"), "\(result.standardOutput)")
            #expect(result.standardOutput.contains("OCSP Nonce"), "\(result.standardOutput)")
        }

        // A certificate this CA never issued, under its issuer's name and key: unknown.
        let stranger = try CertificateBuilder.build(
            serial: [0x55, 0x66], subject: try DistinguishedName(parsing: "CN=Stranger"), publicKey: try PrivateKey.generate(.ecdsaP256).publicKey,
            notBefore: 0, notAfter: 4_000_000_000, extensions: [], issuer: issuing, signingKey: try PrivateKey.generate(.ecdsaP256))
        let unknown = ca.authority.ocspResponse(for: try OCSPRequest.create(certificate: stranger, issuer: issuing, nonce: false))
        #expect(try OCSPResponseSummary(derEncoded: unknown.response).certificateStatuses == [.unknown])
        #expect(try OCSPResponseSummary(derEncoded: unknown.response).hasNonce == false)
    }

    @Test("a malformed request gets the malformedRequest response, byte for byte what Go's x/crypto/ocsp expects")
    func malformed() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        var expected: [UInt8] = [0x30, 0x03, 0x0A, 0x01, 0x01]
        if let vectors = externalVectors {
            expected = try readBytes(vectors + "/ocsp/golang-x-crypto/error-response-malformedRequest.der")
        }
        for bytes in [[], [0x30, 0x03, 0x02, 0x01], Array("GET / HTTP/1.1".utf8), [UInt8](repeating: 0x30, count: 20_000)] {
            let (response, status) = ca.authority.ocspResponse(for: bytes)
            #expect(status == .malformedRequest)
            #expect(response == expected)
        }
    }

    @Test("a request about more than 32 certificates gets malformedRequest")
    func tooManyCertificates() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        try ca.writeTrustFiles()
        let out = ca.directory.file("many.der")
        let serials = (1...33).flatMap { ["-serial", String($0)] }
        let made = try runProcess("/usr/bin/openssl", ["ocsp", "-issuer", ca.directory.file("issuing.pem"), "-reqout", out] + serials)
        #expect(made.status == 0, "\(made.standardError)")
        let request = try readBytes(out)
        #expect(try OCSPRequest(derEncoded: request).count == 33)
        #expect(ca.authority.ocspResponse(for: request).status == .malformedRequest)
    }

    @Test("a request about another CA's certificate is answered unauthorized")
    func otherIssuer() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        guard let vectors = externalVectors else { return }
        // A real OCSP request from Go's x/crypto tests, for a VeriSign-issued certificate.
        let request = try readBytes(vectors + "/ocsp/golang-x-crypto/request.der")
        let parsed = try OCSPRequest(derEncoded: request)
        let leaf = try Certificate(derEncoded: try readBytes(vectors + "/ocsp/golang-x-crypto/request-leaf-cert.der"))
        let issuer = try Certificate(derEncoded: try readBytes(vectors + "/ocsp/golang-x-crypto/request-issuer-cert.der"))
        #expect(parsed.serials == [leaf.serialNumber])
        #expect(parsed.certificateID(at: 0, isIssuedBy: issuer))
        #expect(!parsed.certificateID(at: 0, isIssuedBy: ca.authority.hierarchy.issuing))
        let (response, status) = ca.authority.ocspResponse(for: request)
        #expect(status == .unauthorized)
        #expect(try OCSPResponseSummary(derEncoded: response).status == .unauthorized)
    }
}
