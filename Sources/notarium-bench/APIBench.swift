import CanonicalJSON
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import OpenSSLKit
import Records
import Synchronization

/// The API benchmark (`--only api`): evidence deposits per second through a live notariumd
/// over mutual TLS, from 64 clients on keep-alive connections, each deposit carrying a P-256
/// CMS signature that the server checks before appending (docs/api.md §3.1). Beside it, in
/// the same run: the ledger's own durable append rate at the same concurrency (in process, no
/// HTTP, no signature check) and OpenSSL's ECDSA P-256 verification rate; and, on the same
/// connections, `GET /healthz` (TLS and HTTP alone) and `GET /v1/whoami` (plus recognising
/// the client), which show what recognition adds per request.
///
/// The load generator runs in this process on the same cores as the server; the server's own
/// CPU per request is reported apart (from /proc).
func benchAPI(directory: String, seconds: Double) async throws {
    let clients = 64
    let work = directory + "/api"
    try? FileManager.default.removeItem(atPath: work)
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }

    // Baselines first, so that nothing else runs beside them.
    let raw = try BenchLedger(path: work + "/raw-ledger")
    _ = try await appendUntil(raw.ledger, appenders: clients, seconds: 0.5)
    let (rawCount, rawLatencies) = try await appendUntil(raw.ledger, appenders: clients, seconds: seconds)
    raw.close()
    let rawRate = Double(rawCount) / seconds
    emit(["bench": "api.baseline.ledger-append", "appenders": clients, "appendsPerSecond": Int(rawRate),
          "p50Milliseconds": percentile(rawLatencies, 0.5) * 1000, "p99Milliseconds": percentile(rawLatencies, 0.99) * 1000])
    let verifyRate = openSSLVerifyRate()

    let daemon = try startDaemon(dataDirectory: work + "/data", environment: ["NOTARIUM_LEDGER_CHECKPOINT_INTERVAL": "1"])
    defer { daemon.stop() }
    // One event-loop thread for the 64 connections: the load generator should leave the
    // cores to the server as far as it can.
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    // The operator (credentials written at first start) registers a clerk and has a signer
    // certificate issued for the party whose signatures the deposits carry.
    let operatorDirectory = work + "/data/clients/operator"
    let root = try NIOSSLCertificate.fromPEMFile(operatorDirectory + "/ca.pem")
    let operatorClient = try BenchHTTPSClient(
        group: group, port: Int(daemon.apiPort), trustRoots: root,
        certificate: try NIOSSLCertificate.fromPEMFile(operatorDirectory + "/client.crt"),
        key: try NIOSSLPrivateKey(file: operatorDirectory + "/client.key", format: .pem))
    let clerkKey = try PrivateKey.generate(.ecdsaP256)
    let clerkRequest = try CertificateSigningRequest.create(key: clerkKey, subject: DistinguishedName(attributes: [.init(type: "CN", value: "bench-platform")]))
    let registered = try await operatorClient.oneRequest(.POST, "/v1/clients", body: ["name": "bench-platform", "role": "clerk", "csrDer": .string(Base64.encode(clerkRequest.derBytes))])
    let partyKey = try PrivateKey.generate(.ecdsaP256)
    let partyRequest = try CertificateSigningRequest.create(key: partyKey, subject: DistinguishedName(attributes: [.init(type: "CN", value: "Bench Party"), .init(type: "O", value: "Bench")]))
    let issued = try await operatorClient.oneRequest(.POST, "/v1/certificates", body: ["profile": "signer", "csrDer": .string(Base64.encode(partyRequest.derBytes))])
    guard registered.status == 201, issued.status == 201, case .string(let clerkPEM)? = registered.json["certificate"], case .string(let partyPEM)? = issued.json["certificate"],
          let party = try Certificate.parseChain(pem: partyPEM).first
    else { fail("the operator could not set up the benchmark's clients: \(registered.status) \(issued.status)") }
    let clerk = try BenchHTTPSClient(
        group: group, port: Int(daemon.apiPort), trustRoots: root, certificate: [try NIOSSLCertificate(bytes: Array(clerkPEM.utf8), format: .pem)],
        key: try NIOSSLPrivateKey(bytes: Array(try clerkKey.unencryptedPEM().utf8), format: .pem))

    // One signed document per client, signed before timing: the signing is the party's work.
    let deposits: [ByteBuffer] = try (0..<clients).map { index in
        let document = Array("Exhibit C-\(index): the bill of lading, as received.\n".utf8) + [UInt8](repeating: UInt8(index), count: 4096)
        let body: JSONValue = [
            "case": "BENCH-2026-0001",
            "document": DocumentDescription(describing: document, mediaType: "application/pdf").json,
            "submitter": ["certificate": .string(Base64.encode(party.derBytes)), "signature": .string(Base64.encode(try CMSSignature.signDetached(document, certificate: party, key: partyKey)))],
            "description": "bench deposit",
        ]
        return ByteBuffer(bytes: body.canonicalBytes)
    }

    for (name, method, path, expected) in [("api.healthz", HTTPMethod.GET, "/healthz", 200), ("api.whoami", .GET, "/v1/whoami", 200), ("api.evidence-deposit", .POST, "/v1/evidence", 201)] {
        let cpuBefore = processCPUSeconds(daemon.process.processIdentifier)
        let result = try await clerk.load(clients: clients, seconds: seconds, method: method, path: path, bodies: method == .POST ? deposits : [], expected: expected)
        let serverCPU = processCPUSeconds(daemon.process.processIdentifier) - cpuBefore
        let rate = Double(result.latencies.count) / result.elapsed
        var fields: KeyValuePairs<String, Any> = [
            "bench": name, "clients": clients, "requestsPerSecond": Int(rate),
            "p50Milliseconds": percentile(result.latencies, 0.5) * 1000, "p99Milliseconds": percentile(result.latencies, 0.99) * 1000,
            "errors": result.errors, "serverCpuMicrosecondsPerRequest": result.latencies.isEmpty ? 0 : Int(serverCPU / Double(result.latencies.count) * 1e6),
        ]
        if method == .POST {
            fields = [
                "bench": name, "clients": clients, "depositsPerSecond": Int(rate),
                "p50Milliseconds": percentile(result.latencies, 0.5) * 1000, "p99Milliseconds": percentile(result.latencies, 0.99) * 1000,
                "errors": result.errors, "serverCpuMicrosecondsPerDeposit": result.latencies.isEmpty ? 0 : Int(serverCPU / Double(result.latencies.count) * 1e6),
                "baselineLedgerAppendsPerSecond": Int(rawRate), "ratioToLedgerAppends": (rate / rawRate * 1000).rounded() / 1000, "goalRatio": 0.5, "goalP99Milliseconds": 50.0,
                "baselineECDSAVerifiesPerSecond": Int(verifyRate),
            ]
        }
        emit(fields)
    }
    try await group.shutdownGracefully()
}

/// A minimal HTTPS/1.1 client with a client certificate: enough to drive the API from many
/// keep-alive connections (wrk cannot present a client certificate).
struct BenchHTTPSClient: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    let group: MultiThreadedEventLoopGroup
    let port: Int
    let context: NIOSSLContext

    init(group: MultiThreadedEventLoopGroup, port: Int, trustRoots: [NIOSSLCertificate], certificate: [NIOSSLCertificate], key: NIOSSLPrivateKey) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(trustRoots)
        configuration.certificateChain = certificate.map { .certificate($0) }
        configuration.privateKey = .privateKey(key)
        self.group = group
        self.port = port
        context = try NIOSSLContext(configuration: configuration)
    }

    func connect() async throws -> Connection {
        try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
    }

    struct Answer {
        let status: Int
        let body: [UInt8]
        var json: [String: JSONValue] {
            guard let value = try? CanonicalJSON.parse(body), case .object(let members) = value else { return [:] }
            return members
        }
    }

    /// One request on a connection of its own.
    func oneRequest(_ method: HTTPMethod, _ path: String, body: JSONValue) async throws -> Answer {
        try await connect().executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            return try await Self.exchange(method, path, body: ByteBuffer(bytes: body.canonicalBytes), outbound: outbound, responses: &responses)
        }
    }

    static func exchange(_ method: HTTPMethod, _ path: String, body: ByteBuffer?, outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>,
                         responses: inout NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator) async throws -> Answer {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: "localhost")
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.readableBytes))
            try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(body)), .end(nil)])
        } else {
            try await outbound.write(contentsOf: [.head(head), .end(nil)])
        }
        var status = 0
        var bytes: [UInt8] = []
        while let part = try await responses.next() {
            switch part {
            case .head(let response): status = Int(response.status.code)
            case .body(let buffer): bytes += buffer.readableBytesView
            case .end: return Answer(status: status, body: bytes)
            }
        }
        throw ChannelError.eof
    }

    /// `clients` connections, each sending `method path` (with its body, when given) one after
    /// the other until `seconds` have passed; latencies of the answers with `expected` status.
    func load(clients: Int, seconds: Double, method: HTTPMethod, path: String, bodies: [ByteBuffer], expected: Int) async throws -> (latencies: [Double], errors: Int, elapsed: Double) {
        let connections = try await withThrowingTaskGroup(of: Connection.self) { group in
            for _ in 0..<clients { group.addTask { try await connect() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let start = now()
        let deadline = start + seconds
        let results = try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
            for (index, connection) in connections.enumerated() {
                group.addTask {
                    try await connection.executeThenClose { inbound, outbound in
                        var responses = inbound.makeAsyncIterator()
                        var latencies: [Double] = []
                        var errors = 0
                        while now() < deadline {
                            let begin = now()
                            let answer = try await Self.exchange(method, path, body: bodies.isEmpty ? nil : bodies[index % bodies.count], outbound: outbound, responses: &responses)
                            if answer.status == expected { latencies.append(now() - begin) } else { errors += 1 }
                        }
                        return (latencies, errors)
                    }
                }
            }
            return try await group.reduce(into: ([Double](), 0)) { $0.0 += $1.0; $0.1 += $1.1 }
        }
        return (results.0.sorted(), results.1, now() - start)
    }
}
