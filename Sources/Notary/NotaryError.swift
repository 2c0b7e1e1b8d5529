/// Why the notary refused a record or could not export a bundle. Client errors (the input)
/// change nothing; the others name the part of the appliance that failed.
public struct NotaryError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The record does not fit its schema (docs/records.md).
        case invalidRecord = "invalid-record"
        /// The CMS signature is malformed or does not verify.
        case badSignature = "bad-signature"
        /// The signature does not cover the document described (digest mismatch).
        case digestMismatch = "digest-mismatch"
        /// The signer's certificate is revoked, expired, not yet valid or not from this CA.
        case signerRefused = "signer-refused"
        /// The event would break a rule between a service's events (docs/records.md §2.5).
        case serviceRule = "service-rule"
        /// The service or award already exists.
        case conflict = "conflict"
        /// No entry, service or award with that identifier, or an entry of another type.
        case notFound = "not-found"
        /// A time-stamp or checkpoint could not be made for the bundle.
        case unavailable = "unavailable"
        case ledger = "ledger"
        case storage = "storage"
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var isClientError: Bool { [.invalidRecord, .badSignature, .digestMismatch, .signerRefused, .notFound, .serviceRule, .conflict].contains(code) }

    public var description: String { "\(code.rawValue): \(reason)" }
}
