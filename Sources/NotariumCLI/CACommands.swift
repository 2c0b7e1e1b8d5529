import Appliance
import ArgumentParser
import CanonicalJSON
import CertificateAuthority
import Foundation
import Ledger
import Logging
import OpenSSLKit

/// `notarium ca …`: the CA of a data directory, while notariumd is stopped.
struct CACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Create the CA, issue and revoke certificates, and export CRLs and CA certificates.",
        discussion: """
            These commands open the data directory directly, so notariumd must be stopped; while \
            it runs, relying parties fetch GET /ca/certs, /ca/root, /ca/crl and ask POST /ocsp. \
            docs/pki.md describes the hierarchy, the profiles and the key policy.
            """,
        subcommands: [
            CAInitCommand.self, CAIssueCommand.self, CARevokeCommand.self, CACRLCommand.self, CACertsCommand.self,
            CAListCommand.self, CAShowCommand.self,
        ])
}

/// Maps the CA's refusals to named CLI failures.
func caFailure(_ error: CAError) -> CLIFailure {
    CLIFailure(error.code.rawValue, error.reason, status: error.code == .notInitialized || error.code == .invalidSettings ? NotariumExit.usage : NotariumExit.failure)
}

/// Opens the data directory read-write with its ledger and runs `body` with the CA store, or
/// the opened CA when `signing` is set (which unseals the issuing CA's keys).
func withCAStore<T>(_ options: DataDirectoryOptions, signing: Bool, _ body: (CertificateStore, CertificateAuthority?, DataDirectory, ApplianceConfiguration) async throws -> T) async throws -> T {
    let settings = try await options.resolve()
    var logger = Logger(label: "notarium")
    logger.logLevel = .warning
    let directory = try DataDirectory.open(at: settings.dataDirectory)
    defer { directory.close() }
    let (ledger, _) = try directory.openLedger(configuration: settings, withSigner: false, logger: logger)
    defer { ledger.close() }
    do {
        let store = try CertificateStore(database: directory.database)
        guard try store.hierarchy() != nil else {
            throw CAError(.notInitialized, "this data directory has no CA yet: run `notarium ca init` or start notariumd once")
        }
        let authority = signing ? try await directory.openCA(configuration: settings, ledger: ledger, create: false, logger: logger) : nil
        return try await body(store, authority, directory, settings)
    } catch let error as CAError {
        throw caFailure(error)
    }
}

/// A serial number as the user typed it: hex, with or without colons or a 0x prefix.
func parseSerial(_ text: String) throws -> [UInt8] {
    guard let serial = serialNumber(fromHex: text) else {
        throw CLIFailure("invalid-serial", "\"\(text)\" is not a hexadecimal serial number", status: NotariumExit.usage)
    }
    return serial
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        throw CLIFailure("cannot-write", "cannot write \(path)")
    }
}

struct CAInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the root and issuing CA, the OCSP responder and the ledger key's certificate.",
        discussion: """
            Names, algorithm, validity, policy OID and public base URL come from the configuration \
            (ca.*, public-base-url) or the flags below. Creates the data directory and ledger if \
            needed. Writes root-ca.pem, root-ca.cer and ca-chain.pem to DATA/public for publishing.
            """)

    @OptionGroup var options: DataDirectoryOptions

    @Option(help: ArgumentHelp("ecdsa-p256 (default) or rsa-3072.", valueName: "algorithm"))
    var algorithm: String?

    @Option(help: ArgumentHelp("The root CA's name, e.g. \"CN=Example Root CA,O=Example\".", valueName: "name"))
    var rootSubject: String?

    @Option(help: ArgumentHelp("The issuing CA's name.", valueName: "name"))
    var issuingSubject: String?

    @Option(help: ArgumentHelp("The URL relying parties reach the appliance at.", valueName: "url"))
    var publicBaseURL: String?

    func run() async throws {
        var flags: [ConfigurationKey: String] = [:]
        flags[.caAlgorithm] = algorithm
        flags[.caRootSubject] = rootSubject
        flags[.caIssuingSubject] = issuingSubject
        flags[.publicBaseURL] = publicBaseURL
        flags[.data] = options.data
        flags[.sealKeyFile] = options.sealKeyFile
        flags[.ledgerOrigin] = options.ledgerOrigin
        let settings: ApplianceConfiguration
        do {
            settings = try await ApplianceConfiguration.load(flags: flags, configurationFile: options.configurationFile, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw CLIFailure("configuration-\(error.code.rawValue)", error.description, status: NotariumExit.usage)
        }
        var logger = Logger(label: "notarium")
        logger.logLevel = .warning
        let directory = try DataDirectory.openOrInitialize(at: settings.dataDirectory, sealKeyFile: settings.sealKeyFile, logger: logger)
        defer { directory.close() }
        let (ledger, _) = try directory.openLedger(configuration: settings, withSigner: false, logger: logger)
        defer { ledger.close() }
        do {
            let authority = try await directory.createCA(configuration: settings, ledger: ledger, logger: logger)
            let hierarchy = authority.hierarchy
            printJSON([
                "root": .string(hierarchy.root.subject), "rootSerial": .string(hierarchy.root.serialHex),
                "issuing": .string(hierarchy.issuing.subject), "issuingSerial": .string(hierarchy.issuing.serialHex),
                "ocspResponderSerial": .string(hierarchy.ocspResponder.serialHex),
                "algorithm": .string(hierarchy.algorithm.rawValue), "publicFiles": .string(directory.publicPath),
                "rootSha256": .string(lowerHex(hierarchy.root.sha256Fingerprint)),
            ])
        } catch let error as CAError {
            throw caFailure(error)
        }
    }
}

struct CAIssueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue a certificate from a PKCS#10 request (PEM or DER).",
        discussion: "Prints the certificate (PEM), or with --out writes it there and prints a JSON summary.")

    @OptionGroup var options: DataDirectoryOptions

    @Option(help: ArgumentHelp("Profile: \(CertificateProfile.allCases.filter(\.acceptsRequests).map(\.rawValue).joined(separator: ", ")).", valueName: "profile"))
    var profile: String

    @Option(help: ArgumentHelp("The certificate signing request ('-' for standard input).", valueName: "file"))
    var csr: String

    @Option(help: ArgumentHelp("Write the certificate (PEM) here.", valueName: "file"))
    var out: String?

    func run() async throws {
        guard let chosen = CertificateProfile(rawValue: profile) else {
            throw CLIFailure(CAError.Code.unknownProfile.rawValue, "unknown profile \"\(profile)\"; profiles: \(CertificateProfile.allCases.map(\.rawValue).joined(separator: ", "))", status: NotariumExit.usage)
        }
        let request: [UInt8]
        if csr == "-" {
            request = Array(FileHandle.standardInput.readData(ofLength: CertificateSigningRequest.maximumBytes + 1))
        } else {
            guard let data = FileManager.default.contents(atPath: csr) else {
                throw CLIFailure("unreadable-input", "cannot read \(csr)", status: NotariumExit.usage)
            }
            request = Array(data)
        }
        try await withCAStore(options, signing: true) { _, authority, _, _ in
            let issued = try await authority!.issue(request: request, profile: chosen)
            if let out {
                try writeFile(out, Array(issued.certificate.pem.utf8))
                var summary = issued.record.summary
                if case .object(var members) = summary {
                    members["ledgerSeq"] = .integer(Int64(issued.receipt.seq))
                    summary = .object(members)
                }
                printJSON(summary)
            } else {
                print(issued.certificate.pem, terminator: "")
            }
        }
    }
}

struct CARevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a certificate; the CRL is re-signed and the revocation entered in the ledger.")

    @OptionGroup var options: DataDirectoryOptions

    @Option(help: ArgumentHelp("Serial number, hex.", valueName: "hex"))
    var serial: String

    @Option(help: ArgumentHelp("RFC 5280 reason: \(CertificateAuthority.revocationReasons.map(\.name).joined(separator: ", ")).", valueName: "reason"))
    var reason: String = "unspecified"

    func run() async throws {
        let serialBytes = try parseSerial(serial)
        guard let chosen = RevocationReason(name: reason) else {
            throw CLIFailure(CAError.Code.revocationRefused.rawValue, "unknown reason \"\(reason)\"; reasons: \(CertificateAuthority.revocationReasons.map(\.name).joined(separator: ", "))", status: NotariumExit.usage)
        }
        try await withCAStore(options, signing: true) { _, authority, _, _ in
            let (record, receipt) = try await authority!.revoke(serial: serialBytes, reason: chosen)
            var members: [String: JSONValue] = ["ledgerSeq": .integer(Int64(receipt.seq)), "crlNumber": .integer(Int64(authority!.currentCRL.number))]
            if case .object(let summary) = record.summary { members.merge(summary) { old, _ in old } }
            printJSON(.object(members))
        }
    }
}

struct CACRLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crl",
        abstract: "Print the issuing CA's current CRL (PEM), or write it (DER) with --out.")

    @OptionGroup var options: DataDirectoryOptions

    @Option(help: ArgumentHelp("Write the CRL, DER, here.", valueName: "file"))
    var out: String?

    @Flag(help: "Re-sign the CRL now (a new CRL number) before printing it.")
    var resign = false

    @Flag(help: "The root CA's CRL instead of the issuing CA's.")
    var root = false

    func run() async throws {
        try await withCAStore(options, signing: resign) { store, authority, _, _ in
            if let authority { try await authority.maintain(force: true) }
            guard let stored = root ? try store.currentRootCRL() : try store.currentCRL() else {
                throw CAError(.corrupt, "the CA has no CRL")
            }
            if let out {
                try writeFile(out, stored.der)
                printJSON(["number": .integer(Int64(stored.number)), "thisUpdate": .string(LedgerTime.format(milliseconds: stored.thisUpdate * 1000)), "nextUpdate": .string(LedgerTime.format(milliseconds: stored.nextUpdate * 1000)), "file": .string(out)])
            } else {
                print(try CertificateRevocationList(derEncoded: stored.der).pem, terminator: "")
            }
        }
    }
}

struct CACertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Print the CA chain (issuing CA, then root, PEM), or write the public files to a folder.")

    @OptionGroup var options: DataDirectoryOptions

    @Option(help: ArgumentHelp("Write root-ca.pem, root-ca.cer and ca-chain.pem here.", valueName: "dir"))
    var out: String?

    func run() async throws {
        try await withCAStore(options, signing: false) { store, _, directory, _ in
            guard let hierarchy = try store.hierarchy() else { throw CAError(.notInitialized, "no CA") }
            if let out {
                try directory.writePublicFiles(hierarchy, to: out)
                printJSON(["root": .string(out + "/root-ca.pem"), "chain": .string(out + "/ca-chain.pem")])
            } else {
                print(hierarchy.chainPEM, terminator: "")
            }
        }
    }
}

struct CAListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List issued certificates, one JSON object per line, in serial order.")

    @OptionGroup var options: DataDirectoryOptions

    @Flag(help: "Only revoked certificates.")
    var revoked = false

    func run() async throws {
        try await withCAStore(options, signing: false) { store, _, _, _ in
            var after: [UInt8]? = nil
            while true {
                let page = try store.records(after: after, limit: 1000)
                for record in page where !revoked || record.revocation != nil { printJSON(record.summary) }
                guard page.count == 1000, let last = page.last else { break }
                after = last.certificate.serialNumber
            }
        }
    }
}

struct CAShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one certificate: its status as JSON, then the certificate in PEM (or as text with --text).")

    @OptionGroup var options: DataDirectoryOptions

    @Argument(help: ArgumentHelp("Serial number, hex.", valueName: "serial"))
    var serial: String

    @Flag(help: "Print the certificate as `openssl x509 -text` does instead of PEM.")
    var text = false

    func run() async throws {
        let serialBytes = try parseSerial(serial)
        try await withCAStore(options, signing: false) { store, _, _, _ in
            guard let record = try store.record(serial: serialBytes) else {
                throw CAError(.unknownSerial, "no certificate with serial \(hex(serialBytes)) was issued here")
            }
            printJSON(record.summary)
            print(text ? record.certificate.text : record.certificate.pem, terminator: "")
        }
    }
}
