// notarium-vectors: writes Vectors/bundles/ — valid bundles of each kind and broken ones, each
// layer broken once — with manifest.json (file, expected verdict, failing check) and the trust
// file they verify against. Run: `swift run notarium-vectors Vectors/bundles`.
//
// Valid records go through the notary as in production. A broken record the notary would
// refuse (an altered signature, a revoked or expired signer, a handover on a link-only notice,
// an award short of a signature) is appended to the ledger directly, so that everything else
// about it (its token, its inclusion proof, the checkpoint) is genuine and only the one layer
// is broken. Breaks of the bundle file itself (a document, a proof, a token, revocation data)
// are made by editing a valid bundle's JSON.

import Appliance
import CanonicalJSON
import CertificateAuthority
import Foundation
import Ledger
import Logging
import Notary
import OpenSSLKit
import Records
import RocksDBStore
import Sodium
import TimeStamping

struct GeneratorFailure: Error, CustomStringConvertible {
    let description: String
    init(_ text: String) { description = text }
}

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: notarium-vectors OUTPUT_DIRECTORY\n".utf8))
    exit(2)
}
let output = CommandLine.arguments[1]
let work = NSTemporaryDirectory() + "notarium-vectors-\(getpid())"
try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }

var logger = Logger(label: "notarium-vectors")
logger.logLevel = .warning
let origin = "vectors.notarium.test/ledger"
let settings = try await ApplianceConfiguration.load(flags: [.data: work + "/data", .ledgerOrigin: origin], configurationFile: nil, environment: [:])
let directory = try DataDirectory.openOrInitialize(at: settings.dataDirectory, sealKeyFile: settings.sealKeyFile, logger: logger)
let (ledger, checkpointSigner) = try directory.openLedger(configuration: settings, withSigner: true, logger: logger)
let ca = try await directory.createCA(configuration: settings, ledger: ledger, logger: logger)
let tsa = try await directory.openTSA(configuration: settings, authority: ca, create: true, logger: logger)
let stamper = try LedgerTimeStamper(ledger: ledger, authority: tsa, logger: logger)
let notary = try Notary(ledger: ledger, database: directory.database)

struct Party {
    let key: PrivateKey
    let certificate: Certificate
}

func party(_ name: String, authority: CertificateAuthority = ca) async throws -> Party {
    let key = try PrivateKey.generate(.ecdsaP256)
    let subject = DistinguishedName(attributes: [.init(type: "CN", value: name), .init(type: "O", value: "Vector Parties"), .init(type: "C", value: "DE")])
    let request = try CertificateSigningRequest.create(key: key, subject: subject)
    return Party(key: key, certificate: try await authority.issue(request: request.derBytes, profile: .signer).certificate)
}

func signature(_ party: Party, over document: [UInt8]) throws -> RecordedSignature {
    return RecordedSignature(certificate: party.certificate.derBytes, signature: try CMSSignature.signDetached(document, certificate: party.certificate, key: party.key))
}

func describe(_ document: [UInt8]) -> DocumentDescription { DocumentDescription(describing: document, mediaType: "application/pdf") }

/// Appends without the notary's checks, time-stamps the entry like every other.
func appendUnchecked(_ type: EntryType, _ body: JSONValue, keyedBySeq: (@Sendable (UInt64) -> WriteBatch)? = nil) async throws -> UInt64 {
    let receipt = try await ledger.append(type: type, body: body, keyedBySeq: keyedBySeq)
    _ = try stamper.entryToken(receipt.seq)
    return receipt.seq
}

struct Vector {
    let file: String
    let kind: String
    let expect: String
    /// The check that decides the verdict (nil for valid bundles), and its sub-indication.
    let check: String?
    let subIndication: String?
    let what: String
}
var vectors: [Vector] = []

@MainActor func write(_ name: String, _ bundle: JSONValue, expect: String, check: String?, sub: String?, _ what: String) throws {
    let bytes = bundle.canonicalBytes
    guard FileManager.default.createFile(atPath: "\(output)/\(name).json", contents: Data(bytes)) else { throw GeneratorFailure("cannot write \(name)") }
    vectors.append(Vector(file: name + ".json", kind: bundle["kind"]?.stringValue ?? "", expect: expect, check: check, subIndication: sub, what: what))
}

/// A bundle's JSON with one change.
func edited(_ bundle: Records.Bundle, _ change: (inout [String: JSONValue]) throws -> Void) rethrows -> JSONValue {
    var members = bundle.json.objectValue!
    try change(&members)
    return .object(members)
}

func editedRecord(_ members: inout [String: JSONValue], _ index: Int, _ change: (inout [String: JSONValue]) -> Void) {
    var records = members["records"]!.arrayValue!
    var record = records[index].objectValue!
    change(&record)
    records[index] = .object(record)
    members["records"] = .array(records)
}

// MARK: - Evidence

let alice = try await party("Alice Claimant")
let exhibit = Array("Exhibit C-1: delivery note of 2026-03-02, signed by the carrier.\n".utf8)
let deposited = try await notary.depositEvidence(caseID: "ARB-2026-0001", document: describe(exhibit), submitter: signature(alice, over: exhibit), description: "Exhibit C-1")
_ = try stamper.entryToken(deposited.seq)

// An altered signature: the last byte of the CMS (the end of the signature value) flipped.
var altered = try signature(alice, over: exhibit)
altered = RecordedSignature(certificate: altered.certificate, signature: altered.signature.dropLast() + [altered.signature.last! ^ 0x01])
let alteredSeq = try await appendUnchecked(.evidence, EvidenceRecord(caseID: "ARB-2026-0001", document: describe(exhibit), submitter: altered, description: nil).body)

// Revoked before signing: revoked first, then made to sign.
let carol = try await party("Carol Revoked")
_ = try await ca.revoke(serial: carol.certificate.serialNumber, reason: .keyCompromise)
let revokedSeq = try await appendUnchecked(.evidence, EvidenceRecord(caseID: "ARB-2026-0001", document: describe(exhibit), submitter: try signature(carol, over: exhibit), description: nil).body)

// Expired at signing: a certificate issued 800 days ago (signer validity 730 days), used now.
let pastCA = try CertificateAuthority.open(
    database: directory.database, ledger: ledger, settings: settings.ca, keysDirectory: directory.keysPath,
    sealing: .keyFile(path: settings.sealKeyFile), logger: logger, clock: { LedgerTime.nowMilliseconds() - 800 * 86_400_000 })
let dave = try await party("Dave Expired", authority: pastCA)
let expiredSeq = try await appendUnchecked(.evidence, EvidenceRecord(caseID: "ARB-2026-0001", document: describe(exhibit), submitter: try signature(dave, over: exhibit), description: nil).body)

let evidence = try notary.evidenceBundle(seq: deposited.seq, stamper: stamper, checkpointSigner: checkpointSigner, document: exhibit)
try write("evidence-valid", evidence.json, expect: "PASSED", check: nil, sub: nil, "an evidence deposit with its document embedded")
try write("evidence-document-changed", edited(evidence) { $0["documents"] = .array([.string(Base64.encode(Array("Exhibit C-1: delivery note of 2026-03-03, signed by the carrier.\n".utf8)))]) },
          expect: "FAILED", check: "document.digest", sub: "HASH_FAILURE", "the embedded document is not the one deposited (one date changed)")
let alteredBundle = try notary.evidenceBundle(seq: alteredSeq, stamper: stamper, checkpointSigner: checkpointSigner, document: nil)
try write("evidence-signature-altered", alteredBundle.json, expect: "FAILED", check: "signature.cms", sub: "SIG_CRYPTO_FAILURE", "the submitter's CMS signature value has one bit changed")
try write("evidence-revoked-before-signing", notary.evidenceBundle(seq: revokedSeq, stamper: stamper, checkpointSigner: checkpointSigner, document: nil).json,
          expect: "FAILED", check: "signature.certificate", sub: "REVOKED", "the signer's certificate was revoked (key compromise) before the signature was time-stamped")
try write("evidence-expired-at-signing", notary.evidenceBundle(seq: expiredSeq, stamper: stamper, checkpointSigner: checkpointSigner, document: nil).json,
          expect: "FAILED", check: "signature.certificate", sub: "EXPIRED", "the signer's certificate had expired when it signed (signingTime after notAfter)")
try write("evidence-token-other-hash", edited(evidence) { members in
    editedRecord(&members, 0) { $0["timestamp"] = .string(Base64.encode(alteredBundle.records[0].timestamp!)) }
}, expect: "FAILED", check: "timestamp.token", sub: "SIG_CRYPTO_FAILURE", "the entry's token is a genuine token over another entry's leaf hash")

// A token signed with a certificate that lacks the timeStamping EKU (Alice's signer certificate).
let rogue = try TimeStampSigner(certificate: alice.certificate, key: alice.key, policies: [tsa.settings.policyOID], includeName: true, accuracyMilliseconds: 1000)
let leafHash = Merkle.leafHash(evidence.records[0].entry)
let rogueToken = try rogue.token(for: TimeStampRequest(imprint: leafHash, hash: .sha256, certificateRequested: true), policy: tsa.settings.policyOID, serial: [0x01], genTime: LedgerTime.nowMilliseconds() / 1000 * 1000)
try write("evidence-token-no-eku", edited(evidence) { members in
    editedRecord(&members, 0) { $0["timestamp"] = .string(Base64.encode(rogueToken)) }
}, expect: "FAILED", check: "timestamp.token", sub: "SIG_CRYPTO_FAILURE", "the entry's token is signed with a certificate without the timeStamping extended key usage")
try write("evidence-wrong-inclusion-proof", edited(evidence) { members in
    editedRecord(&members, 0) { record in
        var proof = record["inclusionProof"]!.arrayValue!
        var first = Base64.decode(proof[0].stringValue!)!
        first[0] ^= 0x80
        proof[0] = .string(Base64.encode(first))
        record["inclusionProof"] = .array(proof)
    }
}, expect: "FAILED", check: "ledger.inclusion", sub: "HASH_FAILURE", "one hash of the inclusion proof has one bit changed")
// The checkpoint's body signed again by a key of the same name that nobody trusts.
let stranger = try NoteSigner(name: origin, key: Ed25519SigningKey(seed: Ed25519SigningKey.generateSeed()))
let checkpointBody = String(evidence.checkpoint[..<evidence.checkpoint.range(of: "\n\n")!.lowerBound]) + "\n"
try write("evidence-unknown-checkpoint-key", edited(evidence) { members in
    var ledgerMembers = members["ledger"]!.objectValue!
    ledgerMembers["checkpoint"] = .string(stranger.sign(checkpointBody))
    members["ledger"] = .object(ledgerMembers)
}, expect: "FAILED", check: "ledger.checkpoint-signature", sub: "SIG_CRYPTO_FAILURE", "the checkpoint is signed by a key of the ledger's name that the trust file does not hold")
try write("evidence-revocation-removed", edited(evidence) { $0["crls"] = .array([]) },
          expect: "INDETERMINATE", check: "signature.certificate", sub: "TRY_LATER", "the CRLs are removed: nothing shows the signer (or the TSA) unrevoked")

// MARK: - Service

let rules = ServiceRules(
    timeZone: "Asia/Shanghai", calendar: .init(id: "CN-national", version: "2026.1", weekend: [6, 7], holidays: ["2026-12-31", "2027-01-01"]),
    confirmedChannels: [.portal], readReportPresumesService: true, acceptanceWindowDays: 7, registrationWindowDays: nil, registrationChannels: [])
let notice = Array("Notice of arbitration, case ARB-2026-0001.\n".utf8)
let parts = [ServicePart(name: "notice-of-arbitration", document: describe(notice))]
let recipients = [Notary.Recipient(channel: .email, address: "respondent@example.org"), Notary.Recipient(channel: .portal, address: "portal-account-4711")]
func stamp(_ receipt: AppendReceipt) throws { _ = try stamper.entryToken(receipt.seq) }

try stamp(try await notary.openService(serviceID: "SVC-2026-0001", caseID: "ARB-2026-0001", parts: parts, recipients: recipients, rules: rules))
try stamp(try await notary.recordServiceEvent(serviceID: "SVC-2026-0001", .init(event: .consignmentNotification, channel: .email, notice: .linkOnly, provider: ProviderEvidence(kind: .smtpReply, report: "250 2.0.0 Ok: queued as 4FQ1", id: "4FQ1"))))
try stamp(try await notary.recordServiceEvent(serviceID: "SVC-2026-0001", .init(event: .contentConsignment, channel: .portal, provider: ProviderEvidence(kind: .portalLog, report: "consignment stored in mailbox of account", id: "c-77"))))
try stamp(try await notary.recordServiceEvent(serviceID: "SVC-2026-0001", .init(event: .contentAccessTracking, channel: .portal, identification: Identification(method: .eidSubstantial, session: "sess-9"), provider: ProviderEvidence(kind: .portalLog, report: "document opened", id: "o-12"))))
try stamp(try await notary.recordServiceEvent(serviceID: "SVC-2026-0001", .init(event: .serviceDeemedEffective, channel: .portal)))
let service = try notary.serviceBundle(serviceID: "SVC-2026-0001", stamper: stamper, checkpointSigner: checkpointSigner, documents: [notice])
try write("service-valid", service.json, expect: "PASSED", check: nil, sub: nil, "a service: submission, link-only e-mail notice, portal consignment (a confirmed system: effective), authenticated opening, ServiceDeemedEffective")
try write("service-events-out-of-order", edited(service) { members in
    var records = members["records"]!.arrayValue!
    records.swapAt(1, 2)
    members["records"] = .array(records)
}, expect: "FAILED", check: "service.chain", sub: "FORMAT_FAILURE", "the second and third events are swapped")
try write("service-event-missing", edited(service) { members in
    var records = members["records"]!.arrayValue!
    records.remove(at: 2)
    members["records"] = .array(records)
}, expect: "FAILED", check: "service.chain", sub: "FORMAT_FAILURE", "the portal consignment is left out")

// A handover claimed on the SMTP reply to a link-only notice.
try stamp(try await notary.openService(serviceID: "SVC-2026-0002", caseID: "ARB-2026-0001", parts: parts, recipients: recipients, rules: rules))
let linkNotice = try await notary.recordServiceEvent(serviceID: "SVC-2026-0002", .init(event: .consignmentNotification, channel: .email, notice: .linkOnly, provider: ProviderEvidence(kind: .smtpReply, report: "250 2.0.0 Ok: queued as 7KD2", id: "7KD2")))
try stamp(linkNotice)
let opening = try notary.serviceHistory("SVC-2026-0002")[0].record
let handover = ServiceRecord(
    event: .contentHandover, serviceID: "SVC-2026-0002", caseID: "ARB-2026-0001", eventTime: LedgerTime.nowMilliseconds(), parts: parts,
    recipient: opening.recipients.first { $0.channel == .email }, identification: Identification(method: .oneTimeCode, session: nil),
    provider: ProviderEvidence(kind: .smtpReply, report: "250 2.0.0 Ok: queued as 7KD2", id: "7KD2"), previous: linkNotice.leafHash)
let index = notary.index
_ = try await appendUnchecked(.service, handover.body, keyedBySeq: { seq in index.serviceEvent("SVC-2026-0002", seq: seq) })
try write("service-handover-after-link-only", notary.serviceBundle(serviceID: "SVC-2026-0002", stamper: stamper, checkpointSigner: checkpointSigner, documents: []).json,
          expect: "FAILED", check: "service.delivery", sub: "FORMAT_FAILURE", "ContentHandover claimed on the SMTP reply to a notice that carried only a title and a link")

// MARK: - Award

let presiding = try await party("Arbitrator One (presiding)")
let coArbitrator = try await party("Arbitrator Two")
let thirdArbitrator = try await party("Arbitrator Three")
let seal = try await party("Vector Arbitration Institution")
let awardEnglish = Array("Final award, case ARB-2026-0001. The respondent shall pay EUR 10,000.\n".utf8)
let awardChinese = Array("仲裁裁决书 ARB-2026-0001：被申请人应支付一万欧元。\n".utf8)
let versions = [AwardVersion(language: "en", authentic: true, document: describe(awardEnglish)), AwardVersion(language: "zh-Hans", authentic: false, document: describe(awardChinese))]
func awardSignature(_ role: AwardRole, _ signer: Party) throws -> AwardSignature {
    AwardSignature(role: role, language: "en", signed: try signature(signer, over: awardEnglish))
}
let fullAward = AwardRecord(
    awardID: "AWD-2026-0001", caseID: "ARB-2026-0001", issued: "2026-11-20", seat: "Beijing, China", arbitrators: 3, versions: versions,
    signatures: [try awardSignature(.presidingArbitrator, presiding), try awardSignature(.arbitrator, coArbitrator), try awardSignature(.arbitrator, thirdArbitrator), try awardSignature(.institutionSeal, seal)])
try stamp(try await notary.registerAward(fullAward))
try write("award-valid", notary.awardBundle(awardID: "AWD-2026-0001", stamper: stamper, checkpointSigner: checkpointSigner, documents: [awardEnglish]).json,
          expect: "PASSED", check: nil, sub: nil, "an award of a three-member tribunal: the English version (authentic) signed by all three and sealed, a Chinese translation")
let shortAward = AwardRecord(
    awardID: "AWD-2026-0002", caseID: "ARB-2026-0001", issued: "2026-11-20", seat: "Beijing, China", arbitrators: 3, versions: versions,
    signatures: [try awardSignature(.presidingArbitrator, presiding), try awardSignature(.arbitrator, coArbitrator), try awardSignature(.institutionSeal, seal)])
_ = try await appendUnchecked(.award, shortAward.body, keyedBySeq: { seq in index.award("AWD-2026-0002", seq: seq) })
try write("award-missing-signature", notary.awardBundle(awardID: "AWD-2026-0002", stamper: stamper, checkpointSigner: checkpointSigner, documents: []).json,
          expect: "FAILED", check: "award.signers", sub: "FORMAT_FAILURE", "a three-member tribunal's award signed by two arbitrators and the seal")

// MARK: - Trust file and manifest

guard FileManager.default.createFile(atPath: "\(output)/trust.json", contents: Data(try notary.trustFile().json.canonicalBytes)) else { throw GeneratorFailure("cannot write trust.json") }
let manifest = JSONValue.object([
    "trust": .string("trust.json"),
    "vectors": .array(vectors.map { vector in
        var members: [String: JSONValue] = ["file": .string(vector.file), "kind": .string(vector.kind), "expect": .string(vector.expect), "what": .string(vector.what)]
        if let check = vector.check { members["check"] = .string(check) }
        if let sub = vector.subIndication { members["subIndication"] = .string(sub) }
        return .object(members)
    }),
])
guard FileManager.default.createFile(atPath: "\(output)/manifest.json", contents: Data(manifest.canonicalBytes + [0x0A])) else { throw GeneratorFailure("cannot write manifest.json") }
stamper.stop()
ledger.close()
directory.close()
print("wrote \(vectors.count) bundles, trust.json and manifest.json to \(output)")
