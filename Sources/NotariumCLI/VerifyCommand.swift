import ArgumentParser
import Foundation
import OpenSSLKit
import Records
import Verification

/// `notarium verify`: the offline check of a bundle. It reads three files and opens nothing
/// else: no data directory, no network.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a bundle offline against a trust file; report every check and the verdict.",
        discussion: """
            Exit status (ETSI EN 319 102-1): 0 PASSED, 1 FAILED (the failing checks are named), \
            3 INDETERMINATE (validation data missing: never reported as PASSED), 2 could not run. \
            docs/verification.md lists every check and the --json structure.
            """)

    @Argument(help: ArgumentHelp("The bundle file.", valueName: "bundle"))
    var bundle: String

    @Option(help: ArgumentHelp("The trust file (`notarium trust export`).", valueName: "file"))
    var trust: String

    @Option(help: ArgumentHelp("The document, to compare with the recorded digests.", valueName: "file"))
    var document: String?

    @Flag(help: "Print the report as JSON (docs/verification.md §4).")
    var json = false

    @Option(help: ArgumentHelp("Report language: \(Catalogue.languages.joined(separator: ", ")).", valueName: "code"))
    var lang: String = "en"

    func run() async throws {
        guard let catalogue = Catalogue.all[lang] else {
            throw CLIFailure("unknown-language", "no report catalogue for \"\(lang)\"; available: \(Catalogue.languages.joined(separator: ", "))", status: NotariumExit.usage)
        }
        let trustBytes = try read(trust, limit: TrustFile.maximumBytes)
        let verifier: Verifier
        do {
            verifier = try Verifier(trust: try TrustFile(parsing: trustBytes))
        } catch {
            throw CLIFailure("invalid-trust-file", "\(trust): \(error.reason)", status: NotariumExit.usage)
        }
        let bundleBytes = try read(bundle, limit: Bundle.maximumBytes)
        var digests: Verifier.DocumentDigests?
        if let document {
            do {
                digests = Verifier.DocumentDigests(digests: try NamedDigest.compute(file: document).digests, origin: document)
            } catch {
                throw CLIFailure("unreadable-file", "\(document): \(error.reason)", status: NotariumExit.usage)
            }
        }
        let report = verifier.verify(bundle: bundleBytes, document: digests)
        if json {
            print(report.json(catalogue: catalogue).canonicalString)
        } else {
            print(report.text(catalogue: catalogue), terminator: "")
        }
        if report.verdict != .passed { throw ExitCode(report.verdict.exitStatus) }
    }

    private func read(_ path: String, limit: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CLIFailure("unreadable-file", "cannot read \(path)", status: NotariumExit.usage)
        }
        defer { try? handle.close() }
        let data = handle.readData(ofLength: limit + 1)
        guard data.count <= limit else {
            throw CLIFailure("file-too-large", "\(path) is larger than \(limit) bytes", status: NotariumExit.usage)
        }
        return [UInt8](data)
    }
}
