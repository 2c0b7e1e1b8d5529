internal import COpenSSL
internal import COpenSSLShims

/// An X.509 distinguished name as an ordered list of attributes, one per RDN.
///
/// `attributes` are in encoding order, most significant first (C, O, …, CN), as they sit in
/// the certificate. `text` and `init(parsing:)` use the RFC 4514 string order, which is the
/// reverse ("CN=Notarium Root CA,O=Notarium"), the way `openssl x509 -nameopt RFC2253` prints.
public struct DistinguishedName: Sendable, Equatable, CustomStringConvertible {
    public struct Attribute: Sendable, Equatable {
        /// OpenSSL's short name: CN, O, OU, C, L, ST, emailAddress, serialNumber, DC…
        public let type: String
        public let value: String

        public init(type: String, value: String) {
            self.type = type
            self.value = value
        }
    }

    public var attributes: [Attribute]

    public init(attributes: [Attribute]) { self.attributes = attributes }

    /// Parses RFC 4514 text: `TYPE=value` pairs separated by commas, most specific first; a
    /// comma, plus, backslash or quote inside a value is escaped with a backslash.
    public init(parsing text: String) throws(OpenSSLError) {
        var pairs: [String] = []
        var current = ""
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "," {
                pairs.append(current)
                current = ""
            } else if character == "+" {
                throw OpenSSLError(code: .malformedInput, reason: "multi-valued RDNs (+) are not supported in \"\(text)\"", openSSLErrors: [])
            } else {
                current.append(character)
            }
        }
        pairs.append(current)
        var attributes: [Attribute] = []
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "=") else {
                throw OpenSSLError(code: .malformedInput, reason: "\"\(pair)\" in \"\(text)\" is not TYPE=value", openSSLErrors: [])
            }
            let type = pair[..<equals].trimmingSpaces
            let value = pair[pair.index(after: equals)...].trimmingSpaces
            guard OBJ_txt2nid(type) != NID_undef, !value.isEmpty else {
                throw OpenSSLError(code: .malformedInput, reason: "\"\(pair)\" in \"\(text)\": unknown attribute type or empty value", openSSLErrors: [])
            }
            attributes.append(Attribute(type: type, value: value))
        }
        self.attributes = attributes.reversed()
    }

    /// RFC 4514 text, most specific first.
    public var text: String {
        attributes.reversed().map { attribute in
            let escaped = attribute.value.map { ",+\\\"<>;".contains($0) ? "\\\($0)" : String($0) }.joined()
            return "\(attribute.type)=\(escaped)"
        }.joined(separator: ",")
    }

    public var description: String { text }

    /// The value of the first attribute of `type`.
    public func value(of type: String) -> String? { attributes.first { $0.type == type }?.value }

    /// A new `X509_NAME` (the caller frees it) with every value as a UTF8String.
    func makeName() throws(OpenSSLError) -> OpaquePointer {
        OpenSSLError.clearQueue()
        guard let name = X509_NAME_new() else { throw OpenSSLError.drain(.operationFailed, "cannot allocate a name") }
        for attribute in attributes {
            let bytes = Array(attribute.value.utf8)
            guard X509_NAME_add_entry_by_txt(name, attribute.type, MBSTRING_UTF8, bytes, Int32(bytes.count), -1, 0) == 1 else {
                X509_NAME_free(name)
                throw OpenSSLError.drain(.malformedInput, "cannot use \(attribute.type)=\(attribute.value) in a name")
            }
        }
        return name
    }

    /// Reads an `X509_NAME` it does not own.
    init(reading name: OpaquePointer) {
        var attributes: [Attribute] = []
        for index in 0..<X509_NAME_entry_count(name) {
            guard let entry = X509_NAME_get_entry(name, index),
                  let object = X509_NAME_ENTRY_get_object(entry),
                  let data = X509_NAME_ENTRY_get_data(entry) else { continue }
            let nid = OBJ_obj2nid(object)
            let type: String
            if nid != NID_undef, let short = OBJ_nid2sn(nid) {
                type = String(cString: short)
            } else {
                var buffer = [CChar](repeating: 0, count: 128)
                OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
                type = String(cString: buffer)
            }
            var utf8: UnsafeMutablePointer<UInt8>? = nil
            let length = ASN1_STRING_to_UTF8(&utf8, data)
            guard length >= 0, let utf8 else { continue }
            defer { CRYPTO_free(utf8, #fileID, #line) }
            attributes.append(Attribute(type: type, value: String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)))
        }
        self.attributes = attributes
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// A subject alternative name of the kinds Notarium's profiles use.
public enum GeneralName: Sendable, Equatable, CustomStringConvertible {
    case dns(String)
    case email(String)
    /// 4 or 16 bytes.
    case ipAddress([UInt8])
    /// A kind no profile accepts (URI, directoryName, otherName…), by OpenSSL's label.
    case other(String)

    public var description: String {
        switch self {
        case .dns(let name): "DNS:\(name)"
        case .email(let address): "email:\(address)"
        case .ipAddress(let bytes): "IP:\(Self.format(ip: bytes))"
        case .other(let kind): kind
        }
    }

    static func format(ip bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        guard bytes.count == 16 else { return bytes.map { String($0, radix: 16) }.joined(separator: ":") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
    }

    /// Reads a `GENERAL_NAMES` it does not own.
    static func read(_ names: OpaquePointer) -> [GeneralName] {
        (0..<notarium_sk_GENERAL_NAME_num(names)).compactMap { index -> GeneralName? in
            guard let name = notarium_sk_GENERAL_NAME_value(names, index) else { return nil }
            switch name.pointee.type {
            case GEN_DNS: return .dns(string(name.pointee.d.dNSName))
            case GEN_EMAIL: return .email(string(name.pointee.d.rfc822Name))
            case GEN_IPADD:
                guard let data = name.pointee.d.iPAddress else { return .other("IP") }
                return .ipAddress(Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(data), count: Int(ASN1_STRING_length(data)))))
            case GEN_URI: return .other("URI")
            case GEN_DIRNAME: return .other("dirName")
            case GEN_OTHERNAME: return .other("otherName")
            default: return .other("GeneralName type \(name.pointee.type)")
            }
        }
    }

    private static func string(_ value: UnsafeMutablePointer<ASN1_IA5STRING>?) -> String {
        guard let value, let data = ASN1_STRING_get0_data(value) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(value))), as: UTF8.self)
    }
}
