/// One SMTP reply (RFC 5321 §4.2): a three-digit code and one or more lines of text. Kept
/// verbatim, because the relay's own words are the provider evidence a ledger event carries.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public let code: Int
    /// The text of each line, after the code and its separator.
    public let lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// The RFC 3463 enhanced status code at the start of the first line (`5.1.1`), when the
    /// relay gives one and its class agrees with the reply code's.
    public var enhancedStatus: String? {
        guard let first = lines.first, let token = first.split(separator: " ", maxSplits: 1).first else { return nil }
        guard Self.isEnhancedStatus(token), Int(token.prefix(1)) == code / 100 else { return nil }
        return String(token)
    }

    /// An RFC 3463 status code, `class.subject.detail`: class 2, 4 or 5, each part 1–3 digits.
    /// Replies and delivery status reports carry the same codes.
    static func isEnhancedStatus(_ token: Substring) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCIIDigit) }) && ["2", "4", "5"].contains(parts[0])
    }

    /// The relay's queue identifier from a final DATA reply, as the common MTAs word it:
    /// postfix and aiosmtpd-style "queued as ABC123", exim "id=1abc-…", sendmail "… Message
    /// accepted for delivery" carries none. Nil when the reply names none.
    public var queueID: String? {
        let text = lines.joined(separator: " ")
        for marker in ["queued as ", "id="] {
            guard let range = text.range(of: marker, options: .caseInsensitive) else { continue }
            let id = text[range.upperBound...].prefix { !$0.isWhitespace && $0 != ")" && $0 != ">" && $0 != "," }
            if !id.isEmpty { return String(id) }
        }
        return nil
    }

    /// The reply as the relay sent it, one line per line, without the final CRLF.
    public var description: String {
        lines.enumerated().map { index, line in "\(code)\(index == lines.count - 1 ? " " : "-")\(line)" }.joined(separator: "\r\n")
    }

    var isPositiveCompletion: Bool { (200..<300).contains(code) }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
