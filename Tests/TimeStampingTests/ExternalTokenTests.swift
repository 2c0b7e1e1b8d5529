import Foundation
import NotariumTestKit
import OpenSSLKit
import Testing

/// Real tokens from other TSAs (../shared/vectors-external/rfc3161, see SOURCES.md there for
/// each file's origin and expected verdict), read and verified by `TimeStampReply`, the code
/// `notarium ts verify` uses. Skipped on a machine without the vectors.
@Suite("TSA: tokens from other TSAs (external vectors)", .enabled(if: externalVectors != nil))
struct ExternalTokenTests {
    let base = (externalVectors ?? "") + "/rfc3161/trailofbits-rfc3161-client"

    func chain(_ file: String) throws -> [Certificate] { try Certificate.parseFile(try readBytes(file)) }

    @Test("Sigstore staging TSA: SHA-256/384/512 tokens over 'hello' verify at genTime with its chain; a wrong imprint does not")
    func sigstage() throws {
        let certificates = try chain(base + "/sigstage/ts_chain.pem")
        let (leaf, root) = (certificates[0], certificates[certificates.count - 1])
        for (name, hash) in [("sha256", TimeStampHash.sha256), ("sha384", .sha384), ("sha512", .sha512)] {
            let reply = try TimeStampReply(derEncoded: try readBytes(base + "/sigstage/response-\(name).tsr"))
            #expect(reply.isGranted && reply.hash == hash && reply.policyOID == "1.3.6.1.4.1.57264.2")
            try reply.verify(imprint: hash.digest(Array("hello".utf8)), trusted: [root], untrusted: [leaf])
            #expect(throws: OpenSSLError.self) { try reply.verify(imprint: hash.digest(Array("hello!".utf8)), trusted: [root], untrusted: [leaf]) }
        }
        // No certificate inside: it verifies when the TSA certificate is supplied, not without.
        let bare = try TimeStampReply(derEncoded: try readBytes(base + "/sigstage/response-no-embedded-cert.tsr"))
        #expect(bare.certificates.isEmpty)
        try bare.verify(imprint: TimeStampHash.sha256.digest(Array("hello".utf8)), trusted: [root], untrusted: [leaf])
        #expect(throws: OpenSSLError.self) { try bare.verify(imprint: TimeStampHash.sha256.digest(Array("hello".utf8)), trusted: [root]) }
        // A broken signature is refused.
        let broken = try TimeStampReply(derEncoded: try readBytes(base + "/sigstage/response-invalid-signature.tsr"))
        #expect(throws: OpenSSLError.self) { try broken.verify(imprint: TimeStampHash.sha256.digest(Array("hello".utf8)), trusted: [root], untrusted: [leaf]) }
    }

    @Test("a local sigstore TSA: SHA-512 token with nonce verifies through its intermediate")
    func localSigstoreTSA() throws {
        let certificates = try chain(base + "/test_tsa/ts_chain.pem")
        let reply = try TimeStampReply(derEncoded: try readBytes(base + "/test_tsa/response.tsr"))
        #expect(reply.nonce == [0x36, 0xA4, 0x4F, 0x9F, 0x4A, 0x39, 0x1F, 0xD3])
        try reply.verify(imprint: TimeStampHash.sha512.digest(Array("hello".utf8)), trusted: [certificates.last!], untrusted: Array(certificates.dropLast()))
    }

    @Test("an expired TSA certificate: valid at genTime, not when checked now")
    func expired() throws {
        let certificates = try chain(base + "/sigstore.mock/ts_chain.pem")
        let reply = try TimeStampReply(derEncoded: try readBytes(base + "/sigstore.mock/response-expired.tsr"))
        let imprint = TimeStampHash.sha256.digest(try readBytes(base + "/sigstore.mock/payload"))
        try reply.verify(imprint: imprint, trusted: [certificates.last!], untrusted: Array(certificates.dropLast()))
        #expect(throws: OpenSSLError.self) {
            try reply.verify(imprint: imprint, trusted: [certificates.last!], untrusted: Array(certificates.dropLast()), at: Int64(Date().timeIntervalSince1970))
        }
    }

    @Test("IdenTrust's commercial TSA: the signer is found although it is not first in the bag")
    func identrust() throws {
        let root = try chain(base + "/identrust/ts_chain.pem")
        let reply = try TimeStampReply(derEncoded: try readBytes(base + "/identrust/issue-104.tsr"))
        #expect(reply.policyOID == "2.16.840.1.113839.0.6.13.3")
        try reply.verify(imprint: TimeStampHash.sha512.digest(Array("hello".utf8)), trusted: root)
    }
}
