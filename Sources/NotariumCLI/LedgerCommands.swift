import Appliance
import ArgumentParser
import CanonicalJSON
import Foundation
import Ledger
import Logging

/// `notarium ledger …`: the ledger on a data directory, while notariumd is stopped.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Append to, read, prove, checkpoint and audit the ledger of a data directory.",
        discussion: """
            These commands open the data directory directly, so notariumd must be stopped; while \
            it runs, read the same data over HTTP (GET /ledger/checkpoint, /ledger/entries/SEQ, \
            /ledger/proof/inclusion, /ledger/proof/consistency). Output is JSON with hashes in \
            base64 (docs/ledger-format.md), except `checkpoint` and `verifier-key`, which print \
            the signed note and the verifier key as text.
            """,
        subcommands: [
            LedgerAppendCommand.self, LedgerGetCommand.self, LedgerCheckpointCommand.self, LedgerProveCommand.self,
            LedgerConsistencyCommand.self, LedgerAuditCommand.self, LedgerVerifierKeyCommand.self,
        ])
}

/// Opens the data directory and its ledger for one command, and closes both afterwards.
func withLedger<T>(_ options: DataDirectoryOptions, signer: Bool = false, _ body: (Ledger, NoteSigner?) async throws -> T) async throws -> T {
    let settings = try await options.resolve()
    var logger = Logger(label: "notarium")
    logger.logLevel = .warning
    let directory = try DataDirectory.open(at: settings.dataDirectory)
    defer { directory.close() }
    let (ledger, noteSigner) = try directory.openLedger(configuration: settings, withSigner: signer, logger: logger)
    defer { ledger.close() }
    do {
        return try await body(ledger, noteSigner)
    } catch let error as LedgerError {
        let status = [.invalidEntry, .invalidRange, .beyondTree].contains(error.code) ? NotariumExit.usage : NotariumExit.failure
        throw CLIFailure("ledger-\(error.code.rawValue)", error.reason, status: status)
    }
}

/// JSON for people and scripts: the canonical form (compact, members sorted), one line.
func printJSON(_ value: JSONValue) {
    print(value.canonicalString)
}

struct LedgerAppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append an entry and print its sequence number and leaf hash once it is on disk.")

    @OptionGroup var options: DataDirectoryOptions

    @Option(help: ArgumentHelp("Entry type: \(EntryType.known.joined(separator: ", ")).", valueName: "type"))
    var type: String

    @Option(help: ArgumentHelp("File with the body, a JSON object ('-' for standard input).", valueName: "file"))
    var bodyFile: String

    func run() async throws {
        guard let entryType = EntryType(rawValue: type) else {
            throw CLIFailure("ledger-unknown-type", "unknown entry type \"\(type)\"; known types: \(EntryType.known.joined(separator: ", "))", status: NotariumExit.usage)
        }
        let body = try readBody()
        try await withLedger(options) { ledger, _ in
            let receipt = try await ledger.append(type: entryType, body: body)
            printJSON(["seq": .integer(Int64(receipt.seq)), "leafHash": .string(Base64.encode(receipt.leafHash)), "time": .string(receipt.time)])
        }
    }

    private func readBody() throws -> JSONValue {
        let limit = LedgerEntry.maximumBytes * 4
        let data: Data?
        if bodyFile == "-" {
            data = FileHandle.standardInput.readData(ofLength: limit + 1)
        } else {
            let handle = FileHandle(forReadingAtPath: bodyFile)
            data = try handle?.read(upToCount: limit + 1) ?? Data()
            try? handle?.close()
            if handle == nil { throw CLIFailure("body-unreadable", "cannot read \(bodyFile)", status: NotariumExit.usage) }
        }
        let bytes = [UInt8](data ?? Data())
        guard bytes.count <= limit else {
            throw CLIFailure("body-too-large", "\(bodyFile) is larger than \(limit) bytes", status: NotariumExit.usage)
        }
        do {
            return try CanonicalJSON.parse(bytes)
        } catch {
            throw CLIFailure("body-not-json", "\(bodyFile): \(error)", status: NotariumExit.usage)
        }
    }
}

struct LedgerGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print an entry: {seq, leafHash, entry}, or with --raw its exact canonical bytes.")

    @OptionGroup var options: DataDirectoryOptions

    @Argument(help: "Sequence number (0-based).")
    var seq: UInt64

    @Flag(help: "Print the entry's canonical bytes exactly, with no newline (what the leaf hash covers).")
    var raw = false

    func run() async throws {
        try await withLedger(options) { ledger, _ in
            let entry = try ledger.entry(seq)
            if raw {
                FileHandle.standardOutput.write(Data(entry.bytes))
            } else {
                // The entry is canonical JSON already; embedding it keeps its bytes.
                print("{\"entry\":\(String(decoding: entry.bytes, as: UTF8.self)),\"leafHash\":\"\(Base64.encode(entry.leafHash))\",\"seq\":\(entry.seq)}")
            }
        }
    }
}

struct LedgerCheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Cut a checkpoint of the ledger now and print its signed note.",
        discussion: "When the ledger has not grown since the latest checkpoint, that checkpoint is printed and nothing new is signed.")

    @OptionGroup var options: DataDirectoryOptions

    func run() async throws {
        try await withLedger(options, signer: true) { ledger, signer in
            let (record, _) = try ledger.cutCheckpoint(signer: signer!)
            FileHandle.standardOutput.write(Data(record.note.utf8))
        }
    }
}

struct LedgerProveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print the RFC 9162 inclusion proof of entry INDEX in the tree of SIZE entries.")

    @OptionGroup var options: DataDirectoryOptions

    @Option(help: "Leaf index (the entry's seq).")
    var index: UInt64

    @Option(help: "Tree size (default: the current size).")
    var size: UInt64?

    func run() async throws {
        try await withLedger(options) { ledger, _ in
            printJSON(try ledger.inclusionProof(index: index, size: size ?? ledger.size).json)
        }
    }
}

struct LedgerConsistencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consistency",
        abstract: "Print the RFC 9162 consistency proof between tree sizes FROM and TO.")

    @OptionGroup var options: DataDirectoryOptions

    @Option(help: "The earlier tree size (at least 1).")
    var from: UInt64

    @Option(help: "The later tree size (default: the current size).")
    var to: UInt64?

    func run() async throws {
        try await withLedger(options) { ledger, _ in
            printJSON(try ledger.consistencyProof(from: from, to: to ?? ledger.size).json)
        }
    }
}

struct LedgerAuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Recompute and check every entry, tree node and checkpoint; exit 1 at the first inconsistency.",
        discussion: "Prints {passed, entries, nodes, checkpoints, finding}; the finding names its kind and seq (docs/ledger-format.md, Audit).")

    @OptionGroup var options: DataDirectoryOptions

    @Option(name: .customLong("verifier-key"), help: ArgumentHelp("Check checkpoints against this published verifier key rather than the one the ledger records.", valueName: "vkey"))
    var verifierKey: String?

    func run() async throws {
        var pinned: NoteVerifier?
        if let verifierKey {
            do {
                pinned = try NoteVerifier(parsing: verifierKey)
            } catch {
                throw CLIFailure("verifier-key-invalid", error.reason, status: NotariumExit.usage)
            }
        }
        let settings = try await options.resolve()
        let directory = try DataDirectory.open(at: settings.dataDirectory)
        defer { directory.close() }
        let report = LedgerAudit.run(database: directory.database, verifier: pinned)
        let finding: JSONValue = report.finding.map {
            ["kind": .string($0.kind.rawValue), "seq": $0.seq.map { .integer(Int64($0)) } ?? .null, "detail": .string($0.detail)]
        } ?? .null
        printJSON([
            "passed": .bool(report.passed), "entries": .integer(Int64(report.entries)), "nodes": .integer(Int64(report.nodes)),
            "checkpoints": .integer(Int64(report.checkpoints)), "finding": finding,
        ])
        if let problem = report.finding {
            throw CLIFailure("audit-failed", problem.description)
        }
    }
}

struct LedgerVerifierKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verifier-key",
        abstract: "Print the ledger's C2SP verifier key (name+keyid+base64key), to publish and to verify checkpoints with.")

    @OptionGroup var options: DataDirectoryOptions

    func run() async throws {
        try await withLedger(options) { ledger, _ in
            print(ledger.identity.verifier.text)
        }
    }
}
