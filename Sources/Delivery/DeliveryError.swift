import Notary

/// Why a service could not be served as asked. The notary's refusals pass through with their
/// own codes, so that the API answers a bad service the same way with or without delivery.
public struct DeliveryError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The delivery plan cannot be carried out (no recipient on a channel it names, no
        /// transport for any of its channels).
        case invalidPlan = "invalid-plan"
        /// The notary refused the service or an event; `notary` says why.
        case notary = "notary"
        case storage = "storage"
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
