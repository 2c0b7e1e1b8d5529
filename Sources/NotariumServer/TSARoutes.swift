import CoreMetrics
import Hummingbird
import NIOCore
import OpenSSLKit
import TimeStamping

/// The time-stamp authority over HTTP (RFC 3161 §3.4, docs/tsa.md).
///
/// - `POST /tsa` with `application/timestamp-query`: always a `application/timestamp-reply`
///   with HTTP 200 once the body is read, a token or a rejection with its failure code,
///   because RFC 3161 clients read the outcome from the TimeStampResp. What is not a
///   time-stamp query at the HTTP level gets problem+json: another content type (415), a body
///   over 64 KiB (413), another method (405).
/// - `GET /tsa/certs`: the TSA certificate, the issuing CA and the root, PEM.
struct TSARoutes {
    let tsa: TimeStampAuthority
    /// Checks the request first (`api.tsa-client-certificate`: a registered client's certificate).
    var gate: (@Sendable (Request, NotariumRequestContext) async throws -> Void)? = nil
    /// Made on first use, after notariumd has bootstrapped the metrics backend.
    static let granted = Counter(label: "notarium_tsa_responses_total", dimensions: [("status", "granted")])
    static let rejected = Counter(label: "notarium_tsa_responses_total", dimensions: [("status", "rejection")])

    func register(on router: AppRouter) {
        router.post("/tsa") { request, context -> Response in
            try await gate?(request, context)
            let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            guard type == "application/timestamp-query" else {
                throw ProblemDetails(
                    status: .unsupportedMediaType, type: "unsupported-media-type",
                    detail: "POST /tsa takes an RFC 3161 TimeStampReq as application/timestamp-query, not \(type ?? "a body without a content type")")
            }
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: TimeStampRequest.maximumBytes)
            } catch {
                throw ProblemDetails(status: .contentTooLarge, type: "body-too-large", detail: "a time-stamp request is at most \(TimeStampRequest.maximumBytes) bytes")
            }
            let (response, outcome) = tsa.respond(to: Array(buffer: body))
            if case .granted = outcome { Self.granted.increment() } else { Self.rejected.increment() }
            // Only if OpenSSL could not even encode a rejection: never a 200 without a reply.
            guard !response.isEmpty else {
                throw ProblemDetails(status: .internalServerError, type: "tsa-failure", detail: "the TSA could not encode a reply")
            }
            return Response(
                status: .ok, headers: [.contentType: "application/timestamp-reply", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: response)))
        }
        router.get("/tsa/certs") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/pem-certificate-chain", .cacheControl: "public, max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: tsa.chainPEM)))
        }
    }
}
