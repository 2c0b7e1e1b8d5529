import Appliance
import Delivery
import DeliveryTransport
import Foundation
import Logging
import Notary
import Records

/// `notarium-bench delivery-crash-writer DIR PORT NOTICES SERVICES`: for the kill -9 test of the
/// outbox (Tests/DeliveryTests). Opens (or creates) the appliance in DIR, serves services
/// CRASH-0 … CRASH-(SERVICES-1) by e-mail through the relay on 127.0.0.1:PORT with the notice
/// files in NOTICES (each once: a service already open is left as it is), then works the outbox
/// until every notice is done or failed, and exits 0. Retries wait 200 ms, not 30 s, so that a
/// restarted writer resends what a killed one left `sending` without the test waiting.
func deliveryCrashWriter(path: String, port: Int, notices: String, services: Int) async throws -> Never {
    var logger = Logger(label: "delivery-crash-writer")
    logger.logLevel = .error
    let configuration = try await ApplianceConfiguration.load(flags: [.data: path, .ledgerOrigin: "crash.example/delivery"], environment: [:])
    let data = try DataDirectory.openOrInitialize(at: path, sealKeyFile: configuration.sealKeyFile, logger: logger)
    let (ledger, _) = try data.openLedger(configuration: configuration, withSigner: false, logger: logger)
    let authority = try await data.openCA(configuration: configuration, ledger: ledger, create: true, logger: logger)
    _ = try await data.openTSA(configuration: configuration, authority: authority, create: true, logger: logger)
    let notary = try Notary(ledger: ledger, database: data.database)
    let email = EmailSettings(
        relay: SMTPRelay(host: "127.0.0.1", port: port, security: .none, heloName: "notarium.test", timeoutSeconds: 10),
        from: .init("notices@notarium.test", name: "Notices"), envelopeSender: "bounces@notarium.test", messageIDDomain: "notarium.test")
    let delivery = try Delivery(notary: notary, database: data.database, templates: try NoticeTemplates(directory: notices), email: email, logger: logger,
                                firstRetryMilliseconds: 200)
    let rules = ServiceRules(
        timeZone: "UTC", calendar: .init(id: "crash", version: "1", weekend: [6, 7], holidays: []), confirmedChannels: [],
        readReportPresumesService: false, acceptanceWindowDays: 7, registrationWindowDays: nil, registrationChannels: [])
    for n in 0..<services {
        do {
            _ = try await delivery.serve(
                serviceID: "CRASH-\(n)", caseID: "CRASH", parts: [ServicePart(name: "notice", document: DocumentDescription(describing: Array("notice \(n)".utf8), mediaType: "text/plain"))],
                recipients: [.init(channel: .email, address: "party\(n)@example.test")], rules: rules,
                plan: DeliveryPlan(languages: ["en"], channels: [.email], institution: "Crash Test", link: "https://notarium.test/portal/l/\(n)"))
            print("served CRASH-\(n)")
            fflush(nil)
        } catch {
            // A service an earlier writer opened is left as it is. (A `catch … where` on the
            // typed error crashes Swift 6.3.1's SILGen here.)
            guard (error as DeliveryError).notary?.code == .conflict else { throw error }
        }
    }
    while true {
        let items = try (0..<services).flatMap { n in try delivery.items(service: "CRASH-\(n)") }
        if items.count == services && items.allSatisfy({ $0.state == .done || $0.state == .failed }) { break }
        await delivery.runDue()
        try await Task.sleep(for: .milliseconds(20))
    }
    print("all done")
    fflush(nil)
    ledger.close()
    data.close()
    exit(0)
}
