internal import COpenSSL
internal import COpenSSLShims

/// A PKCS#12 file (RFC 7292): a client's key and certificate in the one file curl
/// (`--cert-type P12`), browsers and Windows import. Built by OpenSSL's `PKCS12_create` with
/// OpenSSL 3's defaults (AES-256-CBC under PBKDF2, an HMAC-SHA-256 MAC), which is what
/// `openssl pkcs12 -export` writes and what Python's `cryptography` reads.
public enum PKCS12 {
    /// Encodes `key`, its `certificate` and the CA certificates above it under `password`.
    /// - Parameter name: the friendly name a key store shows for the entry.
    public static func export(key: PrivateKey, certificate: Certificate, chain: [Certificate], password: String, name: String) throws(OpenSSLError) -> [UInt8] {
        OpenSSLError.clearQueue()
        let stack = try CertificateStack()
        for certificate in chain {
            X509_up_ref(certificate.pointer)
            guard notarium_sk_X509_push(stack.pointer, certificate.pointer) > 0 else {
                X509_free(certificate.pointer)
                throw OpenSSLError.drain(.operationFailed, "cannot add a CA certificate to the PKCS#12 file")
            }
        }
        // nid 0 for the key and certificate algorithms and iteration/MAC defaults: OpenSSL 3's
        // own choice, kept current by OpenSSL rather than frozen here.
        guard let p12 = PKCS12_create(password, name, key.pointer, certificate.pointer, stack.pointer, 0, 0, 0, 0, 0) else {
            throw OpenSSLError.drain(.operationFailed, "cannot build the PKCS#12 file")
        }
        defer { PKCS12_free(p12) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_PKCS12(p12, &output)
        guard length > 0, let output else { throw OpenSSLError.drain(.operationFailed, "cannot encode the PKCS#12 file") }
        defer { CRYPTO_free(output, #fileID, #line) }
        return Array(UnsafeBufferPointer(start: output, count: Int(length)))
    }
}

extension PrivateKey {
    /// The key as an unencrypted PKCS#8 PEM block (`-----BEGIN PRIVATE KEY-----`), for a key
    /// file that curl or Python's `requests` reads. Meant for keys handed to a client, which
    /// protects the file itself; the appliance's own keys are only ever sealed.
    public func unencryptedPEM() throws(OpenSSLError) -> String {
        OpenSSLError.clearQueue()
        guard let bio = BIO_new(BIO_s_secmem()) ?? BIO_new(BIO_s_mem()) else {
            throw OpenSSLError.drain(.operationFailed, "cannot allocate a memory BIO")
        }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PKCS8PrivateKey(bio, pointer, nil, nil, 0, nil, nil) == 1 else {
            throw OpenSSLError.drain(.operationFailed, "cannot write the private key as PEM")
        }
        return readAll(bio)
    }
}
