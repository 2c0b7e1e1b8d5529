import Appliance
import Foundation
import NotariumTestKit
import Testing

func configurationError(_ body: () async throws -> Void) async -> ConfigurationError? {
    await caught(ConfigurationError.self, body)
}

/// The repository's appliance/ folder, found from this file.
let applianceFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../appliance").standardizedFileURL.path

@Suite("Appliance: layered configuration")
struct ConfigurationTests {
    @Test("with nothing configured, the embedded defaults apply")
    func defaults() async throws {
        let configuration = try await ApplianceConfiguration.load(environment: [:])
        #expect(configuration.dataDirectory == "./notarium-data")
        #expect(configuration.listen == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(configuration.logLevel == .info)
        #expect(configuration.logFormat == .json)
        #expect(configuration.sealKeyFile == "./notarium-data/keys/seal.key")
        #expect(configuration.configurationFile == nil)
    }

    @Test("flags override the environment, which overrides the file, which overrides defaults")
    func precedence() async throws {
        let directory = TemporaryDirectory()
        let file = directory.file("notarium.yaml")
        try "data: /from/file\nlisten: 127.0.0.1:1001\nlog:\n  level: debug\n  format: text\n".write(toFile: file, atomically: true, encoding: .utf8)
        let environment = ["NOTARIUM_LISTEN": "127.0.0.1:1002", "NOTARIUM_LOG_LEVEL": "warning", "NOTARIUM_CONFIG": file]
        let configuration = try await ApplianceConfiguration.load(flags: [.logLevel: "error"], environment: environment)
        #expect(configuration.dataDirectory == "/from/file")
        #expect(configuration.listen.port == 1002)
        #expect(configuration.logLevel == .error)
        #expect(configuration.logFormat == .text)
        #expect(configuration.sealKeyFile == "/from/file/keys/seal.key")
        #expect(configuration.configurationFile == file)
    }

    @Test("a JSON configuration file works too")
    func jsonFile() async throws {
        let directory = TemporaryDirectory()
        let file = directory.file("notarium.json")
        try #"{"data": "/json/data", "seal": {"key-file": "/etc/notarium/seal.key"}}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let configuration = try await ApplianceConfiguration.load(configurationFile: file, environment: [:])
        #expect(configuration.dataDirectory == "/json/data")
        #expect(configuration.sealKeyFile == "/etc/notarium/seal.key")
    }

    @Test("an invalid value from the environment is reported with its key and source")
    func invalidEnvironmentValue() async {
        let error = await configurationError { _ = try await ApplianceConfiguration.load(environment: ["NOTARIUM_LISTEN": "localhost"]) }
        #expect(error?.code == .invalidValue)
        #expect(error?.key == .listen)
        #expect(error?.source == "environment NOTARIUM_LISTEN")
        #expect(error?.value == "localhost")
    }

    @Test("an invalid value in the file is reported, never replaced by the default")
    func invalidFileValue() async throws {
        let directory = TemporaryDirectory()
        let file = directory.file("notarium.yaml")
        try "log:\n  level: loud\n".write(toFile: file, atomically: true, encoding: .utf8)
        let error = await configurationError { _ = try await ApplianceConfiguration.load(configurationFile: file, environment: [:]) }
        #expect(error?.key == .logLevel)
        #expect(error?.source == "file \(file)")
    }

    @Test("an invalid flag value is reported as coming from the flag")
    func invalidFlag() async {
        let error = await configurationError { _ = try await ApplianceConfiguration.load(flags: [.listen: "127.0.0.1:99999"], environment: [:]) }
        #expect(error?.key == .listen)
        #expect(error?.source == "flag --listen")
    }

    @Test("bad log formats and empty data directories are refused")
    func otherInvalidValues() async {
        #expect(await configurationError { _ = try await ApplianceConfiguration.load(environment: ["NOTARIUM_LOG_FORMAT": "xml"]) }?.key == .logFormat)
        #expect(await configurationError { _ = try await ApplianceConfiguration.load(flags: [.data: ""], environment: [:]) }?.key == .data)
    }

    @Test("ledger settings: the origin defaults to HOSTNAME/notarium; bad origins and intervals are refused")
    func ledgerSettings() async throws {
        let defaults = try await ApplianceConfiguration.load(environment: [:])
        #expect(defaults.ledgerOrigin.hasSuffix("/notarium") && !defaults.ledgerOriginIsExplicit)
        #expect(defaults.checkpointIntervalSeconds == 60)
        let set = try await ApplianceConfiguration.load(flags: [.ledgerOrigin: "notary.example.org/notarium"], environment: ["NOTARIUM_LEDGER_CHECKPOINT_INTERVAL": "0"])
        #expect(set.ledgerOrigin == "notary.example.org/notarium" && set.ledgerOriginIsExplicit && set.checkpointIntervalSeconds == 0)
        for origin in ["notary example", "a+b", "", "tab\there"] {
            #expect(await configurationError { _ = try await ApplianceConfiguration.load(flags: [.ledgerOrigin: origin], environment: [:]) }?.key == .ledgerOrigin, "\(origin)")
        }
        for interval in ["-1", "abc", "1.5", "86401"] {
            let error = await configurationError { _ = try await ApplianceConfiguration.load(environment: ["NOTARIUM_LEDGER_CHECKPOINT_INTERVAL": interval]) }
            #expect(error?.key == .checkpointInterval && error?.source == "environment NOTARIUM_LEDGER_CHECKPOINT_INTERVAL", "\(interval)")
        }
    }

    @Test("CA settings: defaults, and each invalid one named by its key")
    func caSettings() async throws {
        let defaults = try await ApplianceConfiguration.load(environment: [:])
        #expect(defaults.ca.algorithm == .ecdsaP256 && defaults.ca.publicBaseURL == "http://127.0.0.1:8080" && defaults.ca.crlValidityHours == 168)
        #expect(defaults.ca.rootSubject.value(of: "CN")?.hasPrefix("Notarium Root CA") == true)
        let set = try await ApplianceConfiguration.load(flags: [.caAlgorithm: "rsa-3072", .caRootSubject: "CN=Example Root,O=Example,C=CH"], environment: ["NOTARIUM_PUBLIC_BASE_URL": "https://notary.example.org/"])
        #expect(set.ca.algorithm == .rsa3072 && set.ca.publicBaseURL == "https://notary.example.org" && set.ca.rootSubject.value(of: "C") == "CH")
        let invalid: [(ConfigurationKey, String)] = [
            (.caAlgorithm, "ecdsa-p384"), (.caAlgorithm, "dsa"),
            (.publicBaseURL, "ftp://notary.example.org"), (.publicBaseURL, "http://a b"), (.publicBaseURL, "http://x,y"), (.publicBaseURL, "http://"),
            (.caPolicyOID, "1.2.x"), (.caPolicyOID, "3.1"), (.caPolicyOID, "1.02"),
            (.caRootSubject, "just text"), (.caRootSubject, "O=No Common Name"), (.caIssuingSubject, "CN=a+OU=b"),
            (.caRootValidityDays, "0"), (.caIssuingValidityDays, "abc"), (.caCRLValidityHours, "0"), (.caCRLValidityHours, "9000"),
        ]
        for (key, value) in invalid {
            let error = await configurationError { _ = try await ApplianceConfiguration.load(flags: [key: value], environment: [:]) }
            #expect(error?.key == key && error?.code == .invalidValue, "\(key.rawValue) = \(value): \(String(describing: error))")
        }
        // Settings that are each fine but not together are named too.
        let longer = await configurationError { _ = try await ApplianceConfiguration.load(flags: [.caRootValidityDays: "10", .caIssuingValidityDays: "20"], environment: [:]) }
        #expect(longer?.key == .caIssuingValidityDays)
        let same = await configurationError { _ = try await ApplianceConfiguration.load(flags: [.caRootSubject: "CN=Same", .caIssuingSubject: "CN=Same"], environment: [:]) }
        #expect(same?.key == .caIssuingSubject)
    }

    @Test("a setting of the wrong shape (a list where a path belongs) is an error, not the default")
    func wrongShape() async throws {
        let directory = TemporaryDirectory()
        let file = directory.file("notarium.yaml")
        try "seal:\n  key-file: [a, b]\n".write(toFile: file, atomically: true, encoding: .utf8)
        let error = await configurationError { _ = try await ApplianceConfiguration.load(configurationFile: file, environment: [:]) }
        #expect(error?.key == .sealKeyFile)
        #expect(error?.source == "file \(file)")
    }

    @Test("an unknown key in the file is an error, so a misspelling cannot pass silently")
    func unknownKey() async throws {
        let directory = TemporaryDirectory()
        let file = directory.file("notarium.yaml")
        try "lisen: 127.0.0.1:8080\n".write(toFile: file, atomically: true, encoding: .utf8)
        let error = await configurationError { _ = try await ApplianceConfiguration.load(configurationFile: file, environment: [:]) }
        #expect(error?.code == .unknownKey)
        #expect(error?.value == "lisen")
    }

    @Test("a missing, malformed or non-mapping file is unreadableFile")
    func badFiles() async throws {
        let directory = TemporaryDirectory()
        #expect(await configurationError { _ = try await ApplianceConfiguration.load(configurationFile: directory.file("absent.yaml"), environment: [:]) }?.code == .unreadableFile)
        let malformed = directory.file("bad.yaml")
        try "data: [unclosed\n".write(toFile: malformed, atomically: true, encoding: .utf8)
        #expect(await configurationError { _ = try await ApplianceConfiguration.load(configurationFile: malformed, environment: [:]) }?.code == .unreadableFile)
        let list = directory.file("list.yaml")
        try "- a\n- b\n".write(toFile: list, atomically: true, encoding: .utf8)
        #expect(await configurationError { _ = try await ApplianceConfiguration.load(configurationFile: list, environment: [:]) }?.code == .unreadableFile)
    }

    @Test("listen addresses: IPv4, names, bracketed IPv6; bad ones say why")
    func listenAddresses() {
        var reason = ""
        #expect(ListenAddress(parsing: "0.0.0.0:443", reason: &reason) == ListenAddress(host: "0.0.0.0", port: 443))
        #expect(ListenAddress(parsing: "notarium.example:8080", reason: &reason)?.host == "notarium.example")
        #expect(ListenAddress(parsing: "[::1]:0", reason: &reason) == ListenAddress(host: "::1", port: 0))
        #expect(ListenAddress(host: "::1", port: 80).description == "[::1]:80")
        for bad in ["", ":80", "host", "host:", "host:-1", "host:65536", "::1:80", "[::1]80", "a b:1"] {
            #expect(ListenAddress(parsing: bad, reason: &reason) == nil, "\(bad) was accepted")
            #expect(!reason.isEmpty)
        }
    }

    @Test("TSA settings: each bad value names its key, and a stated accuracy must cover the clock tolerance")
    func tsaSettings() async throws {
        let loaded = try await ApplianceConfiguration.load(environment: ["NOTARIUM_TSA_ACCEPTED_POLICIES": "1.2.3.4, 1.2.3.5"])
        #expect(loaded.tsa.acceptedPolicies == [loaded.tsa.policyOID, "1.2.3.4", "1.2.3.5"])
        let cases: [(String, String, ConfigurationKey)] = [
            ("NOTARIUM_TSA_ACCURACY_MS", "500", .tsaAccuracy),
            ("NOTARIUM_TSA_ACCURACY_MS", "soon", .tsaAccuracy),
            ("NOTARIUM_TSA_CLOCK_TOLERANCE_MS", "-1", .tsaClockTolerance),
            ("NOTARIUM_TSA_POLICY_OID", "1.2.x", .tsaPolicyOID),
            ("NOTARIUM_TSA_ACCEPTED_POLICIES", "1.2.3, 9.9", .tsaAcceptedPolicies),
            ("NOTARIUM_TSA_INCLUDE_NAME", "maybe", .tsaIncludeName),
            ("NOTARIUM_TSA_SUBJECT", "O=No Common Name", .tsaSubject),
        ]
        for (variable, value, key) in cases {
            let error = await configurationError { _ = try await ApplianceConfiguration.load(environment: [variable: value]) }
            #expect(error?.key == key, "\(variable)=\(value): \(String(describing: error))")
        }
        // Accuracy 0 states none, so any tolerance goes with it.
        let unstated = try await ApplianceConfiguration.load(environment: ["NOTARIUM_TSA_ACCURACY_MS": "0", "NOTARIUM_TSA_CLOCK_TOLERANCE_MS": "5000"])
        #expect(unstated.tsa.accuracyMilliseconds == 0)
    }

    @Test("API settings: defaults, the certified names parsed once, and each invalid one named by its key")
    func apiSettings() async throws {
        let defaults = try await ApplianceConfiguration.load(environment: [:])
        #expect(defaults.api.listen == ListenAddress(host: "127.0.0.1", port: 8443))
        #expect(defaults.api.hostnames.map(\.description) == ["DNS:localhost", "IP:127.0.0.1", "IP:0:0:0:0:0:0:0:1"])
        #expect(!defaults.api.tsaNeedsClientCertificate && defaults.api.idempotencyRetentionHours == 24 && defaults.api.bodyTimeoutSeconds == 30)
        let set = try await ApplianceConfiguration.load(flags: [.apiListen: "0.0.0.0:9443"], environment: ["NOTARIUM_API_HOSTNAMES": "notary.example.org, 192.0.2.7", "NOTARIUM_API_TSA_CLIENT_CERTIFICATE": "true"])
        #expect(set.api.listen.port == 9443 && set.api.tsaNeedsClientCertificate)
        #expect(set.api.hostnames.map(\.description) == ["DNS:notary.example.org", "IP:192.0.2.7"])
        let invalid: [(ConfigurationKey, String)] = [
            (.apiListen, "127.0.0.1"), (.apiListen, "127.0.0.1:8080"), (.apiHostnames, ""), (.apiHostnames, "bad_host!"),
            (.apiTSAClientCertificate, "yes"), (.apiIdempotencyRetentionHours, "0"), (.apiIdempotencyRetentionHours, "9000"),
            (.apiBodyTimeoutSeconds, "0"), (.apiBodyTimeoutSeconds, "x"),
        ]
        for (key, value) in invalid {
            let error = await configurationError { _ = try await ApplianceConfiguration.load(flags: [key: value], environment: [:]) }
            #expect(error?.key == key && error?.code == .invalidValue, "\(key.rawValue) = \(value): \(String(describing: error))")
        }
    }

    @Test("delivery settings: no e-mail by default; a relay with its addresses; each invalid one named by its key, before anything starts")
    func deliverySettings() async throws {
        let defaults = try await ApplianceConfiguration.load(environment: [:])
        #expect(defaults.delivery.email == nil && defaults.delivery.noticesDirectory == nil)
        let directory = TemporaryDirectory()
        let password = directory.file("password")
        try "s3cret\n".write(toFile: password, atomically: true, encoding: .utf8)
        let relay: [String: String] = ["NOTARIUM_DELIVERY_EMAIL_RELAY": "mail.example.org:587", "NOTARIUM_DELIVERY_EMAIL_FROM": "notices@example.org"]
        let set = try await ApplianceConfiguration.load(environment: relay.merging(["NOTARIUM_DELIVERY_EMAIL_USERNAME": "notarium", "NOTARIUM_DELIVERY_EMAIL_PASSWORD_FILE": password]) { $1 })
        let email = try #require(set.delivery.email)
        #expect(email.host == "mail.example.org" && email.port == 587 && email.security == .starttls && email.username == "notarium" && email.passwordFile == password)
        #expect(email.envelopeFrom == "notices@example.org" && email.fromName == "Notarium" && !email.helo.isEmpty)
        // The password is the file's first line, whatever its line end.
        #expect(try email.credentials()?.password == "s3cret")
        try "s3cret \r\nsecond line\r\n".write(toFile: password, atomically: true, encoding: .utf8)
        #expect(try email.credentials()?.password == "s3cret" && email.credentials()?.username == "notarium")
        // The SMS gateway: its token and report secret are each a file's first line.
        let emptySecret = directory.file("empty")
        try "\n".write(toFile: emptySecret, atomically: true, encoding: .utf8)
        let sms: [String: String] = [
            "NOTARIUM_DELIVERY_SMS_GATEWAY_URL": "https://sms.example.org/send", "NOTARIUM_DELIVERY_SMS_TOKEN_FILE": password,
            "NOTARIUM_DELIVERY_SMS_REPORT_SECRET_FILE": password,
        ]
        let withSMS = try await ApplianceConfiguration.load(environment: sms.merging(["NOTARIUM_DELIVERY_PORTAL_BASE_URL": "https://portal.example.org:8443"]) { $1 })
        #expect(withSMS.delivery.sms?.gatewayURL == "https://sms.example.org/send" && withSMS.delivery.sms?.sender == "Notarium" && withSMS.delivery.sms?.callbackURL == nil)
        #expect(withSMS.delivery.portalBaseURL == "https://portal.example.org:8443" && withSMS.delivery.documentRetentionDays == 90)
        #expect(try DeliverySettings.secret(password) == "s3cret")
        let badNotices = directory.file("notices")
        try FileManager.default.createDirectory(atPath: badNotices, withIntermediateDirectories: true)
        try "language-name: English\n".write(toFile: badNotices + "/en.yaml", atomically: true, encoding: .utf8)
        let invalid: [(ConfigurationKey, [String: String])] = [
            (.deliveryEmailRelay, ["NOTARIUM_DELIVERY_EMAIL_RELAY": "mail.example.org"]),
            (.deliveryEmailRelay, ["NOTARIUM_DELIVERY_EMAIL_RELAY": "mail.example.org:0"]),
            (.deliveryEmailSecurity, relay.merging(["NOTARIUM_DELIVERY_EMAIL_SECURITY": "ssl"]) { $1 }),
            (.deliveryEmailFrom, ["NOTARIUM_DELIVERY_EMAIL_RELAY": "mail.example.org:25"]),
            (.deliveryEmailFrom, relay.merging(["NOTARIUM_DELIVERY_EMAIL_FROM": "notices"]) { $1 }),
            (.deliveryEmailEnvelopeFrom, relay.merging(["NOTARIUM_DELIVERY_EMAIL_ENVELOPE_FROM": "<b@example.org>"]) { $1 }),
            (.deliveryEmailUsername, relay.merging(["NOTARIUM_DELIVERY_EMAIL_USERNAME": "u", "NOTARIUM_DELIVERY_EMAIL_SECURITY": "none", "NOTARIUM_DELIVERY_EMAIL_PASSWORD_FILE": password]) { $1 }),
            (.deliveryEmailPasswordFile, relay.merging(["NOTARIUM_DELIVERY_EMAIL_USERNAME": "u"]) { $1 }),
            (.deliveryEmailCAFile, relay.merging(["NOTARIUM_DELIVERY_EMAIL_CA_FILE": directory.file("missing.pem")]) { $1 }),
            (.deliveryEmailBounceMaildir, relay.merging(["NOTARIUM_DELIVERY_EMAIL_BOUNCE_MAILDIR": directory.file("no-maildir")]) { $1 }),
            (.deliveryEmailBounceMaildir, relay.merging(["NOTARIUM_DELIVERY_EMAIL_BOUNCE_MAILDIR": directory.path]) { $1 }),
            (.deliveryEmailHelo, relay.merging(["NOTARIUM_DELIVERY_EMAIL_HELO": "bad host"]) { $1 }),
            (.deliveryNotices, ["NOTARIUM_DELIVERY_NOTICES": directory.file("no-such-directory")]),
            (.deliveryNotices, ["NOTARIUM_DELIVERY_NOTICES": badNotices]),
            (.deliveryEmailHelo, relay.merging(["NOTARIUM_DELIVERY_EMAIL_HELO": "*.example.org"]) { $1 }),
            (.deliveryPortalBaseURL, ["NOTARIUM_DELIVERY_PORTAL_BASE_URL": "http://portal.example.org"]),
            (.deliveryPortalBaseURL, ["NOTARIUM_DELIVERY_PORTAL_BASE_URL": "https://portal.example.org/"]),
            (.deliveryDocumentsRetentionDays, ["NOTARIUM_DELIVERY_DOCUMENTS_RETENTION_DAYS": "0"]),
            (.deliveryDocumentsRetentionDays, ["NOTARIUM_DELIVERY_DOCUMENTS_RETENTION_DAYS": "3651"]),
            (.deliveryDocumentsRetentionDays, ["NOTARIUM_DELIVERY_DOCUMENTS_RETENTION_DAYS": "x"]),
            (.deliverySMSGatewayURL, sms.merging(["NOTARIUM_DELIVERY_SMS_GATEWAY_URL": "ftp://sms.example.org/send"]) { $1 }),
            (.deliverySMSTokenFile, sms.merging(["NOTARIUM_DELIVERY_SMS_TOKEN_FILE": directory.file("missing")]) { $1 }),
            (.deliverySMSTokenFile, sms.merging(["NOTARIUM_DELIVERY_SMS_TOKEN_FILE": emptySecret]) { $1 }),
            (.deliverySMSReportSecretFile, sms.merging(["NOTARIUM_DELIVERY_SMS_REPORT_SECRET_FILE": ""]) { $1 }),
            (.deliverySMSCAFile, sms.merging(["NOTARIUM_DELIVERY_SMS_CA_FILE": directory.file("missing.pem")]) { $1 }),
            (.deliverySMSCallbackURL, sms.merging(["NOTARIUM_DELIVERY_SMS_CALLBACK_URL": "mailto:x@example.org"]) { $1 }),
        ]
        for (key, environment) in invalid {
            let error = await configurationError { _ = try await ApplianceConfiguration.load(environment: environment) }
            #expect(error?.key == key && error?.code == .invalidValue, "\(key.rawValue) with \(environment): \(String(describing: error))")
        }
    }

    @Test("the shipped appliance/notarium.yaml loads and matches the embedded defaults")
    func shippedFileMatchesDefaults() async throws {
        let file = applianceFolder + "/notarium.yaml"
        let fromFile = try await ApplianceConfiguration.load(configurationFile: file, environment: [:])
        var defaults = try await ApplianceConfiguration.load(environment: [:])
        defaults.configurationFile = file
        #expect(fromFile == defaults)
        // Every setting is documented in it, with its environment variable.
        let text = try String(contentsOfFile: file, encoding: .utf8)
        for key in ConfigurationKey.allCases {
            #expect(text.contains(key.environmentVariable), "\(key.rawValue) is not documented in notarium.yaml")
        }
    }

    @Test("environment variable and flag names follow one rule")
    func names() {
        #expect(ConfigurationKey.sealKeyFile.environmentVariable == "NOTARIUM_SEAL_KEY_FILE")
        #expect(ConfigurationKey.logLevel.flag == "--log-level")
        #expect(ConfigurationKey.data.environmentVariable == "NOTARIUM_DATA")
    }
}
