import Appliance
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The request context of every route.
public typealias NotariumRequestContext = BasicRequestContext

/// Builds the appliance's HTTP application on an open data directory. A plain function, so tests
/// and `notariumd` build the same thing; it starts nothing until the application is run.
///
/// Services run in dependency order and stop in reverse: on SIGTERM/SIGINT the HTTP server stops
/// accepting and drains first, then the data directory closes (RocksDB flushes, releases its lock).
///
/// - Parameter onListening: told the address actually bound (port 0 picks one).
public func buildApplication(
    configuration: ApplianceConfiguration,
    dataDirectory: DataDirectory,
    logger: Logger,
    onListening: @escaping @Sendable (ListenAddress) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router(context: NotariumRequestContext.self)
    // Middleware applies to the routes added after it, and to "not found".
    router.add(middleware: ProblemDetailsMiddleware(logger: logger))
    HealthRoutes(dataDirectory: dataDirectory).register(on: router)

    return Application(
        router: router,
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.listen.host, port: configuration.listen.port),
            serverName: "notariumd/\(NotariumVersion.version)"),
        services: [DataDirectoryService(dataDirectory: dataDirectory, logger: logger)],
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.listen.port
            await onListening(ListenAddress(host: configuration.listen.host, port: port))
        },
        logger: logger)
}

/// Keeps the data directory open while the appliance runs and closes it on shutdown, after the
/// HTTP server (listed after it) has stopped.
struct DataDirectoryService: Service {
    let dataDirectory: DataDirectory
    let logger: Logger

    func run() async throws {
        // Returns when graceful shutdown begins (or the task is cancelled).
        try? await gracefulShutdown()
        dataDirectory.close()
        logger.notice("data directory closed", metadata: ["data": "\(dataDirectory.path)"])
    }
}
