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

    /// The sentence `key` with `{0}`, `{1}`… replaced by `arguments`.
    public func render(_ key: String, _ arguments: [String]) -> String {
        var sentence = text(key)
        for (index, argument) in arguments.enumerated() {
            sentence = sentence.replacingOccurrences(of: "{\(index)}", with: argument)
        }
        return sentence
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    fileprivate func range(of target: String) -> Range<Substring.Index>? {
        let needle = Array(target)
        var index = startIndex
        while index < endIndex {
            var probe = index
            var matched = 0
            while matched < needle.count, probe < endIndex, self[probe] == needle[matched] {
                probe = self.index(after: probe)
                matched += 1
            }
            if matched == needle.count { return index..<probe }
            index = self.index(after: index)
        }
        return nil
    }
}
