import Access
import CertificateAuthority
import Delivery
import Glibc
import Ledger
import Notary
import Logging
import RocksDBStore
import Sodium
import TimeStamping

/// The appliance's data directory and the database in it.
///
/// ```
/// DATA/
///   db/          RocksDB: every column family of the appliance (meta now; ledger, CA, TSA later)
///   keys/        sealed private keys (mode 0700); seal.key unless `seal.key-file` says otherwise
/// ```
/// One process at a time holds a data directory: RocksDB's LOCK file enforces it, and a second
/// opener gets `DataDirectoryError.inUse` at once rather than waiting.
public final class DataDirectory: Sendable {
    /// The layout this build writes and reads. A newer layout is refused, not guessed at.
    public static let formatVersion = 1
    /// Column families every data directory has.
    static let columnFamilies = ["meta"] + LedgerStorage.columnFamilies + CertificateStore.columnFamilies + TimeStampAuthority.columnFamilies
        + ValidationStore.columnFamilies + [RecordIndex.family, RecipientVault.family, AccessList.family, ServerIdentity.family, IdempotencyStore.family, Outbox.family, DocumentVault.family]

    public let path: String
    public let database: Database
    public let metadata: Metadata

    /// What `meta` records at initialization.
    public struct Metadata: Sendable, Equatable {
        public let formatVersion: Int
        /// 128 random bits in hex, naming this appliance's data in logs and backups.
        public let instanceID: String
        /// RFC 3339 UTC time of initialization.
        public let createdAt: String
    }

    public static func defaultSealKeyFile(in dataDirectory: String) -> String {
        dataDirectory + "/keys/seal.key"
    }

    public var databasePath: String { path + "/db" }
    public var keysPath: String { path + "/keys" }

    private init(path: String, database: Database, metadata: Metadata) {
        self.path = path
        self.database = database
        self.metadata = metadata
    }

    /// Opens the data directory, creating and initializing it on first use: directories (0700),
    /// database, metadata, and the seal key file when it does not exist yet.
    ///
    /// Initialization writes its metadata in one synced batch, so a crash during it leaves either
    /// an initialized directory or one that initializes afresh on the next start.
    public static func openOrInitialize(at path: String, sealKeyFile: String, logger: Logger) throws(DataDirectoryError) -> DataDirectory {
        try makeDirectory(path)
        try makeDirectory(path + "/keys")
        let database = try openDatabase(at: path + "/db", options: OpenOptions(createIfMissing: true))
        return try closing(database, onError: path) {
            let meta = try database.columnFamily("meta")
            if let metadata = try readMetadata(database, meta) {
                try checkSealKeyFile(sealKeyFile)
                return DataDirectory(path: path, database: database, metadata: metadata)
            }
            if access(sealKeyFile, F_OK) != 0 {
                try createSealKeyFile(sealKeyFile)
                logger.notice("created the seal key file", metadata: ["seal.key-file": "\(sealKeyFile)"])
            }
            try checkSealKeyFile(sealKeyFile)
            let metadata = Metadata(
                formatVersion: formatVersion,
                instanceID: SodiumLibrary.randomBytes(16).map { hex($0) }.joined(),
                createdAt: utcTimestamp())
            var batch = WriteBatch()
            batch.put(Array("format-version".utf8), Array(String(metadata.formatVersion).utf8), in: meta)
            batch.put(Array("instance-id".utf8), Array(metadata.instanceID.utf8), in: meta)
            batch.put(Array("created-at".utf8), Array(metadata.createdAt.utf8), in: meta)
            try database.write(batch, durability: .synced)
            logger.notice("initialized the data directory", metadata: ["data": "\(path)", "instance": "\(metadata.instanceID)"])
            return DataDirectory(path: path, database: database, metadata: metadata)
        }
    }

    /// Opens an initialized data directory without creating anything.
    /// - Parameter readOnly: open without RocksDB's lock, so it works while notariumd runs.
    public static func open(at path: String, readOnly: Bool = false) throws(DataDirectoryError) -> DataDirectory {
        guard access(path, F_OK) == 0 else {
            throw DataDirectoryError(.notInitialized, "\(path) does not exist; start notariumd or run `notarium init` to create it")
        }
        let database = try openDatabase(at: path + "/db", options: OpenOptions(createIfMissing: false, readOnly: readOnly))
        return try closing(database, onError: path) {
            guard let metadata = try readMetadata(database, database.columnFamily("meta")) else {
                throw DataDirectoryError(.notInitialized, "\(path) holds a database but was never initialized")
            }
            return DataDirectory(path: path, database: database, metadata: metadata)
        }
    }

    /// The process holding the data directory at `path` (usually a running notariumd), or nil.
    /// Asks the lock only; opens nothing.
    public static func holder(of path: String) -> pid_t? {
        Database.lockHolder(at: path + "/db")
    }

    /// Closes the database; RocksDB flushes and releases the lock.
    public func close() {
        database.close()
    }

    // MARK: - Helpers

    private static func openDatabase(at path: String, options: OpenOptions) throws(DataDirectoryError) -> Database {
        do {
            return try Database(path: path, options: options, columnFamilies: options.readOnly ? [] : columnFamilies)
        } catch {
            throw DataDirectoryError(storage: error, databasePath: path)
        }
    }

    /// Runs `body` on a database just opened; if it throws, closes the database (so a failed start
    /// never keeps RocksDB's lock) and reports the failure as a `DataDirectoryError`.
    private static func closing(_ database: Database, onError path: String, _ body: () throws -> DataDirectory) throws(DataDirectoryError) -> DataDirectory {
        do {
            return try body()
        } catch {
            database.close()
            switch error {
            case let error as DataDirectoryError: throw error
            case let error as StorageError: throw DataDirectoryError(storage: error, databasePath: path + "/db")
            default: throw DataDirectoryError(.storage, "\(error)")
            }
        }
    }

    private static func readMetadata(_ database: Database, _ meta: ColumnFamily) throws -> Metadata? {
        func text(_ key: String) throws -> String? {
            try database.get(Array(key.utf8), in: meta).map { String(decoding: $0, as: UTF8.self) }
        }
        guard let versionText = try text("format-version") else { return nil }
        guard let version = Int(versionText), version >= 1 else {
            throw DataDirectoryError(.corrupt, "the data directory's format version \"\(versionText)\" is not a number")
        }
        guard version <= formatVersion else {
            throw DataDirectoryError(.unsupportedFormat, "the data directory has format version \(version); this build reads up to \(formatVersion) (was it written by a newer Notarium?)")
        }
        guard let instanceID = try text("instance-id"), let createdAt = try text("created-at") else {
            throw DataDirectoryError(.corrupt, "the data directory's metadata is incomplete")
        }
        return Metadata(formatVersion: version, instanceID: instanceID, createdAt: createdAt)
    }

    private static func createSealKeyFile(_ path: String) throws(DataDirectoryError) {
        try makeDirectory(parentDirectory(of: path))
        do {
            try SealingSecret.createKeyFile(at: path)
        } catch {
            throw DataDirectoryError(.sealKey, "cannot create the seal key file \(path): \(error.reason)")
        }
    }

    private static func checkSealKeyFile(_ path: String) throws(DataDirectoryError) {
        do {
            try SealingSecret.keyFile(path: path).check()
        } catch {
            throw DataDirectoryError(.sealKey, error.reason)
        }
    }

    private static func makeDirectory(_ path: String) throws(DataDirectoryError) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw DataDirectoryError(.notADirectory, "\(path) exists and is not a directory")
            }
            return
        }
        let parent = parentDirectory(of: path)
        if parent != path && !parent.isEmpty && stat(parent, &info) != 0 { try makeDirectory(parent) }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw DataDirectoryError(.cannotCreate, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
    }

    private static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }
}

/// Why a data directory cannot be used. Compare `code`.
public struct DataDirectoryError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Another process holds it (usually a running notariumd).
        case inUse = "data-directory-in-use"
        /// There is no initialized data directory at the path.
        case notInitialized = "data-directory-not-initialized"
        /// RocksDB found damaged files, or the metadata is unreadable.
        case corrupt = "data-directory-corrupt"
        /// A newer layout than this build reads.
        case unsupportedFormat = "data-directory-unsupported-format"
        /// The path exists but is a file.
        case notADirectory = "not-a-directory"
        /// A directory could not be created (permissions, read-only file system).
        case cannotCreate = "cannot-create"
        /// The seal key file is missing, unreadable or too open.
        case sealKey = "seal-key-file"
        /// The ledger cannot be opened: its key does not match, or its stored state is damaged.
        case ledger = "ledger"
        /// The CA could not be created or opened; the reason says why (its own code first).
        case ca = "ca"
        /// Any other storage failure.
        case storage = "storage"
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    init(storage error: StorageError, databasePath: String) {
        switch error.code {
        case .locked:
            let holder = Database.lockHolder(at: databasePath).map { "process \($0)" } ?? "another process"
            self.init(.inUse, "the data directory is in use by \(holder) (is notariumd running on it?): \(error.message)")
        case .databaseMissing:
            self.init(.notInitialized, "no database in \(databasePath): \(error.message)")
        case .corruption:
            self.init(.corrupt, "the database in \(databasePath) is damaged: \(error.message)")
        default:
            self.init(.storage, error.description)
        }
    }

    public var description: String { "\(code.rawValue): \(reason)" }
}

func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
}

/// Now as RFC 3339 UTC with milliseconds: `2026-11-23T01:02:03.456Z`.
public func utcTimestamp() -> String {
    LedgerTime.format(milliseconds: LedgerTime.nowMilliseconds())
}
