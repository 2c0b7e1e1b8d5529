import DeliveryTransport
import Foundation
import Ledger
import Logging
import Metrics
import Notary
import OpenSSLKit
import Records
import RocksDBStore
import Sodium
import Synchronization

/// How the appliance sends e-mail: through which relay, as whom.
public struct EmailSettings: Sendable {
    /// The relay, its TLS context built when the settings are made.
    public let relay: PreparedRelay
    /// The From of every notice: the institution's notice address.
    public var from: MailMessage.Address
    /// The envelope sender: where bounces (RFC 3464 reports) go.
    public var envelopeSender: String
    /// The right-hand side of every Message-ID.
    public var messageIDDomain: String

    /// - Throws: `SMTPError` (`tls-failed`) when the relay's trust roots are unusable.
    public init(relay: SMTPRelay, from: MailMessage.Address, envelopeSender: String, messageIDDomain: String) throws(SMTPError) {
        self.relay = try PreparedRelay(relay)
        self.from = from
        self.envelopeSender = envelopeSender
        self.messageIDDomain = messageIDDomain
    }
}

/// How the appliance sends SMS: through which gateway, and the secret its delivery reports are
/// signed with (docs/delivery.md §11).
public struct SMSSettings: Sendable {
    /// The gateway, its URL read and its TLS context built when the settings are made.
    public let gateway: PreparedGateway
    /// The HMAC-SHA-256 key of the gateway's delivery reports.
    public var reportSecret: SecureBytes
    /// Where the gateway posts its reports (`…/delivery/sms/reports` on the API listener).
    public var callbackURL: String?
    /// How long a message the gateway took may wait for its delivery report before it is
    /// recorded as not delivered (the gateway gave up, or never reports for that network).
    public var reportWaitMilliseconds: Int64

    /// - Throws: `SMSError` when the gateway's URL or trust roots are unusable.
    public init(gateway: SMSGateway, reportSecret: SecureBytes, callbackURL: String?, reportWaitMilliseconds: Int64 = 48 * 3_600_000) throws(SMSError) {
        self.gateway = try PreparedGateway(gateway)
        self.reportSecret = reportSecret
        self.callbackURL = callbackURL
        self.reportWaitMilliseconds = reportWaitMilliseconds
    }
}

/// Serving documents: opens a service with its delivery plan and first notice in one batch,
/// then works the outbox, turning what each transport reports into the service's ledger events
/// (docs/delivery.md §5). The events are the notary's; this class decides when to ask for them.
public final class Delivery: Sendable {
    let notary: Notary
    let outbox: Outbox
    public let templates: NoticeTemplates
    let email: EmailSettings?
    let sms: SMSSettings?
    /// The recipient portal; nil: notices carry the plan's own link (the platform's).
    let portal: PortalSettings?
    /// The documents served, encrypted at rest; nil: the appliance holds none.
    public let vault: DocumentVault?
    let clock: @Sendable () -> Int64
    let logger: Logger
    /// The wait before the second attempt; it doubles with each attempt after, up to an hour.
    let firstRetryMilliseconds: Int64
    /// One pass over the outbox at a time: two would send an item twice.
    let passing = Mutex<Bool>(false)
    /// One piece of work per service at a time, across the dispatcher and the request
    /// handlers (the portal, the SMS reports): each reads an item's or a link's state, then
    /// records an event and the new state; two at once could both act on the same state.
    let services = KeyedSerializer()
    /// The portal's base when it is the API listener's own address (`portalListening(at:)`).
    let boundPortalBase = Mutex<String?>(nil)
    let lastSweep = Mutex<Int64>(0)
    /// For the operator (GET /metrics, docs/operations.md): what waits, how late the oldest is,
    /// and what happened to each notice, bounce and deadline.
    let pendingGauge = Gauge(label: "notarium_delivery_outbox_pending")
    let overdueGauge = Gauge(label: "notarium_delivery_outbox_overdue_seconds")
    let sentCounter = Counter(label: "notarium_delivery_notices_total", dimensions: [("outcome", "sent")])
    let failedCounter = Counter(label: "notarium_delivery_notices_total", dimensions: [("outcome", "failed")])
    let retryCounter = Counter(label: "notarium_delivery_retries_total")
    let bounceCounter = Counter(label: "notarium_delivery_bounces_total")
    let deadlineCounter = Counter(label: "notarium_delivery_deadline_events_total")
    let wrongCodeCounter = Counter(label: "notarium_portal_wrong_codes_total")
    let smsReportCounter = Counter(label: "notarium_delivery_sms_reports_total")

    /// Attempts after which a notice that keeps failing for a passing reason is given up, and
    /// the wait before each (30 s, doubling, at most an hour): about a day in all.
    public static let maximumAttempts = 30
    public static let defaultFirstRetryMilliseconds: Int64 = 30_000
    static let longestRetryMilliseconds: Int64 = 3_600_000

    public init(notary: Notary, database: Database, templates: NoticeTemplates, email: EmailSettings?, sms: SMSSettings? = nil,
                portal: PortalSettings? = nil, vault: DocumentVault? = nil, logger: Logger,
                firstRetryMilliseconds: Int64 = Delivery.defaultFirstRetryMilliseconds,
                clock: @escaping @Sendable () -> Int64 = LedgerTime.nowMilliseconds) throws(DeliveryError) {
        self.firstRetryMilliseconds = firstRetryMilliseconds
        self.notary = notary
        self.outbox = try Outbox(database: database)
        self.templates = templates
        self.email = email
        self.sms = sms
        self.portal = portal
        self.vault = vault
        self.clock = clock
        self.logger = logger
    }

    // MARK: - Serving

    /// Opens service `serviceID` (its SubmissionAcceptance) with `plan`, and puts its first
    /// notice in the outbox in the same batch: an opened service always has its notice coming.
    public func serve(serviceID: String, caseID: String, parts: [ServicePart], recipients: [Notary.Recipient], rules: ServiceRules,
                      plan: DeliveryPlan, context: WriteContext = .commandLine) async throws(DeliveryError) -> AppendReceipt {
        guard !plan.channels.isEmpty, Set(plan.channels).count == plan.channels.count else {
            throw DeliveryError(.invalidPlan, "a delivery plan names each channel once, at least one")
        }
        for channel in plan.channels where !recipients.contains(where: { $0.channel == channel }) {
            throw DeliveryError(.invalidPlan, "the plan sends on \(channel.rawValue), and the service has no recipient there")
        }
        if plan.channels.contains(.email), let email = recipients.first(where: { $0.channel == .email })?.address,
           !email.unicodeScalars.allSatisfy({ $0.isASCII }) {
            throw DeliveryError(.invalidPlan, "the e-mail address is not ASCII; internationalised addresses (SMTPUTF8) are not sent yet")
        }
        guard let first = plan.channels.first(where: DeliveryPlan.pushChannels.contains) else {
            throw DeliveryError(.invalidPlan, "the plan names no channel a notice is pushed on (email, sms)")
        }
        let throughPortal = plan.channels.contains(.portal)
        guard !plan.institution.isEmpty, plan.institution.count <= 200, throughPortal || !plan.link.isEmpty, plan.link.count <= 2000, plan.languages.count <= 10 else {
            throw DeliveryError(.invalidPlan, "a plan needs the institution's name (at most 200 characters), a link (at most 2,000) unless it serves through the portal, and at most 10 languages")
        }
        guard plan.reminders.count <= 5, plan.reminders.allSatisfy({ (1...60).contains($0) }) else {
            throw DeliveryError(.invalidPlan, "a plan has at most 5 reminders, each 1 to 60 days after the notice")
        }
        var holds = WriteBatch()
        // Documents already uploaded are held for the service whatever its channels: a notice
        // that carries them (a confirmed address) needs them as much as the portal does.
        if !throughPortal, let vault {
            for part in parts where try vault.holds(Self.vaultName(part)) {
                holds.append(contentsOf: vault.hold(Self.vaultName(part), for: serviceID, until: clock() + vault.retentionMilliseconds))
            }
        }
        if throughPortal {
            guard let portal, let vault else {
                throw DeliveryError(.invalidPlan, "the plan serves through the portal, and this appliance has no portal (delivery.portal.base-url)")
            }
            for part in parts where try !vault.holds(Self.vaultName(part)) {
                throw DeliveryError(.documentMissing, "part \(part.name): this appliance does not hold the document with SHA-256 \(Self.vaultName(part)); upload it first (PUT /v1/documents/{sha256})")
            }
            holds.append(contentsOf: portalLinkBatch(service: serviceID, portal: portal, opened: clock()))
            for part in parts { holds.append(contentsOf: vault.hold(Self.vaultName(part), for: serviceID, until: clock() + vault.retentionMilliseconds)) }
        }
        let item = Outbox.Item(id: Self.itemID(serviceID, first, .notice), service: serviceID, channel: first, kind: .notice, next: clock())
        let outbox = self.outbox
        let caller = context.alongside
        let opening = holds
        let alongside: @Sendable (UInt64) -> WriteBatch = { seq in
            var batch = outbox.enqueue(item)
            batch.put(Outbox.planKey(serviceID), plan.json.canonicalBytes, in: outbox.column)
            batch.append(contentsOf: opening)
            if let caller { batch.append(contentsOf: caller(seq)) }
            return batch
        }
        do {
            return try await notary.openService(serviceID: serviceID, caseID: caseID, parts: parts, recipients: recipients, rules: rules,
                                                context: WriteContext(requester: context.requester, alongside: alongside))
        } catch {
            throw DeliveryError(error)
        }
    }

    public func plan(service: String) throws(DeliveryError) -> DeliveryPlan? {
        let bytes: [UInt8]?
        do {
            bytes = try outbox.database.get(Outbox.planKey(service), in: outbox.column)
        } catch {
            throw DeliveryError(.storage, "cannot read the delivery plan of \(service): \(error)")
        }
        return try bytes.map { bytes throws(DeliveryError) in try DeliveryPlan(json: bytes) }
    }

    public func items(service: String) throws(DeliveryError) -> [Outbox.Item] { try outbox.items(service: service) }

    public func deadlines(service: String) throws(DeliveryError) -> [ServiceDeadline] { try outbox.deadlines(service: service) }

    static func itemID(_ service: String, _ channel: ServiceChannel, _ kind: Outbox.Kind) -> String {
        "\(service)|\(channel.rawValue)|\(kind.rawValue)"
    }

    // MARK: - Working the outbox

    /// Sends what is due now, one item after another, and records each outcome. Returns how
    /// many items it worked on. A second call while one runs returns 0 at once.
    @discardableResult
    public func runDue() async -> Int {
        guard passing.withLock({ running in
            defer { running = true }
            return !running
        }) else { return 0 }
        defer { passing.withLock { $0 = false } }
        // One scan of the time index gives the gauges and what is due; each item itself is read
        // only in its service's turn, where a report or the portal may have settled it since.
        let now = clock()
        let index: [(time: Int64, id: String)]
        do {
            index = try outbox.timeIndex("due/")
        } catch {
            logger.error("delivery: cannot read the outbox", metadata: ["error": "\(error)"])
            return 0
        }
        pendingGauge.record(Double(index.count))
        overdueGauge.record(index.first.map { Double(max(0, now - $0.time)) / 1000 } ?? 0)
        let due = index.prefix { $0.time <= now }.prefix(64)
        for entry in due {
            // At shutdown the pass stops between items; the rest stay due.
            if Task.isCancelled { break }
            await services.run(Outbox.service(ofItem: entry.id)) { () async -> Void in
                guard let current = try? self.outbox.item(entry.id), [.pending, .sending, .sent].contains(current.state), current.next <= self.clock() else { return }
                await self.work(current)
            }
        }
        return due.count
    }

    func work(_ item: Outbox.Item) async {
        do {
            if item.kind == .reminder, let reason = try reminderNotNeeded(item) {
                var finished = item
                finished.state = .done
                finished.lastError = "not sent: \(reason)"
                try outbox.update(item, to: finished)
                logger.info("delivery: a reminder is not needed", metadata: ["item": "\(item.id)", "reason": "\(reason)"])
                return
            }
            switch item.channel {
            case .sms where item.state == .sent && sms != nil:
                try await reportMissing(item)
            case .email where email != nil:
                try await sendEmail(item, settings: email!)
            case .sms where sms != nil:
                try await sendSMS(item, settings: sms!)
            default:
                // No transport for this channel here: look again later rather than fail the
                // recipient for the appliance's configuration.
                var later = item
                later.next = clock() + Self.longestRetryMilliseconds
                later.lastError = "no transport configured for \(item.channel.rawValue)"
                try outbox.update(item, to: later)
                logger.warning("delivery: no transport for a due notice", metadata: ["item": "\(item.id)", "channel": "\(item.channel.rawValue)"])
            }
        } catch {
            // Whatever failed (a plan or an address gone, storage), the item waits an hour
            // rather than coming due again at once and holding up the items behind it.
            logger.error("delivery: an outbox item could not be worked on; it waits an hour", metadata: ["item": "\(item.id)", "error": "\(error)"])
            if let current = try? outbox.item(item.id), current.state == .pending || current.state == .sending || current.state == .sent {
                var later = current
                later.next = clock() + Self.longestRetryMilliseconds
                later.lastError = "\(error)"
                try? outbox.update(current, to: later)
            }
        }
    }

    /// What sending `item` needs: its plan, the service's events so far, and the address.
    func prepare(_ item: Outbox.Item) throws(DeliveryError) -> (plan: DeliveryPlan, history: [ServiceHistory.Event], opening: ServiceRecord, address: String) {
        guard let plan = try plan(service: item.service) else { throw DeliveryError(.storage, "service \(item.service) has an outbox item and no plan") }
        let history: [ServiceHistory.Event]
        let address: String
        do {
            history = try notary.serviceHistory(item.service)
            guard let found = try notary.recipients.disclose(service: item.service).first(where: { $0.channel == item.channel.rawValue }) else {
                throw DeliveryError(.invalidPlan, "service \(item.service) has no \(item.channel.rawValue) address (erased?)")
            }
            address = found.address
        } catch let error as DeliveryError {
            throw error
        } catch {
            throw DeliveryError(.storage, "cannot read service \(item.service): \(error)")
        }
        guard let opening = history.first?.record else { throw DeliveryError(.storage, "service \(item.service) has an outbox item and no events") }
        return (plan, history, opening, address)
    }

    /// The values a notice's text is written with.
    func noticeValues(_ item: Outbox.Item, plan: DeliveryPlan, opening: ServiceRecord) throws(DeliveryError) -> [String: String] {
        let link = plan.channels.contains(.portal) ? (portalLink(service: item.service) ?? plan.link) : plan.link
        var values = [
            "institution": plan.institution, "case": opening.caseID, "service": item.service, "link": link,
            "documents": opening.parts.map { "- \($0.name)" }.joined(separator: "\n"),
        ]
        // Only a reminder's text gives the deadline; a first notice has none yet, and reading
        // the jobs for it would be one more scan per notice.
        if item.kind == .reminder, let due = try outbox.deadlines(service: item.service).map(\.due).min() {
            values["deadline"] = String(LedgerTime.format(milliseconds: due).prefix(16)).replacingOccurrences(of: "T", with: " ") + " UTC"
        }
        return values
    }

    /// Marks `item` durably as being sent (one more attempt, the next already set) before
    /// anything goes on the wire.
    func markSending(_ item: Outbox.Item, with extra: (inout Outbox.Item) -> WriteBatch = { _ in WriteBatch() }) throws(DeliveryError) -> Outbox.Item {
        var sending = item
        sending.state = .sending
        sending.attempts += 1
        sending.next = clock() + backoff(afterAttempts: sending.attempts)
        let batch = extra(&sending)
        try outbox.update(item, to: sending, with: batch)
        return sending
    }

    /// The wait before attempt `attempts + 1`.
    func backoff(afterAttempts attempts: Int) -> Int64 {
        min(Self.longestRetryMilliseconds, firstRetryMilliseconds << Int64(min(max(attempts - 1, 0), 20)))
    }

    func sendEmail(_ item: Outbox.Item, settings: EmailSettings) async throws(DeliveryError) {
        let (plan, history, opening, address) = try prepare(item)
        // Attached only where the rules make arrival at this address service (a confirmed
        // address) and the appliance holds every document; otherwise the notice is a link.
        var attachments: [MailMessage.Attachment] = []
        if item.kind == .notice, opening.rules?.confirmedChannels.contains(where: { $0.rawValue == ServiceChannel.email.rawValue }) == true, let vault {
            for part in opening.parts {
                guard let bytes = try vault.document(Self.vaultName(part)) else { attachments = []; break }
                attachments.append(MailMessage.Attachment(filename: Self.downloadName(part), mediaType: part.document.mediaType, content: bytes))
            }
        }
        let messageID = item.messageID(domain: settings.messageIDDomain)
        let envelopeID = item.envelopeID ?? "n" + lowerHex(SodiumLibrary.randomBytes(16))
        let sending = try markSending(item) { sending in
            sending.envelopeID = envelopeID
            return outbox.remember(envelopeID: envelopeID, for: item)
        }
        let language = templates.language(for: plan.languages)
        let values = try noticeValues(item, plan: plan, opening: opening)
        let subjectKey = item.kind == .reminder ? "reminder-email-subject" : "email-subject"
        let message = MailMessage(
            from: settings.from, to: [.init(address)], subject: templates.render(subjectKey, language: language, values: values),
            date: clock(), messageID: messageID, language: language,
            text: templates.render(attachments.isEmpty ? "email-text" : "email-text-with-documents", language: language, values: values),
            attachments: attachments, extraHeaders: [("Auto-Submitted", "auto-generated")])
        let outcome: Result<SMTPSubmission, SMTPError>
        do {
            let bytes = try message.rendered(boundary: "=_notarium_" + String(messageID.prefix(34)).replacingOccurrences(of: "@", with: "_"))
            outcome = .success(try await SMTPClient.send(bytes, envelope: SMTPEnvelope(sender: settings.envelopeSender, recipients: [address], envelopeID: envelopeID), via: settings.relay))
        } catch let error as SMTPError {
            outcome = .failure(error)
        } catch {
            outcome = .failure(SMTPError(.rejected, at: .data, "the notice could not be written: \(error)"))
        }

        switch outcome {
        case .success(let submission):
            let report = Notary.ServiceEventReport(
                event: .consignmentNotification, channel: item.channel, eventTime: clock(), notice: attachments.isEmpty ? .linkOnly : .withContent,
                provider: ProviderEvidence(kind: .smtpReply, report: String(submission.reply.description.prefix(4000)), id: submission.reply.queueID ?? messageID))
            try await record(report, finishing: sending, as: .done, evidenceID: report.provider?.id,
                             extra: try noticeFollowUps(item, at: report.eventTime ?? clock(), plan: plan, history: history), log: "notice handed to the relay")
        case .failure(let error) where Self.isRecipientFailure(error) || (Self.isRecipientDelay(error) && sending.attempts >= Self.maximumAttempts):
            let reason = Self.isRecipientFailure(error) ? Self.reason(for: error) : .unreachable
            let report = Notary.ServiceEventReport(
                event: .consignmentNotificationFailure, channel: item.channel, eventTime: clock(),
                provider: ProviderEvidence(kind: .smtpReply, report: String((error.reply?.description ?? error.description).prefix(4000)), id: messageID), reason: reason)
            try await record(report, finishing: sending, as: .failed, lastError: error.description, fallback: fallback(after: item, plan: plan),
                             log: "notice failed for good")
        case .failure(let error):
            // A passing failure, or one on the appliance's side (the relay's TLS, AUTH, its
            // refusal of our sender): never recorded against the recipient; retried, at least
            // hourly, while the operator mends it (the log and the overdue metric say so).
            var retry = sending
            retry.state = .pending
            retry.lastError = error.description
            if error.isPermanent { retry.next = clock() + Self.longestRetryMilliseconds }
            try outbox.update(sending, to: retry)
            retryCounter.increment()
            logger.notice("delivery: notice not sent, will retry", metadata: ["item": "\(item.id)", "attempt": "\(sending.attempts)", "error": "\(error)"])
        }
    }

    /// Records `report` and moves `item` to `state` in the event's own batch, with the
    /// fallback notice if there is one.
    func record(_ report: Notary.ServiceEventReport, finishing item: Outbox.Item, as state: Outbox.State, lastError: String? = nil,
                evidenceID: String? = nil, fallback: Outbox.Item? = nil, extra: WriteBatch = WriteBatch(), log: String) async throws(DeliveryError) {
        switch try await recordOutcome(report, finishing: item, as: state, lastError: lastError, evidenceID: evidenceID, fallback: fallback, extra: extra) {
        case .recorded(let receipt):
            logger.info("delivery: \(log)", metadata: ["item": "\(item.id)", "seq": "\(receipt.seq)", "event": "\(report.event.rawValue)"])
        case .refused(let error):
            // The notary will never take this event (a rule the service's events forbid): the
            // item cannot succeed, and sending again would not change that.
            var failed = item
            failed.state = .failed
            failed.lastError = "the notary refused \(report.event.rawValue): \(error)"
            try outbox.update(item, to: failed)
            logger.error("delivery: the notary refused an event; the item is given up", metadata: ["item": "\(item.id)", "error": "\(error)"])
        }
    }

    /// Records `report` with `item` moved to `state` (and `fallback` queued, `extra` written)
    /// in the event's own batch; the refusal for good is returned for the caller to settle.
    func recordOutcome(_ report: Notary.ServiceEventReport, finishing item: Outbox.Item, as state: Outbox.State, lastError: String? = nil,
                       evidenceID: String? = nil, fallback: Outbox.Item? = nil, extra: WriteBatch = WriteBatch()) async throws(DeliveryError) -> Recorded {
        let outbox = self.outbox
        let alongside: @Sendable (UInt64) -> WriteBatch = { seq in
            var finished = item
            finished.state = state
            finished.seq = seq
            finished.lastError = lastError
            finished.evidenceID = evidenceID ?? item.evidenceID
            var batch = outbox.updateBatch(item, to: finished)
            if let fallback { batch.append(contentsOf: outbox.enqueue(fallback)) }
            batch.append(contentsOf: extra)
            return batch
        }
        let outcome = try await recordEvent(report, service: item.service, alongside: alongside)
        if case .recorded = outcome { (state == .done ? sentCounter : failedCounter).increment() }
        return outcome
    }

    enum Recorded {
        case recorded(AppendReceipt)
        /// The notary refused the event for good (the client's kind of error: a rule between
        /// the service's events, an invalid record): nothing was written.
        case refused(NotaryError)
    }

    /// Records `report` on `service` with the caller's writes in its batch. A refusal for good
    /// is returned for the caller to settle its own item or job; a ledger or storage failure is
    /// thrown, and the caller's item or job stays as it was, to be tried again (the event is
    /// then recorded once).
    func recordEvent(_ report: Notary.ServiceEventReport, service: String, alongside: @escaping @Sendable (UInt64) -> WriteBatch) async throws(DeliveryError) -> Recorded {
        do {
            return .recorded(try await notary.recordServiceEvent(serviceID: service, report, context: WriteContext(requester: nil, alongside: alongside)))
        } catch {
            if error.isClientError { return .refused(error) }
            throw DeliveryError(error)
        }
    }

    // MARK: - Bounces

    /// Reads the delivery status notifications in the Maildir `maildir` (the envelope sender's
    /// mailbox) and records each failure it reports as a ConsignmentNotificationFailure of
    /// the notice it names, with the provider evidence `smtp-dsn` (the report's status part)
    /// carrying the notice's own provider id, a reason from its status, and the plan's next
    /// channel queued in the same batch. A report is moved to `cur/` once handled; one that
    /// is not a report, or names no notice of ours, is moved there too and logged. A report of
    /// a notice whose event is not recorded yet stays for the next pass. A second report for
    /// the same notice records nothing. Returns how many failures it recorded.
    @discardableResult
    public func processBounces(maildir: String) async -> Int {
        let incoming = maildir + "/new"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: incoming) else {
            logger.error("delivery: the bounce mailbox cannot be read", metadata: ["maildir": "\(incoming)"])
            return 0
        }
        var recorded = 0
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = incoming + "/" + name
            do {
                switch try await handleBounce(at: path) {
                case .recorded:
                    recorded += 1
                    try Self.markSeen(path, maildir: maildir, name: name)
                case .handled:
                    try Self.markSeen(path, maildir: maildir, name: name)
                case .later:
                    continue
                }
            } catch {
                logger.error("delivery: a bounce could not be handled; it stays for the next pass", metadata: ["file": "\(path)", "error": "\(error)"])
            }
        }
        return recorded
    }

    enum BounceOutcome { case recorded, handled, later }

    func handleBounce(at path: String) async throws -> BounceOutcome {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), let size = attributes[.size] as? Int,
              size <= DeliveryStatusReport.maximumBytes, let data = FileManager.default.contents(atPath: path) else {
            logger.warning("delivery: a message in the bounce mailbox is unreadable or too large; set aside", metadata: ["file": "\(path)"])
            return .handled
        }
        let report: DeliveryStatusReport
        do {
            report = try DeliveryStatusReport(message: Array(data))
        } catch {
            logger.warning("delivery: a message in the bounce mailbox is not a delivery status report; set aside", metadata: ["file": "\(path)", "error": "\(error)"])
            return .handled
        }
        guard let failure = report.failures.first else {
            logger.info("delivery: a delivery status report without a failure (delayed or delivered); nothing to record", metadata: ["file": "\(path)"])
            return .handled
        }
        // Only the relay's report carries the ENVID (it is never in the message): a report
        // matched by Message-ID alone could be anyone's, and is left to the operator.
        guard let envelopeID = report.envelopeID, let item = try outbox.item(envelopeID: envelopeID) else {
            logger.warning("delivery: a bounce that names no notice by its envelope id; set aside for the operator", metadata: [
                "file": "\(path)", "envelope": "\(report.envelopeID ?? "none")", "message-id": "\(report.originalMessageID ?? "none")"])
            return .handled
        }
        if item.state == .pending || item.state == .sending { return .later }
        guard item.state == .done, item.seq != nil else {
            logger.info("delivery: a bounce of a notice already recorded as failed; nothing more to record", metadata: ["file": "\(path)", "item": "\(item.id)"])
            return .handled
        }
        let addresses = (try? notary.recipients.disclose(service: item.service).filter { $0.channel == item.channel.rawValue }.map { $0.address.lowercased() }) ?? []
        guard addresses.contains(failure.finalRecipient.lowercased()) || failure.originalRecipient.map({ addresses.contains($0.lowercased()) }) == true else {
            logger.warning("delivery: a bounce whose failed recipient is not the notice's; set aside for the operator", metadata: ["file": "\(path)", "item": "\(item.id)"])
            return .handled
        }
        if try outbox.bounceRecorded(item.id) { return .handled }
        guard let plan = try plan(service: item.service), let opening = try notary.serviceHistory(item.service).first?.record else {
            throw DeliveryError(.storage, "service \(item.service) has a sent notice and no plan or events")
        }
        let reportText = String(report.statusText.prefix(4000))
        let event = Notary.ServiceEventReport(
            event: .consignmentNotificationFailure, channel: item.channel, eventTime: clock(),
            provider: ProviderEvidence(kind: .smtpDSN, report: reportText, id: item.evidenceID), reason: Self.reason(forStatus: failure.status))
        let next = fallback(after: item, plan: plan)
        // The bounced notice opened no window (records.md §2.4.2): its deadlines go with it. A
        // bounced reminder undoes nothing: the window runs from the notice before it.
        let undone = item.kind == .notice ? try outbox.deadlines(service: item.service).filter { $0.channel == item.channel } : []
        let outbox = self.outbox
        let itemID = item.id
        let alongside: @Sendable (UInt64) -> WriteBatch = { seq in
            var batch = WriteBatch()
            batch.put(Outbox.bounceKey(itemID), Array(String(seq).utf8), in: outbox.column)
            if let next { batch.append(contentsOf: outbox.enqueue(next)) }
            for job in undone { batch.append(contentsOf: outbox.cancel(job)) }
            return batch
        }
        switch try await recordEvent(event, service: item.service, alongside: alongside) {
        case .recorded(let receipt):
            bounceCounter.increment()
            logger.info("delivery: a bounce recorded", metadata: ["item": "\(item.id)", "seq": "\(receipt.seq)", "status": "\(failure.status)"])
            return .recorded
        case .refused(let error):
            logger.error("delivery: the notary refused a bounce's failure event; set aside", metadata: ["item": "\(item.id)", "error": "\(error)"])
            return .handled
        }
    }

    /// Maildir's way of saying "read": into `cur/` with the `S` flag.
    static func markSeen(_ path: String, maildir: String, name: String) throws {
        try FileManager.default.createDirectory(atPath: maildir + "/cur", withIntermediateDirectories: true)
        let base = name.split(separator: ":", maxSplits: 1).first.map(String.init) ?? name
        try FileManager.default.moveItem(atPath: path, toPath: maildir + "/cur/" + base + ":2,S")
    }

    /// The next channel of the plan after `item`'s that has no notice yet; none after a
    /// reminder, whose failure says nothing of the notice before it.
    func fallback(after item: Outbox.Item) throws(DeliveryError) -> Outbox.Item? {
        guard item.kind == .notice else { return nil }
        guard let plan = try plan(service: item.service) else { return nil }
        return fallback(after: item, plan: plan)
    }

    func fallback(after item: Outbox.Item, plan: DeliveryPlan) -> Outbox.Item? {
        guard item.kind == .notice, let index = plan.channels.firstIndex(of: item.channel) else { return nil }
        for channel in plan.channels[(index + 1)...] where DeliveryPlan.pushChannels.contains(channel) {
            let id = Self.itemID(item.service, channel, .notice)
            if (try? outbox.item(id)) == nil {
                return Outbox.Item(id: id, service: item.service, channel: channel, kind: .notice, next: clock())
            }
        }
        return nil
    }

    /// Whether `error` is the recipient's: the relay refused the recipient, or the message
    /// for this recipient, with a 5xx (RFC 5321 §4.2.1), or the address cannot be written in
    /// SMTP at all. Everything else (TLS, AUTH, the greeting, EHLO, our sender) is the
    /// appliance's or its relay's, and never recorded as the recipient's failure.
    static func isRecipientFailure(_ error: SMTPError) -> Bool {
        guard error.code == .rejected, error.stage == .recipient || error.stage == .data else { return false }
        return error.reply.map { $0.code >= 500 } ?? (error.stage == .recipient)
    }

    /// A 4xx for this recipient or message: the recipient's system is unreachable for now.
    static func isRecipientDelay(_ error: SMTPError) -> Bool {
        error.code == .rejected && (error.stage == .recipient || error.stage == .data) && (error.reply.map { (400..<500).contains($0.code) } ?? false)
    }

    /// The reason code a permanent SMTP failure is recorded with (docs/records.md §2.6), from
    /// the RFC 3463 status the relay gave, else from what failed.
    static func reason(for error: SMTPError) -> ReasonCode {
        if let status = error.reply?.enhancedStatus {
            return reason(forStatus: status)
        }
        switch error.code {
        case .rejected where error.stage == .recipient: return .addressInvalid
        default: return .providerError
        }
    }

    /// RFC 3463 status → reason code; used for SMTP replies and bounce reports alike.
    public static func reason(forStatus status: String) -> ReasonCode {
        let parts = status.split(separator: ".")
        guard parts.count == 3 else { return .providerError }
        let subject = parts[1], detail = parts[2]
        switch (subject, detail) {
        case ("1", "1"), ("1", "2"), ("1", "6"), ("1", "10"): return .addressUnknown
        case ("1", _): return .addressInvalid
        case ("2", "2"): return .mailboxFull
        case ("2", "3"), ("3", "4"): return .contentTooLarge
        case ("6", _), ("7", _): return .contentRefused
        case ("4", _): return .unreachable
        default: return .providerError
        }
    }
}

extension Outbox {
    static func planKey(_ service: String) -> [UInt8] { Array("plan/".utf8) + Array(service.utf8) }
}
