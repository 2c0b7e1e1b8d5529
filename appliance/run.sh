#!/usr/bin/env bash
# Quick start, first command: install what is missing, build in release, and start notariumd on
# its embedded defaults (data in ./notarium-data, listening on 127.0.0.1:8080). Arguments are
# passed to notariumd, e.g. appliance/run.sh --listen 127.0.0.1:9090. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source appliance/env.sh
appliance/install-deps.sh
echo "notarium: building (release; the first build takes several minutes)"
swift build -c release
echo "notarium: starting notariumd; try: curl http://127.0.0.1:8080/healthz"
exec .build/release/notariumd "$@"
