import Foundation
import NotariumTestKit
import Sodium
import Testing

func notarium(_ arguments: [String], environment: [String: String] = [:], in directory: String? = nil) throws -> ProcessResult {
    try runProcess(builtProduct("notarium"), arguments, environment: cleanEnvironment(environment), currentDirectory: directory, timeout: 60)
}

/// The built `notarium` binary: output and exit statuses.
@Suite("notarium: the command line", .serialized)
struct CLITests {
    @Test("--help shows a newcomer where to start; --version names the linked libraries")
    func helpAndVersion() throws {
        let help = try notarium(["--help"])
        #expect(help.status == 0)
        for text in ["init", "status", "backup", "key", "--data", "NOTARIUM_DATA", "Exit status"] {
            #expect(help.standardOutput.contains(text), "--help lacks \(text)")
        }
        let version = try notarium(["--version"])
        #expect(version.status == 0)
        for library in ["notarium 0.", "RocksDB 7.", "OpenSSL 3.", "libsodium 1."] {
            #expect(version.standardOutput.contains(library))
        }
        let subcommandHelp = try notarium(["help", "backup"])
        #expect(subcommandHelp.standardOutput.contains("--to"))
    }

    @Test("an unknown command or option is exit 2 with argument-parser's message")
    func usageErrors() throws {
        let unknown = try notarium(["frobnicate"])
        #expect(unknown.status == 2)
        #expect(unknown.standardError.contains("frobnicate"))
        let missingValue = try notarium(["backup"])
        #expect(missingValue.status == 2)
    }

    @Test("init creates the default ./notarium-data; status reads it, as text and JSON")
    func initAndStatus() throws {
        let directory = TemporaryDirectory()
        let initialized = try notarium(["init"], in: directory.path)
        #expect(initialized.status == 0, "\(initialized.standardError)")
        #expect(FileManager.default.fileExists(atPath: directory.file("notarium-data/db/CURRENT")))

        let status = try notarium(["status", "--json"], in: directory.path)
        #expect(status.status == 0)
        let document = try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any]
        #expect(document?["formatVersion"] as? Int == 1)
        #expect(document?["inUse"] as? Bool == false)
        #expect((document?["instance"] as? String)?.count == 32)

        // NOTARIUM_DATA finds the same directory from elsewhere.
        let viaEnvironment = try notarium(["status"], environment: ["NOTARIUM_DATA": directory.file("notarium-data")])
        #expect(viaEnvironment.standardOutput.contains(document?["instance"] as? String ?? "?"))
    }

    @Test("status and backup on a missing data directory name the failure")
    func missingDataDirectory() throws {
        let directory = TemporaryDirectory()
        let status = try notarium(["status", "--data", directory.file("absent")])
        #expect(status.status == 2)
        #expect(status.standardError.contains("[data-directory-not-initialized]"))
        let bad = try notarium(["status"], environment: ["NOTARIUM_CONFIG": directory.file("absent.yaml")])
        #expect(bad.status == 2)
        #expect(bad.standardError.contains("configuration-unreadable-file"))
    }

    @Test("backup writes a checkpoint that opens, without the seal key; refuses an existing target")
    func backup() throws {
        let directory = TemporaryDirectory()
        let data = directory.file("data")
        #expect(try notarium(["init", "--data", data]).status == 0)
        let backup = try notarium(["backup", "--data", data, "--to", directory.file("backup")])
        #expect(backup.status == 0, "\(backup.standardError)")
        #expect(backup.standardOutput.contains("checked"))
        #expect(FileManager.default.fileExists(atPath: directory.file("backup/db/CURRENT")))
        #expect(!FileManager.default.fileExists(atPath: directory.file("backup/keys/seal.key")))
        let restored = try notarium(["status", "--json", "--data", directory.file("backup")])
        #expect(restored.status == 0)
        let original = try notarium(["status", "--json", "--data", data])
        let instance = { (text: String) in (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["instance"] as? String }
        #expect(instance(restored.standardOutput) == instance(original.standardOutput))

        let again = try notarium(["backup", "--data", data, "--to", directory.file("backup")])
        #expect(again.status == 2)
        #expect(again.standardError.contains("[backup-target-exists]"))
    }

    @Test("while notariumd runs: status says in use, backup is refused by name")
    func whileApplianceRuns() throws {
        let directory = TemporaryDirectory()
        let data = directory.file("data")
        let daemon = try BackgroundProcess(builtProduct("notariumd"), ["--data", data, "--listen", "127.0.0.1:0"], environment: cleanEnvironment())
        #expect(daemon.waitForOutputLine(containing: "listening on") != nil)
        let status = try notarium(["status", "--json", "--data", data])
        #expect(status.status == 0, "\(status.standardError)")
        #expect(status.standardOutput.contains("\"inUse\":true"))
        #expect(status.standardOutput.contains("\"holderPID\":\(daemon.process.processIdentifier)"))
        let backup = try notarium(["backup", "--data", data, "--to", directory.file("backup")])
        #expect(backup.status == 1)
        #expect(backup.standardError.contains("[data-directory-in-use]"))
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    @Test("key inspect shows a sealed key's header; key check opens it or names why not")
    func keyCommands() throws {
        let directory = TemporaryDirectory()
        let keyFile = directory.file("seal.key")
        try SealingSecret.createKeyFile(at: keyFile)
        let sealedPath = directory.file("tsa.sealed")
        try SealedKey.seal(SecureBytes(copying: Array(repeating: 9, count: 32)), label: "tsa", with: .keyFile(path: keyFile), parameters: .minimumForTests).write(to: sealedPath)

        let inspect = try notarium(["key", "inspect", sealedPath])
        #expect(inspect.status == 0)
        #expect(inspect.standardOutput.contains("label:       tsa"))
        #expect(!inspect.standardOutput.contains("0909"))

        let check = try notarium(["key", "check", sealedPath, "--seal-key-file", keyFile])
        #expect(check.status == 0, "\(check.standardError)")
        #expect(check.standardOutput.contains("opens"))

        let otherKey = directory.file("other.key")
        try SealingSecret.createKeyFile(at: otherKey)
        let wrong = try notarium(["key", "check", sealedPath, "--seal-key-file", otherKey])
        #expect(wrong.status == 1)
        #expect(wrong.standardError.contains("[sealed-key-wrong-secret]"))

        try Data("not a key".utf8).write(to: URL(fileURLWithPath: directory.file("junk")))
        let junk = try notarium(["key", "inspect", directory.file("junk")])
        #expect(junk.status == 1)
        #expect(junk.standardError.contains("[sealed-key-not-a-sealed-key]"))

        let endless = try notarium(["key", "inspect", "/dev/zero"])
        #expect(endless.status == 1)
        #expect(endless.standardError.contains("[sealed-key-invalid-parameters]"))

        let absent = try notarium(["key", "inspect", directory.file("absent")])
        #expect(absent.status == 2)
        #expect(absent.standardError.contains("[sealed-key-io]"))
    }
}
