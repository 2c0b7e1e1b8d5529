import CanonicalJSON
import RocksDBStore
import Sodium

/// The revocation data the appliance saw when it accepted a signature, kept so that a bundle
/// exported years later carries what was true at signing (ETSI EN 319 102-1 calls this
/// validation data; a CRL fetched later could no longer be placed before the signature).
///
/// Column family `notary-validation`: `crl/<sha256>` → the DER CRL, stored once however many
/// records cite it; `signature/<sha256 of the CMS SignedData>` → canonical JSON
/// `{"crls":["<sha256 hex>",…]}`. Keyed by the signature, not the entry's seq, because it is
/// written in the same batch as the entry, before the ledger has assigned the seq.
public struct ValidationStore: Sendable {
    public static let family = "notary-validation"
    public static let columnFamilies = [family]

    let database: Database
    let column: ColumnFamily

    public init(database: Database) throws(NotaryError) {
        self.database = database
        do {
            column = try database.columnFamily(Self.family)
        } catch {
            throw NotaryError(.storage, "the \(Self.family) column family is missing: \(error)")
        }
    }

    static func signatureKey(_ signature: [UInt8]) -> [UInt8] { Array("signature/".utf8) + SHA256.hash(signature) }

    static func crlKey(_ digest: [UInt8]) -> [UInt8] { Array("crl/".utf8) + digest }

    /// Adds to `batch` the CRLs captured when `signature` was accepted.
    func record(crls: [[UInt8]], for signature: [UInt8], in batch: inout WriteBatch) {
        var names: [JSONValue] = []
        for crl in crls {
            let digest = SHA256.hash(crl)
            batch.put(Self.crlKey(digest), crl, in: column)
            names.append(.string(hexString(digest)))
        }
        batch.put(Self.signatureKey(signature), JSONValue.object(["crls": .array(names)]).canonicalBytes, in: column)
    }

    /// The CRLs captured when `signature` was accepted; empty when none were.
    public func crls(for signature: [UInt8]) throws(NotaryError) -> [[UInt8]] {
        let what = "signature \(hexString(Array(SHA256.hash(signature).prefix(8))))…"
        let stored: [UInt8]?
        do {
            stored = try database.get(Self.signatureKey(signature), in: column)
        } catch {
            throw NotaryError(.storage, "cannot read the validation data of \(what): \(error)")
        }
        guard let stored else { return [] }
        guard let value = try? CanonicalJSON.parseCanonical(stored), let names = value["crls"]?.arrayValue else {
            throw NotaryError(.storage, "the validation data of \(what) is unreadable")
        }
        var crls: [[UInt8]] = []
        for name in names {
            guard let text = name.stringValue, let digest = bytes(fromHex: text) else {
                throw NotaryError(.storage, "the validation data of \(what) names a CRL badly")
            }
            let crl: [UInt8]?
            do {
                crl = try database.get(Self.crlKey(digest), in: column)
            } catch {
                throw NotaryError(.storage, "cannot read a CRL of \(what): \(error)")
            }
            guard let crl, SHA256.hash(crl) == digest else { throw NotaryError(.storage, "a CRL captured for \(what) is missing or damaged") }
            crls.append(crl)
        }
        return crls
    }
}

func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
}

func bytes(fromHex text: String) -> [UInt8]? {
    let scalars = Array(text.utf8)
    guard scalars.count % 2 == 0 else { return nil }
    var output: [UInt8] = []
    var index = 0
    while index < scalars.count {
        guard let high = hexValue(scalars[index]), let low = hexValue(scalars[index + 1]) else { return nil }
        output.append(high << 4 | low)
        index += 2
    }
    return output
}

private func hexValue(_ character: UInt8) -> UInt8? {
    switch character {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
    default: nil
    }
}
