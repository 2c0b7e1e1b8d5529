/// Why the CA refused or failed, with a stable code (tests and the HTTP/CLI mappings use it)
/// and a reason for people.
public struct CAError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The data directory has no CA yet (`notarium ca init`, or start notariumd once).
        case notInitialized = "ca-not-initialized"
        /// `ca init` on a data directory whose CA exists.
        case alreadyInitialized = "ca-already-initialized"
        /// The request is not a PKCS#10 CSR (bad PEM, malformed or truncated DER, too large).
        case malformedRequest = "malformed-csr"
        /// The CSR's signature does not verify with its own key (no proof of possession).
        case badRequestSignature = "csr-signature-invalid"
        /// The key's type or size is not allowed (docs/pki.md, key policy).
        case forbiddenKey = "forbidden-key"
        /// The subject or subject alternative names cannot be used with this profile.
        case subjectRefused = "subject-refused"
        case unknownProfile = "unknown-profile"
        case unknownSerial = "unknown-serial"
        case alreadyRevoked = "already-revoked"
        /// A revocation reason Notarium does not use (certificateHold, removeFromCRL…) or a
        /// certificate this command does not revoke (the CA's own).
        case revocationRefused = "revocation-refused"
        /// Invalid CA settings (names, base URL, policy OID).
        case invalidSettings = "invalid-ca-settings"
        /// A sealed CA key could not be created or opened.
        case key = "ca-key"
        /// Stored CA data is unreadable or inconsistent.
        case corrupt = "ca-corrupt"
        case storage = "storage"
        /// The ledger refused or failed the administrative entry; nothing was issued.
        case ledger = "ledger"
        /// libcrypto failed while building or signing.
        case crypto = "crypto"
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    /// Whether the caller's input caused it (HTTP 4xx, CLI exit 1) rather than the appliance.
    public var isClientError: Bool {
        switch code {
        case .malformedRequest, .badRequestSignature, .forbiddenKey, .subjectRefused, .unknownProfile, .unknownSerial, .alreadyRevoked, .revocationRefused:
            true
        default:
            false
        }
    }

    public var description: String { "\(code.rawValue): \(reason)" }
}
