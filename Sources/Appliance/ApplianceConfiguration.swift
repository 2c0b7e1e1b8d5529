import Access
import CertificateAuthority
import Delivery
import DeliveryTransport
import TimeStamping
import Foundation
import OpenSSLKit
import Configuration
import Logging
import SystemPackage
import Yams

/// The appliance's settings, resolved from four layers, highest first:
/// command-line flags, environment variables (`NOTARIUM_…`), the configuration file (`--config
/// FILE` or `NOTARIUM_CONFIG`, YAML or JSON), and the embedded defaults of `ConfigurationKey`.
/// With no file, no variables and no flags, the appliance starts on the defaults alone.
///
/// A value that is present but invalid is reported with its key and where it came from; it is
/// never replaced by a default. A key in the file that Notarium does not know is an error too,
/// so that a misspelt setting cannot be silently ignored.
public struct ApplianceConfiguration: Sendable, Equatable {
    public var dataDirectory: String
    public var listen: ListenAddress
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    public var sealKeyFile: String
    /// The origin to give a ledger created now (an existing ledger keeps its own).
    public var ledgerOrigin: String
    /// Whether `ledgerOrigin` was set rather than derived from the host name.
    public var ledgerOriginIsExplicit: Bool
    /// Seconds between automatic checkpoints; 0 means none.
    public var checkpointIntervalSeconds: Int
    /// The CA's settings (`ca.*`, `public-base-url`).
    public var ca: CASettings
    /// The TSA's settings (`tsa.*`).
    public var tsa: TSASettings
    /// The API's settings (`api.*`).
    public var api: APISettings
    /// Electronic service's settings (`delivery.*`).
    public var delivery: DeliverySettings
    /// The file the settings were read from, if any.
    public var configurationFile: String?

    public enum LogFormat: String, Sendable, CaseIterable {
        case json, text
    }

    /// The environment variable naming the configuration file when `--config` is not given.
    public static let configurationFileVariable = "NOTARIUM_CONFIG"

    /// Resolves the settings.
    /// - Parameters:
    ///   - flags: values given on the command line, by `ConfigurationKey`.
    ///   - configurationFile: `--config FILE`; when nil, `NOTARIUM_CONFIG` is consulted.
    ///   - environment: the process environment (a parameter so tests can pass their own).
    public static func load(flags: [ConfigurationKey: String] = [:], configurationFile: String? = nil, environment: [String: String]) async throws(ConfigurationError) -> ApplianceConfiguration {
        let filePath = configurationFile ?? environment[configurationFileVariable].flatMap { $0.isEmpty ? nil : $0 }
        var providers: [any ConfigProvider] = []
        providers.append(InMemoryProvider(name: "flags", values: Dictionary(uniqueKeysWithValues: flags.map { (AbsoluteConfigKey(ConfigKey($0.key.rawValue)), ConfigValue(stringLiteral: $0.value)) })))
        let notariumVariables = environment.filter { $0.key.hasPrefix("NOTARIUM_") }
        providers.append(EnvironmentVariablesProvider(environmentVariables: notariumVariables).prefixKeys(with: "notarium"))

        var fileKeys: Set<String> = []
        if let filePath {
            fileKeys = try checkFileKeys(filePath)
            do {
                if filePath.hasSuffix(".json") {
                    providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(filePath)))
                } else {
                    providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(filePath)))
                }
            } catch {
                throw ConfigurationError(.unreadableFile, key: nil, value: nil, source: "file \(filePath)", reason: "\(error)")
            }
        }
        let defaults = ConfigurationKey.allCases.compactMap { key in key.defaultValue.map { (AbsoluteConfigKey(ConfigKey(key.rawValue)), ConfigValue(stringLiteral: $0)) } }
        providers.append(InMemoryProvider(name: "defaults", values: Dictionary(uniqueKeysWithValues: defaults)))
        let reader = ConfigReader(providers: providers)

        /// Where a key's value came from, for error messages.
        func source(of key: ConfigurationKey) -> String {
            if flags[key] != nil { return "flag \(key.flag)" }
            if notariumVariables.keys.contains(where: { $0.uppercased() == key.environmentVariable }) { return "environment \(key.environmentVariable)" }
            if fileKeys.contains(key.rawValue), let filePath { return "file \(filePath)" }
            return "embedded default"
        }
        /// The value of `key`, or nil when no layer sets it. A value that is set but is not text
        /// (a list where a path belongs) throws rather than falling back to a default.
        func string(_ key: ConfigurationKey) throws(ConfigurationError) -> String? {
            do {
                guard key.defaultValue != nil || source(of: key) != "embedded default" else { return nil }
                return try reader.requiredString(forKey: ConfigKey(key.rawValue))
            } catch {
                throw ConfigurationError(.invalidValue, key: key, value: nil, source: source(of: key), reason: "not a text value (\(error))")
            }
        }
        func invalid(_ key: ConfigurationKey, _ value: String, _ reason: String) -> ConfigurationError {
            ConfigurationError(.invalidValue, key: key, value: value, source: source(of: key), reason: reason)
        }

        guard let data = try string(.data), !data.isEmpty else {
            throw invalid(.data, "", "the data directory must not be empty")
        }
        let listenText = try string(.listen) ?? ""
        var listenReason = ""
        guard let listen = ListenAddress(parsing: listenText, reason: &listenReason) else {
            throw invalid(.listen, listenText, listenReason)
        }
        let levelText = try string(.logLevel) ?? ""
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw invalid(.logLevel, levelText, "expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let formatText = try string(.logFormat) ?? ""
        guard let format = LogFormat(rawValue: formatText.lowercased()) else {
            throw invalid(.logFormat, formatText, "expected json or text")
        }
        let sealKeyFile = try string(.sealKeyFile) ?? DataDirectory.defaultSealKeyFile(in: data)
        guard !sealKeyFile.isEmpty else { throw invalid(.sealKeyFile, sealKeyFile, "the seal key file path must not be empty") }

        let explicitOrigin = try string(.ledgerOrigin)
        let origin = explicitOrigin ?? defaultLedgerOrigin()
        guard isValidOrigin(origin) else {
            throw invalid(.ledgerOrigin, origin, "an origin is non-empty text without spaces, control characters or '+', e.g. notary.example.org/notarium")
        }
        let intervalText = try string(.checkpointInterval) ?? ""
        guard let interval = Int(intervalText), interval >= 0, interval <= 86_400 else {
            throw invalid(.checkpointInterval, intervalText, "expected whole seconds from 0 (off) to 86400")
        }

        let host = hostName()
        let publicHost = ["0.0.0.0", "::", "*"].contains(listen.host) ? host : listen.host
        let baseURL = try string(.publicBaseURL) ?? "http://\(ListenAddress(host: publicHost, port: listen.port))"
        let algorithmText = try string(.caAlgorithm) ?? ""
        guard let algorithm = KeyAlgorithm(rawValue: algorithmText.lowercased()), CASettings.caAlgorithms.contains(algorithm) else {
            throw invalid(.caAlgorithm, algorithmText, "expected \(CASettings.caAlgorithms.map(\.rawValue).joined(separator: " or "))")
        }
        func name(_ key: ConfigurationKey, _ fallback: String) throws(ConfigurationError) -> DistinguishedName {
            let text = try string(key) ?? fallback
            do {
                return try DistinguishedName(parsing: text)
            } catch {
                throw invalid(key, text, "not an RFC 4514 name such as \"CN=Example CA,O=Example\": \(error.reason)")
            }
        }
        func days(_ key: ConfigurationKey, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            let text = try string(key) ?? ""
            guard let value = Int(text), range.contains(value) else { throw invalid(key, text, "expected whole days from \(range.lowerBound) to \(range.upperBound)") }
            return value
        }
        let crlText = try string(.caCRLValidityHours) ?? ""
        guard let crlHours = Int(crlText), (1...8784).contains(crlHours) else {
            throw invalid(.caCRLValidityHours, crlText, "expected whole hours from 1 to 8784")
        }
        let ca = CASettings(
            algorithm: algorithm,
            rootSubject: try name(.caRootSubject, "CN=Notarium Root CA \(host),O=Notarium"),
            issuingSubject: try name(.caIssuingSubject, "CN=Notarium Issuing CA \(host),O=Notarium"),
            rootValidityDays: try days(.caRootValidityDays, 1...36_525),
            issuingValidityDays: try days(.caIssuingValidityDays, 1...36_525),
            publicBaseURL: baseURL, policyOID: try string(.caPolicyOID) ?? "", crlValidityHours: crlHours)
        do {
            try ca.validate()
        } catch {
            let key: ConfigurationKey = switch error.setting {
            case .algorithm: .caAlgorithm
            case .rootSubject: .caRootSubject
            case .issuingSubject: .caIssuingSubject
            case .validity: .caIssuingValidityDays
            case .publicBaseURL: .publicBaseURL
            case .policyOID: .caPolicyOID
            case .crlValidity: .caCRLValidityHours
            }
            throw invalid(key, try string(key) ?? "", error.reason)
        }

        var tsa = TSASettings()
        tsa.policyOID = try string(.tsaPolicyOID) ?? ""
        tsa.otherAcceptedPolicies = (try string(.tsaAcceptedPolicies) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        func milliseconds(_ key: ConfigurationKey) throws(ConfigurationError) -> Int {
            let text = try string(key) ?? ""
            guard let value = Int(text) else { throw invalid(key, text, "expected whole milliseconds") }
            return value
        }
        tsa.accuracyMilliseconds = try milliseconds(.tsaAccuracy)
        tsa.clockToleranceMilliseconds = try milliseconds(.tsaClockTolerance)
        tsa.subject = try name(.tsaSubject, "CN=Notarium Time-Stamp Authority \(host),O=Notarium")
        let includeText = try string(.tsaIncludeName) ?? ""
        guard let include = Bool(includeText.lowercased()) else { throw invalid(.tsaIncludeName, includeText, "expected true or false") }
        tsa.includeName = include
        do {
            try tsa.validate()
        } catch {
            let key = ConfigurationKey(rawValue: error.setting) ?? .tsaPolicyOID
            throw invalid(key, try string(key) ?? "", error.reason)
        }

        let apiListenText = try string(.apiListen) ?? ""
        var apiListenReason = ""
        guard let apiListen = ListenAddress(parsing: apiListenText, reason: &apiListenReason) else {
            throw invalid(.apiListen, apiListenText, apiListenReason)
        }
        guard apiListen != listen || listen.port == 0 else {
            throw invalid(.apiListen, apiListenText, "the API's TLS listener needs another address than listen (\(listen))")
        }
        let hostsText = try string(.apiHostnames) ?? ""
        let hosts = hostsText.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let certificateNames: [GeneralName]
        do {
            certificateNames = try ServerIdentity.names(hosts)
        } catch {
            throw invalid(.apiHostnames, hostsText, error.reason)
        }
        let tsaClientText = try string(.apiTSAClientCertificate) ?? ""
        guard let tsaClient = Bool(tsaClientText.lowercased()) else { throw invalid(.apiTSAClientCertificate, tsaClientText, "expected true or false") }
        let retentionText = try string(.apiIdempotencyRetentionHours) ?? ""
        guard let retention = Int(retentionText), (1...8784).contains(retention) else {
            throw invalid(.apiIdempotencyRetentionHours, retentionText, "expected whole hours from 1 to 8784")
        }
        let bodyTimeoutText = try string(.apiBodyTimeoutSeconds) ?? ""
        guard let bodyTimeout = Int(bodyTimeoutText), (1...3600).contains(bodyTimeout) else {
            throw invalid(.apiBodyTimeoutSeconds, bodyTimeoutText, "expected whole seconds from 1 to 3600")
        }
        let api = APISettings(listen: apiListen, hostnames: certificateNames, tsaNeedsClientCertificate: tsaClient, idempotencyRetentionHours: retention, bodyTimeoutSeconds: bodyTimeout)

        let notices = try string(.deliveryNotices) ?? ""
        if !notices.isEmpty {
            do {
                _ = try NoticeTemplates(directory: notices)
            } catch {
                throw invalid(.deliveryNotices, notices, error.description)
            }
        }
        var email: DeliverySettings.Email?
        let relay = try string(.deliveryEmailRelay) ?? ""
        if !relay.isEmpty {
            var relayReason = ""
            guard let relayAddress = ListenAddress(parsing: relay, reason: &relayReason) else { throw invalid(.deliveryEmailRelay, relay, relayReason) }
            guard relayAddress.port > 0 else { throw invalid(.deliveryEmailRelay, relay, "the relay's port cannot be 0") }
            let (host, port) = (relayAddress.host, relayAddress.port)
            let securityText = try string(.deliveryEmailSecurity) ?? ""
            guard let security = SMTPRelay.Security(rawValue: securityText) else {
                throw invalid(.deliveryEmailSecurity, securityText, "expected starttls, tls or none")
            }
            let caFile = try string(.deliveryEmailCAFile) ?? ""
            guard caFile.isEmpty || FileManager.default.isReadableFile(atPath: caFile) else {
                throw invalid(.deliveryEmailCAFile, caFile, "not a readable file")
            }
            let username = try string(.deliveryEmailUsername) ?? ""
            let passwordFile = try string(.deliveryEmailPasswordFile) ?? ""
            if !username.isEmpty {
                guard security != .none else { throw invalid(.deliveryEmailUsername, username, "a password is never sent in clear: set delivery.email.security to starttls or tls") }
                guard !passwordFile.isEmpty, FileManager.default.isReadableFile(atPath: passwordFile) else {
                    throw invalid(.deliveryEmailPasswordFile, passwordFile, "delivery.email.username needs a readable password file")
                }
            }
            func mailbox(_ key: ConfigurationKey, _ text: String) throws(ConfigurationError) -> String {
                guard SMTPEnvelope.isMailbox(text), text.split(separator: "@").last?.contains(".") == true else {
                    throw invalid(key, text, "expected an ASCII e-mail address (local@domain.tld)")
                }
                return text
            }
            let fromText = try string(.deliveryEmailFrom) ?? ""
            guard !fromText.isEmpty else { throw invalid(.deliveryEmailFrom, fromText, "delivery.email.relay is set, so notices need a From address") }
            let from = try mailbox(.deliveryEmailFrom, fromText)
            let envelopeText = try string(.deliveryEmailEnvelopeFrom) ?? ""
            let envelope = envelopeText.isEmpty ? from : try mailbox(.deliveryEmailEnvelopeFrom, envelopeText)
            let maildir = try string(.deliveryEmailBounceMaildir) ?? ""
            var isDirectory: ObjCBool = false
            guard maildir.isEmpty || (FileManager.default.fileExists(atPath: maildir + "/new", isDirectory: &isDirectory) && isDirectory.boolValue) else {
                throw invalid(.deliveryEmailBounceMaildir, maildir, "not a Maildir (no new/ directory in it)")
            }
            let helo = try string(.deliveryEmailHelo) ?? ""
            guard helo.isEmpty || (CertificateProfile.isHostName(helo) && !helo.hasPrefix("*")) else {
                throw invalid(.deliveryEmailHelo, helo, "expected a host name")
            }
            email = DeliverySettings.Email(
                host: host, port: port, security: security, caFile: caFile.isEmpty ? nil : caFile, username: username.isEmpty ? nil : username,
                passwordFile: passwordFile.isEmpty ? nil : passwordFile, from: from, fromName: try string(.deliveryEmailFromName) ?? "",
                envelopeFrom: envelope, bounceMaildir: maildir.isEmpty ? nil : maildir, helo: helo.isEmpty ? hostName() : helo)
        }
        let portalBase = try string(.deliveryPortalBaseURL) ?? ""
        guard portalBase.isEmpty || (portalBase.hasPrefix("https://") && URL(string: portalBase)?.host != nil && !portalBase.hasSuffix("/")) else {
            throw invalid(.deliveryPortalBaseURL, portalBase, "expected https://host[:port] without a trailing /")
        }
        let retentionDaysText = try string(.deliveryDocumentsRetentionDays) ?? ""
        guard let retentionDays = Int(retentionDaysText), (1...3650).contains(retentionDays) else {
            throw invalid(.deliveryDocumentsRetentionDays, retentionDaysText, "expected whole days from 1 to 3650")
        }
        var sms: DeliverySettings.SMS?
        let gatewayURL = try string(.deliverySMSGatewayURL) ?? ""
        if !gatewayURL.isEmpty {
            guard let url = URL(string: gatewayURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw invalid(.deliverySMSGatewayURL, gatewayURL, "expected an http or https URL")
            }
            func secretFile(_ key: ConfigurationKey) throws(ConfigurationError) -> String {
                let path = try string(key) ?? ""
                guard !path.isEmpty, let first = try? DeliverySettings.secret(path), !first.isEmpty else {
                    throw invalid(key, path, "delivery.sms.gateway-url is set, so this needs a readable file whose first line is the secret")
                }
                return path
            }
            let caFile = try string(.deliverySMSCAFile) ?? ""
            guard caFile.isEmpty || FileManager.default.isReadableFile(atPath: caFile) else { throw invalid(.deliverySMSCAFile, caFile, "not a readable file") }
            let callback = try string(.deliverySMSCallbackURL) ?? ""
            guard callback.isEmpty || callback.hasPrefix("https://") || callback.hasPrefix("http://") else {
                throw invalid(.deliverySMSCallbackURL, callback, "expected an http or https URL")
            }
            sms = DeliverySettings.SMS(gatewayURL: gatewayURL, tokenFile: try secretFile(.deliverySMSTokenFile), sender: try string(.deliverySMSSender) ?? "",
                                       reportSecretFile: try secretFile(.deliverySMSReportSecretFile), callbackURL: callback.isEmpty ? nil : callback,
                                       caFile: caFile.isEmpty ? nil : caFile)
        }
        let delivery = DeliverySettings(noticesDirectory: notices.isEmpty ? nil : notices, email: email, sms: sms,
                                        portalBaseURL: portalBase.isEmpty ? nil : portalBase, documentRetentionDays: retentionDays)

        return ApplianceConfiguration(
            dataDirectory: data, listen: listen, logLevel: level, logFormat: format, sealKeyFile: sealKeyFile,
            ledgerOrigin: origin, ledgerOriginIsExplicit: explicitOrigin != nil, checkpointIntervalSeconds: interval,
            ca: ca, tsa: tsa, api: api, delivery: delivery, configurationFile: filePath)
    }

    /// This host's name followed by `/notarium`.
    public static func defaultLedgerOrigin() -> String {
        hostName() + "/notarium"
    }

    /// This host's name, or `localhost` when it has none.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count) == 0 ? String(cString: buffer) : ""
        return host.isEmpty ? "localhost" : host
    }

    /// The C2SP note key-name rule, which the origin must also satisfy since it names the key.
    static func isValidOrigin(_ origin: String) -> Bool {
        !origin.isEmpty && origin.unicodeScalars.allSatisfy { $0 != "+" && !$0.properties.isWhitespace && $0.value >= 0x20 && $0.value != 0x7F }
    }

    /// Reads the file once more to list its keys (flattened with dots) and refuses unknown ones.
    /// YAML is a superset of JSON, so one parser serves both.
    private static func checkFileKeys(_ path: String) throws(ConfigurationError) -> Set<String> {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(.unreadableFile, key: nil, value: nil, source: "file \(path)", reason: "cannot read the configuration file: \(error.localizedDescription)")
        }
        let document: Any?
        do {
            document = try Yams.load(yaml: text)
        } catch {
            throw ConfigurationError(.unreadableFile, key: nil, value: nil, source: "file \(path)", reason: "not valid YAML or JSON: \(error)")
        }
        guard let document else { return [] }
        guard let mapping = document as? [String: Any] else {
            throw ConfigurationError(.unreadableFile, key: nil, value: nil, source: "file \(path)", reason: "the top level must be a mapping of settings")
        }
        var keys: Set<String> = []
        func flatten(_ mapping: [String: Any], prefix: String) {
            for (name, value) in mapping {
                let key = prefix.isEmpty ? name : prefix + "." + name
                if let nested = value as? [String: Any] {
                    flatten(nested, prefix: key)
                } else if value is NSNull {
                    continue  // "seal:" with every member commented out: an empty section
                } else {
                    keys.insert(key)
                }
            }
        }
        flatten(mapping, prefix: "")
        let known = Set(ConfigurationKey.allCases.map(\.rawValue))
        if let unknown = keys.subtracting(known).sorted().first {
            throw ConfigurationError(.unknownKey, key: nil, value: unknown, source: "file \(path)", reason: "unknown setting \"\(unknown)\"; known settings: \(known.sorted().joined(separator: ", "))")
        }
        return keys
    }
}

/// The API's settings (`api.*`, docs/api.md).
public struct APISettings: Sendable, Equatable {
    /// Where the TLS listener binds.
    public var listen: ListenAddress
    /// What the TLS server certificate names (DNS names and IP addresses).
    public var hostnames: [GeneralName]
    /// Whether the TSA needs a client certificate.
    public var tsaNeedsClientCertificate: Bool
    public var idempotencyRetentionHours: Int
    public var bodyTimeoutSeconds: Int
}

/// Electronic service's settings (`delivery.*`, docs/delivery.md).
public struct DeliverySettings: Sendable, Equatable {
    /// The relay and the addresses notices go out with.
    public struct Email: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var security: SMTPRelay.Security
        public var caFile: String?
        public var username: String?
        /// Read when notariumd starts, so that the password is never in the configuration.
        public var passwordFile: String?
        public var from: String
        public var fromName: String
        public var envelopeFrom: String
        public var bounceMaildir: String?
        public var helo: String

        /// The relay account, its password read now from the first line of `passwordFile`
        /// (without its line end, LF or CRLF, or surrounding blanks); nil without a username.
        public func credentials() throws -> SMTPRelay.Credentials? {
            guard let username, let passwordFile else { return nil }
            return SMTPRelay.Credentials(username: username, password: try DeliverySettings.secret(passwordFile))
        }
    }

    /// nil: the languages built in.
    public var noticesDirectory: String?
    /// nil: no e-mail is sent.
    public var email: Email?

    /// The SMS gateway (docs/delivery.md §11).
    public struct SMS: Sendable, Equatable {
        public var gatewayURL: String
        public var tokenFile: String
        public var sender: String
        public var reportSecretFile: String
        public var callbackURL: String?
        public var caFile: String?

    }

    /// The first line of `path`, without its line end (LF or CRLF) or surrounding blanks: the
    /// relay's password, the gateway's token and its report secret are kept in files, so that
    /// they are never in the configuration or the environment.
    public static func secret(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: .newlines).first?.trimmingCharacters(in: .whitespaces) ?? ""
    }

    /// nil: no SMS is sent.
    public var sms: SMS? = nil
    /// nil: the API listener's own address.
    public var portalBaseURL: String? = nil
    public var documentRetentionDays: Int = 90
}

/// A configuration that cannot be used, named by key and source.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidValue = "invalid-value"
        case unknownKey = "unknown-key"
        case unreadableFile = "unreadable-file"
    }

    public let code: Code
    public let key: ConfigurationKey?
    public let value: String?
    /// "flag --listen", "environment NOTARIUM_LISTEN", "file /etc/notarium/notarium.yaml", "embedded default".
    public let source: String
    public let reason: String

    public init(_ code: Code, key: ConfigurationKey?, value: String?, source: String, reason: String) {
        self.code = code
        self.key = key
        self.value = value
        self.source = source
        self.reason = reason
    }

    public var description: String {
        if let key {
            let shown = value.map { " = \"\($0)\"" } ?? ""
            return "invalid configuration: \(key.rawValue)\(shown) (from \(source)): \(reason)"
        }
        return "invalid configuration (\(source)): \(reason)"
    }
}
