/// The events of an electronic service. ETSI EN 319 522-2 names the events of a registered
/// delivery; Notarium writes them as `http://uri.etsi.org/19522/Event/<Name>` so that a court
/// that knows that standard reads a service without our documentation. The one conclusion
/// ETSI does not define, that service became legally effective, is Notarium's own
/// (`urn:notarium:event:ServiceDeemedEffective`). Any other URI is refused (docs/records.md §2.2).
public enum ServiceEvent: String, CaseIterable, Sendable {
    case submissionAcceptance = "SubmissionAcceptance"
    case submissionRejection = "SubmissionRejection"
    case contentConsignment = "ContentConsignment"
    case contentConsignmentFailure = "ContentConsignmentFailure"
    case consignmentNotification = "ConsignmentNotification"
    case consignmentNotificationFailure = "ConsignmentNotificationFailure"
    case contentHandover = "ContentHandover"
    case contentHandoverFailure = "ContentHandoverFailure"
    case contentAccessTracking = "ContentAccessTracking"
    case consignmentAcceptance = "ConsignmentAcceptance"
    case consignmentRejection = "ConsignmentRejection"
    case acceptanceRejectionExpiry = "AcceptanceRejectionExpiry"
    case serviceDeemedEffective = "ServiceDeemedEffective"

    public var uri: String {
        self == .serviceDeemedEffective ? EventURI.serviceDeemedEffective : EventURI.etsiPrefix + rawValue
    }

    public init?(uri: String) {
        guard let event = Self.allCases.first(where: { $0.uri == uri }) else { return nil }
        self = event
    }

    /// Accepts the bare name too (`ContentHandover`), as the command line does.
    public init?(name: String) {
        if let event = ServiceEvent(rawValue: name) ?? ServiceEvent(uri: name) { self = event } else { return nil }
    }

    /// Events that say something did not happen; each carries a reason code (`ReasonCode`).
    public var isNegative: Bool {
        [.submissionRejection, .contentConsignmentFailure, .consignmentNotificationFailure, .contentHandoverFailure, .consignmentRejection].contains(self)
    }

    /// The events that open a service: the provider accepted or refused the clerk's submission.
    public var opensService: Bool { self == .submissionAcceptance || self == .submissionRejection }

    /// Events that concern one channel to the recipient (all but the opening ones).
    public var hasChannel: Bool { !opensService }
}

/// How far a service got, in the order the verifier ranks them (docs/records.md §2.5). Only
/// the event named proves a state; a state is never inferred from a later one.
public enum DeliveryState: Int, Comparable, CaseIterable, Sendable {
    /// The provider accepted the submission (SubmissionAcceptance).
    case submitted = 1
    /// The content reached the recipient's mailbox or portal (ContentConsignment).
    case madeAvailable
    /// The recipient was told that content waits (ConsignmentNotification).
    case notified
    /// The content was released to the identified recipient (ContentHandover).
    case handedOver
    /// The recipient opened it in an authenticated session (ContentAccessTracking with identification).
    case opened
    /// The recipient acknowledged receipt (ConsignmentAcceptance).
    case acknowledged

    public static func < (lhs: DeliveryState, rhs: DeliveryState) -> Bool { lhs.rawValue < rhs.rawValue }

    public var name: String {
        switch self {
        case .submitted: "submitted"
        case .madeAvailable: "made-available"
        case .notified: "notified"
        case .handedOver: "handed-over"
        case .opened: "opened"
        case .acknowledged: "acknowledged"
        }
    }
}

/// The ways to reach a recipient.
public enum ServiceChannel: String, CaseIterable, Sendable {
    case email
    case sms
    case portal
    /// A letter printed and posted by a provider from an electronic original.
    case postalHybrid = "postal-hybrid"
}

/// Why a negative event happened: the registry of docs/records.md §2.6. A code is permanent;
/// new ones are added, none is ever reused with another meaning.
public enum ReasonCode: String, CaseIterable, Sendable {
    /// The address does not exist or cannot receive (SMTP 550 5.1.1, an unallocated number).
    case addressUnknown = "address-unknown"
    /// The address is not a valid address for the channel.
    case addressInvalid = "address-invalid"
    /// The recipient's mailbox or storage is full.
    case mailboxFull = "mailbox-full"
    /// The content exceeds what the recipient's system accepts.
    case contentTooLarge = "content-too-large"
    /// The recipient's system refused the content (policy, malware scan).
    case contentRefused = "content-refused"
    /// The recipient's system could not be reached before the provider gave up.
    case unreachable = "unreachable"
    /// The recipient could not be identified to the level the case requires.
    case identificationFailed = "identification-failed"
    /// The recipient declined to accept the consignment.
    case recipientRefused = "recipient-refused"
    /// The submission was malformed or not permitted for this sender.
    case submissionInvalid = "submission-invalid"
    /// The provider failed internally.
    case providerError = "provider-error"
}

/// How the recipient proved who they were before content was released to them.
public enum IdentificationMethod: String, CaseIterable, Sendable {
    /// eIDAS electronic identification, assurance level high.
    case eidHigh = "eid-high"
    /// eIDAS electronic identification, assurance level substantial.
    case eidSubstantial = "eid-substantial"
    /// A client certificate in a TLS session.
    case clientCertificate = "client-certificate"
    /// Password and a one-time code (two factors).
    case passwordAndOneTimeCode = "password-otp"
    /// A one-time code sent to the recipient's confirmed address (a link alone is not enough).
    case oneTimeCode = "one-time-code"
}

/// What the provider reported, in its own words.
public enum ProviderEvidenceKind: String, CaseIterable, Sendable {
    /// The receiving SMTP server's reply to the message (RFC 5321), e.g. `250 2.0.0 Ok: queued as …`.
    case smtpReply = "smtp-reply"
    /// A delivery status notification (RFC 3464).
    case smtpDSN = "smtp-dsn"
    /// A message disposition notification, a "read report" (RFC 8098).
    case mdn = "mdn"
    /// An SMS gateway's delivery report.
    case smsReport = "sms-report"
    /// The portal's own log line for the session or download.
    case portalLog = "portal-log"
    /// The postal provider's delivery receipt.
    case postalReceipt = "postal-receipt"
}

/// What a notice to the recipient carried. A notice with only a title and a link proves that
/// the recipient was told, never that the content reached them.
public enum NoticeContent: String, CaseIterable, Sendable {
    case linkOnly = "link-only"
    case withContent = "with-content"
}
