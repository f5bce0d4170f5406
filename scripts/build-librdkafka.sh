#!/usr/bin/env bash
# Builds a recent librdkafka (2.15.1) into a cache directory so the
# integration tests can run confluent-kafka-python a second time against a
# client that sends flexible versions (Produce v10, Fetch v16, Metadata v12+).
# Debian ships librdkafka 2.0.2, which stops at Produce v7 / Fetch v11.
#
# The source comes from the npm package @confluentinc/kafka-javascript, which
# carries librdkafka's full tree under deps/librdkafka. Its own installer
# downloads dependencies, so this script configures and builds the library
# itself, against Debian's -dev packages (zlib, zstd, OpenSSL), with curl,
# GSSAPI and every download turned off.
#
# Idempotent: when DIR/lib/librdkafka.so.1 exists and DIR/VERSION names the
# wanted version, it prints so and exits 0 without touching the network.
#
# Usage: scripts/build-librdkafka.sh [DIR]
#   DIR defaults to $SKIFF_LIBRDKAFKA_DIR, else build/librdkafka-2.15 in the tree.
# Then: LD_LIBRARY_PATH=DIR/lib /usr/bin/python3 -c \
#           'import confluent_kafka; print(confluent_kafka.libversion())'
set -euo pipefail

PACKAGE=@confluentinc/kafka-javascript@1.10.1
WANT_VERSION=2.15.1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-${SKIFF_LIBRDKAFKA_DIR:-$ROOT/build/librdkafka-2.15}}
JOBS=${SKIFF_JOBS:-2}

say() { printf 'build-librdkafka: %s\n' "$*"; }

# loaded_version: the version the built library reports when Debian's
# confluent-kafka-python loads it, or nothing.
loaded_version() {
    LD_LIBRARY_PATH=$DIR/lib /usr/bin/python3 -c \
        'import confluent_kafka; print(confluent_kafka.libversion()[0])' 2>/dev/null || true
}

have=$(cat "$DIR/VERSION" 2>/dev/null || true)
if [[ -e $DIR/lib/librdkafka.so.1 && $have == "$WANT_VERSION" ]]; then
    say "librdkafka $have already built in $DIR (remove it to rebuild)"
    exit 0
fi

for tool in npm tar make cc; do
    command -v "$tool" >/dev/null 2>&1 || { say "missing $tool"; exit 1; }
done

started=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say "fetching $PACKAGE with npm pack into $work"
(cd "$work" && npm pack --silent --fetch-retries=4 "$PACKAGE" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/deps/librdkafka
src=$work/package/deps/librdkafka
[[ -x $src/configure ]] || { say "no deps/librdkafka/configure in $PACKAGE"; exit 1; }

say "configuring in $src (prefix $DIR; no downloads, curl, GSSAPI; builtin lz4)"
(cd "$src" && ./configure --prefix="$DIR" --no-download --no-cache \
    --disable-curl --disable-gssapi --disable-lz4-ext \
    --enable-zlib --enable-zstd --enable-ssl) >"$work/configure.log" 2>&1 || {
    tail -n 40 "$work/configure.log"
    say "configure failed"
    exit 1
}

say "building libs with make -j$JOBS"
make -C "$src" libs -j"$JOBS" >"$work/make.log" 2>&1 || {
    tail -n 40 "$work/make.log"
    say "make failed"
    exit 1
}

say "installing into $DIR"
rm -rf "$DIR"
mkdir -p "$DIR"
make -C "$src/src" install >"$work/install.log" 2>&1 || {
    tail -n 40 "$work/install.log"
    say "make install failed"
    exit 1
}

have=$(loaded_version)
if [[ $have != "$WANT_VERSION" ]]; then
    say "confluent-kafka-python loads version '${have}' from $DIR/lib, wanted $WANT_VERSION"
    exit 1
fi
echo "$WANT_VERSION" >"$DIR/VERSION"
say "librdkafka $have built in $DIR in $((SECONDS - started))s"
