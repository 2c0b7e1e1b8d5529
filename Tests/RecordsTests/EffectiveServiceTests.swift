import CanonicalJSON
import Ledger
import OpenSSLKit
import Records
import Testing

/// The effective-service rules (docs/records.md §2.4) as a table: every branch (a)–(d), the
/// earliest-wins and tie rules, two time zones on the same instants, weekend and holiday
/// roll-over and a daylight-saving change. Every expected instant is worked out by hand in the
/// comment beside it, not computed by the code under test.
@Suite("Records: effective service, deadlines and the rules between a service's events")
struct EffectiveServiceTests {
    static func time(_ text: String) -> Int64 { LedgerTime.parse(text)! }

    static func rules(_ zone: String = "Asia/Shanghai", confirmed: [ServiceChannel] = [.portal], readReport: Bool = true, acceptance: Int? = 7, registration: Int? = nil, registrationChannels: [ServiceChannel] = [], holidays: [String] = ["2026-12-31", "2027-01-01"]) -> ServiceRules {
        ServiceRules(
            timeZone: zone, calendar: .init(id: "test-calendar", version: "2026.1", weekend: [6, 7], holidays: holidays),
            confirmedChannels: confirmed, readReportPresumesService: readReport, acceptanceWindowDays: acceptance,
            registrationWindowDays: registration, registrationChannels: registrationChannels)
    }

    static let part = ServicePart(name: "notice", document: DocumentDescription(digests: NamedDigest.compute(bytes: Array("notice".utf8)).digests, size: 6, mediaType: "application/pdf"))
    static let commitments = ServiceChannel.allCases.map { RecipientCommitment(channel: $0, commitment: [UInt8](repeating: UInt8($0.rawValue.count), count: 32)) }

    static func event(_ event: ServiceEvent, _ channel: ServiceChannel?, _ at: String, notice: NoticeContent? = nil, identified: Bool = false, provider: ProviderEvidence? = nil, reason: ReasonCode? = nil, effective: EffectiveService? = nil) -> ServiceRecord {
        ServiceRecord(
            event: event, serviceID: "SVC-1", caseID: "ARB-1", eventTime: time(at), parts: [part],
            recipients: event.opensService ? commitments : [], recipient: channel.flatMap { c in commitments.first { $0.channel == c } },
            rules: event.opensService ? rules() : nil, notice: notice ?? (event == .consignmentNotification ? .linkOnly : nil),
            identification: identified || event == .contentHandover ? Identification(method: .eidSubstantial, session: "s-1") : nil,
            provider: provider, reason: reason ?? (event.isNegative ? .recipientRefused : nil), effective: effective,
            previous: event.opensService ? nil : [UInt8](repeating: 0, count: 32))
    }

    static let open = event(.submissionAcceptance, nil, "2026-11-23T00:00:00.000Z")

    struct Case {
        let name: String
        let rules: ServiceRules
        let events: [ServiceRecord]
        /// nil: no effective service.
        let expected: (at: String, basis: EffectiveService.Basis, channel: ServiceChannel)?
    }

    static let cases: [Case] = [
        // (a) arrival at a confirmed system is service, at the moment of arrival.
        Case(name: "a: confirmed portal, consignment", rules: rules(), events: [open, event(.contentConsignment, .portal, "2026-11-23T09:15:00.000Z")],
             expected: ("2026-11-23T09:15:00.000Z", .arrivalAtConfirmedAddress, .portal)),
        // (a) does not apply to an unconfirmed channel: arrival in a mailbox proves nothing yet.
        Case(name: "a: unconfirmed email, consignment", rules: rules(), events: [open, event(.contentConsignment, .email, "2026-11-23T09:15:00.000Z")], expected: nil),
        // (b) a reply is service.
        Case(name: "b: reply", rules: rules(), events: [open, event(.contentConsignment, .email, "2026-11-23T09:15:00.000Z"), event(.consignmentAcceptance, .email, "2026-11-24T08:00:00.000Z")],
             expected: ("2026-11-24T08:00:00.000Z", .reply, .email)),
        // (b) a read report presumes service…
        Case(name: "b: read report presumes", rules: rules(), events: [open, event(.contentAccessTracking, .email, "2026-11-24T07:00:00.000Z")],
             expected: ("2026-11-24T07:00:00.000Z", .readReport, .email)),
        // … unless the case's rules say it does not.
        Case(name: "b: read report without presumption", rules: rules(readReport: false), events: [open, event(.contentAccessTracking, .email, "2026-11-24T07:00:00.000Z")], expected: nil),
        // (c) Shanghai (UTC+8): notice 2026-11-23T10:00Z = Mon 23rd 18:00 local; day 1 = Tue 24th;
        // day 7 = Mon 30th, a working day; the window ends at Tue 1 Dec 00:00 local = 2026-11-30T16:00Z.
        Case(name: "c: acceptance window, Shanghai", rules: rules(),
             events: [open, event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z"), event(.acceptanceRejectionExpiry, .email, "2026-11-30T16:00:00.000Z")],
             expected: ("2026-11-30T16:00:00.000Z", .acceptanceWindow, .email)),
        // The same instants in New York (UTC−5 in November): the notice is Mon 23rd 05:00 local;
        // day 7 = Mon 30th; the window ends Tue 1 Dec 00:00 EST = 2026-12-01T05:00Z. The expiry
        // must not come before that.
        Case(name: "c: acceptance window, New York", rules: rules("America/New_York"),
             events: [open, event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z"), event(.acceptanceRejectionExpiry, .email, "2026-12-01T05:00:00.000Z")],
             expected: ("2026-12-01T05:00:00.000Z", .acceptanceWindow, .email)),
        // A notice late in the UTC day is the next local day in Shanghai: 2026-11-23T17:00Z =
        // Tue 24th 01:00 local; day 7 = Tue 1 Dec; ends Wed 2 Dec 00:00 local = 2026-12-01T16:00Z.
        Case(name: "c: notice after local midnight, Shanghai", rules: rules(),
             events: [open, event(.consignmentNotification, .email, "2026-11-23T17:00:00.000Z"), event(.acceptanceRejectionExpiry, .email, "2026-12-01T16:00:00.000Z")],
             expected: ("2026-12-01T16:00:00.000Z", .acceptanceWindow, .email)),
        // Holiday roll-over: notice Thu 24 Dec (local); day 7 = Thu 31 Dec, a holiday; Fri 1 Jan a
        // holiday; Sat 2, Sun 3 the weekend; the final day is Mon 4 Jan 2027; the window ends
        // Tue 5 Jan 00:00 local = 2027-01-04T16:00Z.
        Case(name: "c: holiday and weekend roll-over, Shanghai", rules: rules(),
             events: [open, event(.consignmentNotification, .email, "2026-12-24T02:00:00.000Z"), event(.acceptanceRejectionExpiry, .email, "2027-01-04T16:00:00.000Z")],
             expected: ("2027-01-04T16:00:00.000Z", .acceptanceWindow, .email)),
        // Without an expiry event the window has not been closed: nothing yet.
        Case(name: "c: window not closed", rules: rules(), events: [open, event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z")], expected: nil),
        // (d) registration window on the postal channel, 3 days: notice Wed 25 Nov 10:00 local
        // (02:00Z); day 3 = Sat 28th, weekend; Sun 29th weekend; final Mon 30th; ends Tue 1 Dec
        // 00:00 local = 2026-11-30T16:00Z; ServiceDeemedEffective records it after the end.
        Case(name: "d: registration window with weekend roll", rules: rules(registration: 3, registrationChannels: [.postalHybrid]),
             events: [open, event(.consignmentNotification, .postalHybrid, "2026-11-25T02:00:00.000Z"), event(.serviceDeemedEffective, .postalHybrid, "2026-11-30T16:00:01.000Z")],
             expected: ("2026-11-30T16:00:00.000Z", .registrationWindow, .postalHybrid)),
        // (d) before its end the registration window gives nothing.
        Case(name: "d: registration window still open", rules: rules(registration: 3, registrationChannels: [.postalHybrid]),
             events: [open, event(.consignmentNotification, .postalHybrid, "2026-11-25T02:00:00.000Z"), event(.serviceDeemedEffective, .postalHybrid, "2026-11-30T15:59:59.000Z")],
             expected: nil),
        // Several channels: the earliest effective one wins (portal arrival before the e-mail reply).
        Case(name: "earliest channel wins", rules: rules(),
             events: [open, event(.consignmentAcceptance, .email, "2026-11-25T00:00:00.000Z"), event(.contentConsignment, .portal, "2026-11-24T00:00:00.000Z")],
             expected: ("2026-11-24T00:00:00.000Z", .arrivalAtConfirmedAddress, .portal)),
        // At equal times the firmer ground is named: arrival before reply.
        Case(name: "tie: arrival named before reply", rules: rules(),
             events: [open, event(.consignmentAcceptance, .email, "2026-11-24T00:00:00.000Z"), event(.contentConsignment, .portal, "2026-11-24T00:00:00.000Z")],
             expected: ("2026-11-24T00:00:00.000Z", .arrivalAtConfirmedAddress, .portal)),
        // A reply inside an acceptance window makes service at the reply, not at the window's end.
        Case(name: "b before c", rules: rules(),
             events: [open, event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z"), event(.consignmentAcceptance, .email, "2026-11-26T10:00:00.000Z")],
             expected: ("2026-11-26T10:00:00.000Z", .reply, .email)),
        // A bounced notice (a ConsignmentNotificationFailure with the notice's provider id)
        // notified no one: the window runs from the next notice on the channel that arrived.
        // Resent Wed 25th 10:00Z = 18:00 Shanghai; day 7 = Wed 2 Dec; ends Thu 3 Dec 00:00
        // local = 2026-12-02T16:00Z (the bounced notice's window would have ended 2026-11-30T16:00Z).
        Case(name: "c: a bounced notice opens no window; the next notice does", rules: rules(),
             events: [open, event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z", provider: ProviderEvidence(kind: .smtpReply, report: "250 2.0.0 Ok: queued as A1", id: "A1")),
                      event(.consignmentNotificationFailure, .email, "2026-11-23T10:05:00.000Z", provider: ProviderEvidence(kind: .smtpDSN, report: "Status: 5.2.2", id: "A1"), reason: .mailboxFull),
                      event(.consignmentNotification, .email, "2026-11-25T10:00:00.000Z", provider: ProviderEvidence(kind: .smtpReply, report: "250 2.0.0 Ok: queued as B2", id: "B2")),
                      event(.acceptanceRejectionExpiry, .email, "2026-12-02T16:00:00.000Z")],
             expected: ("2026-12-02T16:00:00.000Z", .acceptanceWindow, .email)),
        // A failure naming another message leaves the notice standing.
        Case(name: "c: a failure of another message does not undo the notice", rules: rules(),
             events: [open, event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z", provider: ProviderEvidence(kind: .smtpReply, report: "250 Ok: queued as A1", id: "A1")),
                      event(.consignmentNotificationFailure, .email, "2026-11-23T10:05:00.000Z", provider: ProviderEvidence(kind: .smtpDSN, report: "Status: 5.1.1", id: "Z9"), reason: .addressUnknown),
                      event(.acceptanceRejectionExpiry, .email, "2026-11-30T16:00:00.000Z")],
             expected: ("2026-11-30T16:00:00.000Z", .acceptanceWindow, .email)),
    ]

    @Test("the table: each rule branch, two time zones, weekend and holiday roll-over")
    func table() throws {
        for item in Self.cases {
            let result = try ServiceHistory.effectiveService(rules: item.rules, records: item.events)
            if let expected = item.expected {
                #expect(result == EffectiveService(at: Self.time(expected.at), basis: expected.basis, channel: expected.channel), "\(item.name)")
            } else {
                #expect(result == nil, "\(item.name)")
            }
        }
        // Only read reports are rebuttable.
        #expect(EffectiveService(at: 0, basis: .readReport, channel: .email).rebuttable)
        #expect(!EffectiveService(at: 0, basis: .reply, channel: .email).rebuttable)
    }

    @Test("deadlines: rolled days are named; a daylight-saving change does not move the day")
    func deadlines() {
        let shanghai = Self.rules()
        let rolled = shanghai.deadline(trigger: Self.time("2026-12-24T02:00:00.000Z"), days: 7)
        #expect(rolled.finalDay == "2027-01-04" && rolled.rolledOver == ["2026-12-31", "2027-01-01", "2027-01-02", "2027-01-03"])
        #expect(rolled.end == Self.time("2027-01-04T16:00:00.000Z"))
        // New York falls back on Sun 1 Nov 2026. Trigger Sun 25 Oct 12:00 EDT (16:00Z); day 7 =
        // Sun 1 Nov (weekend) → Mon 2 Nov; ends Tue 3 Nov 00:00 EST = 05:00Z (not 04:00Z).
        let newYork = Self.rules("America/New_York", holidays: [])
        let dst = newYork.deadline(trigger: Self.time("2026-10-25T16:00:00.000Z"), days: 7)
        #expect(dst.finalDay == "2026-11-02" && dst.rolledOver == ["2026-11-01"] && dst.end == Self.time("2026-11-03T05:00:00.000Z"))
        // Berlin springs forward on Sun 28 Mar 2027; a window ending Sat 27th (no weekend in this
        // calendar) ends at Sun 28th 00:00 CET = 2027-03-27T23:00Z.
        let berlin = ServiceRules(timeZone: "Europe/Berlin", calendar: .init(id: "none", version: "1", weekend: [], holidays: []), confirmedChannels: [], readReportPresumesService: false, acceptanceWindowDays: 1, registrationWindowDays: nil, registrationChannels: [])
        let spring = berlin.deadline(trigger: Self.time("2027-03-26T10:00:00.000Z"), days: 1)
        #expect(spring.finalDay == "2027-03-27" && spring.rolledOver.isEmpty && spring.end == Self.time("2027-03-27T23:00:00.000Z"))
    }

    @Test("a window closed too early, or after a rejection, or that never opened, is a violation")
    func windowViolations() throws {
        let early = [Self.open, Self.event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z"), Self.event(.acceptanceRejectionExpiry, .email, "2026-11-30T15:59:59.999Z")]
        #expect(throws: ServiceViolation.self) { try ServiceHistory.effectiveService(rules: Self.rules(), records: early) }
        let rejected = [Self.open, Self.event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z"), Self.event(.consignmentRejection, .email, "2026-11-24T10:00:00.000Z"), Self.event(.acceptanceRejectionExpiry, .email, "2026-12-01T00:00:00.000Z")]
        #expect(throws: ServiceViolation.self) { try ServiceHistory.effectiveService(rules: Self.rules(), records: rejected) }
        // A second expiry before the window's end is refused too, not only the first.
        let second = [Self.open, Self.event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z"), Self.event(.acceptanceRejectionExpiry, .email, "2026-11-30T16:00:00.000Z"), Self.event(.acceptanceRejectionExpiry, .email, "2026-11-30T15:00:00.000Z")]
        #expect(throws: ServiceViolation.self) { try ServiceHistory.effectiveService(rules: Self.rules(), records: second) }
        let noWindow = [Self.open, Self.event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z"), Self.event(.acceptanceRejectionExpiry, .email, "2026-12-01T00:00:00.000Z")]
        #expect(throws: ServiceViolation.self) { try ServiceHistory.effectiveService(rules: Self.rules(acceptance: nil), records: noWindow) }
        // An expiry of a window that a bounced notice never opened.
        let bouncedOnly = [Self.open, Self.event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z", provider: ProviderEvidence(kind: .smtpReply, report: "250 Ok", id: "A1")),
                           Self.event(.consignmentNotificationFailure, .email, "2026-11-23T10:05:00.000Z", provider: ProviderEvidence(kind: .smtpDSN, report: "Status: 5.1.1", id: "A1"), reason: .addressUnknown),
                           Self.event(.acceptanceRejectionExpiry, .email, "2026-11-30T16:00:00.000Z")]
        #expect(throws: ServiceViolation.self) { try ServiceHistory.effectiveService(rules: Self.rules(), records: bouncedOnly) }
        #expect(try ServiceHistory.effectiveService(rules: Self.rules(), records: Array(bouncedOnly.dropLast())) == nil)
    }

    @Test("a ServiceDeemedEffective must state what the rules give")
    func deemedClaims() throws {
        let arrival = Self.event(.contentConsignment, .portal, "2026-11-23T09:15:00.000Z")
        let right = Self.event(.serviceDeemedEffective, .portal, "2026-11-23T10:00:00.000Z", effective: EffectiveService(at: Self.time("2026-11-23T09:15:00.000Z"), basis: .arrivalAtConfirmedAddress, channel: .portal))
        #expect(try ServiceHistory.checkEffective(rules: Self.rules(), records: [Self.open, arrival, right])?.basis == .arrivalAtConfirmedAddress)
        let wrong = Self.event(.serviceDeemedEffective, .portal, "2026-11-23T10:00:00.000Z", effective: EffectiveService(at: Self.time("2026-11-23T09:00:00.000Z"), basis: .arrivalAtConfirmedAddress, channel: .portal))
        #expect(throws: ServiceViolation.self) { try ServiceHistory.checkEffective(rules: Self.rules(), records: [Self.open, arrival, wrong]) }
        let future = Self.event(.serviceDeemedEffective, .portal, "2026-11-23T09:00:00.000Z", effective: EffectiveService(at: Self.time("2026-11-23T09:15:00.000Z"), basis: .arrivalAtConfirmedAddress, channel: .portal))
        #expect(throws: ServiceViolation.self, "a claim later than the event itself") { try ServiceHistory.checkEffective(rules: Self.rules(), records: [Self.open, arrival, future]) }
        let premature = Self.event(.serviceDeemedEffective, .portal, "2026-11-23T10:00:00.000Z", effective: EffectiveService(at: Self.time("2026-11-23T09:15:00.000Z"), basis: .arrivalAtConfirmedAddress, channel: .portal))
        #expect(throws: ServiceViolation.self) { try ServiceHistory.checkEffective(rules: Self.rules(), records: [Self.open, premature]) }
    }

    @Test("the delivery ladder; a link-only notice is never handover; a read report is not an opening")
    func delivery() throws {
        #expect(try ServiceHistory.deliveryState([Self.open]) == .submitted)
        #expect(try ServiceHistory.deliveryState([Self.open, Self.event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z")]) == .notified)
        #expect(try ServiceHistory.deliveryState([Self.open, Self.event(.contentAccessTracking, .email, "2026-11-23T10:00:00.000Z")]) == .submitted)
        #expect(try ServiceHistory.deliveryState([Self.open, Self.event(.contentAccessTracking, .portal, "2026-11-23T10:00:00.000Z", identified: true)]) == .opened)
        #expect(try ServiceHistory.deliveryState([Self.open, Self.event(.consignmentAcceptance, .portal, "2026-11-23T10:00:00.000Z"), Self.event(.contentConsignment, .portal, "2026-11-23T11:00:00.000Z")]) == .acknowledged)
        let notice = Self.event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z", provider: ProviderEvidence(kind: .smtpReply, report: "250 2.0.0 Ok: queued as 4F1", id: "4F1"))
        let portalHandover = Self.event(.contentHandover, .email, "2026-11-23T11:00:00.000Z", provider: ProviderEvidence(kind: .portalLog, report: "download 200", id: "dl-9"))
        #expect(try ServiceHistory.deliveryState([Self.open, notice, portalHandover]) == .handedOver)
        let sameMessage = Self.event(.contentHandover, .email, "2026-11-23T11:00:00.000Z", provider: ProviderEvidence(kind: .portalLog, report: "link sent", id: "4F1"))
        let transportOnly = Self.event(.contentHandover, .email, "2026-11-23T11:00:00.000Z", provider: ProviderEvidence(kind: .smtpReply, report: "250 ok", id: "other"))
        for claim in [sameMessage, transportOnly] {
            #expect(throws: ServiceViolation.self) { try ServiceHistory.deliveryState([Self.open, notice, claim]) }
        }
        // The same message on another channel, or a notice recorded after the claim, changes nothing.
        let otherChannel = Self.event(.contentHandover, .portal, "2026-11-23T11:00:00.000Z", provider: ProviderEvidence(kind: .smtpReply, report: "250 ok", id: "4F1"))
        #expect(throws: ServiceViolation.self) { try ServiceHistory.deliveryState([Self.open, notice, otherChannel]) }
        #expect(throws: ServiceViolation.self) { try ServiceHistory.deliveryState([Self.open, sameMessage, notice]) }
        // Nor is an authenticated opening proven by a read report after a link-only notice.
        let openedOnMDN = Self.event(.contentAccessTracking, .email, "2026-11-23T11:00:00.000Z", identified: true, provider: ProviderEvidence(kind: .mdn, report: "displayed", id: "m-1"))
        #expect(throws: ServiceViolation.self) { try ServiceHistory.deliveryState([Self.open, notice, openedOnMDN]) }
        let openedInPortal = Self.event(.contentAccessTracking, .email, "2026-11-23T11:00:00.000Z", identified: true, provider: ProviderEvidence(kind: .portalLog, report: "opened", id: "o-1"))
        #expect(try ServiceHistory.deliveryState([Self.open, notice, openedInPortal]) == .opened)
    }

    @Test("the chain: links, order, one service, committed recipients, times")
    func chain() throws {
        func linked(_ records: [ServiceRecord], times: [String]? = nil) -> [ServiceHistory.Event] {
            var events: [ServiceHistory.Event] = []
            for (index, record) in records.enumerated() {
                let previous = events.last?.leafHash
                let fixed = ServiceRecord(event: record.event, serviceID: record.serviceID, caseID: record.caseID, eventTime: record.eventTime, parts: record.parts, recipients: record.recipients, recipient: record.recipient, rules: record.rules, notice: record.notice, identification: record.identification, provider: record.provider, reason: record.reason, effective: record.effective, previous: record.event.opensService ? nil : previous)
                events.append(ServiceHistory.Event(record: fixed, leafHash: [UInt8](repeating: UInt8(index + 1), count: 32), entryTime: times.map { Self.time($0[index]) } ?? record.eventTime + 60_000))
            }
            return events
        }
        let good = linked([Self.open, Self.event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z"), Self.event(.contentConsignment, .portal, "2026-11-23T11:00:00.000Z")])
        try ServiceHistory.checkChain(good)
        var swapped = good
        swapped.swapAt(1, 2)
        var missing = good
        missing.remove(at: 1)
        let afterRejection = linked([Self.event(.submissionRejection, nil, "2026-11-23T00:00:00.000Z"), Self.event(.contentConsignment, .portal, "2026-11-23T11:00:00.000Z")])
        let future = linked([Self.open, Self.event(.contentConsignment, .portal, "2026-11-23T11:00:00.000Z")], times: ["2026-11-23T00:00:00.000Z", "2026-11-23T10:00:00.000Z"])
        let stranger = ServiceRecord(event: .contentConsignment, serviceID: "SVC-1", caseID: "ARB-1", eventTime: Self.time("2026-11-23T11:00:00.000Z"), parts: [Self.part], recipient: RecipientCommitment(channel: .portal, commitment: [UInt8](repeating: 9, count: 32)), previous: good[0].leafHash)
        let other = ServiceRecord(event: .contentConsignment, serviceID: "SVC-2", caseID: "ARB-1", eventTime: Self.time("2026-11-23T11:00:00.000Z"), parts: [Self.part], recipient: Self.commitments[2], previous: good[0].leafHash)
        let noOpening = Array(good.dropFirst())
        // Dated 73 hours before it was recorded: more than a provider's late report.
        let backDated = linked([Self.open, Self.event(.contentConsignment, .portal, "2026-11-23T11:00:00.000Z")], times: ["2026-11-23T00:01:00.000Z", "2026-11-26T12:00:00.001Z"])
        try ServiceHistory.checkChain(linked([Self.open, Self.event(.contentConsignment, .portal, "2026-11-23T11:00:00.000Z")], times: ["2026-11-23T00:01:00.000Z", "2026-11-26T11:00:00.000Z"]))
        for (name, events) in [("swapped", swapped), ("missing", missing), ("after rejection", afterRejection), ("dated after recorded", future), ("no opening", noOpening), ("back-dated", backDated),
                               ("recipient not committed", [good[0], ServiceHistory.Event(record: stranger, leafHash: [7], entryTime: Self.time("2027-01-01T00:00:00.000Z"))]),
                               ("other service", [good[0], ServiceHistory.Event(record: other, leafHash: [7], entryTime: Self.time("2027-01-01T00:00:00.000Z"))])] {
            #expect(throws: ServiceViolation.self, "\(name)") { try ServiceHistory.checkChain(events) }
        }
    }

    @Test("service and award bodies round-trip; each schema violation is refused")
    func bodies() throws {
        let notice = Self.event(.consignmentNotification, .email, "2026-11-23T10:00:00.000Z", provider: ProviderEvidence(kind: .smtpReply, report: "250 ok", id: "Q1"))
        for record in [Self.open, notice, Self.event(.contentConsignmentFailure, .email, "2026-11-23T10:00:00.000Z", reason: .mailboxFull)] {
            #expect(try ServiceRecord(body: record.body) == record)
            #expect(try ServiceRecord(body: record.body).body.canonicalBytes == record.body.canonicalBytes)
        }
        func mutated(_ record: ServiceRecord, _ change: (inout [String: JSONValue]) -> Void) -> JSONValue {
            var members = record.body.objectValue!
            change(&members)
            return .object(members)
        }
        let refused: [(String, JSONValue, RecordError.Code)] = [
            ("unknown event", mutated(notice) { $0["event"] = .string(EventURI.etsiPrefix + "ContentTeleportation") }, .unknownEvent),
            ("Notarium URI of an ETSI event", mutated(notice) { $0["event"] = .string(EventURI.notariumPrefix + "ConsignmentNotification") }, .unknownEvent),
            ("negative event without reason", mutated(Self.event(.contentConsignmentFailure, .email, "2026-11-23T10:00:00.000Z")) { $0["reason"] = nil }, .schema),
            ("reason on a positive event", mutated(notice) { $0["reason"] = .string("mailbox-full") }, .schema),
            ("reason not in the registry", mutated(Self.event(.consignmentRejection, .email, "2026-11-23T10:00:00.000Z")) { $0["reason"] = .string("felt-like-it") }, .schema),
            ("notification without notice", mutated(notice) { $0["notice"] = nil }, .schema),
            ("handover without identification", mutated(Self.event(.contentHandover, .portal, "2026-11-23T10:00:00.000Z")) { $0["identification"] = nil }, .schema),
            ("opening without rules", mutated(Self.open) { $0["rules"] = nil }, .schema),
            ("opening with previous", mutated(Self.open) { $0["previous"] = .string(Base64.encode([UInt8](repeating: 0, count: 32))) }, .schema),
            ("event without previous", mutated(notice) { $0["previous"] = nil }, .schema),
            ("unknown channel", mutated(notice) { $0["channel"] = .string("pigeon") }, .schema),
            ("short commitment", mutated(notice) { $0["recipient"] = .string(Base64.encode([1, 2, 3])) }, .schema),
            ("time without milliseconds", mutated(notice) { $0["eventTime"] = .string("2026-11-23T10:00:00Z") }, .schema),
            ("bad time zone", mutated(Self.open) { members in
                var rules = members["rules"]!.objectValue!
                rules["timeZone"] = .string("Mars/Olympus_Mons")
                members["rules"] = .object(rules)
            }, .schema),
            ("holidays out of order", mutated(Self.open) { members in
                var rules = members["rules"]!.objectValue!
                var calendar = rules["calendar"]!.objectValue!
                calendar["holidays"] = .array([.string("2027-01-01"), .string("2026-12-31")])
                rules["calendar"] = .object(calendar)
                members["rules"] = .object(rules)
            }, .schema),
            ("a date that does not exist", mutated(Self.open) { members in
                var rules = members["rules"]!.objectValue!
                var calendar = rules["calendar"]!.objectValue!
                calendar["holidays"] = .array([.string("2026-02-30")])
                rules["calendar"] = .object(calendar)
                members["rules"] = .object(rules)
            }, .schema),
        ]
        for (name, body, code) in refused {
            #expect(throws: RecordError.self, "\(name)") { try ServiceRecord(body: body) }
            do {
                _ = try ServiceRecord(body: body)
            } catch {
                #expect(error.code == code, "\(name): \(error)")
            }
        }
    }

    @Test("awards: the tribunal's rule, and the schema")
    func awards() throws {
        let document = Self.part.document
        func signature(_ role: AwardRole, _ id: UInt8, _ language: String = "en") -> AwardSignature {
            AwardSignature(role: role, language: language, signed: RecordedSignature(certificate: [0x30, id], signature: [0x30, id, 1]))
        }
        let versions = [AwardVersion(language: "en", authentic: true, document: document), AwardVersion(language: "zh-Hans", authentic: false, document: document)]
        let complete = AwardRecord(awardID: "AW-1", caseID: "ARB-1", issued: "2026-11-20", seat: "Beijing, China", arbitrators: 3, versions: versions,
                                   signatures: [signature(.presidingArbitrator, 1), signature(.arbitrator, 2), signature(.arbitrator, 3), signature(.institutionSeal, 4)])
        #expect(try AwardRecord(body: complete.body) == complete)
        try complete.checkSigners()
        func with(_ signatures: [AwardSignature], arbitrators: Int = 3) -> AwardRecord {
            AwardRecord(awardID: "AW-1", caseID: "ARB-1", issued: "2026-11-20", seat: "Beijing, China", arbitrators: arbitrators, versions: versions, signatures: signatures)
        }
        let broken: [(String, AwardRecord)] = [
            ("an arbitrator missing", with([signature(.presidingArbitrator, 1), signature(.arbitrator, 2), signature(.institutionSeal, 4)])),
            ("no seal", with([signature(.presidingArbitrator, 1), signature(.arbitrator, 2), signature(.arbitrator, 3)])),
            ("two seals", with([signature(.arbitrator, 1), signature(.institutionSeal, 4), signature(.institutionSeal, 5)], arbitrators: 1)),
            ("one certificate twice", with([signature(.arbitrator, 1), signature(.arbitrator, 1), signature(.arbitrator, 3), signature(.institutionSeal, 4)])),
            ("two presiding", with([signature(.presidingArbitrator, 1), signature(.presidingArbitrator, 2), signature(.arbitrator, 3), signature(.institutionSeal, 4)])),
            ("signed on the translation only", with([signature(.arbitrator, 1, "zh-Hans"), signature(.institutionSeal, 4)], arbitrators: 1)),
            ("sealed with an arbitrator's certificate", with([signature(.arbitrator, 1), signature(.institutionSeal, 1)], arbitrators: 1)),
        ]
        // Two authentic versions: the same tribunal must sign both.
        let bilingual = [AwardVersion(language: "en", authentic: true, document: document), AwardVersion(language: "zh-Hans", authentic: true, document: document)]
        let same = AwardRecord(awardID: "AW-2", caseID: "ARB-1", issued: "2026-11-20", seat: "Beijing, China", arbitrators: 1, versions: bilingual,
                               signatures: [signature(.arbitrator, 1), signature(.institutionSeal, 4), signature(.arbitrator, 1, "zh-Hans"), signature(.institutionSeal, 4, "zh-Hans")])
        try same.checkSigners()
        let swapped = AwardRecord(awardID: "AW-2", caseID: "ARB-1", issued: "2026-11-20", seat: "Beijing, China", arbitrators: 1, versions: bilingual,
                                  signatures: [signature(.arbitrator, 1), signature(.institutionSeal, 4), signature(.arbitrator, 2, "zh-Hans"), signature(.institutionSeal, 4, "zh-Hans")])
        #expect(throws: RecordError.self, "another arbitrator on the second authentic version") { try swapped.checkSigners() }
        // One key certified twice is one signer, whatever its certificates' bytes.
        let key = try PrivateKey.generate(.ecdsaP256)
        let name = try DistinguishedName(parsing: "CN=Arbitrator One")
        let twice = try [1, 2].map { serial in
            try CertificateBuilder.build(serial: [UInt8(serial)], subject: name, publicKey: key.publicKey, notBefore: 0, notAfter: 86_400, extensions: [], issuer: nil, signingKey: key).derBytes
        }
        #expect(twice[0] != twice[1])
        let oneKey = AwardRecord(awardID: "AW-3", caseID: "ARB-1", issued: "2026-11-20", seat: "Beijing, China", arbitrators: 2, versions: versions, signatures: [
            AwardSignature(role: .presidingArbitrator, language: "en", signed: RecordedSignature(certificate: twice[0], signature: [0x30])),
            AwardSignature(role: .arbitrator, language: "en", signed: RecordedSignature(certificate: twice[1], signature: [0x30])),
            signature(.institutionSeal, 9),
        ])
        #expect(throws: RecordError.self, "two arbitrators with one key") { try oneKey.checkSigners() }
        for (name, award) in broken {
            #expect(throws: RecordError.self, "\(name)") { try award.checkSigners() }
        }
        func mutated(_ change: (inout [String: JSONValue]) -> Void) -> JSONValue {
            var members = complete.body.objectValue!
            change(&members)
            return .object(members)
        }
        let refused: [(String, JSONValue)] = [
            ("wrong event", mutated { $0["event"] = .string(EventURI.evidenceDeposit) }),
            ("no authentic version", mutated { members in
                members["versions"] = .array(members["versions"]!.arrayValue!.map { version in
                    var fields = version.objectValue!
                    fields["authentic"] = .bool(false)
                    return .object(fields)
                })
            }),
            ("a signature on a language with no version", mutated { members in
                var signatures = members["signatures"]!.arrayValue!
                var first = signatures[0].objectValue!
                first["language"] = .string("fr")
                signatures[0] = .object(first)
                members["signatures"] = .array(signatures)
            }),
            ("unknown role", mutated { members in
                var signatures = members["signatures"]!.arrayValue!
                var first = signatures[0].objectValue!
                first["role"] = .string("secretary")
                signatures[0] = .object(first)
                members["signatures"] = .array(signatures)
            }),
            ("bad date", mutated { $0["issued"] = .string("20.11.2026") }),
            ("no arbitrators", mutated { $0["arbitrators"] = .integer(0) }),
            ("one language twice, in two spellings", mutated { members in
                var versions = members["versions"]!.arrayValue!
                var second = versions[1].objectValue!
                second["language"] = .string("EN")
                versions[1] = .object(second)
                members["versions"] = .array(versions)
            }),
            ("bad language tag", mutated { members in
                var versions = members["versions"]!.arrayValue!
                var first = versions[0].objectValue!
                first["language"] = .string("english")
                versions[0] = .object(first)
                members["versions"] = .array(versions)
            }),
        ]
        for (name, body) in refused {
            #expect(throws: RecordError.self, "\(name)") { try AwardRecord(body: body) }
        }
    }
}
