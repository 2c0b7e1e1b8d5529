import Appliance
import Hummingbird
import Logging

/// An RFC 9457 problem: what every HTTP error of the appliance answers with, as
/// `application/problem+json`. Routes throw it; `ProblemDetailsMiddleware` renders it.
public struct ProblemDetails: Error, Sendable {
    public let status: HTTPResponse.Status
    /// A short, stable identifier; the `type` member is `urn:notarium:problem:<type>`.
    public let type: String
    public let detail: String

    public init(status: HTTPResponse.Status, type: String, detail: String) {
        self.status = status
        self.type = type
        self.detail = detail
    }

    var json: String {
        "{\"type\":\(jsonString("urn:notarium:problem:" + type)),\"title\":\(jsonString(status.reasonPhrase)),\"status\":\(status.code),\"detail\":\(jsonString(detail))}\n"
    }

    func response() -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/problem+json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }
}

/// Turns every error a route throws into problem+json: `ProblemDetails` as is, Hummingbird's
/// `HTTPError` (unknown route, wrong method, oversized body) with its status, and anything else
/// as a 500 whose detail is logged, not sent.
struct ProblemDetailsMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as ProblemDetails {
            return problem.response()
        } catch let error as HTTPError {
            let type = error.status == .notFound ? "not-found" : "http-\(error.status.code)"
            let detail = error.body ?? (error.status == .notFound ? "no resource at \(request.uri.path)" : error.status.reasonPhrase)
            return ProblemDetails(status: error.status, type: type, detail: detail).response()
        } catch {
            logger.error("request failed", metadata: ["http.path": "\(request.uri.path)", "error": "\(error)"])
            return ProblemDetails(status: .internalServerError, type: "internal", detail: "the appliance failed to handle the request; see its log").response()
        }
    }
}
