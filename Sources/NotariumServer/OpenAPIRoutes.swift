import Hummingbird
import NIOCore

/// `GET /v1/openapi.yaml`: the OpenAPI 3.1 contract of the API (docs/openapi.yaml), public, so
/// that a platform's developers and tools (schemathesis, code generators) can read it.
struct OpenAPIRoutes {
    func register(on router: AppRouter) {
        router.get("/v1/openapi.yaml") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/yaml", .cacheControl: "public, max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
    }
}
