import CanonicalJSON
import OpenSSLKit

/// Who asked the appliance for a write over its API: the SHA-256 of the TLS client certificate
/// the request came with (member `requestedBy` of evidence, service and award bodies).
///
/// The certificate itself is in the ledger already, in the `certificate-issued` entry that
/// registered the client with its name and role, so the hash is enough for the ledger to say
/// who did what. Writes made with the command line on the data directory carry no requester:
/// the operator who holds the data directory is the one who made them.
public struct Requester: Sendable, Equatable {
    /// 32 bytes: SHA-256 of the client certificate's DER.
    public let certificateSHA256: [UInt8]

    public init(certificateSHA256: [UInt8]) {
        self.certificateSHA256 = certificateSHA256
    }

    /// `{"clientCertificateSha256": "<64 lowercase hex digits>"}`: hex, as `openssl x509
    /// -fingerprint -sha256` and the CA's own entries (`certificateSha256`) show it.
    public var json: JSONValue {
        .object(["clientCertificateSha256": .string(lowerHex(certificateSHA256))])
    }

    static func parse(_ value: JSONValue?, at path: String) throws(RecordError) -> Requester? {
        guard let value else { return nil }
        let members = try Field.object(value, at: path, required: ["clientCertificateSha256"])
        let text = try Field.string(members["clientCertificateSha256"], at: path + ".clientCertificateSha256", maximumLength: 64)
        guard text.count == 64, text == text.lowercased(), !text.contains(":"), let bytes = OpenSSLKit.bytes(fromHex: text) else {
            throw RecordError(.schema, "\(path).clientCertificateSha256 is not 64 lowercase hex digits")
        }
        return Requester(certificateSHA256: bytes)
    }
}
