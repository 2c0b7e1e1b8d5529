import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An HTTP SMS gateway, spoken to with the one adapter Notarium documents (docs/delivery.md
/// §11): `POST <url>` with `Authorization: Bearer <token>` and a JSON body
/// `{"to","from","text","reference"[,"callbackUrl"]}`, answered 200, 201 or 202 with
/// `{"id","status"}`. The gateway must treat a repeated `reference` as the same message (the
/// outbox sends again after a crash). Delivery reports come back later, on the callback.
public struct SMSGateway: Sendable {
    /// `http://` or `https://` URL of the send endpoint.
    public var url: String
    public var token: String
    /// The sender name or number the gateway shows.
    public var sender: String
    /// A PEM file of the certificates that may anchor an https gateway's chain; nil: the system's.
    public var trustRoots: String?
    public var timeoutSeconds: Int64

    public init(url: String, token: String, sender: String, trustRoots: String? = nil, timeoutSeconds: Int64 = 30) {
        self.url = url
        self.token = token
        self.sender = sender
        self.trustRoots = trustRoots
        self.timeoutSeconds = timeoutSeconds
    }
}

/// What the gateway answered to a message it took.
public struct SMSSubmission: Sendable, Equatable {
    /// The gateway's id for the message (its delivery reports name it).
    public let gatewayID: String
    public let status: String
    /// The gateway's answer, verbatim.
    public let response: String
}

/// Why the gateway did not take a message. As for SMTP (`SMTPError`), `isRecipientFailure`
/// separates what is the recipient's (the number refused) from what is the appliance's or the
/// gateway's (a wrong token, a gateway fault, the network), which is never recorded against the
/// recipient.
public struct SMSError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidGatewayURL = "invalid-gateway-url"
        case connectFailed = "connect-failed"
        case timeout = "timeout"
        /// The gateway refused our credentials (401, 403).
        case unauthorized = "unauthorized"
        /// The gateway refused the message for its recipient (400, 404, 422).
        case rejected = "rejected"
        /// The gateway failed (5xx, 429) or answered something that is not the adapter's JSON.
        case gatewayError = "gateway-error"
    }

    public let code: Code
    /// The HTTP status, when there was an answer.
    public let status: Int?
    /// The gateway's answer (at most 4,000 characters), or what failed.
    public let detail: String

    public init(_ code: Code, status: Int? = nil, _ detail: String) {
        self.code = code
        self.status = status
        self.detail = detail
    }

    /// The gateway refused this number or this message: recorded against the recipient.
    public var isRecipientFailure: Bool { code == .rejected }

    /// The gateway's own error code (`unallocated`, `invalid-number`), when its answer names one.
    public var gatewayErrorCode: String? {
        guard let data = detail.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["error"] as? String
    }

    public var description: String { "\(code.rawValue)\(status.map { " (HTTP \($0))" } ?? ""): \(detail)" }
}

/// A gateway with its URL read and its TLS context built once (the trust roots read and
/// checked when it is made, at start), not again for every message.
public struct PreparedGateway: Sendable {
    public let gateway: SMSGateway
    let host: String
    let port: Int
    let path: String
    let hostHeader: String
    let tls: NIOSSLContext?

    public init(_ gateway: SMSGateway) throws(SMSError) {
        guard let url = URL(string: gateway.url), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw SMSError(.invalidGatewayURL, "\(gateway.url) is not an http or https URL")
        }
        self.gateway = gateway
        self.host = host
        port = url.port ?? (scheme == "https" ? 443 : 80)
        path = (url.path.isEmpty ? "/" : url.path) + (url.query.map { "?" + $0 } ?? "")
        hostHeader = url.port.map { "\(host):\($0)" } ?? host
        do {
            tls = scheme == "https" ? try TLSClient.context(trustRoots: gateway.trustRoots) : nil
        } catch {
            throw SMSError(.connectFailed, "the TLS settings for the gateway (trust roots \(gateway.trustRoots ?? "of the system")) are unusable: \(error)")
        }
    }
}

public enum SMSClient {
    /// The largest answer read from a gateway.
    static let maximumResponse = 64 * 1024

    /// Sends `text` to `number` (E.164) through `gateway`; `reference` names the message to the
    /// gateway across retries.
    public static func send(to number: String, text: String, reference: String, callbackURL: String?, via gateway: SMSGateway,
                            group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws(SMSError) -> SMSSubmission {
        try await send(to: number, text: text, reference: reference, callbackURL: callbackURL, via: try PreparedGateway(gateway), group: group)
    }

    /// The same through a gateway whose URL and TLS context were made once (`PreparedGateway`).
    public static func send(to number: String, text: String, reference: String, callbackURL: String?, via prepared: PreparedGateway,
                            group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws(SMSError) -> SMSSubmission {
        let (gateway, host, port, path, tls) = (prepared.gateway, prepared.host, prepared.port, prepared.path, prepared.tls)
        var payload: [String: Any] = ["to": number, "from": gateway.sender, "text": text, "reference": reference]
        if let callbackURL { payload["callbackUrl"] = callbackURL }
        let body: Data
        do {
            body = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
        } catch {
            throw SMSError(.gatewayError, "the message could not be written as JSON: \(error)")
        }
        typealias Connection = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        let connection: Connection
        do {
            connection = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(gateway.timeoutSeconds))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: SMTPClient.sniName(host)))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SMSError(.connectFailed, "\(host):\(port): \(error)")
        }
        let channel = connection.channel
        let watchdog = channel.eventLoop.scheduleTask(in: .seconds(gateway.timeoutSeconds)) { channel.close(promise: nil) }
        defer { watchdog.cancel() }
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try await connection.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
                head.headers.add(name: "Host", value: prepared.hostHeader)
                head.headers.add(name: "Authorization", value: "Bearer \(gateway.token)")
                head.headers.add(name: "Content-Type", value: "application/json")
                head.headers.add(name: "Accept", value: "application/json")
                head.headers.add(name: "Content-Length", value: String(body.count))
                head.headers.add(name: "Connection", value: "close")
                try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil)])
                var status = 0
                var bytes: [UInt8] = []
                for try await part in inbound {
                    switch part {
                    case .head(let response): status = Int(response.status.code)
                    case .body(let buffer):
                        guard bytes.count + buffer.readableBytes <= maximumResponse else { throw SMSError(.gatewayError, "an answer of more than \(maximumResponse) bytes") }
                        bytes += buffer.readableBytesView
                    case .end: return (status, bytes)
                    }
                }
                throw SMSError(.gatewayError, "the gateway closed the connection before its answer ended")
            }
        } catch let error as SMSError {
            throw error
        } catch {
            throw SMSError(.timeout, "no whole answer from \(host):\(port) within \(gateway.timeoutSeconds) s: \(error)")
        }
        let text = String(String(decoding: answer.body, as: UTF8.self).prefix(4000))
        switch answer.status {
        case 200, 201, 202:
            guard let object = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any], let id = object["id"] as? String, !id.isEmpty, id.count <= 256 else {
                throw SMSError(.gatewayError, status: answer.status, "an answer without the message's id: \(text)")
            }
            return SMSSubmission(gatewayID: id, status: object["status"] as? String ?? "", response: text)
        case 401, 403:
            throw SMSError(.unauthorized, status: answer.status, text)
        case 400, 404, 422:
            throw SMSError(.rejected, status: answer.status, text)
        default:
            throw SMSError(.gatewayError, status: answer.status, text)
        }
    }
}
