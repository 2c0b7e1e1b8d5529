import Access
import Appliance
import ArgumentParser
import CanonicalJSON
import Foundation

/// `notarium client …`: the API's clients, while notariumd is stopped. While it runs, an
/// operator registers clients over the API (POST /v1/clients, docs/api.md §3).
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Issue API client credentials (mutual TLS) and list the clients and their roles.",
        discussion: """
            These commands open the data directory directly, so notariumd must be stopped. While \
            it runs, use the first operator's credentials (DATA/clients/operator) with POST \
            /v1/clients, and POST /v1/certificates/SERIAL/revocation to lock a client out at \
            once. Roles: clerk, auditor, operator (docs/api.md §2).
            """,
        subcommands: [ClientIssueCommand.self, ClientListCommand.self])
}

struct ClientIssueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Make a key, have the CA certify it (tls-client) and grant it a role.",
        discussion: """
            Writes DIR/client.key (PKCS#8 PEM, 0600), client.crt, ca.pem (the CA chain that \
            verifies the server), client.p12 (0600) and, without --p12-password-file, \
            client.p12.password. curl: --cacert ca.pem --cert client.crt --key client.key, or \
            --cert-type P12 --cert client.p12:PASSWORD. Python requests: \
            cert=("client.crt", "client.key"), verify="ca.pem".
            """)

    @OptionGroup var options: DataDirectoryOptions

    @Option(help: ArgumentHelp("The client's name: letters, digits, '.', '_', '-' (at most 64).", valueName: "name"))
    var name: String

    @Option(help: ArgumentHelp("clerk, auditor or operator.", valueName: "role"))
    var role: String

    @Option(help: ArgumentHelp("Directory to write the credentials to (created, mode 0700).", valueName: "dir"))
    var out: String

    @Option(name: .customLong("p12-password-file"), help: ArgumentHelp("Protect client.p12 with the first line of this file instead of a generated password.", valueName: "file"))
    var passwordFile: String?

    func run() async throws {
        guard let chosen = Role(rawValue: role) else {
            throw CLIFailure(AccessError.Code.invalidClient.rawValue, "unknown role \"\(role)\"; roles: \(Role.allCases.map(\.rawValue).joined(separator: ", "))", status: NotariumExit.usage)
        }
        var password: String?
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8), let line = text.split(separator: "\n").first, !line.isEmpty else {
                throw CLIFailure("unreadable-file", "cannot read a password from the first line of \(passwordFile)", status: NotariumExit.usage)
            }
            password = String(line)
        }
        try await withCAStore(options, signing: true) { _, authority, directory, _ in
            do {
                let registry = try ClientRegistry(authority: authority!, database: directory.database)
                let issued = try await ClientCredentials.issue(registry: registry, name: name, role: chosen, into: out, password: password)
                guard case .object(var members) = issued.client.json else { return }
                members["directory"] = .string(issued.directory)
                printJSON(.object(members))
            } catch let error as AccessError {
                throw CLIFailure(error.code.rawValue, error.reason, status: error.code == .invalidClient ? NotariumExit.usage : NotariumExit.failure)
            }
        }
    }
}

struct ClientListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the API clients with their roles, certificate serials and fingerprints (JSON).")

    @OptionGroup var options: DataDirectoryOptions

    func run() async throws {
        try await withCAStore(options, signing: false) { _, _, directory, _ in
            do {
                let clients = try AccessList(database: directory.database).all()
                printJSON(.object(["clients": .array(clients.map(\.json))]))
            } catch let error as AccessError {
                throw CLIFailure(error.code.rawValue, error.reason)
            }
        }
    }
}
