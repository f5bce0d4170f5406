#!/usr/bin/python3
"""skiff against Apache Kafka 4.4 head to head (issue 23).

Starts skiff (its defaults, one partition a topic as Kafka's shipped
num.partitions=1) and Apache Kafka 4.4.0 from its jars (single-node KRaft
broker+controller on loopback, ports below 32768, heap 1 GB, its shipped
defaults plus group.initial.rebalance.delay.ms=0, as scripts/kafka-oracle.sh),
in rounds interleaved (skiff, Kafka, skiff, Kafka, ...), each on a fresh data
dir, and prints a Markdown table of the medians with the ratio skiff/Kafka.

    bench/vs_kafka.py [--build DIR] [--kafka-lib DIR] [--rounds N] [--quick] [--json FILE]

Per round and broker: ready time and idle RSS (bench startup tool: exec to the
first answered Metadata v0, VmRSS 1 s later; Kafka's storage format runs before
and is not counted), then one broker process for the set: librdkafka (bench
load) produce 100 B acks=1, 1 KiB acks=all, 100 B idempotent zstd, consume
100 B and 1 KiB; Kafka's own tools from the same jars: ProducerPerformance
100 B acks=1 and 1 KiB acks=all, ConsumerPerformance 1 KiB, EndToEndLatency
100 B acks=1; then VmRSS/VmHWM after the set. For every figure the broker's
CPU seconds (utime+stime from /proc/PID/stat, for Kafka the JVM's) per GiB of
payload moved. Nothing here asserts a timing.
"""

import argparse
import base64
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import fmt, log, median_of, proc_cpu_s, proc_status, terminate, wait_listening  # noqa: E402

GIB = 1 << 30
KINDS = ("skiff", "kafka")

KAFKA_PROPS = """process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{cport}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs={dir}/log
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
"""

KAFKA_LOG4J = """status = error
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = out
"""

# The set: (figure, tool, arguments, payload size, full count or seconds, quick).
# "load" runs take seconds (-d); "fill" writes the topic a consume figure reads
# (count of messages, untimed); Java tools take a record count.
SET = [
    ("rdk produce 100 B acks=1", "load", ["produce", "-a", "1"], 100, 10, 4),
    ("rdk produce 1 KiB acks=all", "load", ["produce", "-a", "all"], 1024, 10, 4),
    ("rdk produce 100 B idempotent zstd", "load", ["produce", "--idempotence", "-z", "zstd"], 100, 10, 4),
    ("fill 100 B", "fill", [], 100, 2_000_000, 500_000),
    ("rdk consume 100 B", "load", ["consume"], 100, 5, 3),
    ("fill 1 KiB", "fill", [], 1024, 500_000, 150_000),
    ("rdk consume 1 KiB", "load", ["consume"], 1024, 5, 3),
    ("java produce 100 B acks=1", "pperf", ["acks=1"], 100, 3_000_000, 1_000_000),
    ("java produce 1 KiB acks=all", "pperf", ["acks=all"], 1024, 1_000_000, 250_000),
    ("java consume 1 KiB", "cperf", [], 1024, 0, 0),
    ("java end-to-end 100 B acks=1", "e2e", [], 100, 5000, 1000),
]

# Rows of the table: (figure, metric, label, unit).
ROWS = [("startup", "ready_ms", "ready: exec to first Metadata answer", "ms"),
        ("startup", "rss_idle_kb", "RSS idle (1 s after ready)", "KiB"),
        ("after-set", "rss_kb", "RSS after the set", "KiB"),
        ("after-set", "hwm_kb", "peak RSS (VmHWM) over the set", "KiB")]
for _fig, _tool, *_ in SET:
    if _tool == "fill":
        continue
    if _tool == "e2e":
        ROWS += [(_fig, m, f"{_fig} {m[4:-3]}", "ms") for m in ("lat_p50_ms", "lat_p99_ms", "lat_p999_ms")]
        continue
    ROWS += [(_fig, "msgs_per_s", _fig, "msgs/s"), (_fig, "mb_per_s", _fig, "MB/s"),
             (_fig, "cpu_s_per_gib", f"{_fig} broker CPU", "s/GiB")]


def low_port():
    """A free loopback port below 32768 (out of the ephemeral range)."""
    while True:
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue


def cluster_id():
    """A random Kafka cluster id (base64url of 16 random bytes, not starting with '-')."""
    while True:
        s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not s.startswith("-"):
            return s


class Broker:
    """One broker process of either kind on a fresh data dir."""

    def __init__(self, kind, args, workdir):
        self.kind, self.args, self.workdir = kind, args, workdir
        self.proc = self.datadir = self.port = None

    def jvm(self, log4j):
        # kafka-server-start.sh's heap and kafka-run-class.sh's JVM options
        return ["java", "-Xmx1g", "-Xms1g", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={log4j}", "-cp", os.path.join(self.args.kafka_lib, "*")]

    def prepare(self):
        """Fresh data dir and port; for Kafka the config and the storage format. Returns the command."""
        self.datadir = tempfile.mkdtemp(prefix=f"{self.kind}-", dir=self.workdir)
        self.port = low_port()
        if self.kind == "skiff":
            return [self.args.skiff, "--listeners", f"PLAINTEXT://127.0.0.1:{self.port}",
                    "--log.dirs", self.datadir, "--num.partitions", "1"]
        cport = low_port()
        props, log4j = os.path.join(self.datadir, "server.properties"), os.path.join(self.datadir, "log4j2.properties")
        with open(props, "w") as f:
            f.write(KAFKA_PROPS.format(port=self.port, cport=cport, dir=self.datadir))
        with open(log4j, "w") as f:
            f.write(KAFKA_LOG4J)
        subprocess.run(self.jvm(log4j) + ["kafka.tools.StorageTool", "format", "--standalone", "--config", props,
                                          "--cluster-id", cluster_id(), "--ignore-formatted"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=120)
        return self.jvm(log4j) + ["kafka.Kafka", props]

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        cmd = self.prepare()
        errlog = open(os.path.join(self.workdir, f"{self.kind}.log"), "a")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=errlog, stderr=errlog)
        wait_listening(self.proc, self.kind, "127.0.0.1", self.port, 90, 0.01)

    def stop(self):
        if self.proc:
            terminate(self.proc)
            self.proc = None
        if self.datadir:
            shutil.rmtree(self.datadir, ignore_errors=True)
            self.datadir = None


class Runner:
    def __init__(self, args):
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="skiff-vs-kafka-", dir=args.data_root)
        self.results = {k: {} for k in KINDS}
        self.java_cp = ["java", "-Xmx512m", "-cp", os.path.join(args.kafka_lib, "*")]

    def record(self, kind, figure, res):
        self.results[kind].setdefault(figure, []).append(res)
        log(f"  {kind:5} {figure:36} {json.dumps(res)}")

    def tool(self, cmd, timeout=600):
        with open(os.path.join(self.workdir, "tools.log"), "a") as errlog:
            errlog.write(f"== {' '.join(cmd)}\n")
            errlog.flush()
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=errlog, text=True, timeout=timeout)
        return p.returncode, p.stdout

    def run_startup(self, broker):
        cmd = broker.prepare()
        p = subprocess.run([os.path.join(self.args.tools, "startup"), "--port", str(broker.port),
                            "--idle-ms", "1000", "--timeout-ms", "90000",
                            "--log", os.path.join(self.workdir, f"{broker.kind}-startup.log"), "--"] + cmd,
                           stdout=subprocess.PIPE, text=True, timeout=180)
        broker.stop()
        try:
            res = dict(json.loads(p.stdout), status="ok")
        except ValueError:
            res = {"status": "error", "reason": f"startup exited {p.returncode}"}
        self.record(broker.kind, "startup", res)

    def figure(self, broker, figure, tool, argv, size, amount):
        """Runs one figure; returns its result with the broker's CPU seconds per GiB."""
        reads = tool in ("fill", "cperf") or argv[:1] == ["consume"]
        b, topic = broker.bootstrap, f"t{size}" if reads else figure.replace(" ", "-").replace("=", "")
        load = os.path.join(self.args.tools, "load")
        if tool == "load":
            cmd = [load, argv[0], "-b", b, "-t", topic, "-s", str(size), "-d", str(amount)] + argv[1:]
        elif tool == "fill":
            cmd = [load, "produce", "-b", b, "-t", topic, "-s", str(size), "-a", "1", "-n", str(amount)]
        elif tool == "pperf":
            cmd = self.java_cp + ["org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
                                  "--num-records", str(amount), "--record-size", str(size), "--throughput", "-1",
                                  "--producer-props", f"bootstrap.servers={b}"] + argv
        elif tool == "cperf":
            cmd = self.java_cp + ["org.apache.kafka.tools.ConsumerPerformance", "--bootstrap-server", b,
                                  "--topic", topic, "--num-records", str(self.filled[size]),
                                  "--group", f"perf-{time.monotonic_ns()}", "--timeout", "60000"]
        else:
            cmd = self.java_cp + ["org.apache.kafka.tools.EndToEndLatency", b, topic, str(amount), "1", str(size)]
        cpu0 = proc_cpu_s(broker.proc.pid)
        rc, out = self.tool(cmd)
        cpu = proc_cpu_s(broker.proc.pid) - cpu0
        res = parse(tool, out, size)
        if res is None:
            return {"status": "error", "reason": f"{cmd[-1] if tool != 'load' else argv[0]} exited {rc}"}
        if tool == "fill":
            self.filled[size] = int(res.get("msgs", amount))
        if res.get("msgs"):
            res["cpu_s_per_gib"] = cpu / (res["msgs"] * size / GIB)
        return res

    def run_set(self, broker):
        broker.start()
        self.filled = {}
        try:
            for figure, tool, argv, size, full, quick in SET:
                res = self.figure(broker, figure, tool, argv, size, quick if self.args.quick else full)
                self.record(broker.kind, figure, res)
            self.record(broker.kind, "after-set", dict(proc_status(broker.proc.pid), status="ok"))
        finally:
            broker.stop()

    def run(self):
        for r in range(self.args.rounds):
            for kind in KINDS:
                log(f"round {r + 1}/{self.args.rounds}: {kind}")
                broker = Broker(kind, self.args, self.workdir)
                self.run_startup(broker)
                self.run_set(broker)


def parse(tool, out, size):
    """The result of one tool run from its standard output, or None."""
    if tool in ("load", "fill"):
        lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        return lines[-1] if lines and lines[-1].get("status") == "ok" else None
    if tool == "pperf":
        m = re.search(r"(\d+) records sent, ([\d.]+) records/sec .*? ([\d.]+) ms 50th, [\d.]+ ms 95th, "
                      r"([\d.]+) ms 99th, ([\d.]+) ms 99.9th", out)
        if not m:
            return None
        rate = float(m.group(2))
        return {"status": "ok", "msgs": int(m.group(1)), "msgs_per_s": rate, "mb_per_s": rate * size / 1e6,
                "lat_p50_ms": float(m.group(3)), "lat_p99_ms": float(m.group(4)), "lat_p999_ms": float(m.group(5))}
    if tool == "cperf":
        lines = [l for l in out.splitlines() if l.strip()]
        heads = [h.strip() for h in lines[0].split(",")] if lines else []
        if "fetch.nMsg.sec" not in heads or len(lines) < 2:
            return None
        row = dict(zip(heads, (v.strip() for v in lines[-1].split(","))))
        msgs, rate = int(row["data.consumed.in.nMsg"]), float(row["fetch.nMsg.sec"])
        return {"status": "ok", "msgs": msgs, "msgs_per_s": rate, "mb_per_s": rate * size / 1e6,
                "rebalance_ms": float(row["rebalance.time.ms"])}
    m = re.search(r"50th = ([\d.]+), 99th = ([\d.]+), 99.9th = ([\d.]+)", out)
    if not m:
        return None
    return {"status": "ok", "lat_p50_ms": float(m.group(1)), "lat_p99_ms": float(m.group(2)),
            "lat_p999_ms": float(m.group(3))}


def report(runner):
    out = [f"Rounds: {runner.args.rounds}{' (quick)' if runner.args.quick else ''}; "
           "medians over rounds; ratio = skiff / Kafka.\n",
           "| figure | unit | skiff | Kafka 4.4.0 | skiff/Kafka |", "|---|---|---:|---:|---:|"]
    for figure, metric, label, unit in ROWS:
        meds = [median_of(runner.results[k].get(figure, []), metric) for k in KINDS]
        ratio = "–"
        if meds[0] is not None and meds[1]:
            q = meds[0] / meds[1]
            ratio = f"{q:.2f}x" if q >= 0.1 else f"{q:.2g}x"
        out.append(f"| {label} | {unit} | {fmt(meds[0], unit)} | {fmt(meds[1], unit)} | {ratio} |")
    for kind in KINDS:
        for fig, rs in runner.results[kind].items():
            for r in rs:
                if r.get("status") != "ok":
                    out.append(f"- {kind} {fig}: {r.get('status')} {r.get('reason', '')}")
    return "\n".join(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(here), "build"),
                    help="build directory with skiff and bench/{load,startup} (default: build)")
    ap.add_argument("--skiff", help="skiff binary (default: BUILD/skiff)")
    ap.add_argument("--tools", help="directory of load and startup (default: BUILD/bench)")
    ap.add_argument("--kafka-lib", help="Apache Kafka 4.4.0's jars (default: BUILD/kafka-oracle/lib, "
                    "made by scripts/kafka-oracle.sh resolve)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of skiff then Kafka (default 3)")
    ap.add_argument("--quick", action="store_true", help="one round of small counts (about a minute a broker)")
    ap.add_argument("--data-root", default=None, help="where the fresh data dirs go (default: $TMPDIR)")
    ap.add_argument("--json", help="write every raw result to this file")
    args = ap.parse_args()
    args.skiff = args.skiff or os.path.join(args.build, "skiff")
    args.tools = args.tools or os.path.join(args.build, "bench")
    args.kafka_lib = args.kafka_lib or os.path.join(args.build, "kafka-oracle", "lib")
    if args.quick:
        args.rounds = 1
    runner = Runner(args)
    started = time.monotonic()
    try:
        runner.run()
    finally:
        shutil.rmtree(runner.workdir, ignore_errors=True)
    load = os.getloadavg()
    print(report(runner))
    print(f"\nRun took {time.monotonic() - started:.0f} s; load average at the end "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": runner.results, "rounds": args.rounds, "quick": args.quick}, f, indent=1)


if __name__ == "__main__":
    main()
