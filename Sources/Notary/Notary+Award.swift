import Ledger
import Records
import RocksDBStore
import TimeStamping

extension Notary {
    /// Registers an award (an `award` entry): every signature is checked as evidence
    /// signatures are (§1.5), over the language version it names, and the tribunal's rule
    /// (every arbitrator and the institution's seal on every authentic version) must hold.
    public func registerAward(_ award: AwardRecord, context: WriteContext = .commandLine) async throws(NotaryError) -> AppendReceipt {
        let award = { () -> AwardRecord in
            var stamped = award
            stamped.requestedBy = context.requester
            return stamped
        }()
        do {
            _ = try AwardRecord(body: award.body)
            try award.checkSigners()
        } catch {
            throw NotaryError(.invalidRecord, error.reason)
        }
        try Self.checkStorable(award.body)
        return try await serviceWriters.run("award/" + award.awardID) { () async throws(NotaryError) -> AppendReceipt in
            guard try index.awardEntry(award.awardID) == nil else {
                throw NotaryError(.conflict, "award \(award.awardID) is already registered")
            }
            var batch = WriteBatch()
            let ca = try caMaterial()
            for (position, signature) in award.signatures.enumerated() {
                let version = award.versions.first { $0.language == signature.language }!
                let crls = try checkSignature(signature.signed, over: version.document, role: "signature \(position + 1) (\(signature.role.rawValue), \(signature.language))", ca: ca)
                validation.record(crls: crls, for: signature.signed.signature, in: &batch)
            }
            let index = self.index
            do throws(LedgerError) {
                return try await ledger.append(type: .award, body: award.body, alongside: batch, keyedBySeq: context.with { seq in index.award(award.awardID, seq: seq) })
            } catch {
                throw NotaryError(.ledger, "the ledger did not record the award, so nothing changed: \(error.reason)")
            }
        }
    }

    /// Everything that proves one award, all its signatures, offline; `documents` (language
    /// versions) are embedded when given and must be versions of the award.
    public func awardBundle(awardID: String, stamper: LedgerTimeStamper, checkpointSigner: NoteSigner?, documents: [[UInt8]]) throws(NotaryError) -> Bundle {
        guard let seq = try index.awardEntry(awardID) else { throw NotaryError(.notFound, "no award \(awardID)") }
        let entry = try readEntry(seq)
        let award: AwardRecord
        do {
            award = try AwardRecord(body: entry.body)
        } catch {
            throw NotaryError(.invalidRecord, "entry \(seq) does not read as an award: \(error.reason)")
        }
        try checkEmbeddable(documents, among: award.versions.map(\.document), "a language version of award \(awardID)")
        let captured = try validation.crls(for: award.signatures.map(\.signed.signature))
        return try bundle(kind: .award, subject: awardID, entries: [entry], capturedCRLs: captured, stamper: stamper, checkpointSigner: checkpointSigner, documents: documents)
    }
}
