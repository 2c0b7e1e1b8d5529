import Foundation

/// A mail relay Notarium did not write (aiosmtpd, Tests/DeliveryTransportTests/mail_relay.py)
/// on loopback, delivering to one Maildir per recipient; killed when the object goes.
public final class MailRelay {
    public let process: BackgroundProcess
    public let port: Int
    public let root: String
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../DeliveryTransportTests").standardized

    public struct DidNotStart: Error { public let output: String }

    /// `tls`: starttls, implicit or none; `auth`: USER:PASSWORD; `stall`: accept and never answer.
    public init(_ directory: TemporaryDirectory, tls: String = "none", certificate: SelfSignedCertificate? = nil, auth: String? = nil, stall: Bool = false, slow: Double = 0) throws {
        root = directory.file("maildirs-\(UUID().uuidString.prefix(8))")
        var arguments = [Self.scripts.appendingPathComponent("mail_relay.py").path, root, "--tls", tls]
        if let certificate { arguments += ["--cert", certificate.certificate, "--key", certificate.key] }
        if let auth { arguments += ["--auth", auth] }
        if stall { arguments.append("--stall") }
        if slow > 0 { arguments += ["--slow", String(slow)] }
        process = try BackgroundProcess("/usr/bin/env", ["python3"] + arguments)
        // Only a whole line counts: the file may be read while the line is being written.
        var port: Int?
        let deadline = Date().addingTimeInterval(30)
        while port == nil && Date() < deadline && process.process.isRunning {
            let output = process.standardOutput
            if let line = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().first(where: { $0.hasPrefix("listening ") }) {
                port = Int(line.dropFirst("listening ".count))
            } else {
                usleep(10_000)
            }
        }
        guard let port else {
            throw DidNotStart(output: "running: \(process.process.isRunning); stdout: \(process.standardOutput); stderr: \(process.standardError)")
        }
        self.port = port
    }

    deinit { stop() }

    /// Kills the relay; once (a second kill could reach another process that got its pid).
    public func stop() {
        guard process.process.isRunning else { return }
        process.signal(SIGKILL)
        process.waitForExit()
    }

    /// What `recipient` finds in the mailbox, as Python's `email` reads it (read_maildir.py).
    public func messages(for recipient: String) throws -> [[String: Any]] {
        try Self.read(maildir: root + "/" + recipient)
    }

    /// The messages of `maildir`, as Python's `email` reads them (read_maildir.py).
    public static func read(maildir: String) throws -> [[String: Any]] {
        guard FileManager.default.fileExists(atPath: maildir) else { return [] }
        let result = try runProcess("/usr/bin/env", ["python3", scripts.appendingPathComponent("read_maildir.py").path, maildir])
        guard result.status == 0, let list = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]] else {
            throw DidNotStart(output: result.standardError)
        }
        return list
    }

    /// How many messages were delivered, to anyone.
    public func delivered() -> Int {
        (try? FileManager.default.subpathsOfDirectory(atPath: root))?.filter { $0.contains("/new/") || $0.contains("/cur/") }.count ?? 0
    }
}

/// A self-signed certificate and key made by `openssl req`, for a TLS server in a test.
public struct SelfSignedCertificate {
    public let certificate: String
    public let key: String

    public init(_ directory: TemporaryDirectory, name: String, names: String = "DNS:localhost,IP:127.0.0.1") throws {
        certificate = directory.file(name + ".crt")
        key = directory.file(name + ".key")
        let result = try runProcess("/usr/bin/env", [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=" + names, "-keyout", key, "-out", certificate,
        ])
        guard result.status == 0 else { throw MailRelay.DidNotStart(output: result.standardError) }
    }
}

/// A private instance of Debian's postfix on loopback (Tests/DeliveryTransportTests/postfix.sh):
/// delivers example.test to Maildirs (ann, bo, bounces) and bounces any other user there with
/// a real RFC 3464 report. Stopped when the object goes.
public final class PostfixInstance {
    public let directory: String
    public let port: Int
    static let script = MailRelay.scripts.appendingPathComponent("postfix.sh").path

    public struct DidNotStart: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ parent: TemporaryDirectory) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/postfix") else {
            throw DidNotStart(description: "postfix is not installed (appliance/install-deps.sh --test installs it)")
        }
        directory = parent.file("postfix")
        port = Int.random(in: 20_000..<60_000)
        let started = try runProcess("/bin/bash", [Self.script, "start", directory, String(port)])
        guard started.status == 0 else { throw DidNotStart(description: "postfix did not start: \(started.standardOutput) \(started.standardError)") }
    }

    deinit { _ = try? runProcess("/bin/bash", [Self.script, "stop", directory]) }

    /// The Maildir of `user`@example.test.
    public func maildir(_ user: String) -> String { directory + "/mail/example.test/" + user }

    /// Makes `user`'s Maildir before any mail arrives (notariumd checks its bounce Maildir at
    /// start), owned by the user postfix delivers as (nobody), as postfix would have made it.
    public func createMaildir(_ user: String) throws {
        let nobody = getpwnam("nobody")
        for path in [directory + "/mail", directory + "/mail/example.test", maildir(user)] + ["new", "cur", "tmp"].map({ maildir(user) + "/" + $0 }) {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            if let nobody { chown(path, nobody.pointee.pw_uid, nobody.pointee.pw_gid) }
        }
    }

    /// The files in `user`'s new/ folder, waiting up to `timeout` seconds for at least `count`.
    public func newMessages(_ user: String, atLeast count: Int = 1, timeout: Double = 30) -> [String] {
        let new = maildir(user) + "/new"
        let deadline = Date().addingTimeInterval(timeout)
        var files: [String] = []
        repeat {
            files = ((try? FileManager.default.contentsOfDirectory(atPath: new)) ?? []).sorted().map { new + "/" + $0 }
            if files.count >= count { break }
            usleep(50_000)
        } while Date() < deadline
        return files
    }

    public var log: String { (try? String(contentsOfFile: directory + "/maillog", encoding: .utf8)) ?? "" }
}

/// The project's own SMS gateway on loopback (Tests/DeliveryTransportTests/sms_gateway.py): no
/// real gateway is reachable here. With a report secret it posts signed delivery reports back.
public final class SMSGatewayProcess {
    public let process: BackgroundProcess
    /// The send endpoint.
    public let url: String

    /// `slow`: seconds the gateway waits after taking a message before it answers.
    public init(token: String, reportSecret: String? = nil, caFile: String? = nil, slow: Double = 0) throws {
        let script = MailRelay.scripts.appendingPathComponent("sms_gateway.py").path
        process = try BackgroundProcess("/usr/bin/env", ["python3", script] + (slow > 0 ? ["--slow", String(slow)] : []) + [token] + [reportSecret, caFile].compactMap { $0 })
        guard let line = process.waitForOutputLine(containing: "listening", timeout: 30), let port = Int(line.split(separator: " ").last ?? "") else {
            throw MailRelay.DidNotStart(output: process.standardError)
        }
        url = "http://127.0.0.1:\(port)/messages"
        self.port = port
    }

    public let port: Int

    deinit {
        process.signal(SIGKILL)
        process.waitForExit()
    }

    /// Every message the gateway took.
    public func messages() throws -> [[String: Any]] {
        let result = try curl(url)
        return (try JSONSerialization.jsonObject(with: Data(result.body.utf8)) as? [[String: Any]]) ?? []
    }

    /// The delivery reports it posted, with the callback's answers.
    public func reports() throws -> [[String: Any]] {
        let result = try curl(url.replacingOccurrences(of: "/messages", with: "/reports"))
        return (try JSONSerialization.jsonObject(with: Data(result.body.utf8)) as? [[String: Any]]) ?? []
    }
}
