import Appliance
import ArgumentParser
import Foundation

/// The root `notarium` command.
struct NotariumCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notarium",
        abstract: "Notarium: evidence notarization and electronic service on open standards.",
        discussion: """
            Commands that work on a data directory take --data DIR (or NOTARIUM_DATA; default \
            ./notarium-data) and --config FILE (or NOTARIUM_CONFIG), and run while notariumd is \
            stopped unless they say otherwise; they tell you when notariumd holds the directory.

            Start here:
              notarium init                 create and initialize a data directory
              notarium status               show what a data directory holds (also while notariumd runs)
              notarium backup --to DIR      take a consistent backup and check it opens
              notarium key inspect FILE     show a sealed key file's header without opening it
              notarium ledger --help        append, read, prove, checkpoint and audit the ledger
              notarium ca --help            create the CA, issue and revoke certificates, export CRLs
              notarium evidence add FILE    sign a document and record it in a case
              notarium bundle export        write the offline proof of a record
              notarium trust export         write the trust file relying parties verify with
              notarium verify BUNDLE        check a bundle offline (no data directory needed)

            Exit status: 0 success, 1 the operation failed (the failure is named on stderr), \
            2 bad arguments or configuration, 3 indeterminate (verification).
            """,
        version: NotariumVersion.report(program: "notarium"),
        subcommands: [InitCommand.self, StatusCommand.self, BackupCommand.self, KeyCommand.self, LedgerCommand.self, CACommand.self, TSCommand.self,
                      EvidenceCommand.self, ServiceCommand.self, AwardCommand.self, BundleCommand.self, TrustCommand.self, VerifyCommand.self, ClientCommand.self])
}

/// `--config` and `--data`, resolved through the same layers as notariumd (flag, environment,
/// file, default) so that the CLI finds the data directory the appliance uses.
struct DataDirectoryOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("Configuration file (YAML or JSON), as notariumd's.", valueName: "file"))
    var configurationFile: String?

    @Option(help: ArgumentHelp("Data directory (NOTARIUM_DATA; default ./notarium-data).", valueName: "dir"))
    var data: String?

    @Option(name: .customLong("seal-key-file"), help: ArgumentHelp("Key file that unlocks sealed keys (default DATA/keys/seal.key).", valueName: "file"))
    var sealKeyFile: String?

    @Option(name: .customLong("ledger-origin"), help: ArgumentHelp("Origin for a ledger created now (default: host name + /notarium).", valueName: "origin"))
    var ledgerOrigin: String?

    func resolve() async throws -> ApplianceConfiguration {
        var flags: [ConfigurationKey: String] = [:]
        flags[.data] = data
        flags[.sealKeyFile] = sealKeyFile
        flags[.ledgerOrigin] = ledgerOrigin
        do {
            return try await ApplianceConfiguration.load(flags: flags, configurationFile: configurationFile, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw CLIFailure("configuration-\(error.code.rawValue)", error.description, status: NotariumExit.usage)
        }
    }
}

/// Runs the `notarium` command line and returns its exit status. Parse errors and `--help`
/// print as argument-parser prints them; `CLIFailure`s print as one named line.
public func runNotariumCLI(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Int32 {
    do {
        var command = try NotariumCommand.parseAsRoot(arguments)
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
        return NotariumExit.success
    } catch let failure as CLIFailure {
        printToStandardError("notarium: error [\(failure.name)]: \(failure.reason)")
        return failure.status
    } catch let failure as DataDirectoryError {
        printToStandardError("notarium: error [\(failure.code.rawValue)]: \(failure.reason)")
        return failure.code == .notInitialized ? NotariumExit.usage : NotariumExit.failure
    } catch {
        let code = NotariumCommand.exitCode(for: error)
        if code == .success {
            print(NotariumCommand.fullMessage(for: error))
            return NotariumExit.success
        }
        if let exit = error as? ExitCode { return exit.rawValue }
        printToStandardError(NotariumCommand.fullMessage(for: error))
        return NotariumExit.usage
    }
}
