import CanonicalJSON
import Ledger
import Records
import RocksDBStore
import Sodium
import TimeStamping

extension Notary {
    /// A recipient as the clerk gives it: the channel and the clear address on it.
    public struct Recipient: Sendable {
        public let channel: ServiceChannel
        public let address: String

        public init(channel: ServiceChannel, address: String) {
            self.channel = channel
            self.address = address
        }
    }

    /// What an event adds to its service, as the provider reported it.
    public struct ServiceEventReport: Sendable {
        public var event: ServiceEvent
        public var channel: ServiceChannel?
        /// UTC ms; nil: now.
        public var eventTime: Int64?
        public var notice: NoticeContent?
        public var identification: Identification?
        public var provider: ProviderEvidence?
        public var reason: ReasonCode?

        public init(event: ServiceEvent, channel: ServiceChannel? = nil, eventTime: Int64? = nil, notice: NoticeContent? = nil, identification: Identification? = nil, provider: ProviderEvidence? = nil, reason: ReasonCode? = nil) {
            self.event = event
            self.channel = channel
            self.eventTime = eventTime
            self.notice = notice
            self.identification = identification
            self.provider = provider
            self.reason = reason
        }
    }

    /// Opens a service: records its first event (SubmissionAcceptance, or SubmissionRejection
    /// when `rejection` is given) with the documents served, the recipients as commitments and
    /// the case's effective-service rules. The clear addresses go to the erasable store in
    /// the same batch.
    public func openService(serviceID: String, caseID: String, parts: [ServicePart], recipients: [Recipient], rules: ServiceRules, eventTime: Int64? = nil, provider: ProviderEvidence? = nil, rejection: ReasonCode? = nil, context: WriteContext = .commandLine) async throws(NotaryError) -> AppendReceipt {
        try await serviceWriters.run(serviceID) { () async throws(NotaryError) -> AppendReceipt in
            guard try index.serviceEvents(serviceID).isEmpty else {
                throw NotaryError(.conflict, "service \(serviceID) is already open; record its events with `notarium service record`")
            }
            guard !recipients.isEmpty else { throw NotaryError(.invalidRecord, "a service needs a recipient on at least one channel") }
            var batch = WriteBatch()
            var commitments: [RecipientCommitment] = []
            for recipient in recipients {
                guard !commitments.contains(where: { $0.channel == recipient.channel }) else {
                    throw NotaryError(.invalidRecord, "two recipients on \(recipient.channel.rawValue); a service has one recipient per channel")
                }
                let address = try Self.checkedAddress(recipient)
                let salt = SodiumLibrary.randomBytes(RecipientCommitment.saltBytes)
                commitments.append(RecipientCommitment(channel: recipient.channel, commitment: RecipientCommitment.commit(address: address, salt: salt)))
                self.recipients.store(service: serviceID, channel: recipient.channel.rawValue, address: address, salt: salt, in: &batch)
            }
            commitments.sort { ServiceChannel.allCases.firstIndex(of: $0.channel)! < ServiceChannel.allCases.firstIndex(of: $1.channel)! }
            let now = clock()
            var record = ServiceRecord(
                event: rejection == nil ? .submissionAcceptance : .submissionRejection, serviceID: serviceID, caseID: caseID,
                eventTime: eventTime ?? now, parts: parts, recipients: commitments, rules: rules, provider: provider, reason: rejection, previous: nil)
            record.requestedBy = context.requester
            try checkService([], adding: record, now: now)
            try captureValidationData(for: record, in: &batch)
            let index = self.index
            do throws(LedgerError) {
                return try await ledger.append(type: .service, body: record.body, alongside: batch, keyedBySeq: context.with { seq in index.serviceEvent(serviceID, seq: seq) })
            } catch {
                throw NotaryError(.ledger, "the ledger did not record the service's opening, so nothing changed: \(error.reason)")
            }
        }
    }

    /// Records one more event of an open service, linked to the one before it. A
    /// `ServiceDeemedEffective` event states the effective time the rules give, computed here.
    public func recordServiceEvent(serviceID: String, _ report: ServiceEventReport, context: WriteContext = .commandLine) async throws(NotaryError) -> AppendReceipt {
        try await serviceWriters.run(serviceID) { () async throws(NotaryError) -> AppendReceipt in
            let events = try serviceHistory(serviceID)
            guard let opening = events.first?.record, let last = events.last else {
                throw NotaryError(.notFound, "no service \(serviceID); open it with `notarium service open`")
            }
            guard !report.event.opensService else {
                throw NotaryError(.invalidRecord, "\(report.event.rawValue) opens a service; service \(serviceID) is already open")
            }
            guard let channel = report.channel else {
                throw NotaryError(.invalidRecord, "\(report.event.rawValue) happens on a channel; name it (email, sms, portal, postal-hybrid)")
            }
            guard let recipient = opening.recipients.first(where: { $0.channel == channel }) else {
                throw NotaryError(.invalidRecord, "service \(serviceID) has no recipient on \(channel.rawValue); its channels are \(opening.recipients.map(\.channel.rawValue).joined(separator: ", "))")
            }
            let now = clock()
            var record = ServiceRecord(
                event: report.event, serviceID: serviceID, caseID: opening.caseID, eventTime: report.eventTime ?? now, parts: opening.parts,
                recipient: recipient, notice: report.notice, identification: report.identification, provider: report.provider,
                reason: report.reason, previous: last.leafHash)
            if report.event == .serviceDeemedEffective, let rules = opening.rules {
                let effective: EffectiveService?
                do throws(ServiceViolation) {
                    effective = try ServiceHistory.effectiveService(rules: rules, records: events.map(\.record) + [record])
                } catch {
                    throw NotaryError(.serviceRule, error.description)
                }
                guard let effective else {
                    throw NotaryError(.serviceRule, "nothing recorded for service \(serviceID) makes it effective yet under the case's rules")
                }
                record = ServiceRecord(
                    event: record.event, serviceID: serviceID, caseID: opening.caseID, eventTime: record.eventTime, parts: opening.parts,
                    recipient: recipient, provider: report.provider, effective: effective, previous: last.leafHash)
            }
            record.requestedBy = context.requester
            try checkService(events, adding: record, now: now)
            var batch = WriteBatch()
            try captureValidationData(for: record, in: &batch)
            let index = self.index
            do throws(LedgerError) {
                return try await ledger.append(type: .service, body: record.body, alongside: batch, keyedBySeq: context.with { seq in index.serviceEvent(serviceID, seq: seq) })
            } catch {
                throw NotaryError(.ledger, "the ledger did not record the event, so nothing changed: \(error.reason)")
            }
        }
    }

    /// Refuses an event that `notarium verify` would later fail: the body must read back
    /// through the verifier's reader, and the chain with it must keep every service rule.
    func checkService(_ events: [ServiceHistory.Event], adding record: ServiceRecord, now: Int64) throws(NotaryError) {
        do {
            _ = try ServiceRecord(body: record.body)
        } catch {
            throw NotaryError(.invalidRecord, error.reason)
        }
        try Self.checkStorable(record.body)
        // The ledger dates the entry at least `now`: the provisional entry time.
        let all = events + [ServiceHistory.Event(record: record, leafHash: [], entryTime: now)]
        do {
            try ServiceHistory.checkChain(all)
            let records = all.map(\.record)
            _ = try ServiceHistory.deliveryState(records)
            if let rules = records.first?.rules { _ = try ServiceHistory.checkEffective(rules: rules, records: records) }
        } catch {
            throw NotaryError(.serviceRule, error.description)
        }
    }

    /// Keeps the CRLs current when the event is recorded, keyed by its canonical body: an
    /// event has no signature of its own, but its token's TSA path is judged at the token's
    /// time, which a CRL issued later (after a re-sign) cannot cover.
    func captureValidationData(for record: ServiceRecord, in batch: inout WriteBatch) throws(NotaryError) {
        validation.record(crls: try caMaterial().crls, for: record.body.canonicalBytes, in: &batch)
    }

    /// The recorded events of a service, in ledger order.
    public func serviceHistory(_ serviceID: String) throws(NotaryError) -> [ServiceHistory.Event] {
        try index.serviceEvents(serviceID).map { seq throws(NotaryError) in
            let entry = try readEntry(seq)
            guard entry.type == .service, let time = LedgerTime.parse(entry.time) else {
                throw NotaryError(.storage, "the index of service \(serviceID) points at entry \(seq), which is not a service event")
            }
            do throws(RecordError) {
                return ServiceHistory.Event(record: try ServiceRecord(body: entry.body), leafHash: entry.leafHash, entryTime: time)
            } catch {
                throw NotaryError(.invalidRecord, "entry \(seq) does not read as a service event: \(error.reason)")
            }
        }
    }

    static func checkedAddress(_ recipient: Recipient) throws(NotaryError) -> String {
        let address = recipient.address
        let valid: Bool
        switch recipient.channel {
        case .email:
            let parts = address.split(separator: "@", omittingEmptySubsequences: false)
            valid = parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !address.contains(where: \.isWhitespace)
        case .sms:
            valid = address.hasPrefix("+") && (8...16).contains(address.count) && address.dropFirst().allSatisfy(\.isASCII) && address.dropFirst().allSatisfy(\.isNumber)
        case .portal, .postalHybrid:
            valid = !address.isEmpty && !address.hasPrefix(" ")
        }
        guard valid, address.utf8.count <= 1000 else {
            let expected = switch recipient.channel {
            case .email: "an e-mail address"
            case .sms: "a number in E.164 form (+ and 7–15 digits)"
            case .portal: "a portal account identifier"
            case .postalHybrid: "a postal address"
            }
            throw NotaryError(.invalidRecord, "the \(recipient.channel.rawValue) recipient is not \(expected)")
        }
        return address
    }

    // MARK: - Bundle

    /// Everything that proves one service, all its events, offline.
    public func serviceBundle(serviceID: String, stamper: LedgerTimeStamper, checkpointSigner: NoteSigner?, documents: [[UInt8]]) throws(NotaryError) -> Bundle {
        let seqs = try index.serviceEvents(serviceID)
        guard !seqs.isEmpty else { throw NotaryError(.notFound, "no service \(serviceID)") }
        let entries = try seqs.map { seq throws(NotaryError) in try readEntry(seq) }
        let opening: ServiceRecord
        do {
            opening = try ServiceRecord(body: entries[0].body)
        } catch {
            throw NotaryError(.invalidRecord, "the opening of service \(serviceID) does not read: \(error.reason)")
        }
        try checkEmbeddable(documents, among: opening.parts.map(\.document), "one of the parts service \(serviceID) served")
        let captured = try validation.crls(for: entries.map(\.body.canonicalBytes))
        return try bundle(kind: .service, subject: serviceID, entries: entries, capturedCRLs: captured, stamper: stamper, checkpointSigner: checkpointSigner, documents: documents)
    }
}
