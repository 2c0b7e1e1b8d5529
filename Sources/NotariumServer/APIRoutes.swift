import Access
import Appliance
import CanonicalJSON
import CertificateAuthority
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore
import Notary
import OpenSSLKit
import Records
import TimeStamping

/// What the `/v1` endpoints work with.
public struct APIServices: Sendable {
    public let registry: ClientRegistry
    public let idempotency: IdempotencyStore
    public let notary: Notary
    public let stamper: LedgerTimeStamper
    /// Cuts a checkpoint for a bundle when none includes its entries yet.
    public let checkpointSigner: NoteSigner?
    public let settings: APISettings

    public init(registry: ClientRegistry, idempotency: IdempotencyStore, notary: Notary, stamper: LedgerTimeStamper, checkpointSigner: NoteSigner?, settings: APISettings) {
        self.registry = registry
        self.idempotency = idempotency
        self.notary = notary
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

    /// Body limits per endpoint: a deposit carries digests and one CMS signature (or, when the
    /// caller asks us to hash it, the document); a CSR is small.
    static let depositLimit = 16 * 1024 * 1024
    static let clientLimit = 64 * 1024
    static let revocationLimit = 4 * 1024

    func register(on router: Router<NotariumRequestContext>) {
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
            return try await appendOnce(request, client: client, body: body) { writeContext in
                try await api.notary.depositEvidence(
                    caseID: deposit.caseID, document: deposit.document, submitter: deposit.submitter, description: deposit.description, context: writeContext)
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
            let bundle = try Self.notary { () throws(NotaryError) in
                try api.notary.evidenceBundle(seq: seq, stamper: api.stamper, checkpointSigner: api.checkpointSigner, document: nil)
            }
            return Self.bundle(bundle, name: "evidence-\(seq)")
        }
        router.get("/v1/services/:id/bundle") { request, context -> Response in
            _ = try await authenticate(request, context, for: .exportBundles)
            let id = try Self.identifier(context.parameters.get("id"), name: "service id")
            let bundle = try Self.notary { () throws(NotaryError) in
                try api.notary.serviceBundle(serviceID: id, stamper: api.stamper, checkpointSigner: api.checkpointSigner, documents: [])
            }
            return Self.bundle(bundle, name: "service-\(id)")
        }
        router.get("/v1/awards/:id/bundle") { request, context -> Response in
            _ = try await authenticate(request, context, for: .exportBundles)
            let id = try Self.identifier(context.parameters.get("id"), name: "award id")
            let bundle = try Self.notary { () throws(NotaryError) in
                try api.notary.awardBundle(awardID: id, stamper: api.stamper, checkpointSigner: api.checkpointSigner, documents: [])
            }
            return Self.bundle(bundle, name: "award-\(id)")
        }
        router.get("/v1/trust") { request, context -> Response in
            _ = try await authenticate(request, context, for: .exportBundles)
            let trust = try Self.notary { () throws(NotaryError) in try api.notary.trustFile() }
            return Self.json(trust.json)
        }
        router.post("/v1/clients") { request, context -> Response in
            let admin = try await authenticate(request, context, for: .manageClients)
            let body = try await JSONBody.read(request, limit: Self.clientLimit, timeoutSeconds: api.settings.bodyTimeoutSeconds)
            let registration = try ClientRegistration(body.value)
            return try await registerOnce(request, client: admin, body: body, registration)
        }
        router.get("/v1/clients") { request, context -> Response in
            _ = try await authenticate(request, context, for: .manageClients)
            let clients = try Self.access { () throws(AccessError) in try api.registry.accessList.all() }
            return Self.json(.object(["clients": .array(clients.map(\.json))]))
        }
        router.post("/v1/certificates") { request, context -> Response in
            let admin = try await authenticate(request, context, for: .manageClients)
            let body = try await JSONBody.read(request, limit: Self.clientLimit, timeoutSeconds: api.settings.bodyTimeoutSeconds)
            return try await issueSigner(body.value, by: admin)
        }
        router.post("/v1/certificates/:serial/revocation") { request, context -> Response in
            let admin = try await authenticate(request, context, for: .manageClients)
            let serialText = context.parameters.get("serial") ?? ""
            guard let serial = OpenSSLKit.bytes(fromHex: serialText), !serial.isEmpty else {
                throw ProblemDetails(status: .badRequest, type: "invalid-parameter", detail: "the serial is hexadecimal, as `notarium ca list` shows it, not \"\(serialText.prefix(80))\"")
            }
            let body = try await JSONBody.read(request, limit: Self.revocationLimit, timeoutSeconds: api.settings.bodyTimeoutSeconds)
            return try await revoke(serial: serial, body: body.value, by: admin)
        }
    }

    // MARK: - Identity

    /// The client of this request, allowed `action` (nil: any registered client).
    func authenticate(_ request: Request, _ context: NotariumRequestContext, for action: Action?) async throws -> Client {
        let certificate = await context.peerCertificate()
        do {
            let client = try api.registry.authenticate(certificate: certificate)
            if let action { try client.require(action) }
            return client
        } catch {
            throw ProblemDetails(access: error)
        }
    }

    // MARK: - Writes, once

    /// Runs a ledger write at most once per `Idempotency-Key`: a retry with the same key and
    /// body gets the first answer again (with `Idempotent-Replayed: true`), and the key's
    /// record is written in the entry's own batch.
    func appendOnce(_ request: Request, client: Client, body: JSONBody, _ write: (WriteContext) async throws -> AppendReceipt) async throws -> Response {
        guard let key = try Self.idempotencyKey(request) else {
            return try receiptResponse(try await write(WriteContext(requester: client.requester)), replayed: false)
        }
        switch try reserve(key, request: request, client: client, body: body) {
        case .replay(.entry(let seq)):
            let entry = try Self.ledger { () throws(LedgerError) in try api.ledger.entry(seq) }
            return try receiptResponse(AppendReceipt(seq: entry.seq, leafHash: entry.leafHash, time: entry.time), replayed: true)
        case .replay(.certificate):
            throw Self.keyReused
        case .new(let reservation):
            defer { api.idempotency.release(reservation) }
            let store = api.idempotency
            let context = WriteContext(requester: client.requester, alongside: { seq in store.record(reservation, answer: .entry(seq: seq)) })
            return try receiptResponse(try await write(context), replayed: false)
        }
    }

    func registerOnce(_ request: Request, client: Client, body: JSONBody, _ registration: ClientRegistration) async throws -> Response {
        guard let key = try Self.idempotencyKey(request) else {
            return try clientResponse(try await register(registration, by: client, reservation: nil), replayed: false)
        }
        switch try reserve(key, request: request, client: client, body: body) {
        case .replay(.certificate(let serialHex)):
            let stored = try Self.access { () throws(AccessError) in
                guard let serial = OpenSSLKit.bytes(fromHex: serialHex), let record = try? api.registry.authority.store.record(serial: serial),
                      let client = try api.registry.accessList.client(certificateSHA256: record.certificate.sha256Fingerprint)
                else { throw AccessError(.storage, "the client registered under this Idempotency-Key is no longer on record") }
                return (client, record.certificate)
            }
            return try clientResponse(stored, replayed: true)
        case .replay(.entry):
            throw Self.keyReused
        case .new(let reservation):
            defer { api.idempotency.release(reservation) }
            return try clientResponse(try await register(registration, by: client, reservation: reservation), replayed: false)
        }
    }

    enum Reserved {
        case new(IdempotencyStore.Reservation)
        case replay(IdempotencyStore.Answer)
    }

    func reserve(_ key: String, request: Request, client: Client, body: JSONBody) throws -> Reserved {
        let lookup = try Self.access { () throws(AccessError) in
            try api.idempotency.lookup(client: client.record.certificateSHA256, key: key, method: request.method.rawValue, path: request.uri.path, body: body.bytes)
        }
        switch lookup {
        case .new(let reservation): return .new(reservation)
        case .replay(let answer): return .replay(answer)
        case .mismatch: throw Self.keyReused
        case .inProgress:
            throw ProblemDetails(status: .conflict, type: "idempotency-key-in-progress", detail: "a request with this Idempotency-Key is being handled; retry after it has been answered")
        }
    }

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

    func receiptResponse(_ receipt: AppendReceipt, replayed: Bool) throws -> Response {
        let value: JSONValue = .object([
            "seq": .integer(Int64(receipt.seq)), "leafHash": .string(Base64.encode(receipt.leafHash)), "time": .string(receipt.time),
            "entry": .string("/v1/entries/\(receipt.seq)"), "bundle": .string("/v1/entries/\(receipt.seq)/bundle"),
        ])
        var response = Self.json(value, status: .created)
        response.headers[.location] = "/v1/entries/\(receipt.seq)"
        if replayed, let name = HTTPField.Name("Idempotent-Replayed") { response.headers[name] = "true" }
        return response
    }

    // MARK: - Clients

    func register(_ registration: ClientRegistration, by admin: Client, reservation: IdempotencyStore.Reservation?) async throws -> (ClientRecord, Certificate) {
        let store = api.idempotency
        do {
            let result = try await api.registry.register(
                request: registration.csr, name: registration.name, role: registration.role, requestedBy: admin.requester,
                alongside: { certificate in reservation.map { store.record($0, answer: .certificate(serialHex: certificate.serialHex)) } ?? .init() })
            return (result.client, result.certificate)
        } catch {
            throw ProblemDetails(access: error)
        }
    }

    func clientResponse(_ registered: (ClientRecord, Certificate), replayed: Bool) throws -> Response {
        let (client, certificate) = registered
        guard case .object(var members) = client.json else { fatalError("a client record is an object") }
        members["certificate"] = .string(certificate.pem)
        members["chain"] = .string(api.registry.authority.hierarchy.chainPEM)
        var response = Self.json(.object(members), status: .created)
        if replayed, let name = HTTPField.Name("Idempotent-Replayed") { response.headers[name] = "true" }
        return response
    }

    /// Issues a `signer` certificate (a party, arbitrator or institution that signs evidence and
    /// awards) from a CSR. API clients are registered with `/v1/clients`, which records a role.
    func issueSigner(_ body: JSONValue, by admin: Client) async throws -> Response {
        let csr: [UInt8]
        do throws(RecordError) {
            let members = try Field.object(body, at: "body", required: ["profile", "csr"])
            let profile = try Field.string(members["profile"], at: "body.profile", maximumLength: 32)
            guard profile == CertificateProfile.signer.rawValue else {
                throw RecordError(.schema, "body.profile \"\(profile)\" cannot be issued here: only signer; API clients are registered with POST /v1/clients")
            }
            csr = Array(try Field.string(members["csr"], at: "body.csr", maximumLength: 16 * 1024).utf8)
        } catch {
            throw ProblemDetails(record: error)
        }
        let issued: IssuedCertificate
        do {
            issued = try await api.registry.authority.issue(request: csr, profile: .signer, extraBody: ["requestedBy": admin.requester.json])
        } catch {
            guard error.isClientError else { throw error }
            throw ProblemDetails(status: .unprocessableContent, type: error.code.rawValue, detail: error.reason)
        }
        guard case .object(var members) = issued.record.summary else { fatalError("a certificate summary is an object") }
        members["certificate"] = .string(issued.certificate.pem)
        members["chain"] = .string(api.registry.authority.hierarchy.chainPEM)
        return Self.json(.object(members), status: .created)
    }

    /// Revokes any certificate this CA issued; a client's is refused from its next request.
    /// Revoking again with the same reason answers as the first time did (a retry is harmless);
    /// with another reason it is a conflict.
    func revoke(serial: [UInt8], body: JSONValue, by admin: Client) async throws -> Response {
        let reasonName: String
        do {
            let members = try Field.object(body, at: "body", required: ["reason"])
            reasonName = try Field.string(members["reason"], at: "body.reason", maximumLength: 40)
        } catch {
            throw ProblemDetails(status: .unprocessableContent, type: "schema-violation", detail: error.reason)
        }
        guard let reason = RevocationReason(name: reasonName), CertificateAuthority.revocationReasons.contains(reason) else {
            throw ProblemDetails(
                status: .unprocessableContent, type: "schema-violation",
                detail: "body.reason \"\(reasonName.prefix(40))\" is not one of \(CertificateAuthority.revocationReasons.map(\.name).joined(separator: ", "))")
        }
        let authority = api.registry.authority
        let record: CertificateRecord
        do {
            record = try await authority.revoke(serial: serial, reason: reason).record
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
            throw ProblemDetails(status: .conflict, type: "already-revoked", detail: error.reason)
        case .unknownSerial:
            throw ProblemDetails(status: .notFound, type: "not-found", detail: error.reason)
        default:
            guard error.isClientError else { throw error }
            throw ProblemDetails(status: .unprocessableContent, type: error.code.rawValue, detail: error.reason)
        }
    }

    // MARK: - Reading

    /// An entry with what proves it: its own token, the latest checkpoint (signed note) and the
    /// inclusion proof into it; the last two are null until a checkpoint includes the entry.
    func entryWithProofs(_ seq: UInt64) throws -> JSONValue {
        let entry = try Self.ledger { () throws(LedgerError) in try api.ledger.entry(seq) }
        var members: [String: JSONValue] = [
            "seq": .integer(Int64(seq)), "type": .string(entry.type.rawValue), "entry": .string(Base64.encode(entry.bytes)),
            "leafHash": .string(Base64.encode(entry.leafHash)), "checkpoint": .null, "inclusionProof": .null, "timestamp": .null,
        ]
        if entry.type.hasOwnTimestamp, let token = try? api.stamper.entryToken(seq) {
            members["timestamp"] = .string(Base64.encode(token))
        }
        if let checkpoint = try Self.ledger({ () throws(LedgerError) in try api.ledger.latestCheckpoint() }), checkpoint.size > seq {
            let proof = try Self.ledger { () throws(LedgerError) in try api.ledger.inclusionProof(index: seq, size: checkpoint.size) }
            members["checkpoint"] = .string(checkpoint.note)
            members["inclusionProof"] = .object(["size": .integer(Int64(checkpoint.size)), "hashes": .array(proof.hashes.map { .string(Base64.encode($0)) })])
        }
        return .object(members)
    }

    // MARK: - Helpers

    static func identifier(_ text: String?, name: String) throws -> String {
        guard let text, Field.isIdentifier(text) else {
            throw ProblemDetails(status: .badRequest, type: "invalid-parameter", detail: "the \(name) is 1 to 128 letters, digits, '.', '_', '-' or ':', not \"\((text ?? "").prefix(80))\"")
        }
        return text
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.canonicalBytes)))
    }

    static func bundle(_ bundle: Records.Bundle, name: String) -> Response {
        var response = json(bundle.json)
        response.headers[.contentDisposition] = "attachment; filename=\"\(name).bundle.json\""
        return response
    }

    /// Runs a notary call, turning its refusals into problems (docs/api.md §5).
    static func notary<T>(_ body: () throws(NotaryError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw ProblemDetails(notary: error)
        }
    }

    static func ledger<T>(_ body: () throws(LedgerError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw LedgerRoutes.problem(error)
        }
    }

    static func access<T>(_ body: () throws(AccessError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw ProblemDetails(access: error)
        }
    }
}

// MARK: - Request bodies

/// `POST /v1/evidence` (docs/api.md §3.1).
struct EvidenceDeposit {
    let caseID: String
    let document: DocumentDescription
    let submitter: RecordedSignature
    let description: String?

    /// The largest document the appliance hashes for a caller (`content`), then forgets.
    static let maximumContentBytes = 12 * 1024 * 1024

    init(_ body: JSONValue) throws {
        do throws(RecordError) {
            let members = try Field.object(body, at: "body", required: ["case", "submitter"], optional: ["document", "content", "mediaType", "description"])
            caseID = try Field.identifier(members["case"], at: "body.case")
            switch (members["document"], members["content"]) {
            case (let described?, nil):
                guard members["mediaType"] == nil else { throw RecordError(.schema, "body.mediaType goes with body.content; a document description carries its own") }
                document = try DocumentDescription.parse(described, at: "body.document")
            case (nil, let content?):
                // Hashed here and not kept: the appliance stores digests only.
                let bytes = try Field.base64(content, at: "body.content", maximumBytes: Self.maximumContentBytes)
                let mediaType = try Field.mediaType(members["mediaType"], at: "body.mediaType")
                document = DocumentDescription(describing: bytes, mediaType: mediaType)
            default:
                throw RecordError(.schema, "give the document either described (body.document) or as bytes to hash (body.content), not both or neither")
            }
            let signer = try Field.object(members["submitter"], at: "body.submitter", required: ["certificate", "signature"])
            submitter = try RecordedSignature.parse(signer, at: "body.submitter")
            description = try Field.optionalString(members["description"], at: "body.description", maximumLength: EvidenceRecord.maximumDescriptionLength)
        } catch {
            throw ProblemDetails(record: error)
        }
    }
}

/// `POST /v1/clients` (docs/api.md §3.5).
struct ClientRegistration {
    let name: String
    let role: Role
    /// PKCS#10, PEM text (or DER in base64 under `csrDer`).
    let csr: [UInt8]

    init(_ body: JSONValue) throws {
        do throws(RecordError) {
            let members = try Field.object(body, at: "body", required: ["name", "role"], optional: ["csr", "csrDer"])
            name = try Field.string(members["name"], at: "body.name", maximumLength: 64)
            let roleName = try Field.string(members["role"], at: "body.role", maximumLength: 16)
            guard let role = Role(rawValue: roleName) else {
                throw RecordError(.schema, "body.role \"\(roleName)\" is not one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.role = role
            switch (members["csr"], members["csrDer"]) {
            case (let pem?, nil): csr = Array(try Field.string(pem, at: "body.csr", maximumLength: 16 * 1024).utf8)
            case (nil, let der?): csr = try Field.base64(der, at: "body.csrDer", maximumBytes: 16 * 1024)
            default: throw RecordError(.schema, "give the certificate request as body.csr (PEM) or body.csrDer (base64 DER), one of them")
            }
        } catch {
            throw ProblemDetails(record: error)
        }
    }
}
