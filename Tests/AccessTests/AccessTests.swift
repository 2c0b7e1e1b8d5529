import Access
import CanonicalJSON
import CertificateAuthority
import Foundation
import Ledger
import Logging
import NotariumTestKit
import OpenSSLKit
import Records
import RocksDBStore
import Testing

@Suite("Client registry: registration, recognition, revocation, validity, roles")
struct ClientRegistryTests {
    @Test("a registered client is recognised by its certificate; the ledger entry names it, its role and who asked")
    func registerAndRecognise() async throws {
        let appliance = try await TestAppliance()
        let registry = try ClientRegistry(authority: appliance.authority, database: appliance.database)
        let asker = Requester(certificateSHA256: [UInt8](repeating: 7, count: 32))
        let (client, certificate) = try await registry.register(request: try TestAppliance.request("odr-platform").der, name: "odr-platform", role: .clerk, requestedBy: asker)
        #expect(client.certificateSHA256 == TimeStampHash.sha256.digest(certificate.derBytes))
        #expect(client.notAfter == certificate.notAfter && client.notBefore == certificate.notBefore)
        let recognised = try registry.authenticate(certificate: certificate.derBytes)
        #expect(recognised.record == client && recognised.role == .clerk)
        #expect(recognised.requester.certificateSHA256 == client.certificateSHA256)

        let entry = try appliance.ledger.entry(appliance.ledger.size - 1)
        #expect(entry.type == .certificateIssued)
        let body = try #require(entry.body.objectValue)
        #expect(body["client"] == .object(["name": .string("odr-platform"), "role": .string("clerk")]))
        #expect(body["requestedBy"] == asker.json)
        #expect(body["profile"] == .string("tls-client"))

        // The access list was written in the entry's batch: it is there after a restart.
        try appliance.reopen()
        let reopened = try ClientRegistry(authority: appliance.authority, database: appliance.database)
        #expect(try reopened.authenticate(certificate: certificate.derBytes).record == client)
        #expect(try reopened.accessList.all() == [client])
    }

    @Test("no certificate, an unregistered one of this CA, a revoked one, one outside its validity: each refused by name")
    func refusals() async throws {
        let appliance = try await TestAppliance()
        let clock = TestClock()
        let registry = try ClientRegistry(authority: appliance.authority, database: appliance.database, clock: { clock.read() })
        #expect(caught(AccessError.self) { _ = try registry.authenticate(certificate: nil) }?.code == .noCertificate)

        // Issued by this CA with the client profile, but never registered.
        let stray = try await appliance.authority.issue(request: try TestAppliance.request("stray").der, profile: .tlsClient)
        #expect(caught(AccessError.self) { _ = try registry.authenticate(certificate: stray.certificate.derBytes) }?.code == .unknownClient)

        let (_, certificate) = try await registry.register(request: try TestAppliance.request("clerk").der, name: "clerk", role: .clerk)
        // The clock is set from the certificate, not from how long the test took to get here.
        clock.set((certificate.notBefore + 60) * 1000)
        #expect(throws: Never.self) { _ = try registry.authenticate(certificate: certificate.derBytes) }
        // Before its notBefore and after its notAfter.
        clock.set((certificate.notBefore - 60) * 1000)
        #expect(caught(AccessError.self) { _ = try registry.authenticate(certificate: certificate.derBytes) }?.code == .expired)
        clock.set((certificate.notAfter + 60) * 1000)
        #expect(caught(AccessError.self) { _ = try registry.authenticate(certificate: certificate.derBytes) }?.code == .expired)
        clock.set((certificate.notBefore + 60) * 1000)

        // Revoked: refused from the next call on, with no restart.
        _ = try await appliance.authority.revoke(serial: certificate.serialNumber, reason: .affiliationChanged)
        let revoked = caught(AccessError.self) { _ = try registry.authenticate(certificate: certificate.derBytes) }
        #expect(revoked?.code == .revoked && revoked?.reason.contains("affiliationChanged") == true, "\(String(describing: revoked))")
    }

    @Test("a bad name or a bad request registers nothing and appends nothing")
    func badRegistrations() async throws {
        let appliance = try await TestAppliance()
        let registry = try ClientRegistry(authority: appliance.authority, database: appliance.database)
        let size = appliance.ledger.size
        for name in ["", "../etc", "-dash", String(repeating: "a", count: 65), "sp ace"] {
            let error = await caught(AccessError.self) { _ = try await registry.register(request: try TestAppliance.request("x").der, name: name, role: .clerk) }
            #expect(error?.code == .invalidClient, "\(name)")
        }
        let garbage = await caught(AccessError.self) { _ = try await registry.register(request: [0x30, 0x03, 0x02, 0x01, 0x01], name: "ok", role: .auditor) }
        #expect(garbage?.code == .issuance && garbage?.reason.hasPrefix("malformed-csr") == true, "\(String(describing: garbage))")
        #expect(appliance.ledger.size == size)
        #expect(try registry.accessList.all().isEmpty)
    }

    @Test("the role table: each action is granted to exactly the roles docs/api.md §2 lists")
    func roles() throws {
        let expected: [Action: Set<Role>] = [
            .depositEvidence: [.clerk], .recordService: [.clerk], .registerAward: [.clerk],
            .readEntries: [.clerk, .auditor, .`operator`], .exportBundles: [.clerk, .auditor], .audit: [.auditor, .`operator`],
            .manageClients: [.`operator`], .readMetrics: [.`operator`], .timeStamp: [.clerk, .auditor, .`operator`],
        ]
        for action in Action.allCases {
            #expect(Set(Role.allCases.filter { $0.permits(action) }) == expected[action], "\(action)")
        }
        let record = ClientRecord(name: "a", role: .auditor, certificate: try Certificate.parseChain(pem: TestAppliance.selfSigned()).first!, registeredAt: "2026-11-23T00:00:00.000Z")
        let error = caught(AccessError.self) { try Client(record: record).require(.depositEvidence) }
        #expect(error?.code == .forbidden && error?.reason.contains("clerk") == true)
    }
}

@Suite("Idempotency keys: reservation, replay after a restart, mismatch, expiry")
struct IdempotencyStoreTests {
    let client = [UInt8](repeating: 1, count: 32)

    @Test("the key's record written in the entry's batch survives a restart and replays that entry; a refused append leaves none")
    func recordedWithTheEntry() async throws {
        let appliance = try await TestAppliance()
        var store = try IdempotencyStore(database: appliance.database, retentionHours: 24)
        let body = Array(#"{"case":"ODR-1"}"#.utf8)
        guard case .new(let reservation) = try store.lookup(client: client, key: "k-1", method: "POST", path: "/v1/evidence", body: body) else {
            Issue.record("a first use is new")
            return
        }
        // A second request with the key while the first is handled.
        #expect(try store.lookup(client: client, key: "k-1", method: "POST", path: "/v1/evidence", body: body) == .inProgress)
        let receipt = try await appliance.ledger.append(type: .evidence, body: .object(["case": .string("ODR-1")]), keyedBySeq: { [store] seq in store.record(reservation, answer: .entry(seq: seq)) })
        store.release(reservation)

        try appliance.reopen()
        store = try IdempotencyStore(database: appliance.database, retentionHours: 24)
        #expect(try store.lookup(client: client, key: "k-1", method: "POST", path: "/v1/evidence", body: body) == .replay(.entry(seq: receipt.seq)))
        #expect(try store.lookup(client: client, key: "k-1", method: "POST", path: "/v1/evidence", body: body + [0x20]) == .mismatch)
        #expect(try store.lookup(client: client, key: "k-1", method: "POST", path: "/v1/clients", body: body) == .mismatch)
        // Keys are the client's own.
        guard case .new(let other) = try store.lookup(client: [UInt8](repeating: 2, count: 32), key: "k-1", method: "POST", path: "/v1/evidence", body: body) else {
            Issue.record("another client's key is another key")
            return
        }
        store.release(other)

        // An append the ledger refuses (a body over 128 KiB) writes no record.
        guard case .new(let refused) = try store.lookup(client: client, key: "k-2", method: "POST", path: "/v1/evidence", body: body) else {
            Issue.record("k-2 is new")
            return
        }
        let tooLarge: JSONValue = .object(["note": .string(String(repeating: "x", count: LedgerEntry.maximumBytes))])
        let error = await caught(LedgerError.self) { _ = try await appliance.ledger.append(type: .evidence, body: tooLarge, keyedBySeq: { [store] seq in store.record(refused, answer: .entry(seq: seq)) }) }
        #expect(error != nil)
        store.release(refused)
        guard case .new(let again) = try store.lookup(client: client, key: "k-2", method: "POST", path: "/v1/evidence", body: body) else {
            Issue.record("a failed request leaves its key unused")
            return
        }
        store.release(again)
    }

    @Test("a key is honoured for the retention period, then new; purging removes what expired and keeps the rest")
    func expiry() async throws {
        let appliance = try await TestAppliance()
        let clock = TestClock()
        let store = try IdempotencyStore(database: appliance.database, retentionHours: 1, clock: { clock.read() })
        for (key, serial) in [("old", "AA"), ("young", "BB")] {
            guard case .new(let reservation) = try store.lookup(client: client, key: key, method: "POST", path: "/v1/clients", body: []) else { throw CancellationError() }
            try appliance.database.write(store.record(reservation, answer: .certificate(serialHex: serial)), durability: .synced)
            store.release(reservation)
            clock.advance(40 * 60_000)
        }
        // 80 minutes after "old" was answered and 40 after "young".
        #expect(try store.purgeExpired() == 1)
        #expect(try store.lookup(client: client, key: "young", method: "POST", path: "/v1/clients", body: []) == .replay(.certificate(serialHex: "BB")))
        guard case .new(let reservation) = try store.lookup(client: client, key: "old", method: "POST", path: "/v1/clients", body: [1]) else {
            Issue.record("an expired key is new")
            return
        }
        store.release(reservation)
        #expect(try store.purgeExpired() == 0)
    }

    @Test("a key is 1 to 255 printable ASCII characters")
    func keySyntax() {
        #expect(IdempotencyStore.problem(with: "8e0c5a8e-2f7d-4c53-9a55-1f7c0e6b2d11") == nil)
        #expect(IdempotencyStore.problem(with: String(repeating: "k", count: 255)) == nil)
        for bad in ["", String(repeating: "k", count: 256), "tab\there", "é", "del\u{7F}"] {
            #expect(IdempotencyStore.problem(with: bad) != nil, "\(bad)")
        }
    }
}

@Suite("The API's TLS server identity: issued once, kept, renewed before its end or when its names change")
struct ServerIdentityTests {
    let logger = Logger(label: "test")

    @Test("host names: DNS names and IPv4/IPv6 addresses; anything else is refused")
    func names() throws {
        let names = try ServerIdentity.names(["localhost", "127.0.0.1", "::1", "[fe80::1]", "Notary.Example.ORG"])
        #expect(names.map(\.description) == ["DNS:localhost", "IP:127.0.0.1", "IP:0:0:0:0:0:0:0:1", "IP:fe80:0:0:0:0:0:0:1", "DNS:notary.example.org"])
        #expect(caught(AccessError.self) { _ = try ServerIdentity.names([]) }?.code == .serverIdentity)
        #expect(caught(AccessError.self) { _ = try ServerIdentity.names(["bad_host!"]) }?.code == .serverIdentity)
    }

    @Test("issued at first, then the same one (its key unsealed, matching) until 30 days before its end or a change of names")
    func renewal() async throws {
        let appliance = try await TestAppliance()
        let names = try ServerIdentity.names(["localhost", "127.0.0.1"])
        let issuing = appliance.authority.hierarchy.issuing
        #expect(try ServerIdentity.isDue(database: appliance.database, authority: appliance.authority, names: names))
        let (first, issued) = try await ServerIdentity.current(database: appliance.database, authority: appliance.authority, names: names, keysDirectory: appliance.keys, sealing: appliance.sealing, logger: logger)
        #expect(issued && first.certificate.isSigned(by: issuing))
        #expect(first.certificate.publicKey?.subjectPublicKeyInfo == first.key.subjectPublicKeyInfo)
        #expect(Set(first.certificate.alternativeNames.map(\.description)) == ["DNS:localhost", "IP:127.0.0.1"])
        #expect(!(try ServerIdentity.isDue(database: appliance.database, authority: appliance.authority, names: names)))

        try appliance.reopen()
        let (kept, renewedAfterRestart) = try await ServerIdentity.current(database: appliance.database, authority: appliance.authority, names: names, keysDirectory: appliance.keys, sealing: appliance.sealing, logger: logger)
        #expect(!renewedAfterRestart && kept.certificate.derBytes == first.certificate.derBytes)
        #expect(kept.key.subjectPublicKeyInfo == first.key.subjectPublicKeyInfo)

        // 31 days before its end it stays; 29 days before it is replaced, with a new key.
        let early = first.certificate.notAfter - 31 * 86_400, late = first.certificate.notAfter - 29 * 86_400
        #expect(!(try ServerIdentity.isDue(database: appliance.database, authority: appliance.authority, names: names, now: early)))
        #expect(try ServerIdentity.isDue(database: appliance.database, authority: appliance.authority, names: names, now: late))
        let keyFiles = { try FileManager.default.contentsOfDirectory(atPath: appliance.keys).filter { $0.hasPrefix("api-tls-") } }
        #expect(try keyFiles().count == 1)
        let (second, renewed) = try await ServerIdentity.current(database: appliance.database, authority: appliance.authority, names: names, keysDirectory: appliance.keys, sealing: appliance.sealing, logger: logger, now: late)
        #expect(renewed && second.certificate.serialNumber != first.certificate.serialNumber)
        #expect(second.key.subjectPublicKeyInfo != first.key.subjectPublicKeyInfo)
        #expect(try keyFiles().count == 1, "the replaced key's file is removed")

        // Another host name: issued again for the new names.
        let moved = try ServerIdentity.names(["notary.example.org"])
        #expect(try ServerIdentity.isDue(database: appliance.database, authority: appliance.authority, names: moved))
        let (third, renamed) = try await ServerIdentity.current(database: appliance.database, authority: appliance.authority, names: moved, keysDirectory: appliance.keys, sealing: appliance.sealing, logger: logger)
        #expect(renamed && third.certificate.alternativeNames.map(\.description) == ["DNS:notary.example.org"])
        // Every issuance is a key-certified ledger entry.
        let certified = try (0..<appliance.ledger.size).map { try appliance.ledger.entry($0) }.filter { $0.type == .keyCertified && $0.body.objectValue?["role"] == .string("api-tls") }
        #expect(certified.count == 3)
    }
}

extension TestAppliance {
    /// A throwaway self-signed certificate, PEM, made by openssl.
    static func selfSigned() throws -> String {
        let directory = TemporaryDirectory()
        let result = try runProcess("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-keyout", directory.file("k.pem"), "-subj", "/CN=t", "-out", directory.file("c.pem"),
        ])
        guard result.status == 0 else { throw CancellationError() }
        return try String(contentsOfFile: directory.file("c.pem"), encoding: .utf8)
    }
}
