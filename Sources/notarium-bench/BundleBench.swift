import Appliance
import CanonicalJSON
import CertificateAuthority
import Foundation
import Ledger
import Logging
import Notary
import OpenSSLKit
import Records
import Synchronization
import TimeStamping
import Verification

/// `notarium verify` in process: an award bundle (three arbitrators and the institution's seal),
/// an evidence bundle and a five-event service bundle, all from a ledger of `entries` entries,
/// beside OpenSSL's own single-thread ECDSA P-256 verification rate (`openssl speed`), the
/// primitive that dominates a bundle's cost.
func benchBundles(directory: String, entries: Int, seconds: Double) async throws {
    let path = directory + "/bundles"
    try? FileManager.default.removeItem(atPath: path)
    defer { try? FileManager.default.removeItem(atPath: path) }
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let configuration = try await ApplianceConfiguration.load(flags: [.data: path, .ledgerOrigin: "bench.example/bundles"], environment: [:])
    let data = try DataDirectory.openOrInitialize(at: path, sealKeyFile: configuration.sealKeyFile, logger: logger)
    defer { data.close() }
    let (ledger, checkpointSigner) = try data.openLedger(configuration: configuration, withSigner: true, logger: logger)
    defer { ledger.close() }
    let authority = try await data.createCA(configuration: configuration, ledger: ledger, logger: logger)
    let tsa = try await data.openTSA(configuration: configuration, authority: authority, create: true, logger: logger)
    let stamper = try LedgerTimeStamper(ledger: ledger, authority: tsa, logger: logger)
    let notary = try Notary(ledger: ledger, database: data.database)

    // The ledger up to its size, by 256 appenders (bodies shaped like evidence records).
    let fillStart = now()
    final class Counter: Sendable { let next = Atomic<Int>(0) }
    let counter = Counter()
    counter.next.store(Int(ledger.size), ordering: .relaxed)
    let target = entries - 16
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<256 {
            group.addTask {
                while counter.next.add(1, ordering: .relaxed).oldValue < target {
                    _ = try await ledger.append(type: .certificateIssued, body: benchBody(Int(ledger.size)))
                }
            }
        }
        try await group.waitForAll()
    }
    let fillSeconds = now() - fillStart

    struct Signer {
        let key: PrivateKey
        let certificate: Certificate
    }
    func signer(_ name: String) async throws -> Signer {
        let key = try PrivateKey.generate(.ecdsaP256)
        let request = try CertificateSigningRequest.create(key: key, subject: DistinguishedName(attributes: [.init(type: "CN", value: name), .init(type: "O", value: "Bench")]))
        return Signer(key: key, certificate: try await authority.issue(request: request.derBytes, profile: .signer).certificate)
    }
    func describe(_ bytes: [UInt8]) -> DocumentDescription { DocumentDescription(describing: bytes, mediaType: "application/pdf") }
    let award = [UInt8](repeating: 0x41, count: 200_000)
    var signatures: [AwardSignature] = []
    for (index, role) in [AwardRole.presidingArbitrator, .arbitrator, .arbitrator, .institutionSeal].enumerated() {
        let party = try await signer("Signer \(index)")
        signatures.append(AwardSignature(role: role, language: "en", signed: RecordedSignature(certificate: party.certificate.derBytes, signature: try CMSSignature.signDetached(award, certificate: party.certificate, key: party.key))))
    }
    let awardReceipt = try await notary.registerAward(AwardRecord(awardID: "AWD-BENCH", caseID: "ARB-BENCH", issued: "2026-11-20", seat: "Beijing, China", arbitrators: 3, versions: [AwardVersion(language: "en", authentic: true, document: describe(award))], signatures: signatures))
    _ = try stamper.entryToken(awardReceipt.seq)
    let submitter = try await signer("Submitter")
    let exhibit = [UInt8](repeating: 0x45, count: 100_000)
    let evidenceReceipt = try await notary.depositEvidence(caseID: "ARB-BENCH", document: describe(exhibit), submitter: RecordedSignature(certificate: submitter.certificate.derBytes, signature: try CMSSignature.signDetached(exhibit, certificate: submitter.certificate, key: submitter.key)), description: nil)
    _ = try stamper.entryToken(evidenceReceipt.seq)
    let rules = ServiceRules(timeZone: "Asia/Shanghai", calendar: .init(id: "CN", version: "1", weekend: [6, 7], holidays: []), confirmedChannels: [.portal], readReportPresumesService: true, acceptanceWindowDays: 7, registrationWindowDays: nil, registrationChannels: [])
    let parts = [ServicePart(name: "notice", document: describe(exhibit))]
    _ = try stamper.entryToken(try await notary.openService(serviceID: "SVC-BENCH", caseID: "ARB-BENCH", parts: parts, recipients: [.init(channel: .email, address: "r@example.org"), .init(channel: .portal, address: "acct-1")], rules: rules).seq)
    for report in [Notary.ServiceEventReport(event: .consignmentNotification, channel: .email, notice: .linkOnly), .init(event: .contentConsignment, channel: .portal),
                   .init(event: .contentAccessTracking, channel: .portal, identification: Identification(method: .eidHigh, session: nil)), .init(event: .serviceDeemedEffective, channel: .portal)] {
        _ = try stamper.entryToken(try await notary.recordServiceEvent(serviceID: "SVC-BENCH", report).seq)
    }
    let awardBundle = try notary.awardBundle(awardID: "AWD-BENCH", stamper: stamper, checkpointSigner: checkpointSigner, documents: []).encoded
    let evidenceBundle = try notary.evidenceBundle(seq: evidenceReceipt.seq, stamper: stamper, checkpointSigner: checkpointSigner, document: nil).encoded
    let serviceBundle = try notary.serviceBundle(serviceID: "SVC-BENCH", stamper: stamper, checkpointSigner: checkpointSigner, documents: []).encoded
    let trust = try notary.trustFile()
    let verifier = try Verifier(trust: trust)
    for (name, bundle) in [("award", awardBundle), ("evidence", evidenceBundle), ("service", serviceBundle)] {
        let verdict = verifier.verify(bundle: bundle).verdict
        guard verdict == .passed else { fail("the \(name) bundle does not pass (\(verdict)): the benchmark would measure a failure") }
    }

    let baseline = openSSLVerifyRate()
    // One award bundle, timed one at a time.
    for _ in 0..<20 { _ = verifier.verify(bundle: awardBundle) }
    var latencies: [Double] = []
    let awardStart = now()
    while now() - awardStart < seconds || latencies.count < 100 {
        let begin = now()
        _ = verifier.verify(bundle: awardBundle)
        latencies.append(now() - begin)
    }
    latencies.sort()
    let p50 = percentile(latencies, 0.5)
    emit([
        "bench": "verify.award-bundle", "ledgerEntries": Int(ledger.size), "arbitrators": 3, "seal": true, "bundleBytes": awardBundle.count,
        "samples": latencies.count, "p50_ms": p50 * 1000, "p99_ms": percentile(latencies, 0.99) * 1000, "goal_ms": 20.0,
        "baselineECDSAVerifiesPerSecond": Int(baseline), "p50InECDSAVerifies": (p50 * baseline * 10).rounded() / 10,
        "ledgerFillSeconds": fillSeconds,
    ])
    // Bundles per second, one thread and every core.
    for (name, bundle) in [("evidence", evidenceBundle), ("service", serviceBundle), ("award", awardBundle)] {
        for threads in [1, ProcessInfo.processInfo.activeProcessorCount] {
            let counts = Mutex<Int>(0)
            let group = DispatchGroup()
            let start = now()
            for _ in 0..<threads {
                group.enter()
                Thread.detachNewThread {
                    // One verifier per thread, as separate `notarium verify` processes would have.
                    let verifier = try! Verifier(trust: trust)
                    var count = 0
                    while now() - start < seconds {
                        _ = verifier.verify(bundle: bundle)
                        count += 1
                    }
                    counts.withLock { $0 += count }
                    group.leave()
                }
            }
            group.wait()
            let elapsed = now() - start
            let rate = Double(counts.withLock { $0 }) / elapsed
            emit(["bench": "verify.bundles-per-second", "kind": name, "records": name == "service" ? 5 : 1, "threads": threads, "bundlesPerSecond": (rate * 10).rounded() / 10,
                  "baselineECDSAVerifiesPerSecond": Int(baseline) * threads, "ratioToBaseline": (rate / (baseline * Double(threads)) * 10000).rounded() / 10000])
        }
    }
    stamper.stop()
}

/// OpenSSL's own ECDSA P-256 verifications per second on one core, from `openssl speed`.
func openSSLVerifyRate() -> Double {
    // `openssl speed` times itself with SIGALRM, which this process's threads keep blocked and a
    // child inherits blocked (it would never stop): python3 unblocks it for the child.
    let output = (try? runCapturing("/usr/bin/python3", ["-c", "import signal, subprocess, sys; signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM}); sys.exit(subprocess.run(['openssl', 'speed', '-seconds', '3', 'ecdsap256']).returncode)"])) ?? ""
    // The result line: "256 bits ecdsa (nistp256)   0.0000s   0.0001s  45821.3  15337.4" (sign/s, verify/s).
    guard let line = output.split(separator: "\n").last(where: { $0.contains("ecdsa (nistp256)") }),
          let rate = line.split(separator: " ").last.flatMap({ Double($0) }) else {
        fail("cannot read `openssl speed ecdsap256`: \(output)")
    }
    emit(["bench": "openssl.ecdsa-p256-verify", "threads": 1, "verifiesPerSecond": Int(rate), "tool": "openssl speed -seconds 3 ecdsap256"])
    return rate
}
