import Foundation
import Ledger
import NotariumTestKit
import OpenSSLKit
import Testing
import TimeStamping

@Suite("TSA: tokens, refusals, serials and the clock")
struct TimeStampAuthorityTests {
    @Test("a granted token echoes the imprint and nonce, carries policy, genTime in ms, accuracy, the TSA name and only the TSA certificate")
    func grantedToken() async throws {
        let clock = TestClock()
        let test = try await TestTSA(clock: clock)
        // A whole second, plus 123 ms, after the CA's certificates begin (they use the real clock).
        let second = LedgerTime.nowMilliseconds() / 1000 + 1
        clock.set(second * 1000 + 123)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMddHHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        func text(_ seconds: Int64) -> String { formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))) }
        defer { test.close() }
        let data = Array("hello, court".utf8)
        let nonce: [UInt8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB]
        let (reply, _, outcome) = try test.stamp(data, hash: .sha384, nonce: nonce)
        #expect(reply.isGranted)
        #expect(outcome == .granted(serial: 1, genTime: second * 1000 + 123))
        #expect(reply.hash == .sha384)
        #expect(reply.imprint == TimeStampHash.sha384.digest(data))
        #expect(reply.nonce == nonce)
        #expect(reply.policyOID == test.settings.policyOID)
        #expect(reply.genTime == second * 1000 + 123)
        #expect(reply.genTimeText == text(second) + ".123Z")
        #expect(reply.serial == [1])
        #expect(reply.text.contains("Accuracy: 0x01 seconds"))
        #expect(reply.text.contains("Ordering: no"))
        #expect(reply.tsaName == test.tsa.certificate.subject)
        #expect(reply.certificates.map(\.derBytes) == [test.tsa.certificate.derBytes])
        try reply.verify(imprint: TimeStampHash.sha384.digest(data), trusted: [test.tsa.chain[2]], untrusted: [test.tsa.chain[1]])
        // Another imprint does not verify.
        #expect(throws: OpenSSLError.self) { try reply.verify(imprint: TimeStampHash.sha384.digest([1]), trusted: [test.tsa.chain[2]], untrusted: [test.tsa.chain[1]]) }
        // Without certReq the token carries no certificate; a whole second has no fraction.
        clock.set((second + 1) * 1000)
        let (bare, _, _) = try test.stamp(data, nonce: nil, certificateRequested: false)
        #expect(bare.certificates.isEmpty && bare.nonce == nil)
        #expect(bare.genTimeText == text(second + 1) + "Z")
    }

    @Test("openssl ts -verify accepts the tokens: SHA-256/384/512, with and without nonce and certificate")
    func opensslVerifies() async throws {
        let test = try await TestTSA()
        defer { test.close() }
        try test.writeTrustFiles()
        let file = test.directory.file("document.txt")
        let data = Array("the award, signed".utf8)
        try Data(data).write(to: URL(fileURLWithPath: file))
        for hash in TimeStampHash.allCases {
            for (nonce, certificate) in [(true, true), (false, true), (true, false)] {
                let (_, response, _) = try test.stamp(data, hash: hash, nonce: nonce ? randomBytes(8) : nil, certificateRequested: certificate)
                let reply = test.directory.file("reply.tsr")
                try Data(response).write(to: URL(fileURLWithPath: reply))
                let verified = try runProcess("/usr/bin/openssl", [
                    "ts", "-verify", "-data", file, "-in", reply, "-CAfile", test.directory.file("root.pem"), "-untrusted", test.directory.file("chain.pem"),
                ])
                #expect(verified.status == 0 && verified.standardOutput.contains("Verification: OK"), "\(hash) nonce \(nonce) cert \(certificate): \(verified.standardOutput) \(verified.standardError)")
            }
        }
    }

    @Test("bad requests get the RFC 3161 failure that names them, and consume no serial")
    func refusals() async throws {
        let test = try await TestTSA()
        defer { test.close() }
        let imprint = TimeStampHash.sha256.digest([1, 2, 3])
        let good = try TimeStampRequest.create(imprint: imprint, hash: .sha256, nonce: nil, certificateRequested: true)
        // SHA-1 and MD5 requests as openssl makes them.
        func opensslQuery(_ digest: String) throws -> [UInt8] {
            let output = test.directory.file("\(digest).tsq")
            let made = try runProcess("/usr/bin/openssl", ["ts", "-query", "-digest", String(repeating: "ab", count: digest == "sha1" ? 20 : 16), "-\(digest)", "-out", output])
            #expect(made.status == 0, "\(made.standardError)")
            return try readBytes(output)
        }
        let cases: [(String, [UInt8], TimeStampFailure)] = [
            ("empty", [], .badDataFormat),
            ("garbage", Array("GET / HTTP/1.1\r\n\r\n".utf8), .badDataFormat),
            ("truncated", Array(good.dropLast(5)), .badDataFormat),
            ("trailing bytes", good + [0], .badDataFormat),
            ("over 64 KiB", [UInt8](repeating: 0x30, count: 70_000), .badDataFormat),
            ("SHA-1", try opensslQuery("sha1"), .badAlg),
            ("MD5", try opensslQuery("md5"), .badAlg),
            ("a 31-byte SHA-256 imprint", try TimeStampRequest.create(imprint: Array(imprint.dropLast()), hash: .sha256, nonce: nil, certificateRequested: false), .badDataFormat),
            ("a SHA-512 label on a SHA-256 digest", try TimeStampRequest.create(imprint: imprint, hash: .sha512, nonce: nil, certificateRequested: false), .badDataFormat),
            ("an unaccepted policy", try TimeStampRequest.create(imprint: imprint, hash: .sha256, nonce: nil, certificateRequested: false, policyOID: "1.2.3.4"), .unacceptedPolicy),
            ("a critical extension", try TimeStampRequest.create(imprint: imprint, hash: .sha256, nonce: nil, certificateRequested: false, extensions: [("1.2.3.4.5", true)]), .unacceptedExtension),
        ]
        for (name, request, failure) in cases {
            let (response, outcome) = test.tsa.respond(to: request)
            guard case .rejected(let reported, let text) = outcome else {
                Issue.record("\(name): not rejected")
                continue
            }
            #expect(reported == failure, "\(name): \(reported) \(text)")
            let reply = try TimeStampReply(derEncoded: response)
            #expect(reply.status == 2 && reply.failures == [failure] && reply.statusText == [text] && !reply.isGranted, "\(name)")
            // OpenSSL's own reader agrees.
            let file = test.directory.file("rejected.tsr")
            try Data(response).write(to: URL(fileURLWithPath: file))
            let shown = try runProcess("/usr/bin/openssl", ["ts", "-reply", "-in", file, "-text"])
            #expect(shown.status == 0 && shown.standardOutput.contains("Status: Rejected."), "\(name): \(shown.standardOutput)")
        }
        // A non-critical unknown extension is ignored, an accepted policy is used, and the first
        // granted token still has serial 1: no refusal used one up.
        var settings = test.settings
        settings.otherAcceptedPolicies = ["1.2.3.4"]
        try test.reopen(settings: settings)
        let lenient = try TimeStampRequest.create(imprint: imprint, hash: .sha256, nonce: nil, certificateRequested: false, policyOID: "1.2.3.4", extensions: [("1.2.3.4.5", false)])
        let (response, outcome) = test.tsa.respond(to: lenient)
        let reply = try TimeStampReply(derEncoded: response)
        #expect(reply.policyOID == "1.2.3.4")
        guard case .granted(let serial, _) = outcome else {
            Issue.record("not granted: \(outcome)")
            return
        }
        #expect(serial == 1, "refusals reserve no serial")
    }

    @Test("serials only grow, across restarts too")
    func serialsAcrossRestarts() async throws {
        let test = try await TestTSA()
        defer { test.close() }
        var serials: [UInt64] = []
        for round in 0..<3 {
            for _ in 0..<3 {
                let (_, _, outcome) = try test.stamp([UInt8(round)])
                if case .granted(let serial, _) = outcome { serials.append(serial) }
            }
            try test.reopen()
        }
        #expect(serials.count == 9)
        #expect(zip(serials, serials.dropFirst()).allSatisfy { $0 < $1 }, "\(serials)")
    }

    @Test("the clock: a small step back is absorbed, a large one stops the TSA until resumed, and genTime never goes back across a restart")
    func clockDiscipline() async throws {
        let start: Int64 = 1_795_000_000_000
        let clock = TestClock(start)
        let test = try await TestTSA(clock: clock)
        defer { test.close() }
        func genTime() throws -> Int64? {
            let (reply, _, outcome) = try test.stamp([7])
            guard case .granted(_, let time) = outcome else { return nil }
            #expect(reply.genTime == time)
            return time
        }
        #expect(try genTime() == start)
        clock.set(start + 500)
        #expect(try genTime() == start + 500)
        // 300 ms back, within the 1000 ms tolerance: the last genTime again, not an earlier one.
        clock.set(start + 200)
        #expect(try genTime() == start + 500)
        clock.set(start + 900)
        #expect(try genTime() == start + 900)

        // A restart while the clock is a little behind the last genTime issued: genTime starts at
        // the stored ceiling, never below what may have been issued.
        try test.reopen()
        clock.set(start + 400)
        let afterRestart = try #require(try genTime())
        #expect(afterRestart >= start + 900)

        // Five seconds back: timeNotAvailable, and it stays so after a restart even when the
        // clock looks right again, until an operator resumes.
        clock.set(start - 5_000)
        let (_, _, refused) = try test.stamp([8])
        guard case .rejected(.timeNotAvailable, _) = refused else {
            Issue.record("not refused: \(refused)")
            return
        }
        #expect(test.tsa.isHalted)
        clock.set(start + 10_000)
        #expect(try genTime() == nil)
        try test.reopen()
        #expect(try genTime() == nil)
        // Resuming with a clock below the ceiling is refused; with the clock right it works.
        let reason = try test.withStoppedAppliance { database in
            #expect(throws: TSAError.self) { _ = try TimeStampAuthority.resume(database: database, clock: { start - 5_000 }) }
            return try TimeStampAuthority.resume(database: database, clock: { start + 10_000 })
        }
        #expect(reason?.contains("tolerance 1000 ms") == true)
        #expect(try genTime() == start + 10_000)
    }
}
