#!/usr/bin/env bash
# Apache Kafka 4.4.0 as the oracle: resolves its jars with Maven, then formats
# and runs a single-node KRaft broker+controller on loopback.
#
#   scripts/kafka-oracle.sh resolve
#       resolves integration/kafka-oracle/pom.xml into build/kafka-oracle/lib
#       (Maven's repository cache in build/m2); a no-op once done.
#   scripts/kafka-oracle.sh run PORT CONTROLLER_PORT DATA_DIR
#       resolves if needed, writes the broker's config into DATA_DIR, formats
#       DATA_DIR/log as a standalone controller and execs kafka.Kafka in the
#       foreground (the caller stops it with SIGTERM). Both ports must be below
#       32768, out of the machine's ephemeral range: a readiness loop connecting
#       to a port in that range can connect to itself and take the port.
#
# Environment: KAFKA_ORACLE_HEAP (default 1g), JAVA (default java), MVN (default mvn).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIB=$ROOT/build/kafka-oracle/lib
POM=$ROOT/integration/kafka-oracle/pom.xml
JAVA=${JAVA:-java}
MVN=${MVN:-mvn}

resolve() {
    # The stamp names the pom's hash: a changed pom resolves again.
    local stamp=$LIB/.resolved-$(sha256sum "$POM" | cut -c1-16)
    [[ -e $stamp ]] && return 0
    rm -rf "$LIB"
    mkdir -p "$LIB"
    "$MVN" -q -B -f "$POM" -Dmaven.repo.local="$ROOT/build/m2" \
        -Daether.connector.http.retryHandler.count=4 \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIB"
    touch "$stamp"
}

# cluster_id: a random cluster id as Kafka's Uuid.randomUuid makes one (base64url
# of 16 random bytes, no padding, never starting with '-'), without a JVM start.
cluster_id() {
    python3 -c 'import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break'
}

run() {
    local port=$1 cport=$2 dir=$3
    if ((port >= 32768 || cport >= 32768)); then
        echo "kafka-oracle: ports must be below 32768 (got $port, $cport)" >&2
        exit 2
    fi
    resolve
    mkdir -p "$dir/log"
    cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/log
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
    cat >"$dir/log4j2.properties" <<PROPS
status = error
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = out
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
PROPS
    local jvm=(-Xmx"${KAFKA_ORACLE_HEAP:-1g}" -Xms256m -XX:+UseG1GC -Djava.awt.headless=true
        -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$LIB/*")
    "$JAVA" "${jvm[@]}" kafka.tools.StorageTool format --standalone \
        --config "$dir/server.properties" --cluster-id "$(cluster_id)" \
        --ignore-formatted >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; exit 1; }
    echo "kafka-oracle: starting on 127.0.0.1:$port (controller $cport, data $dir)"
    exec "$JAVA" "${jvm[@]}" kafka.Kafka "$dir/server.properties"
}

case ${1:-} in
    resolve) resolve ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 resolve | run PORT CONTROLLER_PORT DATA_DIR" >&2; exit 2 ;;
esac
