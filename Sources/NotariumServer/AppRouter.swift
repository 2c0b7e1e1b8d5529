import HTTPTypes
import Hummingbird

/// The appliance's router: Hummingbird's, remembering which methods each path has, so that a
/// request with another method gets 405 with an `Allow` header (RFC 9110 §15.5.6) rather than
/// Hummingbird's 404, which would tell a client that a resource it can use does not exist.
/// Routes register on it as on any Hummingbird router; `finish()` adds the 405 answers.
final class AppRouter: RouterMethods {
    typealias Context = NotariumRequestContext

    let router: Router<Context>
    private var methods: [String: Set<HTTPRequest.Method>] = [:]
    private var order: [RouterPath] = []

    init() {
        // HEAD of every GET, as HTTP requires of a GET resource.
        router = Router(context: Context.self, options: .autoGenerateHeadEndpoints)
    }

    @discardableResult func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder) -> Self where Responder.Context == Context {
        let key = path.description
        if methods[key] == nil { order.append(path) }
        methods[key, default: []].insert(method)
        router.on(path, method: method, responder: responder)
        return self
    }

    @discardableResult func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        router.add(middleware: middleware)
        return self
    }

    /// The methods a client may try that a path does not have: each answers 405. QUERY is the
    /// safe method with a body of draft-ietf-httpbis-safe-method-w-body, which clients send now.
    static let probedMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options, .trace, HTTPRequest.Method("QUERY")!]

    /// Adds the 405 answers; call once, after every route is registered.
    func finish() -> Router<Context> {
        for path in order {
            var allowed = methods[path.description] ?? []
            if allowed.contains(.get) { allowed.insert(.head) }
            let allow = Self.probedMethods.filter(allowed.contains).map(\.rawValue).joined(separator: ", ")
            for method in Self.probedMethods where !allowed.contains(method) {
                router.on(path, method: method) { request, _ -> Response in
                    var problem = ProblemDetails(status: .methodNotAllowed, type: "method-not-allowed", detail: "\(request.uri.path) answers \(allow), not \(request.method.rawValue)")
                    problem.headers[.allow] = allow
                    throw problem
                }
            }
        }
        return router
    }
}
