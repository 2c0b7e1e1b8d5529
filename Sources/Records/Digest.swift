import CanonicalJSON
import OpenSSLKit

/// A digest that names its algorithm, `{"algorithm":"sha-256","value":"<base64>"}`. Names are
/// those of the IANA "Named Information Hash Algorithm Registry" (RFC 6920).
public struct NamedDigest: Sendable, Equatable {
    public let algorithm: TimeStampHash
    public let value: [UInt8]

    public init(algorithm: TimeStampHash, value: [UInt8]) {
        self.algorithm = algorithm
        self.value = value
    }

    /// The algorithms a record may name. SHA-256 is required in every list; SHA-512 may follow.
    public static let permitted: [TimeStampHash] = [.sha256, .sha512]

    public static func name(_ algorithm: TimeStampHash) -> String {
        switch algorithm {
        case .sha256: "sha-256"
        case .sha384: "sha-384"
        case .sha512: "sha-512"
        }
    }

    public var json: JSONValue {
        .object(["algorithm": .string(Self.name(algorithm)), "value": .string(Base64.encode(value))])
    }

    /// A list as records hold it: SHA-256 required, each algorithm at most once, in the order
    /// of `permitted`.
    public static func list(_ value: JSONValue?, at path: String) throws(RecordError) -> [NamedDigest] {
        let items = try Field.array(value, at: path, minimum: 1, maximum: permitted.count)
        var digests: [NamedDigest] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            let members = try Field.object(item, at: itemPath, required: ["algorithm", "value"])
            let name = try Field.string(members["algorithm"], at: itemPath + ".algorithm")
            guard let algorithm = permitted.first(where: { Self.name($0) == name }) else {
                throw RecordError(.schema, "\(itemPath).algorithm is \"\(name)\"; a record names sha-256 or sha-512")
            }
            let bytes = try Field.base64(members["value"], at: itemPath + ".value")
            guard bytes.count == algorithm.length else {
                throw RecordError(.schema, "\(itemPath).value is \(bytes.count) bytes; a \(name) digest is \(algorithm.length)")
            }
            guard !digests.contains(where: { $0.algorithm == algorithm }) else {
                throw RecordError(.schema, "\(path) names \(name) twice")
            }
            // One order, so that one set of digests has one encoding.
            if let previous = digests.last, permitted.firstIndex(of: previous.algorithm)! > permitted.firstIndex(of: algorithm)! {
                throw RecordError(.schema, "\(path) lists \(name) after \(Self.name(previous.algorithm)); the order is sha-256, sha-512")
            }
            digests.append(NamedDigest(algorithm: algorithm, value: bytes))
        }
        guard digests.contains(where: { $0.algorithm == .sha256 }) else {
            throw RecordError(.schema, "\(path) has no sha-256 digest; sha-256 is required")
        }
        return digests
    }

    /// The digests of a document, in the permitted order.
    public static func compute(file path: String) throws(OpenSSLError) -> (size: UInt64, digests: [NamedDigest]) {
        let result = try FileDigest.compute(path: path, algorithms: permitted)
        return (result.size, zip(permitted, result.digests).map { NamedDigest(algorithm: $0, value: $1) })
    }

    public static func compute(bytes: [UInt8]) -> (size: UInt64, digests: [NamedDigest]) {
        (UInt64(bytes.count), permitted.map { NamedDigest(algorithm: $0, value: $0.digest(bytes)) })
    }
}
