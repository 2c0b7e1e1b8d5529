import Foundation
import NotariumTestKit
import OpenSSLKit
import Testing

/// A root, an intermediate and a leaf made here, validated at chosen times with chosen CRLs:
/// every kind of failure `ChainValidation` sorts out, and the depth at which it occurs.
@Suite("Path validation at a time, with CRLs")
struct ChainValidationTests {
    struct PKI {
        let root: Certificate, rootKey: PrivateKey
        let issuing: Certificate, issuingKey: PrivateKey
        let leaf: Certificate
        static let day: Int64 = 86_400
        /// Everything valid from `start`; the intermediate for 100 days, the leaf for 10.
        static let start: Int64 = 1_800_000_000

        init(intermediateDays: Int64 = 100, leafExtensions: [ExtensionSpec] = []) throws {
            let caExtensions = [ExtensionSpec("basicConstraints", "critical,CA:TRUE"), ExtensionSpec("keyUsage", "critical,keyCertSign,cRLSign"), ExtensionSpec("subjectKeyIdentifier", "hash")]
            rootKey = try PrivateKey.generate(.ecdsaP256)
            root = try CertificateBuilder.build(serial: [1], subject: try DistinguishedName(parsing: "CN=Test Root"), publicKey: rootKey.publicKey,
                                                notBefore: Self.start, notAfter: Self.start + 1000 * Self.day, extensions: caExtensions, issuer: nil, signingKey: rootKey)
            issuingKey = try PrivateKey.generate(.ecdsaP256)
            issuing = try CertificateBuilder.build(serial: [2], subject: try DistinguishedName(parsing: "CN=Test Issuing"), publicKey: issuingKey.publicKey,
                                                   notBefore: Self.start, notAfter: Self.start + intermediateDays * Self.day,
                                                   extensions: caExtensions + [ExtensionSpec("authorityKeyIdentifier", "keyid")], issuer: root, signingKey: rootKey)
            let leafKey = try PrivateKey.generate(.ecdsaP256)
            leaf = try CertificateBuilder.build(serial: [3], subject: try DistinguishedName(parsing: "CN=Test Signer"), publicKey: leafKey.publicKey,
                                                notBefore: Self.start, notAfter: Self.start + 10 * Self.day,
                                                extensions: [ExtensionSpec("keyUsage", "critical,digitalSignature,nonRepudiation")] + leafExtensions, issuer: issuing, signingKey: issuingKey)
        }

        /// The issuing CA's and the root's CRLs, issued at `at`, valid 7 days, revoking `revoked`.
        func crls(at time: Int64, revoked: [RevokedCertificate] = []) throws -> [CertificateRevocationList] {
            [try CertificateRevocationList.build(issuer: issuing, signingKey: issuingKey, number: 1, thisUpdate: time, nextUpdate: time + 7 * Self.day, revoked: revoked),
             try CertificateRevocationList.build(issuer: root, signingKey: rootKey, number: 1, thisUpdate: time, nextUpdate: time + 7 * Self.day, revoked: [])]
        }

        func validate(at time: Int64, crls: [CertificateRevocationList], checkRevocation: Bool = true, trusted: [Certificate]? = nil) -> Result<[Certificate], ChainFailure> {
            ChainValidation.validate(leaf, untrusted: [issuing], trusted: trusted ?? [root], crls: crls, at: time, checkRevocation: checkRevocation)
        }
    }

    @Test("a valid path at a time with CRLs valid then: leaf, issuing, root; openssl verify -attime agrees")
    func valid() throws {
        let pki = try PKI()
        let time = PKI.start + 2 * PKI.day
        let path = try pki.validate(at: time, crls: try pki.crls(at: time - 3600)).get()
        #expect(path.map(\.subject) == ["CN=Test Signer", "CN=Test Issuing", "CN=Test Root"])

        let directory = TemporaryDirectory()
        try pki.root.pem.write(toFile: directory.file("root.pem"), atomically: true, encoding: .utf8)
        try pki.issuing.pem.write(toFile: directory.file("issuing.pem"), atomically: true, encoding: .utf8)
        try pki.leaf.pem.write(toFile: directory.file("leaf.pem"), atomically: true, encoding: .utf8)
        try (try pki.crls(at: time - 3600)).map(\.pem).joined().write(toFile: directory.file("crls.pem"), atomically: true, encoding: .utf8)
        let openssl = try runProcess("/usr/bin/openssl", ["verify", "-attime", String(time), "-crl_check_all", "-CAfile", directory.file("root.pem"),
                                                          "-untrusted", directory.file("issuing.pem"), "-CRLfile", directory.file("crls.pem"), directory.file("leaf.pem")])
        #expect(openssl.status == 0, "\(openssl.standardOutput) \(openssl.standardError)")
    }

    @Test("each failure is sorted: revoked, expired (leaf at depth 0, intermediate at depth 1), not yet valid, no CRL, CRL not valid then, no anchor, wrong purpose")
    func failures() throws {
        let pki = try PKI()
        let time = PKI.start + 2 * PKI.day
        func failure(_ result: Result<[Certificate], ChainFailure>) -> ChainFailure? {
            if case .failure(let failure) = result { return failure }
            return nil
        }
        let revoked = failure(pki.validate(at: time, crls: try pki.crls(at: time - 3600, revoked: [RevokedCertificate(serial: [3], revocationTime: time - 7200, reason: .keyCompromise)])))
        #expect(revoked?.kind == .revoked && revoked?.depth == 0)

        let late = PKI.start + 20 * PKI.day
        let expired = failure(pki.validate(at: late, crls: try pki.crls(at: late - 3600)))
        #expect(expired?.kind == .expired && expired?.depth == 0 && expired?.subject == "CN=Test Signer")
        let shortIntermediate = try PKI(intermediateDays: 5)
        let intermediateExpired = failure(shortIntermediate.validate(at: PKI.start + 7 * PKI.day, crls: try shortIntermediate.crls(at: PKI.start + 7 * PKI.day - 3600), checkRevocation: false))
        #expect(intermediateExpired?.kind == .expired && intermediateExpired?.depth == 1)

        let early = failure(pki.validate(at: PKI.start - PKI.day, crls: [], checkRevocation: false))
        #expect(early?.kind == .notYetValid)
        #expect(failure(pki.validate(at: time, crls: []))?.kind == .revocationUnknown)
        // CRLs issued after the time are not yet valid then: revocation unknown, not "good".
        #expect(failure(pki.validate(at: time, crls: try pki.crls(at: time + 3600)))?.kind == .revocationUnknown)
        // CRLs that expired before the time: unknown too.
        #expect(failure(pki.validate(at: time, crls: try pki.crls(at: time - 10 * PKI.day)))?.kind == .revocationUnknown)
        let stranger = try PKI()
        #expect(failure(pki.validate(at: time, crls: try pki.crls(at: time - 3600), trusted: [stranger.root]))?.kind == .noPathToTrustAnchor)

        let notTSA = failure(ChainValidation.validate(pki.leaf, untrusted: [pki.issuing], trusted: [pki.root], crls: try pki.crls(at: time - 3600), at: time, checkRevocation: true, timeStamping: true))
        #expect(notTSA?.kind == .invalid)
        let tsa = try PKI(leafExtensions: [ExtensionSpec("extendedKeyUsage", "critical,timeStamping")])
        #expect((try? ChainValidation.validate(tsa.leaf, untrusted: [tsa.issuing], trusted: [tsa.root], crls: try tsa.crls(at: time - 3600), at: time, checkRevocation: true, timeStamping: true).get()) != nil)
    }
}
