import Appliance
import CertificateAuthority
import Hummingbird
import Ledger
import Logging
import TimeStamping
import NIOCore

/// The request context of every route.
public typealias NotariumRequestContext = BasicRequestContext

/// Builds the appliance's HTTP application on an open data directory. A plain function, so tests
/// and `notariumd` build the same thing; it starts nothing until the application is run. The
/// caller owns the data directory and closes it after the application has stopped, so no request
/// can reach a closed database.
///
/// - Parameter onListening: told the address actually bound (port 0 picks one).
public func buildApplication(
    configuration: ApplianceConfiguration,
    dataDirectory: DataDirectory,
    ledger: Ledger,
    authority: CertificateAuthority? = nil,
    tsa: TimeStampAuthority? = nil,
    stamper: LedgerTimeStamper? = nil,
    logger: Logger,
    onListening: @escaping @Sendable (ListenAddress) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router(context: NotariumRequestContext.self)
    // Middleware applies to the routes added after it, and to "not found".
    router.add(middleware: ProblemDetailsMiddleware(logger: logger))
    HealthRoutes(dataDirectory: dataDirectory).register(on: router)
    LedgerRoutes(ledger: ledger).register(on: router)
    if let authority { CARoutes(authority: authority).register(on: router) }
    if let tsa { TSARoutes(tsa: tsa).register(on: router) }
    if let stamper { TimestampRoutes(stamper: stamper).register(on: router) }
    MetricsRoutes().register(on: router)

    return Application(
        router: router,
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.listen.host, port: configuration.listen.port),
            serverName: "notariumd/\(NotariumVersion.version)"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.listen.port
            await onListening(ListenAddress(host: configuration.listen.host, port: port))
        },
        logger: logger)
}
