import Appliance
import CanonicalJSON
import Delivery
import DeliveryTransport
import Foundation
import Ledger
import Logging
import Notary
import NotariumTestKit
import Records
import Testing
import TimeStamping
import Verification

/// Serving by e-mail end to end in process: a real appliance data directory (ledger, CA, TSA,
/// notary), the notice through aiosmtpd on loopback and read back from the Maildir by Python's
/// `email`, each outcome a ledger event, and the service bundle verified offline.
@Suite("Delivery: serving by e-mail through the outbox", .serialized)
struct DeliveryTests {
    static let notices = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../appliance/notices").standardized.path
    static let vector = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Vectors/delivery/postfix-dsn-5.1.1.eml").standardized.path

    /// An appliance's parts on a fresh data directory, with a clock the test moves.
    final class Fixture {
        let directory = TemporaryDirectory()
        let clock = TestClock(LedgerTime.nowMilliseconds())
        let data: DataDirectory
        let ledger: Ledger
        let signer: NoteSigner?
        let stamper: LedgerTimeStamper
        let notary: Notary

        init() async throws {
            var logger = Logger(label: "test")
            logger.logLevel = .error
            let path = directory.file("data")
            let configuration = try await ApplianceConfiguration.load(flags: [.data: path, .ledgerOrigin: "test.example/delivery"], environment: [:])
            data = try DataDirectory.openOrInitialize(at: path, sealKeyFile: configuration.sealKeyFile, logger: logger)
            let clock = self.clock
            let opened = try data.openLedger(configuration: configuration, withSigner: true, logger: logger, clock: { clock.read() })
            ledger = opened.ledger
            signer = opened.signer
            let authority = try await data.createCA(configuration: configuration, ledger: ledger, logger: logger)
            let tsa = try await data.openTSA(configuration: configuration, authority: authority, create: true, logger: logger)
            stamper = try LedgerTimeStamper(ledger: ledger, authority: tsa, logger: logger)
            notary = try Notary(ledger: ledger, database: data.database, clock: { clock.read() })
        }

        deinit {
            ledger.close()
            data.close()
        }

        func delivery(relayPort: Int?, envelopeSender: String = "bounces@notarium.test", relay custom: SMTPRelay? = nil,
                      sms: SMSSettings? = nil, vault: DocumentVault? = nil, portal: PortalSettings? = nil) throws -> Delivery {
            var logger = Logger(label: "delivery")
            logger.logLevel = .error
            let email = try relayPort.map { port throws(SMTPError) in
                try EmailSettings(relay: custom ?? SMTPRelay(host: "127.0.0.1", port: port, security: .none, heloName: "notarium.test", timeoutSeconds: 60),
                              from: .init("notices@notarium.test", name: "CIETAC Notices"), envelopeSender: envelopeSender, messageIDDomain: "notarium.test")
            }
            let clock = self.clock
            return try Delivery(notary: notary, database: data.database, templates: try NoticeTemplates(directory: DeliveryTests.notices), email: email,
                                sms: sms, portal: portal, vault: vault, logger: logger, clock: { clock.read() })
        }

        static let rules = ServiceRules(
            timeZone: "Asia/Shanghai", calendar: .init(id: "CN-test", version: "2026.1", weekend: [6, 7], holidays: []),
            confirmedChannels: [], readReportPresumesService: false, acceptanceWindowDays: 7, registrationWindowDays: nil, registrationChannels: [])

        func serve(_ delivery: Delivery, service: String, email: String, sms: String = "+8613800138000", languages: [String] = ["zh-Hans"], channels: [ServiceChannel] = [.email, .sms],
                   rules: ServiceRules = Fixture.rules, reminders: [Int] = [], award: [UInt8] = Fixture.award) async throws -> AppendReceipt {
            return try await delivery.serve(
                serviceID: service, caseID: "ODR/2026/0042",
                parts: [ServicePart(name: "award", document: DocumentDescription(describing: award, mediaType: "text/plain"))],
                recipients: [.init(channel: .email, address: email), .init(channel: .sms, address: sms), .init(channel: .portal, address: "party-b")],
                rules: rules,
                plan: DeliveryPlan(languages: languages, channels: channels, institution: "CIETAC", link: "https://notarium.test/portal/l/tok3n", reminders: reminders))
        }

        static let award = Array("Final award, case ODR/2026/0042.\n".utf8)

        func events(_ service: String) throws -> [ServiceRecord] { try notary.serviceHistory(service).map(\.record) }
    }

    @Test("served by e-mail: the notice arrives in the recipient's language, SubmissionAcceptance then ConsignmentNotification (link-only) with the relay's reply, the item done with that seq, a second pass sends nothing, and the bundle verifies offline")
    func servedByEmail() async throws {
        let fixture = try await Fixture()
        let relay = try MailRelay(fixture.directory)
        let delivery = try fixture.delivery(relayPort: relay.port)
        let opened = try await fixture.serve(delivery, service: "SVC-1", email: "li.wei@example.test")
        #expect(try delivery.items(service: "SVC-1").map(\.state) == [.pending], "the notice is queued with the opening")

        #expect(await delivery.runDue() == 1)
        let received = try relay.messages(for: "li.wei@example.test")
        let afterPass = try delivery.items(service: "SVC-1").first
        try #require(received.count == 1, "the item after one pass: \(String(describing: afterPass)); relay: \(relay.process.standardError.suffix(2000))")
        #expect(received[0]["subject"] as? String == "送达通知：案件 ODR/2026/0042（CIETAC）")
        #expect(received[0]["language"] as? String == "zh-Hans")
        let text = received[0]["text"] as? String ?? ""
        #expect(text.contains("https://notarium.test/portal/l/tok3n") && text.contains("- award") && text.contains("送达编号：SVC-1"), "\(text)")

        let events = try fixture.events("SVC-1")
        #expect(events.map(\.event) == [.submissionAcceptance, .consignmentNotification])
        let notice = try #require(events.last)
        #expect(notice.channel == .email && notice.notice == .linkOnly)
        #expect(notice.provider?.kind == .smtpReply)
        #expect(notice.provider?.report.hasPrefix("250 2.0.0 Ok: queued as ") == true)
        let queueID = try #require(notice.provider?.id)
        #expect(relay.process.waitForOutputLine(containing: "accepted \(queueID) ", timeout: 5) != nil, "the event names the relay's queue id")

        let item = try #require(try delivery.items(service: "SVC-1").first)
        #expect(item.state == .done && item.attempts == 1)
        // The item names the entry that recorded its notice: the service's second event.
        let seqs = try fixture.notary.index.serviceEvents("SVC-1")
        #expect(seqs.first == opened.seq && seqs.count == 2 && item.seq == seqs.last, "\(seqs) \(String(describing: item.seq))")
        #expect(await delivery.runDue() == 0)
        // The service bundle with the provider's evidence verifies offline.
        let bundle = try fixture.notary.serviceBundle(serviceID: "SVC-1", stamper: fixture.stamper, checkpointSigner: fixture.signer, documents: [])
        let report = try Verifier(trust: try fixture.notary.trustFile()).verify(bundle: bundle.json.canonicalBytes)
        #expect(report.verdict == .passed, "\(report.checks.filter { $0.status != .passed })")
        fixture.clock.advance(86_400_000)
        #expect(await delivery.runDue() == 0)
        let eventsAfter = try fixture.events("SVC-1")
        #expect(relay.delivered() == 1 && eventsAfter.count == 2)

    }

    @Test("a refused address (550 5.1.1): ConsignmentNotificationFailure address-unknown with the relay's reply, and the SMS notice queued in the same batch; e-mail is not tried again")
    func refusedAddressFallsBack() async throws {
        let fixture = try await Fixture()
        let relay = try MailRelay(fixture.directory)
        let delivery = try fixture.delivery(relayPort: relay.port)
        _ = try await fixture.serve(delivery, service: "SVC-2", email: "reject@example.test", languages: ["es-MX"])
        await delivery.runDue()
        let events = try fixture.events("SVC-2")
        #expect(events.map(\.event) == [.submissionAcceptance, .consignmentNotificationFailure])
        #expect(events.last?.reason == .addressUnknown)
        #expect(events.last?.provider?.report.hasPrefix("550 5.1.1 <reject@example.test>") == true)
        let items = try delivery.items(service: "SVC-2")
        #expect(items.map(\.channel) == [.email, .sms])
        #expect(items.map(\.state) == [.failed, .pending])
        #expect(items.first?.seq != nil)
        #expect(relay.delivered() == 0)
        // No SMS transport here: the SMS notice waits, it is not failed, and nothing more is recorded.
        await delivery.runDue()
        #expect(try delivery.items(service: "SVC-2").map(\.state) == [.failed, .pending])
        #expect(try fixture.events("SVC-2").count == 2)
    }

    @Test("a relay that is down: no event, the notice waits and backs off; when the relay is back, one message and one event")
    func relayDownThenBack() async throws {
        let fixture = try await Fixture()
        let directory = TemporaryDirectory()
        let down = try MailRelay(directory)
        let port = down.port
        down.stop()
        let delivery = try fixture.delivery(relayPort: port)
        _ = try await fixture.serve(delivery, service: "SVC-3", email: "ann@example.test", languages: ["en"])
        #expect(await delivery.runDue() == 1)
        var item = try #require(try delivery.items(service: "SVC-3").first)
        #expect(item.state == .pending && item.attempts == 1 && item.lastError?.contains("connect-failed") == true)
        #expect(await delivery.runDue() == 0, "not due again before its backoff")
        fixture.clock.advance(31_000)
        #expect(await delivery.runDue() == 1)
        item = try #require(try delivery.items(service: "SVC-3").first)
        #expect(item.attempts == 2 && item.next >= fixture.clock.read() + 59_000, "the wait doubles")
        #expect(try fixture.events("SVC-3").count == 1)

        // The relay comes back (a new one on another port stands for it: same data, new settings).
        let relay = try MailRelay(directory)
        let revived = try fixture.delivery(relayPort: relay.port)
        fixture.clock.advance(61_000)
        #expect(await revived.runDue() == 1)
        #expect(relay.delivered() == 1)
        #expect(try fixture.events("SVC-3").map(\.event) == [.submissionAcceptance, .consignmentNotification])
        #expect(try relay.messages(for: "ann@example.test").first?["subject"] as? String == "Notice of service in case ODR/2026/0042 (CIETAC)")
    }

    @Test("a bounce from postfix (unknown user): ConsignmentNotificationFailure address-unknown with the report, naming the notice it undoes; the SMS fallback queued; read once; the bounced notice opens no window; the bundle verifies")
    func bounceFromPostfix() async throws {
        let fixture = try await Fixture()
        let postfix = try PostfixInstance(fixture.directory)
        let delivery = try fixture.delivery(relayPort: postfix.port, envelopeSender: "bounces@example.test")
        _ = try await fixture.serve(delivery, service: "SVC-B", email: "nobody-here@example.test", languages: ["en"])
        #expect(await delivery.runDue() == 1)
        let notice = try #require(try fixture.events("SVC-B").last)
        #expect(notice.event == .consignmentNotification, "postfix takes the message first: \(postfix.log)")
        let queueID = try #require(notice.provider?.id)

        let bounces = postfix.maildir("bounces")
        let real = postfix.newMessages("bounces")
        try #require(real.count == 1, "no bounce: \(postfix.log)")
        // Forgeries of it, read first (their names sort first), are set aside: one without the
        // envelope id (the notice's Message-ID alone, which a recipient can see), one with
        // the envelope id and another failed recipient.
        let text = String(decoding: try readBytes(real[0]), as: UTF8.self)
        let withoutEnvelope = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("Original-Envelope-Id:") }.joined(separator: "\n")
        #expect(withoutEnvelope != text && withoutEnvelope.contains("Message-ID: <notarium-"))
        try Data(withoutEnvelope.utf8).write(to: URL(fileURLWithPath: bounces + "/new/000.forged-no-envid"))
        try Data(text.replacingOccurrences(of: "Final-Recipient: rfc822; nobody-here@example.test", with: "Final-Recipient: rfc822; someone@example.test").utf8)
            .write(to: URL(fileURLWithPath: bounces + "/new/001.forged-recipient"))
        // Beside it, a message that is not a report and a report of a message we did not send:
        // both are set aside.
        try Data("From: someone@example.org\nSubject: hello\n\nnot a report\n".utf8).write(to: URL(fileURLWithPath: bounces + "/new/100.junk"))
        try Data(try readBytes(DeliveryTests.vector)).write(to: URL(fileURLWithPath: bounces + "/new/101.foreign"))
        #expect(await delivery.processBounces(maildir: bounces) == 1)
        let events = try fixture.events("SVC-B")
        #expect(events.map(\.event) == [.submissionAcceptance, .consignmentNotification, .consignmentNotificationFailure])
        let failure = try #require(events.last)
        #expect(failure.reason == .addressUnknown)
        #expect(failure.provider?.kind == .smtpDSN && failure.provider?.id == queueID, "the failure names the notice it undoes")
        #expect(failure.provider?.report.contains("Status: 5.1.1") == true)
        #expect(try delivery.items(service: "SVC-B").map(\.channel) == [.email, .sms])
        #expect(try delivery.items(service: "SVC-B").map(\.state) == [.done, .pending])
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: bounces + "/new")) ?? []).isEmpty, "every file handled")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: bounces + "/cur")) ?? []).count == 5)

        // Read again (as after a crash before the move): nothing more is recorded.
        for name in try FileManager.default.contentsOfDirectory(atPath: bounces + "/cur") {
            try FileManager.default.moveItem(atPath: bounces + "/cur/" + name, toPath: bounces + "/new/" + name.replacingOccurrences(of: ":2,S", with: ""))
        }
        #expect(await delivery.processBounces(maildir: bounces) == 0)
        #expect(try fixture.events("SVC-B").count == 3)

        let bundle = try fixture.notary.serviceBundle(serviceID: "SVC-B", stamper: fixture.stamper, checkpointSigner: fixture.signer, documents: [])
        let report = try Verifier(trust: try fixture.notary.trustFile()).verify(bundle: bundle.json.canonicalBytes)
        #expect(report.verdict == .passed, "\(report.checks.filter { $0.status != .passed })")

        // The bounced notice opened no acceptance window: nine days on (the seven-day window
        // would have ended), an expiry on e-mail is refused, and nothing is appended.
        fixture.clock.advance(9 * 86_400_000)
        let expiry = await caught(NotaryError.self) {
            _ = try await fixture.notary.recordServiceEvent(serviceID: "SVC-B", Notary.ServiceEventReport(event: .acceptanceRejectionExpiry, channel: .email))
        }
        #expect(expiry?.code == .serviceRule && expiry?.reason.contains("every notice on it failed") == true, "\(String(describing: expiry))")
        #expect(try fixture.events("SVC-B").count == 3)
    }

    /// The windows of docs/records.md §2.4.4, worked by hand: a notice at 2026-12-24T02:00Z is
    /// Thu 24 Dec 10:00 in Shanghai (day 7 = Thu 31 Dec, a holiday; Fri 1 Jan a holiday; the
    /// weekend; final day Mon 4 Jan; the window ends Tue 5 Jan 00:00 local = 2027-01-04T16:00Z)
    /// and Wed 23 Dec 21:00 in New York (day 7 = Wed 30 Dec, a working day; ends Thu 31 Dec
    /// 00:00 EST = 2026-12-31T05:00Z).
    @Test("a recipient who never answers: the window's end is kept with the notice; after a restart, the expiry and the deemed service are recorded once it passes, on the right day across a holiday, in Shanghai and New York", arguments: [
        ("Asia/Shanghai", "2027-01-04T16:00:00.000Z"), ("America/New_York", "2026-12-31T05:00:00.000Z"),
    ])
    func deadlinesPass(zone: String, end: String) async throws {
        let fixture = try await Fixture()
        let relay = try MailRelay(fixture.directory)
        fixture.clock.set(LedgerTime.parse("2026-12-24T02:00:00.000Z")!)
        let rules = ServiceRules(
            timeZone: zone, calendar: .init(id: "test-calendar", version: "2026.1", weekend: [6, 7], holidays: ["2026-12-31", "2027-01-01"]),
            confirmedChannels: [], readReportPresumesService: false, acceptanceWindowDays: 7, registrationWindowDays: nil, registrationChannels: [])
        do {
            let delivery = try fixture.delivery(relayPort: relay.port)
            _ = try await fixture.serve(delivery, service: "SVC-D", email: "ann@example.test", languages: ["en"], rules: rules)
            await delivery.runDue()
            #expect(try fixture.events("SVC-D").map(\.event) == [.submissionAcceptance, .consignmentNotification])
            let windowEnd = LedgerTime.parse(end)!
            #expect(try delivery.deadlines(service: "SVC-D") == [ServiceDeadline(service: "SVC-D", channel: .email, kind: .acceptanceExpiry, due: windowEnd)])
            fixture.clock.set(windowEnd - 1)
            #expect(await delivery.runDeadlines() == 0, "not before the window ends")
        }
        // Stopped through the window's end; a new Delivery on the same data picks it up.
        let windowEnd = LedgerTime.parse(end)!
        fixture.clock.set(windowEnd + 3_600_000)
        let restarted = try fixture.delivery(relayPort: relay.port)
        #expect(await restarted.runDeadlines() == 2)
        let events = try fixture.events("SVC-D")
        #expect(events.map(\.event) == [.submissionAcceptance, .consignmentNotification, .acceptanceRejectionExpiry, .serviceDeemedEffective])
        #expect(events[2].eventTime == windowEnd + 3_600_000 && events[2].channel == .email)
        #expect(events[3].effective == EffectiveService(at: windowEnd, basis: .acceptanceWindow, channel: .email))
        #expect(try restarted.deadlines(service: "SVC-D").isEmpty)
        fixture.clock.advance(86_400_000)
        #expect(await restarted.runDeadlines() == 0)
        #expect(try fixture.events("SVC-D").count == 4)
    }

    @Test("an answer within the window, by e-mail or on the portal: the e-mail window's deadline records nothing when it passes, and is gone",
          arguments: ["email", "portal"])
    func answeredWithinWindow(channelName: String) async throws {
        let channel = try #require(ServiceChannel(rawValue: channelName))
        let fixture = try await Fixture()
        let relay = try MailRelay(fixture.directory)
        let delivery = try fixture.delivery(relayPort: relay.port)
        _ = try await fixture.serve(delivery, service: "SVC-E", email: "ann@example.test", languages: ["en"])
        await delivery.runDue()
        let job = try #require(try delivery.deadlines(service: "SVC-E").first)
        fixture.clock.advance(86_400_000)
        _ = try await fixture.notary.recordServiceEvent(serviceID: "SVC-E", Notary.ServiceEventReport(
            event: .consignmentAcceptance, channel: channel, identification: Identification(method: .oneTimeCode, session: "s-1")))
        fixture.clock.set(job.due + 1)
        #expect(await delivery.runDeadlines() == 0)
        #expect(try delivery.deadlines(service: "SVC-E").isEmpty)
        #expect(try fixture.events("SVC-E").map(\.event) == [.submissionAcceptance, .consignmentNotification, .consignmentAcceptance])
    }

    @Test("the relay refuses the appliance's credentials (535): nothing is recorded against the recipient; the notice waits an hour")
    func applianceSideFailure() async throws {
        let fixture = try await Fixture()
        let certificate = try SelfSignedCertificate(fixture.directory, name: "relay")
        let relay = try MailRelay(fixture.directory, tls: "starttls", certificate: certificate, auth: "notarium:right")
        let delivery = try fixture.delivery(relayPort: relay.port, relay: SMTPRelay(
            host: "127.0.0.1", port: relay.port, security: .starttls, trustRoots: certificate.certificate, serverName: "localhost",
            credentials: .init(username: "notarium", password: "wrong"), heloName: "notarium.test", timeoutSeconds: 60))
        _ = try await fixture.serve(delivery, service: "SVC-F", email: "ann@example.test", languages: ["en"])
        #expect(await delivery.runDue() == 1)
        #expect(try fixture.events("SVC-F").map(\.event) == [.submissionAcceptance])
        let item = try #require(try delivery.items(service: "SVC-F").first)
        #expect(item.state == .pending && item.lastError?.contains("auth-failed") == true, "\(String(describing: item.lastError))")
        #expect(item.next >= fixture.clock.read() + 3_600_000)
        #expect(relay.delivered() == 0)
    }

    @Test("an answer dated after the window's end does not cancel its expiry: the expiry and the deemed service are still recorded")
    func lateAnswer() async throws {
        let fixture = try await Fixture()
        let relay = try MailRelay(fixture.directory)
        let delivery = try fixture.delivery(relayPort: relay.port)
        _ = try await fixture.serve(delivery, service: "SVC-G", email: "ann@example.test", languages: ["en"])
        await delivery.runDue()
        let job = try #require(try delivery.deadlines(service: "SVC-G").first)
        // The dispatcher was held up past the end; an acceptance arrives after it, before the job runs.
        fixture.clock.set(job.due + 60_000)
        _ = try await fixture.notary.recordServiceEvent(serviceID: "SVC-G", Notary.ServiceEventReport(
            event: .consignmentAcceptance, channel: .email, identification: Identification(method: .oneTimeCode, session: "s-1")))
        fixture.clock.advance(60_000)
        #expect(await delivery.runDeadlines() == 2)
        let events = try fixture.events("SVC-G")
        #expect(events.map(\.event) == [.submissionAcceptance, .consignmentNotification, .consignmentAcceptance, .acceptanceRejectionExpiry, .serviceDeemedEffective])
        #expect(events.last?.effective == EffectiveService(at: job.due, basis: .acceptanceWindow, channel: .email))
    }

    @Test("an item that cannot be worked (its address erased) waits an hour and holds up nothing; nothing is recorded")
    func unworkableItemWaits() async throws {
        let fixture = try await Fixture()
        let relay = try MailRelay(fixture.directory)
        let delivery = try fixture.delivery(relayPort: relay.port)
        _ = try await fixture.serve(delivery, service: "SVC-H", email: "ann@example.test", languages: ["en"])
        _ = try fixture.notary.recipients.erase(service: "SVC-H")
        _ = try await fixture.serve(delivery, service: "SVC-I", email: "bo@example.test", languages: ["en"])
        #expect(await delivery.runDue() == 2)
        let stuck = try #require(try delivery.items(service: "SVC-H").first)
        #expect(stuck.state == .pending && stuck.next >= fixture.clock.read() + 3_600_000, "\(stuck)")
        #expect(try delivery.items(service: "SVC-I").first?.state == .done, "the item behind it went out")
        #expect(try fixture.events("SVC-H").count == 1 && relay.delivered() == 1)
        #expect(await delivery.runDue() == 0)
    }

    @Test("a plan that names a channel without a recipient, or no push channel, is refused and nothing is opened")
    func badPlans() async throws {
        let fixture = try await Fixture()
        let delivery = try fixture.delivery(relayPort: nil)
        for (channels, what) in [([ServiceChannel.postalHybrid], "no recipient"), ([.portal], "no push channel"), ([], "empty"), ([.email, .email], "twice")] {
            let error = await caught(DeliveryError.self) { _ = try await fixture.serve(delivery, service: "SVC-BAD", email: "ann@example.test", channels: channels) }
            #expect(error?.code == .invalidPlan, "\(what): \(String(describing: error))")
        }
        #expect(try fixture.events("SVC-BAD").isEmpty)
        #expect(try delivery.items(service: "SVC-BAD").isEmpty)
        let idn = await caught(DeliveryError.self) { _ = try await fixture.serve(delivery, service: "SVC-BAD", email: "用户@例子.中国") }
        #expect(idn?.code == .invalidPlan, "internationalised addresses are not sent yet: \(String(describing: idn))")
        // The notary's own refusal passes through, and nothing is queued either.
        let invalid = await caught(DeliveryError.self) { _ = try await fixture.serve(delivery, service: "SVC-BAD", email: "not an address") }
        #expect(invalid?.notary?.code == .invalidRecord, "\(String(describing: invalid))")
        #expect(try delivery.items(service: "SVC-BAD").isEmpty)
    }

    @Test("the notice files: each has every key and only known placeholders; a missing key, an unknown key or placeholder, a bad tag or no English is refused by name; languages are matched by tag and by primary subtag")
    func templates() throws {
        let templates = try NoticeTemplates(directory: Self.notices)
        #expect(Set(templates.languages).isSuperset(of: ["en", "zh-Hans", "es"]))
        #expect(templates.language(for: ["zh-hans"]) == "zh-Hans")
        #expect(templates.language(for: ["zh-Hans-CN"]) == "zh-Hans")
        #expect(templates.language(for: ["fr", "es-MX"]) == "es")
        #expect(templates.language(for: ["fr"]) == "en")
        #expect(templates.language(for: ["zh-CN"]) == "zh-Hans", "the same primary language")
        #expect(templates.language(for: ["zh"]) == "zh-Hans")
        #expect(templates.language(for: ["zh-TW"]) == "en" && templates.language(for: ["zh-Hant", "es"]) == "es", "never Simplified for Traditional")
        for language in templates.languages {
            for key in NoticeTemplates.requiredKeys {
                // A translation carries the same placeholders as the English text: one that
                // dropped {{code}} or {{link}} would send a notice that cannot be acted on.
                let values = Dictionary(uniqueKeysWithValues: NoticeTemplates.placeholders.map { ($0, "«\($0)»") })
                func slots(_ text: String) -> Set<String> {
                    Set(NoticeTemplates.placeholders.filter { text.contains("«\($0)»") })
                }
                let text = templates.render(key, language: language, values: values)
                #expect(!text.isEmpty && slots(text) == slots(templates.render(key, language: "en", values: values)), "\(language) \(key)")
            }
        }
        let english = Dictionary(uniqueKeysWithValues: NoticeTemplates.requiredKeys.map { ($0, "text {{case}}") })
        var missing = english
        missing["sms-notice"] = nil
        var unknownKey = english
        unknownKey["fax-notice"] = "x"
        var unknownPlaceholder = english
        unknownPlaceholder["email-subject"] = "Case {{casenumber}}"
        var unclosed = english
        unclosed["email-subject"] = "Case {{case"
        for (texts, fragment) in [
            (["en": missing], "no sms-notice"), (["en": unknownKey], "unknown key fax-notice"), (["en": unknownPlaceholder], "{{casenumber}}"),
            (["en": unclosed], "does not close"), (["fr": english], "no en.yaml"), (["en": english, "english": english], "not a BCP 47"),
        ] {
            #expect(throws: NoticeTemplates.LoadError.self) { try NoticeTemplates(texts: texts) }
            let error = caught(NoticeTemplates.LoadError.self) { _ = try NoticeTemplates(texts: texts) }
            #expect(error?.description.contains(fragment) == true, "\(String(describing: error))")
        }
    }
}

@Suite("Delivery: the notice texts built in")
struct EmbeddedNoticeTests {
    @Test("the binary carries appliance/notices byte for byte (scripts/embed-notices.sh), and they load")
    func embeddedMatchFiles() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: DeliveryTests.notices).filter { $0.hasSuffix(".yaml") }
        #expect(Set(NoticeTemplates.embeddedFiles.keys) == Set(files.map { String($0.dropLast(5)) }), "a notice file was added or removed; run scripts/embed-notices.sh")
        for name in files {
            let text = try String(contentsOfFile: DeliveryTests.notices + "/" + name, encoding: .utf8)
            #expect(NoticeTemplates.embeddedFiles[String(name.dropLast(5))].map { $0 + "\n" } == text, "\(name) changed; run scripts/embed-notices.sh")
        }
        #expect(try NoticeTemplates.embedded().languages == NoticeTemplates(directory: DeliveryTests.notices).languages)
    }
}
