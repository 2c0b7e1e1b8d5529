import OpenSSLKit
import RocksDBStore
import Sodium

/// The revocation data the appliance saw when it accepted a signature, kept so that a bundle
/// exported years later carries what was true at signing (ETSI EN 319 102-1 calls this
/// validation data; a CRL fetched later could no longer be placed before the signature).
///
/// Column family `notary-validation`, written in the same batch as the entry it serves:
/// - `crl/<sha256 of the CRL>` → the DER CRL, stored once however many signatures cite it;
/// - `signature/<sha256 of the CMS SignedData><sha256 of a CRL>` → empty: one key per CRL seen
///   for that signature. Keyed by the signature, not the entry's seq, because the batch is
///   built before the ledger assigns the seq; one key per pair, so a second deposit of the
///   same signature adds to what the first recorded and never replaces it.
public struct ValidationStore: Sendable {
    public static let family = "notary-validation"
    public static let columnFamilies = [family]

    let database: Database
    let column: ColumnFamily

    public init(database: Database) throws(NotaryError) {
        self.database = database
        column = try notaryFamily(Self.family, in: database)
    }

    static func signaturePrefix(_ signature: [UInt8]) -> [UInt8] { Array("signature/".utf8) + SHA256.hash(signature) }

    static func crlKey(_ digest: [UInt8]) -> [UInt8] { Array("crl/".utf8) + digest }

    /// Adds to `batch` the CRLs captured when `signature` was accepted. `signature` is whatever
    /// identifies the record's validated object: a CMS SignedData, or the canonical body of a
    /// service event (which has no signature; its token's TSA path needs the CRLs of its time).
    func record(crls: [[UInt8]], for signature: [UInt8], in batch: inout WriteBatch) {
        let prefix = Self.signaturePrefix(signature)
        for crl in crls {
            let digest = SHA256.hash(crl)
            batch.put(Self.crlKey(digest), crl, in: column)
            batch.put(prefix + digest, [], in: column)
        }
    }

    /// The CRLs captured for each of `signatures` (a record's signatures, or a service's event
    /// bodies), in that order, each CRL once.
    public func crls(for signatures: [[UInt8]]) throws(NotaryError) -> [[UInt8]] {
        var all: [[UInt8]] = []
        for signature in signatures {
            for crl in try crls(for: signature) where !all.contains(crl) { all.append(crl) }
        }
        return all
    }

    /// The CRLs captured when `signature` was accepted; empty when none were.
    public func crls(for signature: [UInt8]) throws(NotaryError) -> [[UInt8]] {
        let prefix = Self.signaturePrefix(signature)
        let what = "signature \(lowerHex(Array(prefix.suffix(32).prefix(8))))…"
        let keys: [KeyValue]
        do {
            keys = try database.scan(in: column, from: prefix, to: prefix + [UInt8](repeating: 0xFF, count: SHA256.byteCount + 1))
        } catch {
            throw NotaryError(.storage, "cannot read the validation data of \(what): \(error)")
        }
        var crls: [[UInt8]] = []
        for key in keys {
            let digest = Array(key.key.dropFirst(prefix.count))
            let crl: [UInt8]?
            do {
                crl = try database.get(Self.crlKey(digest), in: column)
            } catch {
                throw NotaryError(.storage, "cannot read a CRL of \(what): \(error)")
            }
            guard digest.count == SHA256.byteCount, let crl, SHA256.hash(crl) == digest else {
                throw NotaryError(.storage, "a CRL captured for \(what) is missing or damaged")
            }
            crls.append(crl)
        }
        return crls
    }
}

/// A column family of the notary's, or why the data directory lacks it.
func notaryFamily(_ name: String, in database: Database) throws(NotaryError) -> ColumnFamily {
    do {
        return try database.columnFamily(name)
    } catch {
        throw NotaryError(.storage, "the \(name) column family is missing: \(error)")
    }
}
