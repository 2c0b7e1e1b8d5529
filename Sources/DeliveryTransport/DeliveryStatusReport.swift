import Foundation

/// A delivery status notification (RFC 3464) as a relay sends it back: a `multipart/report`
/// whose `message/delivery-status` part has one per-message field block and one block per
/// recipient. Only what deciding on a failure event needs is read; the status part is kept
/// verbatim, because it is the provider evidence the ledger event carries.
public struct DeliveryStatusReport: Sendable, Equatable {
    public struct Recipient: Sendable, Equatable {
        /// `Final-Recipient`, without its address type (`rfc822;`).
        public let finalRecipient: String
        public let originalRecipient: String?
        /// `failed`, `delayed`, `delivered`, `relayed` or `expanded` (lower-cased).
        public let action: String
        /// The RFC 3463 status code (`5.1.1`).
        public let status: String
        public let diagnosticCode: String?
        public let remoteMTA: String?
    }

    public let reportingMTA: String?
    /// `Original-Envelope-Id` (xtext decoded): the ENVID the message was sent with.
    public let envelopeID: String?
    public let arrivalDate: String?
    public let recipients: [Recipient]
    /// The reported message's Message-ID, without angle brackets, from the returned headers
    /// (`text/rfc822-headers` or `message/rfc822`), when the relay returned them.
    public let originalMessageID: String?
    /// The `message/delivery-status` part as it came, CRLF line ends.
    public let statusText: String

    /// The largest report read. A DSN returning a whole message with its attachments can be
    /// large; a relay that returns more has its report refused, not read in part.
    public static let maximumBytes = 16 << 20

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case tooLarge(Int)
        /// Not `multipart/report; report-type=delivery-status` (or its RFC 6533 global form).
        case notAReport(String)
        /// The report has no `message/delivery-status` part, or its fields are malformed.
        case malformed(String)

        public var description: String {
            switch self {
            case .tooLarge(let size): "too-large: a report of \(size) bytes (at most \(DeliveryStatusReport.maximumBytes))"
            case .notAReport(let reason): "not-a-report: \(reason)"
            case .malformed(let reason): "malformed: \(reason)"
            }
        }
    }

    public init(message bytes: [UInt8]) throws(ParseError) {
        guard bytes.count <= Self.maximumBytes else { throw .tooLarge(bytes.count) }
        let message = MIMEPart(bytes)
        guard let contentType = message.contentType, contentType.value == "multipart/report" else {
            throw .notAReport("the Content-Type is \(message.header("content-type")?.debugDescription ?? "missing"), not multipart/report")
        }
        let reportType = contentType.parameters["report-type"]?.lowercased()
        guard reportType == "delivery-status" || reportType == "global-delivery-status" else {
            throw .notAReport("a multipart/report of report-type \(reportType?.debugDescription ?? "none"), not delivery-status")
        }
        guard let boundary = contentType.parameters["boundary"], !boundary.isEmpty else { throw .malformed("the multipart/report has no boundary") }
        let parts = message.bodyParts(boundary: boundary)
        guard let status = parts.first(where: { ["message/delivery-status", "message/global-delivery-status"].contains($0.contentType?.value) }) else {
            throw .malformed("no message/delivery-status part among \(parts.count) parts")
        }
        let statusBody = status.decodedBody
        let statusText = String(decoding: statusBody, as: UTF8.self)
        let blocks = Self.fieldBlocks(statusText)
        guard let perMessage = blocks.first else { throw .malformed("the delivery-status part is empty") }
        var recipients: [Recipient] = []
        // A recipient block that lacks a field or whose Status is not an RFC 3463 code is
        // skipped, not the whole report: real reports carry blocks of their own kinds.
        for block in blocks.dropFirst() {
            guard let final = block["final-recipient"], let action = block["action"], let status = block["status"] else { continue }
            let code = status.split(separator: " ").first.map(String.init) ?? ""
            guard SMTPReply.isEnhancedStatus(Substring(code)) else { continue }
            recipients.append(Recipient(
                finalRecipient: Self.address(final), originalRecipient: block["original-recipient"].map(Self.address),
                action: action.lowercased().split(separator: " ").first.map(String.init) ?? "", status: code,
                diagnosticCode: block["diagnostic-code"], remoteMTA: block["remote-mta"]))
        }
        guard !recipients.isEmpty else { throw .malformed("the delivery-status part has no readable recipient block (Final-Recipient, Action and an RFC 3463 Status)") }
        let returned = parts.first { ["text/rfc822-headers", "message/rfc822", "message/global", "message/global-headers"].contains($0.contentType?.value) }
        let originalID = returned.flatMap { MIMEPart($0.decodedBody).header("message-id") }
            .map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "<>")) }
        self.reportingMTA = perMessage["reporting-mta"]
        self.envelopeID = perMessage["original-envelope-id"].map(Self.xtextDecoded)
        self.arrivalDate = perMessage["arrival-date"]
        self.recipients = recipients
        self.originalMessageID = originalID
        self.statusText = statusText.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
    }

    /// The recipient blocks whose action is `failed`: the ones a failure event is recorded for.
    public var failures: [Recipient] { recipients.filter { $0.action == "failed" } }

    /// Field blocks separated by blank lines; names lower-cased, folded lines unfolded. A
    /// repeated field keeps its first value.
    static func fieldBlocks(_ text: String) -> [[String: String]] {
        var blocks: [[String: String]] = []
        var current: [String: String] = [:]
        var lastName: String?
        for rawLine in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !current.isEmpty { blocks.append(current) }
                current = [:]
                lastName = nil
            } else if line.first == " " || line.first == "\t", let name = lastName {
                current[name, default: ""] += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                if current[name] == nil { current[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
                lastName = name
            }
        }
        if !current.isEmpty { blocks.append(current) }
        return blocks
    }

    /// `rfc822; ann@example.test` → `ann@example.test`.
    static func address(_ field: String) -> String {
        guard let semicolon = field.firstIndex(of: ";") else { return field }
        return field[field.index(after: semicolon)...].trimmingCharacters(in: .whitespaces)
    }

    static func xtextDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == 0x2B, let high = iterator.next(), let low = iterator.next(), [high, low].allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// One MIME entity: its header fields and its body, as far as a report needs them.
struct MIMEPart {
    let headers: [(name: String, value: String)]
    let body: [UInt8]

    init(_ bytes: [UInt8]) {
        // The header ends at the first empty line (CRLF CRLF, or LF LF from a Maildir file).
        var index = 0
        var headerEnd = bytes.count
        var bodyStart = bytes.count
        var lineStart = 0
        while index < bytes.count {
            if bytes[index] == 0x0A {
                let line = bytes[lineStart..<index]
                if line.isEmpty || line == [0x0D] {
                    headerEnd = lineStart
                    bodyStart = index + 1
                    break
                }
                lineStart = index + 1
            }
            index += 1
        }
        var fields: [(name: String, value: String)] = []
        for rawLine in String(decoding: bytes[..<headerEnd], as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n") {
            if rawLine.first == " " || rawLine.first == "\t", !fields.isEmpty {
                fields[fields.count - 1].value += " " + rawLine.trimmingCharacters(in: .whitespaces)
            } else if let colon = rawLine.firstIndex(of: ":") {
                fields.append((rawLine[..<colon].trimmingCharacters(in: .whitespaces).lowercased(), rawLine[rawLine.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
        }
        headers = fields
        body = bodyStart <= bytes.count ? Array(bytes[bodyStart...]) : []
    }

    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    struct ContentType {
        let value: String
        let parameters: [String: String]
    }

    /// `type/subtype; name=value; name="quoted value"`, type lower-cased, names lower-cased.
    var contentType: ContentType? {
        guard let field = header("content-type") else { return nil }
        var pieces: [String] = []
        var current = ""
        var quoted = false
        for character in field {
            if character == "\"" { quoted.toggle(); continue }
            if character == ";" && !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            parameters[piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()] = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return ContentType(value: pieces[0].trimmingCharacters(in: .whitespaces).lowercased(), parameters: parameters)
    }

    /// The parts of a multipart body, between `--boundary` lines.
    func bodyParts(boundary: String) -> [MIMEPart] {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [MIMEPart] = []
        var start: Int?
        var lineStart = 0
        var index = 0
        while index <= body.count {
            if index == body.count || body[index] == 0x0A {
                var line = Array(body[lineStart..<index])
                if line.last == 0x0D { line.removeLast() }
                while line.last == 0x20 || line.last == 0x09 { line.removeLast() }
                if line == delimiter || line == delimiter + [0x2D, 0x2D] {
                    if let start {
                        // The CRLF before the delimiter belongs to the delimiter (RFC 2046 §5.1.1).
                        var end = lineStart
                        if end > start, body[end - 1] == 0x0A { end -= 1 }
                        if end > start, body[end - 1] == 0x0D { end -= 1 }
                        parts.append(MIMEPart(Array(body[start..<max(start, end)])))
                    }
                    if line.count > delimiter.count { return parts }
                    start = min(index + 1, body.count)
                }
                lineStart = index + 1
            }
            index += 1
        }
        return parts
    }

    /// The body with its Content-Transfer-Encoding undone (base64 and quoted-printable).
    var decodedBody: [UInt8] {
        switch header("content-transfer-encoding")?.lowercased() {
        case "base64":
            let text = String(decoding: body, as: UTF8.self).filter { !$0.isWhitespace }
            return Data(base64Encoded: text).map(Array.init) ?? body
        case "quoted-printable":
            var out: [UInt8] = []
            var index = 0
            while index < body.count {
                if body[index] == 0x3D, index + 1 < body.count {
                    if body[index + 1] == 0x0A { index += 2; continue }
                    if body[index + 1] == 0x0D, index + 2 < body.count, body[index + 2] == 0x0A { index += 3; continue }
                    if index + 2 < body.count, let value = UInt8(String(decoding: body[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                        out.append(value)
                        index += 3
                        continue
                    }
                }
                out.append(body[index])
                index += 1
            }
            return out
        default:
            return body
        }
    }
}
