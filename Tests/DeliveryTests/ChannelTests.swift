import Appliance
import CanonicalJSON
import Delivery
import DeliveryTransport
import Foundation
import Ledger
import Notary
import NotariumTestKit
import Records
import RocksDBStore
import Sodium
import Testing
import Verification

/// The SMS channel with its delivery reports, reminders, notices that carry the documents, and
/// the documents held encrypted at rest: in process, against the project's SMS gateway and
/// aiosmtpd on loopback, with a clock the test moves.
@Suite("Delivery: SMS reports, reminders, documents", .serialized)
struct ChannelTests {
    typealias Fixture = DeliveryTests.Fixture
    static let secret = "report-secret"

    static func sms(_ gateway: SMSGatewayProcess) throws -> SMSSettings {
        try SMSSettings(gateway: SMSGateway(url: gateway.url, token: "t0ken", sender: "CIETAC"), reportSecret: SecureBytes(copying: Array(secret.utf8)),
                    callbackURL: "https://notarium.test/delivery/sms/reports", reportWaitMilliseconds: 48 * 3_600_000)
    }

    /// A report as the gateway would post it, and its signature header.
    static func report(_ fields: [String: String], secret: String = ChannelTests.secret) -> (body: [UInt8], signature: String) {
        signed(JSONValue.object(fields.mapValues { .string($0) }).canonicalBytes, secret: secret)
    }

    static func signed(_ body: [UInt8], secret: String = ChannelTests.secret) -> (body: [UInt8], signature: String) {
        let mac = HMACSHA256.authenticate(body, key: SecureBytes(copying: Array(secret.utf8)))
        return (body, "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
    }

    static func now(_ fixture: Fixture) -> String { LedgerTime.format(milliseconds: fixture.clock.read()) }

    @Test("an SMS notice is recorded on the gateway's report, not on its acceptance: delivered → ConsignmentNotification on sms with the report verbatim and its window's deadline and reminders queued; a repeated report records nothing; an unsigned or forged one is refused and changes nothing")
    func deliveredReport() async throws {
        let fixture = try await Fixture()
        let gateway = try SMSGatewayProcess(token: "t0ken")
        let delivery = try fixture.delivery(relayPort: nil, sms: try Self.sms(gateway))
        _ = try await fixture.serve(delivery, service: "SMS-1", email: "li.wei@example.test", sms: "+8613800138001", channels: [.sms, .email], reminders: [3])
        #expect(await delivery.runDue() == 1)
        let taken = try #require(try gateway.messages().first)
        #expect((taken["text"] as? String)?.contains("CIETAC") == true && taken["callbackUrl"] as? String == "https://notarium.test/delivery/sms/reports")
        let gatewayID = try #require(taken["id"] as? String)
        #expect(try fixture.events("SMS-1").map(\.event) == [.submissionAcceptance], "the gateway's acceptance proves nothing yet")
        #expect(try delivery.items(service: "SMS-1").first?.state == .sent)

        // Refused and changing nothing: no signature, another secret's, a body changed after signing.
        let delivered = Self.report(["id": gatewayID, "status": "delivered", "at": Self.now(fixture), "to": "+8613800138001"])
        for (body, signature) in [(delivered.body, nil), (delivered.body, Self.report(["id": gatewayID], secret: "other").signature), (delivered.body + [0x20], delivered.signature)] as [([UInt8], String?)] {
            let error = await caught(DeliveryError.self) { _ = try await delivery.smsReport(body: body, signature: signature) }
            #expect(error?.code == .invalidReport)
        }
        let stranger = Self.report(["id": "nobody", "status": "delivered", "at": Self.now(fixture)])
        #expect(await caught(DeliveryError.self) { _ = try await delivery.smsReport(body: stranger.body, signature: stranger.signature) }?.code == .unknownMessage)
        let mixedUp = Self.report(["id": gatewayID, "status": "delivered", "at": Self.now(fixture), "reference": "SMS-9|sms|notice"])
        #expect(await caught(DeliveryError.self) { _ = try await delivery.smsReport(body: mixedUp.body, signature: mixedUp.signature) }?.code == .malformedReport)
        let notJSON = Self.signed(Array("delivered".utf8))
        #expect(await caught(DeliveryError.self) { _ = try await delivery.smsReport(body: notJSON.body, signature: notJSON.signature) }?.code == .malformedReport)
        #expect(try fixture.events("SMS-1").count == 1)

        guard case .recorded = try await delivery.smsReport(body: delivered.body, signature: delivered.signature) else {
            Issue.record("the delivered report was not recorded")
            return
        }
        let events = try fixture.events("SMS-1")
        #expect(events.map(\.event) == [.submissionAcceptance, .consignmentNotification])
        #expect(events.last?.channel == .sms && events.last?.provider?.kind == .smsReport && events.last?.provider?.id == gatewayID)
        // The report re-encoded with what it says of the message; the number stays out of the ledger.
        #expect(events.last?.provider?.report == #"{"at":"\#(LedgerTime.format(milliseconds: fixture.clock.read()))","id":"\#(gatewayID)","status":"delivered"}"#)
        #expect(try delivery.deadlines(service: "SMS-1").map(\.kind) == [.acceptanceExpiry])
        #expect(try delivery.items(service: "SMS-1").map(\.kind) == [.notice, .reminder])
        #expect(try await delivery.smsReport(body: delivered.body, signature: delivered.signature) == .alreadyRecorded)
        #expect(try fixture.events("SMS-1").count == 2)

        // The bundle with the gateway's report verifies offline (before the test's clock moves
        // on: the time-stamp tokens carry the real time).
        let bundle = try fixture.notary.serviceBundle(serviceID: "SMS-1", stamper: fixture.stamper, checkpointSigner: fixture.signer, documents: [])
        let verdict = try Verifier(trust: try fixture.notary.trustFile()).verify(bundle: bundle.json.canonicalBytes)
        #expect(verdict.verdict == .passed, "\(verdict.checks.filter { $0.status != .passed })")
        // The reminder, three days on, by SMS again, with the deadline in it.
        fixture.clock.advance(3 * 86_400_000 + 1000)
        #expect(await delivery.runDue() == 1)
        let reminder = try #require(try gateway.messages().last)
        #expect((reminder["text"] as? String)?.contains("UTC") == true && reminder["id"] as? String != gatewayID, "\(reminder)")
        // The reminder fails: recorded, but it undoes nothing of the notice before it (its
        // window's deadline stays) and moves nothing to the next channel.
        let reminderFailed = Self.report(["id": try #require(reminder["id"] as? String), "status": "failed", "error": "absent-subscriber", "at": Self.now(fixture)])
        _ = try await delivery.smsReport(body: reminderFailed.body, signature: reminderFailed.signature)
        #expect(try fixture.events("SMS-1").map(\.event) == [.submissionAcceptance, .consignmentNotification, .consignmentNotificationFailure])
        #expect(try delivery.deadlines(service: "SMS-1").map(\.kind) == [.acceptanceExpiry])
        #expect(try delivery.items(service: "SMS-1").map(\.kind) == [.notice, .reminder], "no e-mail notice queued")
    }

    @Test("a failed SMS report (absent subscriber) is the notice's failure with the next channel queued; a message without any report within the wait is recorded as not delivered (unreachable)")
    func failedAndMissingReports() async throws {
        let fixture = try await Fixture()
        let gateway = try SMSGatewayProcess(token: "t0ken")
        let delivery = try fixture.delivery(relayPort: nil, sms: try Self.sms(gateway))
        _ = try await fixture.serve(delivery, service: "SMS-2", email: "li.wei@example.test", sms: "+8613800138008", channels: [.sms, .email])
        await delivery.runDue()
        let id = try #require(try gateway.messages().first?["id"] as? String)
        let failed = Self.report(["id": id, "status": "failed", "error": "absent-subscriber", "at": Self.now(fixture)])
        _ = try await delivery.smsReport(body: failed.body, signature: failed.signature)
        var events = try fixture.events("SMS-2")
        #expect(events.map(\.event) == [.submissionAcceptance, .consignmentNotificationFailure])
        #expect(events.last?.reason == .addressUnknown && events.last?.provider?.id == id)
        #expect(try delivery.items(service: "SMS-2").map(\.channel) == [.email, .sms], "e-mail queued next")

        _ = try await fixture.serve(delivery, service: "SMS-3", email: "li.wei@example.test", sms: "+8613800138003", channels: [.sms])
        await delivery.runDue()
        fixture.clock.advance(47 * 3_600_000)
        await delivery.runDue()
        #expect(try fixture.events("SMS-3").count == 1, "still waiting for the report")
        fixture.clock.advance(3_600_000 + 1000)
        await delivery.runDue()
        events = try fixture.events("SMS-3")
        #expect(events.map(\.event) == [.submissionAcceptance, .consignmentNotificationFailure])
        #expect(events.last?.reason == .unreachable && events.last?.provider?.report.contains("no delivery report") == true)
    }

    @Test("reminders go by the notice's channel on their day while nobody has answered, and are not sent once the recipient has")
    func reminders() async throws {
        let fixture = try await Fixture()
        let relay = try MailRelay(fixture.directory)
        let delivery = try fixture.delivery(relayPort: relay.port)
        _ = try await fixture.serve(delivery, service: "REM-1", email: "li.wei@example.test", reminders: [2, 5])
        _ = try await fixture.serve(delivery, service: "REM-2", email: "ann.lee@example.test", reminders: [2])
        await delivery.runDue()
        #expect(relay.delivered() == 2)
        // REM-2's recipient answers on the portal before the reminder is due.
        _ = try await fixture.notary.recordServiceEvent(serviceID: "REM-2", .init(
            event: .consignmentAcceptance, channel: .portal, identification: Identification(method: .oneTimeCode, session: "s-test"),
            provider: ProviderEvidence(kind: .portalLog, report: "acknowledged", id: "s-test")))
        fixture.clock.advance(2 * 86_400_000 + 1000)
        await delivery.runDue()
        let reminders = try relay.messages(for: "li.wei@example.test")
        // The Maildir's order is not the sending order: one notice and one reminder, by subject.
        let subjects = reminders.compactMap { $0["subject"] as? String }
        #expect(subjects.count == 2 && subjects.filter { $0.contains("提醒") }.count == 1, "\(subjects)")
        #expect(try relay.messages(for: "ann.lee@example.test").count == 1, "no reminder after an answer")
        #expect(try delivery.items(service: "REM-2").last?.lastError?.contains("answered") == true)
        #expect(try fixture.events("REM-1").map(\.event) == [.submissionAcceptance, .consignmentNotification, .consignmentNotification])
        fixture.clock.advance(3 * 86_400_000)
        await delivery.runDue()
        #expect(try relay.messages(for: "li.wei@example.test").count == 3)
    }

    @Test("where the rules make arrival at the e-mail address service, the notice carries the documents from the vault (Python's email reads them back byte for byte) and is recorded with-content")
    func withContent() async throws {
        let fixture = try await Fixture()
        let relay = try MailRelay(fixture.directory)
        let vault = try DocumentVault(database: fixture.data.database, key: SymmetricKey.random())
        let award = Array("%PDF-1.4 final award of case 0042\n".utf8) + (0..<2000).map { UInt8(truncatingIfNeeded: $0) }
        try vault.store(award, now: fixture.clock.read())
        let delivery = try fixture.delivery(relayPort: relay.port, vault: vault)
        let rules = ServiceRules(
            timeZone: "Asia/Shanghai", calendar: .init(id: "CN-test", version: "2026.1", weekend: [6, 7], holidays: []),
            confirmedChannels: [.email], readReportPresumesService: false, acceptanceWindowDays: 7, registrationWindowDays: nil, registrationChannels: [])
        _ = try await fixture.serve(delivery, service: "ATT-1", email: "li.wei@example.test", rules: rules, award: award)
        await delivery.runDue()
        let mail = try #require(try relay.messages(for: "li.wei@example.test").first)
        let attachment = try #require((mail["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["sha256"] as? String == DocumentVault.name(of: award))
        #expect(attachment["filename"] as? String == "award.txt")
        #expect(try fixture.events("ATT-1").last?.notice == .withContent)
    }

    @Test("documents at rest: the stored bytes are not the document, a changed byte or another key does not open them, and a document is deleted once no service holds it (a day after upload if none ever did)")
    func vault() async throws {
        let fixture = try await Fixture()
        let key = SymmetricKey.random()
        let vault = try DocumentVault(database: fixture.data.database, key: key, retentionMilliseconds: 10 * 86_400_000)
        let secret = Array("CONFIDENTIAL: the award's reasons, in full".utf8)
        let name = try vault.store(secret, now: fixture.clock.read())
        let column = try fixture.data.database.columnFamily(DocumentVault.family)
        let stored = try #require(try fixture.data.database.get(Array("doc/\(name)".utf8), in: column))
        #expect(stored.count == secret.count + 40, "nonce, ciphertext, tag")
        let plaintextRuns = Set(secret.windows(ofCount: 8))
        #expect(!stored.windows(ofCount: 8).contains(where: plaintextRuns.contains), "no 8-byte run of the document is stored")
        // Moved under another document's name, it does not open (the name is its associated data).
        let otherName = DocumentVault.name(of: Array("another".utf8))
        try fixture.data.database.put(Array("doc/\(otherName)".utf8), stored, in: column, durability: .synced)
        #expect(await caught(DeliveryError.self) { _ = try vault.document(otherName) }?.code == .storage)
        try fixture.data.database.delete(Array("doc/\(otherName)".utf8), in: column, durability: .synced)
        #expect(try vault.document(name) == secret)
        var altered = stored
        altered[30] ^= 1
        try fixture.data.database.put(Array("doc/\(name)".utf8), altered, in: column, durability: .synced)
        #expect(await caught(DeliveryError.self) { _ = try vault.document(name) }?.code == .storage)
        try fixture.data.database.put(Array("doc/\(name)".utf8), stored, in: column, durability: .synced)
        let other = try DocumentVault(database: fixture.data.database, key: SymmetricKey.random())
        #expect(await caught(DeliveryError.self) { _ = try other.document(name) }?.code == .storage)
        let tooLarge = await caught(DeliveryError.self) { _ = try vault.store([UInt8](repeating: 0, count: DocumentVault.maximumDocumentBytes + 1), now: 0) }
        #expect(tooLarge?.code == .documentTooLarge)

        // Held by a service for its retention; another upload never named is gone after a day.
        let held = try vault.store(Array("held".utf8), now: fixture.clock.read())
        try fixture.data.database.write(vault.hold(held, for: "SVC-H", until: fixture.clock.read() + 10 * 86_400_000), durability: .synced)
        fixture.clock.advance(86_400_000 + 1)
        #expect(try vault.sweep(now: fixture.clock.read()) == 1)
        #expect(try !vault.holds(name) && vault.holds(held))
        fixture.clock.advance(9 * 86_400_000)
        #expect(try vault.sweep(now: fixture.clock.read()) == 1)
        #expect(try !vault.holds(held))
    }
}

extension ChannelTests {
    @Test("the vault's stored value is what docs/delivery.md §12 says: PyNaCl opens it with the delivery key's crypto_kdf subkey (1, NTRMDOCS) and the name as associated data, and refuses it under another name")
    func vaultFormatInterop() async throws {
        let fixture = try await Fixture()
        let master = SodiumLibrary.randomBytes(32)
        let vault = try DocumentVault(database: fixture.data.database, key: try SymmetricKey(SecureBytes(copying: master)))
        let document = Array("%PDF-1.4 the award, as served".utf8)
        let name = try vault.store(document, now: fixture.clock.read())
        let value = try #require(try fixture.data.database.get(Array("doc/\(name)".utf8), in: try fixture.data.database.columnFamily(DocumentVault.family)))
        let file = fixture.directory.file("value")
        try Data(value).write(to: URL(fileURLWithPath: file))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("open_vault_value.py").path
        let hex = master.map { String(format: "%02x", $0) }.joined()
        let opened = try runProcess("/usr/bin/env", ["python3", script, hex, name, file])
        #expect(opened.status == 0 && opened.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == name, "\(opened.standardOutput) \(opened.standardError)")
        let moved = try runProcess("/usr/bin/env", ["python3", script, hex, DocumentVault.name(of: Array("another".utf8)), file])
        #expect(moved.status == 1, "under another name it does not open")
    }

    @Test("the delivery key is made once and kept; when it goes missing from a data directory that holds documents sealed under it, opening it is refused by name instead of a new key silently orphaning them")
    func deliveryKey() async throws {
        let fixture = try await Fixture()
        let sealKey = DataDirectory.defaultSealKeyFile(in: fixture.directory.file("data"))
        let key = try fixture.data.openDeliveryKey(sealKeyFile: sealKey, logger: .init(label: "test"))
        let again = try fixture.data.openDeliveryKey(sealKeyFile: sealKey, logger: .init(label: "test"))
        #expect((try? again.open(key.seal(Array("same key".utf8)))) == Array("same key".utf8), "the key opened again is the key made")
        try DocumentVault(database: fixture.data.database, key: key).store(Array("held".utf8), now: fixture.clock.read())
        try FileManager.default.removeItem(atPath: fixture.data.deliveryKeyFile)
        let refused = caught(DataDirectoryError.self) { _ = try fixture.data.openDeliveryKey(sealKeyFile: sealKey, logger: .init(label: "test")) }
        #expect(refused?.code == .sealKey && refused?.reason.contains("restore") == true, "\(String(describing: refused))")
        #expect(!FileManager.default.fileExists(atPath: fixture.data.deliveryKeyFile), "no new key was made")

        // The same when only a portal link depends on it.
        let fresh = try await Fixture()
        let freshSeal = DataDirectory.defaultSealKeyFile(in: fresh.directory.file("data"))
        _ = try fresh.data.openDeliveryKey(sealKeyFile: freshSeal, logger: .init(label: "test"))
        try fresh.data.database.put(Array("link/0123".utf8), Array("{}".utf8), in: try fresh.data.database.columnFamily(Outbox.family), durability: .synced)
        try FileManager.default.removeItem(atPath: fresh.data.deliveryKeyFile)
        #expect(caught(DataDirectoryError.self) { _ = try fresh.data.openDeliveryKey(sealKeyFile: freshSeal, logger: .init(label: "test")) }?.code == .sealKey)
    }
}

extension ChannelTests {
    @Test("racing requests act once: eight entries of one code open one session, eight downloads of one part in a session are one handover, eight copies of one delivery report record one notice")
    func racesActOnce() async throws {
        let fixture = try await Fixture()
        let relay = try MailRelay(fixture.directory)
        let gateway = try SMSGatewayProcess(token: "t0ken")
        let key = SymmetricKey.random()
        let vault = try DocumentVault(database: fixture.data.database, key: key)
        try vault.store(Fixture.award, now: fixture.clock.read())
        let delivery = try fixture.delivery(relayPort: relay.port, sms: try Self.sms(gateway), vault: vault, portal: PortalSettings(baseURL: "https://portal.test", key: key))
        _ = try await fixture.serve(delivery, service: "RACE-1", email: "li.wei@example.test", sms: "+8613800138001", channels: [.email, .sms, .portal])
        await delivery.runDue()
        let token = try #require(delivery.portalLink(service: "RACE-1")?.components(separatedBy: "/").last)
        #expect(try await delivery.sendPortalCode(token: token) == .sent(destination: "通过短信向尾号为01的手机号码"))
        let text = try #require(try gateway.messages().last?["text"] as? String)
        let code = try #require(text.split(whereSeparator: { !$0.isNumber }).first { $0.count == 6 }.map(String.init))

        let outcomes = try await withThrowingTaskGroup(of: PortalVerification.self) { group in
            for _ in 0..<8 { group.addTask { try await delivery.verifyPortalCode(token: token, code: code, client: "test") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let sessions = outcomes.compactMap { if case .identified(let cookie) = $0 { cookie } else { nil } }
        #expect(sessions.count == 1, "\(outcomes)")
        let session = try #require(try delivery.portalSession(token: token, cookie: sessions.first))
        let downloads = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try await delivery.handOver(session, part: 0)?.bytes.count ?? -1 } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(downloads == Array(repeating: Fixture.award.count, count: 8))
        var events = try fixture.events("RACE-1").map(\.event)
        #expect(events.filter { $0 == .contentAccessTracking }.count == 1 && events.filter { $0 == .contentHandover }.count == 1, "\(events)")

        // A form token is the session's; a refusal's words stay out of the ledger; a second answer records nothing.
        let cookie = try #require(sessions.first)
        #expect(delivery.isValidFormToken(delivery.formToken(cookie: cookie), cookie: cookie))
        #expect(!delivery.isValidFormToken(delivery.formToken(cookie: cookie) + "0", cookie: cookie) && !delivery.isValidFormToken("00", cookie: cookie))
        let words = "Wrong party: I am Zhang Wei, not Li Wei"
        let refusal = try await delivery.answer(session, accept: false, statement: words)
        #expect(refusal.event == .consignmentRejection && refusal.reason == .recipientRefused)
        #expect(refusal.provider?.report.contains("Zhang") == false && refusal.provider?.report.contains(DocumentVault.name(of: Array(words.utf8))) == true)
        #expect(try delivery.refusalStatement(service: "RACE-1") == words)
        #expect(try await delivery.answer(session, accept: true, statement: nil) == refusal)
        #expect(try fixture.events("RACE-1").filter { $0.event == .consignmentAcceptance || $0.event == .consignmentRejection }.count == 1)

        // An SMS notice whose report the gateway posts eight times at once.
        _ = try await fixture.serve(delivery, service: "RACE-2", email: "li.wei@example.test", sms: "+8613800138001", channels: [.sms])
        await delivery.runDue()
        let id = try #require(try gateway.messages().last?["id"] as? String)
        let report = Self.report(["id": id, "status": "delivered", "at": Self.now(fixture)])
        let answers = try await withThrowingTaskGroup(of: Delivery.SMSReportOutcome.self) { group in
            for _ in 0..<8 { group.addTask { try await delivery.smsReport(body: report.body, signature: report.signature) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.filter { if case .recorded = $0 { true } else { false } }.count == 1 && answers.filter { $0 == .alreadyRecorded }.count == 7)
        events = try fixture.events("RACE-2").map(\.event)
        #expect(events == [.submissionAcceptance, .consignmentNotification])
    }
}

extension ChannelTests {
    @Test("one-time codes: a new code voids the one before, a code ends after 10 minutes, three wrong entries void it, a sixth code locks the link, and identifying starts the count again")
    func oneTimeCodes() async throws {
        let fixture = try await Fixture()
        let relay = try MailRelay(fixture.directory)
        let gateway = try SMSGatewayProcess(token: "t0ken")
        let key = SymmetricKey.random()
        let vault = try DocumentVault(database: fixture.data.database, key: key)
        try vault.store(Fixture.award, now: fixture.clock.read())
        let delivery = try fixture.delivery(relayPort: relay.port, sms: try Self.sms(gateway), vault: vault, portal: PortalSettings(baseURL: "https://portal.test", key: key))
        _ = try await fixture.serve(delivery, service: "CODE-1", email: "li.wei@example.test", sms: "+8613800138001", channels: [.email, .sms, .portal])
        await delivery.runDue()
        let token = try #require(delivery.portalLink(service: "CODE-1")?.components(separatedBy: "/").last)
        func newCode() async throws -> String {
            #expect(try await delivery.sendPortalCode(token: token) == .sent(destination: "通过短信向尾号为01的手机号码"))
            let text = try #require(try gateway.messages().last?["text"] as? String)
            return try #require(text.split(whereSeparator: { !$0.isNumber }).first { $0.count == 6 }.map(String.init))
        }
        // A new code voids the one before.
        let first = try await newCode()
        let second = try await newCode()
        if first != second {
            #expect(try await delivery.verifyPortalCode(token: token, code: first, client: "t") == .wrong(remaining: 2))
        }
        // A code ends after 10 minutes.
        fixture.clock.advance(10 * 60_000 + 1)
        #expect(try await delivery.verifyPortalCode(token: token, code: second, client: "t") == .wrong(remaining: first != second ? 1 : 2))
        // Three wrong entries void a code, even the right one after them.
        let third = try await newCode()
        for remaining in [2, 1, 0] {
            #expect(try await delivery.verifyPortalCode(token: token, code: third == "000000" ? "111111" : "000000", client: "t") == .wrong(remaining: remaining))
        }
        #expect(try await delivery.verifyPortalCode(token: token, code: third, client: "t") == .wrong(remaining: 0))
        // Identifying starts the count again: three codes so far, then five more may be asked.
        let fourth = try await newCode()
        guard case .identified = try await delivery.verifyPortalCode(token: token, code: fourth, client: "t") else {
            Issue.record("the fourth code did not identify")
            return
        }
        for _ in 0..<5 { _ = try await newCode() }
        #expect(try await delivery.sendPortalCode(token: token) == .locked, "a sixth code after identification locks the link")
        #expect(try delivery.portalLinkState(token: token) == .locked(language: "zh-Hans"))
        #expect(try gateway.messages().count == 9, "nine codes (the notice went by e-mail); the refused sixth was not sent")
    }

    @Test("SMS outcomes: a number the gateway refuses is the failure at once with the next channel queued; `expired` is unreachable; an interim status records nothing; reasons follow the gateway's error and RFC 3463")
    func smsOutcomes() async throws {
        let fixture = try await Fixture()
        let gateway = try SMSGatewayProcess(token: "t0ken")
        let delivery = try fixture.delivery(relayPort: nil, sms: try Self.sms(gateway))
        _ = try await fixture.serve(delivery, service: "SMS-R", email: "li.wei@example.test", sms: "+8613800138000", channels: [.sms, .email])
        await delivery.runDue()
        let refused = try fixture.events("SMS-R")
        #expect(refused.map(\.event) == [.submissionAcceptance, .consignmentNotificationFailure] && refused.last?.reason == .addressUnknown, "\(refused.map(\.event))")
        #expect(try delivery.items(service: "SMS-R").map(\.channel) == [.email, .sms])

        _ = try await fixture.serve(delivery, service: "SMS-E", email: "li.wei@example.test", sms: "+8613800138002", channels: [.sms])
        await delivery.runDue()
        let id = try #require(try gateway.messages().last?["id"] as? String)
        let interim = Self.report(["id": id, "status": "buffered", "at": Self.now(fixture)])
        #expect(try await delivery.smsReport(body: interim.body, signature: interim.signature) == .interim)
        #expect(try fixture.events("SMS-E").count == 1 && delivery.items(service: "SMS-E").first?.state == .sent)
        let expired = Self.report(["id": id, "status": "expired", "at": Self.now(fixture)])
        _ = try await delivery.smsReport(body: expired.body, signature: expired.signature)
        #expect(try fixture.events("SMS-E").last?.reason == .unreachable)

        #expect(Delivery.reason(forGatewayError: "invalid-number") == .addressInvalid && Delivery.reason(forGatewayError: "unknown-subscriber") == .addressUnknown)
        #expect(Delivery.reason(forGatewayError: "spam") == .contentRefused && Delivery.reason(forGatewayError: nil) == .providerError)
        let statuses: [(String, ReasonCode)] = [
            ("5.1.1", .addressUnknown), ("5.1.3", .addressInvalid), ("5.2.2", .mailboxFull), ("5.3.4", .contentTooLarge),
            ("5.7.1", .contentRefused), ("4.4.7", .unreachable), ("5.5.0", .providerError), ("x", .providerError),
        ]
        for (status, reason) in statuses { #expect(Delivery.reason(forStatus: status) == reason, "\(status)") }
    }
}

extension Array where Element == UInt8 {
    func windows(ofCount count: Int) -> [[UInt8]] {
        guard self.count >= count else { return [] }
        return (0...(self.count - count)).map { Array(self[$0..<($0 + count)]) }
    }
}
