import Glibc
import OpenSSLKit

/// What a certificate is for, and therefore what it may say. docs/pki.md has the same table for
/// people; this type is the one place the extensions are decided.
///
/// | profile      | keyUsage (critical)                         | extendedKeyUsage                       | subject from CSR        | SAN          |
/// |--------------|---------------------------------------------|----------------------------------------|-------------------------|--------------|
/// | `tsa`        | digitalSignature, nonRepudiation            | timeStamping (critical, RFC 3161 §2.3) | CN O OU C L ST          | —            |
/// | `ledger`     | digitalSignature                            | Notarium ledger checkpoint signing     | CN O OU C               | —            |
/// | `signer`     | digitalSignature, nonRepudiation            | emailProtection if a SAN e-mail        | CN O OU C L ST serialNumber | e-mail   |
/// | `ocsp`       | digitalSignature                            | OCSPSigning; + id-pkix-ocsp-nocheck    | CN O OU C               | —            |
/// | `tls-server` | digitalSignature (+ keyEncipherment for RSA)| serverAuth                             | CN O OU C L ST          | DNS, IP (required) |
/// | `tls-client` | digitalSignature                            | clientAuth                             | CN O OU C L ST          | e-mail       |
///
/// Every one also has basicConstraints CA:FALSE (critical), subject and authority key
/// identifiers, the CRL distribution point, authorityInfoAccess (OCSP and caIssuers) and the
/// configured certificate policy.
public enum CertificateProfile: String, Sendable, CaseIterable {
    case tsa
    case ledger
    case signer
    case ocsp
    case tlsServer = "tls-server"
    case tlsClient = "tls-client"

    /// Days from issuance to notAfter (never beyond the issuing CA's own notAfter).
    public var validityDays: Int {
        switch self {
        case .tsa: 1826
        case .ledger: 1826
        case .signer: 730
        case .ocsp: 365
        case .tlsServer: 397
        case .tlsClient: 730
        }
    }

    /// Subject attributes taken from a CSR; any other attribute in the request is dropped.
    public var subjectAttributes: Set<String> {
        switch self {
        case .tsa, .tlsServer, .tlsClient: ["CN", "O", "OU", "C", "L", "ST"]
        case .ledger, .ocsp: ["CN", "O", "OU", "C"]
        case .signer: ["CN", "O", "OU", "C", "L", "ST", "serialNumber"]
        }
    }

    /// Whether the profile takes the key of a CSR. `ledger` certifies the appliance's own
    /// Ed25519 checkpoint key, and `ocsp` its own responder: a delegated responder certificate
    /// for an outside key would let that key answer for every certificate of the issuing CA.
    public var acceptsRequests: Bool { self != .ledger && self != .ocsp }

    /// Checks a key against the key policy: RSA 2048–8192 bits, ECDSA P-256 or P-384, Ed25519;
    /// the `ledger` profile takes Ed25519 only.
    public func checkKey(_ kind: KeyKind) throws(CAError) {
        if self == .ledger {
            guard kind == .ed25519 else { throw CAError(.forbiddenKey, "the ledger profile certifies an Ed25519 key, not \(kind)") }
            return
        }
        switch kind {
        case .rsa(let bits) where bits >= 2048 && bits <= 8192: return
        case .ec(let curve?) where curve == "prime256v1" || curve == "secp384r1": return
        case .ed25519: return
        default:
            throw CAError(.forbiddenKey, "\(kind) keys are not certified: the policy allows RSA of 2048 to 8192 bits, ECDSA P-256 or P-384, and Ed25519")
        }
    }

    /// The subject and alternative names this profile puts in a certificate requested with
    /// `subject` and `names`.
    public func certifiedNames(subject: DistinguishedName, names: [GeneralName]) throws(CAError) -> (DistinguishedName, [GeneralName]) {
        let kept = DistinguishedName(attributes: subject.attributes.filter { subjectAttributes.contains($0.type) })
        guard let commonName = kept.value(of: "CN"), !commonName.isEmpty else {
            throw CAError(.subjectRefused, "the request's subject has no common name (CN)")
        }
        for attribute in kept.attributes where attribute.value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw CAError(.subjectRefused, "the subject attribute \(attribute.type) contains control characters")
        }
        if let country = kept.value(of: "C"), country.count != 2 || !country.allSatisfy({ $0.isASCII && $0.isLetter }) {
            throw CAError(.subjectRefused, "the country (C) must be a two-letter ISO 3166 code, not \"\(country)\"")
        }
        var certified: [GeneralName] = []
        for name in names {
            switch (self, name) {
            case (.tlsServer, .dns(let host)):
                guard Self.isHostName(host) else { throw CAError(.subjectRefused, "\"\(host)\" is not a DNS host name") }
                certified.append(.dns(host.lowercased()))
            case (.tlsServer, .ipAddress(let bytes)) where bytes.count == 4 || bytes.count == 16:
                certified.append(name)
            case (.signer, .email(let address)), (.tlsClient, .email(let address)):
                guard Self.isMailAddress(address) else { throw CAError(.subjectRefused, "\"\(address)\" is not an e-mail address") }
                certified.append(name)
            default:
                throw CAError(.subjectRefused, "the \(rawValue) profile does not certify the alternative name \(name)")
            }
        }
        if self == .tlsServer && certified.isEmpty {
            // A CSR with only a CN: the CN is the host name, which clients match against the SAN.
            guard Self.isHostName(commonName) else {
                throw CAError(.subjectRefused, "a TLS server certificate needs DNS or IP alternative names, and the CN \"\(commonName)\" is not a host name")
            }
            certified = [.dns(commonName.lowercased())]
        }
        return (kept, certified)
    }

    /// The extensions of an end-entity certificate of this profile.
    public func extensions(key: KeyKind, names: [GeneralName], settings: CASettings) -> [ExtensionSpec] {
        var specs = [
            ExtensionSpec("basicConstraints", "critical,CA:FALSE"),
            ExtensionSpec("subjectKeyIdentifier", "hash"),
            ExtensionSpec("authorityKeyIdentifier", "keyid:always"),
        ]
        let isRSA = if case .rsa = key { true } else { false }
        switch self {
        case .tsa:
            specs.append(ExtensionSpec("keyUsage", "critical,digitalSignature,nonRepudiation"))
            specs.append(ExtensionSpec("extendedKeyUsage", "critical,timeStamping"))
        case .ledger:
            specs.append(ExtensionSpec("keyUsage", "critical,digitalSignature"))
            specs.append(ExtensionSpec("extendedKeyUsage", NotariumOID.ledgerCheckpointSigning))
        case .signer:
            specs.append(ExtensionSpec("keyUsage", "critical,digitalSignature,nonRepudiation"))
            if names.contains(where: { if case .email = $0 { true } else { false } }) {
                specs.append(ExtensionSpec("extendedKeyUsage", "emailProtection"))
            }
        case .ocsp:
            specs.append(ExtensionSpec("keyUsage", "critical,digitalSignature"))
            specs.append(ExtensionSpec("extendedKeyUsage", "OCSPSigning"))
            specs.append(ExtensionSpec("noCheck", "ignored"))
        case .tlsServer:
            specs.append(ExtensionSpec("keyUsage", isRSA ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature"))
            specs.append(ExtensionSpec("extendedKeyUsage", "serverAuth"))
        case .tlsClient:
            specs.append(ExtensionSpec("keyUsage", "critical,digitalSignature"))
            specs.append(ExtensionSpec("extendedKeyUsage", "clientAuth"))
        }
        if !names.isEmpty {
            specs.append(ExtensionSpec("subjectAltName", names.map(\.description).joined(separator: ",")))
        }
        specs.append(ExtensionSpec("crlDistributionPoints", "URI:" + settings.crlURL))
        specs.append(ExtensionSpec("authorityInfoAccess", "OCSP;URI:\(settings.ocspURL),caIssuers;URI:\(settings.issuingCertificateURL)"))
        specs.append(ExtensionSpec("certificatePolicies", settings.policyOID))
        return specs
    }

    /// LDH labels of 1–63 characters, at most 253 in all; a leading `*.` wildcard label allowed.
    public static func isHostName(_ text: String) -> Bool {
        var labels = text.split(separator: ".", omittingEmptySubsequences: false)
        if labels.first == "*" && labels.count > 2 { labels.removeFirst() }
        guard text.utf8.count <= 253, labels.count >= 1 else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { ($0.properties.isASCIIHexDigit || ("g"..."z").contains($0) || ("G"..."Z").contains($0)) || $0 == "-" || ("0"..."9").contains($0) }
        }
    }

    /// local@domain with the characters addresses use in practice (no quoting, no commas).
    static func isMailAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64, isHostName(String(parts[1])), !parts[1].hasPrefix("*") else { return false }
        return parts[0].unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._%+-".unicodeScalars.contains($0)) }
    }
}
