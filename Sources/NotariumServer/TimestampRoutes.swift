import Hummingbird
import Ledger
import NIOCore
import OpenSSLKit
import TimeStamping

/// The ledger's time-stamp tokens (docs/tsa.md, "The ledger's tokens"), public like the entries
/// they stamp. Each is served as a granted `application/timestamp-reply` around the stored token,
/// so that any RFC 3161 client reads it as if it had asked the TSA itself
/// (`openssl ts -verify -in reply.tsr -digest LEAFHASH`).
///
/// - `GET /ledger/entries/{seq}/timestamp`: the token over the entry's leaf hash; stamped on the
///   spot if the background time-stamper has not reached it yet. 404 for an entry type that has
///   no token of its own (its checkpoint's token proves its time).
/// - `GET /ledger/checkpoints/{size}`: the signed note of the checkpoint cut at that size.
/// - `GET /ledger/checkpoints/{size}/timestamp`: the token over that note's body.
///
/// When the TSA cannot stamp (halted by a clock step), 503 with the reason.
struct TimestampRoutes {
    let stamper: LedgerTimeStamper

    func register(on router: AppRouter) {
        let ledger = stamper.ledger
        router.get("/ledger/entries/:seq/timestamp") { _, context -> Response in
            let seq = try LedgerRoutes.number(context.parameters.get("seq"), name: "seq")
            guard seq < ledger.size else {
                throw ProblemDetails(status: .notFound, type: "not-found", detail: "no entry \(seq); the ledger has \(ledger.size)")
            }
            guard let token = try Self.token({ () throws(TSAError) in try stamper.entryToken(seq) }) else {
                throw ProblemDetails(
                    status: .notFound, type: "no-own-timestamp",
                    detail: "entry \(seq) is not an evidence, service or award entry, so it has no token of its own; the token of a checkpoint that includes it proves its time")
            }
            return try Self.reply(token)
        }
        router.get("/ledger/checkpoints/:size") { _, context -> Response in
            let size = try LedgerRoutes.number(context.parameters.get("size"), name: "size")
            let record: CheckpointRecord?
            do {
                record = try ledger.checkpoint(size: size)
            } catch {
                throw LedgerRoutes.problem(error)
            }
            guard let record else {
                throw ProblemDetails(status: .notFound, type: "no-checkpoint", detail: "no checkpoint was cut at size \(size)")
            }
            // A checkpoint never changes once cut.
            return LedgerRoutes.note(record, cacheControl: "public, max-age=31536000, immutable")
        }
        router.get("/ledger/checkpoints/:size/timestamp") { _, context -> Response in
            let size = try LedgerRoutes.number(context.parameters.get("size"), name: "size")
            guard let token = try Self.token({ () throws(TSAError) in try stamper.checkpointToken(size: size) }) else {
                throw ProblemDetails(status: .notFound, type: "no-checkpoint", detail: "no checkpoint was cut at size \(size)")
            }
            return try Self.reply(token)
        }
    }

    /// Runs a stamper call, mapping a TSA that cannot stamp to 503.
    static func token(_ call: () throws(TSAError) -> [UInt8]?) throws -> [UInt8]? {
        do {
            return try call()
        } catch where error.code == .refused {
            throw ProblemDetails(status: .serviceUnavailable, type: "timestamp-unavailable", detail: "the TSA cannot stamp now: \(error.reason)")
        } catch {
            throw error
        }
    }

    static func reply(_ token: [UInt8]) throws -> Response {
        let reply: [UInt8]
        do {
            reply = try TimeStampSigner.grantedResponse(wrapping: token)
        } catch {
            throw ProblemDetails(status: .internalServerError, type: "stored-token-unreadable", detail: "the stored token does not parse: \(error.reason)")
        }
        // A token never changes once stored.
        return Response(
            status: .ok, headers: [.contentType: "application/timestamp-reply", .cacheControl: "public, max-age=31536000, immutable"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply)))
    }
}
