import CanonicalJSON
import DeliveryTransport
import Foundation
import Ledger
import Notary
import OpenSSLKit
import Records
import RocksDBStore
import Sodium

/// The SMS channel (docs/delivery.md §11): a notice is handed to the gateway, and only the
/// gateway's delivery report, posted back signed, says whether it reached the handset. So the
/// notice is recorded when the report comes: `delivered` as the ConsignmentNotification on `sms`
/// (provider `sms-report`, the report verbatim), `failed`, `expired` or `rejected` as its failure
/// with the next channel queued; no report within `reportWaitMilliseconds` as `unreachable`.
extension Delivery {
    static func smsKey(_ gatewayID: String) -> [UInt8] { Array("smsid/".utf8) + Array(gatewayID.utf8) }

    func sendSMS(_ item: Outbox.Item, settings: SMSSettings) async throws(DeliveryError) {
        let (plan, _, opening, address) = try prepare(item)
        let sending = try markSending(item)
        let language = templates.language(for: plan.languages)
        let text = templates.render(item.kind == .reminder ? "reminder-sms" : "sms-notice", language: language, values: try noticeValues(item, plan: plan, opening: opening))
        let outcome: Result<SMSSubmission, SMSError>
        do {
            // The item's id is the gateway's reference: a resend after a crash is one message.
            outcome = .success(try await SMSClient.send(to: address, text: text, reference: item.id, callbackURL: settings.callbackURL ?? portalBase().map { $0 + "/delivery/sms/reports" }, via: settings.gateway))
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success(let submission):
            var sent = sending
            sent.state = .sent
            sent.evidenceID = submission.gatewayID
            sent.next = clock() + settings.reportWaitMilliseconds
            sent.lastError = nil
            var batch = WriteBatch()
            batch.put(Self.smsKey(submission.gatewayID), Array(item.id.utf8), in: outbox.column)
            try outbox.update(sending, to: sent, with: batch)
            logger.info("delivery: SMS taken by the gateway; waiting for its delivery report", metadata: ["item": "\(item.id)", "gateway-id": "\(submission.gatewayID)"])
        case .failure(let error) where error.isRecipientFailure:
            let report = Notary.ServiceEventReport(
                event: .consignmentNotificationFailure, channel: .sms, eventTime: clock(),
                provider: ProviderEvidence(kind: .smsReport, report: String(error.detail.prefix(4000)), id: item.id), reason: Self.reason(forGatewayError: error.gatewayErrorCode))
            try await record(report, finishing: sending, as: .failed, lastError: error.description, fallback: try fallback(after: item), log: "SMS refused by the gateway for its number")
        case .failure(let error):
            // The appliance's or the gateway's failure: retried, never the recipient's.
            var retry = sending
            retry.state = .pending
            retry.lastError = error.description
            if error.code == .unauthorized || error.code == .invalidGatewayURL { retry.next = clock() + Self.longestRetryMilliseconds }
            try outbox.update(sending, to: retry)
            retryCounter.increment()
            logger.notice("delivery: SMS not sent, will retry", metadata: ["item": "\(item.id)", "attempt": "\(sending.attempts)", "error": "\(error)"])
        }
    }

    /// No delivery report came for a message the gateway took: it is recorded as not delivered.
    func reportMissing(_ item: Outbox.Item) async throws(DeliveryError) {
        let hours = (sms?.reportWaitMilliseconds ?? 0) / 3_600_000
        let report = Notary.ServiceEventReport(
            event: .consignmentNotificationFailure, channel: .sms, eventTime: clock(),
            provider: ProviderEvidence(kind: .smsReport, report: "no delivery report from the gateway within \(hours) hours of its acceptance", id: item.evidenceID),
            reason: .unreachable)
        try await record(report, finishing: item, as: .failed, lastError: "no delivery report", evidenceID: item.evidenceID, fallback: try fallback(after: item),
                         log: "SMS without a delivery report; recorded as not delivered")
    }

    /// What a signed delivery report did.
    public enum SMSReportOutcome: Sendable, Equatable {
        case recorded(seq: UInt64)
        /// The message's outcome was recorded already (a repeated report): nothing more.
        case alreadyRecorded
        /// An interim status (`accepted`, `buffered`): nothing to record yet.
        case interim
    }

    /// A delivery report as the gateway posted it: `body` must carry a valid HMAC-SHA-256 under
    /// the report secret in `signature` (`sha256=<hex>`), and be
    /// `{"id","status","at"[,"reference","error"]}` with `at` in RFC 3339 UTC.
    public func smsReport(body: [UInt8], signature: String?) async throws(DeliveryError) -> SMSReportOutcome {
        guard let sms else { throw DeliveryError(.unknownMessage, "this appliance sends no SMS (delivery.sms.gateway-url)") }
        guard let signature, signature.hasPrefix("sha256="),
              HMACSHA256.isValid(mac: Self.macBytes(String(signature.dropFirst(7)).lowercased()), of: body, key: sms.reportSecret) else {
            logger.warning("delivery: an SMS delivery report with a missing or wrong signature; refused")
            throw DeliveryError(.invalidReport, "the report's X-Notarium-Signature is missing or is not the HMAC-SHA-256 of the body under the report secret")
        }
        guard let value = try? CanonicalJSON.parse(body), case .object(let members) = value,
              case .string(let id)? = members["id"], !id.isEmpty, id.utf8.count <= 256, case .string(let status)? = members["status"],
              case .string(let at)? = members["at"], let reported = LedgerTime.parse(at) else {
            throw DeliveryError(.malformedReport, "a delivery report is {\"id\",\"status\",\"at\"} with \"at\" an RFC 3339 UTC time with milliseconds (YYYY-MM-DDTHH:MM:SS.mmmZ), as every time the appliance reads")
        }
        let itemID: [UInt8]?
        do {
            itemID = try outbox.database.get(Self.smsKey(id), in: outbox.column)
        } catch {
            throw DeliveryError(.storage, "cannot read the outbox: \(error)")
        }
        guard let itemID, let listed = try outbox.item(String(decoding: itemID, as: UTF8.self)) else {
            throw DeliveryError(.unknownMessage, "no SMS of this appliance has the gateway id \(id)")
        }
        smsReportCounter.increment()
        // In the service's turn, so that a repeated report, or the wait for one ending, cannot
        // record a second outcome for the same message.
        return try await services.run(listed.service) { () async throws(DeliveryError) -> SMSReportOutcome in
            guard let item = try self.outbox.item(listed.id) else { throw DeliveryError(.unknownMessage, "no SMS of this appliance has the gateway id \(id)") }
            return try await self.recordReport(item, members: members, id: id, status: status, reported: reported, body: body)
        }
    }

    func recordReport(_ item: Outbox.Item, members: [String: JSONValue], id: String, status: String, reported: Int64, body: [UInt8]) async throws(DeliveryError) -> SMSReportOutcome {
        // The reference, when the report gives it, must be the message's own (the item's id).
        if case .string(let reference)? = members["reference"], reference != item.id {
            throw DeliveryError(.malformedReport, "the report's reference \(reference) is not the message's; the gateway mixed up its reports")
        }
        guard item.state == .sent else { return .alreadyRecorded }
        let (plan, history, _, _) = try prepare(item)
        // A handset's time as the gateway reports it, never later than now.
        let eventTime = min(reported, clock())
        // Only what the report says of the message, re-encoded: gateways also put the
        // recipient's number in their reports, and that stays out of the ledger.
        var kept: [String: JSONValue] = ["id": .string(id), "status": .string(status), "at": .string(LedgerTime.format(milliseconds: reported))]
        if case .string(let error)? = members["error"] { kept["error"] = .string(String(error.prefix(200))) }
        let text = JSONValue.object(kept).canonicalString
        let outcome: Recorded
        switch status {
        case "delivered":
            let report = Notary.ServiceEventReport(event: .consignmentNotification, channel: .sms, eventTime: eventTime, notice: .linkOnly,
                                                   provider: ProviderEvidence(kind: .smsReport, report: text, id: id))
            outcome = try await recordOutcome(report, finishing: item, as: .done, extra: try noticeFollowUps(item, at: eventTime, plan: plan, history: history))
        case "failed", "expired", "rejected", "undeliverable":
            let error: String? = if case .string(let code)? = members["error"] { code } else { nil }
            let report = Notary.ServiceEventReport(event: .consignmentNotificationFailure, channel: .sms, eventTime: eventTime,
                                                   provider: ProviderEvidence(kind: .smsReport, report: text, id: id),
                                                   reason: status == "expired" ? .unreachable : Self.reason(forGatewayError: error))
            outcome = try await recordOutcome(report, finishing: item, as: .failed, fallback: try fallback(after: item))
        default:
            return .interim
        }
        switch outcome {
        case .recorded(let receipt):
            logger.info("delivery: an SMS delivery report recorded", metadata: ["item": "\(item.id)", "status": "\(status)", "seq": "\(receipt.seq)"])
            return .recorded(seq: receipt.seq)
        case .refused(let error):
            throw DeliveryError(error)
        }
    }

    /// The gateway's error code → the reason recorded.
    public static func reason(forGatewayError code: String?) -> ReasonCode {
        switch code {
        case "unallocated", "unknown-subscriber", "absent-subscriber": .addressUnknown
        case "invalid-number": .addressInvalid
        case "blocked", "spam": .contentRefused
        default: .providerError
        }
    }

    // MARK: - After a notice

    /// The writes that follow a channel's notice, in its own batch: the window its first
    /// standing notice opens (its deadline job), and the plan's reminders.
    func noticeFollowUps(_ item: Outbox.Item, at eventTime: Int64, plan: DeliveryPlan, history: [ServiceHistory.Event]) throws(DeliveryError) -> WriteBatch {
        var batch = WriteBatch()
        if let window = try deadline(afterNoticeOn: item.channel, at: eventTime, service: item.service, history: history) {
            batch.append(contentsOf: outbox.schedule(window))
        }
        if item.kind == .notice {
            for (index, days) in plan.reminders.enumerated() {
                let id = Self.itemID(item.service, item.channel, .reminder) + "-\(index + 1)"
                batch.append(contentsOf: outbox.enqueue(Outbox.Item(id: id, service: item.service, channel: item.channel, kind: .reminder, next: eventTime + Int64(days) * 86_400_000)))
            }
        }
        return batch
    }

    /// Why a due reminder is not to be sent, or nil: the recipient has identified, answered,
    /// or service is already effective or its window closed; or the channel's notice failed.
    func reminderNotNeeded(_ item: Outbox.Item) throws(DeliveryError) -> String? {
        let records: [ServiceRecord]
        do {
            records = try notary.serviceHistory(item.service).map(\.record)
        } catch {
            throw DeliveryError(error)
        }
        if records.contains(where: { $0.event == .contentAccessTracking && $0.identification != nil }) { return "the recipient has identified on the portal" }
        if records.contains(where: { [.consignmentAcceptance, .consignmentRejection].contains($0.event) }) { return "the recipient has answered" }
        if records.contains(where: { [.serviceDeemedEffective, .acceptanceRejectionExpiry].contains($0.event) }) { return "the window is closed" }
        if ServiceHistory.standingNotice(on: item.channel, in: records) == nil { return "the notice on \(item.channel.rawValue) failed" }
        return nil
    }

    /// A file name for a part: its name with the extension of its media type.
    public static func downloadName(_ part: ServicePart) -> String {
        let extensions = [
            "application/pdf": "pdf", "text/plain": "txt", "image/png": "png", "image/jpeg": "jpg", "application/zip": "zip",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx", "application/xml": "xml", "application/json": "json",
        ]
        guard let suffix = extensions[part.document.mediaType.lowercased()], !part.name.lowercased().hasSuffix("." + suffix) else { return part.name }
        return part.name + "." + suffix
    }
}
