/// Why a client was not let in, or a client could not be registered. `code` is stable: the API
/// turns it into the `type` of its problem+json (docs/api.md §5) and the CLI prints it.
public struct AccessError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No client certificate on the connection (401).
        case noCertificate = "client-certificate-required"
        /// A certificate this appliance did not register as an API client (401).
        case unknownClient = "unknown-client"
        /// The client's certificate is revoked (401).
        case revoked = "client-revoked"
        /// The client's certificate is outside its validity period (401).
        case expired = "client-expired"
        /// The client's role does not grant the action (403).
        case forbidden = "forbidden"
        /// A registration's name or role is not acceptable.
        case invalidClient = "invalid-client"
        /// The CA refused or failed to issue the certificate.
        case issuance = "issuance-failed"
        /// The access list or the CA's records could not be read or written.
        case storage = "storage"
        /// The TLS server identity could not be made or read.
        case serverIdentity = "server-identity"
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }

    /// Whether the client is unknown (401) rather than known but not allowed (403).
    public var isAuthentication: Bool {
        [.noCertificate, .unknownClient, .revoked, .expired].contains(code)
    }
}
