import CertificateAuthority

/// Every setting the appliance reads, with its three spellings (file key, environment variable,
/// flag) and embedded default. appliance/notarium.yaml documents each with a comment; a test
/// checks that file and this table agree.
public enum ConfigurationKey: String, CaseIterable, Sendable {
    /// The data directory: RocksDB database, sealed keys.
    case data = "data"
    /// `HOST:PORT` notariumd listens on; port 0 picks a free port (printed at start).
    case listen = "listen"
    /// trace, debug, info, notice, warning, error or critical.
    case logLevel = "log.level"
    /// `json` (one JSON object per line) or `text`.
    case logFormat = "log.format"
    /// The key file that unlocks sealed keys; default `<data>/keys/seal.key`.
    case sealKeyFile = "seal.key-file"
    /// The ledger's checkpoint origin and note key name, fixed when the ledger is created;
    /// default: this host's name followed by `/notarium`.
    case ledgerOrigin = "ledger.origin"
    /// Seconds between automatic checkpoints (cut only when the tree grew); 0 turns them off.
    case checkpointInterval = "ledger.checkpoint-interval"
    /// The URL relying parties reach the appliance at (`http://HOST:PORT`); every issued
    /// certificate carries its CRL, OCSP and CA certificate URLs under it. Default: from
    /// `listen`, with this host's name when listening on all addresses.
    case publicBaseURL = "public-base-url"
    /// The CA keys' algorithm when the CA is created: `ecdsa-p256` or `rsa-3072`.
    case caAlgorithm = "ca.algorithm"
    /// The root CA's name (RFC 4514), fixed when the CA is created.
    case caRootSubject = "ca.root.subject"
    /// The issuing CA's name (RFC 4514), fixed when the CA is created.
    case caIssuingSubject = "ca.issuing.subject"
    /// Days the root CA certificate is valid.
    case caRootValidityDays = "ca.root.validity-days"
    /// Days the issuing CA certificate is valid (at most the root's).
    case caIssuingValidityDays = "ca.issuing.validity-days"
    /// The certificate policy OID every issued certificate carries.
    case caPolicyOID = "ca.policy-oid"
    /// Hours from a CRL's thisUpdate to its nextUpdate; it is re-signed at half of that.
    case caCRLValidityHours = "ca.crl-validity-hours"
    /// The time-stamp policy OID of tokens whose request names none.
    case tsaPolicyOID = "tsa.policy-oid"
    /// Further policy OIDs a request may ask for, comma-separated; empty for none.
    case tsaAcceptedPolicies = "tsa.accepted-policies"
    /// The accuracy stated in every token, in milliseconds (0 leaves it out).
    case tsaAccuracy = "tsa.accuracy-ms"
    /// How far the clock may step back, in milliseconds, before the TSA stops issuing.
    case tsaClockTolerance = "tsa.clock-tolerance-ms"
    /// The TSA certificate's name (RFC 4514), fixed when the TSA is created.
    case tsaSubject = "tsa.subject"
    /// Whether tokens carry the TSA's name (TSTInfo `tsa`): true or false.
    case tsaIncludeName = "tsa.include-name"
    /// `HOST:PORT` of the API over TLS (the /v1 endpoints and the public ones); port 0 picks one.
    case apiListen = "api.listen"
    /// Host names and IP addresses the API's TLS certificate names, comma-separated.
    case apiHostnames = "api.hostnames"
    /// Whether the TSA needs a client certificate: true or false.
    case apiTSAClientCertificate = "api.tsa-client-certificate"
    /// Hours an Idempotency-Key is honoured.
    case apiIdempotencyRetentionHours = "api.idempotency-retention-hours"
    /// Seconds a client has to send a whole request body.
    case apiBodyTimeoutSeconds = "api.body-timeout-seconds"
    /// A directory of notice texts, one `<language>.yaml` per language (docs/delivery.md §6);
    /// empty: the languages built in (appliance/notices).
    case deliveryNotices = "delivery.notices"
    /// `HOST:PORT` of the relay notices are sent through; empty: no e-mail is sent.
    case deliveryEmailRelay = "delivery.email.relay"
    /// `starttls` (required; nothing is sent in clear), `tls` (from the first byte) or `none`.
    case deliveryEmailSecurity = "delivery.email.security"
    /// A PEM file of the certificates that may anchor the relay's chain; empty: the system's.
    case deliveryEmailCAFile = "delivery.email.ca-file"
    /// The relay account (AUTH); empty: no AUTH.
    case deliveryEmailUsername = "delivery.email.username"
    /// A file holding the relay account's password (its first line).
    case deliveryEmailPasswordFile = "delivery.email.password-file"
    /// The From address of every notice.
    case deliveryEmailFrom = "delivery.email.from"
    /// The display name of the From address.
    case deliveryEmailFromName = "delivery.email.from-name"
    /// The envelope sender, where bounces go; empty: the From address.
    case deliveryEmailEnvelopeFrom = "delivery.email.envelope-from"
    /// The Maildir the envelope sender's mail is delivered to, read for bounces; empty: none.
    case deliveryEmailBounceMaildir = "delivery.email.bounce-maildir"
    /// The name given in EHLO and on the right of every Message-ID; empty: this host's name.
    case deliveryEmailHelo = "delivery.email.helo"
    /// The recipient portal's public base (`https://host[:port]`); empty: the API listener's
    /// own address (docs/delivery.md §13).
    case deliveryPortalBaseURL = "delivery.portal.base-url"
    /// Days a service's documents are held (encrypted) after its opening.
    case deliveryDocumentsRetentionDays = "delivery.documents.retention-days"
    /// The SMS gateway's send URL (docs/delivery.md §11); empty: no SMS is sent.
    case deliverySMSGatewayURL = "delivery.sms.gateway-url"
    /// A file holding the gateway's bearer token (its first line).
    case deliverySMSTokenFile = "delivery.sms.token-file"
    /// The sender name or number the gateway shows.
    case deliverySMSSender = "delivery.sms.sender"
    /// A file holding the secret the gateway signs its delivery reports with (its first line).
    case deliverySMSReportSecretFile = "delivery.sms.report-secret-file"
    /// Where the gateway posts delivery reports; empty: the portal's base and `/delivery/sms/reports`.
    case deliverySMSCallbackURL = "delivery.sms.callback-url"
    /// A PEM file of the certificates that may anchor an https gateway's chain; empty: the system's.
    case deliverySMSCAFile = "delivery.sms.ca-file"

    /// The embedded default; nil when the default derives from another key.
    public var defaultValue: String? {
        switch self {
        case .data: "./notarium-data"
        case .listen: "127.0.0.1:8080"
        case .logLevel: "info"
        case .logFormat: "json"
        case .sealKeyFile: nil
        case .ledgerOrigin: nil
        case .checkpointInterval: "60"
        case .publicBaseURL: nil
        case .caAlgorithm: "ecdsa-p256"
        case .caRootSubject: nil
        case .caIssuingSubject: nil
        case .caRootValidityDays: "7305"
        case .caIssuingValidityDays: "3652"
        case .caPolicyOID: NotariumOID.defaultCertificatePolicy
        case .caCRLValidityHours: "168"
        case .tsaPolicyOID: NotariumOID.defaultTimeStampPolicy
        case .tsaAcceptedPolicies: ""
        case .tsaAccuracy: "1000"
        case .tsaClockTolerance: "1000"
        case .tsaSubject: nil
        case .tsaIncludeName: "true"
        case .apiListen: "127.0.0.1:8443"
        case .apiHostnames: "localhost,127.0.0.1,::1"
        case .apiTSAClientCertificate: "false"
        case .apiIdempotencyRetentionHours: "24"
        case .apiBodyTimeoutSeconds: "30"
        case .deliveryNotices: ""
        case .deliveryEmailRelay: ""
        case .deliveryEmailSecurity: "starttls"
        case .deliveryEmailCAFile: ""
        case .deliveryEmailUsername: ""
        case .deliveryEmailPasswordFile: ""
        case .deliveryEmailFrom: ""
        case .deliveryEmailFromName: "Notarium"
        case .deliveryEmailEnvelopeFrom: ""
        case .deliveryEmailBounceMaildir: ""
        case .deliveryEmailHelo: ""
        case .deliveryPortalBaseURL: ""
        case .deliveryDocumentsRetentionDays: "90"
        case .deliverySMSGatewayURL: ""
        case .deliverySMSTokenFile: ""
        case .deliverySMSSender: "Notarium"
        case .deliverySMSReportSecretFile: ""
        case .deliverySMSCallbackURL: ""
        case .deliverySMSCAFile: ""
        }
    }

    /// `NOTARIUM_` followed by the key in upper case with `.` and `-` as `_`.
    public var environmentVariable: String {
        "NOTARIUM_" + String(rawValue.uppercased().map { $0 == "." || $0 == "-" ? "_" : $0 })
    }

    /// The command-line flag: `--` followed by the key with `.` as `-`.
    public var flag: String {
        "--" + String(rawValue.map { $0 == "." ? "-" : $0 })
    }
}
