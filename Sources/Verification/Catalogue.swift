/// The sentences of the report in one language. Adding a language is adding one catalogue
/// (a dictionary with the same keys) to `Catalogue.all`; a key missing from a catalogue falls
/// back to English, so a partial translation never hides a result.
public struct Catalogue: Sendable {
    public let language: String
    let entries: [String: String]

    public static let all: [String: Catalogue] = [
        "en": Catalogue(language: "en", entries: english),
        "zh": Catalogue(language: "zh", entries: simplifiedChinese),
    ]

    public static var languages: [String] { all.keys.sorted() }

    public func text(_ key: String) -> String {
        entries[key] ?? english[key] ?? key
    }

    /// The sentence `key` with `{0}`, `{1}`… replaced by `arguments`, in one pass, so that an
    /// argument taken from a bundle (a certificate's subject) is never itself expanded.
    public func render(_ key: String, _ arguments: [String]) -> String {
        var output = ""
        var rest = Substring(text(key))
        while let open = rest.firstIndex(of: "{") {
            output += rest[..<open]
            let digits = rest[rest.index(after: open)...].prefix(while: \.isASCII).prefix(while: \.isNumber)
            let close = digits.endIndex
            if let index = Int(digits), close < rest.endIndex, rest[close] == "}", index < arguments.count {
                output += arguments[index]
                rest = rest[rest.index(after: close)...]
            } else {
                output += "{"
                rest = rest[rest.index(after: open)...]
            }
        }
        return output + rest
    }
}
