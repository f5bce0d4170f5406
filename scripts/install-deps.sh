#!/usr/bin/env bash
# Installs the Debian 12 packages skiff needs to build and test: compilers,
# libraries, the unit-test framework and the Kafka clients the integration
# tests drive. Only missing packages are installed (checked with dpkg-query),
# so a second run does nothing and prints nothing. Needs root, or sudo.
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    clang libclang-rt-14-dev            # libFuzzer and the clang sanitizer runtimes
    clang-format                        # 14 on Debian 12: scripts/check-format.sh
    libevent-dev libssl-dev openssl     # libevent-dev has libevent_openssl; openssl: scripts/dev-certs.sh
    zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev
    check libcjson-dev
    libpcre2-dev                        # KIP-848 regex subscriptions (src/coord/cgroup_regex.c)
    librdkafka-dev kcat
    python3 python3-venv python3-pytest python3-pytest-timeout python3-pytest-xdist python3-confluent-kafka python3-kafka
    python3-snappy python3-lz4          # kafka-python's snappy and lz4 codecs
    openjdk-17-jdk-headless maven       # Apache Kafka as the oracle (scripts/kafka-oracle.sh), Java tests
    buildah debootstrap                 # the container image: built and run in the image stage
    python3-prometheus-client python3-jsonschema  # check GET /metrics and the OpenAPI schemas
    chromium                            # the web console in a real browser (integration/console, Playwright)
)
# node and npm for the kafkajs tests; any installation will do (a nodesource
# nodejs bundles npm, and Debian's npm package would conflict with it).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-deps: missing packages (${missing[*]}); run as root or install sudo" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o Acquire::Retries=3) # a dropped download is retried
if ! { "${apt[@]}" update && "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; } \
       </dev/null >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-deps: apt-get failed" >&2
    exit 1
fi
