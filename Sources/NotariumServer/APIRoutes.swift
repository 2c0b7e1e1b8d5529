import Access
import Appliance
import CanonicalJSON
import CertificateAuthority
import Delivery
import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore
import Notary
import OpenSSLKit
import Records
import RocksDBStore
import TimeStamping

/// What the `/v1` endpoints work with.
public struct APIServices: Sendable {
    public let registry: ClientRegistry
    public let idempotency: IdempotencyStore
    public let notary: Notary
    /// Serves services opened with a delivery plan (docs/delivery.md).
    public let delivery: Delivery
    public let stamper: LedgerTimeStamper
    /// Cuts a checkpoint for a bundle when none includes its entries yet.
    public let checkpointSigner: NoteSigner?
    public let settings: APISettings

    public init(registry: ClientRegistry, idempotency: IdempotencyStore, notary: Notary, delivery: Delivery, stamper: LedgerTimeStamper, checkpointSigner: NoteSigner?, settings: APISettings) {
        self.registry = registry
        self.idempotency = idempotency
        self.notary = notary
        self.delivery = delivery
        self.stamper = stamper
        self.checkpointSigner = checkpointSigner
        self.settings = settings
    }

    var ledger: Ledger { notary.ledger }
}

/// The authenticated API (docs/api.md, docs/openapi.yaml), served on the TLS listener only.
/// Every route first recognises the client from its TLS certificate and checks its role, so a
/// denied request (401, 403) reads no body and appends nothing.
struct APIRoutes {
    let api: APIServices

    /// Body limits per endpoint: a deposit carries digests and one CMS signature, or, when the
    /// caller asks us to hash it, the document in base64 with 64 KiB for the rest; a CSR is small.
    static let depositLimit = (EvidenceDeposit.maximumContentBytes + 2) / 3 * 4 + 64 * 1024
    /// A service event or an award: never more than a ledger entry holds (128 KiB), with room
    /// for JSON whitespace a client may add.
    static let recordLimit = 2 * LedgerEntry.maximumBytes
    static let clientLimit = 64 * 1024
    static let revocationLimit = 4 * 1024

    func register(on router: AppRouter) {
        router.get("/v1/whoami") { request, context -> Response in
            let client = try await authenticate(request, context, for: nil)
            return Self.json(.object([
                "name": .string(client.name), "role": .string(client.role.rawValue),
                "certificateSha256": .string(client.record.fingerprintHex), "serial": .string(client.record.serialHex),
                "actions": .array(client.role.actions.map(\.rawValue).sorted().map(JSONValue.string)),
            ]))
        }
        router.post("/v1/evidence") { request, context -> Response in
            let client = try await authenticate(request, context, for: .depositEvidence)
            let body = try await JSONBody.read(request, limit: Self.depositLimit, timeoutSeconds: api.settings.bodyTimeoutSeconds)
            let deposit = try EvidenceDeposit(body.value)
            return try await once(request, client: client, body: body, replay: replayAppend) { reservation in
                let receipt = try await api.notary.depositEvidence(
                    caseID: deposit.caseID, document: deposit.document, submitter: deposit.submitter, description: deposit.description,
                    context: writeContext(client, reservation))
                return Self.receiptResponse(receipt, of: .evidence)
            }
        }
        router.post("/v1/services") { request, context -> Response in
            let client = try await authenticate(request, context, for: .recordService)
            let body = try await JSONBody.read(request, limit: Self.recordLimit, timeoutSeconds: api.settings.bodyTimeoutSeconds)
            let opening = try ServiceOpening(body.value)
            return try await once(request, client: client, body: body, replay: replayAppend) { reservation in
                let receipt: AppendReceipt
                if let plan = opening.delivery {
                    // The appliance serves it: the opening, its plan and first notice in one batch.
                    receipt = try await api.delivery.serve(
                        serviceID: opening.serviceID, caseID: opening.caseID, parts: opening.parts, recipients: opening.recipients, rules: opening.rules,
                        plan: plan, context: writeContext(client, reservation))
                } else {
                    receipt = try await api.notary.openService(
                        serviceID: opening.serviceID, caseID: opening.caseID, parts: opening.parts, recipients: opening.recipients, rules: opening.rules,
                        eventTime: opening.eventTime, provider: opening.provider, rejection: opening.rejection, context: writeContext(client, reservation))
                }
                return Self.receiptResponse(receipt, of: .service(opening.serviceID))
            }
        }
        router.post("/v1/services/:id/events") { request, context -> Response in
            let client = try await authenticate(request, context, for: .recordService)
            let id = try Self.identifier(context.parameters.get("id"), name: "service id")
            let body = try await JSONBody.read(request, limit: Self.recordLimit, timeoutSeconds: api.settings.bodyTimeoutSeconds)
            let event = try ServiceEventBody(body.value)
            return try await once(request, client: client, body: body, replay: replayAppend) { reservation in
                let receipt = try await api.notary.recordServiceEvent(serviceID: id, event.report, context: writeContext(client, reservation))
                return Self.receiptResponse(receipt, of: .service(id))
            }
        }
        router.post("/v1/awards") { request, context -> Response in
            let client = try await authenticate(request, context, for: .registerAward)
            let body = try await JSONBody.read(request, limit: Self.recordLimit, timeoutSeconds: api.settings.bodyTimeoutSeconds)
            let registration = try AwardRegistration(body.value)
            return try await once(request, client: client, body: body, replay: replayAppend) { reservation in
                let receipt = try await api.notary.registerAward(registration.award, context: writeContext(client, reservation))
                return Self.receiptResponse(receipt, of: .award(registration.award.awardID))
            }
        }
        router.get("/v1/entries/:seq") { request, context -> Response in
            _ = try await authenticate(request, context, for: .readEntries)
            let seq = try LedgerRoutes.number(context.parameters.get("seq"), name: "seq")
            return Self.json(try entryWithProofs(seq))
        }
        router.get("/v1/entries/:seq/bundle") { request, context -> Response in
            _ = try await authenticate(request, context, for: .exportBundles)
            let seq = try LedgerRoutes.number(context.parameters.get("seq"), name: "seq")
            let bundle = try api.notary.evidenceBundle(seq: seq, stamper: api.stamper, checkpointSigner: api.checkpointSigner, document: nil)
            return Self.bundle(bundle, name: "evidence-\(seq)")
        }
        router.get("/v1/services/:id/bundle") { request, context -> Response in
            _ = try await authenticate(request, context, for: .exportBundles)
            let id = try Self.identifier(context.parameters.get("id"), name: "service id")
            let bundle = try api.notary.serviceBundle(serviceID: id, stamper: api.stamper, checkpointSigner: api.checkpointSigner, documents: [])
            return Self.bundle(bundle, name: "service-\(id)")
        }
        router.get("/v1/awards/:id/bundle") { request, context -> Response in
            _ = try await authenticate(request, context, for: .exportBundles)
            let id = try Self.identifier(context.parameters.get("id"), name: "award id")
            let bundle = try api.notary.awardBundle(awardID: id, stamper: api.stamper, checkpointSigner: api.checkpointSigner, documents: [])
            return Self.bundle(bundle, name: "award-\(id)")
        }
        router.get("/v1/trust") { request, context -> Response in
            _ = try await authenticate(request, context, for: .exportBundles)
            return Self.json(try api.notary.trustFile().json)
        }
        router.post("/v1/clients") { request, context -> Response in
            let admin = try await authenticate(request, context, for: .manageClients)
            let body = try await JSONBody.read(request, limit: Self.clientLimit, timeoutSeconds: api.settings.bodyTimeoutSeconds)
            let registration = try ClientRegistration(body.value)
            return try await once(request, client: admin, body: body, replay: replayRegistration) { reservation in
                try clientResponse(try await register(registration, by: admin, reservation: reservation))
            }
        }
        router.get("/v1/clients") { request, context -> Response in
            _ = try await authenticate(request, context, for: .manageClients)
            return Self.json(.object(["clients": .array(try api.registry.accessList.all().map(\.json))]))
        }
        router.post("/v1/certificates") { request, context -> Response in
            let admin = try await authenticate(request, context, for: .manageClients)
            let body = try await JSONBody.read(request, limit: Self.clientLimit, timeoutSeconds: api.settings.bodyTimeoutSeconds)
            let csr = try Self.signerRequest(body.value)
            return try await once(request, client: admin, body: body, replay: replaySigner) { reservation in
                try await issueSigner(csr, by: admin, reservation: reservation)
            }
        }
        router.post("/v1/certificates/:serial/revocation") { request, context -> Response in
            let admin = try await authenticate(request, context, for: .manageClients)
            let serialText = context.parameters.get("serial") ?? ""
            guard let serial = serialNumber(fromHex: serialText) else {
                throw ProblemDetails(status: .badRequest, type: "invalid-parameter", detail: "the serial is hexadecimal, as `notarium ca list` shows it, not \"\(serialText.prefix(80))\"")
            }
            let body = try await JSONBody.read(request, limit: Self.revocationLimit, timeoutSeconds: api.settings.bodyTimeoutSeconds)
            return try await revoke(serial: serial, body: body.value, by: admin)
        }
    }

    // MARK: - Identity

    /// The client of this request, allowed `action` (nil: any registered client).
    func authenticate(_ request: Request, _ context: NotariumRequestContext, for action: Action?) async throws -> Client {
        let client = try api.registry.authenticate(certificate: await context.peerCertificate())
        if let action { try client.require(action) }
        return client
    }

    // MARK: - Writes, once

    /// Runs a write at most once per `Idempotency-Key` (docs/api.md §4). Without a key it just
    /// runs. With one: a retry of the same request gets `replay`'s rebuilding of the first answer
    /// (marked `Idempotent-Replayed: true`); another request under the key is refused; the write
    /// gets the reservation, whose record it must put in the batch that makes it durable.
    func once(
        _ request: Request, client: Client, body: JSONBody, replay: (IdempotencyStore.Answer) throws -> Response?,
        perform: (IdempotencyStore.Reservation?) async throws -> Response
    ) async throws -> Response {
        guard let key = try Self.idempotencyKey(request) else { return try await perform(nil) }
        switch try api.idempotency.lookup(client: client.record.certificateSHA256, key: key, method: request.method.rawValue, path: request.uri.path, body: body.bytes) {
        case .new(let reservation):
            defer { api.idempotency.release(reservation) }
            return try await perform(reservation)
        case .replay(let answer):
            // A key first used for another kind of write is another request.
            guard var response = try replay(answer) else { throw Self.keyReused }
            response.headers[Self.replayedHeader] = "true"
            return response
        case .mismatch:
            throw Self.keyReused
        case .inProgress:
            throw ProblemDetails(status: .conflict, type: "idempotency-key-in-progress", detail: "a request with this Idempotency-Key is being handled; retry after it has been answered")
        }
    }

    /// The write context of a ledger write: who asked, and the key's record in the entry's batch.
    func writeContext(_ client: Client, _ reservation: IdempotencyStore.Reservation?) -> WriteContext {
        guard let reservation else { return WriteContext(requester: client.requester) }
        let store = api.idempotency
        return WriteContext(requester: client.requester, alongside: { @Sendable seq in store.record(reservation, answer: .entry(seq: seq)) })
    }

    /// The receipt of the entry a ledger write made, again.
    func replayAppend(_ answer: IdempotencyStore.Answer) throws -> Response? {
        guard case .entry(let seq) = answer else { return nil }
        let entry = try api.ledger.entry(seq)
        return Self.receiptResponse(AppendReceipt(seq: entry.seq, leafHash: entry.leafHash, time: entry.time), of: Written(entry))
    }

    /// The client a registration made, again.
    func replayRegistration(_ answer: IdempotencyStore.Answer) throws -> Response? {
        guard case .certificate(let serialHex) = answer else { return nil }
        guard let serial = OpenSSLKit.bytes(fromHex: serialHex), let record = try api.registry.authority.store.record(serial: serial),
              let client = try api.registry.accessList.client(certificateSHA256: record.certificate.sha256Fingerprint)
        else { throw AccessError(.storage, "the client registered under this Idempotency-Key is no longer on record") }
        return try clientResponse((client, record.certificate))
    }

    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    static let keyReused = ProblemDetails(
        status: .unprocessableContent, type: "idempotency-key-reused",
        detail: "this Idempotency-Key was used with another request (method, path or body); a retry must repeat the first request exactly, and a new request needs a new key")

    /// The `Idempotency-Key` header: an RFC 8941 string (`"…"`) or, as most clients send it,
    /// the bare token.
    static func idempotencyKey(_ request: Request) throws -> String? {
        guard let name = HTTPField.Name("Idempotency-Key"), var value = request.headers[name] else { return nil }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
        if let problem = IdempotencyStore.problem(with: value) {
            throw ProblemDetails(status: .badRequest, type: "invalid-idempotency-key", detail: problem)
        }
        return value
    }

    /// What a ledger write recorded, for the links of its receipt: the bundle that proves it
    /// is the entry's own for evidence, and the whole service's or award's otherwise.
    enum Written {
        case evidence
        case service(String)
        case award(String)

        /// What a stored entry recorded (for a replayed answer).
        init(_ entry: LedgerEntry) {
            guard case .object(let members) = entry.body else { self = .evidence; return }
            switch (entry.type, members["service"], members["award"]) {
            case (.service, .string(let id)?, _): self = .service(id)
            case (.award, _, .string(let id)?): self = .award(id)
            default: self = .evidence
            }
        }

        func bundle(seq: UInt64) -> String {
            switch self {
            case .evidence: "/v1/entries/\(seq)/bundle"
            case .service(let id): "/v1/services/\(APIRoutes.pathSegment(id))/bundle"
            case .award(let id): "/v1/awards/\(APIRoutes.pathSegment(id))/bundle"
            }
        }
    }

    static func receiptResponse(_ receipt: AppendReceipt, of written: Written) -> Response {
        var members: [String: JSONValue] = [
            "seq": .integer(Int64(receipt.seq)), "leafHash": .string(Base64.encode(receipt.leafHash)), "time": .string(receipt.time),
            "entry": .string("/v1/entries/\(receipt.seq)"), "bundle": .string(written.bundle(seq: receipt.seq)),
        ]
        switch written {
        case .evidence: break
        case .service(let id): members["service"] = .string(id)
        case .award(let id): members["award"] = .string(id)
        }
        var response = json(.object(members), status: .created)
        response.headers[.location] = "/v1/entries/\(receipt.seq)"
        return response
    }

    // MARK: - Clients

    func register(_ registration: ClientRegistration, by admin: Client, reservation: IdempotencyStore.Reservation?) async throws -> (ClientRecord, Certificate) {
        let store = api.idempotency
        let result = try await api.registry.register(
            request: registration.csr, name: registration.name, role: registration.role, requestedBy: admin.requester,
            alongside: { certificate in reservation.map { store.record($0, answer: .certificate(serialHex: certificate.serialHex)) } ?? .init() })
        return (result.client, result.certificate)
    }

    func clientResponse(_ registered: (ClientRecord, Certificate)) throws -> Response {
        let (client, certificate) = registered
        guard case .object(var members) = client.json else { fatalError("a client record is an object") }
        members["certificate"] = .string(certificate.pem)
        members["chain"] = .string(api.registry.authority.hierarchy.chainPEM)
        return Self.json(.object(members), status: .created)
    }

    /// The CSR of a `POST /v1/certificates` body: only the `signer` profile is issued here; API
    /// clients are registered with `/v1/clients`, which records a role.
    static func signerRequest(_ body: JSONValue) throws(RecordError) -> [UInt8] {
        let members = try Field.object(body, at: "body", required: ["profile"], optional: ["csr", "csrDer"])
        let profile = try Field.string(members["profile"], at: "body.profile", maximumLength: 32)
        guard profile == CertificateProfile.signer.rawValue else {
            throw RecordError(.schema, "body.profile \"\(profile)\" cannot be issued here: only signer; API clients are registered with POST /v1/clients")
        }
        return try ClientRegistration.csr(members, at: "body")
    }

    /// Issues a `signer` certificate (a party, arbitrator or institution that signs evidence and
    /// awards); the key's record goes in the certificate's batch.
    func issueSigner(_ csr: [UInt8], by admin: Client, reservation: IdempotencyStore.Reservation?) async throws -> Response {
        let store = api.idempotency
        let issued = try await api.registry.authority.issue(request: csr, profile: .signer, extraBody: ["requestedBy": admin.requester.json]) { certificate in
            reservation.map { store.record($0, answer: .certificate(serialHex: certificate.serialHex)) } ?? WriteBatch()
        }
        return signerResponse(issued.record)
    }

    /// The signer certificate a request issued, again.
    func replaySigner(_ answer: IdempotencyStore.Answer) throws -> Response? {
        guard case .certificate(let serialHex) = answer else { return nil }
        guard let serial = OpenSSLKit.bytes(fromHex: serialHex), let record = try api.registry.authority.store.record(serial: serial) else {
            throw AccessError(.storage, "the certificate issued under this Idempotency-Key is no longer on record")
        }
        return signerResponse(record)
    }

    func signerResponse(_ record: CertificateRecord) -> Response {
        guard case .object(var members) = record.summary else { fatalError("a certificate summary is an object") }
        members["certificate"] = .string(record.certificate.pem)
        members["chain"] = .string(api.registry.authority.hierarchy.chainPEM)
        return Self.json(.object(members), status: .created)
    }

    /// Revokes any certificate this CA issued; a client's is refused from its next request.
    /// Revoking again with the same reason answers as the first time did (a retry is harmless);
    /// with another reason it is a conflict.
    func revoke(serial: [UInt8], body: JSONValue, by admin: Client) async throws -> Response {
        let members = try Field.object(body, at: "body", required: ["reason"])
        let reasonName = try Field.string(members["reason"], at: "body.reason", maximumLength: 40)
        guard let reason = RevocationReason(name: reasonName), CertificateAuthority.revocationReasons.contains(reason) else {
            throw RecordError(.schema, "body.reason \"\(reasonName)\" is not one of \(CertificateAuthority.revocationReasons.map(\.name).joined(separator: ", "))")
        }
        let authority = api.registry.authority
        // The API revokes what it issues; the appliance's own keys (TSA, ledger, TLS) are
        // revoked with `notarium ca revoke`, by someone holding the data directory.
        if let stored = try authority.store.record(serial: serial), ![CertificateProfile.tlsClient.rawValue, CertificateProfile.signer.rawValue].contains(stored.profile) {
            throw CAError(.revocationRefused, "certificate \(stored.serialHex) is a \(stored.profile) certificate; the API revokes tls-client and signer certificates, the appliance's own with `notarium ca revoke`")
        }
        let record: CertificateRecord
        do {
            record = try await authority.revoke(serial: serial, reason: reason, extraBody: ["requestedBy": admin.requester.json]).record
        } catch {
            record = try Self.revocationRefused(error, serial: serial, reason: reason, authority: authority)
        }
        return Self.json(record.summary)
    }

    /// A refused revocation as a problem, or the stored record when the certificate was
    /// already revoked for the same reason (a retry).
    static func revocationRefused(_ error: CAError, serial: [UInt8], reason: RevocationReason, authority: CertificateAuthority) throws -> CertificateRecord {
        switch error.code {
        case .alreadyRevoked:
            if let stored = try? authority.store.record(serial: serial), let revocation = stored.revocation, revocation.reason == reason {
                return stored
            }
            throw error
        default:
            throw error
        }
    }

    // MARK: - Reading

    /// An entry with what proves it: its own token, the latest checkpoint (signed note) and the
    /// inclusion proof into it; the last two are null until a checkpoint includes the entry.
    func entryWithProofs(_ seq: UInt64) throws -> JSONValue {
        let entry = try api.ledger.entry(seq)
        var members: [String: JSONValue] = [
            "seq": .integer(Int64(seq)), "type": .string(entry.type.rawValue), "entry": .string(Base64.encode(entry.bytes)),
            "leafHash": .string(Base64.encode(entry.leafHash)), "checkpoint": .null, "inclusionProof": .null, "timestamp": .null,
        ]
        if entry.type.hasOwnTimestamp, let token = try? api.stamper.entryToken(seq) {
            members["timestamp"] = .string(Base64.encode(token))
        }
        if let checkpoint = try api.ledger.latestCheckpoint(), checkpoint.size > seq {
            let proof = try api.ledger.inclusionProof(index: seq, size: checkpoint.size)
            members["checkpoint"] = .string(checkpoint.note)
            members["inclusionProof"] = .object(["size": .integer(Int64(checkpoint.size)), "hashes": .array(proof.hashes.map { .string(Base64.encode($0)) })])
        }
        return .object(members)
    }

    // MARK: - Helpers

    /// A service or award identifier from the path, percent-decoded: identifiers may hold `/`,
    /// which a client sends as `%2F` (`pathSegment`).
    static func identifier(_ raw: String?, name: String) throws -> String {
        guard let text = raw?.removingPercentEncoding, Field.isIdentifier(text) else {
            throw ProblemDetails(status: .badRequest, type: "invalid-parameter", detail: "the \(name) is 1 to 128 letters, digits, '.', '_', ':', '/' or '-', starting with a letter or digit, not \"\((raw ?? "").prefix(80))\"")
        }
        return text
    }

    /// An identifier as one path segment: `/` and `:` percent-encoded.
    static func pathSegment(_ identifier: String) -> String {
        identifier.addingPercentEncoding(withAllowedCharacters: segmentCharacters) ?? identifier
    }

    private static let segmentCharacters = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/:"))

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.canonicalBytes)))
    }

    static func bundle(_ bundle: Records.Bundle, name: String) -> Response {
        var response = json(bundle.json)
        response.headers[.contentDisposition] = attachment(name + ".bundle.json")
        return response
    }

    /// `attachment; filename="…"` for a name built from identifiers, whose '/' and ':' are not
    /// for file names (they would name a directory, or a drive or stream on Windows), and whose
    /// other characters need no quoting (identifiers are letters, digits and `._:/-`).
    static func attachment(_ name: String) -> String {
        "attachment; filename=\"" + String(name.map { $0 == "/" || $0 == ":" ? "_" : $0 }) + "\""
    }
}
