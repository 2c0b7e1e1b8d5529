import Appliance
import ArgumentParser
import CanonicalJSON
import CertificateAuthority
import Foundation
import Ledger
import Logging
import Notary
import OpenSSLKit
import Records
import TimeStamping

/// `notarium evidence …`: deposit a signed document in a case.
struct EvidenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence",
        abstract: "Notarize evidence: sign a document with the submitter's key and record it (docs/records.md).",
        subcommands: [EvidenceAddCommand.self])
}

struct EvidenceAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Sign FILE with the submitter's key (CMS, detached) and record its digests in the ledger (notariumd stopped).",
        discussion: """
            The document never enters the ledger: only its SHA-256 and SHA-512 digests, size and \
            media type, the submitter's certificate and signature. The certificate must be one this \
            appliance's CA issued, valid and unrevoked now. Prints the receipt as JSON; the entry's \
            time-stamp is made before the command returns.
            """)

    @Argument(help: ArgumentHelp("The document.", valueName: "file"))
    var file: String

    @Option(name: .customLong("case"), help: ArgumentHelp("Case identifier (1–128 of A–Z a–z 0–9 . _ : / -).", valueName: "id"))
    var caseID: String

    @Option(help: ArgumentHelp("The submitter's private key (unencrypted PEM).", valueName: "file"))
    var key: String

    @Option(help: ArgumentHelp("The submitter's certificate (PEM or DER), issued by this appliance's CA.", valueName: "file"))
    var cert: String

    @Option(name: .customLong("media-type"), help: ArgumentHelp("The document's media type.", valueName: "type"))
    var mediaType: String = "application/octet-stream"

    @Option(help: ArgumentHelp("A short description (at most 2000 characters). It is public: no personal data.", valueName: "text"))
    var description: String?

    @OptionGroup var options: DataDirectoryOptions

    func run() async throws {
        let caseID = try checkedIdentifier(caseID, "case")
        // Checked before the (possibly large) file is read.
        _ = try checkedMediaType(mediaType)
        let certificate = try readCertificates(cert).first!
        let privateKey = try readPrivateKey(key)
        guard certificate.publicKey?.subjectPublicKeyInfo == privateKey.subjectPublicKeyInfo else {
            throw CLIFailure("key-certificate-mismatch", "\(key) is not the key of the certificate in \(cert) (\(certificate.subject))", status: NotariumExit.usage)
        }
        let document = try describe(file: file, mediaType: mediaType)
        let signature: [UInt8]
        do {
            signature = try CMSSignature.signDetached(contentsOf: file, certificate: certificate, key: privateKey)
        } catch {
            throw CLIFailure("signing-failed", "cannot sign \(file): \(error.reason) \(error.openSSLErrors.joined(separator: "; "))")
        }
        let submitter = RecordedSignature(certificate: certificate.derBytes, signature: signature)
        try await withNotary(options, checkpointKey: false) { notary, stamper, _ in
            let receipt = try await notary.depositEvidence(caseID: caseID, document: document, submitter: submitter, description: description)
            let token = try stamper!.entryToken(receipt.seq)
            var summary: [String: JSONValue] = [
                "seq": .integer(Int64(receipt.seq)),
                "leafHash": .string(Base64.encode(receipt.leafHash)),
                "time": .string(receipt.time),
                "case": .string(caseID),
                "sha256": .string(lowerHex(document.sha256)),
                "size": .integer(Int64(document.size)),
            ]
            if let token, let reply = try? TimeStampReply(derEncoded: token) {
                summary["timestamp"] = .string(LedgerTime.format(milliseconds: reply.genTime))
            }
            printJSON(.object(summary))
        }
    }
}

/// `notarium bundle export`: one file that proves a record offline.
struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Export self-contained proof bundles (docs/bundle-format.md).",
        subcommands: [BundleExportCommand.self])
}

struct BundleExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the bundle of an evidence entry, a whole service or an award (notariumd stopped).",
        discussion: """
            The bundle holds the entries, their time-stamps, their inclusion proofs in a signed \
            and time-stamped checkpoint (one is cut if none includes them yet), the certificates \
            and the CRLs captured when the records were signed. Check it with `notarium verify`.
            """)

    @Option(help: ArgumentHelp("An evidence entry's sequence number.", valueName: "n"))
    var seq: UInt64?

    @Option(name: .customLong("service"), help: ArgumentHelp("A service: all its events.", valueName: "id"))
    var serviceID: String?

    @Option(name: .customLong("award"), help: ArgumentHelp("An award: its entry and all its signatures.", valueName: "id"))
    var awardID: String?

    @Option(help: ArgumentHelp("Where to write the bundle.", valueName: "file"))
    var out: String

    @Option(name: .customLong("embed-document"), help: ArgumentHelp("Embed this document (it must be one recorded: the evidence, a part served, a language version); repeatable. The appliance never keeps documents.", valueName: "file"))
    var embedDocument: [String] = []

    @OptionGroup var options: DataDirectoryOptions

    func validate() throws {
        guard [seq != nil, serviceID != nil, awardID != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("name exactly one of --seq, --service, --award")
        }
    }

    func run() async throws {
        var documents: [[UInt8]] = []
        var total = 0
        for path in embedDocument {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIFailure("unreadable-file", "cannot read \(path)", status: NotariumExit.usage)
            }
            total += data.count
            guard total <= Bundle.maximumBytes / 2 else {
                throw CLIFailure("document-too-large", "the documents to embed come to \(total) bytes; a bundle embeds at most \(Bundle.maximumBytes / 2)", status: NotariumExit.usage)
            }
            documents.append([UInt8](data))
        }
        if seq != nil, documents.count > 1 {
            throw CLIFailure("invalid-argument", "an evidence bundle embeds one document", status: NotariumExit.usage)
        }
        try await withNotary(options, checkpointKey: true) { notary, stamper, signer in
            let bundle: Records.Bundle
            if let seq {
                bundle = try notary.evidenceBundle(seq: seq, stamper: stamper!, checkpointSigner: signer, document: documents.first)
            } else if let serviceID {
                bundle = try notary.serviceBundle(serviceID: serviceID, stamper: stamper!, checkpointSigner: signer, documents: documents)
            } else {
                bundle = try notary.awardBundle(awardID: awardID!, stamper: stamper!, checkpointSigner: signer, documents: documents)
            }
            try writeFile(out, bundle.encoded)
            printJSON(.object([
                "kind": .string(bundle.kind.rawValue), "subject": .string(bundle.subject), "out": .string(out),
                "records": .integer(Int64(bundle.records.count)), "exportedAt": .string(bundle.exportedAt),
            ]))
        }
    }
}

/// `notarium trust export`: what relying parties verify bundles against.
struct TrustCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Export the trust file: root certificates and ledger verifier keys.",
        subcommands: [TrustExportCommand.self])
}

struct TrustExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write the trust file (JSON) for `notarium verify --trust`.")

    @Option(help: ArgumentHelp("Where to write it.", valueName: "file"))
    var out: String

    @OptionGroup var options: DataDirectoryOptions

    func run() async throws {
        try await withNotary(options, checkpointKey: false, timeStamps: false) { notary, _, _ in
            let trust = try notary.trustFile()
            try writeFile(out, Array(trust.json.canonicalString.utf8))
            printJSON(.object(["out": .string(out), "roots": .integer(Int64(trust.roots.count)), "ledgerKeys": .array(trust.ledgerKeys.map { .string($0) })]))
        }
    }
}

func readPrivateKey(_ path: String) throws -> PrivateKey {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIFailure("unreadable-file", "cannot read \(path)", status: NotariumExit.usage)
    }
    do {
        return try PrivateKey(pem: String(decoding: data, as: UTF8.self))
    } catch {
        throw CLIFailure("malformed-key", "\(path): \(error.reason)", status: NotariumExit.usage)
    }
}

/// Runs `body` with the notary of a stopped appliance's data directory, its time-stamper (on
/// demand; its thread is not started) and, with `checkpointKey`, the checkpoint signer.
func withNotary<T>(_ options: DataDirectoryOptions, checkpointKey: Bool, timeStamps: Bool = true, _ body: (Notary, LedgerTimeStamper?, NoteSigner?) async throws -> T) async throws -> T {
    let settings = try await options.resolve()
    var logger = Logger(label: "notarium")
    logger.logLevel = .warning
    let directory = try DataDirectory.open(at: settings.dataDirectory)
    defer { directory.close() }
    let (ledger, signer) = try directory.openLedger(configuration: settings, withSigner: checkpointKey, logger: logger)
    defer { ledger.close() }
    do {
        let notary = try Notary(ledger: ledger, database: directory.database)
        var stamper: LedgerTimeStamper?
        if timeStamps {
            let authority = try await directory.openCA(configuration: settings, ledger: ledger, create: false, logger: logger)
            let tsa = try await directory.openTSA(configuration: settings, authority: authority, create: true, logger: logger)
            stamper = try LedgerTimeStamper(ledger: ledger, authority: tsa, logger: logger)
        }
        return try await body(notary, stamper, signer)
    } catch let error as NotaryError {
        throw CLIFailure(error.code.rawValue, error.reason, status: error.code == .notFound ? NotariumExit.usage : NotariumExit.failure)
    } catch let error as TSAError {
        throw CLIFailure(error.code.rawValue, error.reason)
    } catch let error as CAError {
        throw caFailure(error)
    }
}
