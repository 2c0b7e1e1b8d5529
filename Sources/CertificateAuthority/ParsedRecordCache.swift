import Synchronization

/// The last value parsed from a stored record, kept with the bytes it was parsed from.
///
/// Parsing X.509 with OpenSSL 3 costs tens of microseconds per certificate (its decoders are
/// looked up per call), and the CA's certificates and CRLs are read for every signature the
/// appliance checks, while they change a few times a year. Reading the stored bytes is cheap;
/// when they are the bytes last parsed, the parsed value is returned again. Keyed by the exact
/// bytes, so a new CRL or a new hierarchy is parsed on its first read and never missed.
final class ParsedRecordCache<Value: Sendable>: Sendable {
    private let last = Mutex<(bytes: [UInt8], value: Value)?>(nil)

    init() {}

    func value<E: Error>(for bytes: [UInt8], parse: ([UInt8]) throws(E) -> Value) throws(E) -> Value {
        if let cached = last.withLock({ $0 }), cached.bytes == bytes { return cached.value }
        let value = try parse(bytes)
        last.withLock { $0 = (bytes, value) }
        return value
    }
}
