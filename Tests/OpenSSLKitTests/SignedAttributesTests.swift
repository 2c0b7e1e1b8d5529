import Foundation
import NotariumTestKit
import OpenSSLKit
import Testing

@Suite("CMS signed attributes without the content, file digests and PEM keys")
struct SignedAttributesTests {
    @Test("verifySignedAttributes returns the signed digest, algorithm, signing time and certificate; openssl cms -cades signatures read the same")
    func readsSignedAttributes() throws {
        let directory = TemporaryDirectory()
        let (certificate, key) = try CMSSignatureTests.signer()
        let document = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(document).write(to: URL(fileURLWithPath: directory.file("document.bin")))
        let ours = try CMSSignature.signDetached(contentsOf: directory.file("document.bin"), certificate: certificate, key: key)
        let facts = try CMSSignature.verifySignedAttributes(ours)
        #expect(facts.count == 1)
        #expect(facts[0].certificate.derBytes == certificate.derBytes)
        #expect(facts[0].digestAlgorithm == .sha256 && facts[0].messageDigest == TimeStampHash.sha256.digest(document))
        let now = Int64(Date().timeIntervalSince1970)
        #expect(abs((facts[0].signingTime ?? 0) - now) < 300)
        // The file-signed and memory-signed forms are the same CMS: OpenSSL accepts both.
        #expect(try CMSSignature.verifyDetached(ours, content: document).count == 1)

        try certificate.pem.write(toFile: directory.file("signer.pem"), atomically: true, encoding: .utf8)
        try key.withPKCS8 { pkcs8 in try Data(pkcs8).write(to: URL(fileURLWithPath: directory.file("signer.der"))) }
        _ = try runProcess("/usr/bin/openssl", ["pkey", "-inform", "DER", "-in", directory.file("signer.der"), "-out", directory.file("signer.key")])
        let made = try runProcess("/usr/bin/openssl", [
            "cms", "-sign", "-cades", "-binary", "-outform", "DER", "-md", "sha512", "-in", directory.file("document.bin"),
            "-signer", directory.file("signer.pem"), "-inkey", directory.file("signer.key"), "-out", directory.file("cades.p7s"),
        ])
        #expect(made.status == 0, "\(made.standardError)")
        let theirs = try CMSSignature.verifySignedAttributes(try readBytes(directory.file("cades.p7s")))
        #expect(theirs.count == 1 && theirs[0].digestAlgorithm == .sha512 && theirs[0].messageDigest == TimeStampHash.sha512.digest(document))
    }

    @Test("refused by name: no signed attributes, no signing-certificate attribute, attached content, a damaged signature; two signers are both returned")
    func refusals() throws {
        let directory = TemporaryDirectory()
        try Data("exhibit".utf8).write(to: URL(fileURLWithPath: directory.file("exhibit.txt")))
        for name in ["a", "b"] {
            let made = try runProcess("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=Signer \(name)", "-keyout", directory.file("\(name).key"), "-out", directory.file("\(name).pem"),
            ])
            #expect(made.status == 0)
        }
        func sign(_ out: String, _ extra: [String]) throws -> [UInt8] {
            let made = try runProcess("/usr/bin/openssl", [
                "cms", "-sign", "-binary", "-outform", "DER", "-in", directory.file("exhibit.txt"), "-out", directory.file(out),
            ] + extra)
            #expect(made.status == 0, "\(made.standardError)")
            return try readBytes(directory.file(out))
        }
        let signerA = ["-signer", directory.file("a.pem"), "-inkey", directory.file("a.key")]
        let signerB = ["-signer", directory.file("b.pem"), "-inkey", directory.file("b.key")]

        let noAttributes = try sign("noattr.p7s", signerA + ["-noattr"])
        #expect(caught(OpenSSLError.self) { _ = try CMSSignature.verifySignedAttributes(noAttributes) }?.reason.contains("no signed attributes") == true)
        let noBinding = try sign("plain.p7s", signerA)
        #expect(caught(OpenSSLError.self) { _ = try CMSSignature.verifySignedAttributes(noBinding) }?.reason.contains("no signing-certificate attribute") == true)
        let attached = try sign("attached.p7s", signerA + ["-cades", "-nodetach"])
        #expect(caught(OpenSSLError.self) { _ = try CMSSignature.verifySignedAttributes(attached) }?.reason.contains("detached signature is expected") == true)
        var damaged = try sign("cades.p7s", signerA + ["-cades"])
        #expect(try CMSSignature.verifySignedAttributes(damaged).count == 1)
        damaged[damaged.count - 10] ^= 0x01  // inside the signature value
        #expect(caught(OpenSSLError.self) { _ = try CMSSignature.verifySignedAttributes(damaged) }?.code == .operationFailed)
        let two = try sign("two.p7s", signerA + signerB + ["-cades"])
        // SignerInfos is a SET OF: its order is the DER order, not the signing order.
        #expect(Set(try CMSSignature.verifySignedAttributes(two).map(\.certificate.subject)) == ["CN=Signer a", "CN=Signer b"])
    }

    @Test("file digests equal openssl dgst over several read chunks and for an empty file; a missing file is named")
    func fileDigests() throws {
        let directory = TemporaryDirectory()
        let large = (0..<(3 << 20) + 12_345).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        try Data(large).write(to: URL(fileURLWithPath: directory.file("large.bin")))
        try Data().write(to: URL(fileURLWithPath: directory.file("empty.bin")))
        for name in ["large.bin", "empty.bin"] {
            let result = try FileDigest.compute(path: directory.file(name), algorithms: [.sha256, .sha512])
            #expect(result.size == UInt64(name == "large.bin" ? large.count : 0))
            for (algorithm, digest) in zip(["-sha256", "-sha512"], result.digests) {
                let openssl = try runProcess("/usr/bin/openssl", ["dgst", algorithm, "-r", directory.file(name)])
                #expect(openssl.standardOutput.split(separator: " ").first.map(String.init) == hex(digest).lowercased(), "\(name) \(algorithm)")
            }
        }
        #expect(caught(OpenSSLError.self) { _ = try FileDigest.compute(path: directory.file("absent.bin"), algorithms: [.sha256]) }?.reason.contains("cannot open") == true)
    }

    @Test("PEM private keys: PKCS#8 and traditional EC read; garbage and encrypted keys refused")
    func pemKeys() throws {
        let directory = TemporaryDirectory()
        _ = try runProcess("/usr/bin/openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", directory.file("pkcs8.pem")])
        _ = try runProcess("/usr/bin/openssl", ["ec", "-in", directory.file("pkcs8.pem"), "-out", directory.file("traditional.pem")])
        _ = try runProcess("/usr/bin/openssl", ["pkey", "-in", directory.file("pkcs8.pem"), "-aes256", "-passout", "pass:secret", "-out", directory.file("encrypted.pem")])
        let pkcs8 = try PrivateKey(pem: try String(contentsOfFile: directory.file("pkcs8.pem"), encoding: .utf8))
        let traditional = try PrivateKey(pem: try String(contentsOfFile: directory.file("traditional.pem"), encoding: .utf8))
        #expect(pkcs8.subjectPublicKeyInfo == traditional.subjectPublicKeyInfo)
        #expect(caught(OpenSSLError.self) { _ = try PrivateKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") }?.code == .malformedInput)
        // Refused without a prompt: stdin is the terminal when a person runs this.
        #expect(caught(OpenSSLError.self) { _ = try PrivateKey(pem: try String(contentsOfFile: directory.file("encrypted.pem"), encoding: .utf8)) }?.code == .malformedInput)
    }
}
