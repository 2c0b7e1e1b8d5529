/// Parsing JSON strictly, and checking that bytes are in RFC 8785 (JCS) canonical form.
///
/// Two modes. `parse(_:)` reads any RFC 8259 JSON that `JSONValue` can hold (input from people
/// and programs: whitespace and any member order are fine). `parseCanonical(_:)` accepts only the
/// exact bytes `JSONValue.canonicalBytes` would write, and says where and why others differ:
/// stored ledger entries must be byte-exact, because their hash is what every proof commits to.
///
/// Both refuse what would make two readers disagree: duplicate member names, invalid UTF-8, lone
/// UTF-16 surrogates, non-integer or out-of-range numbers, nesting beyond `maximumDepth`.
public enum CanonicalJSON {
    /// Deeper documents are refused: a record that nests 64 levels is a mistake or an attack.
    public static let maximumDepth = 64

    static let lowerHexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// RFC 8785 §3.2.3 member order: by UTF-16 code units, not by Unicode scalars or bytes.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    /// Parses JSON text; formatting and member order are free.
    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        var parser = Parser(bytes: bytes, canonical: false)
        return try parser.parseDocument()
    }

    /// Parses bytes that must already be canonical; anything else is `.notCanonical` with the
    /// offset and what is wrong there.
    public static func parseCanonical(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        var parser = Parser(bytes: bytes, canonical: true)
        let value = try parser.parseDocument()
        // The parser checks each rule as it goes; this comparison is the backstop that makes
        // "accepted" mean "byte-identical to what we would write".
        let canonical = value.canonicalBytes
        if canonical != bytes {
            let offset = zip(canonical, bytes).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(canonical.count, bytes.count)
            throw JSONError(.notCanonical, offset: offset, "the bytes differ from their canonical form at this offset")
        }
        return value
    }
}

/// Why bytes are not acceptable JSON here; `offset` is the byte where the problem was found.
public struct JSONError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Not JSON at all (RFC 8259 grammar).
        case syntax = "syntax"
        /// Valid JSON, but not in RFC 8785 canonical form.
        case notCanonical = "not-canonical"
        /// A number that is not an integer within ±(2^53 − 1).
        case unsupportedNumber = "unsupported-number"
        /// The same member name twice in one object.
        case duplicateKey = "duplicate-key"
        /// Bytes that are not UTF-8, or a `\u` escape that is a lone surrogate.
        case invalidText = "invalid-text"
        /// Nested deeper than `CanonicalJSON.maximumDepth`.
        case tooDeep = "too-deep"
    }

    public let code: Code
    public let offset: Int
    public let reason: String

    public init(_ code: Code, offset: Int, _ reason: String) {
        self.code = code
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(code.rawValue) at byte \(offset): \(reason)" }
}

private struct Parser {
    let bytes: [UInt8]
    let canonical: Bool
    var position = 0

    init(bytes: [UInt8], canonical: Bool) {
        self.bytes = bytes
        self.canonical = canonical
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        try skipWhitespace()
        let value = try parseValue(depth: 0)
        try skipWhitespace()
        guard position == bytes.count else {
            throw JSONError(.syntax, offset: position, "unexpected data after the JSON value")
        }
        return value
    }

    private func fail(_ reason: String) -> JSONError {
        JSONError(.syntax, offset: position, reason)
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() throws(JSONError) {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            if canonical { throw JSONError(.notCanonical, offset: position, "whitespace outside a string") }
            position += 1
        }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(JSONError) {
        guard current == byte else {
            throw fail(current == nil ? "the text ends where \(what) was expected" : "expected \(what)")
        }
        position += 1
    }

    private mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard let byte = current else { throw fail("the text ends where a value was expected") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .integer(try parseNumber())
        default: throw fail("unexpected character where a value was expected")
        }
    }

    private mutating func literal(_ word: String) throws(JSONError) {
        let expected = Array(word.utf8)
        guard bytes.count - position >= expected.count, Array(bytes[position..<position + expected.count]) == expected else {
            throw fail("invalid literal (expected \(word))")
        }
        position += expected.count
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= CanonicalJSON.maximumDepth else {
            throw JSONError(.tooDeep, offset: position, "nested deeper than \(CanonicalJSON.maximumDepth) levels")
        }
        position += 1
        var members: [String: JSONValue] = [:]
        var previousKey: String?
        try skipWhitespace()
        if current == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            let keyOffset = position
            guard current == UInt8(ascii: "\"") else { throw fail("expected a member name in double quotes") }
            let key = try parseString()
            guard members[key] == nil else {
                throw JSONError(.duplicateKey, offset: keyOffset, "the member name \"\(key)\" appears twice in one object")
            }
            if canonical, let previousKey, !CanonicalJSON.precedes(previousKey, key) {
                throw JSONError(.notCanonical, offset: keyOffset, "member \"\(key)\" comes after \"\(previousKey)\"; canonical order sorts names by UTF-16 code units")
            }
            previousKey = key
            try skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after a member name")
            try skipWhitespace()
            members[key] = try parseValue(depth: depth)
            try skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
                try skipWhitespace()
                continue
            }
            try expect(UInt8(ascii: "}"), "',' or '}' in an object")
            return .object(members)
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= CanonicalJSON.maximumDepth else {
            throw JSONError(.tooDeep, offset: position, "nested deeper than \(CanonicalJSON.maximumDepth) levels")
        }
        position += 1
        var items: [JSONValue] = []
        try skipWhitespace()
        if current == UInt8(ascii: "]") { position += 1; return .array(items) }
        while true {
            items.append(try parseValue(depth: depth))
            try skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
                try skipWhitespace()
                continue
            }
            try expect(UInt8(ascii: "]"), "',' or ']' in an array")
            return .array(items)
        }
    }

    private mutating func parseNumber() throws(JSONError) -> Int64 {
        let start = position
        var negative = false
        if current == UInt8(ascii: "-") { negative = true; position += 1 }
        guard let first = current, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else {
            throw fail("a digit must follow '-'")
        }
        var magnitude: Int64 = 0
        var digits = 0
        while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            if digits == 1 && bytes[position - 1] == UInt8(ascii: "0") {
                throw JSONError(.syntax, offset: start, "numbers must not have leading zeros")
            }
            digits += 1
            if digits <= 18 { magnitude = magnitude * 10 + Int64(byte - UInt8(ascii: "0")) }
            position += 1
        }
        if let byte = current, byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            throw JSONError(.unsupportedNumber, offset: start, "numbers must be integers; write fractions and exponents as strings")
        }
        guard digits <= 16, magnitude <= JSONValue.maximumInteger else {
            throw JSONError(.unsupportedNumber, offset: start, "the number is outside ±(2^53 − 1); write it as a string")
        }
        if negative && magnitude == 0 {
            if canonical { throw JSONError(.notCanonical, offset: start, "-0 is written 0 in canonical form") }
            return 0
        }
        return negative ? -magnitude : magnitude
    }

    private mutating func parseString() throws(JSONError) -> String {
        let start = position
        position += 1
        var text: [UInt8] = []
        while true {
            guard let byte = current else { throw JSONError(.syntax, offset: start, "the string is not terminated") }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let string = String(validating: text, as: UTF8.self) else {
                    throw JSONError(.invalidText, offset: start, "the string is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                try parseEscape(into: &text)
            case 0x00..<0x20:
                throw fail("a control character must be escaped inside a string")
            default:
                text.append(byte)
                position += 1
            }
        }
    }

    private mutating func parseEscape(into text: inout [UInt8]) throws(JSONError) {
        let escapeOffset = position
        position += 1
        guard let kind = current else { throw fail("the text ends inside an escape") }
        position += 1
        switch kind {
        case UInt8(ascii: "\""): text.append(0x22)
        case UInt8(ascii: "\\"): text.append(0x5C)
        case UInt8(ascii: "/"):
            if canonical { throw JSONError(.notCanonical, offset: escapeOffset, "'/' is written unescaped in canonical form") }
            text.append(0x2F)
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hexUnit(at: escapeOffset)
            var scalarValue = UInt32(unit)
            if (0xD800..<0xDC00).contains(unit) {
                guard bytes.count - position >= 6, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                    throw JSONError(.invalidText, offset: escapeOffset, "a high surrogate escape must be followed by a low surrogate escape")
                }
                position += 2
                let low = try hexUnit(at: escapeOffset)
                guard (0xDC00..<0xE000).contains(low) else {
                    throw JSONError(.invalidText, offset: escapeOffset, "a high surrogate escape must be followed by a low surrogate escape")
                }
                scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            } else if (0xDC00..<0xE000).contains(unit) {
                throw JSONError(.invalidText, offset: escapeOffset, "a lone low surrogate escape")
            }
            if canonical {
                // Canonical form escapes only control characters that have no short form, as
                // \u00 and two lower-case hex digits.
                let shortForms: Set<UInt32> = [0x08, 0x09, 0x0A, 0x0C, 0x0D]
                let written = bytes[(escapeOffset + 2)..<(escapeOffset + 6)]
                guard scalarValue < 0x20, !shortForms.contains(scalarValue), written.allSatisfy({ !($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "F")) }) else {
                    throw JSONError(.notCanonical, offset: escapeOffset, "this \\u escape is not canonical (only control characters without a short form are escaped, in lower-case hex)")
                }
            }
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw JSONError(.invalidText, offset: escapeOffset, "the escape is not a Unicode scalar value")
            }
            text += Array(String(Character(scalar)).utf8)
        default:
            throw JSONError(.syntax, offset: escapeOffset, "unknown escape")
        }
    }

    private mutating func hexUnit(at escapeOffset: Int) throws(JSONError) -> UInt16 {
        guard bytes.count - position >= 4 else { throw JSONError(.syntax, offset: escapeOffset, "a \\u escape needs four hex digits") }
        var unit: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONError(.syntax, offset: escapeOffset, "a \\u escape needs four hex digits")
            }
            unit = unit << 4 | UInt16(digit)
            position += 1
        }
        return unit
    }
}
