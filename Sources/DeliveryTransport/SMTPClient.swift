import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The relay the appliance hands its e-mail to, and how it talks to it.
public struct SMTPRelay: Sendable {
    /// How the connection is protected. `starttls` and `tls` verify the relay's certificate
    /// against `trustRoots` (or the system's roots) and its name; `none` is for a relay on the
    /// same host only, and then no password is ever sent.
    public enum Security: String, Sendable, CaseIterable {
        /// Plain TCP upgraded with STARTTLS (RFC 3207), usually port 587 or 25. If the relay
        /// does not offer STARTTLS the message is not sent.
        case starttls
        /// TLS from the first byte (RFC 8314 "implicit TLS"), usually port 465.
        case tls
        case none
    }

    public struct Credentials: Sendable {
        public let username: String
        public let password: String
        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    public var host: String
    public var port: Int
    public var security: Security
    /// A PEM file of the certificates that may anchor the relay's chain; nil: the system's.
    public var trustRoots: String?
    /// The name the relay's certificate must carry; nil: `host`.
    public var serverName: String?
    public var credentials: Credentials?
    /// The name this appliance gives in EHLO.
    public var heloName: String
    /// The longest the whole transaction may take, from connect to the reply after DATA.
    public var timeoutSeconds: Int64

    public init(host: String, port: Int, security: Security, trustRoots: String? = nil, serverName: String? = nil,
                credentials: Credentials? = nil, heloName: String, timeoutSeconds: Int64 = 120) {
        self.host = host
        self.port = port
        self.security = security
        self.trustRoots = trustRoots
        self.serverName = serverName
        self.credentials = credentials
        self.heloName = heloName
        self.timeoutSeconds = timeoutSeconds
    }
}

/// Who a message is from and to, as the relay sees it (RFC 5321 §2.3.1), apart from the headers.
public struct SMTPEnvelope: Sendable {
    /// The reverse-path: where bounces go. Empty for none.
    public let sender: String
    public let recipients: [String]
    /// Sent as `ENVID` when the relay speaks DSN (RFC 3461), so that a bounce names the message
    /// it reports on without our parsing its returned headers.
    public let envelopeID: String?

    public init(sender: String, recipients: [String], envelopeID: String? = nil) {
        self.sender = sender
        self.recipients = recipients
        self.envelopeID = envelopeID
    }

    /// Whether `address` can be written in MAIL FROM or RCPT TO as it is: `local@domain` in
    /// printable ASCII without angle brackets, at most 254 bytes (a CR, LF or bracket would
    /// let an address write a command of its own).
    public static func isMailbox(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        return address.utf8.count <= 254 && parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && address.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" }
    }
}

/// A message the relay took: its reply to the end of DATA, and how the session ran.
public struct SMTPSubmission: Sendable {
    /// The relay's final reply, verbatim (the provider evidence), with its queue identifier.
    public let reply: SMTPReply
    public let encrypted: Bool
    public let authenticated: Bool
    /// The relay offered DSN, so ENVID and NOTIFY were sent.
    public let deliveryStatusNotifications: Bool
}

/// An SMTP client (RFC 5321) with STARTTLS (RFC 3207), AUTH PLAIN and LOGIN (RFC 4954) and
/// DSN parameters (RFC 3461), for handing notices to the institution's relay. One message
/// per connection: notices are few and each must be accounted for on its own.
/// The TLS client side every transport uses: TLS 1.2 or later, the peer's chain verified to
/// `trustRoots` (a PEM file; nil: the system's roots) and its name checked.
enum TLSClient {
    /// - Throws: what NIOSSL throws when the trust roots cannot be read or used.
    static func context(trustRoots: String?) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let trustRoots { configuration.trustRoots = .file(trustRoots) }
        return try NIOSSLContext(configuration: configuration)
    }
}

/// A relay with its TLS context built once: the trust roots read and checked when it is made
/// (at start, so that an unusable `ca-file` stops start-up rather than the first notice), and
/// not again for every message.
public struct PreparedRelay: Sendable {
    public let relay: SMTPRelay
    let tls: NIOSSLContext?

    public init(_ relay: SMTPRelay) throws(SMTPError) {
        self.relay = relay
        tls = try SMTPClient.tlsContext(relay)
    }
}

public enum SMTPClient {
    /// Sends `message` (RFC 5322, CRLF line ends, 7-bit) to `envelope.recipients` through
    /// `relay`. Returns once the relay has accepted the message (2xx after DATA); throws, naming
    /// the stage, otherwise. A refused recipient ends the transaction: nothing is sent to the
    /// others either.
    public static func send(_ message: [UInt8], envelope: SMTPEnvelope, via relay: SMTPRelay,
                            group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws(SMTPError) -> SMTPSubmission {
        try await send(message, envelope: envelope, via: try PreparedRelay(relay), group: group)
    }

    /// The same through a relay whose TLS context was built once (`PreparedRelay`).
    public static func send(_ message: [UInt8], envelope: SMTPEnvelope, via prepared: PreparedRelay,
                            group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws(SMTPError) -> SMTPSubmission {
        try checkEnvelope(envelope)
        let relay = prepared.relay
        let tls = prepared.tls
        let serverName = relay.serverName ?? relay.host
        let connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            connection = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(relay.timeoutSeconds))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: relay.host, port: relay.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if relay.security == .tls, let tls {
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: sniName(serverName)))
                        }
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SMTPError(.connectFailed, at: .connect, "\(relay.host):\(relay.port): \(error)")
        }
        let timedOut = Atomic<Bool>(false)
        let channel = connection.channel
        let watchdog = channel.eventLoop.scheduleTask(in: .seconds(relay.timeoutSeconds)) {
            timedOut.store(true, ordering: .sequentiallyConsistent)
            channel.close(promise: nil)
        }
        defer { watchdog.cancel() }
        let stage = StageTracker()
        do {
            return try await connection.executeThenClose { inbound, outbound in
                var session = Session(channel: channel, inbound: inbound.makeAsyncIterator(), outbound: outbound, stage: stage)
                return try await session.run(message, envelope: envelope, relay: relay, tls: tls, serverName: serverName)
            }
        } catch let error as SMTPError {
            // The watchdog closes the channel; what the session then sees is a closed stream.
            if timedOut.load(ordering: .sequentiallyConsistent) && (error.code == .connectionClosed || error.code == .tlsFailed) {
                throw SMTPError(.timeout, at: error.stage, "no answer from \(relay.host):\(relay.port) within \(relay.timeoutSeconds) s")
            }
            throw error
        } catch {
            let at = stage.current
            if timedOut.load(ordering: .sequentiallyConsistent) {
                throw SMTPError(.timeout, at: at, "no answer from \(relay.host):\(relay.port) within \(relay.timeoutSeconds) s")
            }
            if error is NIOSSLError || error is BoringSSLError || (at == .greeting && relay.security == .tls) || at == .starttls {
                throw SMTPError(.tlsFailed, at: at, "TLS with \(serverName): \(error)")
            }
            throw SMTPError(.connectionClosed, at: at, "\(relay.host):\(relay.port) closed the connection: \(error)")
        }
    }

    /// Addresses go into SMTP commands as they are: a CR, LF or angle bracket would let an
    /// address write a command of its own.
    static func checkEnvelope(_ envelope: SMTPEnvelope) throws(SMTPError) {
        guard envelope.sender.isEmpty || SMTPEnvelope.isMailbox(envelope.sender) else {
            throw SMTPError(.rejected, at: .mailFrom, "the sender \(envelope.sender.debugDescription) is not an ASCII mailbox")
        }
        guard !envelope.recipients.isEmpty else { throw SMTPError(.rejected, at: .recipient, "no recipient") }
        for recipient in envelope.recipients where !SMTPEnvelope.isMailbox(recipient) {
            throw SMTPError(.rejected, at: .recipient, "the recipient \(recipient.debugDescription) is not an ASCII mailbox")
        }
        if let id = envelope.envelopeID, id.isEmpty || id.utf8.count > 100 || !id.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) {
            throw SMTPError(.rejected, at: .mailFrom, "the envelope id \(id.debugDescription) is not 1–100 printable ASCII characters")
        }
    }

    static func tlsContext(_ relay: SMTPRelay) throws(SMTPError) -> NIOSSLContext? {
        guard relay.security != .none else { return nil }
        do {
            return try TLSClient.context(trustRoots: relay.trustRoots)
        } catch {
            throw SMTPError(.tlsFailed, at: .connect, "the TLS settings (trust roots \(relay.trustRoots ?? "of the system")) are unusable: \(error)")
        }
    }

    /// SNI carries names only (RFC 6066 §3); for an address the certificate is still checked
    /// against it, by NIOSSL's IP SAN match.
    static func sniName(_ name: String) -> String? {
        name.contains(":") || name.split(separator: ".").allSatisfy({ Int($0) != nil }) ? nil : name
    }
}

/// One SMTP conversation: reads replies line by line and writes commands, for one task.
private struct Session {
    let channel: any Channel
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let stage: StageTracker
    var pending = ByteBuffer()
    /// True from the moment TLS is set up until the first reply read through it: a connection
    /// that ends in between ended in the handshake (NIOSSL closes it on a failed one).
    var handshakePending = false

    init(channel: any Channel, inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, stage: StageTracker) {
        self.channel = channel
        self.inbound = inbound
        self.outbound = outbound
        self.stage = stage
    }

    /// RFC 5321 §4.5.3.1.5 allows 512 octets per reply line; some relays send more.
    static let maximumLine = 4096
    static let maximumLines = 100

    mutating func run(_ message: [UInt8], envelope: SMTPEnvelope, relay: SMTPRelay, tls: NIOSSLContext?, serverName: String) async throws -> SMTPSubmission {
        enter(.greeting)
        handshakePending = relay.security == .tls
        let greeting = try await readReply()
        guard greeting.code == 220 else { throw SMTPError(.rejected, at: .greeting, reply: greeting, "the relay does not take mail now: \(greeting)") }
        var extensions = try await ehlo(relay.heloName)
        var encrypted = relay.security == .tls
        if relay.security == .starttls, let tls {
            enter(.starttls)
            guard extensions["STARTTLS"] != nil else {
                throw SMTPError(.tlsUnavailable, at: .starttls, "the relay does not offer STARTTLS; nothing was sent in clear")
            }
            let ready = try await command("STARTTLS")
            guard ready.code == 220 else { throw SMTPError(.tlsUnavailable, at: .starttls, reply: ready, "the relay refused STARTTLS: \(ready)") }
            // Anything the relay sent after its 220 and before the handshake would be read as
            // if it came over TLS (the STARTTLS injection of CVE-2011-0411): refuse it.
            guard pending.readableBytes == 0 else {
                throw SMTPError(.protocolViolation, at: .starttls, "the relay sent \(pending.readableBytes) bytes after its 220 to STARTTLS")
            }
            try await channel.pipeline.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: SMTPClient.sniName(serverName)), position: .first).get()
            encrypted = true
            handshakePending = true
            extensions = try await ehlo(relay.heloName)
        }
        var authenticated = false
        if let credentials = relay.credentials {
            enter(.auth)
            try await authenticate(credentials, extensions: extensions, encrypted: encrypted)
            authenticated = true
        }
        let dsn = extensions["DSN"] != nil
        enter(.mailFrom)
        var mail = "MAIL FROM:<\(envelope.sender)>"
        if extensions["SIZE"] != nil { mail += " SIZE=\(message.count)" }
        if dsn, let id = envelope.envelopeID { mail += " RET=HDRS ENVID=\(xtext(id))" }
        let sender = try await command(mail)
        guard sender.isPositiveCompletion else { throw SMTPError(.rejected, at: .mailFrom, reply: sender, "the relay refused the sender <\(envelope.sender)>: \(sender)") }
        enter(.recipient)
        for recipient in envelope.recipients {
            let reply = try await command("RCPT TO:<\(recipient)>" + (dsn ? " NOTIFY=FAILURE,DELAY ORCPT=rfc822;\(xtext(recipient))" : ""))
            guard reply.isPositiveCompletion else {
                _ = try? await command("RSET")
                throw SMTPError(.rejected, at: .recipient, reply: reply, "the relay refused the recipient <\(recipient)>: \(reply)")
            }
        }
        enter(.data)
        let go = try await command("DATA")
        guard go.code == 354 else { throw SMTPError(.rejected, at: .data, reply: go, "the relay refused DATA: \(go)") }
        try await outbound.write(ByteBuffer(bytes: Self.dotStuffed(message)))
        let accepted = try await readReply()
        guard accepted.isPositiveCompletion else { throw SMTPError(.rejected, at: .data, reply: accepted, "the relay refused the message: \(accepted)") }
        // The message is the relay's now; a lost QUIT changes nothing.
        _ = try? await command("QUIT")
        return SMTPSubmission(reply: accepted, encrypted: encrypted, authenticated: authenticated, deliveryStatusNotifications: dsn)
    }

    func enter(_ next: SMTPError.Stage) { stage.current = next }

    /// EHLO, and the extensions the reply lists (keyword, upper-cased, → its parameters).
    mutating func ehlo(_ name: String) async throws -> [String: [String]] {
        enter(.ehlo)
        let reply = try await command("EHLO \(name)")
        guard reply.code == 250 else { throw SMTPError(.rejected, at: .ehlo, reply: reply, "the relay refused EHLO: \(reply)") }
        var extensions: [String: [String]] = [:]
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map(String.init)
            guard let keyword = words.first else { continue }
            extensions[keyword.uppercased()] = Array(words.dropFirst())
        }
        return extensions
    }

    mutating func authenticate(_ credentials: SMTPRelay.Credentials, extensions: [String: [String]], encrypted: Bool) async throws {
        guard encrypted else {
            throw SMTPError(.authUnavailable, at: .auth, "credentials are configured but the connection is not encrypted; a password is never sent in clear")
        }
        let mechanisms = Set((extensions["AUTH"] ?? []).map { $0.uppercased() })
        let done: SMTPReply
        if mechanisms.contains("PLAIN") {
            let token = [UInt8]([0] + Array(credentials.username.utf8) + [0] + Array(credentials.password.utf8))
            done = try await command("AUTH PLAIN " + base64(token))
        } else if mechanisms.contains("LOGIN") {
            let user = try await command("AUTH LOGIN")
            guard user.code == 334 else { throw SMTPError(.authFailed, at: .auth, reply: user, "the relay refused AUTH LOGIN: \(user)") }
            let password = try await command(base64(Array(credentials.username.utf8)))
            guard password.code == 334 else { throw SMTPError(.authFailed, at: .auth, reply: password, "the relay refused the user name: \(password)") }
            done = try await command(base64(Array(credentials.password.utf8)))
        } else {
            throw SMTPError(.authUnavailable, at: .auth, "the relay offers no AUTH mechanism this client uses (PLAIN, LOGIN); it offers \(mechanisms.sorted())")
        }
        guard done.code == 235 else { throw SMTPError(.authFailed, at: .auth, reply: done, "the relay refused the credentials of \(credentials.username): \(done)") }
    }

    mutating func command(_ line: String) async throws -> SMTPReply {
        do {
            try await outbound.write(ByteBuffer(string: line + "\r\n"))
        } catch where handshakePending {
            throw SMTPError(.tlsFailed, at: stage.current, "the TLS handshake failed (an untrusted certificate or another name?): \(error)")
        }
        return try await readReply()
    }

    mutating func readReply() async throws -> SMTPReply {
        var code: Int?
        var lines: [String] = []
        while true {
            let line = try await readLine()
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, bytes[0...2].allSatisfy({ (0x30...0x39).contains($0) }), let value = Int(String(line.prefix(3))),
                  (200...599).contains(value)
            else { throw SMTPError(.protocolViolation, at: stage.current, "not an SMTP reply line: \(line.prefix(80).debugDescription)") }
            guard code == nil || code == value else {
                throw SMTPError(.protocolViolation, at: stage.current, "a multi-line reply changed its code from \(code!) to \(value)")
            }
            code = value
            let separator = bytes.count > 3 ? bytes[3] : 0x20
            guard separator == 0x20 || separator == 0x2D else {
                throw SMTPError(.protocolViolation, at: stage.current, "not an SMTP reply line: \(line.prefix(80).debugDescription)")
            }
            lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
            if separator == 0x20 { return SMTPReply(code: value, lines: lines) }
            guard lines.count < Self.maximumLines else {
                throw SMTPError(.protocolViolation, at: stage.current, "a reply of more than \(Self.maximumLines) lines")
            }
        }
    }

    /// One line without its CRLF (a bare LF is taken as well).
    mutating func readLine() async throws -> String {
        while true {
            if let newline = pending.readableBytesView.firstIndex(of: 0x0A) {
                let length = newline - pending.readerIndex + 1
                var bytes = pending.readBytes(length: length)!
                bytes.removeLast()
                if bytes.last == 0x0D { bytes.removeLast() }
                pending.discardReadBytes()
                return String(decoding: bytes, as: UTF8.self)
            }
            guard pending.readableBytes <= Self.maximumLine else {
                throw SMTPError(.protocolViolation, at: stage.current, "a reply line longer than \(Self.maximumLine) bytes")
            }
            let next: ByteBuffer?
            do {
                next = try await inbound.next()
            } catch where handshakePending {
                throw SMTPError(.tlsFailed, at: stage.current, "the TLS handshake failed: \(error)")
            }
            guard var more = next else {
                if handshakePending { throw SMTPError(.tlsFailed, at: stage.current, "the connection ended in the TLS handshake (an untrusted certificate or another name?)") }
                throw SMTPError(.connectionClosed, at: stage.current, "the relay closed the connection")
            }
            handshakePending = false
            pending.writeBuffer(&more)
        }
    }

    /// The message as DATA carries it (RFC 5321 §4.5.2): a line that starts with a dot gets
    /// another, the last line ends with CRLF, and a line with a single dot ends the data.
    static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 64 + 5)
        var lineStart = true
        for byte in message {
            if lineStart && byte == 0x2E { out.append(0x2E) }
            out.append(byte)
            lineStart = byte == 0x0A
        }
        if !(out.count >= 2 && out[out.count - 2] == 0x0D && out[out.count - 1] == 0x0A) { out += [0x0D, 0x0A] }
        out += [0x2E, 0x0D, 0x0A]
        return out
    }

    /// RFC 3461 §4 xtext: printable ASCII except '+' and '=', the rest as "+HH".
    func xtext(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if byte >= 0x21 && byte <= 0x7E && byte != 0x2B && byte != 0x3D {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "+" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    func base64(_ bytes: [UInt8]) -> String { MIMEEncoding.base64(bytes) }
}

/// The step a session is at, read when an error from below (NIO, TLS) has to be named.
private final class StageTracker: Sendable {
    private let stage = Mutex<SMTPError.Stage>(.connect)
    var current: SMTPError.Stage {
        get { stage.withLock { $0 } }
        set { stage.withLock { $0 = newValue } }
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
