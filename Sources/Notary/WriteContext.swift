import Ledger
import Records
import RocksDBStore

/// Who asked for a write, and what the caller must have written with it.
///
/// The API names the client certificate in the record (`requestedBy`), and keeps its
/// idempotency record in the entry's own batch, so that "appended" and "this request was
/// answered" can never disagree after a crash.
public struct WriteContext: Sendable {
    /// The API client; nil for the command line on the data directory.
    public var requester: Requester?
    /// The caller's own writes, given the seq the entry gets; they join the entry's batch.
    public var alongside: (@Sendable (UInt64) -> WriteBatch)?

    public init(requester: Requester?, alongside: (@Sendable (UInt64) -> WriteBatch)? = nil) {
        self.requester = requester
        self.alongside = alongside
    }

    /// A write made with the command line: no requester, nothing alongside.
    public static let commandLine = WriteContext(requester: nil)

    /// `own`'s writes for a seq followed by the caller's.
    func with(_ own: @escaping @Sendable (UInt64) -> WriteBatch) -> @Sendable (UInt64) -> WriteBatch {
        guard let alongside else { return own }
        return { seq in
            var batch = own(seq)
            batch.append(contentsOf: alongside(seq))
            return batch
        }
    }
}
