import DeliveryTransport
import Foundation
import NotariumTestKit
import Testing

/// The SMTP client against a real SMTP server on loopback (aiosmtpd, mail_relay.py), with the
/// delivered message read back from the recipient's Maildir by Python's `email` package.
@Suite("SMTP client against aiosmtpd on loopback")
struct SMTPClientTests {

    typealias Relay = MailRelay
    typealias Certificate = SelfSignedCertificate

    static func notice(to recipient: String, id: String = "n-\(UUID().uuidString)@notarium.test") -> MailMessage {
        MailMessage(
            from: .init("notices@notarium.test", name: "Notarium — 送达平台"),
            to: [.init(recipient, name: "张 三")],
            subject: "送达通知：案件 ODR/2026/0042 的文书已可查阅 (Notice of service, case ODR/2026/0042)",
            date: 1_796_000_000_000, messageID: id, language: "zh-Hans",
            text: "您好，\n\n仲裁委员会已向您送达文书。请打开以下链接查阅：\nhttps://notarium.test/portal/l/abc\n.\n.a line that starts with a dot\n\n此致",
            attachments: [
                .init(filename: "裁决书 (Award) ODR-2026-0042.pdf", mediaType: "application/pdf", content: Array((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })),
                .init(filename: "notice.txt", mediaType: "text/plain", content: Array("first line\r\n.second line starts with a dot\r\n".utf8)),
            ],
            extraHeaders: [("Auto-Submitted", "auto-generated")])
    }

    /// The usual notice to ann@example.test through `relay`.
    static func sendNotice(via relay: SMTPRelay) async throws -> SMTPSubmission {
        try await SMTPClient.send(try notice(to: "ann@example.test").rendered(boundary: "=_b_0123456789"),
                                  envelope: SMTPEnvelope(sender: "b@notarium.test", recipients: ["ann@example.test"]), via: relay)
    }

    static func sha256(_ bytes: [UInt8]) throws -> String {
        let directory = TemporaryDirectory()
        try Data(bytes).write(to: URL(fileURLWithPath: directory.file("content")))
        let result = try runProcess("/usr/bin/env", ["openssl", "dgst", "-sha256", "-r", directory.file("content")])
        return String(result.standardOutput.prefix(64))
    }

    @Test("STARTTLS and AUTH PLAIN: the relay's 250 and queue id come back, and the recipient reads the message as it was written (Chinese subject and names, text with leading dots, attachments byte for byte)")
    func startTLSAndAuth() async throws {
        let directory = TemporaryDirectory()
        let certificate = try Certificate(directory, name: "relay")
        let relay = try Relay(directory, tls: "starttls", certificate: certificate, auth: "notarium:s3cret pass")
        let message = Self.notice(to: "ann@example.test")
        let submission = try await SMTPClient.send(
            try message.rendered(boundary: "=_notarium_0123456789"),
            envelope: SMTPEnvelope(sender: "bounces@notarium.test", recipients: ["ann@example.test"], envelopeID: "item-1"),
            via: SMTPRelay(host: "127.0.0.1", port: relay.port, security: .starttls, trustRoots: certificate.certificate, serverName: "localhost",
                           credentials: .init(username: "notarium", password: "s3cret pass"), heloName: "notarium.test"))
        #expect(submission.reply.code == 250)
        #expect(submission.reply.enhancedStatus == "2.0.0")
        #expect(submission.encrypted && submission.authenticated)
        let queueID = try #require(submission.reply.queueID)
        #expect(relay.process.waitForOutputLine(containing: "accepted \(queueID) <\(message.messageID)>", timeout: 10) != nil)

        let received = try relay.messages(for: "ann@example.test")
        try #require(received.count == 1)
        let mail = received[0]
        #expect(mail["subject"] as? String == message.subject)
        #expect(mail["from"] as? String == "Notarium — 送达平台 <notices@notarium.test>")
        #expect(mail["to"] as? String == "张 三 <ann@example.test>")
        #expect(mail["messageID"] as? String == "<\(message.messageID)>")
        #expect(mail["language"] as? String == "zh-Hans")
        #expect(mail["autoSubmitted"] as? String == "auto-generated")
        #expect(mail["date"] as? String == "Mon, 30 Nov 2026 00:53:20 +0000")
        #expect((mail["text"] as? String)?.replacingOccurrences(of: "\r\n", with: "\n") == message.text + "\n" || (mail["text"] as? String)?.replacingOccurrences(of: "\r\n", with: "\n") == message.text)
        #expect((mail["defects"] as? [String]) == [])
        #expect((mail["longestLine"] as? Int ?? 999) <= 78)
        let attachments = try #require(mail["attachments"] as? [[String: Any]])
        try #require(attachments.count == 2)
        for (got, sent) in zip(attachments, message.attachments) {
            #expect(got["filename"] as? String == sent.filename)
            #expect(got["mediaType"] as? String == sent.mediaType)
            #expect(got["size"] as? Int == sent.content.count)
            #expect(got["sha256"] as? String == (try Self.sha256(sent.content)))
        }
    }

    @Test("implicit TLS (port 465 style) with AUTH LOGIN-capable relay; a link-only notice without attachments is a single text part")
    func implicitTLS() async throws {
        let directory = TemporaryDirectory()
        let certificate = try Certificate(directory, name: "relay")
        let relay = try Relay(directory, tls: "implicit", certificate: certificate, auth: "notarium:pw")
        var message = Self.notice(to: "bo@example.test")
        message.attachments = []
        message.subject = "Notice of service"
        message.language = "en"
        let submission = try await SMTPClient.send(
            try message.rendered(boundary: "=_notarium_0123456789"),
            envelope: SMTPEnvelope(sender: "", recipients: ["bo@example.test"]),
            via: SMTPRelay(host: "127.0.0.1", port: relay.port, security: .tls, trustRoots: certificate.certificate, serverName: "localhost",
                           credentials: .init(username: "notarium", password: "pw"), heloName: "notarium.test"))
        #expect(submission.encrypted && submission.authenticated && submission.reply.code == 250)
        let received = try relay.messages(for: "bo@example.test")
        try #require(received.count == 1)
        #expect(received[0]["subject"] as? String == "Notice of service")
        #expect((received[0]["attachments"] as? [Any])?.isEmpty == true)
    }

    @Test("STARTTLS required but not offered: tls-unavailable, permanent, nothing sent")
    func noStartTLS() async throws {
        let directory = TemporaryDirectory()
        let certificate = try Certificate(directory, name: "relay")
        let relay = try Relay(directory, tls: "none")
        let error = await caught(SMTPError.self) {
            _ = try await Self.sendNotice(via: SMTPRelay(host: "127.0.0.1", port: relay.port, security: .starttls, trustRoots: certificate.certificate, heloName: "notarium.test"))
        }
        #expect(error?.code == .tlsUnavailable && error?.stage == .starttls && error?.isPermanent == true, "\(String(describing: error))")
        #expect(relay.delivered() == 0)
    }

    @Test("a relay certificate from another authority, or for another name: tls-failed, nothing sent")
    func untrustedCertificate() async throws {
        let directory = TemporaryDirectory()
        let certificate = try Certificate(directory, name: "relay")
        let other = try Certificate(directory, name: "other")
        // NIOSSL accepts a certificate that names the address connected to, whatever name is
        // asked for; the certificate for the wrong name therefore names no address.
        let namesOnly = try Certificate(directory, name: "names-only", names: "DNS:localhost")
        let relay = try Relay(directory, tls: "starttls", certificate: certificate)
        let namedRelay = try Relay(directory, tls: "starttls", certificate: namesOnly)
        for (relay, roots, name) in [(relay, other.certificate, "localhost"), (namedRelay, namesOnly.certificate, "mail.example.org")] {
            let error = await caught(SMTPError.self) {
                _ = try await Self.sendNotice(via: SMTPRelay(host: "127.0.0.1", port: relay.port, security: .starttls, trustRoots: roots, serverName: name, heloName: "notarium.test"))
            }
            #expect(error?.code == .tlsFailed && error?.isPermanent == true, "\(name): \(String(describing: error))")
            #expect(relay.delivered() == 0)
        }
    }

    @Test("STARTTLS injection (CVE-2011-0411): a reply sent in clear with the relay's 220 is refused before the handshake, and nothing is sent")
    func startTLSInjection() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("injecting_relay.py").path
        let relay = try BackgroundProcess("/usr/bin/env", ["python3", script])
        defer { relay.signal(SIGKILL); relay.waitForExit() }
        let line = try #require(relay.waitForOutputLine(containing: "listening", timeout: 30))
        let port = try #require(Int(line.split(separator: " ").last ?? ""))
        let directory = TemporaryDirectory()
        let certificate = try Certificate(directory, name: "relay")
        let error = await caught(SMTPError.self) {
            _ = try await Self.sendNotice(via: SMTPRelay(host: "127.0.0.1", port: port, security: .starttls, trustRoots: certificate.certificate, serverName: "localhost", heloName: "notarium.test", timeoutSeconds: 10))
        }
        #expect(error?.code == .protocolViolation && error?.stage == .starttls, "\(String(describing: error))")
    }

    @Test("wrong password: auth-failed with the relay's 535; credentials over a plain connection: auth-unavailable, never sent")
    func authFailures() async throws {
        let directory = TemporaryDirectory()
        let certificate = try Certificate(directory, name: "relay")
        let relay = try Relay(directory, tls: "starttls", certificate: certificate, auth: "notarium:right")
        let wrong = await caught(SMTPError.self) {
            _ = try await Self.sendNotice(via: SMTPRelay(host: "127.0.0.1", port: relay.port, security: .starttls, trustRoots: certificate.certificate, serverName: "localhost",
                                                         credentials: .init(username: "notarium", password: "wrong"), heloName: "notarium.test"))
        }
        #expect(wrong?.code == .authFailed && wrong?.reply?.code == 535 && wrong?.isPermanent == true, "\(String(describing: wrong))")
        let plain = try Relay(directory, tls: "none")
        let clear = await caught(SMTPError.self) {
            _ = try await Self.sendNotice(via: SMTPRelay(host: "127.0.0.1", port: plain.port, security: .none, credentials: .init(username: "notarium", password: "right"), heloName: "notarium.test"))
        }
        #expect(clear?.code == .authUnavailable && clear?.stage == .auth, "\(String(describing: clear))")
        #expect(relay.delivered() == 0 && plain.delivered() == 0)
    }

    @Test("a refused recipient: rejected at rcpt-to with the relay's 550 5.1.1, permanent; nothing delivered to anyone")
    func refusedRecipient() async throws {
        let directory = TemporaryDirectory()
        let relay = try Relay(directory)
        let error = await caught(SMTPError.self) {
            _ = try await SMTPClient.send(try Self.notice(to: "reject@example.test").rendered(boundary: "=_b_0123456789"),
                                          envelope: SMTPEnvelope(sender: "b@notarium.test", recipients: ["ann@example.test", "reject@example.test"]),
                                          via: SMTPRelay(host: "127.0.0.1", port: relay.port, security: .none, heloName: "notarium.test"))
        }
        #expect(error?.code == .rejected && error?.stage == .recipient, "\(String(describing: error))")
        #expect(error?.reply?.code == 550 && error?.reply?.enhancedStatus == "5.1.1" && error?.isPermanent == true)
        #expect(error?.reply?.description.contains("User unknown") == true)
        #expect(relay.delivered() == 0)
    }

    @Test("no relay listening: connect-failed; a relay that never answers: timeout; both transient")
    func unreachable() async throws {
        let directory = TemporaryDirectory()
        let stalled = try Relay(directory, stall: true)
        let closedPort = try Relay(directory).port
        // A port nobody listens on: the relay just started on it is gone with its object.
        let refused = await caught(SMTPError.self) {
            _ = try await Self.sendNotice(via: SMTPRelay(host: "127.0.0.1", port: closedPort, security: .none, heloName: "notarium.test", timeoutSeconds: 5))
        }
        #expect(refused?.code == .connectFailed && refused?.isPermanent == false, "\(String(describing: refused))")
        let silent = await caught(SMTPError.self) {
            _ = try await Self.sendNotice(via: SMTPRelay(host: "127.0.0.1", port: stalled.port, security: .none, heloName: "notarium.test", timeoutSeconds: 1))
        }
        #expect(silent?.code == .timeout && silent?.stage == .greeting && silent?.isPermanent == false, "\(String(describing: silent))")
    }

    @Test("addresses that would write SMTP commands of their own are refused before connecting")
    func envelopeInjection() async throws {
        for envelope in [
            SMTPEnvelope(sender: "b@notarium.test", recipients: ["ann@example.test>\r\nRCPT TO:<eve@example.test"]),
            SMTPEnvelope(sender: "b@notarium.test\r\nRSET", recipients: ["ann@example.test"]),
            SMTPEnvelope(sender: "b@notarium.test", recipients: []),
            SMTPEnvelope(sender: "b@notarium.test", recipients: ["张三@example.test"]),
            SMTPEnvelope(sender: "b@notarium.test", recipients: ["ann@example.test"], envelopeID: "two words"),
        ] {
            let error = await caught(SMTPError.self) {
                // Port 9 (discard): never reached, the envelope is refused first.
                _ = try await SMTPClient.send([], envelope: envelope, via: SMTPRelay(host: "127.0.0.1", port: 9, security: .none, heloName: "notarium.test"))
            }
            #expect(error?.code == .rejected && error?.isPermanent == true, "\(envelope): \(String(describing: error))")
        }
    }

    @Test("a message with a line break in a header value, or a bad Message-ID or media type, is refused before it is rendered")
    func renderRefusals() throws {
        var message = Self.notice(to: "ann@example.test")
        message.extraHeaders = [("X-Case", "ODR\r\nBcc: eve@example.test")]
        #expect(throws: MailMessage.RenderError.self) { try message.rendered(boundary: "=_b_0123456789") }
        message = Self.notice(to: "ann@example.test", id: "no-at-sign")
        #expect(throws: MailMessage.RenderError.self) { try message.rendered(boundary: "=_b_0123456789") }
        message = Self.notice(to: "ann@example.test")
        message.attachments[0] = .init(filename: "a.pdf", mediaType: "application/pdf; x=\"", content: [1])
        #expect(throws: MailMessage.RenderError.self) { try message.rendered(boundary: "=_b_0123456789") }
        #expect(throws: MailMessage.RenderError.self) { try Self.notice(to: "ann@example.test").rendered(boundary: "plainboundary") }
    }
}
