import CanonicalJSON
import Ledger
import OpenSSLKit

/// One served document of a service, named by its part (`notice`, `statement-of-claim`…).
public struct ServicePart: Sendable, Equatable {
    public let name: String
    public let document: DocumentDescription

    public init(name: String, document: DocumentDescription) {
        self.name = name
        self.document = document
    }

    var json: JSONValue {
        guard case .object(var members) = document.json else { fatalError("a document description is an object") }
        members["name"] = .string(name)
        return .object(members)
    }

    public static func list(_ value: JSONValue?, at path: String) throws(RecordError) -> [ServicePart] {
        var parts: [ServicePart] = []
        for (index, item) in try Field.array(value, at: path, minimum: 1, maximum: 20).enumerated() {
            let itemPath = "\(path)[\(index)]"
            let members = try Field.object(item, at: itemPath, required: ["name", "digests", "size", "mediaType"])
            let name = try Field.identifier(members["name"], at: itemPath + ".name")
            guard !parts.contains(where: { $0.name == name }) else { throw RecordError(.schema, "\(path) names part \"\(name)\" twice") }
            let document = try DocumentDescription.parse(.object(members.filter { $0.key != "name" }), at: itemPath)
            parts.append(ServicePart(name: name, document: document))
        }
        return parts
    }
}

/// The recipient on one channel, as the ledger may hold them: a salted commitment
/// `SHA-256(salt ‖ UTF-8 address)` with a 32-byte random salt. The address and salt live in the
/// appliance's erasable store (`notarium service disclose` reveals them to whoever must check,
/// `notarium service erase` destroys them); the ledger, which nothing can erase, never holds
/// personal data, and without the salt the commitment cannot be tested against guesses.
public struct RecipientCommitment: Sendable, Equatable {
    public let channel: ServiceChannel
    public let commitment: [UInt8]

    public static let saltBytes = 32

    public init(channel: ServiceChannel, commitment: [UInt8]) {
        self.channel = channel
        self.commitment = commitment
    }

    public static func commit(address: String, salt: [UInt8]) -> [UInt8] {
        TimeStampHash.sha256.digest(salt + Array(address.utf8))
    }

    var json: JSONValue { .object(["channel": .string(channel.rawValue), "commitment": .string(Base64.encode(commitment))]) }
}

/// How the recipient was identified before content was released to them.
public struct Identification: Sendable, Equatable {
    public let method: IdentificationMethod
    /// The provider's session identifier, when the recipient acted in a session.
    public let session: String?

    public init(method: IdentificationMethod, session: String?) {
        self.method = method
        self.session = session
    }

    var json: JSONValue {
        var members: [String: JSONValue] = ["method": .string(method.rawValue)]
        if let session { members["session"] = .string(session) }
        return .object(members)
    }

    public static func parse(_ value: JSONValue?, at path: String) throws(RecordError) -> Identification {
        let members = try Field.object(value, at: path, required: ["method"], optional: ["session"])
        let name = try Field.string(members["method"], at: path + ".method", maximumLength: 32)
        guard let method = IdentificationMethod(rawValue: name) else {
            throw RecordError(.schema, "\(path).method \"\(name)\" is not an identification method (\(IdentificationMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return Identification(method: method, session: try Field.optionalString(members["session"], at: path + ".session", maximumLength: 128))
    }
}

/// What the provider (mail server, SMS gateway, portal, postal service) reported, verbatim.
public struct ProviderEvidence: Sendable, Equatable {
    public let kind: ProviderEvidenceKind
    /// The report as the provider gave it (an SMTP reply line, a DSN's status, a gateway report).
    public let report: String
    /// The provider's identifier for the message (SMTP queue id, gateway message id).
    public let id: String?

    public init(kind: ProviderEvidenceKind, report: String, id: String?) {
        self.kind = kind
        self.report = report
        self.id = id
    }

    var json: JSONValue {
        var members: [String: JSONValue] = ["kind": .string(kind.rawValue), "report": .string(report)]
        if let id { members["id"] = .string(id) }
        return .object(members)
    }

    public static func parse(_ value: JSONValue?, at path: String) throws(RecordError) -> ProviderEvidence {
        let members = try Field.object(value, at: path, required: ["kind", "report"], optional: ["id"])
        let name = try Field.string(members["kind"], at: path + ".kind", maximumLength: 32)
        guard let kind = ProviderEvidenceKind(rawValue: name) else {
            throw RecordError(.schema, "\(path).kind \"\(name)\" is not a provider evidence kind (\(ProviderEvidenceKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return ProviderEvidence(kind: kind, report: try Field.string(members["report"], at: path + ".report", maximumLength: 4000), id: try Field.optionalString(members["id"], at: path + ".id", maximumLength: 256))
    }
}

/// The effective-service time a `ServiceDeemedEffective` event states; the verifier recomputes
/// it from the events before it and the rules (docs/records.md §2.4).
public struct EffectiveService: Sendable, Equatable {
    public enum Basis: String, CaseIterable, Sendable {
        /// (a) arrival at an address or system the recipient confirmed.
        case arrivalAtConfirmedAddress = "arrival-at-confirmed-address"
        /// (b) the recipient's reply or procedural act.
        case reply = "reply"
        /// (b) a read report: presumed service, rebuttable.
        case readReport = "read-report"
        /// (c) an acceptance window ended without acceptance or rejection.
        case acceptanceWindow = "acceptance-window"
        /// (d) a registration window ended.
        case registrationWindow = "registration-window"

        /// The order in which equal times are decided: the firmer ground first.
        var rank: Int { Self.allCases.firstIndex(of: self)! }
    }

    /// UTC milliseconds.
    public let at: Int64
    public let basis: Basis
    public let channel: ServiceChannel
    /// A presumption the recipient may rebut (read reports).
    public var rebuttable: Bool { basis == .readReport }

    public init(at: Int64, basis: Basis, channel: ServiceChannel) {
        self.at = at
        self.basis = basis
        self.channel = channel
    }

    var json: JSONValue {
        .object(["at": .string(LedgerTime.format(milliseconds: at)), "basis": .string(basis.rawValue), "channel": .string(channel.rawValue)])
    }

    static func parse(_ value: JSONValue?, at path: String) throws(RecordError) -> EffectiveService {
        let members = try Field.object(value, at: path, required: ["at", "basis", "channel"])
        let basisName = try Field.string(members["basis"], at: path + ".basis", maximumLength: 64)
        guard let basis = Basis(rawValue: basisName) else { throw RecordError(.schema, "\(path).basis \"\(basisName)\" is not a basis of effective service") }
        return EffectiveService(at: try Field.time(members["at"], at: path + ".at"), basis: basis, channel: try Field.channel(members["channel"], at: path + ".channel"))
    }
}

/// The body of a `service` entry: one event of one electronic service. Each service is its own
/// hash chain: every event after the first names the leaf hash of the one before it.
/// Schema: docs/schemas/service.schema.json; meaning: docs/records.md §2.
public struct ServiceRecord: Sendable, Equatable {
    public let event: ServiceEvent
    public let serviceID: String
    public let caseID: String
    /// When the event happened, as the provider reported it (UTC ms); never after the entry's time.
    public let eventTime: Int64
    public let parts: [ServicePart]
    /// Opening events: the recipient on every channel the service may use.
    public let recipients: [RecipientCommitment]
    /// Other events: the channel the event happened on and the recipient there.
    public let recipient: RecipientCommitment?
    public let rules: ServiceRules?
    public let notice: NoticeContent?
    public let identification: Identification?
    public let provider: ProviderEvidence?
    public let reason: ReasonCode?
    public let effective: EffectiveService?
    /// The leaf hash of the service's previous event; nil for the opening event.
    public let previous: [UInt8]?
    /// The API client that reported the event; nil for the command line.
    public var requestedBy: Requester?

    public init(event: ServiceEvent, serviceID: String, caseID: String, eventTime: Int64, parts: [ServicePart], recipients: [RecipientCommitment] = [], recipient: RecipientCommitment? = nil, rules: ServiceRules? = nil, notice: NoticeContent? = nil, identification: Identification? = nil, provider: ProviderEvidence? = nil, reason: ReasonCode? = nil, effective: EffectiveService? = nil, previous: [UInt8]?) {
        self.event = event
        self.serviceID = serviceID
        self.caseID = caseID
        self.eventTime = eventTime
        self.parts = parts
        self.recipients = recipients
        self.recipient = recipient
        self.rules = rules
        self.notice = notice
        self.identification = identification
        self.provider = provider
        self.reason = reason
        self.effective = effective
        self.previous = previous
    }

    public var channel: ServiceChannel? { recipient?.channel }

    public var body: JSONValue {
        var members: [String: JSONValue] = [
            "event": .string(event.uri),
            "service": .string(serviceID),
            "case": .string(caseID),
            "eventTime": .string(LedgerTime.format(milliseconds: eventTime)),
            "parts": .array(parts.map(\.json)),
        ]
        if event.opensService { members["recipients"] = .array(recipients.map(\.json)) }
        if let recipient {
            members["channel"] = .string(recipient.channel.rawValue)
            members["recipient"] = .string(Base64.encode(recipient.commitment))
        }
        if let rules { members["rules"] = rules.json }
        if let notice { members["notice"] = .string(notice.rawValue) }
        if let identification { members["identification"] = identification.json }
        if let provider { members["provider"] = provider.json }
        if let reason { members["reason"] = .string(reason.rawValue) }
        if let effective { members["effective"] = effective.json }
        if let previous { members["previous"] = .string(Base64.encode(previous)) }
        if let requestedBy { members["requestedBy"] = requestedBy.json }
        return .object(members)
    }

    /// Reads a service entry body and checks every rule of docs/records.md §2.2 that one event
    /// can be checked against alone; the rules between events are the verifier's (§2.5).
    public init(body: JSONValue) throws(RecordError) {
        guard case .object(let raw) = body else { throw RecordError(.schema, "body must be an object") }
        let uri = try Field.string(raw["event"], at: "body.event")
        guard let event = ServiceEvent(uri: uri) else {
            throw RecordError(.unknownEvent, "body.event \"\(uri)\" is not a service event (ETSI EN 319 522-2 events as \(EventURI.etsiPrefix)<Name>, or \(EventURI.serviceDeemedEffective))")
        }
        var required: Set<String> = ["event", "service", "case", "eventTime", "parts"]
        var optional: Set<String> = ["provider", "requestedBy"]
        if event.opensService {
            required.formUnion(["recipients", "rules"])
        } else {
            required.formUnion(["channel", "recipient", "previous"])
        }
        if event.isNegative { required.insert("reason") }
        switch event {
        case .consignmentNotification: required.insert("notice")
        case .contentHandover: required.insert("identification")
        case .contentAccessTracking, .consignmentAcceptance: optional.insert("identification")
        case .serviceDeemedEffective: required.insert("effective")
        default: break
        }
        let members = try Field.object(body, at: "body", required: required, optional: optional)
        self.event = event
        serviceID = try Field.identifier(members["service"], at: "body.service")
        caseID = try Field.identifier(members["case"], at: "body.case")
        eventTime = try Field.time(members["eventTime"], at: "body.eventTime")
        parts = try ServicePart.list(members["parts"], at: "body.parts")
        func commitment(_ value: JSONValue?, at path: String) throws(RecordError) -> [UInt8] {
            let bytes = try Field.base64(value, at: path, maximumBytes: 32)
            guard bytes.count == 32 else { throw RecordError(.schema, "\(path) is \(bytes.count) bytes, not a 32-byte SHA-256 commitment") }
            return bytes
        }
        if event.opensService {
            var list: [RecipientCommitment] = []
            for (index, item) in try Field.array(members["recipients"], at: "body.recipients", minimum: 1, maximum: ServiceChannel.allCases.count).enumerated() {
                let path = "body.recipients[\(index)]"
                let fields = try Field.object(item, at: path, required: ["channel", "commitment"])
                let channel = try ServiceRules.channels(.array([fields["channel"] ?? .null]), at: path + ".channel").first!
                guard !list.contains(where: { $0.channel == channel }) else { throw RecordError(.schema, "body.recipients names \(channel.rawValue) twice") }
                list.append(RecipientCommitment(channel: channel, commitment: try commitment(fields["commitment"], at: path + ".commitment")))
            }
            recipients = list
            recipient = nil
            rules = try ServiceRules(json: members["rules"], at: "body.rules")
            previous = nil
        } else {
            let channel = try Field.channel(members["channel"], at: "body.channel")
            recipients = []
            recipient = RecipientCommitment(channel: channel, commitment: try commitment(members["recipient"], at: "body.recipient"))
            rules = nil
            let link = try Field.base64(members["previous"], at: "body.previous", maximumBytes: 32)
            guard link.count == 32 else { throw RecordError(.schema, "body.previous is \(link.count) bytes, not a 32-byte leaf hash") }
            previous = link
        }
        notice = try members["notice"].map { value throws(RecordError) in
            let name = try Field.string(value, at: "body.notice", maximumLength: 32)
            guard let notice = NoticeContent(rawValue: name) else { throw RecordError(.schema, "body.notice \"\(name)\" is not link-only or with-content") }
            return notice
        }
        identification = try members["identification"].map { value throws(RecordError) in try Identification.parse(value, at: "body.identification") }
        provider = try members["provider"].map { value throws(RecordError) in try ProviderEvidence.parse(value, at: "body.provider") }
        reason = try members["reason"].map { value throws(RecordError) in
            let code = try Field.string(value, at: "body.reason", maximumLength: 64)
            guard let reason = ReasonCode(rawValue: code) else {
                throw RecordError(.schema, "body.reason \"\(code)\" is not in the reason-code registry (docs/records.md §2.6)")
            }
            return reason
        }
        effective = try members["effective"].map { value throws(RecordError) in try EffectiveService.parse(value, at: "body.effective") }
        requestedBy = try Requester.parse(members["requestedBy"], at: "body.requestedBy")
    }
}
