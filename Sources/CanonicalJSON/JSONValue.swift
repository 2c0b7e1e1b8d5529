/// A JSON value as Notarium's long-lived records hold it.
///
/// Numbers are integers within ±(2^53 − 1) only (I-JSON's safe range). Every JCS implementation
/// (RFC 8785) writes such a number the same way, as its plain decimal digits; fractions,
/// exponents and larger integers would each need ECMAScript's number formatting to agree across
/// implementations, so records carry those as strings instead.
public enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The largest magnitude a number may have: 2^53 − 1.
    public static let maximumInteger: Int64 = (1 << 53) - 1

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The canonical (RFC 8785) UTF-8 bytes of this value.
    public var canonicalBytes: [UInt8] {
        var writer = CanonicalWriter()
        writer.write(self)
        return writer.bytes
    }

    /// The canonical form as a string.
    public var canonicalString: String {
        String(decoding: canonicalBytes, as: UTF8.self)
    }

    /// The canonical bytes, refusing in the same pass what could never be parsed back: an
    /// integer beyond ±(2^53 − 1) (an `Int64` can hold one, JSON here cannot) or nesting deeper
    /// than `maximumDepth`. Values built in code go through this before they are stored.
    public func canonicalBytes(maximumDepth: Int) throws(JSONError) -> [UInt8] {
        var writer = CanonicalWriter()
        writer.maximumDepth = maximumDepth
        writer.write(self)
        if let problem = writer.problem { throw problem }
        return writer.bytes
    }

    /// Nesting depth: a scalar is 0, `[]` and `{}` are 1.
    public var depth: Int {
        switch self {
        case .array(let items): 1 + (items.map(\.depth).max() ?? 0)
        case .object(let members): 1 + (members.values.map(\.depth).max() ?? 0)
        default: 0
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

/// Writes values in RFC 8785 canonical form: no whitespace, object members sorted by the UTF-16
/// code units of their names, strings with the minimal escapes of ECMAScript's JSON.stringify,
/// numbers (integers here) as plain decimal digits.
struct CanonicalWriter {
    var bytes: [UInt8] = []
    /// Limits checked while writing (see `canonicalBytes(maximumDepth:)`); the first breach is
    /// kept in `problem`, with the byte offset where it would have been written.
    var maximumDepth = Int.max
    var problem: JSONError?
    private var depth = 0

    init() { bytes.reserveCapacity(256) }

    mutating func write(_ value: JSONValue) {
        switch value {
        case .null: bytes += Array("null".utf8)
        case .bool(let flag): bytes += Array((flag ? "true" : "false").utf8)
        case .integer(let number):
            if (number > JSONValue.maximumInteger || number < -JSONValue.maximumInteger) && problem == nil {
                problem = JSONError(.unsupportedNumber, offset: bytes.count, "the number \(number) is outside ±(2^53 − 1); write it as a string")
            }
            bytes += Array(String(number).utf8)
        case .string(let text): writeString(text)
        case .array(let items):
            enter()
            defer { depth -= 1 }
            bytes.append(UInt8(ascii: "["))
            for (position, item) in items.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                write(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            enter()
            defer { depth -= 1 }
            bytes.append(UInt8(ascii: "{"))
            for (position, member) in members.sorted(by: { CanonicalJSON.precedes($0.key, $1.key) }).enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(member.key)
                bytes.append(UInt8(ascii: ":"))
                write(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private mutating func enter() {
        depth += 1
        if depth > maximumDepth && problem == nil {
            problem = JSONError(.tooDeep, offset: bytes.count, "nested deeper than \(maximumDepth) levels")
        }
    }

    mutating func writeString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings (hashes, names, identifiers) need no escape: copy them whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: text.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [0x5C, 0x22]
            case UInt8(ascii: "\\"): bytes += [0x5C, 0x5C]
            case 0x08: bytes += [0x5C, UInt8(ascii: "b")]
            case 0x0C: bytes += [0x5C, UInt8(ascii: "f")]
            case 0x0A: bytes += [0x5C, UInt8(ascii: "n")]
            case 0x0D: bytes += [0x5C, UInt8(ascii: "r")]
            case 0x09: bytes += [0x5C, UInt8(ascii: "t")]
            case 0x00..<0x20:
                bytes += Array("\\u00".utf8)
                bytes.append(CanonicalJSON.lowerHexDigits[Int(byte >> 4)])
                bytes.append(CanonicalJSON.lowerHexDigits[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
