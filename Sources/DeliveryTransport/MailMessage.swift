import Foundation

/// A notice as an Internet message (RFC 5322 with MIME, RFC 2045–2047 and 2231): UTF-8 text
/// in base64, so that any language travels through any relay as 7-bit lines, and documents as
/// base64 attachments. The bytes are built here rather than by a mail library because none is
/// in the package mirror; what they must be is checked in the tests by Python's `email`
/// package, reading the message from the recipient's Maildir.
public struct MailMessage: Sendable {
    public struct Address: Sendable, Equatable {
        public let name: String?
        public let mailbox: String
        public init(_ mailbox: String, name: String? = nil) {
            self.name = name
            self.mailbox = mailbox
        }
    }

    public struct Attachment: Sendable {
        public let filename: String
        public let mediaType: String
        public let content: [UInt8]
        public init(filename: String, mediaType: String, content: [UInt8]) {
            self.filename = filename
            self.mediaType = mediaType
            self.content = content
        }
    }

    public var from: Address
    public var to: [Address]
    public var subject: String
    /// Milliseconds since 1970 (UTC), written as the Date header.
    public var date: Int64
    /// Without angle brackets: `local@domain`. It names the message in bounces and replies.
    public var messageID: String
    /// The BCP 47 tag of the text (Content-Language, RFC 3282).
    public var language: String?
    public var text: String
    public var attachments: [Attachment]
    /// More header fields, in order (Auto-Submitted, Reply-To …). Names and values are checked
    /// when the message is rendered.
    public var extraHeaders: [(name: String, value: String)]

    public init(from: Address, to: [Address], subject: String, date: Int64, messageID: String, language: String? = nil,
                text: String, attachments: [Attachment] = [], extraHeaders: [(name: String, value: String)] = []) {
        self.from = from
        self.to = to
        self.subject = subject
        self.date = date
        self.messageID = messageID
        self.language = language
        self.text = text
        self.attachments = attachments
        self.extraHeaders = extraHeaders
    }

    public enum RenderError: Error, Equatable, CustomStringConvertible {
        /// A header name or value that would break the message's structure (a line break, a
        /// non-ASCII name, a mailbox that is not ASCII).
        case invalidHeader(String)
        public var description: String {
            switch self { case .invalidHeader(let reason): "invalid-header: \(reason)" }
        }
    }

    /// The message's bytes, CRLF line ends, every line under 78 characters. `boundary` is
    /// given by the caller so that a message can be rebuilt byte for byte (a retry sends the
    /// same bytes); it must not occur in base64 text, which a '=' or '_' guarantees.
    public func rendered(boundary: String) throws(RenderError) -> [UInt8] {
        guard boundary.count >= 10, boundary.count <= 70, boundary.contains("_") || boundary.contains("="),
              boundary.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_=-.".unicodeScalars.contains($0)) })
        else { throw .invalidHeader("the boundary \(boundary.debugDescription) is not 10–70 safe characters with a '_' or '='") }
        // A msg-id has the shape of a mailbox (RFC 5322 §3.6.4): one rule for both.
        guard SMTPEnvelope.isMailbox(messageID) else {
            throw .invalidHeader("the Message-ID \(messageID.debugDescription) is not local@domain in printable ASCII")
        }
        var lines: [String] = []
        try lines.append(header("From", MIMEEncoding.address(from)))
        try lines.append(header("To", to.map(MIMEEncoding.address).joined(separator: ", ")))
        try lines.append(header("Subject", MIMEEncoding.encodedWords(subject)))
        lines.append("Date: " + MIMEEncoding.rfc5322Date(milliseconds: date))
        lines.append("Message-ID: <\(messageID)>")
        if let language { try lines.append(header("Content-Language", language)) }
        for (name, value) in extraHeaders { try lines.append(header(name, value)) }
        lines.append("MIME-Version: 1.0")
        let textPart = [
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            // Text in its canonical form, CRLF line ends (RFC 2046 §4.1.1), before base64.
            MIMEEncoding.base64Lines(Array(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)),
        ]
        if attachments.isEmpty {
            lines += textPart
        } else {
            lines.append("Content-Type: multipart/mixed; boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("This is a message in MIME format.")
            lines.append("--" + boundary)
            lines += textPart
            for attachment in attachments {
                guard MIMEEncoding.isToken(mediaType: attachment.mediaType) else {
                    throw .invalidHeader("the media type \(attachment.mediaType.debugDescription) is not type/subtype")
                }
                lines.append("--" + boundary)
                lines.append("Content-Type: \(attachment.mediaType)")
                lines.append("Content-Transfer-Encoding: base64")
                lines += MIMEEncoding.dispositionLines(filename: attachment.filename)
                lines.append("")
                lines.append(MIMEEncoding.base64Lines(attachment.content))
            }
            lines.append("--" + boundary + "--")
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    func header(_ name: String, _ value: String) throws(RenderError) -> String {
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && $0 != ":" }) else {
            throw .invalidHeader("the header name \(name.debugDescription)")
        }
        // Scalars, not Characters: "\r\n" is one Character, equal to neither "\r" nor "\n".
        guard !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }), value.unicodeScalars.allSatisfy(\.isASCII) else {
            throw .invalidHeader("the value of \(name) has a line break or is not ASCII (encode it first)")
        }
        return MIMEEncoding.folded(name + ": " + value)
    }
}

/// The encodings a message's header and body need, each from its RFC.
public enum MIMEEncoding {
    public static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// Base64 in lines of 76 characters (RFC 2045 §6.8), CRLF between them.
    static func base64Lines(_ bytes: [UInt8]) -> String {
        let text = base64(bytes)
        var lines: [Substring] = []
        var start = text.startIndex
        while start < text.endIndex {
            let end = text.index(start, offsetBy: 76, limitedBy: text.endIndex) ?? text.endIndex
            lines.append(text[start..<end])
            start = end
        }
        return lines.joined(separator: "\r\n")
    }

    /// A header value as RFC 2047 encoded words when it is not plain ASCII, each word at most
    /// 75 characters and cut only between characters, so that no reader sees half a character.
    static func encodedWords(_ text: String, always: Bool = false) -> String {
        if !always && text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }) && !text.contains("=?") { return text }
        // "=?UTF-8?B?" + "?=" is 12 characters and 42 bytes are 56 of base64: a word of 68
        // characters, which fits a line after "Subject: " (RFC 2047 §2 allows 75).
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 42 && !chunk.isEmpty {
                words.append("=?UTF-8?B?\(base64(chunk))?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(base64(chunk))?=") }
        return words.joined(separator: " ")
    }

    static func address(_ address: MailMessage.Address) -> String {
        guard let name = address.name, !name.isEmpty else { return "<\(address.mailbox)>" }
        let plain = name.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }
        return (plain ? "\"\(name)\"" : encodedWords(name, always: true)) + " <\(address.mailbox)>"
    }

    /// A Content-Disposition with the file name twice: RFC 2231's UTF-8 form for readers that
    /// know it and an ASCII approximation for the others.
    static func dispositionLines(filename: String) -> [String] {
        let ascii = String(filename.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" ? Character($0) : "_" })
        var encoded = ""
        for byte in filename.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80 && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-._~".unicodeScalars.contains(scalar)) {
                encoded.unicodeScalars.append(scalar)
            } else {
                encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        guard ascii != filename else { return ["Content-Disposition: attachment;", " filename=\"\(ascii)\""] }
        // The RFC 2231 form first: readers that take the first filename parameter (Python's
        // email among them) then get the real name.
        // A long name is cut into RFC 2231 §3 continuations (filename*0*, filename*1* …), never
        // inside a %XX, so that no line passes 78 characters.
        var segments: [String] = []
        var segment = ""
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let width = encoded[index] == "%" ? 3 : 1
            let end = encoded.index(index, offsetBy: width, limitedBy: encoded.endIndex) ?? encoded.endIndex
            if segment.count + width > 56 {
                segments.append(segment)
                segment = ""
            }
            segment += encoded[index..<end]
            index = end
        }
        if !segment.isEmpty { segments.append(segment) }
        var lines = ["Content-Disposition: attachment;"]
        if segments.count == 1 {
            lines.append(" filename*=UTF-8''\(segments[0]);")
        } else {
            for (number, part) in segments.enumerated() {
                lines.append(" filename*\(number)*=\(number == 0 ? "UTF-8''" : "")\(part);")
            }
        }
        lines.append(" filename=\"\(ascii)\"")
        return lines
    }

    static func isToken(mediaType: String) -> Bool {
        let parts = mediaType.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { part in
            !part.isEmpty && part.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && !"()<>@,;:\\\"/[]?=".unicodeScalars.contains($0) }
        }
    }

    /// Folds a header line at spaces so that no line passes 78 characters where it can be
    /// avoided (RFC 5322 §2.2.3).
    static func folded(_ line: String) -> String {
        guard line.count > 78 else { return line }
        var out: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            // The field name stays with the first word of its value: a fold right after the
            // colon would give the value a leading space.
            if current.isEmpty || (out.isEmpty && current.hasSuffix(":") && !current.contains(" ")) {
                current += current.isEmpty ? String(word) : " " + word
            } else if current.count + 1 + word.count > 78 {
                out.append(current)
                current = " " + word
            } else {
                current += " " + word
            }
        }
        out.append(current)
        return out.joined(separator: "\r\n")
    }

    /// RFC 5322 §3.3 date-time in UTC: `Mon, 07 Dec 2026 09:12:05 +0000`.
    public static func rfc5322Date(milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
