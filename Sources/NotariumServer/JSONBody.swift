import CanonicalJSON
import Hummingbird
import NIOCore

/// Reading a JSON request body the same way on every endpoint: the content type, a size bound
/// per endpoint, a deadline for the whole body, strict JSON. Each failure is its own problem
/// (415, 413, 408, 400), raised before anything else happens, so a bad or slow request never
/// reaches the ledger.
struct JSONBody {
    let value: JSONValue
    /// The bytes as received: what an idempotency fingerprint covers.
    let bytes: [UInt8]

    static func read(_ request: Request, limit: Int, timeoutSeconds: Int) async throws -> JSONBody {
        try RequestBody.require("application/json", request)
        let bytes = try await RequestBody.collect(request, limit: limit, timeoutSeconds: timeoutSeconds)
        do {
            return JSONBody(value: try CanonicalJSON.parse(bytes), bytes: bytes)
        } catch {
            throw ProblemDetails(status: .badRequest, type: "malformed-json", detail: "the body is not JSON: \(error)")
        }
    }
}

/// Any request body, JSON or not (a document upload, a portal form, a signed report): its
/// content type, its size bound and its deadline, each refused as its own problem.
enum RequestBody {
    /// 415 unless the body is of media type `expected` (parameters such as `charset` aside).
    static func require(_ expected: String, _ request: Request) throws {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == expected else {
            throw ProblemDetails(
                status: .unsupportedMediaType, type: "unsupported-media-type",
                detail: "\(request.method) \(request.uri.path) takes \(expected), not \(type ?? "a body without a content type")")
        }
    }

    /// The whole body, at most `limit` bytes, within `timeoutSeconds` (413, 408 otherwise).
    static func collect(_ request: Request, limit: Int, timeoutSeconds: Int) async throws -> [UInt8] {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw ProblemDetails(status: .contentTooLarge, type: "body-too-large", detail: "this endpoint takes at most \(limit) bytes; the request declares \(declared)")
        }
        let body = request.body
        let collected: ByteBuffer = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                do {
                    return try await body.collect(upTo: limit)
                } catch let error as HTTPError where error.status == .contentTooLarge {
                    throw ProblemDetails(status: .contentTooLarge, type: "body-too-large", detail: "this endpoint takes at most \(limit) bytes")
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(timeoutSeconds))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let buffer = first else {
                throw ProblemDetails(status: .requestTimeout, type: "body-timeout", detail: "the request body did not arrive within \(timeoutSeconds) seconds")
            }
            return buffer
        }
        return Array(buffer: collected)
    }
}
