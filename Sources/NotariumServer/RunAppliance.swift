import Access
import Appliance
import CertificateAuthority
import Delivery
import DeliveryTransport
import Foundation
import Hummingbird
import Ledger
import Logging
import NIOSSL
import Notary
import OpenSSLKit
import Sodium
import TimeStamping

/// What `notariumd` does after parsing its arguments: open (or create) the data directory and
/// its ledger, then serve until SIGTERM or SIGINT, cutting checkpoints on the configured
/// interval. Prints the listening address on standard output once bound, so scripts and people
/// can see where it is.
/// - Throws: `DataDirectoryError` when the data directory cannot be used (in use, damaged, …).
public func runAppliance(configuration: ApplianceConfiguration, logger: Logger) async throws {
    let dataDirectory = try DataDirectory.openOrInitialize(
        at: configuration.dataDirectory, sealKeyFile: configuration.sealKeyFile, logger: logger)
    // Runs last, after the HTTP server has stopped and drained (runService returns only then)
    // and the ledger has committed what was queued.
    defer {
        dataDirectory.close()
        logger.notice("stopped", metadata: ["data": "\(configuration.dataDirectory)"])
    }
    let (ledger, signer) = try dataDirectory.openLedger(configuration: configuration, withSigner: true, logger: logger)
    defer { ledger.close() }
    logger.info("data directory open", metadata: [
        "data": "\(configuration.dataDirectory)", "instance": "\(dataDirectory.metadata.instanceID)",
        "config": "\(configuration.configurationFile ?? "(none: embedded defaults)")",
        "ledger.origin": "\(ledger.identity.origin)", "ledger.size": "\(ledger.size)",
    ])
    // The CA is created on first start with the configured (or embedded) settings.
    let authority = try await dataDirectory.openCA(configuration: configuration, ledger: ledger, create: true, logger: logger)
    logger.info("CA open", metadata: [
        "ca.issuing": "\(authority.hierarchy.issuing.subject)", "ca.public-files": "\(dataDirectory.publicPath)",
        "ca.base-url": "\(authority.settings.publicBaseURL)",
    ])
    // The TSA is created on first start too, its key certified by the CA just opened.
    let tsa = try await dataDirectory.openTSA(configuration: configuration, authority: authority, create: true, logger: logger)
    logger.info("TSA open", metadata: ["tsa.certificate": "\(tsa.certificate.serialHex)", "tsa.policy": "\(tsa.settings.policyOID)"])
    // The API: its TLS identity (issued at first start, renewed before it ends), its clients.
    let (identity, _) = try await dataDirectory.openServerIdentity(configuration: configuration, authority: authority, logger: logger)
    let tls = TLSContextBox(try makeServerTLSContext(identity))
    let registry = try ClientRegistry(authority: authority, database: dataDirectory.database)
    if let directory = try await dataDirectory.bootstrapOperator(registry: registry, logger: logger) {
        print("notariumd: the first operator's API credentials are in \(directory) (client.crt, client.key, client.p12); keep them safe")
    }
    let idempotency = try IdempotencyStore(database: dataDirectory.database, retentionHours: configuration.api.idempotencyRetentionHours)
    let maintenance = Task {
        while !Task.isCancelled {
            do {
                try await authority.maintain()
            } catch {
                logger.error("CA maintenance failed", metadata: ["error": "\(error)"])
            }
            do {
                if let renewed = try await dataDirectory.renewServerIdentityIfDue(configuration: configuration, authority: authority, logger: logger) {
                    tls.replace(with: try makeServerTLSContext(renewed))
                }
            } catch {
                logger.error("renewing the API's TLS certificate failed; the current one stays", metadata: ["error": "\(error)"])
            }
            do {
                let purged = try idempotency.purgeExpired()
                if purged > 0 { logger.info("expired idempotency keys purged", metadata: ["api.idempotency-purged": "\(purged)"]) }
            } catch {
                logger.error("purging idempotency keys failed", metadata: ["error": "\(error)"])
            }
            do { try await Task.sleep(for: .seconds(600)) } catch { return }
        }
    }
    defer { maintenance.cancel() }
    // Tokens for checkpoints and for evidence, service and award entries, behind the appends.
    let stamper = try LedgerTimeStamper(ledger: ledger, authority: tsa, logger: logger)
    stamper.start()
    defer { stamper.stop() }
    logger.info("ledger time-stamping started", metadata: ["ledger.timestamp-backlog": "\(stamper.backlog)"])
    let checkpointer = Checkpointer(ledger: ledger, signer: signer!, stamper: stamper, logger: logger)
    let periodic = Task { await checkpointer.run(every: configuration.checkpointIntervalSeconds) }
    let notary = try Notary(ledger: ledger, database: dataDirectory.database)
    // Electronic service: the outbox, bounces and deadlines, worked every second.
    let delivery = try openDelivery(configuration: configuration.delivery, notary: notary, dataDirectory: dataDirectory, sealKeyFile: configuration.sealKeyFile, logger: logger)
    let bounceMaildir = configuration.delivery.email?.bounceMaildir
    let dispatcher = Task {
        while !Task.isCancelled {
            // Until the API listener is bound, a portal on its address has no base for links.
            guard delivery.isReady else {
                do { try await Task.sleep(for: .milliseconds(100)) } catch { return }
                continue
            }
            await delivery.runDue()
            if let bounceMaildir { await delivery.processBounces(maildir: bounceMaildir) }
            await delivery.runDeadlines()
            delivery.sweepDocuments()
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }
    let api = APIServices(registry: registry, idempotency: idempotency, notary: notary, delivery: delivery, stamper: stamper, checkpointSigner: signer, settings: configuration.api)
    let apiApplication = buildAPIApplication(
        configuration: configuration, dataDirectory: dataDirectory, authority: authority, tsa: tsa, api: api, tls: tls, logger: logger,
        onListening: { address in
            print("notariumd \(NotariumVersion.version) API serving on https://\(address) (client certificates: docs/api.md)")
            delivery.portalListening(at: "https://\(address)")
            fflushStandardOutput()
            logger.notice("API listening", metadata: ["https.address": "\(address)"])
        })
    let application = buildApplication(
        configuration: configuration, dataDirectory: dataDirectory, ledger: ledger, authority: authority, tsa: tsa, stamper: stamper,
        tsaIsPublic: !configuration.api.tsaNeedsClientCertificate, services: [apiApplication], logger: logger,
        onListening: { address in
            print("notariumd \(NotariumVersion.version) listening on http://\(address) (data: \(configuration.dataDirectory))")
            fflushStandardOutput()
            logger.notice("listening", metadata: ["http.address": "\(address)"])
        })
    /// Stops the periodic checkpoints (waiting for one in progress), then cuts a last one and
    /// stamps it, so that what was appended is signed and timed before the ledger and the
    /// database close. Entries still waiting for their own token get it after the restart.
    func stopCheckpoints() async {
        // A pass in progress finishes its item; nothing is left half-recorded either way.
        dispatcher.cancel()
        await dispatcher.value
        periodic.cancel()
        await periodic.value
        checkpointer.cut()
        if let latest = try? ledger.latestCheckpoint() {
            do {
                _ = try stamper.checkpointToken(size: latest.size)
            } catch {
                logger.error("the last checkpoint has no time-stamp token yet; it gets one after the restart", metadata: ["error": "\(error)"])
            }
        }
    }
    do {
        try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    } catch {
        await stopCheckpoints()
        throw error
    }
    await stopCheckpoints()
}

/// Cuts a checkpoint every interval when the ledger grew since the latest one.
struct Checkpointer: Sendable {
    let ledger: Ledger
    let signer: NoteSigner
    /// Woken after a new checkpoint, to stamp it.
    let stamper: LedgerTimeStamper
    let logger: Logger

    func run(every seconds: Int) async {
        guard seconds > 0 else { return }
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(seconds))
            } catch {
                return
            }
            cut()
        }
    }

    /// Cuts a checkpoint if the tree grew; failures are logged, and the next tick tries again.
    func cut() {
        guard ledger.size > 0 else { return }
        do {
            let (record, isNew) = try ledger.cutCheckpoint(signer: signer)
            if isNew {
                logger.info("checkpoint cut", metadata: ["ledger.size": "\(record.size)", "ledger.previous": "\(record.previous.map(String.init) ?? "none")"])
                stamper.wake()
            }
        } catch {
            logger.error("checkpoint failed", metadata: ["error": "\(error)"])
        }
    }
}

/// The TLS context of the API listener: the server's certificate and the CA chain above it;
/// client certificates are asked for and, when sent, must chain to this CA's root (TLS 1.2 or
/// later). A client without one still connects, for the public endpoints; the routes that need
/// one answer 401 (docs/api.md §1).
func makeServerTLSContext(_ identity: ServerIdentity) throws -> NIOSSLContext {
    // The TLS library takes the key as PKCS#8 bytes; the copy is wiped once it has read them.
    guard var keyBytes = identity.key.withPKCS8({ Array($0) }) else {
        throw AccessError(.serverIdentity, "cannot export the TLS key to the TLS library")
    }
    defer { keyBytes.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
    let key = try NIOSSLPrivateKey(bytes: keyBytes, format: .der)
    let chain = try ([identity.certificate] + identity.chain.dropLast()).map { try NIOSSLCertificate(bytes: $0.derBytes, format: .der) }
    var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    configuration.minimumTLSVersion = .tlsv12
    configuration.certificateVerification = .optionalVerification
    configuration.trustRoots = .certificates(try identity.chain.map { try NIOSSLCertificate(bytes: $0.derBytes, format: .der) })
    return try NIOSSLContext(configuration: configuration)
}

/// Delivery as configured: the notice texts (a directory, or the ones built in) and the relay.
func openDelivery(configuration: DeliverySettings, notary: Notary, dataDirectory: DataDirectory, sealKeyFile: String, logger: Logger) throws -> Delivery {
    let templates = try configuration.noticesDirectory.map { directory throws(NoticeTemplates.LoadError) in try NoticeTemplates(directory: directory) } ?? NoticeTemplates.embedded()
    var email: EmailSettings?
    if let settings = configuration.email {
        let credentials = try settings.credentials()
        email = try EmailSettings(
            relay: SMTPRelay(host: settings.host, port: settings.port, security: settings.security, trustRoots: settings.caFile, credentials: credentials, heloName: settings.helo),
            from: MailMessage.Address(settings.from, name: settings.fromName.isEmpty ? nil : settings.fromName),
            envelopeSender: settings.envelopeFrom, messageIDDomain: settings.helo)
        logger.info("e-mail delivery through the relay", metadata: [
            "delivery.email.relay": "\(settings.host):\(settings.port)", "delivery.email.security": "\(settings.security.rawValue)",
            "delivery.email.bounce-maildir": "\(settings.bounceMaildir ?? "(none)")",
        ])
    } else {
        logger.info("no e-mail relay configured (delivery.email.relay): notices by e-mail wait in the outbox")
    }
    logger.info("notice languages", metadata: ["delivery.languages": "\(templates.languages.joined(separator: ","))"])
    var sms: SMSSettings?
    if let settings = configuration.sms {
        let secret = try DeliverySettings.secret(settings.reportSecretFile)
        sms = try SMSSettings(
            gateway: SMSGateway(url: settings.gatewayURL, token: try DeliverySettings.secret(settings.tokenFile), sender: settings.sender, trustRoots: settings.caFile),
            reportSecret: SecureBytes(copying: Array(secret.utf8)), callbackURL: settings.callbackURL ?? configuration.portalBaseURL.map { $0 + "/delivery/sms/reports" })
        logger.info("SMS delivery through the gateway", metadata: ["delivery.sms.gateway-url": "\(settings.gatewayURL)"])
    }
    let key = try dataDirectory.openDeliveryKey(sealKeyFile: sealKeyFile, logger: logger)
    let vault = try DocumentVault(database: dataDirectory.database, key: key, retentionMilliseconds: Int64(configuration.documentRetentionDays) * 86_400_000)
    let portal = PortalSettings(baseURL: configuration.portalBaseURL ?? "", key: key)
    return try Delivery(notary: notary, database: dataDirectory.database, templates: templates, email: email, sms: sms, portal: portal, vault: vault, logger: logger)
}
