import Appliance
import Hummingbird
import RocksDBStore

/// `GET /healthz`: 200 with a small JSON document when the appliance can read its database,
/// 503 problem+json when it cannot. Load balancers and systemd watchdogs poll it.
struct HealthRoutes {
    let dataDirectory: DataDirectory

    func register(on router: AppRouter) {
        router.get("/healthz") { _, _ -> Response in
            do {
                // A real read through RocksDB, not a flag: a closed or failing database shows here.
                _ = try dataDirectory.database.get(Array("format-version".utf8), in: dataDirectory.database.columnFamily("meta"))
            } catch {
                throw ProblemDetails(status: .serviceUnavailable, type: "database-unavailable", detail: "the database cannot be read: \(error)")
            }
            let body = """
                {"status":"ok","version":\(jsonString(NotariumVersion.version)),"instance":\(jsonString(dataDirectory.metadata.instanceID))}
                """
            return Response(
                status: .ok,
                headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: body + "\n")))
        }
    }
}
