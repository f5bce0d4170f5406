"""Apache Kafka 4.4.0 as the oracle: starts scripts/kafka-oracle.sh (a
single-node KRaft broker+controller with a fresh data dir) on two free
loopback ports below 32768, waits until it answers Metadata with itself as a
broker, and stops it (SIGTERM, then SIGKILL after 30 s).

Ports below 32768: the machine's ephemeral range starts there, and a readiness
loop that keeps connecting to a port in that range while the JVM starts can
connect to itself and take the port ("Address already in use" at Kafka's bind).
"""

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'integration'))

import kfs  # noqa: E402
from harness import _die_with_parent  # noqa: E402
from kafka_wire import Connection  # noqa: E402

SCRIPT = ROOT / 'scripts' / 'kafka-oracle.sh'
PORT_RANGE = (20000, 32000)
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


class OracleError(AssertionError):
    pass


def free_port_below_32768():
    """A loopback port in PORT_RANGE that nothing listens on right now."""
    for _ in range(200):
        port = random.randint(*PORT_RANGE)
        s = socket.socket()
        try:
            s.bind(('127.0.0.1', port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise OracleError('no free port below 32768')


class KafkaOracle:
    """One Apache Kafka process; host, port, bootstrap, log_path, stop()."""

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.data_dir = self.workdir / 'kafka-data'
        self.log_path = self.workdir / 'kafka.log'
        self.host = '127.0.0.1'
        self.port = free_port_below_32768()
        self.controller_port = free_port_below_32768()
        while self.controller_port == self.port:
            self.controller_port = free_port_below_32768()
        self.proc = None

    @property
    def bootstrap(self):
        return f'{self.host}:{self.port}'

    def log_tail(self, lines=80):
        try:
            return '\n'.join(self.log_path.read_text(errors='replace').splitlines()[-lines:])
        except FileNotFoundError:
            return ''

    def start(self):
        with open(self.log_path, 'a') as log:
            self.proc = subprocess.Popen(
                ['bash', str(SCRIPT), 'run', str(self.port), str(self.controller_port), str(self.data_dir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
                start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise OracleError(f'Kafka exited with status {self.proc.returncode}:\n{self.log_tail()}')
            if self._ready():
                return self
            time.sleep(0.25)
        self.stop()
        raise OracleError(f'Kafka did not answer Metadata within {START_TIMEOUT}s:\n{self.log_tail()}')

    def _ready(self):
        try:
            with Connection(self.host, self.port, timeout=2.0) as c:
                r = kfs.call(c, 3, 12, {'topics': []})
                return any(b['port'] == self.port for b in r['brokers'])
        except (OSError, kfs.SchemaError, Exception):
            return False

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
