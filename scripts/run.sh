#!/usr/bin/env bash
# Installs what skiff needs, builds it (release, into build/) and runs it in
# the foreground. Arguments go to skiff, e.g.
#   ./scripts/run.sh --listeners PLAINTEXT://0.0.0.0:9092 --log.dirs /tmp/skiff
# Defaults: PLAINTEXT://localhost:9092, data in ./data. Stop with Ctrl-C.
set -euo pipefail

cd "$(dirname "$0")/.."
scripts/install-deps.sh
log=build/build.log
mkdir -p build
if ! { cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build build -j "${SKIFF_JOBS:-2}" --target skiff; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "run.sh: build failed (log: $log)" >&2
    exit 1
fi
exec build/skiff "$@"
