import Foundation
import Ledger
import OpenSSLKit
import Records

extension VerificationRun {
    // MARK: - Service

    /// The service's own rules, after each event's inclusion and token: the chain, the highest
    /// delivery state proven, and the effective-service time recomputed from the rules that the
    /// opening recorded (docs/verification.md §3.12–3.14).
    mutating func verifyService(_ events: [ServiceHistory.Event], document: Verifier.DocumentDigests?, embedded: [[UInt8]]) {
        let opening = events[0].record
        report.facts.append(Fact("case", opening.caseID))
        report.facts.append(Fact("service", opening.serviceID))
        for part in opening.parts {
            report.facts.append(Fact("part", "\(part.name) · \(part.document.mediaType) · \(part.document.size) · sha-256 \(lowerHex(part.document.sha256))"))
        }
        report.facts.append(Fact("channels", opening.recipients.map(\.channel.rawValue).joined(separator: ", ")))
        for (index, event) in events.enumerated() {
            var line = "\(index + 1). \(event.record.event.rawValue) · \(LedgerTime.format(milliseconds: event.record.eventTime))"
            if let channel = event.record.channel { line += " · \(channel.rawValue)" }
            if let reason = event.record.reason { line += " · \(reason.rawValue)" }
            if let notice = event.record.notice { line += " · \(notice.rawValue)" }
            if let identification = event.record.identification { line += " · \(identification.method.rawValue)" }
            report.facts.append(Fact("event", line))
        }
        verifyDocuments(documentsAtHand(document, embedded), against: opening.parts.map(\.document), noneMessage: "msg.document.no-part")

        let subject = "service \(opening.serviceID)"
        do {
            try ServiceHistory.checkChain(events)
            add(CheckResult("service.chain", subject, .passed, message: "msg.service.chain-ok", [String(events.count)]))
        } catch {
            add(CheckResult("service.chain", subject, .failed, subIndication: "FORMAT_FAILURE", message: "msg.service.chain-bad", detail: error.reason))
            // Without a sound chain, what the events prove together means nothing.
            return
        }
        let records = events.map(\.record)
        do {
            let state = try ServiceHistory.deliveryState(records)
            report.facts.append(Fact("delivery-state", state?.name ?? "none"))
            add(CheckResult("service.delivery", subject, .passed, message: "msg.service.delivery-ok", [state?.name ?? "none"]))
        } catch {
            add(CheckResult("service.delivery", subject, .failed, subIndication: "FORMAT_FAILURE", message: "msg.service.delivery-bad", detail: error.reason))
        }
        guard let rules = opening.rules else { return }
        report.facts.append(Fact("rules", "\(rules.timeZone) · calendar \(rules.calendar.id) \(rules.calendar.version) · tzdata \(TimeZone.timeZoneDataVersion)"))
        do {
            if let effective = try ServiceHistory.checkEffective(rules: rules, records: records) {
                let local = localTime(effective.at, rules.timeZone)
                report.facts.append(Fact("effective-at", "\(LedgerTime.format(milliseconds: effective.at)) (\(local))"))
                report.facts.append(Fact("effective-basis", "\(effective.basis.rawValue) · \(effective.channel.rawValue)\(effective.rebuttable ? " · rebuttable" : "")"))
                add(CheckResult("service.effective", subject, .passed, message: effective.rebuttable ? "msg.service.effective-presumed" : "msg.service.effective-ok", [LedgerTime.format(milliseconds: effective.at), effective.basis.rawValue]))
            } else {
                report.facts.append(Fact("effective-at", "—"))
                add(CheckResult("service.effective", subject, .passed, message: "msg.service.not-effective"))
            }
        } catch {
            add(CheckResult("service.effective", subject, .failed, subIndication: "FORMAT_FAILURE", message: "msg.service.effective-bad", detail: error.reason))
        }
    }

    func localTime(_ milliseconds: Int64, _ zone: String) -> String {
        guard let timeZone = TimeZone(identifier: zone) else { return zone }
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?) -> String { let text = String(value ?? 0); return text.count < 2 ? "0" + text : text }
        return "\(parts.year ?? 0)-\(pad(parts.month))-\(pad(parts.day)) \(pad(parts.hour)):\(pad(parts.minute)):\(pad(parts.second)) \(zone)"
    }

    /// The documents to compare: the one given and each embedded one.
    func documentsAtHand(_ document: Verifier.DocumentDigests?, _ embedded: [[UInt8]]) -> [Verifier.DocumentDigests] {
        (document.map { [$0] } ?? []) + embedded.enumerated().map { index, bytes in
            Verifier.DocumentDigests(digests: NamedDigest.compute(bytes: bytes).digests, origin: "embedded #\(index + 1)")
        }
    }

    /// Each document at hand against the one of `descriptions` with its SHA-256 (a part served,
    /// a language version); one that is none of them fails with `noneMessage`.
    mutating func verifyDocuments(_ given: [Verifier.DocumentDigests], against descriptions: [DocumentDescription], noneMessage: String) {
        if given.isEmpty { add(CheckResult("document.digest", "document", .skipped, message: "msg.document.none")) }
        for document in given {
            guard let sha256 = document.digests.first(where: { $0.algorithm == .sha256 }),
                  let description = descriptions.first(where: { $0.digests.contains(sha256) }) else {
                add(CheckResult("document.digest", "document (\(document.origin))", .failed, subIndication: "HASH_FAILURE", message: noneMessage))
                continue
            }
            verifyDocument(document, against: description)
        }
    }

    // MARK: - Award

    /// The award: every signature over its language version and its signer's path at the
    /// proven time, then the tribunal's rule (every arbitrator and the seal on every authentic
    /// version).
    mutating func verifyAward(entry: LedgerEntry, _ award: AwardRecord, provenTime: Int64?, document: Verifier.DocumentDigests?, embedded: [[UInt8]]) {
        report.facts.append(Fact("case", award.caseID))
        report.facts.append(Fact("award", award.awardID))
        report.facts.append(Fact("award-issued", award.issued))
        report.facts.append(Fact("seat", award.seat))
        report.facts.append(Fact("tribunal", String(award.arbitrators)))
        for version in award.versions {
            report.facts.append(Fact("version", "\(version.language)\(version.authentic ? " (authentic)" : "") · \(version.document.mediaType) · \(version.document.size) · sha-256 \(lowerHex(version.document.sha256))"))
        }
        verifyDocuments(documentsAtHand(document, embedded), against: award.versions.map(\.document), noneMessage: "msg.document.no-version")
        var counters: [AwardRole: Int] = [:]
        for signature in award.signatures {
            counters[signature.role, default: 0] += 1
            let role = "\(signature.role.rawValue) \(counters[signature.role]!) (\(signature.language))"
            let version = award.versions.first { $0.language == signature.language }!
            verifySignature(signature.signed, role: role, document: version.document, provenTime: provenTime)
        }
        do {
            try award.checkSigners()
            add(CheckResult("award.signers", "award \(award.awardID)", .passed, message: "msg.award.signers-ok", [String(award.arbitrators)]))
        } catch {
            add(CheckResult("award.signers", "award \(award.awardID)", .failed, subIndication: "FORMAT_FAILURE", message: "msg.award.signers-bad", detail: error.reason))
        }
    }
}
