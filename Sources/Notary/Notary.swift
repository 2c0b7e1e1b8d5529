import CanonicalJSON
import CertificateAuthority
import Ledger
import OpenSSLKit
import Records
import RocksDBStore
import TimeStamping

/// The write side of records: it checks what a party submits before the ledger records it,
/// keeps the validation data seen at that moment, and exports bundles and trust files.
///
/// A record enters the ledger only if its signature verifies, covers the document described,
/// and was made with a certificate of this appliance's CA that is valid and unrevoked now:
/// the ledger is evidence, so what it holds must already have been checked.
public final class Notary: Sendable {
    public let ledger: Ledger
    public let certificates: CertificateStore
    public let validation: ValidationStore
    public let index: RecordIndex
    public let recipients: RecipientVault
    /// One writer at a time per service, so that each event links to the one really before it.
    let serviceWriters = KeyedSerializer()
    let clock: @Sendable () -> Int64

    public init(ledger: Ledger, database: Database, clock: @escaping @Sendable () -> Int64 = LedgerTime.nowMilliseconds) throws(NotaryError) {
        self.ledger = ledger
        do {
            certificates = try CertificateStore(database: database)
        } catch {
            throw NotaryError(.storage, error.reason)
        }
        validation = try ValidationStore(database: database)
        index = try RecordIndex(database: database)
        recipients = try RecipientVault(database: database)
        self.clock = clock
    }

    /// The CA's certificates and current CRLs, read from the store once per record.
    struct CAMaterial {
        let hierarchy: Hierarchy
        /// DER CRLs: the issuing CA's and the root's current ones.
        let crls: [[UInt8]]
        /// The same, parsed for path validation.
        let parsedCRLs: [CertificateRevocationList]
    }

    func caMaterial() throws(NotaryError) -> CAMaterial {
        do {
            guard let hierarchy = try certificates.hierarchy() else {
                throw NotaryError(.storage, "this data directory has no CA yet: run `notarium ca init` or start notariumd once")
            }
            let current = [try certificates.currentCRL(), try certificates.currentRootCRL()].compactMap { $0 }
            return CAMaterial(hierarchy: hierarchy, crls: current.map(\.der), parsedCRLs: current.compactMap(\.parsed))
        } catch let error as CAError {
            throw NotaryError(.storage, "the CA's records are unreadable: \(error.reason)")
        } catch let error as NotaryError {
            throw error
        } catch {
            throw NotaryError(.storage, "\(error)")
        }
    }

    // MARK: - Evidence

    /// Records a party's signed document in a case (an `evidence` entry).
    /// - Returns: the entry's receipt, once it is durable.
    public func depositEvidence(caseID: String, document: DocumentDescription, submitter: RecordedSignature, description: String?, context: WriteContext = .commandLine) async throws(NotaryError) -> AppendReceipt {
        var record = EvidenceRecord(caseID: caseID, document: document, submitter: submitter, description: description)
        record.requestedBy = context.requester
        // The body goes through the same reader a verifier uses, so nothing is written that
        // `notarium verify` would later refuse as malformed.
        do {
            _ = try EvidenceRecord(body: record.body)
        } catch {
            throw NotaryError(.invalidRecord, error.reason)
        }
        try Self.checkStorable(record.body)
        let crls = try checkSignature(submitter, over: document, role: "the submitter", ca: try caMaterial())
        var batch = WriteBatch()
        validation.record(crls: crls, for: submitter.signature, in: &batch)
        do {
            return try await ledger.append(type: .evidence, body: record.body, alongside: batch, keyedBySeq: context.alongside)
        } catch {
            throw NotaryError(.ledger, "the ledger did not record the evidence, so nothing changed: \(error.reason)")
        }
    }

    /// Checks one recorded signature as a verifier will: the CMS signature and its
    /// signing-certificate binding, the digest it signs against the document's, and the
    /// signer's certificate path to this CA's root now, with revocation.
    /// - Parameter ca: the CA's material, read once per record however many signatures it has.
    /// - Returns: the CRLs that showed the certificate unrevoked, to keep with the record.
    func checkSignature(_ signature: RecordedSignature, over document: DocumentDescription, role: String, ca: CAMaterial) throws(NotaryError) -> [[UInt8]] {
        let facts: [CMSSignerFacts]
        do {
            facts = try CMSSignature.verifySignedAttributes(signature.signature)
        } catch {
            throw NotaryError(.badSignature, "\(role)'s signature: \(error.reason) \(error.openSSLErrors.joined(separator: "; "))")
        }
        guard facts.count == 1, let signer = facts.first else {
            throw NotaryError(.badSignature, "\(role)'s SignedData has \(facts.count) signers; one is expected")
        }
        guard signer.certificate.derBytes == signature.certificate else {
            throw NotaryError(.badSignature, "\(role)'s signature was made with another certificate than the one given (\(signer.certificate.subject))")
        }
        guard let algorithm = signer.digestAlgorithm, let digest = document.digests.first(where: { $0.algorithm == algorithm }) else {
            throw NotaryError(.digestMismatch, "\(role)'s signature uses a digest algorithm the record does not carry; sign with SHA-256 or SHA-512")
        }
        guard digest.value == signer.messageDigest else {
            throw NotaryError(.digestMismatch, "\(role)'s signature is over another document than the one described (\(NamedDigest.name(algorithm)) differs)")
        }
        let now = clock() / 1000
        switch ChainValidation.validate(signer.certificate, untrusted: [ca.hierarchy.issuing], trusted: [ca.hierarchy.root], crls: ca.parsedCRLs, at: now, checkRevocation: true) {
        case .success:
            // The CA issues certificates for several purposes; only a signer's may sign records
            // (a TLS or TSA key is not a person's or an organization's signature).
            let issued: (der: [UInt8], profile: String)?
            do {
                issued = try certificates.issued(serial: signer.certificate.serialNumber)
            } catch {
                throw NotaryError(.storage, "the CA's record of certificate \(signer.certificate.serialHex) is unreadable: \(error.reason)")
            }
            guard let issued, issued.der == signature.certificate, issued.profile == CertificateProfile.signer.rawValue else {
                throw NotaryError(.signerRefused, "\(role)'s certificate (\(signer.certificate.subject)) was not issued with the signer profile (it is \(issued?.profile ?? "unknown to this CA")); records are signed with signer certificates")
            }
            return ca.crls
        case .failure(let failure):
            throw NotaryError(.signerRefused, "\(role)'s certificate (\(signer.certificate.subject), serial \(signer.certificate.serialHex)) is not usable now: \(failure)")
        }
    }

    /// Refuses a body the ledger could not store (too large, too deep) before anything else is
    /// checked, as the client's error rather than the ledger's.
    static func checkStorable(_ body: JSONValue) throws(NotaryError) {
        do {
            _ = try LedgerEntry.validatedBody(body)
        } catch {
            throw NotaryError(.invalidRecord, error.reason)
        }
    }

    // MARK: - Bundles

    /// Everything that proves one evidence entry, offline.
    /// - Parameters:
    ///   - checkpointSigner: cuts a checkpoint when none includes the entry yet; without it,
    ///     such an export fails (notariumd cuts one within its checkpoint interval).
    ///   - document: the document itself, embedded when given; it must match the record.
    public func evidenceBundle(seq: UInt64, stamper: LedgerTimeStamper, checkpointSigner: NoteSigner?, document: [UInt8]?) throws(NotaryError) -> Bundle {
        let entry = try readEntry(seq)
        guard entry.type == .evidence else {
            throw NotaryError(.notFound, "entry \(seq) is a \(entry.type) entry, not evidence")
        }
        let record: EvidenceRecord
        do {
            record = try EvidenceRecord(body: entry.body)
        } catch {
            throw NotaryError(.invalidRecord, "entry \(seq) does not read as evidence: \(error.reason)")
        }
        let documents = document.map { [$0] } ?? []
        try checkEmbeddable(documents, among: [record.document], "the document entry \(seq) describes")
        let captured = try validation.crls(for: [record.submitter.signature])
        return try bundle(kind: .evidence, subject: String(seq), entries: [entry], capturedCRLs: captured, stamper: stamper, checkpointSigner: checkpointSigner, documents: documents)
    }

    /// Refuses a document to embed that is none of those `descriptions` describe: a bundle
    /// carries only documents its records account for.
    func checkEmbeddable(_ documents: [[UInt8]], among descriptions: [DocumentDescription], _ what: String) throws(NotaryError) {
        for document in documents {
            let digests = NamedDigest.compute(bytes: document).digests
            guard descriptions.contains(where: { $0.isDescribed(by: digests) }) else {
                throw NotaryError(.digestMismatch, "a document to embed is not \(what)")
            }
        }
    }

    func readEntry(_ seq: UInt64) throws(NotaryError) -> LedgerEntry {
        guard seq < ledger.size else { throw NotaryError(.notFound, "the ledger has no entry \(seq) (its size is \(ledger.size))") }
        do {
            return try ledger.entry(seq)
        } catch {
            throw NotaryError(.ledger, "cannot read entry \(seq): \(error.reason)")
        }
    }

    func bundle(kind: BundleKind, subject: String, entries: [LedgerEntry], capturedCRLs: [[UInt8]], stamper: LedgerTimeStamper, checkpointSigner: NoteSigner?, documents: [[UInt8]]) throws(NotaryError) -> Bundle {
        let last = entries.map(\.seq).max() ?? 0
        let checkpoint = try checkpoint(including: last, signer: checkpointSigner)
        let checkpointToken: [UInt8]
        var records: [Bundle.Record] = []
        do {
            guard let token = try stamper.checkpointToken(size: checkpoint.size) else {
                throw NotaryError(.unavailable, "checkpoint \(checkpoint.size) vanished while exporting")
            }
            checkpointToken = token
            for entry in entries {
                let proof = try ledger.inclusionProof(index: entry.seq, size: checkpoint.size)
                records.append(Bundle.Record(entry: entry.bytes, timestamp: try stamper.entryToken(entry.seq), inclusionProof: proof.hashes))
            }
        } catch let error as TSAError {
            throw NotaryError(.unavailable, "a time-stamp for the bundle could not be made: \(error.reason)")
        } catch let error as LedgerError {
            throw NotaryError(.ledger, error.reason)
        } catch let error as NotaryError {
            throw error
        } catch {
            throw NotaryError(.ledger, "\(error)")
        }
        let ca = try caMaterial()
        var certificates: [[UInt8]] = []
        for certificate in [ca.hierarchy.issuing] + stamper.authority.chain where certificate.subject != certificate.issuer {
            if !certificates.contains(certificate.derBytes) { certificates.append(certificate.derBytes) }
        }
        var crls: [[UInt8]] = []
        for crl in capturedCRLs + ca.crls where !crls.contains(crl) { crls.append(crl) }
        return Bundle(
            kind: kind, subject: subject, exportedAt: LedgerTime.format(milliseconds: clock()), origin: ledger.identity.origin,
            checkpoint: checkpoint.note, checkpointTimestamp: checkpointToken, records: records,
            certificates: certificates, crls: crls, documents: documents)
    }

    /// The latest checkpoint, if it includes entry `seq`; otherwise a new one cut now.
    func checkpoint(including seq: UInt64, signer: NoteSigner?) throws(NotaryError) -> CheckpointRecord {
        do {
            if let latest = try ledger.latestCheckpoint(), latest.size > seq { return latest }
            guard let signer else {
                throw NotaryError(.unavailable, "no checkpoint includes entry \(seq) yet, and this export cannot cut one (no checkpoint key)")
            }
            return try ledger.cutCheckpoint(signer: signer).record
        } catch let error as LedgerError {
            throw NotaryError(.ledger, "cannot find or cut a checkpoint: \(error.reason)")
        } catch let error as NotaryError {
            throw error
        } catch {
            throw NotaryError(.ledger, "\(error)")
        }
    }

    // MARK: - Trust

    /// The trust file a relying party verifies bundles with: this CA's root and this ledger's
    /// checkpoint verifier key.
    public func trustFile() throws(NotaryError) -> TrustFile {
        return TrustFile(roots: [try caMaterial().hierarchy.root.derBytes], ledgerKeys: [ledger.identity.verifier.text], exportedAt: LedgerTime.format(milliseconds: clock()))
    }
}
