import Appliance
import ArgumentParser
import CanonicalJSON
import CertificateAuthority
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Ledger
import Logging
import OpenSSLKit
import RocksDBStore
import TimeStamping

/// `notarium ts …`: time-stamp a file or digest, and read or check a token offline.
struct TSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ts",
        abstract: "RFC 3161 time-stamps: stamp a file or digest, verify or show a token, resume a halted TSA.",
        discussion: """
            `stamp` asks a running appliance (--url) or a stopped appliance's data directory. \
            `verify` and `show` work offline on a token file (a TimeStampResp or a bare token). \
            docs/tsa.md describes the policy, the token and what a relying party must check.
            """,
        subcommands: [TSStampCommand.self, TSVerifyCommand.self, TSShowCommand.self, TSHaltCommand.self, TSResumeCommand.self])
}

/// `--file F | --digest HEX` with `--hash`: the imprint to stamp or check.
struct ImprintOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The file to stamp or check (hashed here; never sent).", valueName: "file"))
    var file: String?

    @Option(help: ArgumentHelp("The digest to stamp or check, hexadecimal, instead of a file.", valueName: "hex"))
    var digest: String?

    @Option(help: ArgumentHelp("sha256 (default), sha384 or sha512.", valueName: "hash"))
    var hash: String = "sha256"

    func imprint(hash algorithm: TimeStampHash? = nil) throws -> (TimeStampHash, [UInt8]) {
        let hash: TimeStampHash
        if let algorithm {
            hash = algorithm
        } else {
            guard let named = TimeStampHash(name: self.hash) else {
                throw CLIFailure("unknown-hash", "\"\(self.hash)\" is not sha256, sha384 or sha512", status: NotariumExit.usage)
            }
            hash = named
        }
        switch (file, digest) {
        case (let file?, nil):
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIFailure("unreadable-file", "cannot read \(file)", status: NotariumExit.usage)
            }
            return (hash, hash.digest([UInt8](data)))
        case (nil, let digest?):
            let bytes = try parseHex(digest, what: "digest")
            guard bytes.count == hash.length else {
                throw CLIFailure("wrong-digest-length", "a \(hash) digest is \(hash.length) bytes; this one is \(bytes.count)", status: NotariumExit.usage)
            }
            return (hash, bytes)
        default:
            throw CLIFailure("missing-imprint", "give exactly one of --file and --digest", status: NotariumExit.usage)
        }
    }
}

/// Hex as the user typed it (spaces and colons allowed).
func parseHex(_ text: String, what: String) throws -> [UInt8] {
    guard let bytes = OpenSSLKit.bytes(fromHex: String(text.filter { !$0.isWhitespace })), !bytes.isEmpty else {
        throw CLIFailure("invalid-hex", "the \(what) \"\(text)\" is not an even number of hexadecimal digits", status: NotariumExit.usage)
    }
    return bytes
}

func readToken(_ path: String) throws -> TimeStampReply {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIFailure("unreadable-file", "cannot read \(path)", status: NotariumExit.usage)
    }
    do {
        return try TimeStampReply(derEncoded: [UInt8](data))
    } catch {
        throw CLIFailure("malformed-token", "\(path): \(error.reason)", status: NotariumExit.usage)
    }
}

func readCertificates(_ path: String) throws -> [Certificate] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIFailure("unreadable-file", "cannot read \(path)", status: NotariumExit.usage)
    }
    do {
        return try Certificate.parseFile([UInt8](data))
    } catch {
        throw CLIFailure("malformed-certificate", "\(path): \(error.reason)", status: NotariumExit.usage)
    }
}

/// The facts of a token, as one canonical JSON object.
func tokenSummary(_ reply: TimeStampReply) -> JSONValue {
    var fields: [String: JSONValue] = [
        "serial": .string(hex(reply.serial)), "genTime": .string(LedgerTime.format(milliseconds: reply.genTime)), "policy": .string(reply.policyOID),
        "hash": .string(reply.hash?.description ?? "other"), "imprint": .string(lowerHex(reply.imprint)),
    ]
    if let nonce = reply.nonce { fields["nonce"] = .string(hex(nonce)) }
    if let name = reply.tsaName { fields["tsa"] = .string(name) }
    return .object(fields)
}

struct TSStampCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stamp",
        abstract: "Time-stamp a file or a digest; write the TimeStampResp to --out and print its facts.")

    @OptionGroup var imprint: ImprintOptions

    @Option(help: ArgumentHelp("A running appliance's TSA URL (http://HOST:PORT/tsa); without it, the data directory's TSA is used (notariumd stopped).", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("Where to write the reply (DER).", valueName: "file"))
    var out: String

    @OptionGroup var options: DataDirectoryOptions

    func run() async throws {
        let (hash, digest) = try imprint.imprint()
        var nonce = randomBytes(8)
        nonce[0] |= 0x01  // a non-zero first byte: the nonce reads back with all 8 bytes
        let request = try TimeStampRequest.create(imprint: digest, hash: hash, nonce: nonce, certificateRequested: true)
        let response: [UInt8]
        if let url {
            response = try await post(request, to: url)
        } else {
            response = try await withCAStore(options, signing: true) { _, authority, directory, settings in
                let tsa = try await directory.openTSA(configuration: settings, authority: authority!, create: false, logger: Logger(label: "notarium"))
                return tsa.respond(to: request).response
            }
        }
        let reply: TimeStampReply
        do {
            reply = try TimeStampReply(derEncoded: response)
        } catch {
            throw CLIFailure("malformed-reply", "the TSA's answer is not a TimeStampResp: \(error.reason)")
        }
        guard reply.isGranted else {
            throw CLIFailure("rejected", "the TSA refused: \(reply.failures.map(\.description).joined(separator: ", ")) \(reply.statusText.joined(separator: "; "))")
        }
        guard reply.imprint == digest, reply.nonce == nonce else {
            throw CLIFailure("mismatched-reply", "the token does not carry the imprint and nonce that were asked for")
        }
        try writeFile(out, response)
        printJSON(tokenSummary(reply))
    }

    private func post(_ body: [UInt8], to url: String) async throws -> [UInt8] {
        guard let target = URL(string: url), target.scheme == "http" || target.scheme == "https" else {
            throw CLIFailure("invalid-url", "\"\(url)\" is not an http(s) URL", status: NotariumExit.usage)
        }
        var request = URLRequest(url: target)
        request.httpMethod = "POST"
        request.setValue("application/timestamp-query", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body)
        request.timeoutInterval = 30
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard status == 200 else { throw CLIFailure("http-\(status)", "\(url) answered HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))") }
            return [UInt8](data)
        } catch let failure as CLIFailure {
            throw failure
        } catch {
            throw CLIFailure("unreachable", "cannot reach \(url): \(error.localizedDescription)")
        }
    }
}

struct TSVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a token offline against a file or digest and trusted roots.",
        discussion: """
            Checks the imprint, the CMS signature and ESSCertID binding, and the TSA certificate's \
            chain to a root in --trust with the time-stamping purpose, at the token's genTime. \
            Exit status 0 PASSED, 1 FAILED, 2 could not run.
            """)

    @Option(help: ArgumentHelp("The token: a TimeStampResp or a bare TimeStampToken (DER).", valueName: "file"))
    var token: String

    @OptionGroup var imprint: ImprintOptions

    @Option(help: ArgumentHelp("Trusted root certificates (PEM or DER).", valueName: "file"))
    var trust: String

    @Option(help: ArgumentHelp("Further certificates to build the chain with (PEM), e.g. the TSA certificate when the token has none.", valueName: "file"))
    var untrusted: String?

    func run() async throws {
        let reply = try readToken(token)
        guard reply.isGranted else {
            throw CLIFailure("not-a-token", "\(token) is a rejection (\(reply.failures.map(\.description).joined(separator: ", "))), not a token")
        }
        guard let hash = reply.hash else { throw CLIFailure("unsupported-hash", "the token's imprint algorithm is not SHA-256, SHA-384 or SHA-512") }
        let (_, digest) = try imprint.imprint(hash: hash)
        let roots = try readCertificates(trust)
        let others = try untrusted.map(readCertificates) ?? []
        do {
            try reply.verify(imprint: digest, trusted: roots, untrusted: others)
        } catch {
            throw CLIFailure("verification-failed", "FAILED: \(error.reason) \(error.openSSLErrors.joined(separator: "; "))")
        }
        print("PASSED " + tokenSummary(reply).canonicalString)
    }
}

struct TSShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a token's TSTInfo and status in readable form.")

    @Option(help: ArgumentHelp("The token: a TimeStampResp or a bare TimeStampToken (DER).", valueName: "file"))
    var token: String

    func run() async throws {
        let reply = try readToken(token)
        let statuses = ["granted", "grantedWithMods", "rejection", "waiting", "revocationWarning", "revocationNotification"]
        print("Status: \(reply.status < statuses.count ? statuses[reply.status] : String(reply.status))")
        if !reply.failures.isEmpty { print("Failure: \(reply.failures.map(\.description).joined(separator: ", "))") }
        for text in reply.statusText { print("Status text: \(text)") }
        guard reply.isGranted else { return }
        print("Serial: \(hex(reply.serial))")
        print("Time: \(LedgerTime.format(milliseconds: reply.genTime)) (genTime \(reply.genTimeText))")
        print("Certificates in the token: \(reply.certificates.map(\.subject).joined(separator: "; "))")
        print(reply.text, terminator: "")
    }
}

struct TSHaltCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "halt",
        abstract: "Stop the TSA from issuing until `ts resume` (notariumd stopped): when the clock or the key is in doubt.")

    @OptionGroup var options: DataDirectoryOptions

    @Option(help: ArgumentHelp("Why, for the log and for `ts resume`.", valueName: "text"))
    var reason: String

    func run() async throws {
        try await withTSAState(options) { database throws(TSAError) in
            try TimeStampAuthority.halt(database: database, reason: reason)
        }
        print("halted; the TSA issues no tokens until `notarium ts resume`")
    }
}

struct TSResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Let a TSA halted by a clock step issue again, once the clock is right (notariumd stopped).")

    @OptionGroup var options: DataDirectoryOptions

    func run() async throws {
        let reason = try await withTSAState(options) { database throws(TSAError) in try TimeStampAuthority.resume(database: database) }
        print(reason.map { "resumed; the TSA had stopped because \($0)" } ?? "the TSA was not halted")
    }
}

/// Runs `body` on a stopped appliance's database (halt and resume change the TSA's stored
/// state, which a running notariumd holds), naming a TSA failure in the CLI's form.
private func withTSAState<T>(_ options: DataDirectoryOptions, _ body: (Database) throws(TSAError) -> T) async throws -> T {
    let settings = try await options.resolve()
    let directory = try DataDirectory.open(at: settings.dataDirectory)
    defer { directory.close() }
    do {
        return try body(directory.database)
    } catch {
        throw CLIFailure(error.code.rawValue, error.reason)
    }
}
