import CanonicalJSON
import DeliveryTransport
import Foundation
import Ledger
import Notary
import OpenSSLKit
import Records
import RocksDBStore
import Sodium

/// The recipient portal's settings (`delivery.portal.*`, docs/delivery.md §13).
public struct PortalSettings: Sendable {
    /// The portal's public base, `https://host[:port]`: links are `<base>/portal/<token>`.
    public var baseURL: String
    /// The delivery key; the portal uses subkeys of it for link tokens and codes.
    public var key: SymmetricKey
    /// How long a link opens anything, from the service's opening.
    public var linkLifetimeMilliseconds: Int64
    public var codeLifetimeMilliseconds: Int64
    /// Wrong entries one code allows before it is void.
    public var attemptsPerCode: Int
    /// Codes one link may have sent; then it is locked (and every wrong code was logged).
    public var codesPerLink: Int
    public var sessionLifetimeMilliseconds: Int64

    public init(baseURL: String, key: SymmetricKey, linkLifetimeMilliseconds: Int64 = 90 * 86_400_000, codeLifetimeMilliseconds: Int64 = 600_000,
                attemptsPerCode: Int = 3, codesPerLink: Int = 5, sessionLifetimeMilliseconds: Int64 = 1_800_000) {
        self.baseURL = baseURL
        self.key = key
        self.linkLifetimeMilliseconds = linkLifetimeMilliseconds
        self.codeLifetimeMilliseconds = codeLifetimeMilliseconds
        self.attemptsPerCode = attemptsPerCode
        self.codesPerLink = codesPerLink
        self.sessionLifetimeMilliseconds = sessionLifetimeMilliseconds
    }

    var linkKey: SymmetricKey { key.subkey(2, context: "NTRMLINK") }
    var codeKey: SymmetricKey { key.subkey(3, context: "NTRMCODE") }
}

/// A recipient's personal link, as the portal keeps it: `link/<sha-256 of the token>` in the
/// `delivery` column family. The token itself is never stored; it is an HMAC of the service id
/// under the link key, so that a notice sent again carries the same link.
public struct PortalLink: Sendable, Equatable {
    public let service: String
    public let expires: Int64
    /// Codes sent so far.
    public var codesSent: Int
    public var locked: Bool
    /// The current code: its HMAC, when it ends, the wrong entries made, the channel it went by.
    public var codeMAC: String?
    public var codeExpires: Int64?
    public var codeAttempts: Int
    public var codeChannel: ServiceChannel?

    init(service: String, expires: Int64) {
        self.service = service
        self.expires = expires
        codesSent = 0
        locked = false
        codeAttempts = 0
    }

    var json: JSONValue {
        var members: [String: JSONValue] = [
            "service": .string(service), "expires": .integer(expires), "codesSent": .integer(Int64(codesSent)), "locked": .bool(locked),
            "codeAttempts": .integer(Int64(codeAttempts)),
        ]
        if let codeMAC { members["codeMac"] = .string(codeMAC) }
        if let codeExpires { members["codeExpires"] = .integer(codeExpires) }
        if let codeChannel { members["codeChannel"] = .string(codeChannel.rawValue) }
        return .object(members)
    }

    init(json bytes: [UInt8]) throws(DeliveryError) {
        guard let value = try? CanonicalJSON.parse(bytes), case .object(let members) = value,
              case .string(let service)? = members["service"], case .integer(let expires)? = members["expires"],
              case .integer(let sent)? = members["codesSent"], case .bool(let locked)? = members["locked"],
              case .integer(let attempts)? = members["codeAttempts"]
        else { throw DeliveryError(.storage, "a portal link is unreadable") }
        self.init(service: service, expires: expires)
        codesSent = Int(sent)
        self.locked = locked
        codeAttempts = Int(attempts)
        if case .string(let mac)? = members["codeMac"] { codeMAC = mac }
        if case .integer(let time)? = members["codeExpires"] { codeExpires = time }
        if case .string(let name)? = members["codeChannel"] { codeChannel = ServiceChannel(rawValue: name) }
    }
}

/// An identified recipient's session: `session/<sha-256 of the cookie>`.
public struct PortalSession: Sendable, Equatable {
    public let service: String
    /// The link's key (hex SHA-256 of its token): a session opens only its own link.
    public let link: String
    public let expires: Int64
    /// How the recipient identified, and the channel the code went by.
    public let method: IdentificationMethod
    public let codeChannel: ServiceChannel
    /// The session's name in the ledger's records (never the cookie): `s-` and 16 hex digits.
    public let id: String

    var json: JSONValue {
        .object([
            "service": .string(service), "link": .string(link), "expires": .integer(expires), "method": .string(method.rawValue),
            "codeChannel": .string(codeChannel.rawValue), "id": .string(id),
        ])
    }

    init(service: String, link: String, expires: Int64, method: IdentificationMethod, codeChannel: ServiceChannel, id: String) {
        self.service = service
        self.link = link
        self.expires = expires
        self.method = method
        self.codeChannel = codeChannel
        self.id = id
    }

    init(json bytes: [UInt8]) throws(DeliveryError) {
        guard let value = try? CanonicalJSON.parse(bytes), case .object(let members) = value,
              case .string(let service)? = members["service"], case .string(let link)? = members["link"],
              case .integer(let expires)? = members["expires"], case .string(let methodName)? = members["method"],
              let method = IdentificationMethod(rawValue: methodName), case .string(let channelName)? = members["codeChannel"],
              let channel = ServiceChannel(rawValue: channelName), case .string(let id)? = members["id"]
        else { throw DeliveryError(.storage, "a portal session is unreadable") }
        self.init(service: service, link: link, expires: expires, method: method, codeChannel: channel, id: id)
    }

    var identification: Identification { Identification(method: method, session: id) }
}

/// What the portal shows for a link, before identification.
public enum PortalLinkState: Sendable, Equatable {
    /// Unknown, expired, or of a service that is not served through the portal: one answer for
    /// all, so that a guessed token learns nothing.
    case invalid
    case locked(language: String)
    /// Usable: `destination` says where a code goes (masked), `codePending` whether one waits.
    case active(language: String, destination: String, codePending: Bool)
}

public enum PortalCodeOutcome: Sendable, Equatable {
    case sent(destination: String)
    case invalid
    case locked
    /// The code could not be sent (the gateway or relay failed); nothing was used up.
    case notSent(String)
}

public enum PortalVerification: Sendable, Equatable {
    /// The cookie of the new session.
    case identified(sessionToken: String)
    case wrong(remaining: Int)
    case invalid
    case locked
}

/// What an identified recipient sees.
public struct PortalCase: Sendable {
    public let language: String
    public let institution: String
    public let caseID: String
    public let parts: [ServicePart]
    /// Whether each part's document is still held.
    public let available: [Bool]
    /// The recipient's answer already recorded (ConsignmentAcceptance or ConsignmentRejection).
    public let answer: ServiceRecord?
}

extension Delivery {
    // MARK: - Links

    /// The personal link of `service` (nil without a portal).
    public func portalLink(service: String) -> String? {
        guard let portal else { return nil }
        return (portalBase() ?? "") + "/portal/" + Self.linkToken(service: service, portal: portal)
    }

    /// The portal's public base: configured, or the API listener's bound address.
    func portalBase() -> String? {
        guard let portal else { return nil }
        return portal.baseURL.isEmpty ? boundPortalBase.withLock { $0 } : portal.baseURL
    }

    /// Deletes the documents no service holds any more; at most once a minute.
    public func sweepDocuments() {
        guard let vault else { return }
        let now = clock()
        guard lastSweep.withLock({ last in
            defer { if now - last >= 60_000 { last = now } }
            return now - last >= 60_000
        }) else { return }
        do {
            let deleted = try vault.sweep(now: now)
            if deleted > 0 { logger.info("delivery: documents no service holds any more were deleted", metadata: ["documents": "\(deleted)"]) }
            try sweepPortal(now: now)
        } catch {
            logger.error("delivery: the document vault could not be swept", metadata: ["error": "\(error)"])
        }
    }

    /// Tells the portal its base when `PortalSettings.baseURL` is empty: the API listener's
    /// address once bound (port 0 picks one at start).
    /// How long a portal session lasts, for its cookie.
    public var sessionLifetimeSeconds: Int64 { (portal?.sessionLifetimeMilliseconds ?? 0) / 1000 }

    /// Whether notices can be composed: a portal whose base is the API listener's address
    /// knows it only once the listener is bound, and a link without it would be broken.
    public var isReady: Bool { portal == nil || portalBase() != nil }

    public func portalListening(at base: String) {
        boundPortalBase.withLock { $0 = base }
    }

    static func linkToken(service: String, portal: PortalSettings) -> String {
        Base64.encodeURL(portal.linkKey.authenticate(Array("link|\(service)".utf8)))
    }

    static func linkKey(token: String) -> String { lowerHex(SHA256.hash(Array(token.utf8))) }
    static func linkRecordKey(_ hash: String) -> [UInt8] { Array("link/\(hash)".utf8) }
    static func sessionKey(_ hash: String) -> [UInt8] { Array("session/\(hash)".utf8) }
    static func handedKey(session: String, part: Int) -> [UInt8] { Array("handed/\(session)/\(part)".utf8) }
    static func statementKey(_ service: String) -> [UInt8] { Array("statement/\(service)".utf8) }

    /// The statement a recipient gave with a refusal (its SHA-256 is in the ledger's event).
    public func refusalStatement(service: String) throws(DeliveryError) -> String? {
        do {
            return try outbox.database.get(Self.statementKey(service), in: outbox.column).map { String(decoding: $0, as: UTF8.self) }
        } catch {
            throw DeliveryError(.storage, "cannot read the delivery records: \(error)")
        }
    }

    /// The writes that make `service`'s link open, until `expires` (in the opening's batch).
    func portalLinkBatch(service: String, portal: PortalSettings, opened: Int64) -> WriteBatch {
        var batch = WriteBatch()
        let link = PortalLink(service: service, expires: opened + portal.linkLifetimeMilliseconds)
        batch.put(Self.linkRecordKey(Self.linkKey(token: Self.linkToken(service: service, portal: portal))), link.json.canonicalBytes, in: outbox.column)
        return batch
    }

    func readLink(_ token: String) throws(DeliveryError) -> (hash: String, link: PortalLink)? {
        // A token is 43 base64url characters; anything else is not worth a read.
        guard token.utf8.count == 43, token.utf8.allSatisfy({ Base64.urlAlphabet.contains($0) }) else { return nil }
        let hash = Self.linkKey(token: token)
        let bytes: [UInt8]?
        do {
            bytes = try outbox.database.get(Self.linkRecordKey(hash), in: outbox.column)
        } catch {
            throw DeliveryError(.storage, "cannot read the portal's links: \(error)")
        }
        guard let bytes else { return nil }
        return (hash, try PortalLink(json: bytes))
    }

    func writeLink(_ hash: String, _ link: PortalLink, with extra: WriteBatch = WriteBatch()) throws(DeliveryError) {
        var batch = WriteBatch()
        batch.put(Self.linkRecordKey(hash), link.json.canonicalBytes, in: outbox.column)
        batch.append(contentsOf: extra)
        do {
            try outbox.database.write(batch, durability: .synced)
        } catch {
            throw DeliveryError(.storage, "cannot write a portal link: \(error)")
        }
    }

    /// The link's state for the page a recipient opens.
    public func portalLinkState(token: String) throws(DeliveryError) -> PortalLinkState {
        guard portal != nil, let (_, link) = try readLink(token), link.expires > clock(), let plan = try plan(service: link.service) else { return .invalid }
        if link.locked { return .locked(language: templates.language(for: plan.languages)) }
        guard let target = try codeTarget(service: link.service) else { return .invalid }
        let pending = link.codeMAC != nil && (link.codeExpires ?? 0) > clock() && link.codeAttempts < (portal?.attemptsPerCode ?? 0)
        return .active(language: templates.language(for: plan.languages), destination: destination(target, language: templates.language(for: plan.languages)), codePending: pending)
    }

    /// Where a one-time code goes: by the other channel than the notice that carried the link
    /// (SMS when the notice went by e-mail, and the other way round), so that the link alone
    /// never opens the documents; by the same channel only when the service has no other that
    /// works (none given, no transport, or its notice failed).
    func codeTarget(service: String) throws(DeliveryError) -> (channel: ServiceChannel, address: String)? {
        let addresses: [(channel: ServiceChannel, address: String)]
        do {
            addresses = try notary.recipients.disclose(service: service).compactMap { entry in
                ServiceChannel(rawValue: entry.channel).map { ($0, entry.address) }
            }
        } catch {
            throw DeliveryError(.storage, "cannot read the recipients of \(service): \(error)")
        }
        // A channel whose notice failed (refused, or bounced later) is not one to send a code by.
        var noticed: Set<String> = []
        var failed: Set<String> = []
        for item in try items(service: service) where item.kind == .notice {
            let bounced = item.state == .done ? try outbox.bounceRecorded(item.id) : false
            if item.state == .failed || bounced {
                failed.insert(item.channel.rawValue)
            } else if item.state == .done || item.state == .sent {
                noticed.insert(item.channel.rawValue)
            }
        }
        let push = addresses.filter { DeliveryPlan.pushChannels.map(\.rawValue).contains($0.channel.rawValue) && !failed.contains($0.channel.rawValue) }
        let usable = push.filter { ($0.channel == .sms && sms != nil) || ($0.channel == .email && email != nil) }
        return usable.first { !noticed.contains($0.channel.rawValue) } ?? usable.first
    }

    func destination(_ target: (channel: ServiceChannel, address: String), language: String) -> String {
        switch target.channel {
        case .sms:
            return templates.render("destination-sms", language: language, values: ["destination": String(target.address.suffix(2))])
        default:
            let parts = target.address.split(separator: "@", maxSplits: 1)
            let local = parts.first.map { String($0.prefix(1)) + "…" } ?? "…"
            return templates.render("destination-email", language: language, values: ["destination": local + "@" + (parts.count > 1 ? String(parts[1]) : "")])
        }
    }

    // MARK: - One-time codes

    /// Sends a new one-time code for the link `token` by the other channel. The code is kept
    /// only as an HMAC; a new one voids the one before.
    public func sendPortalCode(token: String) async throws(DeliveryError) -> PortalCodeOutcome {
        guard portal != nil, let (_, listed) = try readLink(token) else { return .invalid }
        return try await services.run(listed.service) { () async throws(DeliveryError) -> PortalCodeOutcome in try await self.sendPortalCodeInTurn(token: token) }
    }

    func sendPortalCodeInTurn(token: String) async throws(DeliveryError) -> PortalCodeOutcome {
        guard let portal, let (hash, current) = try readLink(token), current.expires > clock() else { return .invalid }
        if current.locked { return .locked }
        guard let plan = try plan(service: current.service), let target = try codeTarget(service: current.service) else { return .invalid }
        var link = current
        guard link.codesSent < portal.codesPerLink else {
            link.locked = true
            try writeLink(hash, link)
            logger.warning("portal: a link asked for more codes than allowed; locked", metadata: ["service": "\(link.service)", "link": "\(hash.prefix(12))"])
            return .locked
        }
        let code = String(format: "%06d", SodiumLibrary.uniformRandom(1_000_000))
        let language = templates.language(for: plan.languages)
        let text = templates.render("one-time-code", language: language, values: ["institution": plan.institution, "code": code])
        do {
            switch target.channel {
            case .sms:
                guard let sms else { return .notSent("no SMS gateway") }
                // A reference of its own for every code: the gateway treats a repeated one as
                // the same message and would not send it.
                _ = try await SMSClient.send(to: target.address, text: text, reference: "code-" + lowerHex(SodiumLibrary.randomBytes(12)), callbackURL: nil, via: sms.gateway)
            default:
                guard let email else { return .notSent("no e-mail relay") }
                let message = MailMessage(
                    from: email.from, to: [.init(target.address)], subject: templates.render("code-email-subject", language: language, values: [:]),
                    date: clock(), messageID: "code-\(lowerHex(SodiumLibrary.randomBytes(12)))@\(email.messageIDDomain)", language: language, text: text,
                    extraHeaders: [("Auto-Submitted", "auto-generated")])
                _ = try await SMTPClient.send(try message.rendered(boundary: "=_notarium_code_" + lowerHex(SodiumLibrary.randomBytes(8))),
                                              envelope: SMTPEnvelope(sender: email.envelopeSender, recipients: [target.address]), via: email.relay)
            }
        } catch {
            logger.error("portal: a one-time code could not be sent", metadata: ["service": "\(link.service)", "channel": "\(target.channel.rawValue)", "error": "\(error)"])
            return .notSent("\(error)")
        }
        link.codesSent += 1
        link.codeMAC = lowerHex(portal.codeKey.authenticate(Array("\(hash)|\(code)".utf8)))
        link.codeExpires = clock() + portal.codeLifetimeMilliseconds
        link.codeAttempts = 0
        link.codeChannel = target.channel
        try writeLink(hash, link)
        logger.info("portal: a one-time code sent", metadata: ["service": "\(link.service)", "channel": "\(target.channel.rawValue)", "code-number": "\(link.codesSent)"])
        return .sent(destination: destination(target, language: language))
    }

    /// Checks `code` for the link `token`. The right code opens a session, recorded as the
    /// service's ContentAccessTracking on `portal` (identified by a one-time code) in the
    /// session's own batch; a wrong one is counted and logged, and the last allowed voids the
    /// code; the last code's last wrong entry locks the link.
    public func verifyPortalCode(token: String, code: String, client: String) async throws(DeliveryError) -> PortalVerification {
        guard portal != nil, let (_, listed) = try readLink(token) else { return .invalid }
        // In the service's turn: one code opens one session, however many entries race.
        return try await services.run(listed.service) { () async throws(DeliveryError) -> PortalVerification in
            try await self.verifyPortalCodeInTurn(token: token, code: code, client: client)
        }
    }

    func verifyPortalCodeInTurn(token: String, code: String, client: String) async throws(DeliveryError) -> PortalVerification {
        guard let portal, let (hash, current) = try readLink(token), current.expires > clock() else { return .invalid }
        if current.locked { return .locked }
        var link = current
        let now = clock()
        let candidate = code.filter { !$0.isWhitespace }
        let valid = link.codeMAC.map { mac in
            (link.codeExpires ?? 0) > now && link.codeAttempts < portal.attemptsPerCode && candidate.count == 6 && candidate.allSatisfy(\.isASCII)
                && portal.codeKey.isValid(mac: Self.macBytes(mac), of: Array("\(hash)|\(candidate)".utf8))
        } ?? false
        guard valid else {
            link.codeAttempts += 1
            let remaining = max(0, portal.attemptsPerCode - link.codeAttempts)
            if remaining == 0 && link.codesSent >= portal.codesPerLink { link.locked = true }
            try writeLink(hash, link)
            wrongCodeCounter.increment()
            logger.warning("portal: a wrong one-time code", metadata: [
                "service": "\(link.service)", "link": "\(hash.prefix(12))", "client": "\(client)", "attempt": "\(link.codeAttempts)", "locked": "\(link.locked)",
            ])
            return link.locked ? .locked : .wrong(remaining: remaining)
        }
        // The code is used up; the session starts, and the recipient may ask for codes again
        // later (the cap is on guessing, not on coming back).
        link.codeMAC = nil
        link.codeExpires = nil
        link.codeAttempts = 0
        link.codesSent = 0
        let cookie = Base64.encodeURL(SodiumLibrary.randomBytes(32))
        let sessionHash = lowerHex(SHA256.hash(Array(cookie.utf8)))
        let session = PortalSession(service: link.service, link: hash, expires: now + portal.sessionLifetimeMilliseconds, method: .oneTimeCode,
                                    codeChannel: link.codeChannel ?? .sms, id: "s-" + sessionHash.prefix(16))
        let report = Notary.ServiceEventReport(
            event: .contentAccessTracking, channel: .portal, eventTime: now, identification: session.identification,
            provider: ProviderEvidence(kind: .portalLog, report: "identified by a one-time code sent by \(session.codeChannel.rawValue); session \(session.id) opened the service's page", id: session.id))
        let column = outbox.column
        let updated = link
        let alongside: @Sendable (UInt64) -> WriteBatch = { _ in
            var batch = WriteBatch()
            batch.put(Self.linkRecordKey(hash), updated.json.canonicalBytes, in: column)
            batch.put(Self.sessionKey(sessionHash), session.json.canonicalBytes, in: column)
            return batch
        }
        switch try await recordEvent(report, service: link.service, alongside: alongside) {
        case .recorded(let receipt):
            logger.info("portal: a recipient identified", metadata: ["service": "\(link.service)", "session": "\(session.id)", "seq": "\(receipt.seq)"])
            return .identified(sessionToken: cookie)
        case .refused(let error):
            throw DeliveryError(error)
        }
    }

    /// The session `cookie` holds on link `token`, if it is valid now.
    public func portalSession(token: String, cookie: String?) throws(DeliveryError) -> PortalSession? {
        guard portal != nil, let cookie, cookie.utf8.count == 43, let (hash, link) = try readLink(token), link.expires > clock(), !link.locked else { return nil }
        let bytes: [UInt8]?
        do {
            bytes = try outbox.database.get(Self.sessionKey(lowerHex(SHA256.hash(Array(cookie.utf8)))), in: outbox.column)
        } catch {
            throw DeliveryError(.storage, "cannot read the portal's sessions: \(error)")
        }
        guard let bytes else { return nil }
        let session = try PortalSession(json: bytes)
        guard session.link == hash, session.expires > clock() else { return nil }
        return session
    }

    /// Deletes the portal's expired sessions (with their handover marks) and expired links.
    func sweepPortal(now: Int64) throws(DeliveryError) {
        var batch = WriteBatch()
        let sessions: [KeyValue]
        let links: [KeyValue]
        do {
            sessions = try outbox.database.scan(in: outbox.column, from: Array("session/".utf8), to: Array("session/".utf8) + [0xFF])
            links = try outbox.database.scan(in: outbox.column, from: Array("link/".utf8), to: Array("link/".utf8) + [0xFF])
        } catch {
            throw DeliveryError(.storage, "cannot read the portal's records: \(error)")
        }
        for pair in sessions {
            // An unreadable record is left for the operator rather than stopping every sweep.
            guard let session = try? PortalSession(json: pair.value), session.expires <= now else { continue }
            batch.delete(pair.key, in: outbox.column)
            for index in 0..<20 { batch.delete(Self.handedKey(session: session.id, part: index), in: outbox.column) }
        }
        for pair in links where (try? PortalLink(json: pair.value))?.expires ?? .max <= now {
            batch.delete(pair.key, in: outbox.column)
        }
        guard !batch.isEmpty else { return }
        do {
            try outbox.database.write(batch, durability: .synced)
        } catch {
            throw DeliveryError(.storage, "cannot delete the portal's expired records: \(error)")
        }
    }

    /// A value a form carries so that another site cannot post it for the recipient (the
    /// cookie is also SameSite=Strict).
    public func formToken(cookie: String) -> String {
        guard let portal else { return "" }
        return lowerHex(portal.codeKey.authenticate(Array("form|\(cookie)".utf8)))
    }

    public func isValidFormToken(_ value: String, cookie: String) -> Bool {
        guard let portal else { return false }
        return portal.codeKey.isValid(mac: Self.macBytes(value), of: Array("form|\(cookie)".utf8))
    }

    // MARK: - The identified recipient

    public func portalCase(_ session: PortalSession) throws(DeliveryError) -> PortalCase {
        guard let plan = try plan(service: session.service) else { throw DeliveryError(.storage, "service \(session.service) has a session and no plan") }
        let records: [ServiceRecord]
        do {
            records = try notary.serviceHistory(session.service).map(\.record)
        } catch {
            throw DeliveryError(error)
        }
        guard let opening = records.first else { throw DeliveryError(.storage, "service \(session.service) has a session and no events") }
        let available = try opening.parts.map { part throws(DeliveryError) in try vault?.holds(Self.vaultName(part)) ?? false }
        return PortalCase(language: templates.language(for: plan.languages), institution: plan.institution, caseID: opening.caseID,
                          parts: opening.parts, available: available,
                          answer: records.last { $0.event == .consignmentAcceptance || $0.event == .consignmentRejection })
    }

    /// Part `index`'s bytes for the session, recorded first as the service's ContentHandover
    /// on `portal` with the SHA-256 of exactly the bytes released (once per session and part;
    /// a second download in the session is the same handover). Nil: no such part, or no longer held.
    public func handOver(_ session: PortalSession, part index: Int) async throws(DeliveryError) -> (part: ServicePart, bytes: [UInt8])? {
        // In the service's turn: two downloads at once are one handover.
        try await services.run(session.service) { () async throws(DeliveryError) -> (part: ServicePart, bytes: [UInt8])? in
            try await self.handOverInTurn(session, part: index)
        }
    }

    func handOverInTurn(_ session: PortalSession, part index: Int) async throws(DeliveryError) -> (part: ServicePart, bytes: [UInt8])? {
        let records: [ServiceRecord]
        do {
            records = try notary.serviceHistory(session.service).map(\.record)
        } catch {
            throw DeliveryError(error)
        }
        guard let opening = records.first, opening.parts.indices.contains(index), let vault,
              let bytes = try vault.document(Self.vaultName(opening.parts[index])) else { return nil }
        let part = opening.parts[index]
        let handed: Bool
        do {
            handed = try outbox.database.get(Self.handedKey(session: session.id, part: index), in: outbox.column) != nil
        } catch {
            throw DeliveryError(.storage, "cannot read the portal's handovers: \(error)")
        }
        if handed { return (part, bytes) }
        let digest = lowerHex(SHA256.hash(bytes))
        let report = Notary.ServiceEventReport(
            event: .contentHandover, channel: .portal, eventTime: clock(), identification: session.identification,
            provider: ProviderEvidence(kind: .portalLog, report: "part \(part.name): \(bytes.count) bytes served to session \(session.id), sha-256 \(digest)", id: "\(session.id)/\(index)"))
        let column = outbox.column
        let sessionID = session.id
        let alongside: @Sendable (UInt64) -> WriteBatch = { seq in
            var batch = WriteBatch()
            batch.put(Self.handedKey(session: sessionID, part: index), Array(String(seq).utf8), in: column)
            return batch
        }
        switch try await recordEvent(report, service: session.service, alongside: alongside) {
        case .recorded(let receipt):
            logger.info("portal: a document handed over", metadata: ["service": "\(session.service)", "session": "\(session.id)", "part": "\(part.name)", "seq": "\(receipt.seq)"])
            return (part, bytes)
        case .refused(let error):
            throw DeliveryError(error)
        }
    }

    /// Records the recipient's acknowledgement (ConsignmentAcceptance) or refusal
    /// (ConsignmentRejection, reason `recipient-refused`; their words kept in the erasable store, their SHA-256 in the event)
    /// on `portal`. A second answer records nothing and returns the first.
    public func answer(_ session: PortalSession, accept: Bool, statement: String?) async throws(DeliveryError) -> ServiceRecord {
        try await services.run(session.service) { () async throws(DeliveryError) -> ServiceRecord in
            try await self.answerInTurn(session, accept: accept, statement: statement)
        }
    }

    func answerInTurn(_ session: PortalSession, accept: Bool, statement: String?) async throws(DeliveryError) -> ServiceRecord {
        let current = try portalCase(session)
        if let answer = current.answer { return answer }
        // The recipient's own words may name people and facts: they are kept in the erasable
        // store beside the outbox, and the ledger records only their SHA-256 (DESIGN: nothing
        // personal in clear in the ledger).
        let words = String(String.UnicodeScalarView((statement ?? "").trimmingCharacters(in: .whitespacesAndNewlines).unicodeScalars.prefix(2000)))
        let wordsDigest = lowerHex(SHA256.hash(Array(words.utf8)))
        let report = Notary.ServiceEventReport(
            // A rejection's record has no identification member (records.md §2.2); the portal
            // log names the identified session instead.
            event: accept ? .consignmentAcceptance : .consignmentRejection, channel: .portal, eventTime: clock(), identification: accept ? session.identification : nil,
            provider: ProviderEvidence(kind: .portalLog, report: accept ? "session \(session.id) acknowledged receipt"
                                           : "session \(session.id) refused; the recipient's statement (\(words.utf8.count) bytes, sha-256 \(wordsDigest)) is kept by the appliance", id: session.id),
            reason: accept ? nil : .recipientRefused)
        let column = outbox.column
        let service = session.service
        switch try await recordEvent(report, service: session.service, alongside: { _ in
            var batch = WriteBatch()
            if !accept { batch.put(Self.statementKey(service), Array(words.utf8), in: column) }
            return batch
        }) {
        case .recorded(let receipt):
            logger.info("portal: the recipient answered", metadata: ["service": "\(session.service)", "accepted": "\(accept)", "seq": "\(receipt.seq)"])
        case .refused(let error):
            throw DeliveryError(error)
        }
        guard let answer = try portalCase(session).answer else { throw DeliveryError(.storage, "the answer of \(session.service) was recorded and does not read back") }
        return answer
    }

    /// A MAC as hex (a form token, a stored code's MAC, a report's signature); no bytes when it
    /// is not hex, which no MAC matches.
    static func macBytes(_ text: String) -> [UInt8] { bytes(fromHex: text) ?? [] }

    /// The vault's name of a part: its SHA-256 in hex.
    static func vaultName(_ part: ServicePart) -> String {
        lowerHex(part.document.digests.first { $0.algorithm == .sha256 }?.value ?? [])
    }
}
