import ArgumentParser
import CanonicalJSON
import Foundation
import Notary
import OpenSSLKit
import Records

/// `notarium award …`: register a signed award (docs/records.md §3).
struct AwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "award",
        abstract: "Register awards: language versions by digest, each arbitrator's signature and the institution's seal.",
        subcommands: [AwardRegisterCommand.self])
}

struct AwardRegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Record an award with its signatures (notariumd stopped).",
        discussion: """
            Each signature is a CMS detached signature over one language version, made with a \
            signer certificate of this appliance's CA: --sign ROLE:LANG:KEY:CERT signs here with \
            the key; --signature ROLE:LANG:CMS:CERT takes a DER signature made elsewhere (e.g. \
            `openssl cms -sign -binary -outform DER`). ROLE is arbitrator, presiding-arbitrator \
            or institution-seal. Every authentic version needs one signature from each of the \
            --arbitrators and one institution seal; otherwise nothing is recorded.
            """)

    @Option(name: .customLong("award"), help: ArgumentHelp("Award identifier (public: no names).", valueName: "id"))
    var awardID: String

    @Option(name: .customLong("case"), help: ArgumentHelp("Case identifier.", valueName: "id"))
    var caseID: String

    @Option(help: ArgumentHelp("The date of the award (YYYY-MM-DD).", valueName: "date"))
    var issued: String

    @Option(help: ArgumentHelp("The seat of arbitration (e.g. \"Beijing, China\").", valueName: "place"))
    var seat: String

    @Option(help: ArgumentHelp("Number of arbitrators on the tribunal.", valueName: "n"))
    var arbitrators: Int

    @Option(help: ArgumentHelp("A language version: LANG=FILE (BCP 47 tag); repeat per language.", valueName: "lang=file"))
    var version: [String] = []

    @Option(help: ArgumentHelp("A language whose version is authentic (repeat); default: every version.", valueName: "lang"))
    var authentic: [String] = []

    @Option(name: .customLong("media-type"), help: ArgumentHelp("The versions' media type.", valueName: "type"))
    var mediaType: String = "application/pdf"

    @Option(help: ArgumentHelp("Sign here: ROLE:LANG:KEY:CERT.", valueName: "spec"))
    var sign: [String] = []

    @Option(help: ArgumentHelp("A signature made elsewhere: ROLE:LANG:CMS:CERT (DER CMS, detached).", valueName: "spec"))
    var signature: [String] = []

    @OptionGroup var options: DataDirectoryOptions

    func run() async throws {
        let awardID = try checkedIdentifier(awardID, "award")
        let caseID = try checkedIdentifier(caseID, "case")
        var files: [String: String] = [:]
        var versions: [AwardVersion] = []
        for item in version {
            let (language, file) = try pair(item, "--version")
            files[language] = file
            versions.append(AwardVersion(language: language, authentic: authentic.isEmpty || authentic.contains(language), document: try describe(file: file, mediaType: mediaType)))
        }
        if let unknown = authentic.first(where: { files[$0] == nil }) {
            throw CLIFailure("invalid-argument", "--authentic names language \(unknown), which no --version gives", status: NotariumExit.usage)
        }
        // The record's own members are checked before anyone signs anything.
        do {
            _ = try AwardRecord(body: AwardRecord(awardID: awardID, caseID: caseID, issued: issued, seat: seat, arbitrators: arbitrators, versions: versions, signatures: versions.map {
                AwardSignature(role: .institutionSeal, language: $0.language, signed: RecordedSignature(certificate: [0x30], signature: [0x30]))
            }).body)
        } catch {
            throw CLIFailure("invalid-award", error.reason, status: NotariumExit.usage)
        }
        var signatures: [AwardSignature] = []
        for (spec, local) in sign.map({ ($0, true) }) + signature.map({ ($0, false) }) {
            let fields = spec.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4, let role = AwardRole(rawValue: fields[0]) else {
                throw CLIFailure("invalid-signature-spec", "\"\(spec)\" is not ROLE:LANG:\(local ? "KEY" : "CMS"):CERT with ROLE arbitrator, presiding-arbitrator or institution-seal", status: NotariumExit.usage)
            }
            guard let file = files[fields[1]] else {
                throw CLIFailure("invalid-signature-spec", "\"\(spec)\" names language \(fields[1]), which no --version gives", status: NotariumExit.usage)
            }
            let certificate = try readCertificates(fields[3]).first!
            let cms: [UInt8]
            if local {
                let key = try readPrivateKey(fields[2])
                guard certificate.publicKey?.subjectPublicKeyInfo == key.subjectPublicKeyInfo else {
                    throw CLIFailure("key-certificate-mismatch", "\(fields[2]) is not the key of the certificate in \(fields[3]) (\(certificate.subject))", status: NotariumExit.usage)
                }
                do {
                    cms = try CMSSignature.signDetached(contentsOf: file, certificate: certificate, key: key)
                } catch {
                    throw CLIFailure("signing-failed", "cannot sign \(file): \(error.reason)")
                }
            } else {
                guard let data = FileManager.default.contents(atPath: fields[2]) else {
                    throw CLIFailure("unreadable-file", "cannot read \(fields[2])", status: NotariumExit.usage)
                }
                cms = [UInt8](data)
            }
            signatures.append(AwardSignature(role: role, language: fields[1], signed: RecordedSignature(certificate: certificate.derBytes, signature: cms)))
        }
        let award = AwardRecord(awardID: awardID, caseID: caseID, issued: issued, seat: seat, arbitrators: arbitrators, versions: versions, signatures: signatures)
        try await withNotary(options, checkpointKey: false) { notary, stamper, _ in
            let receipt = try await notary.registerAward(award)
            _ = try stamper!.entryToken(receipt.seq)
            printReceipt(receipt, ["award": .string(awardID), "case": .string(caseID), "signatures": .integer(Int64(signatures.count))])
        }
    }
}
