import Appliance
import ArgumentParser
import Sodium

/// `notarium key …`: sealed key files.
struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Inspect and check sealed key files (docs/sealed-key-format.md).",
        subcommands: [InspectCommand.self, CheckCommand.self])

    struct InspectCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect",
            abstract: "Show a sealed key file's header (label, format, Argon2id cost) without opening it.")

        @Argument(help: ArgumentHelp("Sealed key file.", valueName: "file"))
        var file: String

        func run() async throws {
            let key = try readSealedKey(file)
            print("file:        \(file)")
            print("label:       \(key.label)")
            print("format:      NTRMSEAL version \(SealedKey.formatVersion), Argon2id + XChaCha20-Poly1305")
            print("argon2id:    t=\(key.parameters.iterations), m=\(key.parameters.memoryKiB) KiB")
            print("secret size: \(key.ciphertext.count - 16) bytes (sealed)")
        }
    }

    struct CheckCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check that the seal key file opens a sealed key file, without printing the key.")

        @Argument(help: ArgumentHelp("Sealed key file.", valueName: "file"))
        var file: String

        @OptionGroup var options: DataDirectoryOptions

        func run() async throws {
            let settings = try await options.resolve()
            let key = try readSealedKey(file)
            do {
                let secret = try key.unseal(with: .keyFile(path: settings.sealKeyFile))
                print("\(file): opens with \(settings.sealKeyFile) (\(secret.count)-byte secret, label \"\(key.label)\")")
            } catch {
                throw CLIFailure("sealed-key-\(error.code.rawValue)", error.reason)
            }
        }
    }
}

private func readSealedKey(_ path: String) throws -> SealedKey {
    do {
        return try SealedKey(contentsOf: path)
    } catch {
        throw CLIFailure("sealed-key-\(error.code.rawValue)", "\(path): \(error.reason)", status: error.code == .io ? NotariumExit.usage : NotariumExit.failure)
    }
}
