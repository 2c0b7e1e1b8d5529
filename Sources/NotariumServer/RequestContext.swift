import Hummingbird
import Logging
import NIOCore
import NIOSSL

/// The request context of every route: Hummingbird's core storage plus the connection, so that
/// an API route can ask the TLS handler which certificate the client presented.
public struct NotariumRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on (plain HTTP or TLS).
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Bodies are read by each route with its own limit (`JSONBody`), never by the default.
    public var maxUploadSize: Int { 64 * 1024 * 1024 }

    /// The DER certificate the client presented in the TLS handshake, verified by TLS against
    /// this CA's root; nil on plain HTTP or when the client sent none.
    public func peerCertificate() async -> [UInt8]? {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get() else { return nil }
        return try? certificate.toDERBytes()
    }
}
