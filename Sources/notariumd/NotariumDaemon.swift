import Appliance
import ArgumentParser
import Foundation
import Logging
import NotariumServer
import NIOCore
import NIOPosix

/// notariumd's exit statuses; the systemd unit does not restart on `configuration`.
enum DaemonExit {
    /// Stopped cleanly on SIGTERM or SIGINT.
    static let stopped: Int32 = 0
    /// Could not start or failed while running (data directory in use or damaged, port taken…).
    static let failed: Int32 = 1
    /// Bad arguments or configuration: restarting will not help.
    static let configuration: Int32 = 2
}

@main
struct NotariumDaemon: AsyncParsableCommand {
    /// Runs Swift concurrency's jobs on NIO's event loops before anything else starts, so that
    /// a request's handler runs on the thread that read it instead of hopping to another pool
    /// and back: OCSP over HTTP went from about 6,800 to 7,900 responses/s on 2 cores with it
    /// (docs/BENCHMARKS.md). What may block for long (the ledger's synced writes) runs on the
    /// ledger's own threads, never on these.
    static func main() async {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "notariumd",
        abstract: "The Notarium appliance: ledger, time-stamp authority and CA over HTTP.",
        discussion: """
            Settings come from, highest first: these flags, NOTARIUM_* environment variables, the \
            configuration file (--config or NOTARIUM_CONFIG; YAML or JSON, see \
            appliance/notarium.yaml), and the embedded defaults. With none of them it starts on \
            ./notarium-data and 127.0.0.1:8080, creating the data directory on first start.

            It prints the address it listens on, logs to standard error (JSON lines by default), \
            and stops gracefully on SIGTERM or SIGINT. Exit status: 0 stopped, 1 failed, \
            2 bad arguments or configuration.
            """,
        version: NotariumVersion.report(program: "notariumd"))

    @Option(name: .customLong("config"), help: ArgumentHelp("Configuration file (YAML or JSON).", valueName: "file"))
    var configurationFile: String?

    @Option(help: ArgumentHelp("Data directory (NOTARIUM_DATA; default ./notarium-data).", valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("Address to listen on (NOTARIUM_LISTEN; default 127.0.0.1:8080; port 0 picks one).", valueName: "host:port"))
    var listen: String?

    @Option(name: .customLong("api-listen"), help: ArgumentHelp("Address of the API over TLS (NOTARIUM_API_LISTEN; default 127.0.0.1:8443; port 0 picks one).", valueName: "host:port"))
    var apiListen: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error, critical (NOTARIUM_LOG_LEVEL; default info).", valueName: "level"))
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: ArgumentHelp("json or text (NOTARIUM_LOG_FORMAT; default json).", valueName: "format"))
    var logFormat: String?

    @Option(name: .customLong("seal-key-file"), help: ArgumentHelp("Key file that unlocks sealed keys (NOTARIUM_SEAL_KEY_FILE; default DATA/keys/seal.key).", valueName: "file"))
    var sealKeyFile: String?

    @Option(name: .customLong("ledger-origin"), help: ArgumentHelp("Origin of a ledger created now (NOTARIUM_LEDGER_ORIGIN; default HOSTNAME/notarium).", valueName: "origin"))
    var ledgerOrigin: String?

    @Option(name: .customLong("ledger-checkpoint-interval"), help: ArgumentHelp("Seconds between automatic checkpoints, 0 for none (NOTARIUM_LEDGER_CHECKPOINT_INTERVAL; default 60).", valueName: "seconds"))
    var checkpointInterval: String?

    func run() async throws {
        var flags: [ConfigurationKey: String] = [:]
        flags[.ledgerOrigin] = ledgerOrigin
        flags[.checkpointInterval] = checkpointInterval
        flags[.data] = data
        flags[.listen] = listen
        flags[.apiListen] = apiListen
        flags[.logLevel] = logLevel
        flags[.logFormat] = logFormat
        flags[.sealKeyFile] = sealKeyFile

        let settings: ApplianceConfiguration
        do {
            settings = try await ApplianceConfiguration.load(flags: flags, configurationFile: configurationFile, environment: ProcessInfo.processInfo.environment)
        } catch {
            printToStandardError("notariumd: \(error)")
            throw ExitCode(DaemonExit.configuration)
        }
        bootstrapLogging(format: settings.logFormat, level: settings.logLevel)
        bootstrapMetrics()
        let logger = Logger(label: "notariumd")
        do {
            try await runAppliance(configuration: settings, logger: logger)
        } catch let error as DataDirectoryError {
            logger.critical("cannot use the data directory", metadata: ["error.code": "\(error.code.rawValue)", "error": "\(error.reason)"])
            printToStandardError("notariumd: error [\(error.code.rawValue)]: \(error.reason)")
            throw ExitCode(DaemonExit.failed)
        } catch {
            logger.critical("stopped on an error", metadata: ["error": "\(error)"])
            printToStandardError("notariumd: error: \(error)")
            throw ExitCode(DaemonExit.failed)
        }
    }
}


