import Foundation
import NotariumTestKit
import OpenSSLKit
import Testing

/// Makes a self-signed certificate with the `openssl` command, a tool we did not write.
func makeCertificate(in directory: TemporaryDirectory, name: String, subject: String) throws -> (pem: String, der: [UInt8]) {
    let key = directory.file("\(name).key")
    let pem = directory.file("\(name).pem")
    let der = directory.file("\(name).der")
    let made = try runProcess("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", pem, "-subj", subject, "-days", "30"])
    guard made.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: made.standardError]) }
    _ = try runProcess("/usr/bin/openssl", ["x509", "-in", pem, "-outform", "DER", "-out", der])
    return (try String(contentsOfFile: pem, encoding: .utf8), Array(try Data(contentsOf: URL(fileURLWithPath: der))))
}

@Suite("OpenSSLKit: certificates, stacks and the error queue")
struct CertificateTests {
    @Test("a DER certificate parses, and its fingerprint and subject match openssl's")
    func derCertificate() throws {
        let directory = TemporaryDirectory()
        let made = try makeCertificate(in: directory, name: "a", subject: "/O=Notarium Test/CN=Alpha")
        let certificate = try Certificate(derEncoded: made.der)
        #expect(certificate.derBytes == made.der)
        #expect(certificate.subject == "CN=Alpha,O=Notarium Test")
        #expect(certificate.issuer == certificate.subject)
        let printed = try runProcess("/usr/bin/openssl", ["x509", "-in", directory.file("a.pem"), "-noout", "-fingerprint", "-sha256"])
        let expected = printed.standardOutput.split(separator: "=", maxSplits: 1).last?.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "").lowercased()
        #expect(certificate.sha256Fingerprint.map { String(format: "%02x", $0) }.joined() == expected)
    }

    @Test("a PEM chain becomes a stack of certificates in order")
    func pemChain() throws {
        let directory = TemporaryDirectory()
        let first = try makeCertificate(in: directory, name: "a", subject: "/CN=First")
        let second = try makeCertificate(in: directory, name: "b", subject: "/CN=Second")
        let chain = try Certificate.parseChain(pem: "leading text is ignored\n" + first.pem + second.pem)
        #expect(chain.map(\.subject) == ["CN=First", "CN=Second"])
        #expect(chain[1].derBytes == second.der)
    }

    @Test("malformed DER is malformedInput with OpenSSL's reason")
    func malformedDER() throws {
        let error = #expect(throws: OpenSSLError.self) { try Certificate(derEncoded: [0x30, 0x82, 0x10, 0x00, 0x01]) }
        #expect(error?.code == .malformedInput)
        #expect(error?.openSSLErrors.isEmpty == false)
        #expect(throws: OpenSSLError.self) { try Certificate(derEncoded: []) }
    }

    @Test("a certificate followed by trailing bytes is refused")
    func trailingBytes() throws {
        let directory = TemporaryDirectory()
        let made = try makeCertificate(in: directory, name: "a", subject: "/CN=T")
        let error = #expect(throws: OpenSSLError.self) { try Certificate(derEncoded: made.der + [0x00]) }
        #expect(error?.code == .malformedInput)
    }

    @Test("PEM with no certificate, or a damaged block, is malformedInput")
    func badPEM() throws {
        let none = #expect(throws: OpenSSLError.self) { try Certificate.parseChain(pem: "no certificates here\n") }
        #expect(none?.code == .malformedInput)
        let damaged = "-----BEGIN CERTIFICATE-----\nMIIB!!!!notbase64\n-----END CERTIFICATE-----\n"
        let error = #expect(throws: OpenSSLError.self) { try Certificate.parseChain(pem: damaged) }
        #expect(error?.code == .malformedInput)
    }

    @Test("the linked OpenSSL is version 3")
    func version() {
        #expect(OpenSSLLibrary.version.hasPrefix("OpenSSL 3."))
    }
}
