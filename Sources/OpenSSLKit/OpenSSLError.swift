internal import COpenSSL

/// A failure inside libcrypto, carrying what OpenSSL's error queue said.
public struct OpenSSLError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The input could not be parsed (bad PEM, malformed DER, trailing bytes).
        case malformedInput = "malformed-input"
        /// libcrypto refused or failed the operation; `reason` has its error queue.
        case operationFailed = "operation-failed"
    }

    public let code: Code
    public let reason: String
    /// OpenSSL's own error strings, oldest first ("error:0680007B:asn1 encoding routines::header too long").
    public let openSSLErrors: [String]

    public var description: String {
        openSSLErrors.isEmpty ? "\(code.rawValue): \(reason)" : "\(code.rawValue): \(reason) [\(openSSLErrors.joined(separator: "; "))]"
    }

    /// The one place that reads OpenSSL's thread-local `ERR_` queue: drains it into an error, so a
    /// stale entry never shows up in the next failure's report.
    static func drain(_ code: Code, _ reason: String) -> OpenSSLError {
        OpenSSLError(code: code, reason: reason, openSSLErrors: drainErrorQueue())
    }

    /// Empties the queue before an operation whose failure is reported through it.
    static func clearQueue() {
        ERR_clear_error()
    }

    private static func drainErrorQueue() -> [String] {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(cString: buffer))
        }
        return messages
    }
}

/// The OpenSSL library this process linked.
public enum OpenSSLLibrary {
    /// As OpenSSL reports itself at run time ("OpenSSL 3.0.19 27 Jan 2026").
    public static var version: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
}
