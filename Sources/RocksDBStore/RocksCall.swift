internal import CRocksDB

/// The one place that reads RocksDB's `char **errptr` convention: runs `body` with an error slot,
/// frees RocksDB's message with `rocksdb_free`, and throws it as a `StorageError`.
func rocksCall<T>(_ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> T) throws(StorageError) -> T {
    var errorPointer: UnsafeMutablePointer<CChar>? = nil
    let result = body(&errorPointer)
    if let errorPointer {
        let text = String(cString: errorPointer)
        rocksdb_free(errorPointer)
        throw StorageError.fromRocksDB(text)
    }
    return result
}

/// Copies a RocksDB-owned buffer into Swift bytes and frees it.
func takeRocksBuffer(_ pointer: UnsafeMutablePointer<CChar>?, length: Int) -> [UInt8]? {
    guard let pointer else { return nil }
    defer { rocksdb_free(pointer) }
    return Array(UnsafeRawBufferPointer(start: pointer, count: length))
}

/// A valid pointer for zero-length keys and values: RocksDB reads no bytes from it, but Swift's
/// empty arrays may have no base address at all.
private let emptyBytes: StaticString = ""

/// Lends `bytes` to C as `(const char *, size_t)`.
func withCBytes<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>, Int) -> R) -> R {
    bytes.withUnsafeBytes { raw in
        body((raw.baseAddress ?? UnsafeRawPointer(emptyBytes.utf8Start)).assumingMemoryBound(to: CChar.self), raw.count)
    }
}
