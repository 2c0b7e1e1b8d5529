/// Why a sealed key could not be read, opened or written. Compare `code`; `reason` is for people.
public struct SealedKeyError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The bytes do not start with the sealed-key magic: not a Notarium sealed key at all.
        case notASealedKey = "not-a-sealed-key"
        /// A format version this build does not read (a newer Notarium wrote it).
        case unsupportedVersion = "unsupported-version"
        /// A KDF or cipher identifier this build does not know.
        case unsupportedAlgorithm = "unsupported-algorithm"
        /// The file ends before its header or ciphertext does.
        case truncated = "truncated"
        /// Bytes follow the ciphertext.
        case trailingData = "trailing-data"
        /// KDF cost or a length is outside the bounds this build accepts.
        case invalidParameters = "invalid-parameters"
        /// The passphrase or key file does not open this key (or the file's KDF header was altered).
        case wrongSecret = "wrong-secret"
        /// The secret is right but the sealed contents or header were altered after sealing.
        case tampered = "tampered"
        /// The key file could not be read.
        case keyFileUnreadable = "key-file-unreadable"
        /// The key file can be read by group or others; it must be mode 0600 or stricter.
        case keyFileInsecure = "key-file-insecure"
        /// The key file holds fewer than 32 bytes, too few to be a secret.
        case keyFileTooShort = "key-file-too-short"
        /// A new key file or sealed key would overwrite an existing file.
        case fileExists = "file-exists"
        /// The passphrase is empty.
        case emptyPassphrase = "empty-passphrase"
        /// Reading or writing the file failed.
        case io = "io"
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "sealed key: \(code.rawValue): \(reason)" }
}
