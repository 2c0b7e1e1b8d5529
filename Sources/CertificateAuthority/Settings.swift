import OpenSSLKit

/// Object identifiers Notarium assigns itself, under a UUID arc (ITU-T X.667, OID 2.25.<UUID>),
/// which needs no registration. An institution that has its own arc sets `ca.policy-oid` to a
/// policy of its own; the default only says "issued by a Notarium CA under its default policy".
public enum NotariumOID {
    /// 2.25 + UUID 80bc76bd-6674-4653-9307-2bef1bdb78a1 as an integer.
    public static let arc = "2.25.171119743600037763923101405922864101537"
    /// Certificate policy: the default Notarium certificate policy, version 1 (docs/pki.md).
    public static let defaultCertificatePolicy = arc + ".1.1"
    /// Extended key usage: signing ledger checkpoints (C2SP signed notes).
    public static let ledgerCheckpointSigning = arc + ".2.1"
    /// Time-stamp policy: the default TSA policy, version 1 (issue 6, docs/tsa.md).
    public static let defaultTimeStampPolicy = arc + ".3.1"
}

/// The CA's settings, from the appliance configuration (keys `ca.*` and `public-base-url`).
public struct CASettings: Sendable, Equatable {
    /// The CA keys' algorithm: ECDSA P-256 (default) or RSA-3072.
    public var algorithm: KeyAlgorithm
    public var rootSubject: DistinguishedName
    public var issuingSubject: DistinguishedName
    public var rootValidityDays: Int
    public var issuingValidityDays: Int
    /// Where relying parties reach the appliance: the CRL distribution point, OCSP URL and
    /// caIssuers URL of every issued certificate are under it. Baked into certificates, so it
    /// should be the name the appliance will keep.
    public var publicBaseURL: String
    /// The certificatePolicies OID of every certificate the issuing CA signs.
    public var policyOID: String
    /// nextUpdate − thisUpdate of the issuing CA's CRL; it is re-signed when half has passed.
    public var crlValidityHours: Int
    /// nextUpdate − thisUpdate of OCSP responses.
    public var ocspValiditySeconds: Int64 = 3600
    /// The root CA's CRL (listing only the issuing CA) is valid this long.
    public var rootCRLValidityDays: Int = 180

    public init(algorithm: KeyAlgorithm, rootSubject: DistinguishedName, issuingSubject: DistinguishedName, rootValidityDays: Int, issuingValidityDays: Int, publicBaseURL: String, policyOID: String, crlValidityHours: Int) {
        self.algorithm = algorithm
        self.rootSubject = rootSubject
        self.issuingSubject = issuingSubject
        self.rootValidityDays = rootValidityDays
        self.issuingValidityDays = issuingValidityDays
        self.publicBaseURL = publicBaseURL.hasSuffix("/") ? String(publicBaseURL.dropLast()) : publicBaseURL
        self.policyOID = policyOID
        self.crlValidityHours = crlValidityHours
    }

    /// The algorithms a CA key may use.
    public static let caAlgorithms: [KeyAlgorithm] = [.ecdsaP256, .rsa3072]

    public var crlURL: String { publicBaseURL + "/ca/crl" }
    public var rootCRLURL: String { publicBaseURL + "/ca/root.crl" }
    public var ocspURL: String { publicBaseURL + "/ocsp" }
    public var issuingCertificateURL: String { publicBaseURL + "/ca/issuing" }
    public var rootCertificateURL: String { publicBaseURL + "/ca/root" }

    /// The setting a validation failure is about, so that configuration can name its key.
    public enum Setting: Sendable, Equatable {
        case algorithm, rootSubject, issuingSubject, validity, publicBaseURL, policyOID, crlValidity
    }

    /// A setting that cannot be used, and why.
    public struct Invalid: Error, Equatable {
        public let setting: Setting
        public let reason: String
    }

    /// Checks what would otherwise fail deep inside OpenSSL or be baked into certificates wrong.
    public func validate() throws(Invalid) {
        guard Self.caAlgorithms.contains(algorithm) else {
            throw Invalid(setting: .algorithm, reason: "a CA key is \(Self.caAlgorithms.map(\.rawValue).joined(separator: " or ")), not \(algorithm.rawValue)")
        }
        guard Self.isPlainURL(publicBaseURL) else {
            throw Invalid(setting: .publicBaseURL, reason: "the public base URL must be http:// or https:// followed by a host (and port, path) without spaces or commas: \(publicBaseURL)")
        }
        guard Self.isOID(policyOID) else {
            throw Invalid(setting: .policyOID, reason: "\(policyOID) is not a dotted object identifier")
        }
        guard rootValidityDays >= 1, issuingValidityDays >= 1, issuingValidityDays <= rootValidityDays else {
            throw Invalid(setting: .validity, reason: "CA validities must be at least a day, and the issuing CA's at most the root's")
        }
        guard crlValidityHours >= 1, crlValidityHours <= 24 * 366 else {
            throw Invalid(setting: .crlValidity, reason: "the CRL validity is 1 hour to a year")
        }
        for (setting, name) in [(Setting.rootSubject, rootSubject), (.issuingSubject, issuingSubject)] where name.value(of: "CN") == nil {
            throw Invalid(setting: setting, reason: "a CA name needs a CN: \(name.text)")
        }
        guard rootSubject != issuingSubject else {
            throw Invalid(setting: .issuingSubject, reason: "the root and issuing CA need different names")
        }
    }

    /// http(s)://host[:port][/path] with no character OpenSSL's extension syntax treats specially.
    static func isPlainURL(_ text: String) -> Bool {
        guard text.hasPrefix("http://") || text.hasPrefix("https://") else { return false }
        let rest = text.drop { $0 != "/" }.dropFirst(2)
        guard let first = rest.first, first != "/", first != ":" else { return false }
        return text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && !",;\\\"<>{}|^`".unicodeScalars.contains($0) }
    }

    static func isOID(_ text: String) -> Bool {
        let arcs = text.split(separator: ".", omittingEmptySubsequences: false)
        guard arcs.count >= 2, let first = Int(arcs[0]), first <= 2 else { return false }
        return arcs.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) && ($0 == "0" || !$0.hasPrefix("0")) }
    }
}
