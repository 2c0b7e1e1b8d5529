import Foundation
import Synchronization

/// A clock a test sets: milliseconds since the epoch, for code that takes a `clock` closure.
public final class TestClock: Sendable {
    private let now: Mutex<Int64>
    public init(_ start: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) { now = Mutex(start) }
    public func read() -> Int64 { now.withLock { $0 } }
    public func set(_ value: Int64) { now.withLock { $0 = value } }
    public func advance(_ milliseconds: Int64) { now.withLock { $0 += milliseconds } }
}
