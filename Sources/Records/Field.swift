import CanonicalJSON
import Ledger

/// Strict readers for the members of a record: each names the JSON path of what it refuses,
/// so a refusal reads `document.digests[1].value is not base64`, not "invalid input".
public enum Field {
    /// An object with exactly the `required` members and any of the `optional` ones.
    public static func object(_ value: JSONValue?, at path: String, required: Set<String>, optional: Set<String> = []) throws(RecordError) -> [String: JSONValue] {
        guard let value else { throw RecordError(.schema, "\(path) is missing") }
        guard case .object(let members) = value else { throw RecordError(.schema, "\(path) must be an object") }
        let keys = Set(members.keys)
        if let missing = required.subtracting(keys).sorted().first {
            throw RecordError(.schema, "\(join(path, missing)) is missing")
        }
        if let unknown = keys.subtracting(required).subtracting(optional).sorted().first {
            throw RecordError(.schema, "\(join(path, unknown)) is not a member this record has")
        }
        return members
    }

    public static func string(_ value: JSONValue?, at path: String, maximumLength: Int = 1024) throws(RecordError) -> String {
        guard let value else { throw RecordError(.schema, "\(path) is missing") }
        guard case .string(let text) = value else { throw RecordError(.schema, "\(path) must be a string") }
        guard text.unicodeScalars.count <= maximumLength else { throw RecordError(.schema, "\(path) is longer than \(maximumLength) characters") }
        return text
    }

    public static func optionalString(_ value: JSONValue?, at path: String, maximumLength: Int = 1024) throws(RecordError) -> String? {
        guard let value else { return nil }
        return try string(value, at: path, maximumLength: maximumLength)
    }

    public static func integer(_ value: JSONValue?, at path: String, range: ClosedRange<Int64>) throws(RecordError) -> Int64 {
        guard let value else { throw RecordError(.schema, "\(path) is missing") }
        guard case .integer(let number) = value else { throw RecordError(.schema, "\(path) must be an integer") }
        guard range.contains(number) else { throw RecordError(.schema, "\(path) is \(number), outside \(range.lowerBound)…\(range.upperBound)") }
        return number
    }

    public static func array(_ value: JSONValue?, at path: String, minimum: Int = 0, maximum: Int) throws(RecordError) -> [JSONValue] {
        guard let value else { throw RecordError(.schema, "\(path) is missing") }
        guard case .array(let items) = value else { throw RecordError(.schema, "\(path) must be an array") }
        guard items.count >= minimum else { throw RecordError(.schema, "\(path) needs at least \(minimum) item\(minimum == 1 ? "" : "s")") }
        guard items.count <= maximum else { throw RecordError(.schema, "\(path) has \(items.count) items, more than \(maximum)") }
        return items
    }

    /// Strict base64 (one spelling per byte string), non-empty.
    public static func base64(_ value: JSONValue?, at path: String, maximumBytes: Int = 1 << 20) throws(RecordError) -> [UInt8] {
        let text = try string(value, at: path, maximumLength: (maximumBytes + 2) / 3 * 4)
        guard let bytes = Base64.decode(text), !bytes.isEmpty else { throw RecordError(.encoding, "\(path) is not canonical base64 of at least one byte") }
        // The text bound above admits up to two bytes more than the limit.
        guard bytes.count <= maximumBytes else { throw RecordError(.schema, "\(path) is \(bytes.count) bytes; at most \(maximumBytes) are read") }
        return bytes
    }

    /// An RFC 3339 UTC time with milliseconds, as entries write it.
    /// A channel's name: `email`, `sms`, `portal` or `postal-hybrid`.
    public static func channel(_ value: JSONValue?, at path: String) throws(RecordError) -> ServiceChannel {
        let name = try string(value, at: path, maximumLength: 32)
        guard let channel = ServiceChannel(rawValue: name) else {
            throw RecordError(.schema, "\(path) \"\(name)\" is not a channel (\(ServiceChannel.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return channel
    }

    public static func time(_ value: JSONValue?, at path: String) throws(RecordError) -> Int64 {
        let text = try string(value, at: path, maximumLength: 32)
        guard let milliseconds = LedgerTime.parse(text) else {
            throw RecordError(.schema, "\(path) is \"\(text)\", not an RFC 3339 UTC time with milliseconds (YYYY-MM-DDTHH:MM:SS.mmmZ)")
        }
        return milliseconds
    }

    /// A case, service or award identifier: 1–128 characters of letters, digits and `._:/-`,
    /// starting with a letter or digit. Identifiers are public: they must not carry names.
    public static func identifier(_ value: JSONValue?, at path: String) throws(RecordError) -> String {
        let text = try string(value, at: path, maximumLength: 128)
        guard isIdentifier(text) else {
            throw RecordError(.schema, "\(path) \"\(text)\" is not an identifier (1–128 of A–Z a–z 0–9 . _ : / -, starting with a letter or digit)")
        }
        return text
    }

    public static func isIdentifier(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.first, scalars.count <= 128, isAlphanumeric(first) else { return false }
        return scalars.allSatisfy { isAlphanumeric($0) || "._:/-".unicodeScalars.contains($0) }
    }

    /// An RFC 6838 media type `type/subtype` (no parameters).
    public static func mediaType(_ value: JSONValue?, at path: String) throws(RecordError) -> String {
        let text = try string(value, at: path, maximumLength: 255)
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let permitted = Set("!#$&-^_.+".unicodeScalars)
        guard parts.count == 2, parts.allSatisfy({ part in
            guard let first = part.unicodeScalars.first, isAlphanumeric(first), part.unicodeScalars.count <= 127 else { return false }
            return part.unicodeScalars.allSatisfy { isAlphanumeric($0) || permitted.contains($0) }
        }) else {
            throw RecordError(.schema, "\(path) \"\(text)\" is not a media type (type/subtype, RFC 6838)")
        }
        return text.lowercased()
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    private static func join(_ path: String, _ member: String) -> String { path.isEmpty ? member : "\(path).\(member)" }
}
