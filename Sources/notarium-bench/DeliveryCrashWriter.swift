import Appliance
import Delivery
import DeliveryTransport
import Foundation
import Ledger
import Logging
import Notary
import Records
import Sodium

/// `notarium-bench delivery-crash-writer DIR PORT NOTICES SERVICES [UNTIL [OFFSET-MS]]`: for the
/// kill -9 tests of the outbox and the deadlines (Tests/DeliveryTests). Opens (or creates) the
/// appliance in DIR on a clock OFFSET-MS ahead of the real one, serves services CRASH-0 …
/// CRASH-(SERVICES-1) by e-mail through the relay on 127.0.0.1:PORT with the notice files in
/// NOTICES (each once: a service already open is left as it is), then works the outbox and the
/// deadlines until UNTIL holds, and exits 0: `sent` (default), every notice done or failed;
/// `deemed`, every service recorded as effective; `sms`, the same services served by SMS through
/// the gateway on 127.0.0.1:PORT instead, until the gateway has taken every notice. Retries wait 200 ms, not 30 s, so that a
/// restarted writer resends what a killed one left `sending` without the test waiting.
func deliveryCrashWriter(path: String, port: Int, notices: String, services: Int, until: String, offset: Int64) async throws -> Never {
    let clock: @Sendable () -> Int64 = { LedgerTime.nowMilliseconds() + offset }
    var logger = Logger(label: "delivery-crash-writer")
    logger.logLevel = .error
    let configuration = try await ApplianceConfiguration.load(flags: [.data: path, .ledgerOrigin: "crash.example/delivery"], environment: [:])
    let data = try DataDirectory.openOrInitialize(at: path, sealKeyFile: configuration.sealKeyFile, logger: logger)
    let (ledger, _) = try data.openLedger(configuration: configuration, withSigner: false, logger: logger, clock: clock)
    let authority = try await data.openCA(configuration: configuration, ledger: ledger, create: true, logger: logger)
    _ = try await data.openTSA(configuration: configuration, authority: authority, create: true, logger: logger)
    let notary = try Notary(ledger: ledger, database: data.database, clock: clock)
    let email = try EmailSettings(
        relay: SMTPRelay(host: "127.0.0.1", port: port, security: .none, heloName: "notarium.test", timeoutSeconds: 60),
        from: .init("notices@notarium.test", name: "Notices"), envelopeSender: "bounces@notarium.test", messageIDDomain: "notarium.test")
    let bySMS = until == "sms"
    let sms = try SMSSettings(gateway: SMSGateway(url: "http://127.0.0.1:\(port)/messages", token: "t0ken", sender: "Crash"),
                          reportSecret: SecureBytes(copying: Array("crash-secret".utf8)), callbackURL: "https://notarium.test/delivery/sms/reports")
    let delivery = try Delivery(notary: notary, database: data.database, templates: try NoticeTemplates(directory: notices), email: bySMS ? nil : email,
                                sms: bySMS ? sms : nil, logger: logger, firstRetryMilliseconds: 200, clock: clock)
    let rules = ServiceRules(
        timeZone: "UTC", calendar: .init(id: "crash", version: "1", weekend: [6, 7], holidays: []), confirmedChannels: [],
        readReportPresumesService: false, acceptanceWindowDays: 7, registrationWindowDays: nil, registrationChannels: [])
    for n in 0..<services {
        do {
            _ = try await delivery.serve(
                serviceID: "CRASH-\(n)", caseID: "CRASH", parts: [ServicePart(name: "notice", document: DocumentDescription(describing: Array("notice \(n)".utf8), mediaType: "text/plain"))],
                recipients: bySMS ? [.init(channel: .sms, address: "+8613800138\(101 + n % 7)")] : [.init(channel: .email, address: "party\(n)@example.test")], rules: rules,
                plan: DeliveryPlan(languages: ["en"], channels: [bySMS ? .sms : .email], institution: "Crash Test", link: "https://notarium.test/portal/l/\(n)"))
            print("served CRASH-\(n)")
            fflush(nil)
        } catch {
            // A service an earlier writer opened is left as it is. (A `catch … where` on the
            // typed error crashes Swift 6.3.1's SILGen here.)
            guard (error as DeliveryError).notary?.code == .conflict else { throw error }
        }
    }
    print("working")
    fflush(nil)
    while true {
        let items = try (0..<services).flatMap { n in try delivery.items(service: "CRASH-\(n)") }
        let sent = items.count == services && items.allSatisfy({ $0.state == .done || $0.state == .failed })
        if until == "sent" && sent { break }
        if bySMS && items.count == services && items.allSatisfy({ $0.state == .sent }) { break }
        if until == "deemed" {
            let deemed = try (0..<services).allSatisfy { n in try notary.serviceHistory("CRASH-\(n)").contains { $0.record.event == .serviceDeemedEffective } }
            if deemed { break }
        }
        await delivery.runDue()
        await delivery.runDeadlines()
        try await Task.sleep(for: .milliseconds(20))
    }
    print("all done")
    fflush(nil)
    ledger.close()
    data.close()
    exit(0)
}
