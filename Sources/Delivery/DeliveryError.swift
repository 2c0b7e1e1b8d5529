import Notary

/// Why a service could not be served as asked. The notary's refusals pass through with their
/// own codes, so that the API answers a bad service the same way with or without delivery.
public struct DeliveryError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The delivery plan cannot be carried out: no recipient on a channel it names, no
        /// channel a notice is pushed on, the portal on an appliance without one. (A channel
        /// without a transport configured is not refused: its notices wait for one.)
        case invalidPlan = "invalid-plan"
        /// The notary refused the service or an event; `notary` says why.
        case notary = "notary"
        case storage = "storage"
        /// A document over `DocumentVault.maximumDocumentBytes`.
        case documentTooLarge = "document-too-large"
        /// A service to be served through the portal names a document the vault does not hold.
        case documentMissing = "document-missing"
        /// A delivery report whose signature does not verify.
        case invalidReport = "invalid-report"
        /// A signed delivery report that is not the adapter's JSON.
        case malformedReport = "malformed-report"
        /// Nothing of ours has that id (a delivery report for a message we never sent).
        case unknownMessage = "unknown-message"
    }

    public let code: Code
    public let reason: String
    public let notary: NotaryError?

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
        self.notary = nil
    }

    public init(_ error: NotaryError) {
        code = .notary
        reason = error.reason
        notary = error
    }

    public var description: String { notary.map(\.description) ?? "\(code.rawValue): \(reason)" }
}
