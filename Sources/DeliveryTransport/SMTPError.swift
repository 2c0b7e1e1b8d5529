/// Why a message could not be handed to the relay. The outbox decides from `isPermanent`
/// whether to try again later (a 4xx, a network failure) or to record a failure event now (a
/// 5xx for this recipient or this message); a configuration error (TLS or AUTH that the relay
/// does not offer, a certificate we do not trust) is permanent too, since retrying cannot mend it.
public struct SMTPError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The TCP connection could not be made.
        case connectFailed = "connect-failed"
        /// The relay did not answer within the configured time.
        case timeout = "timeout"
        /// The relay closed the connection before the transaction ended.
        case connectionClosed = "connection-closed"
        /// The relay's answer is not an SMTP reply (RFC 5321 §4.2), or is out of order.
        case protocolViolation = "protocol-violation"
        /// STARTTLS was required and the relay does not offer it: nothing was sent in clear.
        case tlsUnavailable = "tls-unavailable"
        /// The TLS handshake failed (an untrusted or mismatched certificate, no common cipher).
        case tlsFailed = "tls-failed"
        /// Credentials are configured and the relay offers no mechanism we use (PLAIN, LOGIN),
        /// or the connection is not encrypted (a password is never sent in clear).
        case authUnavailable = "auth-unavailable"
        /// The relay refused the credentials (535 and the like).
        case authFailed = "auth-failed"
        /// The relay refused the sender, a recipient or the message; `reply` says why.
        case rejected = "rejected"
    }

    /// The step of the SMTP transaction that failed.
    public enum Stage: String, Sendable {
        case connect, greeting, ehlo, starttls, auth
        case mailFrom = "mail-from"
        case recipient = "rcpt-to"
        case data
    }

    public let code: Code
    public let stage: Stage
    /// The relay's reply, when it gave one.
    public let reply: SMTPReply?
    public let reason: String

    public init(_ code: Code, at stage: Stage, reply: SMTPReply? = nil, _ reason: String) {
        self.code = code
        self.stage = stage
        self.reply = reply
        self.reason = reason
    }

    /// True when sending the same message again cannot succeed: a 5xx reply, or a
    /// configuration the relay does not accept.
    public var isPermanent: Bool {
        switch code {
        case .rejected, .authFailed: reply.map { $0.code >= 500 } ?? true
        case .tlsUnavailable, .tlsFailed, .authUnavailable: true
        case .connectFailed, .timeout, .connectionClosed, .protocolViolation: false
        }
    }

    public var description: String { "\(code.rawValue) at \(stage.rawValue): \(reason)" }
}
