import Appliance
import CanonicalJSON
import Delivery
import Foundation
import Ledger
import Logging
import Notary
import NotariumTestKit
import Records
import Sodium
import DeliveryTransport
import Testing

@Suite("Delivery: kill -9 during dispatch", .serialized)
struct DeliveryCrashTests {
    /// `notarium-bench delivery-crash-writer` serves services by e-mail through a relay that
    /// delivers each message and then waits before its 250: the writer is killed in that
    /// window, after the message is in the mailbox and before the writer could record it. The
    /// next writer sends it again (the same Message-ID) and records it. At the end every
    /// service has exactly one ConsignmentNotification: none lost, none doubled.
    @Test("kill -9 between the wire and the ledger, three times: every notice recorded exactly once, resent with the same Message-ID")
    func killDuringDispatch() async throws {
        let services = 6
        let directory = TemporaryDirectory()
        let path = directory.file("data")
        let relay = try MailRelay(directory, slow: 0.6)
        try Self.killThreeTimes(["delivery-crash-writer", path, String(relay.port), DeliveryTests.notices, String(services)], peer: relay.process, marker: "accepted ")

        // What the ledger says, read back in process.
        let opened = try await Opened(path: path)
        let (notary, delivery, data) = (opened.notary, opened.delivery, opened.data)
        var copiesInAll = 0
        for n in 0..<services {
            let service = "CRASH-\(n)"
            let events = try notary.serviceHistory(service).map(\.record.event)
            #expect(events == [.submissionAcceptance, .consignmentNotification], "\(service): \(events)")
            #expect(try delivery.items(service: service).map(\.state) == [.done], "\(service)")
            let copies = try relay.messages(for: "party\(n)@example.test")
            #expect(!copies.isEmpty, "\(service) never reached the mailbox")
            #expect(Set(copies.compactMap { $0["messageID"] as? String }).count == 1, "\(service): every copy is one message")
            copiesInAll += copies.count
        }
        #expect(copiesInAll == services + 3, "each of the three kills fell between a delivery and its record, so that message went out once more: \(copiesInAll) copies")
        let report = LedgerAudit.run(database: data.database)
        #expect(report.passed, "\(report.finding.map { "\($0)" } ?? "")")
    }

    /// The same for SMS: the gateway takes each message and waits before answering, and the
    /// writer is killed in that wait, after the message was taken and before the writer learnt
    /// its id. The next writer sends it again with the same reference; the gateway counts the
    /// attempt and answers the same id, sending nothing new. Each service's delivery report is
    /// then recorded once.
    @Test("kill -9 between the gateway and the outbox, three times: every SMS taken once (resent with the same reference), its report recorded exactly once")
    func killDuringSMSDispatch() async throws {
        let services = 6
        let directory = TemporaryDirectory()
        let path = directory.file("data")
        let gateway = try SMSGatewayProcess(token: "t0ken", slow: 0.6)
        try Self.killThreeTimes(["delivery-crash-writer", path, String(gateway.port), DeliveryTests.notices, String(services), "sms"], peer: gateway.process, marker: "taken ")

        let messages = try gateway.messages()
        #expect(messages.count == services, "one message per service: \(messages.count)")
        #expect(messages.compactMap { $0["attempts"] as? Int }.reduce(0, +) == services + 3, "each kill fell between the gateway taking a message and its answer: \(messages)")
        let opened = try await Opened(path: path, sms: try SMSSettings(
            gateway: SMSGateway(url: gateway.url, token: "t0ken", sender: "Crash"), reportSecret: SecureBytes(copying: Array("crash-secret".utf8)), callbackURL: nil))
        for n in 0..<services {
            let service = "CRASH-\(n)"
            let item = try #require(try opened.delivery.items(service: service).first)
            let message = try #require(messages.first { $0["reference"] as? String == item.id })
            #expect(item.state == .sent && item.evidenceID == message["id"] as? String, "\(service): the outbox knows the gateway's one id")
            for _ in 0..<2 {
                let body = JSONValue.object(["id": .string(item.evidenceID ?? ""), "status": .string("delivered"), "at": .string(LedgerTime.format(milliseconds: LedgerTime.nowMilliseconds()))]).canonicalBytes
                let mac = HMACSHA256.authenticate(body, key: SecureBytes(copying: Array("crash-secret".utf8)))
                _ = try await opened.delivery.smsReport(body: body, signature: "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
            }
            #expect(try opened.notary.serviceHistory(service).map(\.record.event) == [.submissionAcceptance, .consignmentNotification], "\(service)")
        }
        let report = LedgerAudit.run(database: opened.data.database)
        #expect(report.passed, "\(report.finding.map { "\($0)" } ?? "")")
    }

    /// The same writer, its notices sent, on a clock ten days ahead: every acceptance window
    /// has ended, and it records each service's AcceptanceRejectionExpiry and then its
    /// ServiceDeemedEffective. Killed at random moments three times, then let finish: every
    /// service has each exactly once, and no deadline is left.
    @Test("kill -9 while deadlines pass, three times: each expiry and each deemed service recorded exactly once")
    func killWhileDeadlinesPass() async throws {
        let services = 8
        let directory = TemporaryDirectory()
        let path = directory.file("data")
        let relay = try MailRelay(directory)
        let arguments = ["delivery-crash-writer", path, String(relay.port), DeliveryTests.notices, String(services)]
        let sending = try BackgroundProcess(builtProduct("notarium-bench"), arguments + ["sent"])
        #expect(sending.waitForOutputLine(containing: "all done", timeout: 120) != nil, "\(sending.standardError)")
        #expect(sending.waitForExit() == 0)
        let tenDays = String(10 * 86_400_000)
        var partial = 0
        for round in 0..<3 {
            let writer = try BackgroundProcess(builtProduct("notarium-bench"), arguments + ["deemed", tenDays])
            #expect(writer.waitForOutputLine(containing: "working", timeout: 60) != nil, "\(writer.standardError)")
            usleep(UInt32.random(in: 0...(15_000 + 15_000 * UInt32(round))))
            writer.signal(SIGKILL)
            writer.waitForExit()
            // What the kill left: some services closed, some not, is a kill in the middle.
            let recorded = try await Self.eventCounts(path: path, services: services)
            if recorded.contains(where: { $0 > 2 }) && recorded.contains(where: { $0 < 4 }) { partial += 1 }
        }
        #expect(partial >= 1, "no kill fell in the middle of the work; the test proved nothing")
        let last = try BackgroundProcess(builtProduct("notarium-bench"), arguments + ["deemed", tenDays])
        #expect(last.waitForOutputLine(containing: "all done", timeout: 120) != nil, "the last writer did not finish: \(last.standardError)")
        #expect(last.waitForExit() == 0)

        let opened = try await Opened(path: path)
        let (notary, delivery, data) = (opened.notary, opened.delivery, opened.data)
        for n in 0..<services {
            let service = "CRASH-\(n)"
            let events = try notary.serviceHistory(service).map(\.record.event)
            #expect(events == [.submissionAcceptance, .consignmentNotification, .acceptanceRejectionExpiry, .serviceDeemedEffective], "\(service): \(events)")
            #expect(try delivery.deadlines(service: service).isEmpty, "\(service)")
        }
        #expect(relay.delivered() == services)
        let report = LedgerAudit.run(database: data.database)
        #expect(report.passed, "\(report.finding.map { "\($0)" } ?? "")")
    }

    /// How many events each service has, read with the data directory closed again after.
    static func eventCounts(path: String, services: Int) async throws -> [Int] {
        let opened = try await Opened(path: path)
        return try (0..<services).map { try opened.notary.serviceHistory("CRASH-\($0)").count }
    }

    /// The writer's data directory opened in this process (while no writer runs), closed when
    /// the object goes.
    /// Runs the writer `arguments` three times, each killed with SIGKILL once `peer` (the
    /// relay or gateway, which pauses before answering) has printed one more line starting with
    /// `marker`: so each kill falls after the peer took a message and before the writer heard
    /// back. Then runs it to the end.
    static func killThreeTimes(_ arguments: [String], peer: BackgroundProcess, marker: String) throws {
        for round in 1...3 {
            let writer = try BackgroundProcess(builtProduct("notarium-bench"), arguments)
            let deadline = Date().addingTimeInterval(60)
            while peer.standardOutput.split(separator: "\n").filter({ $0.hasPrefix(marker) }).count < round && Date() < deadline && writer.process.isRunning {
                usleep(5_000)
            }
            #expect(writer.process.isRunning, "round \(round): the writer ended early: \(writer.standardError)")
            writer.signal(SIGKILL)
            writer.waitForExit()
        }
        let last = try BackgroundProcess(builtProduct("notarium-bench"), arguments)
        #expect(last.waitForOutputLine(containing: "all done", timeout: 120) != nil, "the last writer did not finish: \(last.standardError)")
        #expect(last.waitForExit() == 0)
    }

    final class Opened {
        let data: DataDirectory
        let ledger: Ledger
        let notary: Notary
        let delivery: Delivery

        init(path: String, sms: SMSSettings? = nil) async throws {
            var logger = Logger(label: "test")
            logger.logLevel = .error
            let configuration = try await ApplianceConfiguration.load(flags: [.data: path], environment: [:])
            data = try DataDirectory.openOrInitialize(at: path, sealKeyFile: configuration.sealKeyFile, logger: logger)
            ledger = try data.openLedger(configuration: configuration, withSigner: false, logger: logger).ledger
            notary = try Notary(ledger: ledger, database: data.database)
            delivery = try Delivery(notary: notary, database: data.database, templates: try NoticeTemplates(directory: DeliveryTests.notices), email: nil, sms: sms, logger: logger)
        }

        deinit {
            ledger.close()
            data.close()
        }
    }
}
