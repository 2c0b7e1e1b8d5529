/// The `notarium` command's exit statuses. The same meanings hold for every subcommand, so
/// scripts can rely on them; `verify` (a later issue) follows ETSI EN 319 102-1 with them.
public enum NotariumExit {
    /// The command did what was asked (for a check: it PASSED).
    public static let success: Int32 = 0
    /// The command ran and the operation failed, or a check FAILED; stderr names the failure.
    public static let failure: Int32 = 1
    /// The command could not run: bad arguments, bad configuration, unreadable input.
    public static let usage: Int32 = 2
    /// A check could not be decided for lack of validation data (INDETERMINATE).
    public static let indeterminate: Int32 = 3
}

/// A failure the CLI reports as `notarium: error [name]: reason` with its exit status.
struct CLIFailure: Error {
    /// A stable, kebab-case name scripts can match ("data-directory-in-use").
    let name: String
    let reason: String
    let status: Int32

    init(_ name: String, _ reason: String, status: Int32 = NotariumExit.failure) {
        self.name = name
        self.reason = reason
        self.status = status
    }
}
