#!/usr/bin/python3
"""Group formation: the classic consumer group protocol against the KIP-848
consumer protocol, on the same skiff, in the same run.

For 1, 10 and 100 members (confluent-kafka-python on librdkafka 2.15, one
client per member, each polled by its own thread) subscribing at once to one
topic of 1,000 partitions, measures from the first subscribe() to
  - first assignment: the first member's first non-empty assignment;
  - all assigned: every member has a non-empty assignment;
  - stable: the members own every partition once, each floor(1000/N) or
    one more, and nothing changed for 1 s after that (the 1 s is not counted).
Classic members use librdkafka's defaults (eager range,roundrobin assignors);
consumer-protocol members the broker's default `uniform` assignor. Each
measurement uses a new group and a fresh skiff (its own data dir); rounds
alternate classic and consumer. Prints a Markdown table of medians and the
ratio consumer/classic; raw results to --json. Nothing asserts a timing.

    LD_LIBRARY_PATH=build/librdkafka-2.15/lib bench/group_formation.py \
        [--skiff build/skiff] [--members 1,10,100] [--rounds 3] [--json FILE]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from confluent_kafka import Consumer, libversion
from confluent_kafka.admin import AdminClient, NewTopic

PARTITIONS = 1000
TOPIC = 'formation'
QUIET = 1.0  # s without a change that makes a balanced group stable
TIMEOUT = 180.0


class Member:
    """One consumer, polled by its own thread; tracks what it owns."""

    def __init__(self, bootstrap, group, protocol):
        conf = {'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False,
                'auto.offset.reset': 'earliest', 'group.protocol': protocol}
        self.c = Consumer(conf)
        self.cooperative = protocol == 'consumer'
        self.owned = set()
        self.first = None      # time of the first non-empty assignment
        self.changed = None    # time of the last change
        self.lock = threading.Lock()
        self.stop = False

    def on_assign(self, consumer, parts):
        with self.lock:
            got = {p.partition for p in parts}
            self.owned = self.owned | got if self.cooperative else got
            now = time.monotonic()
            self.changed = now
            if self.owned and self.first is None:
                self.first = now

    def on_revoke(self, consumer, parts):
        with self.lock:
            self.owned = self.owned - {p.partition for p in parts} if self.cooperative else set()
            self.changed = time.monotonic()

    def run(self):
        self.c.subscribe([TOPIC], on_assign=self.on_assign, on_revoke=self.on_revoke, on_lost=self.on_revoke)
        while not self.stop:
            self.c.poll(0.05)
        self.c.close()  # here, so that the members leave in parallel and keep being served

    def snapshot(self):
        with self.lock:
            return set(self.owned), self.first, self.changed


def balanced(snaps, n):
    owned = [s[0] for s in snaps]
    if sum(len(o) for o in owned) != PARTITIONS or len(set().union(*owned)) != PARTITIONS:
        return False
    lo = PARTITIONS // n
    return all(lo <= len(o) <= lo + (1 if PARTITIONS % n else 0) for o in owned)


def start_skiff(skiff, data):
    p = subprocess.Popen([skiff, '--listeners', 'PLAINTEXT://127.0.0.1:0', '--log.dirs', data,
                          '--skiff.http.listeners', 'http://127.0.0.1:0'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = p.stderr.readline()
        m = re.search(r'listening on (\S+):(\d+)', line)
        if m:
            threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
            return p, f'{m.group(1)}:{m.group(2)}'
    p.kill()
    raise RuntimeError('skiff did not start')


def measure(skiff, protocol, n, work):
    data = tempfile.mkdtemp(dir=work)
    proc, bootstrap = start_skiff(skiff, data)
    try:
        admin = AdminClient({'bootstrap.servers': bootstrap})
        admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])[TOPIC].result(timeout=60)
        del admin
        members = [Member(bootstrap, f'g-{protocol}-{n}', protocol) for _ in range(n)]
        threads = [threading.Thread(target=m.run, daemon=True) for m in members]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        stable_at = None
        while time.monotonic() - t0 < TIMEOUT:
            time.sleep(0.02)
            snaps = [m.snapshot() for m in members]
            if not balanced(snaps, n):
                continue
            last = max(s[2] for s in snaps)
            if time.monotonic() - last >= QUIET:
                stable_at = last
                break
        snaps = [m.snapshot() for m in members]
        firsts = [s[1] for s in snaps]
        result = {'protocol': protocol, 'members': n,
                  'first_assignment_s': min(f for f in firsts if f) - t0 if any(firsts) else None,
                  'all_assigned_s': max(firsts) - t0 if all(firsts) else None,
                  'stable_s': stable_at - t0 if stable_at else None}
        for m in members:
            m.stop = True
        for t in threads:
            t.join()
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--skiff', default=os.path.join(os.path.dirname(__file__), '..', 'build', 'skiff'))
    ap.add_argument('--members', default='1,10,100')
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--json')
    args = ap.parse_args()
    if libversion()[1] < 0x020c0000:
        sys.exit(f'librdkafka {libversion()[0]} has no consumer protocol: set LD_LIBRARY_PATH to librdkafka 2.12+')
    work = tempfile.mkdtemp(prefix='skiff-formation-')
    results = []
    try:
        for n in [int(x) for x in args.members.split(',')]:
            for r in range(args.rounds):
                for protocol in ('classic', 'consumer'):
                    res = measure(args.skiff, protocol, n, work)
                    res['round'] = r
                    print(json.dumps(res), file=sys.stderr, flush=True)
                    results.append(res)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)

    def med(n, protocol, key):
        v = [r[key] for r in results if r['members'] == n and r['protocol'] == protocol and r[key] is not None]
        return statistics.median(v) if v else None

    print(f'librdkafka {libversion()[0]}, {PARTITIONS} partitions, median of {args.rounds} rounds; '
          f'load average {os.getloadavg()[0]:.2f} at the end\n')
    print('| Members | Figure | classic (s) | consumer (s) | consumer / classic |')
    print('|---:|---|---:|---:|---:|')
    for n in sorted({r['members'] for r in results}):
        for key, label in (('first_assignment_s', 'first assignment'), ('all_assigned_s', 'all assigned'),
                           ('stable_s', 'stable')):
            a, b = med(n, 'classic', key), med(n, 'consumer', key)
            fmt = lambda x: f'{x:.3f}' if x is not None else 'n/a'
            ratio = f'{b / a:.2f}' if a and b else 'n/a'
            print(f'| {n} | {label} | {fmt(a)} | {fmt(b)} | {ratio} |')


if __name__ == '__main__':
    main()
