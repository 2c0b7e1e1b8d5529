import Foundation

/// The repository's root directory (where Package.swift is).
public let repositoryRoot: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL.path

/// Conformance data made by others (../shared/vectors-external beside the repository; see its
/// SOURCES.md), or nil on a machine that does not have it. Tests read it in place, never copy it.
public let externalVectors: String? = {
    let path = URL(fileURLWithPath: repositoryRoot).appendingPathComponent("../shared/vectors-external").standardizedFileURL.path
    return FileManager.default.fileExists(atPath: path + "/SOURCES.md") ? path : nil
}()

/// Reads a file's bytes, or fails the calling test with the path in the message.
public func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}
