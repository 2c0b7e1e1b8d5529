import Ledger

/// Why a service's events, read together, do not make a valid service (docs/records.md §2.5).
/// The notary refuses to record an event that would cause one; the verifier fails a bundle
/// that shows one.
public struct ServiceViolation: Error, Equatable, CustomStringConvertible {
    public enum Rule: String, Sendable {
        /// Order, links, identifiers, parts or recipients disagree between events.
        case chain = "service.chain"
        /// A delivery state is claimed that the event's own evidence does not prove.
        case delivery = "service.delivery"
        /// A window is closed against the rule set, or a stated effective time is not the one
        /// the rules give.
        case effective = "service.effective"
    }

    public let rule: Rule
    public let reason: String

    public init(_ rule: Rule, _ reason: String) {
        self.rule = rule
        self.reason = reason
    }

    public var description: String { "\(rule.rawValue): \(reason)" }
}

/// The rules between the events of one service: the chain, the delivery state it proves and
/// when service became effective. Pure functions of the recorded facts, shared by the notary
/// (before it records an event) and the verifier (which recomputes everything).
public enum ServiceHistory {
    /// One recorded event with what the ledger adds to it.
    public struct Event: Sendable {
        public let record: ServiceRecord
        public let leafHash: [UInt8]
        /// The entry's time (UTC ms): an event cannot have happened after it was recorded.
        public let entryTime: Int64

        public init(record: ServiceRecord, leafHash: [UInt8], entryTime: Int64) {
            self.record = record
            self.leafHash = leafHash
            self.entryTime = entryTime
        }
    }

    /// How long before its recording an event may be dated (72 hours): room for a provider's
    /// late report, too little to back-date a window.
    public static let maximumReportingDelay: Int64 = 72 * 3_600_000

    /// Checks that `events`, in ledger order, are one service's complete chain from its opening:
    /// each links to the one before, all name the same service, case and parts, each channel's
    /// recipient is the one the opening committed to, and no event is dated after it was recorded
    /// or before the service opened.
    public static func checkChain(_ events: [Event]) throws(ServiceViolation) {
        guard let opening = events.first?.record else { throw ServiceViolation(.chain, "the service has no events") }
        guard opening.event.opensService, opening.previous == nil else {
            throw ServiceViolation(.chain, "the first event is \(opening.event.rawValue); a service opens with SubmissionAcceptance or SubmissionRejection")
        }
        for (index, event) in events.enumerated() {
            let record = event.record
            let name = "event \(index + 1) (\(record.event.rawValue))"
            if index > 0 {
                guard !record.event.opensService else { throw ServiceViolation(.chain, "\(name) opens the service a second time") }
                guard record.previous == events[index - 1].leafHash else {
                    throw ServiceViolation(.chain, "\(name) does not link to the event before it: an event is missing, or the events are out of order")
                }
                guard opening.event == .submissionAcceptance else {
                    throw ServiceViolation(.chain, "\(name) follows a rejected submission; nothing can follow SubmissionRejection")
                }
            }
            guard record.serviceID == opening.serviceID, record.caseID == opening.caseID else {
                throw ServiceViolation(.chain, "\(name) names service \(record.serviceID) of case \(record.caseID); the service is \(opening.serviceID) of case \(opening.caseID)")
            }
            guard record.parts == opening.parts else { throw ServiceViolation(.chain, "\(name) describes other documents than the service's opening") }
            if let recipient = record.recipient, !opening.recipients.contains(recipient) {
                throw ServiceViolation(.chain, "\(name) is on \(recipient.channel.rawValue), to a recipient the opening did not commit to on that channel")
            }
            guard record.eventTime <= event.entryTime else {
                throw ServiceViolation(.chain, "\(name) is dated \(LedgerTime.format(milliseconds: record.eventTime)), after it was recorded (\(LedgerTime.format(milliseconds: event.entryTime)))")
            }
            guard record.eventTime >= opening.eventTime else {
                throw ServiceViolation(.chain, "\(name) is dated before the service opened")
            }
            // Providers report late, but not by weeks: a back-dated event would move the
            // effective-service time to a day the ledger shows had not come yet.
            guard event.entryTime - record.eventTime <= maximumReportingDelay else {
                throw ServiceViolation(.chain, "\(name) is dated \(LedgerTime.format(milliseconds: record.eventTime)), more than \(maximumReportingDelay / 3_600_000) hours before it was recorded (\(LedgerTime.format(milliseconds: event.entryTime)))")
            }
        }
        // Events that only make sense after another.
        let records = events.map(\.record)
        for (index, record) in records.enumerated() where record.event == .acceptanceRejectionExpiry {
            guard records[..<index].contains(where: { $0.event == .consignmentNotification && $0.channel == record.channel }) else {
                throw ServiceViolation(.chain, "event \(index + 1) (AcceptanceRejectionExpiry) ends an acceptance window on \(record.channel?.rawValue ?? "?") that no ConsignmentNotification opened")
            }
        }
    }

    /// The highest delivery state the events prove (nil: not even submitted).
    /// A handover must rest on the release of the content to the identified recipient: the
    /// report of a notice that carried only a title and a link is never one.
    public static func deliveryState(_ records: [ServiceRecord]) throws(ServiceViolation) -> DeliveryState? {
        let linkNotices = records.filter { $0.event == .consignmentNotification && $0.notice == .linkOnly }
        var highest: DeliveryState?
        for (index, record) in records.enumerated() {
            let state: DeliveryState?
            switch record.event {
            case .submissionAcceptance: state = .submitted
            case .contentConsignment: state = .madeAvailable
            case .consignmentNotification: state = .notified
            case .contentHandover:
                guard record.identification != nil else {
                    throw ServiceViolation(.delivery, "event \(index + 1) claims a handover without saying how the recipient was identified")
                }
                try checkNotOnLinkOnlyNotice(record, index: index, linkNotices: linkNotices, claim: "a handover")
                state = .handedOver
            case .contentAccessTracking:
                // Without identification it is a read report: it may presume service (rule b)
                // but proves no authenticated opening.
                if record.identification != nil {
                    try checkNotOnLinkOnlyNotice(record, index: index, linkNotices: linkNotices, claim: "an authenticated opening")
                    state = .opened
                } else {
                    state = nil
                }
            case .consignmentAcceptance: state = .acknowledged
            default: state = nil
            }
            if let state { highest = max(highest ?? state, state) }
        }
        return highest
    }

    /// A handover or an authenticated opening rests on the system that released the content,
    /// never on the report of a notice that carried only a title and a link: not the same
    /// message as any link-only notice of the service (on any channel, before or after it in
    /// the chain), and not a transport report (SMTP, DSN, SMS, read report) on a channel that
    /// had a link-only notice.
    static func checkNotOnLinkOnlyNotice(_ record: ServiceRecord, index: Int, linkNotices: [ServiceRecord], claim: String) throws(ServiceViolation) {
        if let report = linkOnlyEvidence(record, linkNotices: linkNotices) {
            throw ServiceViolation(.delivery, "event \(index + 1) claims \(claim) on the evidence of a notice that carried only a title and a link (\(report)); a link-only notice is never handover")
        }
    }

    /// The provider's report `record` rests on when it is a link-only notice's, else nil.
    private static func linkOnlyEvidence(_ record: ServiceRecord, linkNotices: [ServiceRecord]) -> String? {
        guard let kind = record.provider?.kind else { return nil }
        let id = record.provider?.id
        let transport = kind == .smtpReply || kind == .smtpDSN || kind == .smsReport || kind == .mdn
        let channel = record.channel?.rawValue ?? ""
        for notice in linkNotices {
            let sameMessage = id != nil && notice.provider?.id == id
            // Compared by name: `notice.channel == record.channel` (two optional channels)
            // crashes Swift 6.3.1's optimizer in a release build (CopyPropagation: "Found
            // ownership error"), which broke `swift build -c release`.
            let transportOnly = transport && (notice.channel?.rawValue ?? "") == channel
            if sameMessage || transportOnly {
                if let id { return kind.rawValue + " " + id }
                return kind.rawValue
            }
        }
        return nil
    }

    /// When service became effective under `rules`, from `records` (in chain order); nil when
    /// nothing recorded makes it effective yet. The earliest ground wins; at equal times the
    /// firmer ground (the order of `EffectiveService.Basis`) is named.
    public static func effectiveService(rules: ServiceRules, records: [ServiceRecord]) throws(ServiceViolation) -> EffectiveService? {
        var candidates: [EffectiveService] = []
        for record in records {
            guard let channel = record.channel else { continue }
            switch record.event {
            case .contentConsignment where rules.confirmedChannels.contains(channel):
                candidates.append(EffectiveService(at: record.eventTime, basis: .arrivalAtConfirmedAddress, channel: channel))
            case .consignmentAcceptance:
                candidates.append(EffectiveService(at: record.eventTime, basis: .reply, channel: channel))
            case .contentAccessTracking where rules.readReportPresumesService:
                candidates.append(EffectiveService(at: record.eventTime, basis: .readReport, channel: channel))
            default:
                break
            }
        }
        for channel in ServiceChannel.allCases {
            let expiries = records.filter { $0.event == .acceptanceRejectionExpiry && $0.channel == channel }
            guard let notice = standingNotice(on: channel, in: records) else {
                if !expiries.isEmpty, records.contains(where: { $0.event == .consignmentNotification && $0.channel == channel }) {
                    throw ServiceViolation(.effective, "AcceptanceRejectionExpiry on \(channel.rawValue), but every notice on it failed (a bounce names it): no window was opened")
                }
                continue
            }
            let registration = rules.registrationChannels.contains(channel)
            if registration || rules.acceptanceWindowDays == nil, !expiries.isEmpty {
                throw ServiceViolation(.effective, "AcceptanceRejectionExpiry on \(channel.rawValue), but the rules open no acceptance window there")
            }
            guard let days = registration ? rules.registrationWindowDays : rules.acceptanceWindowDays else { continue }
            let deadline = rules.deadline(trigger: notice.eventTime, days: days)
            if registration {
                // The appliance records ServiceDeemedEffective once the window has ended.
                guard records.contains(where: { $0.event == .serviceDeemedEffective && $0.eventTime >= deadline.end }) else { continue }
                candidates.append(EffectiveService(at: deadline.end, basis: .registrationWindow, channel: channel))
            } else {
                guard let expiry = expiries.first(where: { $0.eventTime < deadline.end }) ?? expiries.first else { continue }
                guard expiry.eventTime >= deadline.end else {
                    throw ServiceViolation(.effective, "AcceptanceRejectionExpiry on \(channel.rawValue) is dated \(LedgerTime.format(milliseconds: expiry.eventTime)), before the acceptance window ends (\(LedgerTime.format(milliseconds: deadline.end)), end of \(deadline.finalDay) in \(rules.timeZone))")
                }
                if records.contains(where: { [.consignmentRejection, .consignmentAcceptance].contains($0.event) && $0.channel == channel && $0.eventTime < deadline.end }) {
                    throw ServiceViolation(.effective, "AcceptanceRejectionExpiry on \(channel.rawValue), but the recipient accepted or rejected within the window")
                }
                candidates.append(EffectiveService(at: deadline.end, basis: .acceptanceWindow, channel: channel))
            }
        }
        return candidates.min { ($0.at, $0.basis.rank) < ($1.at, $1.basis.rank) }
    }

    /// The first ConsignmentNotification on `channel` that stands, the one whose time opens the
    /// channel's window (§2.4.2); nil when there is none, or every one failed. The notary, the
    /// verifier and the appliance's deadlines and reminders all ask this one question.
    public static func standingNotice(on channel: ServiceChannel, in records: [ServiceRecord]) -> ServiceRecord? {
        // Compared by name: comparing two optional channels crashes Swift 6.3.1's optimizer.
        let name = channel.rawValue
        for (position, record) in records.enumerated() where record.event == .consignmentNotification && (record.channel?.rawValue ?? "") == name {
            if !failed(at: position, in: records) { return record }
        }
        return nil
    }

    /// True when a later ConsignmentNotificationFailure on the same channel carries the
    /// provider id of the notice at `position`: the provider reports that the very message it
    /// took could not be delivered (an RFC 3464 bounce), so the notice notified no one.
    static func failed(at position: Int, in records: [ServiceRecord]) -> Bool {
        let notice = records[position]
        guard let id = notice.provider?.id else { return false }
        let channel = notice.channel?.rawValue ?? ""
        return records[(position + 1)...].contains { $0.event == .consignmentNotificationFailure && ($0.channel?.rawValue ?? "") == channel && $0.provider?.id == id }
    }

    /// Checks every `ServiceDeemedEffective` against the effective time the events up to it
    /// give; returns the effective service of the whole chain.
    public static func checkEffective(rules: ServiceRules, records: [ServiceRecord]) throws(ServiceViolation) -> EffectiveService? {
        for (index, record) in records.enumerated() where record.event == .serviceDeemedEffective {
            let computed = try effectiveService(rules: rules, records: Array(records[...index]))
            // A ServiceDeemedEffective states what has already happened, not what will.
            if let claimed = record.effective, claimed.at > record.eventTime {
                throw ServiceViolation(.effective, "event \(index + 1) (ServiceDeemedEffective), dated \(LedgerTime.format(milliseconds: record.eventTime)), states service effective later, at \(LedgerTime.format(milliseconds: claimed.at))")
            }
            guard let claimed = record.effective, computed == claimed else {
                let expected = computed.map { "\(LedgerTime.format(milliseconds: $0.at)) (\($0.basis.rawValue), \($0.channel.rawValue))" } ?? "no effective service yet"
                let stated = record.effective.map { "\(LedgerTime.format(milliseconds: $0.at)) (\($0.basis.rawValue), \($0.channel.rawValue))" } ?? "nothing"
                throw ServiceViolation(.effective, "event \(index + 1) (ServiceDeemedEffective) states \(stated); the rules and the events before it give \(expected)")
            }
        }
        return try effectiveService(rules: rules, records: records)
    }
}
