@testable import Appliance
import Foundation
import Logging
import NotariumTestKit
import RocksDBStore
import Testing

func dataDirectoryError(_ body: () throws -> Void) -> DataDirectoryError? {
    caught(DataDirectoryError.self, body)
}

let quietLogger: Logger = {
    var logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    logger.logLevel = .critical
    return logger
}()

@Suite("Appliance: the data directory")
struct DataDirectoryTests {
    @Test("first use creates the layout, the seal key file and the metadata; reopening keeps them")
    func initializeAndReopen() throws {
        let root = TemporaryDirectory()
        let path = root.file("data")
        let first = try DataDirectory.openOrInitialize(at: path, sealKeyFile: DataDirectory.defaultSealKeyFile(in: path), logger: quietLogger)
        let metadata = first.metadata
        first.close()
        #expect(metadata.formatVersion == 1)
        #expect(metadata.instanceID.count == 32)
        #expect(metadata.createdAt.hasSuffix("Z"))
        for directory in [path, path + "/keys"] {
            let mode = try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int
            #expect(mode == 0o700, "\(directory) has mode \(String(mode ?? 0, radix: 8))")
        }
        let keyMode = try FileManager.default.attributesOfItem(atPath: path + "/keys/seal.key")[.posixPermissions] as? Int
        #expect(keyMode == 0o600)

        let second = try DataDirectory.openOrInitialize(at: path, sealKeyFile: DataDirectory.defaultSealKeyFile(in: path), logger: quietLogger)
        #expect(second.metadata == metadata)
        second.close()
        let readOnly = try DataDirectory.open(at: path, readOnly: true)
        #expect(readOnly.metadata == metadata)
    }

    @Test("a second opener gets inUse at once")
    func inUse() throws {
        let root = TemporaryDirectory()
        let path = root.file("data")
        let holder = try DataDirectory.openOrInitialize(at: path, sealKeyFile: DataDirectory.defaultSealKeyFile(in: path), logger: quietLogger)
        defer { holder.close() }
        let error = dataDirectoryError { _ = try DataDirectory.openOrInitialize(at: path, sealKeyFile: DataDirectory.defaultSealKeyFile(in: path), logger: quietLogger) }
        #expect(error?.code == .inUse)
        #expect(dataDirectoryError { _ = try DataDirectory.open(at: path) }?.code == .inUse)
        // Read-only inspection still works while it is held.
        #expect(try DataDirectory.open(at: path, readOnly: true).metadata == holder.metadata)
    }

    @Test("a data directory written by a newer format is refused")
    func newerFormat() throws {
        let root = TemporaryDirectory()
        let path = root.file("data")
        let directory = try DataDirectory.openOrInitialize(at: path, sealKeyFile: DataDirectory.defaultSealKeyFile(in: path), logger: quietLogger)
        try directory.database.put(Array("format-version".utf8), Array("2".utf8), in: directory.database.columnFamily("meta"), durability: .synced)
        directory.close()
        #expect(dataDirectoryError { _ = try DataDirectory.open(at: path) }?.code == .unsupportedFormat)
    }

    @Test("a missing directory is notInitialized; a file in its place is notADirectory")
    func missingOrFile() throws {
        let root = TemporaryDirectory()
        #expect(dataDirectoryError { _ = try DataDirectory.open(at: root.file("absent")) }?.code == .notInitialized)
        _ = FileManager.default.createFile(atPath: root.file("file"), contents: Data("x".utf8))
        #expect(dataDirectoryError { _ = try DataDirectory.openOrInitialize(at: root.file("file"), sealKeyFile: root.file("k"), logger: quietLogger) }?.code == .notADirectory)
    }

    @Test("a seal key file readable by others stops start-up")
    func insecureSealKey() throws {
        let root = TemporaryDirectory()
        let path = root.file("data")
        let keyFile = root.file("seal.key")
        _ = FileManager.default.createFile(atPath: keyFile, contents: Data(repeating: 1, count: 32), attributes: [.posixPermissions: 0o644])
        let error = dataDirectoryError { _ = try DataDirectory.openOrInitialize(at: path, sealKeyFile: keyFile, logger: quietLogger) }
        #expect(error?.code == .sealKey)
    }

    @Test("a damaged database is reported as corrupt")
    func corrupt() throws {
        let root = TemporaryDirectory()
        let path = root.file("data")
        try DataDirectory.openOrInitialize(at: path, sealKeyFile: DataDirectory.defaultSealKeyFile(in: path), logger: quietLogger).close()
        try Data("not a manifest name".utf8).write(to: URL(fileURLWithPath: path + "/db/CURRENT"))
        #expect(dataDirectoryError { _ = try DataDirectory.open(at: path) }?.code == .corrupt)
        #expect(dataDirectoryError { _ = try DataDirectory.openOrInitialize(at: path, sealKeyFile: DataDirectory.defaultSealKeyFile(in: path), logger: quietLogger) }?.code == .corrupt)
    }

    @Test("log lines are JSON with escaped text")
    func jsonEscaping() throws {
        let text = "quote \" backslash \\ newline \n tab \t bell \u{7} unicode é"
        let data = Data("[\(jsonString(text))]".utf8)
        let decoded = try JSONSerialization.jsonObject(with: data) as? [String]
        #expect(decoded == [text])
    }

    @Test("timestamps are RFC 3339 UTC with milliseconds")
    func timestamps() {
        let stamp = utcTimestamp()
        #expect(stamp.count == 24)
        #expect(stamp.hasSuffix("Z"))
        #expect(ISO8601DateFormatter.withFractionalSeconds.date(from: stamp) != nil)
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
