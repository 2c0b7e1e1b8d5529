import CanonicalJSON
import Foundation
import Ledger
import Notary
import Records
import RocksDBStore

/// The deadlines a service's rules set, kept durably until they pass, so that a window that
/// ends while the appliance is stopped or after it crashed is still closed, once, when it runs
/// again (docs/delivery.md §8).
///
/// In the `delivery` column family:
/// - `job/<service>|<channel>|<kind>` → the job (canonical JSON);
/// - `jobdue/<due, 8 bytes big-endian ms>/<job id>` → empty.
///
/// A job is written in the batch of the event that sets its deadline (the first notice on a
/// channel that opens a window), deleted in the batch of the event that closes it, or of a
/// bounce that undoes its notice. So a deadline exists exactly when its trigger is recorded, and
/// is acted on exactly once.
public struct ServiceDeadline: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// An acceptance window ends: record AcceptanceRejectionExpiry, then service is deemed.
        case acceptanceExpiry = "acceptance-expiry"
        /// Service is deemed effective (a registration window ended, or an acceptance window
        /// was closed): record ServiceDeemedEffective with the time the rules give.
        case deemedService = "deemed-service"
    }

    public let service: String
    public let channel: ServiceChannel
    public let kind: Kind
    /// UTC ms: the window's end (docs/records.md §2.4.2), or when to act.
    public let due: Int64

    public var id: String { "\(service)|\(channel.rawValue)|\(kind.rawValue)" }

    public init(service: String, channel: ServiceChannel, kind: Kind, due: Int64) {
        self.service = service
        self.channel = channel
        self.kind = kind
        self.due = due
    }

    var json: JSONValue {
        .object(["service": .string(service), "channel": .string(channel.rawValue), "kind": .string(kind.rawValue), "due": .integer(due)])
    }

    init(json bytes: [UInt8]) throws(DeliveryError) {
        guard let value = try? CanonicalJSON.parse(bytes), case .object(let members) = value,
              case .string(let service)? = members["service"], case .string(let channelName)? = members["channel"],
              let channel = ServiceChannel(rawValue: channelName), case .string(let kindName)? = members["kind"],
              let kind = Kind(rawValue: kindName), case .integer(let due)? = members["due"]
        else { throw DeliveryError(.storage, "a deadline job is unreadable") }
        self.init(service: service, channel: channel, kind: kind, due: due)
    }
}

extension Outbox {
    static func jobKey(_ id: String) -> [UInt8] { Array("job/".utf8) + Array(id.utf8) }
    static func jobDueKey(_ due: Int64, _ id: String) -> [UInt8] { timeKey("jobdue/", due, id) }

    func schedule(_ job: ServiceDeadline) -> WriteBatch {
        var batch = WriteBatch()
        batch.put(Self.jobKey(job.id), job.json.canonicalBytes, in: column)
        batch.put(Self.jobDueKey(job.due, job.id), [], in: column)
        return batch
    }

    func cancel(_ job: ServiceDeadline) -> WriteBatch {
        var batch = WriteBatch()
        batch.delete(Self.jobKey(job.id), in: column)
        batch.delete(Self.jobDueKey(job.due, job.id), in: column)
        return batch
    }

    func job(_ id: String) throws(DeliveryError) -> ServiceDeadline? {
        do {
            return try database.get(Self.jobKey(id), in: column).map { bytes throws(DeliveryError) in try ServiceDeadline(json: bytes) }
        } catch let error as DeliveryError {
            throw error
        } catch {
            throw DeliveryError(.storage, "cannot read deadline \(id): \(error)")
        }
    }

    /// Every pending deadline of `service`.
    public func deadlines(service: String) throws(DeliveryError) -> [ServiceDeadline] {
        try values(under: Self.jobKey(service + "|")) { bytes throws(DeliveryError) in try ServiceDeadline(json: bytes) }
    }

    func dueDeadlines(at now: Int64, limit: Int = 64) throws(DeliveryError) -> [ServiceDeadline] {
        var jobs: [ServiceDeadline] = []
        for entry in try timeIndex("jobdue/", through: now, limit: limit) {
            if let job = try job(entry.id) { jobs.append(job) }
        }
        return jobs
    }
}

extension Delivery {
    /// The deadline a notice on `channel` recorded at `eventTime` sets, if it is the first
    /// notice there that stands and the rules open a window on the channel.
    func deadline(afterNoticeOn channel: ServiceChannel, at eventTime: Int64, service: String, history: [ServiceHistory.Event]) throws(DeliveryError) -> ServiceDeadline? {
        guard let rules = history.first?.record.rules else { return nil }
        let records = history.map(\.record)
        // Only the first notice on a channel that did not fail opens its window (records.md §2.4.2).
        if ServiceHistory.standingNotice(on: channel, in: records) != nil { return nil }
        if rules.registrationChannels.contains(channel) {
            guard let days = rules.registrationWindowDays else { return nil }
            return ServiceDeadline(service: service, channel: channel, kind: .deemedService, due: rules.deadline(trigger: eventTime, days: days).end)
        }
        guard let days = rules.acceptanceWindowDays else { return nil }
        return ServiceDeadline(service: service, channel: channel, kind: .acceptanceExpiry, due: rules.deadline(trigger: eventTime, days: days).end)
    }

    /// Acts on every deadline that has passed; returns how many it recorded an event for.
    /// A job that acts schedules its follow-up due at once (an expiry, then the deemed
    /// service), so passes repeat while they find work, a few times at most.
    @discardableResult
    public func runDeadlines() async -> Int {
        var recorded = 0
        for _ in 0..<4 {
            let due: [ServiceDeadline]
            do {
                due = try outbox.dueDeadlines(at: clock())
            } catch {
                logger.error("delivery: cannot read the deadlines", metadata: ["error": "\(error)"])
                return recorded
            }
            var acted = false
            for job in due {
                do {
                    // In the service's turn, beside the portal's answers and the reports.
                    if try await services.run(job.service, { () async throws(DeliveryError) -> Bool in try await self.act(on: job) }) { recorded += 1 }
                    acted = true
                } catch {
                    logger.error("delivery: a deadline could not be acted on; it stays due", metadata: ["job": "\(job.id)", "error": "\(error)"])
                }
            }
            if !acted { break }
        }
        return recorded
    }

    /// Records what `job`'s passing means, with the job deleted (and any follow-up scheduled)
    /// in the event's own batch; or deletes it alone when there is nothing to record.
    func act(on job: ServiceDeadline) async throws(DeliveryError) -> Bool {
        let history: [ServiceHistory.Event]
        do {
            history = try notary.serviceHistory(job.service)
        } catch {
            throw DeliveryError(error)
        }
        let records = history.map(\.record)
        let outbox = self.outbox
        let now = clock()
        let report: Notary.ServiceEventReport
        var followUp: ServiceDeadline?
        switch job.kind {
        case .acceptanceExpiry:
            // Only an answer within the window closes it (records.md §2.4.2); a later one does
            // not undo the expiry. An answer on any channel counts: a recipient notified by
            // e-mail answers on the portal.
            let answered = records.contains { [.consignmentAcceptance, .consignmentRejection].contains($0.event) && $0.eventTime < job.due }
            let closed = records.contains { $0.event == .acceptanceRejectionExpiry && ($0.channel?.rawValue ?? "") == job.channel.rawValue }
            if answered || closed {
                try drop(job, because: answered ? "the recipient answered within the window" : "the window was closed already")
                return false
            }
            // Dated now, which is the window's end or later (a late run still closes it).
            report = Notary.ServiceEventReport(event: .acceptanceRejectionExpiry, channel: job.channel, eventTime: max(now, job.due))
            followUp = ServiceDeadline(service: job.service, channel: job.channel, kind: .deemedService, due: max(now, job.due))
        case .deemedService:
            if records.contains(where: { $0.event == .serviceDeemedEffective }) {
                try drop(job, because: "service is already recorded as effective")
                return false
            }
            report = Notary.ServiceEventReport(event: .serviceDeemedEffective, channel: job.channel, eventTime: max(now, job.due))
        }
        let next = followUp
        let alongside: @Sendable (UInt64) -> WriteBatch = { _ in
            var batch = outbox.cancel(job)
            if let next { batch.append(contentsOf: outbox.schedule(next)) }
            return batch
        }
        switch try await recordEvent(report, service: job.service, alongside: alongside) {
        case .recorded(let receipt):
            deadlineCounter.increment()
            logger.info("delivery: a deadline passed and was recorded", metadata: ["job": "\(job.id)", "seq": "\(receipt.seq)", "event": "\(report.event.rawValue)"])
            return true
        case .refused(let error):
            // The rules say otherwise (nothing makes service effective yet, a bounce undid the
            // notice): the deadline means nothing to record.
            try drop(job, because: "the notary refused \(report.event.rawValue): \(error)")
            return false
        }
    }

    func drop(_ job: ServiceDeadline, because reason: String) throws(DeliveryError) {
        do {
            try outbox.database.write(outbox.cancel(job), durability: .synced)
        } catch {
            throw DeliveryError(.storage, "cannot delete deadline \(job.id): \(error)")
        }
        logger.info("delivery: a deadline needs no event", metadata: ["job": "\(job.id)", "reason": "\(reason)"])
    }
}
