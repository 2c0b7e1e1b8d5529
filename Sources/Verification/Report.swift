import CanonicalJSON

/// The outcome of one check, as ETSI EN 319 102-1 names outcomes.
public enum CheckStatus: String, Sendable {
    case passed
    case failed
    /// The check could not conclude: validation data is missing (never counted as passed).
    case indeterminate
    /// Not applicable to this bundle, or its input was not given (e.g. no document).
    case skipped
}

/// The bundle's verdict (ETSI EN 319 102-1 §5.1.3) and the exit status `notarium verify` gives it.
public enum Verdict: String, Sendable {
    case passed = "PASSED"
    case failed = "FAILED"
    case indeterminate = "INDETERMINATE"

    public var exitStatus: Int32 {
        switch self {
        case .passed: 0
        case .failed: 1
        case .indeterminate: 3
        }
    }
}

/// One named check on one part of the bundle.
public struct CheckResult: Sendable, Equatable {
    /// Stable identifier (docs/verification.md lists them all), e.g. `timestamp.token`.
    public let check: String
    /// What was checked: `entry 7`, `checkpoint 12`, `document`, a signer's role.
    public let subject: String
    public let status: CheckStatus
    /// ETSI EN 319 102-1 sub-indication when not passed (HASH_FAILURE, REVOKED, TRY_LATER…).
    public let subIndication: String?
    /// Catalogue key of the sentence that explains the outcome, and its arguments.
    public let message: String
    public let arguments: [String]
    /// Technical detail, untranslated (OpenSSL's error text, the field at fault).
    public let detail: String?

    public init(_ check: String, _ subject: String, _ status: CheckStatus, subIndication: String? = nil, message: String, _ arguments: [String] = [], detail: String? = nil) {
        self.check = check
        self.subject = subject
        self.status = status
        self.subIndication = subIndication
        self.message = message
        self.arguments = arguments
        self.detail = detail
    }
}

/// A fact the bundle proves, for the report: label key and value.
public struct Fact: Sendable, Equatable {
    public let label: String
    public let value: String

    public init(_ label: String, _ value: String) {
        self.label = label
        self.value = value
    }
}

/// Everything `notarium verify` found, in a form both the human report and `--json` render.
public struct VerificationReport: Sendable {
    public var checks: [CheckResult] = []
    /// What the bundle is and what it proves (case, document, signer, times), in report order.
    public var facts: [Fact] = []

    public var verdict: Verdict {
        if checks.contains(where: { $0.status == .failed }) { return .failed }
        if checks.contains(where: { $0.status == .indeterminate }) { return .indeterminate }
        // A bundle on which no check ran proves nothing.
        return checks.contains(where: { $0.status == .passed }) ? .passed : .indeterminate
    }

    /// The stable JSON form (docs/verification.md §4): canonical, members sorted.
    public func json(catalogue: Catalogue) -> JSONValue {
        .object([
            "verdict": .string(verdict.rawValue),
            "exitStatus": .integer(Int64(verdict.exitStatus)),
            "facts": .array(facts.map { .object(["label": .string($0.label), "value": .string($0.value)]) }),
            "checks": .array(checks.map { check in
                var members: [String: JSONValue] = [
                    "check": .string(check.check),
                    "subject": .string(check.subject),
                    "status": .string(check.status.rawValue),
                    "message": .string(catalogue.render(check.message, check.arguments)),
                ]
                if let sub = check.subIndication { members["subIndication"] = .string(sub) }
                if let detail = check.detail { members["detail"] = .string(detail) }
                return .object(members)
            }),
        ])
    }

    /// The human report: verdict first, then what is proven, then every check.
    public func text(catalogue: Catalogue) -> String {
        var lines: [String] = []
        lines.append("\(catalogue.text("report.verdict")): \(catalogue.text("verdict.\(verdict.rawValue)"))")
        if verdict != .passed {
            let named = checks.filter { $0.status == (verdict == .failed ? .failed : .indeterminate) }
            lines.append("  " + catalogue.render("report.because", [named.map { "\($0.check) (\($0.subject))" }.joined(separator: ", ")]))
        }
        lines.append("")
        let width = facts.map { catalogue.text("fact.\($0.label)").count }.max() ?? 0
        for fact in facts {
            let label = catalogue.text("fact.\(fact.label)")
            lines.append("  \(label)\(String(repeating: " ", count: max(0, width - label.count))) : \(fact.value)")
        }
        lines.append("")
        lines.append(catalogue.text("report.checks"))
        for check in checks {
            let mark = catalogue.text("status.\(check.status.rawValue)")
            var line = "  [\(mark)] \(catalogue.text("check.\(check.check)")) — \(check.subject): \(catalogue.render(check.message, check.arguments))"
            if let sub = check.subIndication { line += " [\(sub)]" }
            lines.append(line)
            if let detail = check.detail, check.status != .passed { lines.append("        \(detail)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
