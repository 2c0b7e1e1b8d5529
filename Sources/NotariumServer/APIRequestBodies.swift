import Access
import CanonicalJSON
import Delivery
import Ledger
import Notary
import Records

// The `/v1` request bodies, read against docs/openapi.yaml. Each reader refuses what the
// contract does not allow with a RecordError naming the member (422), before anything is
// signed, stored or appended; the Notary then checks what only it can (signatures, the
// service rules, conflicts).

/// `POST /v1/evidence` (docs/api.md §3.1).
struct EvidenceDeposit {
    let caseID: String
    let document: DocumentDescription
    let submitter: RecordedSignature
    let description: String?

    /// The largest document the appliance hashes for a caller (`content`), then forgets.
    static let maximumContentBytes = 12 * 1024 * 1024

    init(_ body: JSONValue) throws(RecordError) {
        let members = try Field.object(body, at: "body", required: ["case", "submitter"], optional: ["document", "content", "mediaType", "description"])
        caseID = try Field.identifier(members["case"], at: "body.case")
        switch (members["document"], members["content"]) {
        case (let described?, nil):
            guard members["mediaType"] == nil else { throw RecordError(.schema, "body.mediaType goes with body.content; a document description carries its own") }
            document = try DocumentDescription.parse(described, at: "body.document")
        case (nil, let content?):
            // Hashed here and not kept: the appliance stores digests only.
            let bytes = try Field.base64(content, at: "body.content", maximumBytes: Self.maximumContentBytes)
            document = DocumentDescription(describing: bytes, mediaType: try Field.mediaType(members["mediaType"], at: "body.mediaType"))
        default:
            throw RecordError(.schema, "give the document either described (body.document) or as bytes to hash (body.content), not both or neither")
        }
        let signer = try Field.object(members["submitter"], at: "body.submitter", required: ["certificate", "signature"])
        submitter = try RecordedSignature.parse(signer, at: "body.submitter")
        description = try Field.optionalString(members["description"], at: "body.description", maximumLength: EvidenceRecord.maximumDescriptionLength)
    }
}

/// `POST /v1/clients` (docs/api.md §3.8).
struct ClientRegistration {
    let name: String
    let role: Role
    /// PKCS#10, PEM text (or DER in base64 under `csrDer`).
    let csr: [UInt8]

    init(_ body: JSONValue) throws(RecordError) {
        let members = try Field.object(body, at: "body", required: ["name", "role"], optional: ["csr", "csrDer"])
        name = try Field.string(members["name"], at: "body.name", maximumLength: 64)
        let roleName = try Field.string(members["role"], at: "body.role", maximumLength: 16)
        guard let role = Role(rawValue: roleName) else {
            throw RecordError(.schema, "body.role \"\(roleName)\" is not one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.role = role
        csr = try Self.csr(members, at: "body")
    }

    /// A certificate request as `csr` (PEM text) or `csrDer` (base64 DER), exactly one of them.
    static func csr(_ members: [String: JSONValue], at path: String) throws(RecordError) -> [UInt8] {
        switch (members["csr"], members["csrDer"]) {
        case (let pem?, nil): return Array(try Field.string(pem, at: path + ".csr", maximumLength: 16 * 1024).utf8)
        case (nil, let der?): return try Field.base64(der, at: path + ".csrDer", maximumBytes: 16 * 1024)
        default: throw RecordError(.schema, "give the certificate request as \(path).csr (PEM) or \(path).csrDer (base64 DER), one of them")
        }
    }
}

/// `POST /v1/services` (docs/api.md §3.2): opens a service. The parts are described by their
/// digests (the documents are served by the platform, not uploaded here); the recipients'
/// clear addresses go to the erasable store, the ledger gets commitments.
struct ServiceOpening {
    let serviceID: String
    let caseID: String
    let parts: [ServicePart]
    let recipients: [Notary.Recipient]
    let rules: ServiceRules
    let eventTime: Int64?
    let provider: ProviderEvidence?
    let rejection: ReasonCode?
    /// The appliance serves the service itself (docs/delivery.md §5); nil: the platform does.
    let delivery: DeliveryPlan?

    /// Longer than any e-mail address (RFC 5321: 254) or postal address a clerk would type.
    static let maximumAddressLength = 1024

    init(_ body: JSONValue) throws(RecordError) {
        let members = try Field.object(body, at: "body", required: ["service", "case", "parts", "recipients", "rules"], optional: ["eventTime", "provider", "rejection", "delivery"])
        serviceID = try Field.identifier(members["service"], at: "body.service")
        caseID = try Field.identifier(members["case"], at: "body.case")
        parts = try ServicePart.list(members["parts"], at: "body.parts")
        var recipients: [Notary.Recipient] = []
        for (index, item) in try Field.array(members["recipients"], at: "body.recipients", minimum: 1, maximum: ServiceChannel.allCases.count).enumerated() {
            let path = "body.recipients[\(index)]"
            let fields = try Field.object(item, at: path, required: ["channel", "address"])
            let channel = try ServiceEventBody.channel(fields["channel"], at: path + ".channel")
            recipients.append(Notary.Recipient(channel: channel, address: try Field.string(fields["address"], at: path + ".address", maximumLength: Self.maximumAddressLength)))
        }
        self.recipients = recipients
        rules = try ServiceRules(json: members["rules"], at: "body.rules")
        eventTime = try members["eventTime"].map { value throws(RecordError) in try Field.time(value, at: "body.eventTime") }
        provider = try members["provider"].map { value throws(RecordError) in try ProviderEvidence.parse(value, at: "body.provider") }
        rejection = try members["rejection"].map { value throws(RecordError) in try ServiceEventBody.reason(value, at: "body.rejection") }
        delivery = try members["delivery"].map { value throws(RecordError) in try DeliveryPlan(value, at: "body.delivery") }
        if delivery != nil, let other = ["eventTime", "provider", "rejection"].first(where: { members[$0] != nil }) {
            throw RecordError(.schema, "body.\(other) is the provider's report; with body.delivery the appliance is the provider and writes it")
        }
    }

}

/// `POST /v1/services/{id}/events` (docs/api.md §3.3): one more event of an open service, as
/// the provider reported it. The link to the previous event, the recipient's commitment and,
/// for `ServiceDeemedEffective`, the effective time are the appliance's to fill in.
struct ServiceEventBody {
    let report: Notary.ServiceEventReport

    init(_ body: JSONValue) throws(RecordError) {
        let members = try Field.object(body, at: "body", required: ["event", "channel"], optional: ["eventTime", "notice", "identification", "provider", "reason"])
        let name = try Field.string(members["event"], at: "body.event", maximumLength: 128)
        guard let event = ServiceEvent(name: name) else {
            throw RecordError(.schema, "body.event \"\(name)\" is not a service event (\(ServiceEvent.allCases.map(\.rawValue).joined(separator: ", ")), or its URI)")
        }
        var report = Notary.ServiceEventReport(event: event, channel: try Self.channel(members["channel"], at: "body.channel"))
        report.eventTime = try members["eventTime"].map { value throws(RecordError) in try Field.time(value, at: "body.eventTime") }
        report.notice = try members["notice"].map { value throws(RecordError) in
            let name = try Field.string(value, at: "body.notice", maximumLength: 32)
            guard let notice = NoticeContent(rawValue: name) else { throw RecordError(.schema, "body.notice \"\(name)\" is not link-only or with-content") }
            return notice
        }
        report.identification = try members["identification"].map { value throws(RecordError) in try Identification.parse(value, at: "body.identification") }
        report.provider = try members["provider"].map { value throws(RecordError) in try ProviderEvidence.parse(value, at: "body.provider") }
        report.reason = try members["reason"].map { value throws(RecordError) in try Self.reason(value, at: "body.reason") }
        self.report = report
    }

    static func channel(_ value: JSONValue?, at path: String) throws(RecordError) -> ServiceChannel {
        try Field.channel(value, at: path)
    }

    static func reason(_ value: JSONValue?, at path: String) throws(RecordError) -> ReasonCode {
        let code = try Field.string(value, at: path, maximumLength: 64)
        guard let reason = ReasonCode(rawValue: code) else {
            throw RecordError(.schema, "\(path) \"\(code)\" is not in the reason-code registry (\(ReasonCode.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return reason
    }
}

/// `POST /v1/awards` (docs/api.md §3.4): the award entry's body (docs/schemas/award.schema.json)
/// without `event` and `requestedBy`, which the appliance writes: a client cannot name
/// another client as the one who asked.
struct AwardRegistration {
    let award: AwardRecord

    static let members: Set<String> = ["award", "case", "issued", "seat", "arbitrators", "versions", "signatures"]

    init(_ body: JSONValue) throws(RecordError) {
        var members = try Field.object(body, at: "body", required: Self.members)
        members["event"] = .string(EventURI.awardIssued)
        award = try AwardRecord(body: .object(members))
    }
}
