import Access
import Appliance
import Notary
import Records
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
        var headers: HTTPFields = [.contentType: "application/problem+json", .cacheControl: "no-store"]
        // After a body that was cut short or refused unread, the connection's framing is
        // unknown: close it rather than read the rest as the next request.
        if status == .requestTimeout || status == .contentTooLarge { headers[.connection] = "close" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
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
        } catch let error as NotaryError where error.isClientError || error.code == .unavailable {
            return ProblemDetails(notary: error).response()
        } catch let error as AccessError where error.code != .storage && error.code != .serverIdentity {
            return ProblemDetails(access: error).response()
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

// MARK: - From the modules' errors (docs/api.md §5 lists every type)

extension ProblemDetails {
    /// 401 for a client that is not recognised (no, unknown, revoked or expired certificate),
    /// 403 for one whose role does not allow the request, 422 for a registration refused.
    init(access error: AccessError) {
        let status: HTTPResponse.Status = switch error.code {
        case .noCertificate, .unknownClient, .revoked, .expired: .unauthorized
        case .forbidden: .forbidden
        case .invalidClient, .issuance: .unprocessableContent
        case .storage, .serverIdentity: .internalServerError
        }
        self.init(status: status, type: error.code.rawValue, detail: error.reason)
    }

    /// A record's refusal: 400 when bytes do not decode (base64), 422 when they decode but
    /// break the schema.
    init(record error: RecordError) {
        switch error.code {
        case .encoding: self.init(status: .badRequest, type: "malformed-base64", detail: error.reason)
        case .tooLarge: self.init(status: .contentTooLarge, type: "body-too-large", detail: error.reason)
        default: self.init(status: .unprocessableContent, type: "schema-violation", detail: error.reason)
        }
    }

    /// The notary's refusals are the client's (422, 404, 409); its failures are the
    /// appliance's (503 when a time-stamp or checkpoint is not available yet, else 500).
    init(notary error: NotaryError) {
        let status: HTTPResponse.Status = switch error.code {
        case .invalidRecord, .badSignature, .digestMismatch, .signerRefused, .serviceRule: .unprocessableContent
        case .notFound: .notFound
        case .conflict: .conflict
        case .unavailable: .serviceUnavailable
        case .ledger, .storage: .internalServerError
        }
        self.init(status: status, type: error.code.rawValue, detail: error.reason)
    }
}
