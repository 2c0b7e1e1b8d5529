import CoreMetrics
import Hummingbird
import NIOCore
import Prometheus

/// Installs the Prometheus registry as the process's metrics backend. Call once, first thing in
/// notariumd (swift-metrics allows one bootstrap per process); objects made before it report
/// nowhere.
public func bootstrapMetrics() {
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metricsRegistry))
}

/// The registry `GET /metrics` reads.
let metricsRegistry = PrometheusCollectorRegistry()

/// `GET /metrics`: the Prometheus text exposition (version 0.0.4) of what the appliance
/// counts: time-stamps, the ledger's time-stamp backlog, the TSA's answers.
struct MetricsRoutes {
    /// Checks the request first (on the TLS listener: an operator's certificate).
    var gate: (@Sendable (Request, NotariumRequestContext) async throws -> Void)? = nil

    func register(on router: AppRouter) {
        router.get("/metrics") { request, context -> Response in
            try await gate?(request, context)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metricsRegistry.emitToBuffer())))
        }
    }
}
