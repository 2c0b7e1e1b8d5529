import Appliance
import CertificateAuthority
import Foundation
import Ledger
import Logging
import OpenSSLKit
import Synchronization

/// OpenSSL's own ECDSA P-256 signing rate on every core: the baseline for issuance and OCSP.
func benchOpenSSLSigning(seconds: Double) -> Double {
    let threads = ProcessInfo.processInfo.activeProcessorCount
    let counts = Mutex<[Int]>([])
    let group = DispatchGroup()
    for _ in 0..<threads {
        group.enter()
        Thread.detachNewThread {
            let key = try! PrivateKey.generate(.ecdsaP256)
            let message = [UInt8](repeating: 7, count: 64)
            let end = now() + seconds
            var count = 0
            while now() < end {
                for _ in 0..<100 { _ = try! key.sign(message) }
                count += 100
            }
            counts.withLock { $0.append(count) }
            group.leave()
        }
    }
    group.wait()
    let rate = Double(counts.withLock { $0.reduce(0, +) }) / seconds
    emit(["bench": "openssl.ecdsa-p256-sign", "threads": threads, "signaturesPerSecond": Int(rate)])
    return rate
}

/// A fresh data directory at `path` with its ledger and CA, logging errors only.
func benchDataDirectory(_ path: String) async throws -> (ApplianceConfiguration, DataDirectory, Ledger, CertificateAuthority) {
    try? FileManager.default.removeItem(atPath: path)
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let configuration = try await ApplianceConfiguration.load(flags: [.data: path], environment: [:])
    let data = try DataDirectory.openOrInitialize(at: path, sealKeyFile: configuration.sealKeyFile, logger: logger)
    let (ledger, _) = try data.openLedger(configuration: configuration, withSigner: false, logger: logger)
    let authority = try await data.createCA(configuration: configuration, ledger: ledger, logger: logger)
    return (configuration, data, ledger, authority)
}

/// Certificates issued per second from P-256 CSRs, each stored and entered in the ledger
/// (durable before it is returned), then OCSP responses per second from a live notariumd.
func benchCA(directory: String, seconds: Double) async throws {
    let baseline = benchOpenSSLSigning(seconds: seconds)
    let path = directory + "/ca-bench"
    let (_, data, ledger, authority) = try await benchDataDirectory(path)
    let requests = try (0..<500).map { n in
        try CertificateSigningRequest.create(key: try PrivateKey.generate(.ecdsaP256), subject: try DistinguishedName(parsing: "CN=Bench Signer \(n),O=Bench")).derBytes
    }
    for concurrency in [1, 64] {
        let end = now() + seconds
        let start = now()
        let issued = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var count = 0
                    while now() < end {
                        _ = try await authority.issue(request: requests[(worker * 7919 + count) % requests.count], profile: .signer)
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        let rate = Double(issued) / (now() - start)
        emit(["bench": "ca.issue", "concurrency": concurrency, "certificatesPerSecond": Int(rate), "baselineSignaturesPerSecond": Int(baseline), "ratioToBaseline": (rate / baseline * 1000).rounded() / 1000])
    }
    // A certificate to ask about, then the appliance itself serves OCSP.
    let leaf = try await authority.issue(request: requests[0], profile: .signer).certificate
    let ocspRequest = try OCSPRequest.create(certificate: leaf, issuer: authority.hierarchy.issuing, nonce: true)
    ledger.close()
    data.close()
    try benchOCSPOverHTTP(dataDirectory: path, request: ocspRequest, seconds: seconds, baseline: baseline)
}

/// Starts notariumd on the data directory and posts `request` to /ocsp from keep-alive
/// connections, one thread each.
func benchOCSPOverHTTP(dataDirectory: String, request: [UInt8], seconds: Double, baseline: Double) throws {
    let started = try startDaemon(dataDirectory: dataDirectory)
    defer { started.stop() }
    let daemon = started.process, port = started.port
    for connections in [1, 16] {
        let counts = Mutex<[Int]>([])
        let group = DispatchGroup()
        let cpuBefore = processCPUSeconds(daemon.processIdentifier)
        let end = now() + seconds
        for _ in 0..<connections {
            group.enter()
            Thread.detachNewThread {
                // Outside the lock: inside it, the connections would take turns.
                let count = postLoop(port: port, body: request, until: end)
                counts.withLock { $0.append(count) }
                group.leave()
            }
        }
        group.wait()
        let responses = counts.withLock { $0.reduce(0, +) }
        let serverCPU = processCPUSeconds(daemon.processIdentifier) - cpuBefore
        let rate = Double(responses) / seconds
        emit([
            "bench": "ocsp.http", "connections": connections, "responsesPerSecond": Int(rate),
            "serverCpuMicrosecondsPerResponse": responses > 0 ? Int(serverCPU / Double(responses) * 1e6) : 0,
            "baselineSignaturesPerSecond": Int(baseline), "ratioToBaseline": (rate / baseline * 1000).rounded() / 1000,
        ])
    }
}

/// User plus system CPU seconds a process has used so far, from /proc/PID/stat (Linux), so
/// that the benchmark reports what a response costs the server apart from what the load
/// generator on the same cores costs.
func processCPUSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let afterName = stat.lastIndex(of: ")") else { return 0 }
    // Fields after the command name start at field 3 (state); utime and stime are 14 and 15.
    let fields = stat[stat.index(after: afterName)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// POSTs `body` to /ocsp over one HTTP/1.1 keep-alive connection until `end`; counts 200s.
/// The response is read with byte scans only, so that the load generator stays cheap beside
/// the server it measures.
func postLoop(port: UInt16, body: [UInt8], until end: Double) -> Int {
    let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socketFD) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard connected == 0 else { return 0 }
    var one: Int32 = 1
    setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    let message = Array("POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    let ok = Array("HTTP/1.1 200".utf8)
    let lengthHeader = Array("\r\ncontent-length:".utf8)
    var buffer = [UInt8](repeating: 0, count: 65_536)
    var count = 0
    while now() < end {
        guard send(socketFD, message, message.count, 0) == message.count else { break }
        var received = 0
        var expected = -1
        while expected < 0 || received < expected {
            let got = buffer.withUnsafeMutableBytes { recv(socketFD, $0.baseAddress! + received, $0.count - received, 0) }
            guard got > 0 else { return count }
            received += got
            if expected < 0, let headerEnd = find([13, 10, 13, 10], in: buffer, upTo: received) {
                guard buffer.starts(with: ok), let at = find(lengthHeader, in: buffer, upTo: headerEnd, caseInsensitive: true) else { return count }
                var length = 0
                for byte in buffer[(at + lengthHeader.count)..<headerEnd] where byte != 32 {
                    guard byte >= 48, byte <= 57 else { break }
                    length = length * 10 + Int(byte - 48)
                }
                expected = headerEnd + 4 + length
            }
        }
        count += 1
    }
    return count
}

/// The offset of `needle` in `buffer[0..<limit]`, comparing ASCII letters without case if asked.
func find(_ needle: [UInt8], in buffer: [UInt8], upTo limit: Int, caseInsensitive: Bool = false) -> Int? {
    guard limit >= needle.count else { return nil }
    outer: for start in 0...(limit - needle.count) {
        for (offset, byte) in needle.enumerated() {
            let candidate = buffer[start + offset]
            if candidate != byte && !(caseInsensitive && candidate | 0x20 == byte) { continue outer }
        }
        return start
    }
    return nil
}

/// Microseconds per call of each step of an issuance and of an OCSP response, single-threaded:
/// where a certificate's CPU time goes (`--only ca.steps`).
func profileCASteps(directory: String) async throws {
    let (_, data, ledger, authority) = try await benchDataDirectory(directory + "/ca-steps")
    defer { data.close() }
    defer { ledger.close() }
    let key = try PrivateKey.generate(.ecdsaP256)
    let csr = try CertificateSigningRequest.create(key: key, subject: try DistinguishedName(parsing: "CN=Step,O=Bench")).derBytes
    let issuing = authority.hierarchy.issuing
    let issued = try await authority.issue(request: csr, profile: .signer).certificate
    let der = issued.derBytes
    let ocsp = try OCSPRequest.create(certificate: issued, issuer: issuing, nonce: true)
    func time(_ name: String, _ body: () throws -> Void) rethrows {
        let rounds = 2000
        let start = now()
        for _ in 0..<rounds { try body() }
        emit(["bench": "ca.steps", "step": name, "microseconds": ((now() - start) / Double(rounds) * 1e7).rounded() / 10])
    }
    try time("openssl-sign-p256") { _ = try key.sign(csr) }
    try time("csr-parse") { _ = try CertificateSigningRequest(pemOrDER: csr) }
    let parsed = try CertificateSigningRequest(pemOrDER: csr)
    time("csr-public-key") { _ = parsed.publicKey }
    time("csr-signature-check") { _ = parsed.hasValidSignature }
    time("csr-names") { _ = parsed.subject; _ = parsed.requestedAlternativeNames }
    let publicKey = parsed.publicKey!
    let extensions = CertificateProfile.signer.extensions(key: publicKey.kind, names: [], settings: authority.settings)
    try time("certificate-build-and-sign") {
        _ = try CertificateBuilder.build(serial: randomBytes(16), subject: parsed.subject, publicKey: publicKey, notBefore: 0, notAfter: 1_000_000, extensions: extensions, issuer: issuing, signingKey: key)
    }
    time("certificate-der") { _ = issued.derBytes }
    time("certificate-sha256") { _ = issued.sha256Fingerprint }
    try time("certificate-parse") { _ = try Certificate(derEncoded: der) }
    try time("store-record-read") { _ = try authority.store.record(serial: issued.serialNumber) }
    try time("ocsp-request-parse") { _ = try OCSPRequest(derEncoded: ocsp) }
    let request = try OCSPRequest(derEncoded: ocsp)
    time("ocsp-certid-issuer-check") { _ = request.certificateID(at: 0, isIssuedBy: issuing) }
    time("ocsp-response-whole") { _ = authority.ocspResponse(for: ocsp) }
    var steps = 0
    let start = now()
    while steps < 500 {
        _ = try await authority.issue(request: csr, profile: .signer)
        steps += 1
    }
    emit(["bench": "ca.steps", "step": "issue-whole-with-sync", "microseconds": ((now() - start) / 500 * 1e7).rounded() / 10])
}

/// Not a benchmark: issues certificates from 64 tasks forever on the data directory `path`
/// (creating it and its CA on first use), printing `acked SERIAL SHA256 SEQ` after each
/// issuance returned, for the CA's kill -9 test.
func caCrashWriter(path: String) async throws -> Never {
    var logger = Logger(label: "ca-crash-writer")
    logger.logLevel = .error
    let configuration = try await ApplianceConfiguration.load(flags: [.data: path], environment: [:])
    let data = try DataDirectory.openOrInitialize(at: path, sealKeyFile: configuration.sealKeyFile, logger: logger)
    let (ledger, _) = try data.openLedger(configuration: configuration, withSigner: false, logger: logger)
    let authority = try await data.openCA(configuration: configuration, ledger: ledger, create: true, logger: logger)
    let requests = try (0..<64).map { n in
        try CertificateSigningRequest.create(key: try PrivateKey.generate(.ecdsaP256), subject: try DistinguishedName(parsing: "CN=Crash \(n)")).derBytes
    }
    final class Output: Sendable { let lock = Mutex<Void>(()) }
    let output = Output()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<64 {
            group.addTask {
                while true {
                    let issued = try await authority.issue(request: requests[worker], profile: .signer)
                    output.lock.withLock { _ in
                        print("acked \(issued.record.serialHex) \(issued.record.sha256) \(issued.receipt.seq)")
                        fflush(nil)
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    exit(0)
}
