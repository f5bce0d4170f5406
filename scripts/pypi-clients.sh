#!/usr/bin/env bash
# Installs the newest Python Kafka clients from PyPI (confluent-kafka with its
# bundled librdkafka, kafka-python 3) into a virtual environment for the
# client-matrix run of scripts/test.sh. The versions and their sha256 hashes
# are pinned in integration/requirements-pypi.txt; pip takes wheels only,
# checks every hash and installs no dependency the file does not name.
#
# The environment is made over Debian's /usr/bin/python3 with
# --system-site-packages, so pytest and its plugins come from Debian as in the
# other runs, while the two clients shadow Debian's python3-confluent-kafka
# and python3-kafka.
#
# Idempotent: when DIR/requirements.txt equals the pinned file, it prints so
# and exits 0 without touching the network.
#
# Usage: scripts/pypi-clients.sh [DIR]      (DIR defaults to build/venv-pypi)
# Then:  DIR/bin/python -c 'import confluent_kafka, kafka; print(confluent_kafka.libversion(), kafka.__version__)'
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-$ROOT/build/venv-pypi}
REQ=$ROOT/integration/requirements-pypi.txt

say() { printf 'pypi-clients: %s\n' "$*"; }

if [[ -x $DIR/bin/python ]] && cmp -s "$REQ" "$DIR/requirements.txt"; then
    say "already installed in $DIR"
    exit 0
fi
rm -rf "$DIR"
/usr/bin/python3 -m venv --system-site-packages "$DIR"
"$DIR/bin/python" -m pip install --quiet --disable-pip-version-check --retries 4 \
    --require-hashes --no-deps --only-binary=:all: -r "$REQ"
cp "$REQ" "$DIR/requirements.txt"
say "installed in $DIR: $("$DIR/bin/python" -c 'import confluent_kafka, kafka; print("confluent-kafka", confluent_kafka.version(), "librdkafka", confluent_kafka.libversion()[0], "kafka-python", kafka.__version__)')"
