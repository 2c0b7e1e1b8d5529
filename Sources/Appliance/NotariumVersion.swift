import OpenSSLKit
import RocksDBStore
import Sodium

/// Notarium's version and the C libraries it runs on, as `--version` prints them. Operators and
/// auditors need the linked library versions (not the headers') to match advisories to a box.
public enum NotariumVersion {
    public static let version = "0.1.0"

    /// `program version` and one line per linked library.
    public static func report(program: String) -> String {
        """
        \(program) \(version)
        RocksDB \(rocksDBVersion)
        \(OpenSSLLibrary.version)
        libsodium \(SodiumLibrary.version)
        """
    }
}
