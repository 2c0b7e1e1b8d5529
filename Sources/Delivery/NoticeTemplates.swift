import Foundation
import Records
import Yams

/// The wording of every notice, one file per language (`en.yaml`, `zh-Hans.yaml`, `es.yaml` in
/// `appliance/notices/`), so that a new language is a new file a translator writes, not code.
///
/// A file is a flat YAML mapping of the keys in `requiredKeys` to text with `{{placeholders}}`.
/// Every file is checked when it is loaded, not when a notice is due: a missing key, an unknown
/// key or an unknown placeholder stops start-up with the file's name, rather than a recipient
/// getting a notice with a hole in it at night.
public struct NoticeTemplates: Sendable {
    /// The texts a notice can need.
    public static let requiredKeys = [
        "language-name", "email-subject", "email-text", "email-text-with-documents", "sms-notice", "one-time-code",
        "code-email-subject", "reminder-email-subject", "reminder-sms",
        // The recipient portal's page (docs/delivery.md §13).
        "portal-title", "portal-identify", "portal-send-code", "portal-code-sent", "portal-code-label", "portal-verify",
        "portal-wrong-code", "portal-locked", "portal-invalid", "portal-documents-intro", "portal-download", "portal-acknowledge",
        "portal-refuse", "portal-refuse-reason", "portal-acknowledged", "portal-refused", "portal-documents-gone",
        "destination-sms", "destination-email",
    ]
    /// What a text may refer to.
    public static let placeholders: Set<String> = ["institution", "case", "service", "link", "documents", "code", "deadline", "destination", "remaining", "time"]
    /// The language used when none of a recipient's languages has a file.
    public static let fallbackLanguage = "en"

    /// BCP 47 tag → key → text.
    let texts: [String: [String: String]]

    /// The tags that have a file, in tag order (kept: `language(for:)` runs for every notice and page).
    public let languages: [String]

    public struct LoadError: Error, Equatable, CustomStringConvertible {
        public let file: String
        public let reason: String
        public var description: String { "notice templates: \(file): \(reason)" }
    }

    /// Reads every `*.yaml` file of `directory`; the file's name (without `.yaml`) is its BCP 47
    /// language tag. There must be one for `fallbackLanguage`.
    public init(directory: String) throws(LoadError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted()
        } catch {
            throw LoadError(file: directory, reason: "cannot be read: \(error.localizedDescription)")
        }
        var texts: [String: [String: String]] = [:]
        for name in names {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path), let source = String(data: data, encoding: .utf8) else {
                throw LoadError(file: path, reason: "cannot be read as UTF-8")
            }
            texts[String(name.dropLast(".yaml".count))] = try Self.parse(source, file: path)
        }
        try self.init(texts: texts, source: directory)
    }

    /// The languages this build carries (appliance/notices, embedded by
    /// scripts/embed-notices.sh): the default when no directory is configured.
    public static func embedded() throws(LoadError) -> NoticeTemplates {
        var texts: [String: [String: String]] = [:]
        for (language, source) in EmbeddedNotices.files {
            texts[language] = try parse(source, file: "(embedded) \(language).yaml")
        }
        return try NoticeTemplates(texts: texts, source: "(embedded)")
    }

    /// The file texts this build carries, for the test that they match appliance/notices.
    public static var embeddedFiles: [String: String] { EmbeddedNotices.files }

    /// Templates given as text, for tests and for embedding.
    public init(texts: [String: [String: String]], source: String = "(given)") throws(LoadError) {
        for (language, entries) in texts {
            guard LanguageTag.isValid(language) else { throw LoadError(file: language, reason: "the file name is not a BCP 47 language tag (en, zh-Hans, es)") }
            for key in Self.requiredKeys where entries[key] == nil {
                throw LoadError(file: language, reason: "no \(key)")
            }
            for (key, text) in entries {
                guard Self.requiredKeys.contains(key) else { throw LoadError(file: language, reason: "unknown key \(key) (keys: \(Self.requiredKeys.joined(separator: ", ")))") }
                for name in try Self.placeholderNames(in: text, file: language, key: key) where !Self.placeholders.contains(name) {
                    throw LoadError(file: language, reason: "\(key) refers to {{\(name)}}, which is not one of \(Self.placeholders.sorted().joined(separator: ", "))")
                }
            }
        }
        guard texts[Self.fallbackLanguage] != nil else { throw LoadError(file: source, reason: "no \(Self.fallbackLanguage).yaml, the language of last resort") }
        self.texts = texts
        languages = texts.keys.sorted()
    }

    /// For each of `preferred` in turn: the file of that tag (case-insensitively), of a shorter
    /// form of it (`zh-Hans-CN` → `zh-Hans`, `es-MX` → `es`), or of the same primary language
    /// (`zh-CN` → `zh-Hans`, `es` → `es-419`), first in tag order; then English. Chinese in
    /// Traditional script (`zh-Hant`, `zh-TW`, `zh-HK`, `zh-MO`) is never given Simplified.
    public func language(for preferred: [String]) -> String {
        let tags = languages
        func same(_ a: String, _ b: String) -> Bool { a.caseInsensitiveCompare(b) == .orderedSame }
        for tag in preferred {
            if let exact = tags.first(where: { same($0, tag) }) { return exact }
            var subtags = tag.split(separator: "-").map(String.init)
            while subtags.count > 1 {
                subtags.removeLast()
                let shorter = subtags.joined(separator: "-")
                if let match = tags.first(where: { same($0, shorter) }) { return match }
            }
            let parts = tag.split(separator: "-").map { $0.lowercased() }
            guard let primary = parts.first else { continue }
            let traditional = primary == "zh" && !Set(parts.dropFirst()).isDisjoint(with: ["hant", "tw", "hk", "mo"])
            if let match = tags.first(where: { candidate in
                let candidateParts = candidate.split(separator: "-").map { $0.lowercased() }
                guard candidateParts.first == primary else { return false }
                let simplified = candidateParts.contains("hans")
                return !(traditional && simplified)
            }) { return match }
        }
        return Self.fallbackLanguage
    }

    /// `key`'s text in `language` with `values` put in. A placeholder without a value is left
    /// empty (a notice without, say, a deadline reads naturally if its text allows for it).
    public func render(_ key: String, language: String, values: [String: String]) -> String {
        let text = texts[language]?[key] ?? texts[Self.fallbackLanguage]![key]!
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                out += rest[open.lowerBound...]
                return out
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            out += values[name] ?? ""
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    static func placeholderNames(in text: String, file: String, key: String) throws(LoadError) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw LoadError(file: file, reason: "\(key) opens a {{ that it does not close")
            }
            names.append(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return names
    }

    static func parse(_ source: String, file: String) throws(LoadError) -> [String: String] {
        let node: Any?
        do {
            node = try Yams.load(yaml: source)
        } catch {
            throw LoadError(file: file, reason: "is not YAML: \(error)")
        }
        guard let mapping = node as? [String: Any] else { throw LoadError(file: file, reason: "is not a mapping of keys to texts") }
        var texts: [String: String] = [:]
        for (key, value) in mapping {
            guard let text = value as? String else { throw LoadError(file: file, reason: "\(key) is not text") }
            texts[key] = text
        }
        return texts
    }

}
