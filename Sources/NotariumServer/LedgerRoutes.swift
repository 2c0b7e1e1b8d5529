import CanonicalJSON
import Hummingbird
import Ledger
import NIOCore

/// The ledger's public, read-only endpoints. Anyone may fetch checkpoints, entries and proofs:
/// they reveal nothing the bundles do not, and auditors and witnesses need them.
///
/// - `GET /ledger/checkpoint`: the latest signed note (text/plain)
/// - `GET /ledger/entries/{seq}`: the entry's canonical bytes (application/json)
/// - `GET /ledger/proof/inclusion?index=I&size=N`, `GET /ledger/proof/consistency?from=M&to=N`
///
/// A malformed or impossible parameter is a 400, a seq or size the ledger has not reached a 404,
/// both as problem+json.
struct LedgerRoutes {
    let ledger: Ledger

    func register(on router: AppRouter) {
        router.get("/ledger/checkpoint") { _, _ -> Response in
            guard let record = try ledger.latestCheckpoint() else {
                throw ProblemDetails(status: .notFound, type: "no-checkpoint", detail: "the ledger has no checkpoint yet")
            }
            return Self.note(record, cacheControl: "no-cache")
        }
        router.get("/ledger/entries/:seq") { _, context -> Response in
            let seq = try Self.number(context.parameters.get("seq"), name: "seq")
            let entry: LedgerEntry
            do {
                entry = try ledger.entry(seq)
            } catch {
                throw Self.problem(error)
            }
            // An entry never changes once written.
            let headers: HTTPFields = [.contentType: "application/json", .cacheControl: "public, max-age=31536000, immutable"]
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: entry.bytes)))
        }
        router.get("/ledger/proof/inclusion") { request, _ -> Response in
            let index = try Self.number(request.uri.queryParameters.get("index"), name: "index")
            let size = try Self.number(request.uri.queryParameters.get("size"), name: "size")
            do {
                return Self.json(try ledger.inclusionProof(index: index, size: size).json)
            } catch {
                throw Self.problem(error)
            }
        }
        router.get("/ledger/proof/consistency") { request, _ -> Response in
            let from = try Self.number(request.uri.queryParameters.get("from"), name: "from")
            let to = try Self.number(request.uri.queryParameters.get("to"), name: "to")
            do {
                return Self.json(try ledger.consistencyProof(from: from, to: to).json)
            } catch {
                throw Self.problem(error)
            }
        }
    }

    /// A decimal number without sign or leading zeros.
    static func number(_ text: String?, name: String) throws -> UInt64 {
        guard let text else {
            throw ProblemDetails(status: .badRequest, type: "missing-parameter", detail: "the parameter \(name) is required")
        }
        guard let value = UInt64(text), String(value) == text else {
            throw ProblemDetails(status: .badRequest, type: "invalid-parameter", detail: "\(name) must be a non-negative decimal integer, not \"\(text.prefix(40))\"")
        }
        return value
    }

    /// Ledger errors as problems: a range the tree has not reached is 404, an impossible one 400;
    /// damage and storage failures are 500s with the reason in the log.
    static func problem(_ error: any Error) -> any Error {
        guard let error = error as? LedgerError else { return error }
        switch error.code {
        case .notFound:
            return ProblemDetails(status: .notFound, type: "not-found", detail: error.reason)
        case .beyondTree:
            return ProblemDetails(status: .notFound, type: "size-beyond-tree", detail: error.reason)
        case .invalidRange:
            return ProblemDetails(status: .badRequest, type: "invalid-range", detail: error.reason)
        default:
            return error
        }
    }

    /// A checkpoint's signed note, as text (Go's sumdb/note reads it as it is).
    static func note(_ record: CheckpointRecord, cacheControl: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: cacheControl],
            body: ResponseBody(byteBuffer: ByteBuffer(string: record.note)))
    }

    static func json(_ value: JSONValue) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.canonicalBytes)))
    }
}
