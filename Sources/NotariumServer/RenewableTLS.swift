import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// The TLS context new connections get, replaceable while the server runs: when the API's
/// server certificate is renewed, the next handshake uses the new one and connections already
/// open finish on the old one. (HummingbirdTLS fixes its context when the server is built.)
public final class TLSContextBox: Sendable {
    private let current: Mutex<NIOSSLContext>

    public init(_ context: NIOSSLContext) {
        current = Mutex(context)
    }

    public var context: NIOSSLContext { current.withLock { $0 } }

    public func replace(with context: NIOSSLContext) {
        current.withLock { $0 = context }
    }
}

/// A server child channel that puts a TLS handler with the box's current context in front of
/// HTTP/1.1.
struct RenewableTLSChannel<BaseChannel: ServerChildChannel>: ServerChildChannel {
    typealias Value = BaseChannel.Value

    let box: TLSContextBox
    let baseChannel: BaseChannel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: box.context))
        }.flatMap {
            baseChannel.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: BaseChannel.Value, logger: Logger) async {
        await baseChannel.handle(value: value, logger: logger)
    }
}

extension RenewableTLSChannel: HTTPChannelHandler where BaseChannel: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { baseChannel.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 over TLS with a renewable context; idle connections close after `idleTimeout`.
    static func renewableTLS(_ box: TLSContextBox, idleTimeout: TimeAmount) -> HTTPServerBuilder {
        .init { responder in
            RenewableTLSChannel(box: box, baseChannel: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: idleTimeout)))
        }
    }
}
