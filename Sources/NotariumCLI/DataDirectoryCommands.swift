import Appliance
import ArgumentParser
import Foundation
import Logging
import RocksDBStore

/// `notarium init`
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create and initialize a data directory (notariumd also does this on first start).",
        discussion: "Creates DATA/db and DATA/keys (mode 0700), the seal key file if it is missing, and the ledger with its checkpoint key (DATA/keys/ledger.key). Running it on an initialized directory changes nothing and prints what is there.")

    @OptionGroup var options: DataDirectoryOptions

    func run() async throws {
        let settings = try await options.resolve()
        var logger = Logger(label: "notarium")
        logger.logLevel = .warning
        let directory = try DataDirectory.openOrInitialize(at: settings.dataDirectory, sealKeyFile: settings.sealKeyFile, logger: logger)
        defer { directory.close() }
        let (ledger, _) = try directory.openLedger(configuration: settings, withSigner: false, logger: logger)
        defer { ledger.close() }
        print("data directory \(settings.dataDirectory) is initialized")
        printMetadata(directory.metadata)
        print("seal key file:  \(settings.sealKeyFile)")
        print("ledger origin:  \(ledger.identity.origin)")
        print("verifier key:   \(ledger.identity.verifier.text)")
    }
}

/// `notarium status`
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what a data directory holds and whether notariumd is using it.",
        discussion: "Safe while notariumd runs: it opens the database read-only.")

    @OptionGroup var options: DataDirectoryOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let settings = try await options.resolve()
        // Asks RocksDB's lock who holds it; opening read-write to find out would write to the database.
        let holder = DataDirectory.holder(of: settings.dataDirectory)
        let directory = try DataDirectory.open(at: settings.dataDirectory, readOnly: true)
        defer { directory.close() }
        if json {
            print("""
                {"data":\(jsonString(settings.dataDirectory)),"formatVersion":\(directory.metadata.formatVersion),"instance":\(jsonString(directory.metadata.instanceID)),"createdAt":\(jsonString(directory.metadata.createdAt)),"inUse":\(holder != nil),"holderPID":\(holder.map(String.init) ?? "null")}
                """)
        } else {
            print("data directory: \(settings.dataDirectory)")
            printMetadata(directory.metadata)
            print("in use:         \(holder.map { "yes, by process \($0) (a running notariumd?)" } ?? "no")")
        }
    }
}

/// `notarium backup`
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take a consistent backup of a data directory and check that it opens.",
        discussion: """
            Writes DIR/db (a RocksDB checkpoint: hard links where possible) and copies the sealed \
            keys in DATA/keys, except the seal key file, which is the secret that unlocks them and \
            belongs in a separate, safer place. Then opens the backup read-only and checks its \
            metadata. Run it while notariumd is stopped; DIR must not exist.
            """)

    @OptionGroup var options: DataDirectoryOptions

    @Option(help: ArgumentHelp("Backup directory to create.", valueName: "dir"))
    var to: String

    func run() async throws {
        let settings = try await options.resolve()
        if FileManager.default.fileExists(atPath: to) {
            throw CLIFailure("backup-target-exists", "\(to) already exists; choose a new directory", status: NotariumExit.usage)
        }
        let directory = try DataDirectory.open(at: settings.dataDirectory)
        defer { directory.close() }
        do {
            try FileManager.default.createDirectory(atPath: to, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try directory.database.createCheckpoint(at: to + "/db")
            try FileManager.default.createDirectory(atPath: to + "/keys", withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            let sealKey = URL(fileURLWithPath: settings.sealKeyFile).standardizedFileURL.path
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.keysPath).sorted() {
                let source = directory.keysPath + "/" + name
                if URL(fileURLWithPath: source).standardizedFileURL.path == sealKey { continue }
                try FileManager.default.copyItem(atPath: source, toPath: to + "/keys/" + name)
            }
        } catch let error as StorageError {
            throw CLIFailure("backup-failed", error.description)
        } catch {
            throw CLIFailure("backup-failed", "\(error)")
        }
        let copy: DataDirectory
        do {
            copy = try DataDirectory.open(at: to, readOnly: true)
        } catch {
            throw CLIFailure("backup-unreadable", "the backup in \(to) does not open: \(error)")
        }
        defer { copy.close() }
        guard copy.metadata == directory.metadata else {
            throw CLIFailure("backup-mismatch", "the backup's metadata differs from the original's")
        }
        print("backup written to \(to) and checked: instance \(copy.metadata.instanceID)")
    }
}

func printMetadata(_ metadata: DataDirectory.Metadata) {
    print("format version: \(metadata.formatVersion)")
    print("instance:       \(metadata.instanceID)")
    print("created:        \(metadata.createdAt)")
}
