import Access
import Appliance
import CertificateAuthority
import Hummingbird
import HummingbirdCore
import ServiceLifecycle
import Ledger
import Logging
import NIOCore
import TimeStamping

/// Builds the appliance's plain HTTP application on an open data directory: the public
/// endpoints relying parties fetch without credentials (health, ledger, CA, OCSP, TSA, metrics).
/// A plain function, so tests and `notariumd` build the same thing; it starts nothing until the
/// application is run. The caller owns the data directory and closes it after the application
/// has stopped, so no request can reach a closed database.
///
/// - Parameters:
///   - services: run with this application and stopped with it (the TLS API application).
///   - tsaIsPublic: false when `api.tsa-client-certificate` keeps the TSA to the TLS listener.
///   - onListening: told the address actually bound (port 0 picks one).
public func buildApplication(
    configuration: ApplianceConfiguration,
    dataDirectory: DataDirectory,
    ledger: Ledger,
    authority: CertificateAuthority? = nil,
    tsa: TimeStampAuthority? = nil,
    stamper: LedgerTimeStamper? = nil,
    tsaIsPublic: Bool = true,
    services: [any Service] = [],
    logger: Logger,
    onListening: @escaping @Sendable (ListenAddress) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = AppRouter()
    // Middleware applies to the routes added after it, and to "not found".
    router.add(middleware: ProblemDetailsMiddleware(logger: logger))
    HealthRoutes(dataDirectory: dataDirectory).register(on: router)
    LedgerRoutes(ledger: ledger).register(on: router)
    if let authority { CARoutes(authority: authority).register(on: router) }
    if let tsa, tsaIsPublic { TSARoutes(tsa: tsa).register(on: router) }
    if let stamper { TimestampRoutes(stamper: stamper).register(on: router) }
    MetricsRoutes().register(on: router)

    return Application(
        router: router.finish(),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.listen.host, port: configuration.listen.port),
            serverName: "notariumd/\(NotariumVersion.version)"),
        services: services,
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.listen.port
            await onListening(ListenAddress(host: configuration.listen.host, port: port))
        },
        logger: logger)
}

/// Builds the API application: HTTPS on `api.listen` with the API's server certificate, the
/// `/v1` endpoints (docs/api.md) behind client certificates, and every public endpoint of the
/// plain listener as well, so that a platform needs one base URL. `/metrics` here needs an
/// operator's certificate; the TSA needs a client's when `api.tsa-client-certificate` is set.
public func buildAPIApplication(
    configuration: ApplianceConfiguration,
    dataDirectory: DataDirectory,
    authority: CertificateAuthority,
    tsa: TimeStampAuthority,
    api: APIServices,
    tls: TLSContextBox,
    logger: Logger,
    onListening: @escaping @Sendable (ListenAddress) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = AppRouter()
    router.add(middleware: ProblemDetailsMiddleware(logger: logger))
    let routes = APIRoutes(api: api)
    HealthRoutes(dataDirectory: dataDirectory).register(on: router)
    LedgerRoutes(ledger: api.ledger).register(on: router)
    CARoutes(authority: authority).register(on: router)
    var tsaGate: (@Sendable (Request, NotariumRequestContext) async throws -> Void)? = nil
    if api.settings.tsaNeedsClientCertificate {
        tsaGate = { @Sendable request, context in _ = try await routes.authenticate(request, context, for: .timeStamp) }
    }
    TSARoutes(tsa: tsa, gate: tsaGate).register(on: router)
    TimestampRoutes(stamper: api.stamper).register(on: router)
    let metricsGate: @Sendable (Request, NotariumRequestContext) async throws -> Void = { request, context in
        _ = try await routes.authenticate(request, context, for: .readMetrics)
    }
    MetricsRoutes(gate: metricsGate).register(on: router)
    routes.register(on: router)
    PortalRoutes(api: api, routes: routes).register(on: router)
    OpenAPIRoutes().register(on: router)

    let address = configuration.api.listen
    return Application(
        router: router.finish(),
        server: .renewableTLS(tls, idleTimeout: .seconds(Int64(configuration.api.bodyTimeoutSeconds) * 2)),
        configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "notariumd/\(NotariumVersion.version)"),
        onServerRunning: { channel in
            await onListening(ListenAddress(host: address.host, port: channel.localAddress?.port ?? address.port))
        },
        logger: logger)
}
