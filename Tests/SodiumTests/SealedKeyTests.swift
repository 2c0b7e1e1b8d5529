import Foundation
import NotariumTestKit
import Sodium
import Testing

/// Cheap Argon2id cost so that hundreds of unseal attempts stay fast; the format is the same.
let testCost = SealedKey.KDFParameters.minimumForTests

func passphrase(_ text: String) -> SealingSecret { .passphrase(SecureBytes(copying: Array(text.utf8))) }
let secretBytes: [UInt8] = Array(0..<32)

func opened(_ bytes: SecureBytes) -> [UInt8] { bytes.withUnsafeBytes { Array($0) } }

/// The SealedKeyError `body` throws, or nil; any other error fails the test.
func sealedKeyError(_ body: () throws -> Void) -> SealedKeyError? {
    caught(SealedKeyError.self, body)
}

@Suite("Sodium: sealed keys")
struct SealedKeyTests {
    @Test("a key sealed with a passphrase opens with it, through the file format")
    func passphraseRoundTrip() throws {
        let sealed = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "tsa", with: passphrase("correct horse"), parameters: testCost)
        let parsed = try SealedKey(parsing: sealed.serialized)
        #expect(parsed == sealed)
        #expect(parsed.label == "tsa")
        #expect(opened(try parsed.unseal(with: passphrase("correct horse"))) == secretBytes)
    }

    @Test("two seals of the same key differ (fresh salt and nonce)")
    func freshRandomness() throws {
        let first = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "x", with: passphrase("p"), parameters: testCost)
        let second = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "x", with: passphrase("p"), parameters: testCost)
        #expect(first.salt != second.salt)
        #expect(first.nonce != second.nonce)
        #expect(first.ciphertext != second.ciphertext)
    }

    @Test("the standard Argon2id cost is used by default and opens")
    func standardCost() throws {
        let sealed = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "ca-root", with: passphrase("p"))
        #expect(sealed.parameters == .standard)
        #expect(opened(try sealed.unseal(with: passphrase("p"))) == secretBytes)
    }

    @Test("a wrong passphrase is wrongSecret")
    func wrongPassphrase() throws {
        let sealed = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "tsa", with: passphrase("right"), parameters: testCost)
        let error = sealedKeyError { _ = try sealed.unseal(with: passphrase("wrong")) }
        #expect(error?.code == .wrongSecret)
    }

    @Test("an empty passphrase is refused")
    func emptyPassphrase() throws {
        let error = sealedKeyError { _ = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "x", with: passphrase(""), parameters: testCost) }
        #expect(error?.code == .emptyPassphrase)
    }

    @Test("every truncation of a sealed key file is refused")
    func everyTruncation() throws {
        let bytes = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "ledger", with: passphrase("p"), parameters: testCost).serialized
        for length in 0..<bytes.count {
            let error = sealedKeyError { _ = try SealedKey(parsing: Array(bytes[0..<length])).unseal(with: passphrase("p")) }
            #expect(error != nil, "truncation to \(length) bytes was accepted")
            if length >= 8 { #expect(error?.code == .truncated, "truncation to \(length): \(String(describing: error))") }
        }
    }

    @Test("every flipped byte of a sealed key file is found; none opens")
    func everyFlippedByte() throws {
        let bytes = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "ledger", with: passphrase("p"), parameters: testCost).serialized
        var codes: Set<SealedKeyError.Code> = []
        for index in 0..<bytes.count {
            var altered = bytes
            altered[index] ^= 0x01
            let error = sealedKeyError { _ = try SealedKey(parsing: altered).unseal(with: passphrase("p")) }
            #expect(error != nil, "flipping byte \(index) went unnoticed")
            if let error { codes.insert(error.code) }
        }
        // The ciphertext and label are covered by the tag: those flips must say "tampered".
        #expect(codes.contains(.tampered))
        #expect(codes.contains(.notASealedKey))
        #expect(codes.contains(.unsupportedVersion))
        #expect(codes.contains(.wrongSecret))
    }

    @Test("a flipped ciphertext byte with the right secret is tampered, not a wrong secret")
    func tamperedCiphertext() throws {
        var bytes = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "tsa", with: passphrase("p"), parameters: testCost).serialized
        bytes[bytes.count - 20] ^= 0x80
        let error = sealedKeyError { _ = try SealedKey(parsing: bytes).unseal(with: passphrase("p")) }
        #expect(error?.code == .tampered)
    }

    @Test("trailing bytes after the ciphertext are refused")
    func trailingBytes() throws {
        let bytes = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "tsa", with: passphrase("p"), parameters: testCost).serialized
        let error = sealedKeyError { _ = try SealedKey(parsing: bytes + [0]) }
        #expect(error?.code == .trailingData)
    }

    @Test("a file that is not a sealed key says so")
    func notASealedKey() {
        let error = sealedKeyError { _ = try SealedKey(parsing: Array("-----BEGIN PRIVATE KEY-----\n".utf8)) }
        #expect(error?.code == .notASealedKey)
        #expect(sealedKeyError { _ = try SealedKey(parsing: []) }?.code == .truncated)
    }

    @Test("a newer format version is refused by name")
    func newerVersion() throws {
        var bytes = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "tsa", with: passphrase("p"), parameters: testCost).serialized
        bytes[9] = 2
        #expect(sealedKeyError { _ = try SealedKey(parsing: bytes) }?.code == .unsupportedVersion)
    }

    @Test("an unknown algorithm identifier is refused")
    func unknownAlgorithm() throws {
        var bytes = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "tsa", with: passphrase("p"), parameters: testCost).serialized
        bytes[10] = 9
        #expect(sealedKeyError { _ = try SealedKey(parsing: bytes) }?.code == .unsupportedAlgorithm)
    }

    @Test("an Argon2id cost beyond the bounds is refused before any work is done")
    func absurdCost() throws {
        var bytes = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "tsa", with: passphrase("p"), parameters: testCost).serialized
        bytes[16] = 0xff  // memory: 4 TiB
        #expect(sealedKeyError { _ = try SealedKey(parsing: bytes) }?.code == .invalidParameters)
    }

    @Test("sealed key files are written once, mode 0600, and read back")
    func files() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("tsa.sealed")
        let sealed = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "tsa", with: passphrase("p"), parameters: testCost)
        try sealed.write(to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try SealedKey(contentsOf: path) == sealed)
        #expect(sealedKeyError { try sealed.write(to: path) }?.code == .fileExists)
        #expect(sealedKeyError { _ = try SealedKey(contentsOf: directory.file("absent")) }?.code == .io)
    }

    @Test("a file longer than any sealed key, or an endless one, is refused without reading it all")
    func oversizedFiles() throws {
        let directory = TemporaryDirectory()
        let big = directory.file("big.sealed")
        let sealed = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "tsa", with: passphrase("p"), parameters: testCost).serialized
        try Data(sealed + [UInt8](repeating: 0, count: 2 << 20)).write(to: URL(fileURLWithPath: big))
        #expect(sealedKeyError { _ = try SealedKey(contentsOf: big) }?.code == .invalidParameters)
        #expect(sealedKeyError { _ = try SealedKey(contentsOf: "/dev/zero") }?.code == .invalidParameters)
    }
}

@Suite("Sodium: key files and guarded memory")
struct KeyFileTests {
    @Test("a new key file is 32 random bytes, mode 0600, and unlocks what it sealed")
    func keyFile() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("seal.key")
        try SealingSecret.createKeyFile(at: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect((attributes[.size] as? Int) == 32)
        let sealed = try SealedKey.seal(SecureBytes(copying: secretBytes), label: "k", with: .keyFile(path: path), parameters: testCost)
        #expect(opened(try sealed.unseal(with: .keyFile(path: path))) == secretBytes)

        let otherPath = directory.file("other.key")
        try SealingSecret.createKeyFile(at: otherPath)
        #expect(sealedKeyError { _ = try sealed.unseal(with: .keyFile(path: otherPath)) }?.code == .wrongSecret)
    }

    @Test("an existing key file is never overwritten")
    func noOverwrite() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("seal.key")
        try SealingSecret.createKeyFile(at: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(sealedKeyError { try SealingSecret.createKeyFile(at: path) }?.code == .fileExists)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test("a key file readable by others is refused")
    func insecureKeyFile() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("seal.key")
        try SealingSecret.createKeyFile(at: path)
        chmod(path, 0o644)
        #expect(sealedKeyError { try SealingSecret.keyFile(path: path).check() }?.code == .keyFileInsecure)
    }

    @Test("a short, missing or non-regular key file is refused")
    func badKeyFiles() throws {
        let directory = TemporaryDirectory()
        let short = directory.file("short.key")
        _ = FileManager.default.createFile(atPath: short, contents: Data(repeating: 7, count: 16), attributes: [.posixPermissions: 0o600])
        #expect(sealedKeyError { try SealingSecret.keyFile(path: short).check() }?.code == .keyFileTooShort)
        #expect(sealedKeyError { try SealingSecret.keyFile(path: directory.file("absent")).check() }?.code == .keyFileUnreadable)
        #expect(sealedKeyError { try SealingSecret.keyFile(path: directory.path).check() }?.code == .keyFileUnreadable)
    }

    @Test("secure bytes never print their contents")
    func redacted() {
        let secret = SecureBytes(copying: Array("hunter2".utf8))
        #expect("\(secret)" == "SecureBytes(7 bytes, redacted)")
        #expect(secret.constantTimeEquals(SecureBytes(copying: Array("hunter2".utf8))))
        #expect(!secret.constantTimeEquals(SecureBytes(copying: Array("hunter3".utf8))))
        #expect(SecureBytes.random(count: 32).count == 32)
    }

    @Test("the linked libsodium reports its version")
    func version() {
        #expect(SodiumLibrary.version.hasPrefix("1."))
    }
}
