internal import COpenSSL
internal import COpenSSLShims

/// RFC 5280 §5.3.1 CRLReason codes (8, removeFromCRL, is for delta CRLs; 6, certificateHold,
/// makes revocation reversible: Notarium uses neither, see docs/pki.md).
public enum RevocationReason: Int, Sendable, CaseIterable, CustomStringConvertible {
    case unspecified = 0
    case keyCompromise = 1
    case cACompromise = 2
    case affiliationChanged = 3
    case superseded = 4
    case cessationOfOperation = 5
    case certificateHold = 6
    case removeFromCRL = 8
    case privilegeWithdrawn = 9
    case aACompromise = 10

    /// The ASN.1 name ("keyCompromise").
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .keyCompromise: "keyCompromise"
        case .cACompromise: "cACompromise"
        case .affiliationChanged: "affiliationChanged"
        case .superseded: "superseded"
        case .cessationOfOperation: "cessationOfOperation"
        case .certificateHold: "certificateHold"
        case .removeFromCRL: "removeFromCRL"
        case .privilegeWithdrawn: "privilegeWithdrawn"
        case .aACompromise: "aACompromise"
        }
    }

    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name.lowercased() == name.lowercased() }) else { return nil }
        self = match
    }

    public var description: String { name }
}

/// One revoked certificate as a CRL lists it.
public struct RevokedCertificate: Sendable, Equatable {
    public let serial: [UInt8]
    /// Seconds since the epoch.
    public let revocationTime: Int64
    public let reason: RevocationReason

    public init(serial: [UInt8], revocationTime: Int64, reason: RevocationReason) {
        self.serial = serial
        self.revocationTime = revocationTime
        self.reason = reason
    }
}

/// An X.509 v2 CRL (RFC 5280 §5): the owning Swift type over `X509_CRL`.
public final class CertificateRevocationList: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { X509_CRL_free(pointer) }

    /// Parses one DER CRL; trailing bytes are an error.
    public convenience init(derEncoded bytes: [UInt8]) throws(OpenSSLError) {
        OpenSSLError.clearQueue()
        let parsed = decodeDER(bytes, { d2i_X509_CRL(nil, $0, $1) }, free: X509_CRL_free)
        guard let parsed else { throw OpenSSLError.drain(.malformedInput, "not a single DER-encoded CRL (\(bytes.count) bytes)") }
        self.init(taking: parsed)
    }

    public var derBytes: [UInt8] {
        return encodeDER { i2d_X509_CRL(pointer, $0) }
    }

    public var pem: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard PEM_write_bio_X509_CRL(bio, pointer) == 1 else { return "" }
        return readAll(bio)
    }

    public var issuerName: DistinguishedName { DistinguishedName(reading: X509_CRL_get_issuer(pointer)) }
    public var thisUpdate: Int64 { seconds(X509_CRL_get0_lastUpdate(pointer)) }
    public var nextUpdate: Int64 { seconds(X509_CRL_get0_nextUpdate(pointer)) }

    /// The cRLNumber extension's value, nil if absent.
    public var number: [UInt8]? {
        guard let value = X509_CRL_get_ext_d2i(pointer, NID_crl_number, nil, nil) else { return nil }
        let integer = value.assumingMemoryBound(to: ASN1_INTEGER.self)
        defer { ASN1_INTEGER_free(integer) }
        return integerBytes(integer)
    }

    /// Every revoked certificate it lists.
    public var revoked: [RevokedCertificate] {
        guard let list = X509_CRL_get_REVOKED(pointer) else { return [] }
        return (0..<notarium_sk_X509_REVOKED_num(list)).compactMap { index in
            guard let item = notarium_sk_X509_REVOKED_value(list, index) else { return nil }
            var reason = RevocationReason.unspecified
            if let value = X509_REVOKED_get_ext_d2i(item, NID_crl_reason, nil, nil) {
                let enumerated = value.assumingMemoryBound(to: ASN1_ENUMERATED.self)
                reason = RevocationReason(rawValue: Int(ASN1_ENUMERATED_get(enumerated))) ?? .unspecified
                ASN1_ENUMERATED_free(enumerated)
            }
            return RevokedCertificate(serial: integerBytes(X509_REVOKED_get0_serialNumber(item)), revocationTime: seconds(X509_REVOKED_get0_revocationDate(item)), reason: reason)
        }
    }

    /// Whether `issuer`'s key signed it.
    public func isSigned(by issuer: Certificate) -> Bool {
        guard let key = issuer.publicKey else { return false }
        defer { ERR_clear_error() }
        return X509_CRL_verify(pointer, key.pointer) == 1
    }

    /// Builds and signs a v2 CRL with cRLNumber and authorityKeyIdentifier; every entry carries
    /// its revocation date and, unless unspecified (RFC 5280 §5.3.1: SHOULD be absent then), its
    /// reasonCode. Entries are sorted by serial.
    public static func build(issuer: Certificate, signingKey: PrivateKey, number: UInt64, thisUpdate: Int64, nextUpdate: Int64, revoked: [RevokedCertificate]) throws(OpenSSLError) -> CertificateRevocationList {
        OpenSSLError.clearQueue()
        guard let crl = X509_CRL_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate a CRL") }
        let result = CertificateRevocationList(taking: crl)
        guard X509_CRL_set_version(crl, 1) == 1, X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer.pointer)) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot set the CRL's version and issuer")
        }
        guard let start = makeTime(thisUpdate), let end = makeTime(nextUpdate) else { throw OpenSSLError.drain(.operationFailed, "cannot encode the CRL's times") }
        defer {
            ASN1_TIME_free(start)
            ASN1_TIME_free(end)
        }
        guard X509_CRL_set1_lastUpdate(crl, start) == 1, X509_CRL_set1_nextUpdate(crl, end) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot set the CRL's times")
        }
        for entry in revoked {
            guard let item = X509_REVOKED_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate a CRL entry") }
            guard let serial = makeInteger(entry.serial), let date = makeTime(entry.revocationTime) else {
                X509_REVOKED_free(item)
                throw OpenSSLError.drain(.operationFailed, "cannot encode a CRL entry")
            }
            defer {
                ASN1_INTEGER_free(serial)
                ASN1_TIME_free(date)
            }
            var ok = X509_REVOKED_set_serialNumber(item, serial) == 1 && X509_REVOKED_set_revocationDate(item, date) == 1
            if ok && entry.reason != .unspecified {
                let code = ASN1_ENUMERATED_new()
                ok = code != nil && ASN1_ENUMERATED_set(code, entry.reason.rawValue) == 1
                    && X509_REVOKED_add1_ext_i2d(item, NID_crl_reason, code, 0, 0) == 1
                ASN1_ENUMERATED_free(code)
            }
            guard ok, X509_CRL_add0_revoked(crl, item) == 1 else {
                X509_REVOKED_free(item)
                throw OpenSSLError.drain(.operationFailed, "cannot add a CRL entry")
            }
        }
        guard let crlNumber = ASN1_INTEGER_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate the CRL number") }
        defer { ASN1_INTEGER_free(crlNumber) }
        guard ASN1_INTEGER_set_uint64(crlNumber, number) == 1, X509_CRL_add1_ext_i2d(crl, NID_crl_number, crlNumber, 0, 0) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot add the CRL number")
        }
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer.pointer, nil, nil, crl, 0)
        guard let keyIdentifier = X509V3_EXT_nconf(nil, &context, "authorityKeyIdentifier", "keyid:always") else {
            throw OpenSSLError.drain(.operationFailed, "cannot make the CRL's authorityKeyIdentifier")
        }
        defer { X509_EXTENSION_free(keyIdentifier) }
        guard X509_CRL_add_ext(crl, keyIdentifier, -1) == 1, X509_CRL_sort(crl) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot finish the CRL")
        }
        guard X509_CRL_sign(crl, signingKey.pointer, signingKey.signingDigest) > 0 else {
            throw OpenSSLError.drain(.operationFailed, "signing the CRL failed")
        }
        return result
    }
}
