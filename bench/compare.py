#!/usr/bin/python3
"""Compare skiff with a peer broker (librdkafka's mock cluster) side by side.

Runs the same set of measurements against both brokers, one after the other,
each on a fresh process and a fresh data directory, several rounds interleaved
(skiff, peer, skiff, peer, ...), and prints a Markdown table of the medians,
the ratio skiff/peer and each throughput as a share of the machine's own
limits (loopback TCP of one stream, sequential disk writes), which it measures
first. Raw results go to --json. Nothing here asserts a timing.

    bench/compare.py [--build DIR] [--rounds N] [--quick] [--json FILE]

Per round and broker: start-up and idle memory (bench startup tool), memory
with a 1,000-partition topic, memory after producing 1 GiB, then one broker
process for the throughput and latency set (bench load tool). See
bench/README.md for the settings of each figure.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PARTITIONS = 4  # librdkafka 2.0.2's mock auto-creates topics with 4 partitions
GIB = 1 << 30

# Throughput and latency set: (figure id, load arguments, seconds full/quick).
# Topics are created on first use with PARTITIONS partitions; each test has
# its own topic.
LOAD_SET = [
    ("produce-100-acks1", ["produce", "-s", "100", "-a", "1"], 2, 0.5),
    ("produce-100-acksall", ["produce", "-s", "100", "-a", "all"], 2, 0.5),
    ("produce-1k-acks1", ["produce", "-s", "1024", "-a", "1"], 2, 0.5),
    ("produce-1k-acksall", ["produce", "-s", "1024", "-a", "all"], 2, 0.5),
    ("produce-100-acks0", ["produce", "-s", "100", "-a", "0"], 1, 0.5),
    ("produce-1k-lz4", ["produce", "-s", "1024", "-a", "1", "-z", "lz4"], 1, 0.5),
    ("produce-1k-zstd", ["produce", "-s", "1024", "-a", "1", "-z", "zstd"], 1, 0.5),
    ("produce-1k-linger0", ["produce", "-s", "1024", "-a", "1", "--linger", "0"], 1, 0.5),
    ("produce-100-idempotent", ["produce", "-s", "100", "--idempotence"], 1, 0.5),
    # The mock keeps only the last 5 MiB of each partition (rdkafka_mock.c), so
    # the consume data set is 16 MB (4 MB a partition), read in repeated passes;
    # fetch.wait.max.ms=1 so a pass's end costs both brokers the same short wait.
    ("consume-1k-assign", ["consume", "-s", "1024", "--fill-mb", "16", "-X", "fetch.wait.max.ms=1"], 2, 0.5),
    ("consume-1k-group", ["consume", "-s", "1024", "--fill-mb", "16", "--group", "bench"], 0, 0),
    ("e2e-1000", ["e2e", "-s", "100", "-p", "1", "--rate", "1000", "-X", "fetch.wait.max.ms=1"], 5, 1),
    ("e2e-1000-default-wait", ["e2e", "-s", "100", "-p", "1", "--rate", "1000"], 3, 1),
    ("txn", ["txn", "-s", "100"], 2, 0.5),
]

# Rows of the report: (figure id, metric, label, unit, limit kind).
ROWS = [
    ("startup", "ready_ms", "ready: exec to first Metadata answer", "ms", None),
    ("startup", "rss_idle_kb", "RSS idle (1 s after ready)", "KiB", None),
    ("p1000", "rss_kb", "RSS with a 1,000-partition topic", "KiB", None),
    ("fill-1g", "rss_kb", "RSS after producing 1 GiB (1 KiB msgs)", "KiB", None),
    ("fill-1g", "hwm_kb", "peak RSS (VmHWM) producing 1 GiB", "KiB", None),
    ("fill-1g", "mb_per_s", "produce 1 GiB, 1 KiB acks=1", "MB/s", "loopback"),
    ("produce-100-acks1", "msgs_per_s", "produce 100 B acks=1", "msgs/s", None),
    ("produce-100-acks1", "mb_per_s", "produce 100 B acks=1", "MB/s", "loopback"),
    ("produce-100-acks1", "lat_p99_ms", "produce 100 B acks=1 delivery p99", "ms", None),
    ("produce-100-acksall", "msgs_per_s", "produce 100 B acks=all", "msgs/s", None),
    ("produce-1k-acks1", "msgs_per_s", "produce 1 KiB acks=1", "msgs/s", None),
    ("produce-1k-acks1", "mb_per_s", "produce 1 KiB acks=1", "MB/s", "loopback"),
    ("produce-1k-acks1", "lat_p50_ms", "produce 1 KiB acks=1 delivery p50", "ms", None),
    ("produce-1k-acks1", "lat_p99_ms", "produce 1 KiB acks=1 delivery p99", "ms", None),
    ("produce-1k-acks1", "broker_cpu_pct", "produce 1 KiB acks=1 broker CPU", "%", None),
    ("produce-1k-acksall", "msgs_per_s", "produce 1 KiB acks=all", "msgs/s", None),
    ("produce-1k-acksall", "mb_per_s", "produce 1 KiB acks=all", "MB/s", "loopback"),
    ("produce-100-acks0", "msgs_per_s", "produce 100 B acks=0", "msgs/s", None),
    ("produce-1k-lz4", "msgs_per_s", "produce 1 KiB lz4", "msgs/s", None),
    ("produce-1k-zstd", "msgs_per_s", "produce 1 KiB zstd", "msgs/s", None),
    ("produce-1k-linger0", "msgs_per_s", "produce 1 KiB linger.ms=0", "msgs/s", None),
    ("produce-100-idempotent", "msgs_per_s", "produce 100 B idempotent (acks=all)", "msgs/s", None),
    ("consume-1k-assign", "mb_per_s", "consume 1 KiB, assigned from offset 0", "MB/s", "loopback"),
    ("consume-1k-assign", "msgs_per_s", "consume 1 KiB, assigned from offset 0", "msgs/s", None),
    ("consume-1k-assign", "broker_cpu_pct", "consume 1 KiB broker CPU", "%", None),
    ("consume-1k-group", "join_ms", "consumer group: subscribe to first message", "ms", None),
    ("e2e-1000", "e2e_p50_ms", "end-to-end p50 @1,000 msgs/s (fetch.wait.max.ms=1)", "ms", None),
    ("e2e-1000", "e2e_p99_ms", "end-to-end p99 @1,000 msgs/s (fetch.wait.max.ms=1)", "ms", None),
    ("e2e-1000", "e2e_p999_ms", "end-to-end p99.9 @1,000 msgs/s (fetch.wait.max.ms=1)", "ms", None),
    ("e2e-1000", "e2e_max_ms", "end-to-end max @1,000 msgs/s (fetch.wait.max.ms=1)", "ms", None),
    ("e2e-1000-default-wait", "e2e_p50_ms", "end-to-end p50 @1,000 msgs/s (client defaults)", "ms", None),
    ("e2e-1000-default-wait", "e2e_p99_ms", "end-to-end p99 @1,000 msgs/s (client defaults)", "ms", None),
    ("txn", "txn_per_s", "transactions/s (1 message each)", "txn/s", None),
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid):
    """VmRSS and VmHWM of a process, KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line[:5]] = int(line.split()[1])
    return {"rss_kb": out.get("VmRSS"), "hwm_kb": out.get("VmHWM")}


def proc_cpu_s(pid):
    """User + system CPU seconds a process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def terminate(proc):
    """SIGTERM, then SIGKILL after 15 s; waits for the exit."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_listening(proc, kind, host, port, secs, step):
    """Waits until host:port accepts a connection; raises if `proc` exits
    first or `secs` pass (polled every `step` s)."""
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} exited with {proc.returncode} at start")
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(step)
    raise RuntimeError(f"{kind} did not listen within {secs} s")


class Broker:
    """One broker process: skiff or the mock cluster launcher."""

    def __init__(self, kind, tools, skiff, workdir):
        self.kind, self.tools, self.skiff, self.workdir = kind, tools, skiff, workdir
        self.proc = None
        self.bootstrap = None
        self.datadir = None

    def command(self, num_partitions=PARTITIONS, topics=()):
        """The command line, with {port} where skiff's port goes."""
        if self.kind == "skiff":
            return [self.skiff, "--listeners", "PLAINTEXT://127.0.0.1:{port}",
                    "--log.dirs", self.datadir, "--num.partitions", str(num_partitions)]
        cmd = [os.path.join(self.tools, "mock_cluster")]
        for name, count in topics:
            cmd += ["--topic", f"{name}:{count}"]
        return cmd

    def fresh_datadir(self):
        self.datadir = tempfile.mkdtemp(prefix=f"{self.kind}-", dir=self.workdir)

    def start(self, num_partitions=PARTITIONS, topics=()):
        self.fresh_datadir()
        errlog = open(os.path.join(self.workdir, f"{self.kind}.log"), "a")
        if self.kind == "skiff":
            port = free_port()
            cmd = [a.replace("{port}", str(port)) for a in self.command(num_partitions)]
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=errlog, stderr=errlog)
            self.bootstrap = f"127.0.0.1:{port}"
        else:
            self.proc = subprocess.Popen(self.command(topics=topics), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=errlog, text=True)
            self.bootstrap = self.proc.stdout.readline().strip()
            if not self.bootstrap:
                raise RuntimeError("mock_cluster printed no bootstrap")
        host, port = self.bootstrap.split(":")
        wait_listening(self.proc, self.kind, host, int(port), 15, 0.005)

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
        self.tools = args.tools or os.path.join(args.build, "bench")
        self.skiff = args.skiff or os.path.join(args.build, "skiff")
        self.workdir = tempfile.mkdtemp(prefix="skiff-bench-", dir=args.data_root)
        self.results = {"skiff": {}, "peer": {}}  # kind -> figure -> [result dicts]
        self.create_topics_served = None

    def load(self, broker, argv, topic, secs):
        cmd = [os.path.join(self.tools, "load"), argv[0], "-b", broker.bootstrap, "-t", topic] + argv[1:]
        if secs:
            cmd += ["-d", str(secs)]
        cpu0 = proc_cpu_s(broker.proc.pid)
        t0 = time.monotonic()
        with open(os.path.join(self.workdir, "load.log"), "a") as errlog:
            errlog.write(f"== {broker.kind}: {' '.join(cmd)}\n")
            errlog.flush()
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=errlog, text=True, timeout=300)
        wall = time.monotonic() - t0
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        if not lines:
            return {"status": "error", "reason": f"load exited {p.returncode} without a result"}
        res = json.loads(lines[-1])
        if res.get("status") == "ok" and res.get("secs"):
            res["broker_cpu_pct"] = 100 * (proc_cpu_s(broker.proc.pid) - cpu0) / wall
        return res

    def record(self, kind, figure, res):
        self.results[kind].setdefault(figure, []).append(res)
        brief = {k: res[k] for k in ("msgs_per_s", "mb_per_s", "ready_ms", "rss_kb", "e2e_p99_ms",
                                     "txn_per_s", "join_ms", "status", "reason") if k in res}
        log(f"  {kind:5} {figure:24} {json.dumps(brief)}")

    def run_startup(self, broker):
        broker.fresh_datadir()
        cmd = [os.path.join(self.tools, "startup"), "--idle-ms", "1000"]
        if broker.kind == "peer":
            cmd.append("--port-from-stdout")
        cmd += ["--log", os.path.join(self.workdir, f"{broker.kind}-startup.log"), "--"]
        cmd += broker.command(topics=())
        p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=60)
        broker.stop()
        try:
            res = json.loads(p.stdout)
            res["status"] = "ok"
        except ValueError:
            res = {"status": "error", "reason": f"startup exited {p.returncode}"}
        self.record(broker.kind, "startup", res)

    def run_p1000(self, broker):
        topics = [("p1000", 1000)] if broker.kind == "peer" else ()
        # Without CreateTopics skiff can only auto-create, with its default count.
        num = 1000 if broker.kind == "skiff" and not self.create_topics_served else PARTITIONS
        broker.start(num_partitions=num, topics=topics)
        try:
            res = self.load(broker, ["create", "-p", "1000"], "p1000", 0)
            time.sleep(1)
            res.update(proc_status(broker.proc.pid))
        finally:
            broker.stop()
        self.record(broker.kind, "p1000", res)

    def run_fill(self, broker):
        broker.start()
        try:
            n = str(self.args.fill_bytes // 1024)
            res = self.load(broker, ["produce", "-s", "1024", "-a", "1", "-n", n], "fill", 0)
            res.update(proc_status(broker.proc.pid))
        finally:
            broker.stop()
        self.record(broker.kind, "fill-1g", res)

    def run_set(self, broker):
        broker.start()
        try:
            for figure, argv, full, quick in LOAD_SET:
                secs = quick if self.args.quick else full
                res = self.load(broker, argv, figure, secs)
                self.record(broker.kind, figure, res)
        finally:
            broker.stop()

    def probe_create_topics(self):
        """Whether skiff serves CreateTopics (to give a topic 1,000 partitions)."""
        b = Broker("skiff", self.tools, self.skiff, self.workdir)
        b.start()
        try:
            res = self.load(b, ["create", "-p", str(PARTITIONS)], "probe", 0)
        finally:
            b.stop()
        self.create_topics_served = res.get("method") == "CreateTopics"

    def run(self):
        self.limits = measure_limits(self.workdir, self.args.quick)
        log(f"limits: {json.dumps(self.limits)}")
        self.probe_create_topics()
        brokers = [Broker(k, self.tools, self.skiff, self.workdir) for k in ("skiff", "peer")]
        for r in range(self.args.rounds):
            for b in brokers:
                log(f"round {r + 1}/{self.args.rounds}: {b.kind}")
                self.run_startup(b)
                self.run_p1000(b)
                self.run_fill(b)
                self.run_set(b)
        shutil.rmtree(self.workdir, ignore_errors=True)


def median_of(results, metric):
    vals = [r[metric] for r in results if r.get("status") == "ok" and metric in r]
    return statistics.median(vals) if vals else None


def status_of(results):
    for r in results:
        if r.get("status") != "ok":
            return r.get("status", "error")
    return "ok"


def fmt(v, unit):
    if v is None:
        return "–"
    if unit in ("msgs/s", "KiB", "txn/s") or abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def report(runner):
    limits = runner.limits
    out = []
    out.append(f"Rounds: {runner.args.rounds}{' (quick)' if runner.args.quick else ''}; "
               "medians over rounds; ratio = skiff / peer.\n")
    out.append("| figure | unit | skiff | peer | skiff/peer | skiff % of limit | peer % of limit |")
    out.append("|---|---|---:|---:|---:|---:|---:|")
    fill = f"{runner.args.fill_bytes >> 20} MiB" if runner.args.fill_bytes != GIB else "1 GiB"
    for figure, metric, label, unit, limit in ROWS:
        if figure == "fill-1g":
            label = label.replace("1 GiB", fill)
        cells = []
        meds = {}
        for kind in ("skiff", "peer"):
            rs = runner.results[kind].get(figure, [])
            meds[kind] = median_of(rs, metric)
            if meds[kind] is None and rs and status_of(rs) != "ok":
                cells.append(status_of(rs))
            else:
                cells.append(fmt(meds[kind], unit))
        ratio = "–"
        if meds["skiff"] is not None and meds["peer"]:
            q = meds["skiff"] / meds["peer"]
            ratio = f"{q:.2f}x" if q >= 0.1 else f"{q:.2g}x"
        pct = ["", ""]
        if limit == "loopback" and limits.get("loopback_mb_per_s"):
            pct = [f"{100 * meds[k] / limits['loopback_mb_per_s']:.0f}%" if meds[k] else "–"
                   for k in ("skiff", "peer")]
        out.append(f"| {label} | {unit} | {cells[0]} | {cells[1]} | {ratio} | {pct[0]} | {pct[1]} |")
    out.append("")
    out.append("Machine limits (same run):")
    out.append(f"- loopback TCP, one stream: {limits.get('loopback_mb_per_s', 0):,.0f} MB/s "
               f"({limits.get('loopback_tool')})")
    out.append(f"- loopback TCP round trip (python ping-pong, 64 B): p50 {limits.get('rtt_p50_us', 0):.0f} us, "
               f"p99 {limits.get('rtt_p99_us', 0):.0f} us")
    out.append(f"- sequential write to the data disk, {limits.get('disk_mib', 1024)} MiB: "
               f"{limits.get('disk_sync_mb_per_s', 0):,.0f} MB/s "
               f"with fdatasync, {limits.get('disk_cache_mb_per_s', 0):,.0f} MB/s into the page cache")
    for kind in ("skiff", "peer"):
        notes = sorted({f"{fig}: {r.get('reason') or r.get('note')}"
                        for fig, rs in runner.results[kind].items() for r in rs
                        if r.get("status") != "ok" or r.get("note")})
        for n in notes:
            out.append(f"- {kind}: {n}")
    return "\n".join(out)


# ---- machine limits ------------------------------------------------------

def loopback_python(seconds):
    """One TCP stream over loopback, 1 MiB writes; MB/s received."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    got = [0, 0.0]

    def receive():
        conn, _ = srv.accept()
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        t0 = time.monotonic()
        while True:
            n = conn.recv_into(view)
            if not n:
                break
            got[0] += n
        got[1] = time.monotonic() - t0
        conn.close()

    t = threading.Thread(target=receive)
    t.start()
    c = socket.create_connection(srv.getsockname())
    data = b"\0" * (1 << 20)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        c.sendall(data)
    c.close()
    t.join()
    srv.close()
    return got[0] / got[1] / 1e6


def loopback_iperf3(seconds):
    port = free_port()
    srv = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.2)
        p = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-J"],
                           stdout=subprocess.PIPE, text=True, timeout=seconds + 20)
        return json.loads(p.stdout)["end"]["sum_received"]["bits_per_second"] / 8e6
    finally:
        srv.kill()
        srv.wait()


def rtt_python(count):
    """Round trips of 64 bytes over loopback (python on both ends), microseconds."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def echo():
        conn, _ = srv.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            d = conn.recv(64)
            if not d:
                break
            conn.sendall(d)
        conn.close()

    t = threading.Thread(target=echo)
    t.start()
    c = socket.create_connection(srv.getsockname())
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * 64
    samples = []
    for _ in range(count):
        t0 = time.perf_counter_ns()
        c.sendall(msg)
        n = 0
        while n < 64:
            n += len(c.recv(64 - n))
        samples.append((time.perf_counter_ns() - t0) / 1e3)
    c.close()
    t.join()
    srv.close()
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99)]


def disk_write(path, mib, sync):
    """dd of `mib` MiB of zeros to `path`; MB/s."""
    cmd = ["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={mib}"]
    if sync:
        cmd.append("conv=fdatasync")
    t0 = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    secs = time.monotonic() - t0
    os.unlink(path)
    return mib * (1 << 20) / secs / 1e6


def measure_limits(workdir, quick):
    limits = {}
    secs = 1 if quick else 3
    if shutil.which("iperf3"):
        limits["loopback_mb_per_s"] = loopback_iperf3(secs)
        limits["loopback_tool"] = "iperf3"
    else:
        limits["loopback_mb_per_s"] = loopback_python(secs)
        limits["loopback_tool"] = "python sender/receiver, 1 MiB writes"
    limits["rtt_p50_us"], limits["rtt_p99_us"] = rtt_python(2000 if quick else 20000)
    mib = 256 if quick else 1024
    limits["disk_mib"] = mib
    limits["disk_sync_mb_per_s"] = disk_write(os.path.join(workdir, "dd.tmp"), mib, True)
    limits["disk_cache_mb_per_s"] = disk_write(os.path.join(workdir, "dd.tmp"), mib, False)
    return limits


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(here), "build"),
                    help="build directory with skiff and bench/{load,startup,mock_cluster} (default: build)")
    ap.add_argument("--skiff", help="skiff binary (default: BUILD/skiff)")
    ap.add_argument("--tools", help="directory of load, startup, mock_cluster (default: BUILD/bench)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of skiff then peer (default 3)")
    ap.add_argument("--quick", action="store_true", help="short runs, one round, 256 MiB fill: checks the tooling")
    ap.add_argument("--data-root", default=None, help="where the fresh data dirs go (default: $TMPDIR)")
    ap.add_argument("--json", help="write every raw result and the limits to this file")
    args = ap.parse_args()
    if args.quick:
        args.rounds = 1
    args.fill_bytes = (256 << 20) if args.quick else GIB
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
            json.dump({"limits": runner.limits, "results": runner.results,
                       "rounds": args.rounds, "quick": args.quick}, f, indent=1)


if __name__ == "__main__":
    main()
