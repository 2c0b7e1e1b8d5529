import CanonicalJSON
import Sodium

/// C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 signatures.
///
/// A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
/// `— <key name> <base64(key ID ‖ signature)>`. The key ID is the first four bytes of
/// SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key); the signature covers the text (with its final
/// newline) and nothing else. Verifier keys are written `<name>+<key ID hex>+<base64(0x01 ‖ key)>`.
public enum SignedNote {
    /// Signature type byte for Ed25519 in key IDs and verifier keys.
    static let ed25519Type: UInt8 = 0x01
    static let signaturePrefix = "\u{2014} "
    /// Go's note package refuses more; C2SP requires accepting at least 16.
    static let maximumSignatures = 100

    public static func keyID(name: String, publicKey: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(Array(name.utf8), [0x0A, ed25519Type], publicKey).prefix(4))
    }

    /// A key name: non-empty, no `+`, no whitespace or control characters (C2SP).
    public static func isValidKeyName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            scalar != "+" && !scalar.properties.isWhitespace && scalar.value >= 0x20 && scalar.value != 0x7F
        }
    }

    /// Why a note does not open.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public init(_ reason: String) { self.reason = reason }
        public var description: String { "signed note: \(reason)" }
    }

    /// Checks `note` and returns its text when at least one signature is by a known key and every
    /// signature by a known key is valid (signatures by unknown keys are ignored, as C2SP says).
    public static func open(_ note: String, verifiers: [NoteVerifier]) throws(Failure) -> String {
        let bytes = Array(note.utf8)
        guard bytes.last == 0x0A else { throw Failure("the note does not end with a newline") }
        for scalar in note.unicodeScalars where (scalar.value < 0x20 && scalar != "\n") || scalar.value == 0x7F {
            throw Failure("the note contains a control character (U+\(String(scalar.value, radix: 16, uppercase: true)))")
        }
        // The text ends at the last blank line; everything after it is signature lines.
        guard let split = findLastBlankLine(bytes) else { throw Failure("the note has no signature block (no blank line)") }
        let text = Array(bytes[..<(split + 1)])
        let signatureBlock = String(decoding: bytes[(split + 2)...], as: UTF8.self)
        var lines = signatureBlock.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.last == "" else { throw Failure("the signature block does not end with a newline") }
        lines.removeLast()
        guard !lines.isEmpty else { throw Failure("the note has no signatures") }
        guard lines.count <= maximumSignatures else { throw Failure("the note has more than \(maximumSignatures) signatures") }

        var verifiedBy = 0
        var seenLines: Set<String> = []
        var seen: Set<String> = []
        for line in lines {
            // The same line twice says nothing more (Go's note package collapses them too).
            guard seenLines.insert(line).inserted else { continue }
            guard line.hasPrefix(signaturePrefix) else { throw Failure("a line of the signature block does not start with \"— \"") }
            let fields = line.dropFirst(signaturePrefix.count).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, isValidKeyName(String(fields[0])), let raw = Base64.decode(String(fields[1])), raw.count > 4 else {
                throw Failure("malformed signature line \"\(line)\"")
            }
            let name = String(fields[0])
            let id = Array(raw.prefix(4))
            // Names compare byte for byte (Swift's == would equate NFC and NFD spellings).
            let matching = verifiers.filter { Array($0.name.utf8) == Array(name.utf8) && $0.keyID == id }
            guard let verifier = matching.first else { continue }
            guard matching.count == 1 else { throw Failure("more than one verifier key for \(name)") }
            guard Ed25519.isValidSignature(Array(raw.dropFirst(4)), of: text, publicKey: verifier.publicKey) else {
                throw Failure("the signature by \(name) does not verify")
            }
            let identity = name + Base64.encode(id)
            guard seen.insert(identity).inserted else { throw Failure("two signatures by the same key \(name)") }
            verifiedBy += 1
        }
        guard verifiedBy > 0 else { throw Failure("no signature by a known key") }
        return String(decoding: text, as: UTF8.self)
    }

    private static func findLastBlankLine(_ bytes: [UInt8]) -> Int? {
        var index = bytes.count - 2
        while index >= 0 {
            if bytes[index] == 0x0A && bytes[index + 1] == 0x0A { return index }
            index -= 1
        }
        return nil
    }
}

/// An Ed25519 note verifier, from a verifier key string.
public struct NoteVerifier: Sendable, Equatable {
    public let name: String
    public let keyID: [UInt8]
    public let publicKey: [UInt8]

    public init(name: String, publicKey: [UInt8]) {
        self.name = name
        self.publicKey = publicKey
        self.keyID = SignedNote.keyID(name: name, publicKey: publicKey)
    }

    /// Parses `<name>+<8 hex digits>+<base64(0x01 ‖ 32-byte key)>`, checking that the key ID
    /// matches the name and key.
    public init(parsing text: String) throws(SignedNote.Failure) {
        // The base64 key may itself contain '+': only the first two separate fields.
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw SignedNote.Failure("a verifier key has the form name+keyid+key") }
        let (name, hash, encoded) = (parts[0], parts[1], parts[2])
        guard SignedNote.isValidKeyName(name) else { throw SignedNote.Failure("the key name \"\(name)\" is not valid") }
        // Go's note package reads the key ID with ParseUint, so upper-case hex is accepted too.
        guard hash.utf8.count == 8, hash.allSatisfy({ $0.isASCII && $0.isHexDigit }) else {
            throw SignedNote.Failure("the key ID must be 8 hex digits")
        }
        guard let key = Base64.decode(encoded), !key.isEmpty else { throw SignedNote.Failure("the key is not base64") }
        guard key[0] == SignedNote.ed25519Type else { throw SignedNote.Failure("unknown signature algorithm \(key[0]); only Ed25519 (1) is supported") }
        guard key.count == 33 else { throw SignedNote.Failure("an Ed25519 key is 32 bytes") }
        self.init(name: name, publicKey: Array(key.dropFirst()))
        guard hex(keyID) == hash.lowercased() else { throw SignedNote.Failure("the key ID \(hash) does not match the name and key") }
    }

    /// The verifier key string.
    public var text: String {
        "\(name)+\(hex(keyID))+\(Base64.encode([SignedNote.ed25519Type] + publicKey))"
    }
}

/// Signs notes with an Ed25519 key under a key name.
public struct NoteSigner: Sendable {
    public let name: String
    public let key: Ed25519SigningKey

    public init(name: String, key: Ed25519SigningKey) throws(SignedNote.Failure) {
        guard SignedNote.isValidKeyName(name) else { throw SignedNote.Failure("the key name \"\(name)\" is not valid (no spaces, no '+')") }
        self.name = name
        self.key = key
    }

    public var verifier: NoteVerifier { NoteVerifier(name: name, publicKey: key.publicKey) }

    /// `text` (which must end in a newline) followed by a blank line and this key's signature.
    public func sign(_ text: String) -> String {
        precondition(text.hasSuffix("\n"), "note text ends with a newline")
        let signature = key.sign(Array(text.utf8))
        return text + "\n" + SignedNote.signaturePrefix + name + " " + Base64.encode(verifier.keyID + signature) + "\n"
    }
}

/// A C2SP tlog-checkpoint body: origin, tree size, base64 root hash, then optional extension lines.
public struct CheckpointBody: Sendable, Equatable {
    public let origin: String
    public let size: UInt64
    public let rootHash: [UInt8]
    public let extensions: [String]

    public init(origin: String, size: UInt64, rootHash: [UInt8], extensions: [String] = []) {
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.extensions = extensions
    }

    public var text: String {
        ([origin, String(size), Base64.encode(rootHash)] + extensions).map { $0 + "\n" }.joined()
    }

    public init(parsing text: String) throws(SignedNote.Failure) {
        guard text.hasSuffix("\n") else { throw SignedNote.Failure("a checkpoint ends with a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3 else { throw SignedNote.Failure("a checkpoint has at least three lines") }
        guard !lines[0].isEmpty else { throw SignedNote.Failure("the origin line is empty") }
        guard let size = UInt64(lines[1]), String(size) == lines[1] else {
            throw SignedNote.Failure("the tree size \"\(lines[1])\" is not a decimal number without leading zeros")
        }
        guard let root = Base64.decode(lines[2]), root.count == 32 else { throw SignedNote.Failure("the root hash is not the base64 of 32 bytes") }
        guard lines.dropFirst(3).allSatisfy({ !$0.isEmpty }) else { throw SignedNote.Failure("a checkpoint extension line is empty") }
        self.init(origin: lines[0], size: size, rootHash: root, extensions: Array(lines.dropFirst(3)))
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}
