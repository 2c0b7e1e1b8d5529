import CanonicalJSON
import Ledger
import OpenSSLKit
import Records

/// `notarium verify`: checks a bundle offline against a trust file, naming every check.
///
/// Nothing here opens a file or a connection: the caller reads the bundle, the trust file and
/// the document, so the verifier itself cannot reach the network. The checks and their order
/// are in docs/verification.md; a second verifier written from that document and the schemas
/// must reach the same verdict.
public struct Verifier {
    let roots: [Certificate]
    let ledgerKeys: [NoteVerifier]

    public init(trust: TrustFile) throws(RecordError) {
        var roots: [Certificate] = []
        for (index, der) in trust.roots.enumerated() {
            do {
                roots.append(try Certificate(derEncoded: der))
            } catch {
                throw RecordError(.inconsistent, "roots[\(index)] of the trust file is not a DER certificate: \(error.reason)")
            }
        }
        var keys: [NoteVerifier] = []
        for (index, text) in trust.ledgerKeys.enumerated() {
            do {
                keys.append(try NoteVerifier(parsing: text))
            } catch {
                throw RecordError(.inconsistent, "ledgerKeys[\(index)] of the trust file is not a note verifier key: \(error.reason)")
            }
        }
        self.roots = roots
        self.ledgerKeys = keys
    }

    /// A document to compare with the recorded digests: given on the command line (digests
    /// computed by the caller while streaming the file) or embedded in the bundle.
    public struct DocumentDigests: Sendable {
        public let digests: [NamedDigest]
        public let origin: String

        public init(digests: [NamedDigest], origin: String) {
            self.digests = digests
            self.origin = origin
        }
    }

    public func verify(bundle bytes: [UInt8], document: DocumentDigests? = nil) -> VerificationReport {
        var run = VerificationRun(roots: roots, ledgerKeys: ledgerKeys)
        run.verify(bytes, document: document)
        return run.report
    }
}

/// One verification: the report it builds, and the material gathered along the way.
struct VerificationRun {
    let roots: [Certificate]
    let ledgerKeys: [NoteVerifier]
    var report = VerificationReport()
    var untrusted: [Certificate] = []
    var crls: [CertificateRevocationList] = []

    init(roots: [Certificate], ledgerKeys: [NoteVerifier]) {
        self.roots = roots
        self.ledgerKeys = ledgerKeys
    }

    mutating func add(_ result: CheckResult) { report.checks.append(result) }

    mutating func verify(_ bytes: [UInt8], document: Verifier.DocumentDigests?) {
        // 1. Encoding and schema: nothing else is read from a bundle that fails them.
        let bundle: Bundle
        let entries: [LedgerEntry]
        do {
            bundle = try Bundle(parsing: bytes)
            entries = try parseEntries(bundle)
            untrusted = try bundle.certificates.enumerated().map { (index, der) throws(RecordError) in
                do { return try Certificate(derEncoded: der) } catch { throw RecordError(.inconsistent, "certificates[\(index)] is not a DER certificate") }
            }
            crls = try bundle.crls.enumerated().map { (index, der) throws(RecordError) in
                do { return try CertificateRevocationList(derEncoded: der) } catch { throw RecordError(.inconsistent, "crls[\(index)] is not a DER CRL") }
            }
        } catch {
            add(CheckResult("bundle.format", "bundle", .failed, subIndication: "FORMAT_FAILURE", message: "msg.format.bad", detail: error.reason))
            return
        }
        let kindRecords: KindRecords
        do {
            kindRecords = try KindRecords(bundle: bundle, entries: entries)
        } catch {
            add(CheckResult("bundle.format", "bundle", .failed, subIndication: "FORMAT_FAILURE", message: "msg.format.bad", detail: error.reason))
            return
        }
        add(CheckResult("bundle.format", "bundle", .passed, message: "msg.format.ok"))
        report.facts.append(Fact("kind", bundle.kind.rawValue))
        report.facts.append(Fact("subject", bundle.subject))
        report.facts.append(Fact("exported-at", bundle.exportedAt))
        report.facts.append(Fact("ledger", bundle.origin))

        // 2. The checkpoint: signed by a trusted ledger key, time-stamped.
        let checkpoint = verifyCheckpoint(bundle)

        // 3. Each record: inclusion in the checkpoint, its own token.
        var provenTimes: [UInt64: Int64] = [:]
        for (record, entry) in zip(bundle.records, entries) {
            report.facts.append(Fact("entry", "\(entry.seq) (\(entry.type))"))
            report.facts.append(Fact("entry-time", entry.time))
            if let checkpoint {
                verifyInclusion(entry: entry, proof: record.inclusionProof, checkpoint: checkpoint.body)
            }
            if let time = verifyEntryToken(entry: entry, token: record.timestamp) {
                provenTimes[entry.seq] = time
                report.facts.append(Fact("timestamp-time", LedgerTime.format(milliseconds: time)))
            } else if let checkpoint, let time = checkpoint.time {
                provenTimes[entry.seq] = time
            }
        }

        // 4. What the record type itself claims.
        switch kindRecords {
        case .evidence(let entry, let evidence):
            verifyEvidence(entry: entry, evidence, provenTime: provenTimes[entry.seq], document: document, embedded: bundle.documents)
        case .service(let events):
            verifyService(events, document: document, embedded: bundle.documents)
        case .award(let entry, let award):
            verifyAward(entry: entry, award, provenTime: provenTimes[entry.seq], document: document, embedded: bundle.documents)
        }
    }

    /// Every record's entry bytes read as a canonical ledger entry of the bundle's ledger.
    func parseEntries(_ bundle: Bundle) throws(RecordError) -> [LedgerEntry] {
        var entries: [LedgerEntry] = []
        for (index, record) in bundle.records.enumerated() {
            do {
                entries.append(try LedgerEntry(parsing: record.entry))
            } catch {
                throw RecordError(.notCanonical, "records[\(index)].entry: \(error.reason)")
            }
        }
        return entries
    }

    // MARK: - Checkpoint

    struct ProvenCheckpoint {
        let body: CheckpointBody
        let time: Int64?
    }

    mutating func verifyCheckpoint(_ bundle: Bundle) -> ProvenCheckpoint? {
        let subject = "checkpoint"
        let text: String
        do {
            // Only the keys named for this ledger's origin may vouch for it (ledger-format §9): a
            // trust file that trusts two ledgers must not let one sign the other's checkpoints.
            text = try SignedNote.open(bundle.checkpoint, verifiers: ledgerKeys.filter { Array($0.name.utf8) == Array(bundle.origin.utf8) })
        } catch {
            add(CheckResult("ledger.checkpoint-signature", subject, .failed, subIndication: "SIG_CRYPTO_FAILURE", message: "msg.checkpoint.bad", detail: error.reason))
            return nil
        }
        let body: CheckpointBody
        do {
            body = try CheckpointBody(parsing: text)
        } catch {
            add(CheckResult("ledger.checkpoint-signature", subject, .failed, subIndication: "FORMAT_FAILURE", message: "msg.format.bad", detail: error.reason))
            return nil
        }
        // Bytes, not Swift string equality (which equates NFC and NFD spellings), as the key
        // names are compared above and as a byte-comparing verifier would.
        guard Array(body.origin.utf8) == Array(bundle.origin.utf8) else {
            add(CheckResult("ledger.checkpoint-signature", subject, .failed, subIndication: "FORMAT_FAILURE", message: "msg.checkpoint.origin", [body.origin, bundle.origin]))
            return nil
        }
        let key = ledgerKeys.first { Array($0.name.utf8) == Array(body.origin.utf8) }.map(\.text) ?? body.origin
        add(CheckResult("ledger.checkpoint-signature", "checkpoint \(body.size)", .passed, message: "msg.checkpoint.ok", [String(body.size), key]))
        report.facts.append(Fact("checkpoint", "\(body.size) · \(Base64.encode(body.rootHash))"))
        let time = verifyToken(bundle.checkpointTimestamp, imprint: TimeStampHash.sha256.digest(Array(text.utf8)), notBefore: nil, subject: "checkpoint \(body.size)", what: "checkpoint")
        if let time { report.facts.append(Fact("checkpoint-time", LedgerTime.format(milliseconds: time))) }
        return ProvenCheckpoint(body: body, time: time)
    }

    mutating func verifyInclusion(entry: LedgerEntry, proof: [[UInt8]], checkpoint: CheckpointBody) {
        let subject = "entry \(entry.seq)"
        do {
            try Merkle.verifyInclusion(index: entry.seq, size: checkpoint.size, leafHash: entry.leafHash, proof: proof, root: checkpoint.rootHash)
            add(CheckResult("ledger.inclusion", subject, .passed, message: "msg.inclusion.ok", [String(entry.seq), String(checkpoint.size)]))
        } catch {
            add(CheckResult("ledger.inclusion", subject, .failed, subIndication: "HASH_FAILURE", message: "msg.inclusion.bad", detail: error.description))
        }
    }

    // MARK: - Time-stamps

    /// The entry's own token, for types that have one. Returns its genTime when it verified.
    mutating func verifyEntryToken(entry: LedgerEntry, token: [UInt8]?) -> Int64? {
        let subject = "entry \(entry.seq)"
        guard entry.type.hasOwnTimestamp else {
            if token != nil {
                add(CheckResult("timestamp.token", subject, .failed, subIndication: "FORMAT_FAILURE", message: "msg.format.mismatch", detail: "a \(entry.type) entry has no token of its own"))
            }
            return nil
        }
        guard let token else {
            add(CheckResult("timestamp.token", subject, .failed, subIndication: "FORMAT_FAILURE", message: "msg.token.missing"))
            return nil
        }
        guard let entryTime = LedgerTime.parse(entry.time) else { return nil }
        return verifyToken(token, imprint: entry.leafHash, notBefore: entryTime, subject: subject, what: "entry")
    }

    /// One RFC 3161 token: imprint, CMS signature and ESSCertID, the TSA's path to a trusted
    /// root with the critical timeStamping EKU at genTime (OpenSSL's TS verifier), the TSA
    /// certificate's revocation status at genTime, and genTime not before `notBefore`.
    mutating func verifyToken(_ token: [UInt8], imprint: [UInt8], notBefore: Int64?, subject: String, what: String) -> Int64? {
        let check = subject.hasPrefix("checkpoint") ? "ledger.checkpoint-timestamp" : "timestamp.token"
        let reply: TimeStampReply
        do {
            reply = try TimeStampReply(derEncoded: token)
        } catch {
            add(CheckResult(check, subject, .failed, subIndication: "FORMAT_FAILURE", message: "msg.token.bad", [what], detail: error.reason))
            return nil
        }
        // A bare token in DER, exactly: a TimeStampResp, or a BER spelling OpenSSL would also
        // read, is not what the bundle format allows.
        guard reply.tokenBytes == token else {
            add(CheckResult(check, subject, .failed, subIndication: "FORMAT_FAILURE", message: "msg.token.bad", [what], detail: "not a bare DER TimeStampToken"))
            return nil
        }
        // The imprints here are SHA-256 (leaf hashes, note bodies); OpenSSL compares bytes only.
        guard reply.hash == .sha256 else {
            add(CheckResult(check, subject, .failed, subIndication: "HASH_FAILURE", message: "msg.token.bad", [what], detail: "the token's imprint is not SHA-256"))
            return nil
        }
        do {
            try reply.verify(imprint: imprint, trusted: roots, untrusted: untrusted)
        } catch {
            add(CheckResult(check, subject, .failed, subIndication: "SIG_CRYPTO_FAILURE", message: "msg.token.bad", [what], detail: ([error.reason] + error.openSSLErrors).joined(separator: "; ")))
            return nil
        }
        let genTime = reply.genTime
        // genTime may carry whole seconds only; the entry's time counts from its second.
        if let notBefore, genTime < notBefore - notBefore % 1000 {
            add(CheckResult(check, subject, .failed, subIndication: "TIMESTAMP_ORDER_FAILURE", message: "msg.token.before-event", [LedgerTime.format(milliseconds: genTime), LedgerTime.format(milliseconds: notBefore)]))
            return nil
        }
        guard let tsa = reply.signerCertificate(among: untrusted) else {
            add(CheckResult(check, subject, .failed, subIndication: "FORMAT_FAILURE", message: "msg.token.bad", [what], detail: "the token's signer certificate is not in the token or the bundle"))
            return nil
        }
        guard reply.signerInfoMatches(tsa) else {
            add(CheckResult(check, subject, .failed, subIndication: "FORMAT_FAILURE", message: "msg.token.bad", [what], detail: "the token's SignerInfo does not name its signer's certificate exactly, or its signatureAlgorithm does not fit the key"))
            return nil
        }
        switch ChainValidation.validate(tsa, untrusted: untrusted + reply.certificates, trusted: roots, crls: crls, at: genTime / 1000, checkRevocation: true, timeStamping: true) {
        case .success(let path):
            // The certificates a token carries are outside its signature. Every one must be a
            // certificate of the path just validated, byte for byte, so that nothing in the
            // bundle is altered unseen, even what the verdict did not depend on.
            let pathBytes = path.map(\.derBytes)
            guard reply.certificates.allSatisfy({ pathBytes.contains($0.derBytes) }) else {
                add(CheckResult(check, subject, .failed, subIndication: "FORMAT_FAILURE", message: "msg.token.bad", [what], detail: "the token carries a certificate that is not on its signer's path (altered or foreign)"))
                return nil
            }
            add(CheckResult(check, subject, .passed, message: "msg.token.ok", [reply.tsaName ?? tsa.subject, LedgerTime.format(milliseconds: genTime)]))
            return genTime
        case .failure(let failure):
            switch failure.kind {
            case .revoked:
                add(CheckResult(check, subject, .failed, subIndication: "REVOKED", message: "msg.token.tsa-revoked", detail: failure.description))
            case .revocationUnknown:
                // The token is sound but the TSA's status is unknown: its time still serves the
                // checks that follow, which can then say what else is unknown; the verdict
                // cannot be PASSED either way.
                add(CheckResult(check, subject, .indeterminate, subIndication: "TRY_LATER", message: "msg.token.tsa-unknown", detail: failure.description))
                return genTime
            default:
                add(CheckResult(check, subject, .failed, subIndication: "CERTIFICATE_CHAIN_GENERAL_FAILURE", message: "msg.token.tsa-invalid", detail: failure.description))
            }
            return nil
        }
    }

    // MARK: - Evidence

    mutating func verifyEvidence(entry: LedgerEntry, _ evidence: EvidenceRecord, provenTime: Int64?, document: Verifier.DocumentDigests?, embedded: [[UInt8]]) {
        report.facts.append(Fact("case", evidence.caseID))
        report.facts.append(Fact("document-sha256", lowerHex(evidence.document.sha256)))
        report.facts.append(Fact("document-size", String(evidence.document.size)))
        report.facts.append(Fact("document-type", evidence.document.mediaType))
        if let description = evidence.description { report.facts.append(Fact("description", description)) }
        // Every document at hand is compared: the one given and each embedded one, so that a
        // wrong embedded document is never hidden behind a right one given on the command line.
        let given = documentsAtHand(document, embedded)
        if given.isEmpty { add(CheckResult("document.digest", "document", .skipped, message: "msg.document.none")) }
        for document in given { verifyDocument(document, against: evidence.document) }
        verifySignature(evidence.submitter, role: "submitter", document: evidence.document, provenTime: provenTime)
    }

    mutating func verifyDocument(_ given: Verifier.DocumentDigests, against description: DocumentDescription) {
        for recorded in description.digests {
            guard let computed = given.digests.first(where: { $0.algorithm == recorded.algorithm }) else { continue }
            guard computed.value == recorded.value else {
                add(CheckResult("document.digest", "document (\(given.origin))", .failed, subIndication: "HASH_FAILURE", message: "msg.document.bad", [NamedDigest.name(recorded.algorithm)]))
                return
            }
        }
        add(CheckResult("document.digest", "document (\(given.origin))", .passed, message: "msg.document.ok", [description.digests.map { NamedDigest.name($0.algorithm) }.joined(separator: ", ")]))
    }

    /// One recorded CMS signature: it verifies, binds its certificate, signs the recorded
    /// digest; then the signer's path at the proven time, with revocation.
    mutating func verifySignature(_ signature: RecordedSignature, role: String, document: DocumentDescription, provenTime: Int64?) {
        let facts: [CMSSignerFacts]
        do {
            facts = try CMSSignature.verifySignedAttributes(signature.signature)
        } catch {
            add(CheckResult("signature.cms", role, .failed, subIndication: "SIG_CRYPTO_FAILURE", message: "msg.signature.bad", detail: ([error.reason] + error.openSSLErrors).joined(separator: "; ")))
            return
        }
        guard facts.count == 1, let signer = facts.first, signer.certificate.derBytes == signature.certificate else {
            add(CheckResult("signature.cms", role, .failed, subIndication: "FORMAT_FAILURE", message: "msg.signature.bad", detail: "the SignedData must have exactly one signer, the recorded certificate"))
            return
        }
        let name = signer.certificate.subject
        report.facts.append(Fact("signer", "\(name) (\(role))"))
        report.facts.append(Fact("signer-certificate", signer.certificate.serialHex))
        if let time = signer.signingTime { report.facts.append(Fact("signing-time", LedgerTime.format(milliseconds: time * 1000))) }
        guard let algorithm = signer.digestAlgorithm, let recorded = document.digests.first(where: { $0.algorithm == algorithm }), recorded.value == signer.messageDigest else {
            add(CheckResult("signature.cms", role, .failed, subIndication: "HASH_FAILURE", message: "msg.signature.digest"))
            return
        }
        add(CheckResult("signature.cms", role, .passed, message: "msg.signature.ok", [name]))
        guard let provenTime else {
            add(CheckResult("signature.certificate", role, .indeterminate, subIndication: "NO_POE", message: "msg.chain.no-poe", [name]))
            return
        }
        let at = provenTime / 1000
        switch ChainValidation.validate(signer.certificate, untrusted: untrusted, trusted: roots, crls: crls, at: at, checkRevocation: true) {
        case .success(let path):
            add(CheckResult("signature.certificate", role, .passed, message: "msg.chain.ok", [path.last?.subject ?? "", LedgerTime.format(milliseconds: provenTime)]))
        case .failure(let failure):
            let result: CheckResult
            switch failure.kind {
            case .revoked:
                result = CheckResult("signature.certificate", role, .failed, subIndication: "REVOKED", message: "msg.chain.revoked", [name], detail: failure.description)
            case .expired:
                // Expired at the proven time: FAILED if it is the signer's own certificate and the
                // signer's signing time is after its expiry; otherwise nothing proves the
                // signature existed while the path was valid.
                if failure.depth == 0, let signed = signer.signingTime, signed > signer.certificate.notAfter {
                    result = CheckResult("signature.certificate", role, .failed, subIndication: "EXPIRED", message: "msg.chain.expired", [name], detail: failure.description)
                } else {
                    result = CheckResult("signature.certificate", role, .indeterminate, subIndication: "OUT_OF_BOUNDS_NO_POE", message: "msg.chain.expired-no-poe", [name], detail: failure.description)
                }
            case .notYetValid:
                result = CheckResult("signature.certificate", role, .failed, subIndication: "NOT_YET_VALID", message: "msg.chain.not-yet-valid", [name], detail: failure.description)
            case .revocationUnknown:
                result = CheckResult("signature.certificate", role, .indeterminate, subIndication: "TRY_LATER", message: "msg.chain.revocation-unknown", [name], detail: failure.description)
            case .noPathToTrustAnchor:
                result = CheckResult("signature.certificate", role, .indeterminate, subIndication: "NO_CERTIFICATE_CHAIN_FOUND", message: "msg.chain.untrusted", [name], detail: failure.description)
            case .invalid:
                result = CheckResult("signature.certificate", role, .indeterminate, subIndication: "CERTIFICATE_CHAIN_GENERAL_FAILURE", message: "msg.chain.invalid", [name], detail: failure.description)
            }
            add(result)
        }
    }
}

/// The records of a bundle read by kind, after checking that they are what the kind needs.
enum KindRecords {
    case evidence(LedgerEntry, EvidenceRecord)
    case service([ServiceHistory.Event])
    case award(LedgerEntry, AwardRecord)

    init(bundle: Bundle, entries: [LedgerEntry]) throws(RecordError) {
        switch bundle.kind {
        case .evidence:
            guard entries.count == 1, let entry = entries.first else {
                throw RecordError(.schema, "an evidence bundle holds exactly one record; this one holds \(entries.count)")
            }
            guard entry.type == .evidence else { throw RecordError(.schema, "records[0] is a \(entry.type) entry, not evidence") }
            guard bundle.subject == String(entry.seq) else { throw RecordError(.schema, "the bundle is for entry \(bundle.subject) but holds entry \(entry.seq)") }
            do {
                self = .evidence(entry, try EvidenceRecord(body: entry.body))
            } catch {
                throw RecordError(error.code, "records[0]: \(error.reason)")
            }
        case .service:
            var events: [ServiceHistory.Event] = []
            for (index, entry) in entries.enumerated() {
                guard entry.type == .service, let time = LedgerTime.parse(entry.time) else {
                    throw RecordError(.schema, "records[\(index)] is a \(entry.type) entry, not a service event")
                }
                do {
                    events.append(ServiceHistory.Event(record: try ServiceRecord(body: entry.body), leafHash: entry.leafHash, entryTime: time))
                } catch {
                    throw RecordError(error.code, "records[\(index)]: \(error.reason)")
                }
            }
            guard let first = events.first?.record, bundle.subject == first.serviceID else {
                throw RecordError(.schema, "the bundle is for service \(bundle.subject) but holds events of service \(events.first?.record.serviceID ?? "none")")
            }
            self = .service(events)
        case .award:
            guard entries.count == 1, let entry = entries.first else {
                throw RecordError(.schema, "an award bundle holds exactly one record; this one holds \(entries.count)")
            }
            guard entry.type == .award else { throw RecordError(.schema, "records[0] is a \(entry.type) entry, not an award") }
            let award: AwardRecord
            do {
                award = try AwardRecord(body: entry.body)
            } catch {
                throw RecordError(error.code, "records[0]: \(error.reason)")
            }
            guard bundle.subject == award.awardID else { throw RecordError(.schema, "the bundle is for award \(bundle.subject) but holds award \(award.awardID)") }
            self = .award(entry, award)
        }
    }
}
