import ArgumentParser
import CanonicalJSON
import Foundation
import Ledger
import Notary
import OpenSSLKit
import Records

/// `notarium service …`: electronic service, one event at a time (docs/records.md §2).
struct ServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "Electronic service: open a service and record its events (ETSI EN 319 522 vocabulary).",
        subcommands: [ServiceOpenCommand.self, ServiceRecordCommand.self, ServiceDiscloseCommand.self, ServiceEraseCommand.self])
}

/// Provider evidence options shared by `open` and `record`.
struct ProviderOptions: ParsableArguments {
    @Option(name: .customLong("provider-kind"), help: ArgumentHelp("What the provider's report is: \(ProviderEvidenceKind.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "kind"))
    var kind: String?

    @Option(name: .customLong("provider-report"), help: ArgumentHelp("The provider's report, verbatim (e.g. the SMTP server's reply line).", valueName: "text"))
    var report: String?

    @Option(name: .customLong("provider-id"), help: ArgumentHelp("The provider's message identifier (SMTP queue id, gateway id).", valueName: "id"))
    var id: String?

    func evidence() throws -> ProviderEvidence? {
        guard kind != nil || report != nil || id != nil else { return nil }
        guard let kindName = kind, let kind = ProviderEvidenceKind(rawValue: kindName), let report else {
            throw CLIFailure("invalid-provider-evidence", "provider evidence needs --provider-kind (\(ProviderEvidenceKind.allCases.map(\.rawValue).joined(separator: ", "))) and --provider-report", status: NotariumExit.usage)
        }
        return ProviderEvidence(kind: kind, report: report, id: id)
    }
}

/// Reads an event time: RFC 3339 UTC, with or without milliseconds.
func parseEventTime(_ text: String?) throws -> Int64? {
    guard let text else { return nil }
    if let time = LedgerTime.parse(text) { return time }
    if text.hasSuffix("Z"), let time = LedgerTime.parse(String(text.dropLast()) + ".000Z") { return time }
    throw CLIFailure("invalid-time", "\"\(text)\" is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SS[.mmm]Z)", status: NotariumExit.usage)
}

func checkedIdentifier(_ text: String, _ what: String) throws -> String {
    guard Field.isIdentifier(text) else {
        throw CLIFailure("invalid-\(what)", "\"\(text)\" is not a \(what) identifier (1–128 of A–Z a–z 0–9 . _ : / -, starting with a letter or digit)", status: NotariumExit.usage)
    }
    return text
}

/// Splits `NAME=VALUE`.
func pair(_ text: String, _ option: String) throws -> (String, String) {
    guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
        throw CLIFailure("invalid-argument", "\(option) takes NAME=VALUE, not \"\(text)\"", status: NotariumExit.usage)
    }
    return (String(text[..<equals]), String(text[text.index(after: equals)...]))
}

/// The digests of a file as a record describes it.
func checkedMediaType(_ mediaType: String) throws -> String {
    do {
        return try Field.mediaType(.string(mediaType), at: "--media-type")
    } catch {
        throw CLIFailure("invalid-media-type", error.reason, status: NotariumExit.usage)
    }
}

/// The digests of a file as a record describes it, streamed (the file is never in memory).
func describe(file: String, mediaType: String) throws -> DocumentDescription {
    let type = try checkedMediaType(mediaType)
    do {
        let measured = try NamedDigest.compute(file: file)
        return DocumentDescription(digests: measured.digests, size: measured.size, mediaType: type)
    } catch {
        throw CLIFailure("unreadable-file", "\(file): \(error.reason)", status: NotariumExit.usage)
    }
}

func printReceipt(_ receipt: AppendReceipt, _ extra: [String: JSONValue]) {
    var members = extra
    members["seq"] = .integer(Int64(receipt.seq))
    members["leafHash"] = .string(Base64.encode(receipt.leafHash))
    members["time"] = .string(receipt.time)
    printJSON(.object(members))
}

struct ServiceOpenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open a service: record SubmissionAcceptance with the documents, recipients and the case's rules (notariumd stopped).",
        discussion: """
            The recipients' addresses are kept in an erasable store, never in the ledger: the \
            ledger holds a salted SHA-256 commitment per channel. --rules is the case's \
            effective-service rule set (JSON, docs/records.md §2.4); it is recorded in this first \
            event and governs the whole service. With --rejected REASON the provider refused the \
            submission: SubmissionRejection is recorded and the service ends there.
            """)

    @Option(name: .customLong("service"), help: ArgumentHelp("Service identifier (public: no names).", valueName: "id"))
    var serviceID: String

    @Option(name: .customLong("case"), help: ArgumentHelp("Case identifier.", valueName: "id"))
    var caseID: String

    @Option(help: ArgumentHelp("A document served: NAME=FILE (repeat for each part).", valueName: "name=file"))
    var part: [String] = []

    @Option(name: .customLong("part-type"), help: ArgumentHelp("A part's media type: NAME=TYPE (default application/pdf).", valueName: "name=type"))
    var partType: [String] = []

    @Option(help: ArgumentHelp("The recipient on a channel: CHANNEL=ADDRESS (email, sms, portal, postal-hybrid); repeat per channel.", valueName: "channel=address"))
    var recipient: [String] = []

    @Option(help: ArgumentHelp("The case's effective-service rules (JSON file).", valueName: "file"))
    var rules: String

    @Option(help: ArgumentHelp("When the provider accepted the submission (RFC 3339 UTC; default now).", valueName: "time"))
    var time: String?

    @Option(help: ArgumentHelp("The provider refused the submission, for this reason code.", valueName: "reason"))
    var rejected: String?

    @OptionGroup var provider: ProviderOptions
    @OptionGroup var options: DataDirectoryOptions

    func run() async throws {
        let serviceID = try checkedIdentifier(serviceID, "service")
        let caseID = try checkedIdentifier(caseID, "case")
        let types = try Dictionary(partType.map { try pair($0, "--part-type") }, uniquingKeysWith: { $1 })
        let names = try part.map { try pair($0, "--part").0 }
        if let unknown = types.keys.sorted().first(where: { !names.contains($0) }) {
            throw CLIFailure("invalid-argument", "--part-type names part \"\(unknown)\", which no --part gives", status: NotariumExit.usage)
        }
        var parts: [ServicePart] = []
        for item in part {
            let (name, file) = try pair(item, "--part")
            _ = try checkedIdentifier(name, "part")
            parts.append(ServicePart(name: name, document: try describe(file: file, mediaType: types[name] ?? "application/pdf")))
        }
        guard !parts.isEmpty else { throw CLIFailure("invalid-argument", "name at least one document served: --part NAME=FILE", status: NotariumExit.usage) }
        var recipients: [Notary.Recipient] = []
        for item in recipient {
            let (name, address) = try pair(item, "--recipient")
            guard let channel = ServiceChannel(rawValue: name) else {
                throw CLIFailure("invalid-channel", "\"\(name)\" is not a channel (email, sms, portal, postal-hybrid)", status: NotariumExit.usage)
            }
            recipients.append(Notary.Recipient(channel: channel, address: address))
        }
        guard let data = FileManager.default.contents(atPath: rules) else {
            throw CLIFailure("unreadable-file", "cannot read \(rules)", status: NotariumExit.usage)
        }
        let ruleSet: ServiceRules
        do {
            ruleSet = try ServiceRules(json: try CanonicalJSON.parse([UInt8](data)), at: "rules")
        } catch let error as RecordError {
            throw CLIFailure("invalid-rules", "\(rules): \(error.reason)", status: NotariumExit.usage)
        } catch {
            throw CLIFailure("invalid-rules", "\(rules) is not JSON: \(error)", status: NotariumExit.usage)
        }
        let reason = try rejected.map { code in
            guard let reason = ReasonCode(rawValue: code) else {
                throw CLIFailure("invalid-reason", "\"\(code)\" is not in the reason-code registry (\(ReasonCode.allCases.map(\.rawValue).joined(separator: ", ")))", status: NotariumExit.usage)
            }
            return reason
        }
        let eventTime = try parseEventTime(time)
        let evidence = try provider.evidence()
        try await withNotary(options, checkpointKey: false) { notary, stamper, _ in
            let receipt = try await notary.openService(serviceID: serviceID, caseID: caseID, parts: parts, recipients: recipients, rules: ruleSet, eventTime: eventTime, provider: evidence, rejection: reason)
            _ = try stamper!.entryToken(receipt.seq)
            printReceipt(receipt, ["service": .string(serviceID), "event": .string(reason == nil ? "SubmissionAcceptance" : "SubmissionRejection")])
        }
    }
}

struct ServiceRecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record one event of an open service, linked to the one before it (notariumd stopped).",
        discussion: """
            EVENT is an ETSI EN 319 522 event name (ContentConsignment, ConsignmentNotification, \
            ContentHandover, ContentAccessTracking, ConsignmentAcceptance, ConsignmentRejection, \
            AcceptanceRejectionExpiry, and the failure events) or ServiceDeemedEffective, whose \
            effective time the appliance computes from the recorded events and the case's rules. \
            Negative events need --reason; ConsignmentNotification needs --notice; ContentHandover \
            needs --identified-by. An event the rules forbid is refused and nothing is recorded.
            """)

    @Option(name: .customLong("service"), help: ArgumentHelp("Service identifier.", valueName: "id"))
    var serviceID: String

    @Option(help: ArgumentHelp("The event (ETSI name or URI).", valueName: "event"))
    var event: String

    @Option(help: ArgumentHelp("The channel it happened on (email, sms, portal, postal-hybrid).", valueName: "channel"))
    var channel: String

    @Option(help: ArgumentHelp("When it happened, as the provider reports (RFC 3339 UTC; default now).", valueName: "time"))
    var time: String?

    @Option(help: ArgumentHelp("What a notification carried: link-only or with-content.", valueName: "content"))
    var notice: String?

    @Option(name: .customLong("identified-by"), help: ArgumentHelp("How the recipient was identified: \(IdentificationMethod.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "method"))
    var identifiedBy: String?

    @Option(help: ArgumentHelp("The recipient's session identifier at the provider.", valueName: "id"))
    var session: String?

    @Option(help: ArgumentHelp("Reason code of a negative event (docs/records.md §2.6).", valueName: "code"))
    var reason: String?

    @OptionGroup var provider: ProviderOptions
    @OptionGroup var options: DataDirectoryOptions

    func run() async throws {
        let serviceID = try checkedIdentifier(serviceID, "service")
        guard let event = ServiceEvent(name: event) else {
            throw CLIFailure("unknown-event", "\"\(event)\" is not a service event (\(ServiceEvent.allCases.map(\.rawValue).joined(separator: ", ")))", status: NotariumExit.usage)
        }
        guard let channel = ServiceChannel(rawValue: channel) else {
            throw CLIFailure("invalid-channel", "\"\(channel)\" is not a channel (email, sms, portal, postal-hybrid)", status: NotariumExit.usage)
        }
        var report = Notary.ServiceEventReport(event: event, channel: channel, eventTime: try parseEventTime(time), provider: try provider.evidence())
        if let notice {
            guard let content = NoticeContent(rawValue: notice) else { throw CLIFailure("invalid-argument", "--notice is link-only or with-content", status: NotariumExit.usage) }
            report.notice = content
        }
        if session != nil, identifiedBy == nil {
            throw CLIFailure("invalid-argument", "--session belongs to an identification: give --identified-by too", status: NotariumExit.usage)
        }
        if let identifiedBy {
            guard let method = IdentificationMethod(rawValue: identifiedBy) else {
                throw CLIFailure("invalid-argument", "--identified-by is one of \(IdentificationMethod.allCases.map(\.rawValue).joined(separator: ", "))", status: NotariumExit.usage)
            }
            report.identification = Identification(method: method, session: session)
        }
        if let reason {
            guard let code = ReasonCode(rawValue: reason) else {
                throw CLIFailure("invalid-reason", "\"\(reason)\" is not in the reason-code registry (\(ReasonCode.allCases.map(\.rawValue).joined(separator: ", ")))", status: NotariumExit.usage)
            }
            report.reason = code
        }
        let finalReport = report
        try await withNotary(options, checkpointKey: false) { notary, stamper, _ in
            let receipt = try await notary.recordServiceEvent(serviceID: serviceID, finalReport)
            _ = try stamper!.entryToken(receipt.seq)
            var extra: [String: JSONValue] = ["service": .string(serviceID), "event": .string(event.rawValue)]
            if event == .serviceDeemedEffective, let entry = try? notary.ledger.entry(receipt.seq), let record = try? ServiceRecord(body: entry.body), let effective = record.effective {
                extra["effectiveAt"] = .string(LedgerTime.format(milliseconds: effective.at))
                extra["basis"] = .string(effective.basis.rawValue)
            }
            printReceipt(receipt, extra)
        }
    }
}

struct ServiceDiscloseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disclose",
        abstract: "Print a service's recipients with the salts that open their commitments (personal data).")

    @Option(name: .customLong("service"), help: ArgumentHelp("Service identifier.", valueName: "id"))
    var serviceID: String

    @OptionGroup var options: DataDirectoryOptions

    func run() async throws {
        try await withNotary(options, checkpointKey: false, timeStamps: false) { notary, _, _ in
            let disclosed = try notary.recipients.disclose(service: serviceID)
            guard !disclosed.isEmpty else {
                throw CLIFailure("not-found", "no recipients are kept for service \(serviceID) (unknown, or erased)", status: NotariumExit.usage)
            }
            printJSON(.object(["service": .string(serviceID), "recipients": .array(disclosed.map { item in
                .object([
                    "channel": .string(item.channel), "address": .string(item.address), "salt": .string(Base64.encode(item.salt)),
                    "commitment": .string(Base64.encode(RecipientCommitment.commit(address: item.address, salt: item.salt))),
                ])
            })]))
        }
    }
}

struct ServiceEraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a service's recipient addresses and salts; the ledger's commitments stay and can no longer be opened.")

    @Option(name: .customLong("service"), help: ArgumentHelp("Service identifier.", valueName: "id"))
    var serviceID: String

    @OptionGroup var options: DataDirectoryOptions

    func run() async throws {
        try await withNotary(options, checkpointKey: false, timeStamps: false) { notary, _, _ in
            let count = try notary.recipients.erase(service: serviceID)
            printJSON(.object(["service": .string(serviceID), "erased": .integer(Int64(count))]))
        }
    }
}
