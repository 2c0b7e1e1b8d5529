#ifndef NOTARIUM_CROCKSDB_VERSION_H
#define NOTARIUM_CROCKSDB_VERSION_H
#ifdef __cplusplus
extern "C" {
#endif
/// The version of the RocksDB library linked at run time ("7.8.3"), from
/// rocksdb::GetRocksVersionAsString. The string lives as long as the process.
const char *notarium_rocksdb_version(void);
#ifdef __cplusplus
}
#endif
#endif
