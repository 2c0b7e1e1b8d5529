internal import CRocksDBVersion

/// The RocksDB library this process linked, as it reports itself ("7.8.3").
public let rocksDBVersion: String = String(cString: notarium_rocksdb_version())
