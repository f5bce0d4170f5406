#!/usr/bin/env bash
# Runs every test skiff has, in this order:
#   0. client set-up: kafkajs and playwright-core (npm ci in integration/js,
#      integration/console), librdkafka 2.15 (scripts/build-librdkafka.sh,
#      cached in build/librdkafka-2.15) and the newest PyPI clients
#      (scripts/pypi-clients.sh, in build/venv-pypi);
#   1. release build (build/, warnings are errors), unit tests (ctest),
#      integration tests (pytest integration/ against build/skiff), then the
#      tests marked librdkafka again with librdkafka 2.15 loaded, then those
#      marked librdkafka or kafka_python with the PyPI clients;
#   1b. conformance: skiff against Apache Kafka 4.4.0 (scripts/kafka-oracle.sh
#      resolves its jars with Maven into build/kafka-oracle, tests/conformance
#      compares their answers; report in build/conformance/report.md);
#   1c. franz-go's kgo suite (scripts/franz-go.sh: the consumer-group ETL
#      tests SKIFF_KGO_ETL_RUNS times, the whole package once);
#   1d. Java: kafka-clients and Kafka Streams 4.4.0 JUnit tests (integration/java,
#      Maven) against build/skiff, then MirrorMaker 2 from skiff to Apache Kafka
#      (integration/java/mirror);
#   1e. the container image: scripts/build-image.sh builds the Dockerfile
#      with buildah (base cached in build/image), then
#      integration/test_image.py runs it (skipped with SKIFF_QUICK unless
#      SKIFF_IMAGE=1; SKIFF_IMAGE=0 always skips it);
#   2. ASan+UBSan build (build-asan/), unit tests, integration tests and the
#      kgo ETL tests once against build-asan/skiff; a sanitizer report fails
#      the test;
#   3. libFuzzer build (build-fuzz/, clang), every fuzz_* target for
#      SKIFF_FUZZ_SECONDS seconds, each seeded from its corpus (fuzz_seeds below).
# It keeps going after a failure and ends with one line, `N passed, N failed`,
# counting unit tests, integration tests and fuzz runs (a build that fails
# counts as one failure); the exit status is non-zero if anything failed.
#
# Environment:
#   SKIFF_QUICK=1          skip stages 2 and 3 (the local inner loop)
#   SKIFF_KGO=0            skip franz-go's kgo suite
#   SKIFF_KGO_ETL_RUNS=N   runs of the kgo ETL tests in stage 1c (default 2)
#   SKIFF_IMAGE=0|1        skip or run the image stage (default: run unless SKIFF_QUICK)
#   SKIFF_FUZZ_SECONDS=N   seconds per fuzz target (default 60; 0 skips stage 3)
#   SKIFF_FUZZ_JOBS=N      fuzz targets run at the same time (default SKIFF_JOBS)
#   SKIFF_ASAN_PYTEST=all  integration tests under ASan: all (default) or smoke
#   SKIFF_JOBS=N           build and test parallelism (default 2)
#   SKIFF_PYTEST_WORKERS=N parallel pytest workers (default 3; 1 runs the tests one by one)
#   PYTEST_ARGS="..."      extra pytest arguments, e.g. "-k metadata"
#   SKIFF_LIBRDKAFKA_DIR=D where librdkafka 2.15 is built (default build/librdkafka-2.15)
#   SKIFF_CONFORMANCE=0    skip the conformance and Java stages (no JVM)
#   SKIFF_FORMAT_CHECK=0   skip the formatting check (scripts/check-format.sh, one
#                          counted test, on by default)
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
PY=/usr/bin/python3
JOBS=${SKIFF_JOBS:-2}
FUZZ_SECONDS=${SKIFF_FUZZ_SECONDS:-60}
FUZZ_JOBS=${SKIFF_FUZZ_JOBS:-$JOBS}
# Integration tests mostly wait on the network and on client timers: run them in
# parallel (pytest-xdist); every test has its own broker, port and data dir.
PYTEST_WORKERS=${SKIFF_PYTEST_WORKERS:-3}
LOGS=$ROOT/build/test-logs
SAN_ENV=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1)

passed=0
failed=0
failures=()
started=$SECONDS

stage() { printf '\n==> %s (%ds)\n' "$*" $((SECONDS - started)); }

fail() {
    failed=$((failed + 1))
    failures+=("$1")
}

# count_junit FILE LABEL: adds a JUnit XML file's results (ctest or pytest) to the totals.
count_junit() {
    local file=$1 label=$2 out p f
    if [[ ! -s $file ]]; then
        fail "$label: no results (crashed or timed out)"
        return
    fi
    out=$("$PY" - "$file" "$label" <<'EOF'
import sys
import xml.etree.ElementTree as ET
passed = 0
for tc in ET.parse(sys.argv[1]).getroot().iter('testcase'):
    name = (tc.get('classname', '') + '::' + tc.get('name', '')).strip(':')
    bad = tc.find('failure') is not None or tc.find('error') is not None
    if bad or tc.get('status') == 'notrun':      # notrun: ctest found no executable
        print(f'FAILED {sys.argv[2]}: {name}')
    elif tc.find('skipped') is None:
        passed += 1
print(passed)
EOF
    ) || { fail "$label: unreadable results $file"; return; }
    p=$(tail -n 1 <<<"$out")
    passed=$((passed + p))
    while IFS= read -r f; do
        [[ $f == FAILED\ * ]] && fail "${f#FAILED }"
    done <<<"$out"
}

# cmake_log LOG CMAKE_BUILD_ARGS...: cmake --build, output appended to LOG.
cmake_log() {
    local log=$1
    shift
    cmake --build "$@" -j "$JOBS" >>"$log" 2>&1
}

# show_errors LOG: the compiler and linker errors of a build log.
show_errors() {
    grep -E ': (fatal )?error|undefined reference|\*\*\*' "$1" | head -n 40
}

# build DIR LABEL CMAKE_ARGS...: configures DIR, builds skiff, then every other
# target, keeping going past failures (one failure counted for the stage).
# Returns 0 when skiff built, 1 when it did not, 2 when cmake could not configure.
build() {
    local dir=$1 label=$2 log=$LOGS/$2.build.log rc=0
    shift 2
    if ! cmake -S "$ROOT" -B "$dir" "$@" >"$log" 2>&1; then
        tail -n 40 "$log"
        fail "build: $label: cmake configure (log: $log)"
        return 2
    fi
    cmake_log "$log" "$dir" --target skiff || rc=1
    if ! cmake_log "$log" "$dir" -- -k; then
        show_errors "$log"
        fail "build: $label (log: $log)"
    fi
    return $rc
}

# build_fuzzer NAME: configures build-fuzz (clang, libFuzzer, ASan+UBSan) and builds one target.
build_fuzzer() {
    local log=$LOGS/$1.build.log
    if ! { cmake -S "$ROOT" -B "$ROOT/build-fuzz" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
               -DSKIFF_FUZZ=ON -DSKIFF_SANITIZE=address,undefined >"$log" 2>&1 &&
           cmake_log "$log" "$ROOT/build-fuzz" --target "$1"; }; then
        show_errors "$log"
        fail "build: $1 (log: $log)"
        return 1
    fi
}

# unit DIR LABEL: ctest in DIR.
unit() {
    local junit=$LOGS/$2.ctest.xml
    rm -f "$junit"
    ctest --test-dir "$1" --output-on-failure --no-tests=ignore -j "$JOBS" --timeout 300 \
        --output-junit "$junit"
    count_junit "$junit" "$2"
}

# integration BIN LABEL [PYTEST_ARGS...]: the pytest suite (the files of IT_FILES
# when set) against skiff binary BIN.
integration() {
    local bin=$1 label=$2 junit=$LOGS/$2.pytest.xml
    shift 2
    rm -f "$junit"
    if [[ $PYTEST_WORKERS -gt 1 ]]; then
        set -- -n "$PYTEST_WORKERS" "$@"
    fi
    # shellcheck disable=SC2086  # PYTEST_ARGS and IT_FILES are split on purpose
    SKIFF_BIN=$bin timeout -k 10 1200 "$PY" -m pytest ${IT_FILES:-$ROOT/integration} -q --tb=short \
        --junitxml="$junit" "$@" ${PYTEST_ARGS:-}
    count_junit "$junit" "$label"
}

# conformance BIN: the differential tests (tests/conformance) of skiff binary
# BIN against Apache Kafka 4.4.0, whose jars are resolved first.
conformance() {
    local junit=$LOGS/conformance.pytest.xml
    rm -f "$junit"
    if ! scripts/kafka-oracle.sh resolve >"$LOGS/kafka-oracle-resolve.log" 2>&1; then
        tail -n 40 "$LOGS/kafka-oracle-resolve.log"
        fail "conformance: resolving Apache Kafka with Maven (log: $LOGS/kafka-oracle-resolve.log)"
        return
    fi
    SKIFF_BIN=$1 timeout -k 10 600 "$PY" -m pytest "$ROOT/tests/conformance" -q --tb=short \
        --junitxml="$junit"
    count_junit "$junit" conformance
}

# java_tests BIN MODULE OUT: the JUnit tests of Maven module MODULE against
# skiff binary BIN; OUT is the module's build directory under build/.
java_tests() {
    local reports=$ROOT/build/$3/surefire-reports f
    rm -rf "$reports"
    (cd "$2" && SKIFF_BIN=$1 timeout -k 10 900 mvn -q -B -Dmaven.repo.local="$ROOT/build/m2" \
        -Daether.connector.http.retryHandler.count=4 test) >"$LOGS/$3.log" 2>&1
    if ! compgen -G "$reports/TEST-*.xml" >/dev/null; then
        tail -n 40 "$LOGS/$3.log"
        fail "$3: no results (log: $LOGS/$3.log)"
        return
    fi
    for f in "$reports"/TEST-*.xml; do
        count_junit "$f" "$3"
    done
}

# image_stage: builds the container image and runs integration/test_image.py on it.
image_stage() {
    local tag=localhost/skiff:test junit=$LOGS/image.pytest.xml
    rm -f "$junit"
    if ! scripts/build-image.sh "$tag" 2>"$LOGS/image.build.log" >/dev/null; then
        tail -n 40 "$LOGS/image.build.log"
        fail "build: container image (log: $LOGS/image.build.log, build/image/bud.log)"
        return
    fi
    # shellcheck disable=SC2086  # PYTEST_ARGS is split on purpose
    SKIFF_IMAGE_TAG=$tag SKIFF_IMAGE_STORE=$ROOT/build/image timeout -k 10 600 "$PY" -m pytest \
        "$ROOT/integration/test_image.py" -q --tb=short --junitxml="$junit" ${PYTEST_ARGS:-}
    count_junit "$junit" image
}

# fuzz_one NAME: runs one fuzz target; writes its status to $LOGS/NAME.fuzz.rc.
# fuzz_seeds NAME: the seed corpus directory of fuzz target NAME.
fuzz_seeds() {
    case $1 in
        fuzz_request) echo "$ROOT/tests/data/requests" ;;
        fuzz_decompress) echo "$ROOT/tests/data/compressed/fuzz_seeds" ;;
        *) echo "$ROOT/tests/data/fuzz/${1#fuzz_}" ;;
    esac
}

fuzz_one() {
    local name=$1 work corpus seeds artifacts=$ROOT/build-fuzz/artifacts/$1 rc
    work=$(mktemp -d)
    corpus=$work/corpus
    mkdir -p "$corpus" "$artifacts"
    # libFuzzer adds to its corpus directory: seed a copy, never the tree.
    seeds=$(fuzz_seeds "$name")
    if [[ -d $seeds ]]; then
        find "$seeds" -maxdepth 1 -type f ! -name '*.py' ! -name '*.md' ! -name '*.txt' \
            -exec cp {} "$corpus/" \;
    fi
    env "${SAN_ENV[@]}" timeout -k 10 $((FUZZ_SECONDS + 120)) "$ROOT/build-fuzz/$name" \
        -max_total_time="$FUZZ_SECONDS" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$LOGS/$name.fuzz.log" 2>&1
    rc=$?
    echo "$rc" >"$LOGS/$name.fuzz.rc"
    rm -rf "$work"
}

mkdir -p "$LOGS"

stage "dependencies"
if ! scripts/install-deps.sh; then
    echo "test.sh: installing dependencies failed"
    echo "0 passed, 1 failed"
    exit 1
fi

# Formatting: one counted test, about 10 s (the whole tree, clang-format 14).
if [[ ${SKIFF_FORMAT_CHECK:-1} != 0 ]]; then
    stage "format (scripts/check-format.sh)"
    if scripts/check-format.sh >"$LOGS/format.log" 2>&1; then
        passed=$((passed + 1))
    else
        tail -n 40 "$LOGS/format.log"
        fail "format: files differ from .clang-format (log: $LOGS/format.log; fix: scripts/check-format.sh --fix)"
    fi
fi

stage "clients: kafkajs and playwright-core (npm ci), librdkafka 2.15 (scripts/build-librdkafka.sh), PyPI (scripts/pypi-clients.sh)"
for dir in integration/js integration/console; do # kafkajs; playwright-core for the console test
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error --fetch-retries=4) >"$LOGS/npm.log" 2>&1; then
        tail -n 40 "$LOGS/npm.log"
        fail "npm ci in $dir (log: $LOGS/npm.log)"
    fi
done
LIBRDKAFKA_DIR=${SKIFF_LIBRDKAFKA_DIR:-$ROOT/build/librdkafka-2.15}
if ! scripts/build-librdkafka.sh "$LIBRDKAFKA_DIR"; then
    fail "build: librdkafka 2.15 (scripts/build-librdkafka.sh)"
    LIBRDKAFKA_DIR=
fi
PYPI_VENV=$ROOT/build/venv-pypi
if ! scripts/pypi-clients.sh "$PYPI_VENV" >"$LOGS/pypi-clients.log" 2>&1; then
    tail -n 40 "$LOGS/pypi-clients.log"
    fail "PyPI clients (scripts/pypi-clients.sh, log: $LOGS/pypi-clients.log)"
    PYPI_VENV=
fi

stage "release build (build/)"
build "$ROOT/build" release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKIFF_WERROR=ON
built=$?
if [[ $built -lt 2 ]]; then
    stage "unit tests (release)"
    unit "$ROOT/build" release
fi
if [[ $built -eq 0 ]]; then
    stage "integration tests (release)"
    integration "$ROOT/build/skiff" release
    # The real-client tests again with three brokers in one process (docs/cluster.md,
    # "Running the suite with N=3"): clients find each partition's leader and coordinator.
    stage "integration tests (release, three brokers: SKIFF_TEST_BROKERS=3)"
    brokers3=(test_produce_fetch.py test_produce_fetch_kafka_python.py test_produce_fetch_kafkajs.py
        test_groups.py test_groups_kafka_python.py test_kafkajs_groups.py test_txn_kafkajs.py test_admin.py
        test_control_clients.py test_compaction_clients.py test_restart.py)
    IT_FILES="${brokers3[*]/#/$ROOT/integration/}" SKIFF_TEST_BROKERS=3 \
        integration "$ROOT/build/skiff" release-brokers3
    if [[ -n $LIBRDKAFKA_DIR ]]; then
        stage "integration tests (release, librdkafka 2.15, -m librdkafka)"
        SKIFF_LIBRDKAFKA=recent LD_LIBRARY_PATH=$LIBRDKAFKA_DIR/lib \
            integration "$ROOT/build/skiff" release-librdkafka-2.15 -m librdkafka
    fi
    if [[ -n $PYPI_VENV ]]; then
        stage "integration tests (release, PyPI clients: confluent-kafka 2.16.2, kafka-python 3.0.12)"
        PY=$PYPI_VENV/bin/python SKIFF_LIBRDKAFKA=pypi SKIFF_KAFKA_PYTHON=pypi \
            integration "$ROOT/build/skiff" release-pypi -m 'librdkafka or kafka_python'
    fi
fi

if [[ $built -eq 0 && ${SKIFF_CONFORMANCE:-1} != 0 ]]; then
    stage "conformance: skiff vs Apache Kafka 4.4.0 (tests/conformance)"
    conformance "$ROOT/build/skiff"
fi

# kgo BIN LABEL ETL_RUNS whole|etl: franz-go's own suite (scripts/franz-go.sh).
kgo() {
    local bin=$1 label=$2 junit=$LOGS/$2.junit.xml rc
    shift 2
    rm -f "$junit"
    scripts/franz-go.sh "$bin" "$junit" "$@"
    rc=$?
    if [[ $rc == 2 ]]; then
        fail "$label: franz-go's kgo tests could not be built (log: build/franz-go-*/build.log)"
    else
        count_junit "$junit" "$label"
    fi
}

if [[ $built -eq 0 && ${SKIFF_KGO:-1} != 0 ]]; then
    stage "franz-go kgo suite (release): the ETL tests ${SKIFF_KGO_ETL_RUNS:-2} times, the whole package once"
    kgo "$ROOT/build/skiff" kgo-release "${SKIFF_KGO_ETL_RUNS:-2}" whole
fi

if [[ $built -eq 0 && ${SKIFF_CONFORMANCE:-1} != 0 ]]; then
    stage "Java: kafka-clients and Kafka Streams 4.4.0 (integration/java)"
    java_tests "$ROOT/build/skiff" integration/java java-it
    stage "Java: MirrorMaker 2 from skiff to Apache Kafka (integration/java/mirror)"
    java_tests "$ROOT/build/skiff" integration/java/mirror java-mirror-it
fi

if [[ ${SKIFF_IMAGE:-$([[ ${SKIFF_QUICK:-0} != 0 ]] && echo 0 || echo 1)} != 0 ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        stage "container image skipped: buildah's chroot isolation needs root (CI runs as root)"
    else
        stage "container image (scripts/build-image.sh, integration/test_image.py)"
        image_stage
    fi
fi

if [[ ${SKIFF_QUICK:-0} != 0 ]]; then
    stage "SKIFF_QUICK set: skipping the sanitizer and fuzz stages"
else
    stage "ASan+UBSan build (build-asan/)"
    build "$ROOT/build-asan" asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKIFF_WERROR=ON \
        -DSKIFF_SANITIZE=address,undefined
    built=$?
    export "${SAN_ENV[@]}"
    if [[ $built -lt 2 ]]; then
        stage "unit tests (ASan+UBSan)"
        unit "$ROOT/build-asan" asan
    fi
    if [[ $built -eq 0 ]]; then
        stage "integration tests (ASan+UBSan)"
        if [[ ${SKIFF_ASAN_PYTEST:-all} == smoke ]]; then
            integration "$ROOT/build-asan/skiff" asan -m smoke
        else
            integration "$ROOT/build-asan/skiff" asan
        fi
        if [[ ${SKIFF_KGO:-1} != 0 ]]; then
            stage "franz-go kgo suite (ASan+UBSan): the ETL tests once"
            kgo "$ROOT/build-asan/skiff" kgo-asan 1 etl
        fi
    fi
    unset ASAN_OPTIONS UBSAN_OPTIONS

    fuzzers=()
    for f in "$ROOT"/tests/fuzz/fuzz_*.c; do
        [[ -e $f ]] && fuzzers+=("$(basename "$f" .c)")
    done
    if [[ $FUZZ_SECONDS == 0 || ${#fuzzers[@]} -eq 0 ]]; then
        stage "fuzzing skipped (SKIFF_FUZZ_SECONDS=$FUZZ_SECONDS, ${#fuzzers[@]} targets)"
    else
        stage "libFuzzer build (build-fuzz/): ${fuzzers[*]}"
        ready=()
        for name in "${fuzzers[@]}"; do
            build_fuzzer "$name" && ready+=("$name")
        done
        if [[ ${#ready[@]} -gt 0 ]]; then
            stage "fuzzing ${ready[*]} for ${FUZZ_SECONDS}s each, $FUZZ_JOBS at a time"
        fi
        running=0
        for name in "${ready[@]}"; do
            rm -f "$LOGS/$name.fuzz.rc"
            fuzz_one "$name" &
            running=$((running + 1))
            if [[ $running -ge $FUZZ_JOBS ]]; then
                wait -n
                running=$((running - 1))
            fi
        done
        wait
        for name in "${ready[@]}"; do
            rc=$(cat "$LOGS/$name.fuzz.rc" 2>/dev/null || echo missing)
            if [[ $rc == 0 ]]; then
                passed=$((passed + 1))
                echo "$name: ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' \
                    "$LOGS/$name.fuzz.log" | grep -o '[0-9]*$' || echo '?') runs)"
            else
                tail -n 60 "$LOGS/$name.fuzz.log"
                fail "fuzz: $name exited $rc (log: $LOGS/$name.fuzz.log, crash inputs: build-fuzz/artifacts/$name/)"
            fi
        done
    fi
fi

stage "done"
for f in "${failures[@]}"; do
    echo "FAILED $f"
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
