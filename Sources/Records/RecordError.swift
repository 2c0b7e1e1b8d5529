/// Why a record body, a bundle or a trust file was refused, with a stable code and the exact
/// field at fault, so that a platform, a clerk or a second verifier can act on it.
public struct RecordError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The bytes are not JSON, or not canonical JSON where canonical JSON is required.
        case notCanonical = "not-canonical"
        /// A member is missing, unknown, of the wrong type or out of range (the schema).
        case schema = "schema"
        /// An event URI that is not in the vocabulary.
        case unknownEvent = "unknown-event"
        /// A digest, signature or certificate that does not decode, or disagrees with its siblings.
        case inconsistent = "inconsistent"
        /// The input is larger than Notarium reads.
        case tooLarge = "too-large"
        /// A member that must be base64 is not canonical base64 (RFC 4648 §4, padded).
        case encoding = "encoding"
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }
}
