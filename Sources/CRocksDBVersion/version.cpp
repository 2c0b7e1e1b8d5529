#include "CRocksDBVersion.h"
#include <rocksdb/version.h>
#include <string>

extern "C" const char *notarium_rocksdb_version(void) {
    static const std::string version = ROCKSDB_NAMESPACE::GetRocksVersionAsString(true);
    return version.c_str();
}
