internal import COpenSSL
internal import COpenSSLShims
import Glibc

extension Certificate {
    /// Parses one PEM CERTIFICATE block.
    public convenience init(pem: String) throws(OpenSSLError) {
        let stack = try CertificateStack(pem: pem)
        guard stack.count == 1, let only = notarium_sk_X509_value(stack.pointer, 0) else {
            throw OpenSSLError(code: .malformedInput, reason: "expected exactly one certificate, found \(stack.count)", openSSLErrors: [])
        }
        X509_up_ref(only)
        self.init(taking: only)
    }

    /// The PEM encoding ("-----BEGIN CERTIFICATE-----" …).
    public var pem: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard PEM_write_bio_X509(bio, pointer) == 1 else { return "" }
        return readAll(bio)
    }

    /// The serial number's magnitude, big-endian, without leading zeros.
    public var serialNumber: [UInt8] { integerBytes(X509_get0_serialNumber(pointer)) }

    /// The serial number in upper-case hex, as `openssl x509 -serial` prints it.
    public var serialHex: String { hex(serialNumber) }

    public var subjectName: DistinguishedName { DistinguishedName(reading: X509_get_subject_name(pointer)) }
    public var issuerName: DistinguishedName { DistinguishedName(reading: X509_get_issuer_name(pointer)) }

    /// notBefore, in seconds since the epoch.
    public var notBefore: Int64 { seconds(X509_get0_notBefore(pointer)) }
    /// notAfter, in seconds since the epoch.
    public var notAfter: Int64 { seconds(X509_get0_notAfter(pointer)) }

    /// The subject's public key. A certificate built from a request carries the request's
    /// encoded key without a decoded copy (see `PublicKey.request`); it is decoded here then.
    public var publicKey: PublicKey? {
        if let key = X509_get_pubkey(pointer) { return PublicKey(taking: key) }
        ERR_clear_error()
        guard let info = X509_get_X509_PUBKEY(pointer) else { return nil }
        return try? PublicKey(subjectPublicKeyInfo: encodeDER { i2d_X509_PUBKEY(info, $0) })
    }

    /// The subject alternative names.
    public var alternativeNames: [GeneralName] {
        guard let names = X509_get_ext_d2i(pointer, NID_subject_alt_name, nil, nil) else { return [] }
        let general = OpaquePointer(names)
        defer { GENERAL_NAMES_free(general) }
        return GeneralName.read(general)
    }

    /// Whether `issuer`'s key made this certificate's signature.
    public func isSigned(by issuer: Certificate) -> Bool {
        guard let key = issuer.publicKey else { return false }
        defer { ERR_clear_error() }
        return X509_verify(pointer, key.pointer) == 1
    }

    /// The text `openssl x509 -text -noout` prints.
    public var text: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard X509_print_ex(bio, pointer, notarium_XN_FLAG_RFC2253(), 0) == 1 else { return "" }
        return readAll(bio)
    }
}

/// The magnitude of an ASN.1 INTEGER, big-endian.
func integerBytes(_ integer: UnsafePointer<ASN1_INTEGER>?) -> [UInt8] {
    guard let integer, let number = ASN1_INTEGER_to_BN(integer, nil) else { return [] }
    defer { BN_free(number) }
    var bytes = [UInt8](repeating: 0, count: Int((BN_num_bits(number) + 7) / 8))
    BN_bn2bin(number, &bytes)
    return bytes
}

/// A new ASN.1 INTEGER (the caller frees it) from a big-endian magnitude.
func makeInteger(_ bytes: [UInt8]) -> UnsafeMutablePointer<ASN1_INTEGER>? {
    guard let number = BN_bin2bn(bytes, Int32(bytes.count), nil) else { return nil }
    defer { BN_free(number) }
    return BN_to_ASN1_INTEGER(number, nil)
}

/// Upper-case hex.
public func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Seconds since the epoch of an ASN.1 time.
func seconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int64 {
    guard let time else { return 0 }
    var parts = tm()
    guard ASN1_TIME_to_tm(time, &parts) == 1 else { return 0 }
    return Int64(timegm(&parts))
}

/// A new ASN.1 time (the caller frees it): UTCTime before 2050, GeneralizedTime from 2050, as
/// RFC 5280 §4.1.2.5 requires.
func makeTime(_ seconds: Int64) -> UnsafeMutablePointer<ASN1_TIME>? {
    ASN1_TIME_set(nil, time_t(seconds))
}

/// Lower-case hex, as `sha256sum` and `openssl dgst` print digests.
public func lowerHex(_ bytes: [UInt8]) -> String {
    hex(bytes).lowercased()
}

/// The bytes of hex text as people paste serials and fingerprints (`AB:CD`, `abcd`); nil when
/// it is not an even number of hex digits.
public func bytes(fromHex text: String) -> [UInt8]? {
    let digits = Array(text.utf8.filter { $0 != UInt8(ascii: ":") })
    guard digits.count % 2 == 0 else { return nil }
    func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
        bytes.append(high << 4 | low)
        index += 2
    }
    return bytes
}

/// A certificate serial number as people type it (`0x`, colons, odd length, leading zeros
/// allowed; at most 20 octets, RFC 5280 §4.1.2.2), as the minimal big-endian bytes the CA keys
/// its records by; nil when it is not one.
public func serialNumber(fromHex text: String) -> [UInt8]? {
    var digits = text.lowercased().replacingOccurrences(of: ":", with: "")
    if digits.hasPrefix("0x") { digits.removeFirst(2) }
    guard !digits.isEmpty, digits.count <= 40 else { return nil }
    if digits.count % 2 == 1 { digits = "0" + digits }
    guard var bytes = bytes(fromHex: digits) else { return nil }
    while bytes.count > 1 && bytes[0] == 0 { bytes.removeFirst() }
    return bytes
}
