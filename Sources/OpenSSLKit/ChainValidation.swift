internal import COpenSSL
internal import COpenSSLShims

/// Why a certificate path did not validate, sorted the way a verdict needs it: what proves the
/// certificate bad (revoked, expired), what leaves it unknown (no revocation data, no path to a
/// trust anchor), and everything else.
public enum ChainFailureKind: String, Sendable, Equatable {
    /// A certificate on the path is listed as revoked in a CRL valid at the time.
    case revoked
    /// A certificate on the path had expired at the time.
    case expired
    /// A certificate on the path was not yet valid at the time.
    case notYetValid
    /// No CRL valid at the time was available for some certificate on the path.
    case revocationUnknown = "revocation-unknown"
    /// The path does not reach a trusted certificate.
    case noPathToTrustAnchor = "no-path-to-trust-anchor"
    /// Any other defect: bad signature, wrong purpose, broken constraints.
    case invalid
}

public struct ChainFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let kind: ChainFailureKind
    /// OpenSSL's verify error code (X509_V_ERR_*), for the record.
    public let code: Int32
    /// The subject of the certificate at which validation stopped.
    public let subject: String
    /// Its place on the path: 0 is the certificate validated, 1 its issuer, and so on.
    public let depth: Int
    /// OpenSSL's own text for the code.
    public let message: String

    public var description: String { "\(message) (at \(subject))" }
}

/// RFC 5280 path validation by OpenSSL's `X509_verify_cert`, at a given time, with revocation
/// checked for every certificate on the path against the CRLs supplied, and nothing fetched.
public enum ChainValidation {
    /// Validates `leaf` at `time` (seconds since 1970).
    /// - Parameters:
    ///   - untrusted: certificates that may complete the path (intermediates); never anchors.
    ///   - trusted: the trust anchors.
    ///   - crls: revocation lists; OpenSSL picks, per certificate, one issued by its issuer and
    ///     valid at `time`. With `checkRevocation` false none is needed.
    ///   - timeStamping: require the RFC 3161 purpose (critical EKU timeStamping only).
    /// - Returns: the validated path, leaf first, anchor last.
    public static func validate(_ leaf: Certificate, untrusted: [Certificate], trusted: [Certificate], crls: [CertificateRevocationList], at time: Int64, checkRevocation: Bool, timeStamping: Bool = false) -> Result<[Certificate], ChainFailure> {
        OpenSSLError.clearQueue()
        defer { OpenSSLError.clearQueue() }
        guard let store = X509_STORE_new() else { return .failure(internalFailure("cannot allocate a certificate store")) }
        defer { X509_STORE_free(store) }
        for anchor in trusted { X509_STORE_add_cert(store, anchor.pointer) }
        for crl in crls { X509_STORE_add_crl(store, crl.pointer) }
        guard let context = X509_STORE_CTX_new() else { return .failure(internalFailure("cannot allocate a verification context")) }
        defer { X509_STORE_CTX_free(context) }
        guard let stack = notarium_sk_X509_new_null() else { return .failure(internalFailure("out of memory")) }
        defer { notarium_sk_X509_pop_free(stack) }
        for certificate in untrusted where X509_up_ref(certificate.pointer) == 1 {
            notarium_sk_X509_push(stack, certificate.pointer)
        }
        guard X509_STORE_CTX_init(context, store, leaf.pointer, stack) == 1 else { return .failure(internalFailure("cannot start path validation")) }
        let parameters = X509_STORE_CTX_get0_param(context)
        X509_VERIFY_PARAM_set_time(parameters, time_t(time))
        if checkRevocation {
            X509_VERIFY_PARAM_set_flags(parameters, UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL))
        }
        if timeStamping {
            X509_STORE_CTX_set_purpose(context, X509_PURPOSE_TIMESTAMP_SIGN)
        }
        if X509_verify_cert(context) == 1 {
            guard let chain = X509_STORE_CTX_get0_chain(context) else { return .success([leaf]) }
            let path: [Certificate] = (0..<notarium_sk_X509_num(chain)).compactMap { index in
                guard let certificate = notarium_sk_X509_value(chain, index), X509_up_ref(certificate) == 1 else { return nil }
                return Certificate(taking: certificate)
            }
            return .success(path)
        }
        let code = X509_STORE_CTX_get_error(context)
        let at = X509_STORE_CTX_get_current_cert(context).map { Certificate.format(X509_get_subject_name($0)) } ?? leaf.subject
        return .failure(ChainFailure(kind: kind(of: code), code: code, subject: at, depth: Int(X509_STORE_CTX_get_error_depth(context)), message: String(cString: X509_verify_cert_error_string(Int(code)))))
    }

    static func kind(of code: Int32) -> ChainFailureKind {
        switch code {
        case X509_V_ERR_CERT_REVOKED: .revoked
        case X509_V_ERR_CERT_HAS_EXPIRED: .expired
        case X509_V_ERR_CERT_NOT_YET_VALID: .notYetValid
        case X509_V_ERR_UNABLE_TO_GET_CRL, X509_V_ERR_CRL_NOT_YET_VALID, X509_V_ERR_CRL_HAS_EXPIRED, X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER,
            X509_V_ERR_DIFFERENT_CRL_SCOPE:
            .revocationUnknown
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
            X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_CERT_UNTRUSTED:
            .noPathToTrustAnchor
        default: .invalid
        }
    }

    private static func internalFailure(_ message: String) -> ChainFailure {
        ChainFailure(kind: .invalid, code: -1, subject: "", depth: 0, message: message)
    }
}
