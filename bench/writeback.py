#!/usr/bin/env python3
"""Long produce runs against two skiff binaries in one run, alternated
(A, B, A, B, ...), each on a fresh process and data dir, measured with figures
the machine's load sways little (docs/benchmarks.md, "Dirty pages and
writeback (issue 23)"):

- the kernel's Dirty and Writeback (/proc/meminfo) sampled every 100 ms during
  the run: peak and mean;
- the broker's CPU seconds per GiB (utime+stime from /proc/PID/stat);
- the broker's main thread's wait channel (/proc/PID/wchan) at each sample:
  how many samples it was found in balance_dirty_pages;
- the client's delivery latency p50/p99/p99.9/max and its throughput.

A binary given as BINARY,warm runs after --gib + 0.5 GiB were written to and
deleted from the data root (dd) right before the broker starts: on a virtual
machine whose balloon driver reports free pages to the host, the page cache's
first touch of memory returned to the host costs about ten times the copy
itself, and pages freed seconds earlier have not been returned yet.

    bench/writeback.py --skiff cold=build/skiff --skiff warm=build/skiff,warm \
        [--gib 4] [--size 1024] [--acks all] [--rounds 2] [--data-root DIR]

Prints one JSON line per run to stderr and a Markdown table of medians.
Nothing asserts.
"""

import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from compare import free_port, log, proc_cpu_s, terminate


def meminfo_kib(*keys):
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            name, rest = line.split(":", 1)
            if name in keys:
                out[name] = int(rest.split()[0])
    return out


def wchan(pid):
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read().strip()
    except OSError:
        return ""


class Sampler(threading.Thread):
    """Samples Dirty, Writeback and the broker's wait channel every 100 ms."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.stop_flag = pid, threading.Event()
        self.dirty, self.writeback, self.wchans = [], [], []

    def run(self):
        while not self.stop_flag.wait(0.1):
            m = meminfo_kib("Dirty", "Writeback")
            self.dirty.append(m["Dirty"])
            self.writeback.append(m["Writeback"])
            self.wchans.append(wchan(self.pid))


def warm_memory(gib, workdir):
    """Writes and deletes `gib` GiB so that the page cache's next pages are
    memory the guest has touched (see the module doc)."""
    path = os.path.join(workdir, "warm")
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={int(gib * 1024)}"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    os.unlink(path)


def one_run(label, binary, args, tools, workdir):
    binary, _, warm = binary.partition(",")
    if warm == "warm":
        warm_memory(args.gib + 0.5, workdir)
    datadir = tempfile.mkdtemp(prefix=f"wb-{label}-", dir=workdir)
    port = free_port()
    logpath = datadir + ".log"
    with open(logpath, "w") as errlog:
        proc = subprocess.Popen([binary, "--listeners", f"PLAINTEXT://127.0.0.1:{port}", "--log.dirs", datadir,
                                 "--num.partitions", "4"], stdin=subprocess.DEVNULL, stdout=errlog, stderr=errlog)
    try:
        deadline = time.monotonic() + 15
        while "started:" not in open(logpath).read():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{binary} did not start (log: {logpath})")
            time.sleep(0.01)
        count = int(args.gib * (1 << 30) / args.size)
        cpu0 = proc_cpu_s(proc.pid)
        sampler = Sampler(proc.pid)
        sampler.start()
        p = subprocess.run([os.path.join(tools, "load"), "produce", "-b", f"127.0.0.1:{port}", "-t", "wb", "-p", "4",
                            "-s", str(args.size), "-a", args.acks, "-n", str(count)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=900)
        sampler.stop_flag.set()
        sampler.join()
        cpu = proc_cpu_s(proc.pid) - cpu0
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        res = json.loads(lines[-1]) if lines else {"status": "error"}
        if res.get("status") != "ok":
            raise RuntimeError(f"load produce: {res}")
        n = max(1, len(sampler.wchans))
        row = {
            "label": label,
            "mb_s": res.get("mb_per_s"),
            "p50_ms": res.get("lat_p50_ms"),
            "p99_ms": res.get("lat_p99_ms"),
            "p999_ms": res.get("lat_p999_ms"),
            "max_ms": res.get("lat_max_ms"),
            "cpu_s_per_gib": cpu / args.gib,
            "dirty_peak_mib": max(sampler.dirty, default=0) / 1024,
            "dirty_mean_mib": statistics.mean(sampler.dirty) / 1024 if sampler.dirty else 0,
            "writeback_peak_mib": max(sampler.writeback, default=0) / 1024,
            "throttled_share": sum(w == "balance_dirty_pages" for w in sampler.wchans) / n,
        }
        log(json.dumps({"label": label, "wchan": collections.Counter(sampler.wchans).most_common(6)}))
        log(json.dumps(row))
        return row
    finally:
        terminate(proc)
        shutil.rmtree(datadir, ignore_errors=True)
        # the next run starts with no dirty pages of this one
        subprocess.run(["sync"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skiff", action="append", required=True, help="LABEL=BINARY[,warm] (give two)")
    ap.add_argument("--tools", default="build/bench")
    ap.add_argument("--gib", type=float, default=4.0)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--acks", default="all")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--data-root", default=None)
    args = ap.parse_args()
    bins = [s.split("=", 1) for s in args.skiff]
    workdir = tempfile.mkdtemp(prefix="writeback-", dir=args.data_root)
    rows = {label: [] for label, _ in bins}
    try:
        for _ in range(args.rounds):
            for label, binary in bins:
                rows[label].append(one_run(label, binary, args, args.tools, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    keys = ["mb_s", "p50_ms", "p99_ms", "p999_ms", "max_ms", "cpu_s_per_gib", "dirty_peak_mib", "dirty_mean_mib",
            "writeback_peak_mib", "throttled_share"]
    print("| figure | " + " | ".join(label for label, _ in bins) + " |")
    print("|---|" + "---:|" * len(bins))
    for k in keys:
        vals = [statistics.median(r[k] for r in rows[label]) for label, _ in bins]
        print(f"| {k} | " + " | ".join(f"{v:,.3g}" if v < 100 else f"{v:,.0f}" for v in vals) + " |")
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    sys.exit(main())
