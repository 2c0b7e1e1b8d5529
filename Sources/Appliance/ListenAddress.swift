/// Where notariumd listens: a host (IPv4, IPv6 or name) and a TCP port.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, with IPv6 hosts in brackets (`[::1]:8080`).
    /// - Returns: nil with `reason` set when the text is not such an address.
    public init?(parsing text: String, reason: inout String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                reason = "an IPv6 address must be written [ADDRESS]:PORT"
                return nil
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                reason = "expected HOST:PORT, e.g. 127.0.0.1:8080"
                return nil
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") {
                reason = "an IPv6 address must be written [ADDRESS]:PORT"
                return nil
            }
        }
        guard !hostPart.isEmpty, !hostPart.contains(where: { $0.isWhitespace }) else {
            reason = "the host is empty or contains spaces"
            return nil
        }
        guard let port = Int(portPart), (0...65535).contains(port) else {
            reason = "the port \"\(portPart)\" is not a number from 0 to 65535"
            return nil
        }
        self.host = String(hostPart)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
