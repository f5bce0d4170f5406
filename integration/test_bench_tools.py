"""The benchmark tools of bench/ still run (issue 23: benchmarks are not
tests, but the suite keeps this functional check of their tools): `load`
produces, consumes and runs transactions against a real skiff and reports
exact counts in its JSON line; `startup` measures a skiff's start; the
Python drivers parse their options. Nothing here looks at a timing."""

import json
import subprocess
import sys
from pathlib import Path

from harness import REPO, SKIFF_BIN

BENCH = Path(SKIFF_BIN).resolve().parent / 'bench'


def load(*args):
    """One run of bench/load: its JSON result line."""
    res = subprocess.run([str(BENCH / 'load'), *args], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    (line,) = [ln for ln in res.stdout.splitlines() if ln.startswith('{')]
    return json.loads(line)


def test_load_produce_consume_and_transactions(start_broker):
    b = start_broker()
    out = load('produce', '-b', b.bootstrap, '-t', 'bench', '-s', '100', '-n', '2000', '-p', '2', '-a', 'all',
               '--idempotence', '-z', 'zstd')
    assert (out['status'], out['msgs'], out['size'], out['acks'], out['compression'], out['idempotence']) == \
        ('ok', 2000, 100, 'all', 'zstd', True)
    out = load('consume', '-b', b.bootstrap, '-t', 'bench', '-s', '100', '-p', '2', '-d', '1')
    # Passes over the 2,000 records from the log start; only the last may be cut short by the time limit.
    assert (out['status'], out['topic_msgs']) == ('ok', 2000)
    assert out['msgs'] > 0 and (out['passes'] - 1) * 2000 <= out['msgs'] <= out['passes'] * 2000
    out = load('txn', '-b', b.bootstrap, '-t', 'bench-txn', '-s', '100', '-d', '1')
    assert out['status'] == 'ok' and out['txns'] > 0


def test_startup_measures_a_skiff(tmp_path):
    res = subprocess.run([str(BENCH / 'startup'), '--idle-ms', '100', '--', SKIFF_BIN, '--log.dirs',
                          str(tmp_path / 'data'), '--listeners', 'PLAINTEXT://127.0.0.1:{port}',
                          '--skiff.http.listeners', ''],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    (line,) = [ln for ln in res.stdout.splitlines() if ln.startswith('{')]
    out = json.loads(line)
    # Ready, answered, idle with some memory, and stopped cleanly by SIGTERM.
    assert out['ready_ms'] > 0 and out['rss_idle_kb'] > 0 and out['exit_status'] == 0


def test_python_drivers_parse_their_options():
    for script in ('compare.py', 'vs_kafka.py', 'cluster_cost.py', 'group_formation.py', 'writeback.py'):
        res = subprocess.run([sys.executable, str(REPO / 'bench' / script), '--help'], capture_output=True,
                             text=True, timeout=30)
        assert res.returncode == 0 and 'usage' in res.stdout, (script, res.stdout + res.stderr)
