#!/usr/bin/env python3
"""What the cluster fixture (skiff.cluster.brokers, docs/cluster.md) costs:
skiff with one broker against skiff with N brokers, measured in the same run,
rounds interleaved (1, N, 1, N, ...), each on a fresh process and data dir.

- memory: a topic of 200 partitions (CreateTopics, replication factor 1),
  10,000 messages of 100 B produced round-robin to all of them and 2 s of
  consuming them back (so every partition's route exists), then VmRSS and
  VmHWM after 1 s idle; the extra KiB per extra broker is
  (RSS(N) - RSS(1)) / (N - 1).
- throughput: `load produce` to one partition, 100 B messages, acks=all, for
  3 s on a fresh broker: messages/s and the broker's CPU time per message
  (which the machine's load sways less), and the ratios N/1.

Prints a Markdown table of medians and the load average; nothing asserts.

    bench/cluster_cost.py [--build build] [--brokers 3] [--rounds 5]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from compare import free_port, log, proc_cpu_s, proc_status, terminate

PARTITIONS = 200


class Skiff:
    """One skiff process with `brokers` brokers on ports from a free base."""

    def __init__(self, binary, brokers, workdir, wrapper=()):
        self.datadir = tempfile.mkdtemp(prefix=f"skiff{brokers}-", dir=workdir)
        ports = [free_port() for _ in range(brokers)]
        port = ports[0]
        cmd = list(wrapper) + [binary, "--listeners", f"PLAINTEXT://127.0.0.1:{port}", "--log.dirs", self.datadir,
               "--skiff.cluster.brokers", str(brokers), "--skiff.cluster.ports", ",".join(map(str, ports))]
        self.log_path = self.datadir + ".log"
        with open(self.log_path, "w") as errlog:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=errlog, stderr=errlog)
        self.bootstrap = f"127.0.0.1:{port}"
        deadline = time.monotonic() + (60 if wrapper else 15)
        while "started:" not in open(self.log_path).read():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"skiff with {brokers} brokers did not start (log: {self.log_path})")
            time.sleep(0.01)

    def stop(self):
        terminate(self.proc)
        shutil.rmtree(self.datadir, ignore_errors=True)


def load(tools, skiff, *argv):
    cmd = [os.path.join(tools, "load"), argv[0], "-b", skiff.bootstrap] + list(argv[1:])
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=300)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    res = json.loads(lines[-1]) if lines else {"status": "error"}
    if res.get("status") != "ok":
        raise RuntimeError(f"{' '.join(cmd)}: {res}")
    return res


def memory(args, tools, brokers, workdir):
    s = Skiff(args.skiff, brokers, workdir)
    try:
        load(tools, s, "create", "-t", "m", "-p", str(PARTITIONS))
        load(tools, s, "produce", "-t", "m", "-p", str(PARTITIONS), "-s", "100", "-n", "10000")
        load(tools, s, "consume", "-t", "m", "-s", "100", "-d", "2")
        time.sleep(1)
        return proc_status(s.proc.pid)
    finally:
        s.stop()


def throughput(args, tools, brokers, workdir):
    """msgs/s, and the broker's CPU microseconds per message (less swayed by
    the machine's load than the rate)."""
    s = Skiff(args.skiff, brokers, workdir)
    try:
        cpu0 = proc_cpu_s(s.proc.pid)
        res = load(tools, s, "produce", "-t", "p1", "-p", "1", "-s", "100", "-a", "all", "-d", "3")
        res["cpu_us_per_msg"] = 1e6 * (proc_cpu_s(s.proc.pid) - cpu0) / res["msgs"]
        return res
    finally:
        s.stop()


def instructions(args, tools, brokers, workdir):
    """The broker's instructions per produced message, counted by valgrind's
    callgrind (independent of the machine's load): the difference between
    400,000 and 100,000 messages (linger.ms 20), so start-up and stop cancel
    out."""
    total = {}
    for count in (100_000, 400_000):
        out = os.path.join(workdir, f"callgrind.{brokers}.{count}")
        s = Skiff(args.skiff, brokers, workdir, ("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"))
        try:
            load(tools, s, "produce", "-t", "p1", "-p", "1", "-s", "100", "-a", "all", "-n", str(count),
                 "--linger", "20")
        finally:
            s.stop()
        with open(out) as f:
            total[count] = next(int(l.split()[1]) for l in f if l.startswith("summary:"))
    return (total[400_000] - total[100_000]) / 300_000


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(here), "build"))
    ap.add_argument("--skiff", help="skiff binary (default: BUILD/skiff)")
    ap.add_argument("--brokers", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--instructions", action="store_true",
                    help="also count the broker's instructions per message with valgrind (callgrind)")
    args = ap.parse_args()
    args.skiff = args.skiff or os.path.join(args.build, "skiff")
    tools = os.path.join(args.build, "bench")
    workdir = tempfile.mkdtemp(prefix="skiff-cluster-bench-")
    counts = (1, args.brokers)
    rss = {n: [] for n in counts}
    hwm = {n: [] for n in counts}
    rate = {n: [] for n in counts}
    cpu = {n: [] for n in counts}
    load0 = os.getloadavg()
    try:
        for r in range(args.rounds):
            for n in counts:
                m = memory(args, tools, n, workdir)
                rss[n].append(m["rss_kb"])
                hwm[n].append(m["hwm_kb"])
                t = throughput(args, tools, n, workdir)
                rate[n].append(t["msgs_per_s"])
                cpu[n].append(t["cpu_us_per_msg"])
                log(f"round {r + 1}, {n} broker(s): RSS {m['rss_kb']} KiB, HWM {m['hwm_kb']} KiB, "
                    f"{t['msgs_per_s']:.0f} msgs/s, {t['cpu_us_per_msg']:.3f} us CPU/msg")
        ir = {n: instructions(args, tools, n, workdir) for n in counts} if args.instructions else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    med = {k: {n: statistics.median(v[n]) for n in counts}
           for k, v in (("rss", rss), ("hwm", hwm), ("rate", rate), ("cpu", cpu))}
    one, many = counts
    print(f"| | 1 broker | {many} brokers | difference |")
    print("|---|---|---|---|")
    print(f"| RSS, {PARTITIONS} partitions used (KiB, median) | {med['rss'][one]:.0f} | {med['rss'][many]:.0f} | "
          f"{(med['rss'][many] - med['rss'][one]) / (many - 1):+.0f} KiB per extra broker |")
    print(f"| peak RSS (KiB, median) | {med['hwm'][one]:.0f} | {med['hwm'][many]:.0f} | "
          f"{(med['hwm'][many] - med['hwm'][one]) / (many - 1):+.0f} KiB per extra broker |")
    print(f"| produce, 1 partition, 100 B, acks=all (msgs/s, median) | {med['rate'][one]:.0f} | "
          f"{med['rate'][many]:.0f} | ratio {med['rate'][many] / med['rate'][one]:.2f} |")
    print(f"| broker CPU per message (µs, median) | {med['cpu'][one]:.3f} | {med['cpu'][many]:.3f} | "
          f"ratio {med['cpu'][many] / med['cpu'][one]:.2f} |")
    if ir:
        print(f"| broker instructions per message (callgrind) | {ir[one]:.1f} | {ir[many]:.1f} | "
              f"ratio {ir[many] / ir[one]:.3f} |")
    print(f"\nrounds {args.rounds}; throughput per round: 1 broker {[round(x) for x in rate[one]]}, "
          f"{many} brokers {[round(x) for x in rate[many]]}")
    print(f"load average before {load0[0]:.1f}, after {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    sys.exit(main())
