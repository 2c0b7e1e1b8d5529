/// What an API client may do. A client has exactly one role, kept in the appliance's access
/// list (`AccessList`) rather than in its certificate, so that the appliance alone decides what
/// a certificate it issued may do, and a role is never read from bytes a client chose.
/// docs/api.md §2 lists every endpoint with the role it needs.
public enum Role: String, Sendable, CaseIterable {
    /// An institution's clerk or an ODR platform acting for it: deposits evidence, opens
    /// services and records their events, registers awards, exports bundles.
    case clerk
    /// Reads entries, proofs and bundles and runs the audit; writes nothing.
    case auditor
    /// Runs the appliance: issues and revokes client certificates, reads metrics.
    case `operator`
}

/// One thing a request asks to do, as roles grant it.
public enum Action: String, Sendable, CaseIterable {
    case depositEvidence = "deposit-evidence"
    case recordService = "record-service"
    case registerAward = "register-award"
    case readEntries = "read-entries"
    case exportBundles = "export-bundles"
    case audit = "audit"
    case manageClients = "manage-clients"
    case readMetrics = "read-metrics"
    /// Asking the TSA for a token, when `api.tsa-client-certificate` makes it need a client.
    case timeStamp = "time-stamp"
}

extension Role {
    /// The actions this role is granted: the one table access decisions read.
    public var actions: Set<Action> {
        switch self {
        case .clerk: [.depositEvidence, .recordService, .registerAward, .readEntries, .exportBundles, .timeStamp]
        case .auditor: [.readEntries, .exportBundles, .audit, .timeStamp]
        case .`operator`: [.manageClients, .readMetrics, .readEntries, .audit, .timeStamp]
        }
    }

    public func permits(_ action: Action) -> Bool { actions.contains(action) }
}
