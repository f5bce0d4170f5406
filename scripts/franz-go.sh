#!/usr/bin/env bash
# franz-go's own client test suite (github.com/twmb/franz-go, package pkg/kgo)
# against skiff: the consumer-group ETL tests several times, then the whole
# package once, each run against a fresh skiff (integration/kgo_suite.py).
#
#   scripts/franz-go.sh SKIFF_BIN JUNIT_XML [ETL_RUNS] [whole|etl]
#
# The module comes from the Go module proxy at a pinned version; the test
# binary is built once and cached in build/franz-go-$VERSION/. Needs Go (the
# machine's /usr/local/go or any go on PATH, 1.26 or newer: the module asks
# for it). Exit status: 0 when every run passed, 1 otherwise, 2 when the
# suite could not be built.
set -euo pipefail

VERSION=v1.22.3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
bin=$1 junit=$2 etl_runs=${3:-3} whole=${4:-whole}
cache=$ROOT/build/franz-go-$VERSION
test_bin=$cache/kgo.test

PATH=$PATH:/usr/local/go/bin
export GOTOOLCHAIN=local GOFLAGS=-mod=mod

if [[ ! -x $test_bin ]]; then
    if ! command -v go >/dev/null 2>&1; then
        echo "franz-go.sh: no Go toolchain found (wanted 1.26+ on PATH or in /usr/local/go)" >&2
        exit 2
    fi
    mkdir -p "$cache"
    log=$cache/build.log
    {
        dir=$(go mod download -json "github.com/twmb/franz-go@$VERSION" |
              /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
        # The module cache is read-only: build from a copy (the tests run in
        # the package directory).
        rm -rf "$cache/src"
        cp -r "$dir" "$cache/src"
        chmod -R u+w "$cache/src"
        (cd "$cache/src/pkg/kgo" && go test -c -o "$test_bin.tmp" .)
        mv "$test_bin.tmp" "$test_bin"
    } >"$log" 2>&1 || {
        tail -n 30 "$log" >&2
        echo "franz-go.sh: building franz-go $VERSION's kgo tests failed (log: $log)" >&2
        exit 2
    }
fi

exec /usr/bin/python3 "$ROOT/integration/kgo_suite.py" --skiff "$bin" --test-bin "$test_bin" \
    --package-dir "$cache/src/pkg/kgo" --junit "$junit" --etl-runs "$etl_runs" --"$whole"
