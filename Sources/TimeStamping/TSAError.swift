/// Why the TSA could not be set up or opened (a client's bad request is never an error: it
/// gets a TimeStampResp with a failure code, see `TimeStampOutcome`).
public struct TSAError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The data directory has no TSA yet (notariumd creates it on its first start).
        case notInitialized = "tsa-not-initialized"
        case alreadyInitialized = "tsa-already-initialized"
        /// Invalid `tsa.*` settings (policy OIDs, accuracy, tolerance, name).
        case invalidSettings = "invalid-tsa-settings"
        /// The TSA's sealed key could not be created or opened.
        case key = "tsa-key"
        /// Stored TSA state is unreadable or inconsistent.
        case corrupt = "tsa-corrupt"
        case storage = "storage"
        /// The CA refused or failed to certify the TSA key.
        case certification = "tsa-certification"
        case crypto = "crypto"
        /// `resume` while the clock still reads before the last genTime the TSA may have issued.
        case clockBehind = "tsa-clock-behind"
        /// The TSA refused to stamp for the ledger (halted, or its state cannot be written).
        case refused = "tsa-refused"
        /// A ledger time-stamp cannot be made or kept (the ledger refused to store it).
        case ledger = "tsa-ledger"
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }
}
