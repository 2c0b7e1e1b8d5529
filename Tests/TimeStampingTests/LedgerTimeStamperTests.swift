import CanonicalJSON
import Foundation
import Ledger
import Logging
import NotariumTestKit
import OpenSSLKit
import Testing
import TimeStamping

@Suite("Ledger time-stamps: a token per checkpoint and per evidence, service and award entry")
struct LedgerTimeStamperTests {
    static let types: [EntryType] = [.evidence, .certificateIssued, .service, .award, .keyCertified]

    /// Appends `count` entries cycling through `types`; returns their seqs.
    static func append(_ count: Int, to ledger: Ledger, from start: Int = 0) async throws -> [UInt64] {
        var seqs: [UInt64] = []
        for index in start..<(start + count) {
            let receipt = try await ledger.append(type: types[index % types.count], body: .object(["case": .string("TS-\(index)")]))
            seqs.append(receipt.seq)
        }
        return seqs
    }

    /// Checks that every entry from `seqs` has a token over its leaf hash exactly when its type
    /// has its own, each verifying against the test root; returns the tokens' serials.
    static func checkEntryTokens(_ test: TestTSA, _ seqs: [UInt64]) throws -> [UInt64] {
        var serials: [UInt64] = []
        for seq in seqs {
            let entry = try test.ledger.entry(seq)
            let token = try test.ledger.timestampToken(for: .entry(seq))
            guard entry.type.hasOwnTimestamp else {
                #expect(token == nil, "entry \(seq) (\(entry.type)) has a token it should not have")
                continue
            }
            let stored = try #require(token, "entry \(seq) (\(entry.type)) has no token")
            let reply = try TimeStampReply(derEncoded: stored)
            #expect(reply.hash == .sha256 && reply.imprint == entry.leafHash)
            try reply.verify(imprint: entry.leafHash, trusted: [test.tsa.chain[2]], untrusted: [test.tsa.chain[1]])
            serials.append(reply.serial.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
        return serials
    }

    @Test("the thread stamps the entries that need a token and every checkpoint; openssl ts -verify agrees; the audit passes")
    func stampsEntriesAndCheckpoints() async throws {
        let test = try await TestTSA()
        defer { test.close() }
        // The test clock stands still; set it after the TSA certificate's notBefore, since a
        // token verifies at its genTime.
        test.clock.set(LedgerTime.nowMilliseconds() + 1000)
        let before = test.ledger.size
        let stamper = try LedgerTimeStamper(ledger: test.ledger, authority: test.tsa, logger: Logger(label: "test"))
        stamper.start()
        let seqs = try await Self.append(40, to: test.ledger)
        let (checkpoint, _) = try test.ledger.cutCheckpoint(signer: test.signer)
        stamper.wake()
        #expect(stamper.drain(until: Date(timeIntervalSinceNow: 60)))
        stamper.stop()
        #expect(stamper.backlog == 0)
        #expect(try test.ledger.timestampedThrough() == test.ledger.size)

        let serials = try Self.checkEntryTokens(test, Array(0..<before) + seqs)
        #expect(serials.count == 24, "40 entries cycling 5 types, 3 of them stamped")
        #expect(Set(serials).count == serials.count)

        // The checkpoint's token is over its signed-note body; OpenSSL checks it from the text.
        let stored = try #require(try test.ledger.timestampToken(for: .checkpoint(checkpoint.size)))
        try test.writeTrustFiles()
        try Data(Array(checkpoint.body.text.utf8)).write(to: URL(fileURLWithPath: test.directory.file("body.txt")))
        try Data(stored).write(to: URL(fileURLWithPath: test.directory.file("checkpoint.tst")))
        let openssl = try runProcess("/usr/bin/openssl", [
            "ts", "-verify", "-token_in", "-in", test.directory.file("checkpoint.tst"), "-data", test.directory.file("body.txt"),
            "-CAfile", test.directory.file("root.pem"), "-untrusted", test.directory.file("chain.pem"),
        ])
        #expect(openssl.status == 0 && openssl.standardOutput.contains("Verification: OK"), "\(openssl.standardOutput) \(openssl.standardError)")
        // One entry's token too, as the reply HTTP serves (wrapped in a granted TimeStampResp).
        let evidence = try #require(seqs.first { try test.ledger.entry($0).type == .evidence })
        let reply = try TimeStampSigner.grantedResponse(wrapping: try #require(try test.ledger.timestampToken(for: .entry(evidence))))
        try Data(reply).write(to: URL(fileURLWithPath: test.directory.file("entry.tsr")))
        let entryCheck = try runProcess("/usr/bin/openssl", [
            "ts", "-verify", "-in", test.directory.file("entry.tsr"), "-digest", hex(try test.ledger.entry(evidence).leafHash),
            "-CAfile", test.directory.file("root.pem"), "-untrusted", test.directory.file("chain.pem"),
        ])
        #expect(entryCheck.status == 0 && entryCheck.standardOutput.contains("Verification: OK"), "\(entryCheck.standardOutput) \(entryCheck.standardError)")
        // A token over another entry's leaf hash does not verify for this one.
        let wrong = try runProcess("/usr/bin/openssl", [
            "ts", "-verify", "-in", test.directory.file("entry.tsr"), "-digest", hex(try test.ledger.entry(evidence + 2).leafHash),
            "-CAfile", test.directory.file("root.pem"), "-untrusted", test.directory.file("chain.pem"),
        ])
        #expect(wrong.status != 0)

        let report = LedgerAudit.run(database: test.database)
        #expect(report.passed, "\(report)")
    }

    @Test("a halted TSA holds tokens back but not appends; the backlog shows it; after resume and a restart every entry gets its one token")
    func haltAndResume() async throws {
        let clock = TestClock()
        let test = try await TestTSA(clock: clock)
        defer { test.close() }
        // After the TSA certificate's notBefore: a token verifies at its genTime.
        let start = LedgerTime.nowMilliseconds() + 1000
        clock.set(start)
        var stamper = try LedgerTimeStamper(ledger: test.ledger, authority: test.tsa, logger: Logger(label: "test"))
        stamper.start()
        let first = try await Self.append(10, to: test.ledger)
        #expect(stamper.drain(until: Date(timeIntervalSinceNow: 60)))

        // The clock steps back ten seconds: the next token halts the TSA.
        clock.set(start - 10_000)
        let held = try await Self.append(15, to: test.ledger, from: 10)
        #expect(test.ledger.size == first.count + held.count + Int(first[0]))
        #expect(!stamper.drain(until: Date(timeIntervalSinceNow: 1)))
        #expect(test.tsa.isHalted)
        #expect(stamper.backlog > 0)
        let evidence = try #require(held.first { try test.ledger.entry($0).type == .evidence })
        let refused = caught(TSAError.self) { _ = try stamper.entryToken(evidence) }
        #expect(refused?.code == .refused)
        stamper.stop()
        // Two checkpoints are cut during the halt; neither can be stamped yet.
        let (during, _) = try test.ledger.cutCheckpoint(signer: test.signer)
        let extra = try await Self.append(5, to: test.ledger, from: 25)
        let (later, _) = try test.ledger.cutCheckpoint(signer: test.signer)
        #expect(try test.ledger.timestampToken(for: .checkpoint(during.size)) == nil)

        // The operator sets the clock right and resumes on the stopped appliance; the restarted
        // stamper goes on from the stored mark.
        clock.set(start + 60_000)
        _ = try test.withStoppedAppliance { database in try TimeStampAuthority.resume(database: database, clock: { start + 60_000 }) }
        stamper = try LedgerTimeStamper(ledger: test.ledger, authority: test.tsa, logger: Logger(label: "test"))
        #expect(stamper.backlog > 0)
        // A bundle asks for the later checkpoint's token before the thread runs: the thread
        // still stamps the earlier one (the stored mark, not the first token found, says where
        // it got to).
        let asked = try #require(try stamper.checkpointToken(size: later.size))
        stamper.start()
        #expect(stamper.drain(until: Date(timeIntervalSinceNow: 60)))
        stamper.stop()
        #expect(try test.ledger.timestampToken(for: .checkpoint(later.size)) == asked)
        let earlier = try #require(try test.ledger.timestampToken(for: .checkpoint(during.size)))
        #expect(try TimeStampReply(derEncoded: earlier).imprint == LedgerTimeStamper.checkpointImprint(during))
        #expect(try test.ledger.timestampedCheckpointsThrough() == later.size)
        let serials = try Self.checkEntryTokens(test, first + held + extra)
        #expect(serials.count == 18)
        #expect(Set(serials).count == serials.count)
        #expect(LedgerAudit.run(database: test.database).passed)
    }

    @Test("on demand: a token the thread has not reached is stamped at once, once; entries without their own token and unknown ones say so")
    func onDemand() async throws {
        let test = try await TestTSA()
        defer { test.close() }
        // The test clock stands still; set it after the TSA certificate's notBefore, since a
        // token verifies at its genTime.
        test.clock.set(LedgerTime.nowMilliseconds() + 1000)
        let seqs = try await Self.append(5, to: test.ledger)
        let stamper = try LedgerTimeStamper(ledger: test.ledger, authority: test.tsa, logger: Logger(label: "test"))
        let evidence = seqs[0]
        let token = try #require(try stamper.entryToken(evidence))
        #expect(try stamper.entryToken(evidence) == token)
        #expect(try stamper.entryToken(seqs[1]) == nil, "a certificate-issued entry has no token of its own")
        #expect(caught(TSAError.self) { _ = try stamper.entryToken(10_000) }?.code == .ledger)
        #expect(try stamper.checkpointToken(size: 3) == nil, "no checkpoint at size 3")
        let (checkpoint, _) = try test.ledger.cutCheckpoint(signer: test.signer)
        let checkpointToken = try #require(try stamper.checkpointToken(size: checkpoint.size))
        let reply = try TimeStampReply(derEncoded: checkpointToken)
        #expect(reply.imprint == LedgerTimeStamper.checkpointImprint(checkpoint))

        // The thread, started later, keeps the token already there.
        stamper.start()
        #expect(stamper.drain(until: Date(timeIntervalSinceNow: 60)))
        stamper.stop()
        #expect(try test.ledger.timestampToken(for: .entry(evidence)) == token)
        #expect(try test.ledger.timestampToken(for: .checkpoint(checkpoint.size)) == checkpointToken)
        _ = try Self.checkEntryTokens(test, seqs)

        // The ledger refuses tokens for what does not exist, and empty ones; nothing is written.
        #expect(caught(LedgerError.self) { try test.ledger.storeTimestampTokens([(.entry(10_000), [1])]) }?.code == .notFound)
        #expect(caught(LedgerError.self) { try test.ledger.storeTimestampTokens([(.checkpoint(2), [1])]) }?.code == .notFound)
        #expect(caught(LedgerError.self) { try test.ledger.storeTimestampTokens([(.entry(seqs[2]), [])]) }?.code == .invalidEntry)
        #expect(caught(LedgerError.self) { try test.ledger.storeTimestampTokens([], through: 10_000) }?.code == .invalidRange)
        #expect(try test.ledger.timestampToken(for: .entry(seqs[2])) != nil)
        #expect(LedgerAudit.run(database: test.database).passed)
    }
}
