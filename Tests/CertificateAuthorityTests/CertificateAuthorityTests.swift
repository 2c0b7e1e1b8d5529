import CanonicalJSON
import CertificateAuthority
import Foundation
import Ledger
import NotariumTestKit
import OpenSSLKit
import Synchronization
import Testing

@Suite("Certificate authority: hierarchy, issuance, revocation, CRL, OCSP")
struct CertificateAuthorityTests {
    @Test("initialization makes a root, an issuing CA, an OCSP responder and the ledger key's certificate, each in the ledger")
    func initialization() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        let hierarchy = ca.authority.hierarchy
        #expect(hierarchy.root.subject == "CN=Test Root CA,O=Notarium Tests,C=CH")
        #expect(hierarchy.root.isSigned(by: hierarchy.root))
        #expect(hierarchy.issuing.isSigned(by: hierarchy.root))
        #expect(hierarchy.ocspResponder.isSigned(by: hierarchy.issuing))
        #expect(ca.ledger.size == 4)
        let types = try (0..<4).map { try ca.ledger.entry($0).type }
        #expect(types == [.certificateIssued, .certificateIssued, .certificateIssued, .keyCertified])
        // The ledger key's certificate holds exactly the ledger's verifier key.
        let entry = try ca.ledger.entry(3)
        guard case .object(let body) = entry.body, let der = body["certificate"]?.stringValue.flatMap(Base64.decode) else {
            Issue.record("the key-certified entry has no certificate")
            return
        }
        let ledgerCertificate = try Certificate(derEncoded: der)
        #expect(ledgerCertificate.publicKey?.subjectPublicKeyInfo == (try PublicKey(ed25519: ca.ledger.identity.verifier.publicKey)).subjectPublicKeyInfo)
        #expect(body["certificateSha256"]?.stringValue == hex(ledgerCertificate.sha256Fingerprint).lowercased())
        #expect(body["verifierKey"]?.stringValue == ca.ledger.identity.verifier.text)
        // CA certificates carry no extended key usage (docs/pki.md).
        #expect(!hierarchy.root.text.contains("Extended Key Usage"))
        #expect(!hierarchy.issuing.text.contains("Extended Key Usage"))
        #expect(hierarchy.issuing.text.contains("pathlen:0"))
        await #expect(throws: CAError.self) {
            _ = try await CertificateAuthority.initialize(
                database: ca.database, ledger: ca.ledger, settings: try TestCA.settings(), keysDirectory: ca.directory.file("keys"),
                sealing: .keyFile(path: ca.directory.file("seal.key")), logger: .init(label: "test"))
        }
    }

    @Test("a reopened CA unseals its keys and goes on issuing under the same issuing CA")
    func reopen() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        let reopened = try CertificateAuthority.open(
            database: ca.database, ledger: ca.ledger, settings: try TestCA.settings(), keysDirectory: ca.directory.file("keys"),
            sealing: .keyFile(path: ca.directory.file("seal.key")), logger: .init(label: "test"))
        let (_, csr) = try request()
        let issued = try await reopened.issue(request: csr, profile: .signer)
        #expect(issued.certificate.isSigned(by: ca.authority.hierarchy.issuing))
    }

    @Test("every profile issues a certificate that openssl verify accepts with the CRL, for its purpose")
    func profilesVerifyWithOpenSSL() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        let cases: [(CertificateProfile, [GeneralName], String?)] = [
            (.tsa, [], "timestampsign"),
            (.signer, [.email("alice@example.org")], "smimesign"),
            (.tlsServer, [.dns("notary.example.org"), .ipAddress([127, 0, 0, 1])], "sslserver"),
            (.tlsClient, [], "sslclient"),
        ]
        for (profile, names, purpose) in cases {
            let (_, csr) = try request(subject: "CN=notary.example.org,O=Example,C=CH", names: names)
            let issued = try await ca.authority.issue(request: csr, profile: profile)
            let result = try ca.opensslVerify(issued.certificate, purpose: purpose)
            #expect(result.status == 0, "\(profile.rawValue): \(result.standardOutput) \(result.standardError)")
            #expect(issued.certificate.serialNumber.count == 16)
            #expect(issued.certificate.text.contains("Policy: \(NotariumOID.defaultCertificatePolicy)"))
            #expect(issued.certificate.text.contains("URI:\(TestCA.baseURL)/ca/crl"))
            #expect(issued.certificate.text.contains("OCSP - URI:\(TestCA.baseURL)/ocsp"))
        }
        // The delegated responder: OCSPSigning and id-pkix-ocsp-nocheck; no CSR gets that profile.
        let responder = ca.authority.hierarchy.ocspResponder
        #expect(try ca.opensslVerify(responder, purpose: "ocsphelper").status == 0)
        #expect(responder.text.contains("OCSP Signing") && responder.text.contains("OCSP No Check"))
        let error = await caught(CAError.self) { _ = try await ca.authority.issue(request: try request().1, profile: .ocsp) }
        #expect(error?.code == .unknownProfile)
    }

    @Test("the TSA profile's extended key usage is critical timeStamping and its key usage has no encipherment")
    func tsaProfile() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        let (_, csr) = try request()
        let text = try await ca.authority.issue(request: csr, profile: .tsa).certificate.text
        #expect(text.contains("X509v3 Extended Key Usage: critical\n                Time Stamping"))
        #expect(text.contains("X509v3 Key Usage: critical\n                Digital Signature, Non Repudiation"))
    }

    @Test("the subject is taken from the request only as far as the profile allows")
    func subjectFiltering() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        let (_, csr) = try request(subject: "CN=Bob,OU=Legal,O=Firm,emailAddress=bob@firm.example,DC=example", names: [.email("bob@firm.example")])
        let issued = try await ca.authority.issue(request: csr, profile: .signer)
        #expect(issued.certificate.subject == "CN=Bob,OU=Legal,O=Firm")
        #expect(issued.certificate.alternativeNames == [.email("bob@firm.example")])
        #expect(issued.certificate.text.contains("E-mail Protection"))
        // Without an e-mail address, no emailProtection.
        let (_, plain) = try request(subject: "CN=Carol")
        #expect(!(try await ca.authority.issue(request: plain, profile: .signer)).certificate.text.contains("E-mail Protection"))
        // A TLS server request with only a host-name CN gets it as its SAN.
        let (_, server) = try request(subject: "CN=Api.Example.ORG")
        #expect(try await ca.authority.issue(request: server, profile: .tlsServer).certificate.alternativeNames == [.dns("api.example.org")])
    }

    @Test("RSA-3072 CA keys work end to end")
    func rsaCA() async throws {
        let ca = try await TestCA(algorithm: .rsa3072)
        defer { ca.close() }
        #expect(ca.authority.hierarchy.root.publicKey?.kind == .rsa(bits: 3072))
        let (_, csr) = try request(.rsa2048, subject: "CN=rsa.example.org", names: [.dns("rsa.example.org")])
        let issued = try await ca.authority.issue(request: csr, profile: .tlsServer)
        let result = try ca.opensslVerify(issued.certificate, purpose: "sslserver")
        #expect(result.status == 0, "\(result.standardError)")
        #expect(issued.certificate.text.contains("Digital Signature, Key Encipherment"))
    }

    @Test("Ed25519 and P-384 subject keys are certified")
    func otherKeys() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        for algorithm in [KeyAlgorithm.ed25519, .ecdsaP384] {
            let (_, csr) = try request(algorithm)
            let issued = try await ca.authority.issue(request: csr, profile: .signer)
            #expect(try ca.opensslVerify(issued.certificate).status == 0)
        }
    }

    @Test("a certificate carries its request's key exactly, whichever way the key's algorithm parameters are encoded")
    func keyCopiedFromRequest() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        // P-256: a curve OID parameter; RSA: NULL; Ed25519: absent.
        for algorithm in [KeyAlgorithm.ecdsaP256, .rsa2048, .ed25519] {
            let (key, csr) = try request(algorithm)
            let certificate = try await ca.authority.issue(request: csr, profile: .signer).certificate
            #expect(certificate.publicKey?.subjectPublicKeyInfo == key.subjectPublicKeyInfo, "\(algorithm)")
            #expect(try Certificate(derEncoded: certificate.derBytes).publicKey?.subjectPublicKeyInfo == key.subjectPublicKeyInfo, "\(algorithm)")
            #expect(try ca.opensslVerify(certificate).status == 0, "\(algorithm)")
        }
    }

    @Test("concurrent issuances get distinct serials and distinct ledger entries")
    func concurrentIssuance() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        let requests = try (0..<64).map { _ in try request().1 }
        let authority = ca.authority
        let serials = try await withThrowingTaskGroup(of: (String, UInt64).self) { group in
            for csr in requests { group.addTask { let issued = try await authority.issue(request: csr, profile: .tlsClient); return (issued.record.serialHex, issued.receipt.seq) } }
            var all: [(String, UInt64)] = []
            for try await item in group { all.append(item) }
            return all
        }
        #expect(Set(serials.map(\.0)).count == 64)
        #expect(Set(serials.map(\.1)).count == 64)
        #expect(try ca.authority.store.records(limit: 1000).count == 64 + 4)
    }

    @Test("revocation re-signs the CRL, enters the ledger, and openssl verify then rejects the certificate")
    func revocation() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        let (_, csr) = try request()
        let issued = try await ca.authority.issue(request: csr, profile: .signer)
        let numberBefore = ca.authority.currentCRL.number
        let (record, receipt) = try await ca.authority.revoke(serial: issued.certificate.serialNumber, reason: .keyCompromise)
        #expect(record.revocation?.reason == .keyCompromise)
        #expect(ca.authority.currentCRL.number == numberBefore + 1)
        let entry = try ca.ledger.entry(receipt.seq)
        #expect(entry.type == .certificateRevoked)
        guard case .object(let body) = entry.body else { return }
        #expect(body["certificateSha256"]?.stringValue == record.sha256)
        #expect(body["reason"]?.stringValue == "keyCompromise")
        let crl = try CertificateRevocationList(derEncoded: ca.authority.currentCRL.der)
        #expect(crl.isSigned(by: ca.authority.hierarchy.issuing))
        #expect(crl.revoked.map(\.serial) == [issued.certificate.serialNumber])
        #expect(crl.revoked.first?.reason == .keyCompromise)
        #expect(crl.number == [UInt8(numberBefore + 1)])
        let result = try ca.opensslVerify(issued.certificate)
        #expect(result.status != 0)
        #expect((result.standardOutput + result.standardError).contains("certificate revoked"))
    }

    @Test("bad requests are refused by name and change nothing", arguments: [
        "truncated", "garbage", "oversized", "bad-signature", "rsa-1024", "secp256k1", "no-cn", "tls-server-uri", "bad-host", "empty",
    ])
    func badRequests(kind: String) async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        let (expected, bytes, profile) = try badRequest(kind)
        let sizeBefore = ca.ledger.size
        let recordsBefore = try ca.authority.store.records(limit: 1000).count
        let error = await caught(CAError.self) { _ = try await ca.authority.issue(request: bytes, profile: profile) }
        #expect(error?.code == expected, "\(kind): \(String(describing: error))")
        #expect(error?.isClientError == true)
        #expect(ca.ledger.size == sizeBefore)
        #expect(try ca.authority.store.records(limit: 1000).count == recordsBefore)
    }

    private func badRequest(_ kind: String) throws -> (CAError.Code, [UInt8], CertificateProfile) {
        let (_, good) = try request(subject: "CN=ok.example.org")
        switch kind {
        case "truncated": return (.malformedRequest, Array(good.prefix(good.count - 10)), .signer)
        case "garbage": return (.malformedRequest, Array("-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n".utf8), .signer)
        case "oversized": return (.malformedRequest, good + [UInt8](repeating: 0, count: CertificateSigningRequest.maximumBytes), .signer)
        case "empty": return (.malformedRequest, [], .signer)
        case "bad-signature":
            var bytes = good
            bytes[bytes.count - 5] ^= 0x01
            return (.badRequestSignature, bytes, .signer)
        case "rsa-1024":
            return (.forbiddenKey, try opensslRequest(["-newkey", "rsa:1024"]), .signer)
        case "secp256k1":
            return (.forbiddenKey, try opensslRequest(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"]), .signer)
        case "no-cn": return (.subjectRefused, try request(subject: "O=No Common Name").1, .signer)
        case "tls-server-uri": return (.subjectRefused, try opensslRequest(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-addext", "subjectAltName=URI:https://example.org/"]), .tlsServer)
        case "bad-host": return (.subjectRefused, try request(subject: "CN=not a host name").1, .tlsServer)
        default: fatalError(kind)
        }
    }

    /// A request made by the openssl command (keys Notarium's own generator would not make).
    private func opensslRequest(_ arguments: [String]) throws -> [UInt8] {
        let directory = TemporaryDirectory()
        let out = directory.file("req.der")
        let result = try runProcess("/usr/bin/openssl", ["req", "-new", "-nodes", "-keyout", directory.file("key.pem"), "-subj", "/CN=refused.example.org", "-outform", "DER", "-out", out] + arguments)
        guard result.status == 0 else { throw CAError(.crypto, result.standardError) }
        return try readBytes(out)
    }

    @Test("revoking an unknown serial, revoking twice, a CA's own certificate or with certificateHold is refused and changes nothing")
    func badRevocations() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        let (_, csr) = try request()
        let issued = try await ca.authority.issue(request: csr, profile: .signer)
        _ = try await ca.authority.revoke(serial: issued.certificate.serialNumber, reason: .superseded)
        let size = ca.ledger.size
        let number = ca.authority.currentCRL.number
        let attempts: [([UInt8], RevocationReason, CAError.Code)] = [
            ([0x01, 0x02, 0x03], .keyCompromise, .unknownSerial),
            (issued.certificate.serialNumber, .keyCompromise, .alreadyRevoked),
            (ca.authority.hierarchy.issuing.serialNumber, .cACompromise, .revocationRefused),
            (ca.authority.hierarchy.ocspResponder.serialNumber, .keyCompromise, .revocationRefused),
            (issued.certificate.serialNumber, .certificateHold, .revocationRefused),
        ]
        for (serial, reason, code) in attempts {
            let error = await caught(CAError.self) { _ = try await ca.authority.revoke(serial: serial, reason: reason) }
            #expect(error?.code == code, "\(hex(serial)) \(reason): \(String(describing: error))")
        }
        #expect(ca.ledger.size == size)
        #expect(ca.authority.currentCRL.number == number)
    }

    @Test("a key file that is not the key of its certificate is refused when the CA opens")
    func keyMismatch() async throws {
        let ca = try await TestCA()
        defer { ca.close() }
        let keys = ca.directory.file("keys")
        let hierarchy = ca.authority.hierarchy
        let issuingFile = keys + "/ca-issuing-\(hierarchy.issuing.serialHex).key"
        try FileManager.default.removeItem(atPath: issuingFile)
        try FileManager.default.copyItem(atPath: keys + "/ca-ocsp-\(hierarchy.ocspResponder.serialHex).key", toPath: issuingFile)
        let error = await caught(CAError.self) {
            _ = try CertificateAuthority.open(
                database: ca.database, ledger: ca.ledger, settings: try TestCA.settings(), keysDirectory: keys,
                sealing: .keyFile(path: ca.directory.file("seal.key")), logger: .init(label: "test"))
        }
        #expect(error?.code == .key, "\(String(describing: error))")
    }

    @Test("maintenance re-signs the root CRL a month before its nextUpdate and replaces the OCSP responder a month before it expires")
    func rootCRLAndResponderRenewal() async throws {
        final class Clock: Sendable { let now = Mutex<Int64>(LedgerTime.nowMilliseconds()) }
        let clock = Clock()
        let ca = try await TestCA(clock: { clock.now.withLock { $0 } })
        defer { ca.close() }
        let rootCRL = try #require(try ca.authority.store.currentRootCRL())
        let oldResponder = ca.authority.hierarchy.ocspResponder
        let size = ca.ledger.size
        clock.now.withLock { $0 += 340 * 86_400_000 }
        let done = try await ca.authority.maintain()
        #expect(done.count == 3, "\(done)")
        #expect(try ca.authority.store.currentRootCRL()?.number == rootCRL.number + 1)
        let newResponder = ca.authority.hierarchy.ocspResponder
        #expect(newResponder.serialHex != oldResponder.serialHex)
        #expect(ca.ledger.size == size + 1)
        #expect(try ca.ledger.entry(size).type == .certificateIssued)
        // The new responder signs, and the stored hierarchy names it.
        #expect(try ca.authority.store.hierarchy()?.ocspResponder.serialHex == newResponder.serialHex)
        let issued = try await ca.authority.issue(request: try request().1, profile: .signer).certificate
        let (response, status) = ca.authority.ocspResponse(for: try OCSPRequest.create(certificate: issued, issuer: ca.authority.hierarchy.issuing, nonce: false))
        #expect(status == .successful)
        #expect(try OCSPResponseSummary(derEncoded: response).certificateStatuses == [.good])
        // A reopened CA finds the new responder's key.
        let reopened = try CertificateAuthority.open(
            database: ca.database, ledger: ca.ledger, settings: try TestCA.settings(), keysDirectory: ca.directory.file("keys"),
            sealing: .keyFile(path: ca.directory.file("seal.key")), logger: .init(label: "test"))
        #expect(reopened.hierarchy.ocspResponder.serialHex == newResponder.serialHex)
    }

    @Test("maintenance re-signs the CRL with a new number once half its validity has passed")
    func crlRefresh() async throws {
        final class Clock: Sendable { let now = Mutex<Int64>(LedgerTime.nowMilliseconds()) }
        let clock = Clock()
        let ca = try await TestCA(clock: { clock.now.withLock { $0 } })
        defer { ca.close() }
        #expect(try await ca.authority.maintain().isEmpty)
        let before = ca.authority.currentCRL
        clock.now.withLock { $0 += 13 * 3_600_000 }
        let done = try await ca.authority.maintain()
        #expect(done.count == 1, "\(done)")
        #expect(ca.authority.currentCRL.number == before.number + 1)
        #expect(ca.authority.currentCRL.thisUpdate == before.thisUpdate + 13 * 3600)
    }
}
