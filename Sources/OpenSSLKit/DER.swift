internal import COpenSSL

/// Parses exactly one DER structure with an OpenSSL `d2i_` function: nil when it does not parse
/// or when bytes follow it (d2i stops at the end of the first structure, so trailing bytes
/// would otherwise pass unseen).
func decodeDER(_ bytes: [UInt8], _ d2i: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> OpaquePointer?, free: (OpaquePointer) -> Void) -> OpaquePointer? {
    bytes.withUnsafeBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return nil }
        var cursor: UnsafePointer<UInt8>? = base
        guard let parsed = d2i(&cursor, buffer.count) else { return nil }
        guard let cursor, cursor - base == buffer.count else {
            free(parsed)
            return nil
        }
        return parsed
    }
}

/// The DER an OpenSSL `i2d_` function writes into a buffer it allocates; empty if it fails.
func encodeDER(_ i2d: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>) -> Int32) -> [UInt8] {
    var output: UnsafeMutablePointer<UInt8>? = nil
    let length = i2d(&output)
    guard length > 0, let output else { return [] }
    defer { CRYPTO_free(output, #fileID, #line) }
    return Array(UnsafeBufferPointer(start: output, count: Int(length)))
}
