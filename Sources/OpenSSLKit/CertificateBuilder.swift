internal import COpenSSL
internal import COpenSSLShims

/// One X.509 v3 extension in OpenSSL's configuration syntax, which OpenSSL itself encodes:
/// `("keyUsage", "critical,digitalSignature,nonRepudiation")`, `("subjectKeyIdentifier", "hash")`,
/// `("authorityInfoAccess", "OCSP;URI:http://…,caIssuers;URI:http://…")`. Values are built by
/// Notarium from validated parts, never copied from a request.
public struct ExtensionSpec: Sendable, Equatable {
    public let name: String
    public let value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// Makes and signs X.509 v3 certificates with libcrypto.
public enum CertificateBuilder {
    /// Builds and signs one certificate.
    /// - Parameters:
    ///   - serial: the serial's magnitude, big-endian (positive; at most 20 octets, RFC 5280).
    ///   - issuer: the issuing CA's certificate; nil for a self-signed root (`subject` is then
    ///     also the issuer, and `signingKey` must be the subject key's private half).
    ///   - extensions: in the order they should appear; `subjectKeyIdentifier` before
    ///     `authorityKeyIdentifier`, which is computed from the issuer.
    public static func build(
        serial: [UInt8], subject: DistinguishedName, publicKey: PublicKey, notBefore: Int64, notAfter: Int64,
        extensions: [ExtensionSpec], issuer: Certificate?, signingKey: PrivateKey
    ) throws(OpenSSLError) -> Certificate {
        OpenSSLError.clearQueue()
        guard let x509 = X509_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate a certificate") }
        let certificate = Certificate(taking: x509)
        guard X509_set_version(x509, 2) == 1 else { throw OpenSSLError.drain(.operationFailed, "cannot set the version") }
        guard let integer = makeInteger(serial) else { throw OpenSSLError.drain(.operationFailed, "cannot make the serial number") }
        defer { ASN1_INTEGER_free(integer) }
        guard X509_set_serialNumber(x509, integer) == 1 else { throw OpenSSLError.drain(.operationFailed, "cannot set the serial number") }
        let name = try subject.makeName()
        defer { X509_NAME_free(name) }
        guard X509_set_subject_name(x509, name) == 1 else { throw OpenSSLError.drain(.operationFailed, "cannot set the subject") }
        let issuerName = issuer.map { X509_get_subject_name($0.pointer) } ?? name
        guard X509_set_issuer_name(x509, issuerName) == 1 else { throw OpenSSLError.drain(.operationFailed, "cannot set the issuer") }
        guard let start = makeTime(notBefore), let end = makeTime(notAfter) else {
            throw OpenSSLError.drain(.operationFailed, "cannot encode the validity")
        }
        defer {
            ASN1_TIME_free(start)
            ASN1_TIME_free(end)
        }
        guard X509_set1_notBefore(x509, start) == 1, X509_set1_notAfter(x509, end) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot set the validity")
        }
        if publicKey.request?.copyPublicKey(into: x509) != true {
            guard X509_set_pubkey(x509, publicKey.pointer) == 1 else { throw OpenSSLError.drain(.operationFailed, "cannot set the public key") }
        }

        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer?.pointer ?? x509, x509, nil, nil, 0)
        // Some extensions (certificatePolicies) are read through a configuration database even
        // when their value references no section; an empty one serves.
        guard let configuration = NCONF_new(nil) else { throw OpenSSLError.drain(.operationFailed, "cannot allocate a configuration") }
        defer { NCONF_free(configuration) }
        X509V3_set_nconf(&context, configuration)
        for spec in extensions {
            guard let extensionObject = X509V3_EXT_nconf(configuration, &context, spec.name, spec.value) else {
                throw OpenSSLError.drain(.malformedInput, "OpenSSL refused the extension \(spec.name) = \(spec.value)")
            }
            defer { X509_EXTENSION_free(extensionObject) }
            guard X509_add_ext(x509, extensionObject, -1) == 1 else {
                throw OpenSSLError.drain(.operationFailed, "cannot add the extension \(spec.name)")
            }
        }
        guard X509_sign(x509, signingKey.pointer, signingKey.signingDigest) > 0 else {
            throw OpenSSLError.drain(.operationFailed, "signing the certificate failed")
        }
        // The certificate as any reader will see it: read back from its DER. The object built
        // here is not one: a public key copied from a CSR (set0_param) leaves its cached key
        // undecodable, so OpenSSL's own consumers (CMS_add1_signer, X509_check_private_key)
        // failed on it with "unable to get certs public key".
        return try Certificate(derEncoded: certificate.derBytes)
    }
}
