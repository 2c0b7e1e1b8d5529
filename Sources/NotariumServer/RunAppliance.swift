import Appliance
import Hummingbird
import Logging

/// What `notariumd` does after parsing its arguments: open (or create) the data directory, then
/// serve until SIGTERM or SIGINT. Prints the listening address on standard output once bound,
/// so scripts and people can see where it is.
/// - Throws: `DataDirectoryError` when the data directory cannot be used (in use, damaged, …).
public func runAppliance(configuration: ApplianceConfiguration, logger: Logger) async throws {
    let dataDirectory = try DataDirectory.openOrInitialize(
        at: configuration.dataDirectory, sealKeyFile: configuration.sealKeyFile, logger: logger)
    // Runs after the HTTP server has stopped and drained (runService returns only then).
    defer {
        dataDirectory.close()
        logger.notice("stopped", metadata: ["data": "\(configuration.dataDirectory)"])
    }
    logger.info("data directory open", metadata: [
        "data": "\(configuration.dataDirectory)", "instance": "\(dataDirectory.metadata.instanceID)",
        "config": "\(configuration.configurationFile ?? "(none: embedded defaults)")",
    ])
    let application = buildApplication(
        configuration: configuration, dataDirectory: dataDirectory, logger: logger,
        onListening: { address in
            print("notariumd \(NotariumVersion.version) listening on http://\(address) (data: \(configuration.dataDirectory))")
            fflushStandardOutput()
            logger.notice("listening", metadata: ["http.address": "\(address)"])
        })
    try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
}
