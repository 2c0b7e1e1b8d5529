import Foundation
import NotariumTestKit
import OpenSSLKit
import Testing

@Suite("CMS detached signatures: made with OpenSSL's CMS engine, checked by openssl cms -verify")
struct CMSSignatureTests {
    static func signer() throws -> (Certificate, PrivateKey) {
        let key = try PrivateKey.generate(.ecdsaP256)
        let now = Int64(Date().timeIntervalSince1970)
        let certificate = try CertificateBuilder.build(
            serial: [0x01, 0x23], subject: try DistinguishedName(parsing: "CN=Evidence Submitter,O=Notarium Tests"), publicKey: key.publicKey,
            notBefore: now - 60, notAfter: now + 86_400,
            extensions: [ExtensionSpec("keyUsage", "critical,digitalSignature,nonRepudiation")], issuer: nil, signingKey: key)
        return (certificate, key)
    }

    @Test("a detached signature verifies here and with openssl cms -verify, carries signing-certificate-v2, and fails on other content")
    func signAndVerify() throws {
        let directory = TemporaryDirectory()
        let (certificate, key) = try Self.signer()
        let document = Array("%PDF-1.7 statement of claim\n".utf8) + (0..<4096).map { UInt8($0 % 251) }
        let signature = try CMSSignature.signDetached(document, certificate: certificate, key: key)
        let signers = try CMSSignature.verifyDetached(signature, content: document)
        #expect(signers.map(\.derBytes) == [certificate.derBytes])
        var other = document
        other[100] ^= 1
        #expect(throws: OpenSSLError.self) { _ = try CMSSignature.verifyDetached(signature, content: other) }

        try Data(document).write(to: URL(fileURLWithPath: directory.file("document.pdf")))
        try Data(other).write(to: URL(fileURLWithPath: directory.file("other.pdf")))
        try Data(signature).write(to: URL(fileURLWithPath: directory.file("signature.p7s")))
        try certificate.pem.write(toFile: directory.file("signer.pem"), atomically: true, encoding: .utf8)
        let verified = try runProcess("/usr/bin/openssl", [
            "cms", "-verify", "-binary", "-inform", "DER", "-in", directory.file("signature.p7s"), "-content", directory.file("document.pdf"),
            "-CAfile", directory.file("signer.pem"), "-purpose", "any", "-out", "/dev/null",
        ])
        #expect(verified.status == 0 && verified.standardError.contains("Verification successful"), "\(verified.standardError)")
        let refused = try runProcess("/usr/bin/openssl", [
            "cms", "-verify", "-binary", "-inform", "DER", "-in", directory.file("signature.p7s"), "-content", directory.file("other.pdf"),
            "-CAfile", directory.file("signer.pem"), "-purpose", "any", "-out", "/dev/null",
        ])
        #expect(refused.status != 0)
        let printed = try runProcess("/usr/bin/openssl", ["cms", "-cmsout", "-print", "-inform", "DER", "-in", directory.file("signature.p7s")])
        #expect(printed.standardOutput.contains("id-smime-aa-signingCertificateV2") && printed.standardOutput.contains("eContent: <ABSENT>"), "\(printed.standardOutput.prefix(2000))")
    }

    @Test("a certificate built for a CSR's key signs at once, as a CA's issued certificate is used")
    func signsWithCertificateBuiltFromRequest() throws {
        let key = try PrivateKey.generate(.ecdsaP256)
        let request = try CertificateSigningRequest.create(key: key, subject: try DistinguishedName(parsing: "CN=Arbitrator"))
        let parsed = try CertificateSigningRequest(pemOrDER: request.derBytes)
        let issuerKey = try PrivateKey.generate(.ecdsaP256)
        let now = Int64(Date().timeIntervalSince1970)
        let certificate = try CertificateBuilder.build(
            serial: [0x07], subject: try DistinguishedName(parsing: "CN=Arbitrator"), publicKey: try #require(parsed.publicKey),
            notBefore: now - 60, notAfter: now + 86_400, extensions: [], issuer: nil, signingKey: issuerKey)
        let document = Array("award".utf8)
        let signature = try CMSSignature.signDetached(document, certificate: certificate, key: key)
        #expect(try CMSSignature.verifyDetached(signature, content: document).map(\.derBytes) == [certificate.derBytes])
    }

    @Test("signatures OpenSSL made verify here; garbage, attached and oversized ones are refused by name")
    func foreignAndMalformed() throws {
        let directory = TemporaryDirectory()
        let document = Array("award, English version\n".utf8)
        try Data(document).write(to: URL(fileURLWithPath: directory.file("award.txt")))
        // An arbitrator's key and certificate made by OpenSSL, not by us.
        let made = try runProcess("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=Arbitrator/O=Notarium Tests", "-keyout", directory.file("signer.key"), "-out", directory.file("signer.pem"),
        ])
        #expect(made.status == 0, "\(made.standardError)")
        for (name, extra) in [("detached", [String]()), ("attached", ["-nodetach"])] {
            let made = try runProcess("/usr/bin/openssl", [
                "cms", "-sign", "-binary", "-outform", "DER", "-in", directory.file("award.txt"), "-signer", directory.file("signer.pem"),
                "-inkey", directory.file("signer.key"), "-md", "sha256", "-out", directory.file("\(name).p7s"),
            ] + extra)
            #expect(made.status == 0, "\(made.standardError)")
        }
        let foreign = try readBytes(directory.file("detached.p7s"))
        #expect(try CMSSignature.verifyDetached(foreign, content: document).count == 1)
        let attached = try readBytes(directory.file("attached.p7s"))
        #expect(caught(OpenSSLError.self) { _ = try CMSSignature.verifyDetached(attached, content: document) }?.reason.contains("detached signature is expected") == true)
        #expect(caught(OpenSSLError.self) { _ = try CMSSignature.verifyDetached([0x30, 0x03, 0x02, 0x01], content: document) }?.code == .malformedInput)
        #expect(caught(OpenSSLError.self) { _ = try CMSSignature.verifyDetached(Array(foreign.dropLast(5)), content: document) }?.code == .malformedInput)
        #expect(caught(OpenSSLError.self) { _ = try CMSSignature.verifyDetached([UInt8](repeating: 0x30, count: CMSSignature.maximumBytes + 1), content: document) }?.code == .malformedInput)
    }
}
