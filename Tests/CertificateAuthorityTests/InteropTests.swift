import CertificateAuthority
import Foundation
import NotariumTestKit
import OpenSSLKit
import Testing

@Suite("Independent checks: Python cryptography, NIST PKITS")
struct InteropTests {
    @Test("Python's cryptography loads every certificate and the CRL, and its path validation accepts the TLS chains")
    func pythonCryptography() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        var leaves: [(String, Certificate)] = []
        for profile in CertificateProfile.allCases where profile.acceptsRequests {
            let names: [GeneralName] = profile == .tlsServer ? [.dns("notary.example.org")] : profile == .signer || profile == .tlsClient ? [.email("a@example.org")] : []
            let issued = try await ca.authority.issue(request: try request(subject: "CN=notary.example.org", names: names).1, profile: profile)
            leaves.append((profile.rawValue, issued.certificate))
        }
        leaves.append(("ocsp", ca.authority.hierarchy.ocspResponder))
        // pyca's client verifier requires a subjectAltName (its web-PKI profile).
        let revoked = try await ca.authority.issue(request: try request().1, profile: .tlsClient).certificate
        _ = try await ca.authority.revoke(serial: revoked.serialNumber, reason: .keyCompromise)
        leaves.append(("revoked", revoked))
        try ca.writeTrustFiles()
        try Data(ca.authority.currentCRL.der).write(to: URL(fileURLWithPath: ca.directory.file("crl.der")))
        var arguments = [repositoryRoot + "/Tests/CertificateAuthorityTests/check_chain.py", ca.directory.file("root.pem"), ca.directory.file("issuing.pem"), ca.directory.file("crl.der")]
        for (profile, certificate) in leaves {
            let file = ca.directory.file("\(profile).pem")
            try certificate.pem.write(toFile: file, atomically: true, encoding: .utf8)
            arguments += [profile, file]
        }
        let result = try runProcess("/usr/bin/env", ["python3"] + arguments)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        let report = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any] ?? [:]
        #expect(report["crlSignatureValid"] as? Bool == true)
        #expect(report["revokedSerials"] as? [String] == [revoked.serialHex])
        #expect(report["tls-server"] as? String == "path-valid")
        #expect(report["tls-client"] as? String == "path-valid")
        for profile in ["tsa", "signer", "ocsp"] { #expect(report[profile] as? String == "loaded", "\(profile)") }
    }

    @Test("every NIST PKITS certificate and CRL parses, and each CRL's signature checks against its issuer where PKITS names one")
    func pkitsParse() throws {
        guard let vectors = externalVectors else { return }
        let folder = vectors + "/x509-pkits"
        let certificates = try FileManager.default.contentsOfDirectory(atPath: folder + "/certs").filter { $0.hasSuffix(".crt") }
        let crls = try FileManager.default.contentsOfDirectory(atPath: folder + "/crls").filter { $0.hasSuffix(".crl") }
        #expect(certificates.count > 400 && crls.count > 170)
        var parsed: [String: Certificate] = [:]
        for name in certificates {
            parsed[name] = try Certificate(derEncoded: try readBytes(folder + "/certs/" + name))
        }
        let anchor = try #require(parsed["TrustAnchorRootCertificate.crt"])
        let anchorCRL = try CertificateRevocationList(derEncoded: try readBytes(folder + "/crls/TrustAnchorRootCRL.crl"))
        #expect(anchorCRL.isSigned(by: anchor))
        #expect(anchorCRL.issuerName == anchor.subjectName)
        for name in crls {
            let crl = try CertificateRevocationList(derEncoded: try readBytes(folder + "/crls/" + name))
            // PKITS names a CRL after its issuer: "GoodCACRL.crl" is signed by "GoodCACert.crt".
            let issuerFile = name.replacingOccurrences(of: "CRL.crl", with: "Cert.crt")
            if let issuer = parsed[issuerFile], !Self.pkitsSignedByAnotherKey.contains(name) {
                #expect(crl.isSigned(by: issuer), "\(name)")
            }
        }
        let badSigned = try CertificateRevocationList(derEncoded: try readBytes(folder + "/crls/BadCRLSignatureCACRL.crl"))
        #expect(!badSigned.isSigned(by: try #require(parsed["BadCRLSignatureCACert.crt"])))
    }

    /// PKITS CRLs whose signature, by design, does not verify with the same-named certificate's
    /// key: a bad signature; a DSA key that inherits its parameters from its issuer (unusable
    /// alone); a CRL deliberately from another CA; and CAs that rolled over to a new key (the CRL is signed by the other one).
    static let pkitsSignedByAnotherKey: Set<String> = [
        "BadCRLSignatureCACRL.crl", "DSAParametersInheritedCACRL.crl",
        "BasicSelfIssuedCRLSigningKeyCACRL.crl", "BasicSelfIssuedOldKeyCACRL.crl", "BasicSelfIssuedNewKeyCACRL.crl",
        "WrongCRLCACRL.crl",
    ]

    @Test("a distinguished name survives text → certificate → text, and names with commas are escaped")
    func names() throws {
        let name = try DistinguishedName(parsing: "CN=Müller\\, Schmidt & Partner,O=Kanzlei,C=DE")
        #expect(name.value(of: "CN") == "Müller, Schmidt & Partner")
        let key = try PrivateKey.generate(.ecdsaP256)
        let certificate = try CertificateBuilder.build(serial: [1], subject: name, publicKey: key.publicKey, notBefore: 0, notAfter: 86_400, extensions: [], issuer: nil, signingKey: key)
        #expect(certificate.subjectName == name)
        #expect(certificate.subject == "CN=Müller\\, Schmidt & Partner,O=Kanzlei,C=DE")
        #expect(throws: OpenSSLError.self) { _ = try DistinguishedName(parsing: "CN=a,NOPE=b") }
        #expect(throws: OpenSSLError.self) { _ = try DistinguishedName(parsing: "just text") }
    }
}
