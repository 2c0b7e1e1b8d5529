import Access
import Appliance
import CertificateAuthority
import Delivery
import Hummingbird
import Ledger
import Logging
import Notary
import Records

/// An RFC 9457 problem: what every HTTP error of the appliance answers with, as
/// `application/problem+json`. Routes throw it; `ProblemDetailsMiddleware` renders it.
public struct ProblemDetails: Error, Sendable {
    public let status: HTTPResponse.Status
    /// A short, stable identifier; the `type` member is `urn:notarium:problem:<type>`.
    public let type: String
    public let detail: String
    /// Headers the answer carries besides the content type (`Allow` of a 405).
    public var headers: HTTPFields = [:]

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
        headers.append(contentsOf: self.headers)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }
}

/// Turns every error a route throws into problem+json, in one place: what the modules' typed
/// errors say is the client's fault becomes its problem (`ProblemDetails(client:)`), and
/// anything else is a 500 whose detail is logged, not sent. Routes therefore just `try`.
struct ProblemDetailsMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            if let problem = ProblemDetails(client: error, path: request.uri.path) { return problem.response() }
            logger.error("request failed", metadata: ["http.path": "\(request.uri.path)", "error": "\(error)"])
            return ProblemDetails(status: .internalServerError, type: "internal", detail: "the appliance failed to handle the request; see its log").response()
        }
    }
}

// MARK: - From the modules' errors (docs/api.md §5 lists every type)

extension ProblemDetails {
    /// The problem to answer `error` with when it is the client's (or, for 503, a state the
    /// client may retry); nil when it is the appliance's own failure.
    init?(client error: any Error, path: String) {
        switch error {
        case let problem as ProblemDetails:
            self = problem
        case let error as HTTPError:
            // Hummingbird's own: unknown route, oversized body.
            let type = error.status == .notFound ? "not-found" : "http-\(error.status.code)"
            self.init(status: error.status, type: type, detail: error.body ?? (error.status == .notFound ? "no resource at \(path)" : error.status.reasonPhrase))
        case let error as RecordError:
            switch error.code {
            case .encoding: self.init(status: .badRequest, type: "malformed-base64", detail: error.reason)
            case .tooLarge: self.init(status: .contentTooLarge, type: "body-too-large", detail: error.reason)
            default: self.init(status: .unprocessableContent, type: "schema-violation", detail: error.reason)
            }
        case let error as AccessError:
            // 401: not recognised (no, unknown, revoked or expired certificate); 403: the role
            // does not allow it; 422: a registration refused.
            let status: HTTPResponse.Status
            switch error.code {
            case .noCertificate, .unknownClient, .revoked, .expired: status = .unauthorized
            case .forbidden: status = .forbidden
            case .invalidClient, .issuance: status = .unprocessableContent
            case .storage, .serverIdentity: return nil
            }
            self.init(status: status, type: error.code.rawValue, detail: error.reason)
        case let error as DeliveryError:
            if let notary = error.notary {
                self.init(client: notary, path: path)
                return
            }
            switch error.code {
            case .invalidPlan: self.init(status: .unprocessableContent, type: "invalid-delivery-plan", detail: error.reason)
            case .documentTooLarge: self.init(status: .contentTooLarge, type: "body-too-large", detail: error.reason)
            case .documentMissing: self.init(status: .unprocessableContent, type: error.code.rawValue, detail: error.reason)
            case .invalidReport: self.init(status: .unauthorized, type: error.code.rawValue, detail: error.reason)
            case .malformedReport: self.init(status: .badRequest, type: error.code.rawValue, detail: error.reason)
            case .unknownMessage: self.init(status: .notFound, type: error.code.rawValue, detail: error.reason)
            case .notary, .storage: return nil
            }
        case let error as NotaryError:
            let status: HTTPResponse.Status
            switch error.code {
            case .invalidRecord, .badSignature, .digestMismatch, .signerRefused, .serviceRule: status = .unprocessableContent
            case .notFound: status = .notFound
            case .conflict: status = .conflict
            // A time-stamp or checkpoint not available yet: the client may retry.
            case .unavailable: status = .serviceUnavailable
            case .ledger, .storage: return nil
            }
            self.init(status: status, type: error.code.rawValue, detail: error.reason)
        case let error as CAError:
            switch error.code {
            case .unknownSerial: self.init(status: .notFound, type: "not-found", detail: error.reason)
            case .alreadyRevoked: self.init(status: .conflict, type: error.code.rawValue, detail: error.reason)
            default:
                guard error.isClientError else { return nil }
                self.init(status: .unprocessableContent, type: error.code.rawValue, detail: error.reason)
            }
        case let error as LedgerError:
            guard let problem = LedgerRoutes.problem(error) as? ProblemDetails else { return nil }
            self = problem
        default:
            return nil
        }
    }
}
