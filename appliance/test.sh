#!/usr/bin/env bash
# Quick start, second command: install what is missing (with the tests' independent tools),
# build everything once, and run the whole test suite against real RocksDB, OpenSSL, libsodium,
# a real notariumd on loopback, curl and Python.
set -euo pipefail
cd "$(dirname "$0")/.."
source appliance/env.sh
appliance/install-deps.sh --test
swift build --build-tests
swift test --skip-build
