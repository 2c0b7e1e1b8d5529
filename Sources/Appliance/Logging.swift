import CanonicalJSON
import Glibc
import Logging

/// Sets up swift-log for an executable: one JSON object per line on standard error (`json`), or
/// swift-log's plain text (`text`). Call once, before the first logger is made.
public func bootstrapLogging(format: ApplianceConfiguration.LogFormat, level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler: any LogHandler
        switch format {
        case .json: handler = JSONLogHandler(label: label)
        case .text: handler = StreamLogHandler.standardError(label: label)
        }
        handler.logLevel = level
        return handler
    }
}

/// Writes each record as one JSON object on one line: `time` (RFC 3339 UTC), `level`, `logger`,
/// `message`, then the metadata keys (dotted: `ledger.seq`, `http.status`). journald and log
/// shippers index these fields without parsing prose.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        var line = "{\"time\":\(jsonString(utcTimestamp())),\"level\":\(jsonString(event.level.rawValue)),\"logger\":\(jsonString(label)),\"message\":\(jsonString(event.message.description))"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !["time", "level", "logger", "message"].contains(key) {
            line += ",\(jsonString(key)):\(jsonValue(value))"
        }
        line += "}\n"
        // One write(2) per record, so concurrent records never interleave within a line.
        _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
    }

    private func jsonValue(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return jsonString(text)
        case .stringConvertible(let convertible): return jsonString(convertible.description)
        case .array(let values): return "[" + values.map(jsonValue).joined(separator: ",") + "]"
        case .dictionary(let values):
            return "{" + values.sorted(by: { $0.key < $1.key }).map { "\(jsonString($0.key)):\(jsonValue($0.value))" }.joined(separator: ",") + "}"
        }
    }
}

/// A JSON string literal for `text`, escaped as canonical JSON escapes it (RFC 8785): for the few JSON documents the
/// appliance writes by hand (log lines, problem details, short status replies).
public func jsonString(_ text: String) -> String {
    JSONValue.string(text).canonicalString
}

/// Writes `text` and a newline to standard error in one write(2), unbuffered: for the one-line
/// failures executables print before (or instead of) logging.
public func printToStandardError(_ text: String) {
    let line = text.hasSuffix("\n") ? text : text + "\n"
    _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
}
