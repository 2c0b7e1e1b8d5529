import Appliance
import Delivery
import DeliveryTransport
import Foundation
import Logging
import Notary
import Records

/// The delivery benchmark (`--only delivery`): notices dispatched per second to a local mail
/// server (a private Debian postfix instance, Tests/DeliveryTransportTests/postfix.sh, run from
/// the repository root), each with its outbox step synced before the wire and its
/// ConsignmentNotification appended durably after the relay's 250. Beside it in the same run: the
/// ledger's own durable append rate with one appender (the outbox works one notice at a time)
/// and with 64, and postfix's own acceptance rate from its load generator `smtp-source`
/// (20 connections, one message each, no ledger), which is what the mail server can take.
func benchDelivery(directory: String, seconds: Double) async throws {
    let script = FileManager.default.currentDirectoryPath + "/Tests/DeliveryTransportTests/postfix.sh"
    guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/postfix"), FileManager.default.fileExists(atPath: script),
          FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtp-source") else {
        emit(["bench": "delivery", "skipped": "needs postfix and smtp-source (appliance/install-deps.sh --bench) and the repository root as the current directory"])
        return
    }
    let work = directory + "/delivery"
    try? FileManager.default.removeItem(atPath: work)
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }

    // Baselines: the raw ledger, 1 and 64 appenders.
    for appenders in [1, 64] {
        let raw = try BenchLedger(path: work + "/raw-\(appenders)")
        _ = try await appendUntil(raw.ledger, appenders: appenders, seconds: 0.5)
        let (count, latencies) = try await appendUntil(raw.ledger, appenders: appenders, seconds: seconds)
        raw.close()
        emit(["bench": "delivery.baseline.ledger-append", "appenders": appenders, "appendsPerSecond": Int(Double(count) / seconds),
              "p50Milliseconds": percentile(latencies, 0.5) * 1000, "p99Milliseconds": percentile(latencies, 0.99) * 1000])
    }

    let port = Int.random(in: 20_000..<60_000)
    let instance = work + "/postfix"
    let started = Process()
    started.executableURL = URL(fileURLWithPath: "/bin/bash")
    started.arguments = [script, "start", instance, String(port)]
    try started.run()
    started.waitUntilExit()
    guard started.terminationStatus == 0 else { fail("postfix did not start (\(script))") }
    defer {
        let stop = Process()
        stop.executableURL = URL(fileURLWithPath: "/bin/bash")
        stop.arguments = [script, "stop", instance]
        try? stop.run()
        stop.waitUntilExit()
    }

    // postfix's own rate: smtp-source, 20 sessions in parallel, 2,000 messages.
    let messages = 2000
    let source = Process()
    source.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-source")
    source.arguments = ["-c", "-s", "20", "-m", String(messages), "-l", "1024", "-f", "bench@example.test", "-t", "ann@example.test", "127.0.0.1:\(port)"]
    source.standardOutput = FileHandle.nullDevice
    let sourceStart = now()
    try source.run()
    source.waitUntilExit()
    let sourceSeconds = now() - sourceStart
    emit(["bench": "delivery.baseline.smtp-source", "sessions": 20, "messages": messages, "messagesPerSecond": Int(Double(messages) / sourceSeconds),
          "exit": Int(source.terminationStatus)])

    // The appliance: services opened (not timed), then the outbox worked until every notice is done.
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let path = work + "/data"
    let configuration = try await ApplianceConfiguration.load(flags: [.data: path, .ledgerOrigin: "bench.example/delivery"], environment: [:])
    let data = try DataDirectory.openOrInitialize(at: path, sealKeyFile: configuration.sealKeyFile, logger: logger)
    defer { data.close() }
    let (ledger, _) = try data.openLedger(configuration: configuration, withSigner: false, logger: logger)
    defer { ledger.close() }
    let authority = try await data.openCA(configuration: configuration, ledger: ledger, create: true, logger: logger)
    _ = try await data.openTSA(configuration: configuration, authority: authority, create: true, logger: logger)
    let notary = try Notary(ledger: ledger, database: data.database)
    let delivery = try Delivery(
        notary: notary, database: data.database, templates: try NoticeTemplates.embedded(),
        email: try EmailSettings(relay: SMTPRelay(host: "127.0.0.1", port: port, security: .none, heloName: "notarium.test", timeoutSeconds: 30),
                             from: .init("notices@notarium.test", name: "Bench Notices"), envelopeSender: "bounces@example.test", messageIDDomain: "notarium.test"),
        logger: logger)
    let rules = ServiceRules(
        timeZone: "Asia/Shanghai", calendar: .init(id: "bench", version: "1", weekend: [6, 7], holidays: []), confirmedChannels: [],
        readReportPresumesService: false, acceptanceWindowDays: 7, registrationWindowDays: nil, registrationChannels: [])
    let services = max(200, Int(seconds * 150))
    for n in 0..<services {
        _ = try await delivery.serve(
            serviceID: "BENCH-\(n)", caseID: "ODR-BENCH", parts: [ServicePart(name: "award", document: DocumentDescription(describing: Array("award \(n)".utf8), mediaType: "application/pdf"))],
            recipients: [.init(channel: .email, address: "ann@example.test")], rules: rules,
            plan: DeliveryPlan(languages: ["zh-Hans"], channels: [.email], institution: "Bench Arbitration", link: "https://odr.example.org/n/\(n)"))
    }
    let cpuBefore = processCPUSeconds(getpid())
    let start = now()
    var passes = 0
    while true {
        let worked = await delivery.runDue()
        passes += 1
        if worked == 0 { break }
    }
    let elapsed = now() - start
    let cpu = processCPUSeconds(getpid()) - cpuBefore
    let done = try (0..<services).filter { try delivery.items(service: "BENCH-\($0)").first?.state == .done }.count
    emit(["bench": "delivery.email-notices", "services": services, "done": done, "noticesPerSecond": Int(Double(done) / elapsed),
          "millisecondsPerNotice": elapsed / Double(max(done, 1)) * 1000, "notariumCpuMicrosecondsPerNotice": Int(cpu / Double(max(done, 1)) * 1e6),
          "eventsPerNotice": 1, "syncedWritesPerNotice": 2])
}
