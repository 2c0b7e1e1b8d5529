import Foundation
import NotariumTestKit
import Sodium
import Testing

/// docs/sealed-key-format.md must be enough to open a sealed key without Notarium's code. This
/// test does exactly that with PyNaCl (libsodium's Python binding) and Python's own BLAKE2b for
/// crypto_kdf, following the document, not our Swift.
@Suite("Sodium: the sealed-key format, read by an independent implementation")
struct SealedKeyInteropTests {
    @Test("Python opens a Notarium sealed key from the documented format alone")
    func pythonOpensSealedKey() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("interop.sealed")
        let secret: [UInt8] = (0..<48).map { UInt8(($0 * 7 + 3) & 0xff) }
        try SealedKey.seal(SecureBytes(copying: secret), label: "interop", with: .passphrase(SecureBytes(copying: Array("pass phrase".utf8))), parameters: .init(iterations: 2, memoryKiB: 1024)).write(to: path)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("open_sealed_key.py").path
        let result = try runProcess("/usr/bin/env", ["python3", script, path, "pass phrase"])
        #expect(result.status == 0, "python: \(result.standardError)")
        #expect(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == secret.map { String(format: "%02x", $0) }.joined())

        let wrong = try runProcess("/usr/bin/env", ["python3", script, path, "wrong"])
        #expect(wrong.status == 1)
        #expect(wrong.standardError.contains("wrong secret"))
    }
}
