"""Starts and stops real skiff processes for the integration tests.

A Broker is one skiff process on an ephemeral port (or a given one) with its
own data directory. Its stdout and stderr go to a log file next to the data
directory; the port is learnt from the `listening on HOST:PORT` log line.
With skiff.cluster.brokers=N (docs/cluster.md) one process serves N brokers;
`nodes` maps each node id to its (host, port) from the `listening on
HOST:PORT (NAME, node ID)` lines and `bootstrap_all` lists every broker.
SKIFF_TEST_BROKERS=N runs every broker a test starts that way (unless the
test sets skiff.cluster.brokers), to run the suite against N brokers.
Inherited SKIFF_* variables are removed from the broker's environment, so a
test sees only the configuration it asks for.
"""

import ctypes
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SKIFF_BIN = os.environ.get('SKIFF_BIN') or str(REPO / 'build' / 'skiff')

LISTENING = re.compile(r'listening on (\S+):(\d+)')
LISTENING_NODE = re.compile(r'listening on (\S+):(\d+) \((\w+), node (\d+)\)')
TEST_BROKERS = os.environ.get('SKIFF_TEST_BROKERS')
HTTP_AT = re.compile(r'http control plane at (http://\S+)')
# Lines that mean a sanitizer found a bug (UBSan, ASan, LSan).
SANITIZER_MARKERS = ('runtime error', 'AddressSanitizer', 'LeakSanitizer')
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """Runs in the child before exec: skiff gets SIGKILL if pytest dies, so an
    interrupted run leaves no broker behind."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class BrokerError(AssertionError):
    """The broker did not start, did not stop, or stopped badly."""


def broker_env(extra=None):
    """The environment for a skiff process: ours without SKIFF_*, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('SKIFF_')}
    env.update(extra or {})
    return env


def run_skiff(*args, env=None, timeout=15.0):
    """Runs skiff to completion (for --help, --version, bad configs);
    returns the CompletedProcess with text stdout and stderr."""
    res = subprocess.run([SKIFF_BIN, *map(str, args)], env=broker_env(env), stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, errors='replace', timeout=timeout)
    bad = sanitizer_lines(res.stdout + res.stderr)
    if bad:
        raise BrokerError('sanitizer report from skiff:\n' + res.stderr)
    return res


def free_port():
    """A 127.0.0.1 port nothing listens on now, for a test that must name its
    ports up front (a listener list with several entries)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def config_args(config):
    """{'num.partitions': 3, 'auto.create.topics.enable': False} -> flags; a
    None value passes no flag (for `listeners` and `log.dirs`: none of the
    harness's either, so the environment or a file sets them)."""
    argv = []
    for key, value in config.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        argv += [f'--{key}', str(value)]
    return argv


def sanitizer_lines(text):
    return [line for line in text.splitlines() if any(m in line for m in SANITIZER_MARKERS)]


class Broker:
    def __init__(self, workdir, name, config=None, args=(), env=None, data_dir=None):
        workdir = Path(workdir)
        self.name = name
        self.data_dir = Path(data_dir) if data_dir else workdir / f'{name}-data'
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / f'{name}.log'
        self.config = dict(config or {})
        if TEST_BROKERS and 'skiff.cluster.brokers' not in self.config:
            self.config['skiff.cluster.brokers'] = TEST_BROKERS
        self.nodes = {}  # node id -> (host, port), the first listener of each broker
        self.args = list(args)
        self.env = dict(env or {})
        self.proc = None
        self.host = '127.0.0.1'
        self.port = 0
        self.http_url = None  # the HTTP control plane, e.g. http://127.0.0.1:PORT
        self._log_offset = 0
        self._stop_requested = False

    # State.
    @property
    def bootstrap(self):
        return f'{self.host}:{self.port}'

    @property
    def bootstrap_all(self):
        """Every broker's address, comma-separated (one broker: `bootstrap`)."""
        if not self.nodes:
            return self.bootstrap
        return ','.join(f'{h}:{p}' for _, (h, p) in sorted(self.nodes.items()))

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def log(self):
        """Everything this broker (all its runs) wrote to stdout and stderr."""
        try:
            return self.log_path.read_text(errors='replace')
        except FileNotFoundError:
            return ''

    @property
    def run_log(self):
        """What the current (or last) run wrote."""
        return self.log[self._log_offset:]

    def log_tail(self, lines=200):
        return '\n'.join(self.log.splitlines()[-lines:])

    # Process control.
    def argv(self, port=0):
        argv = [SKIFF_BIN]
        if port and len(self.nodes) > 1 and 'skiff.cluster.ports' not in self.config:
            # Started again: every broker on the port it had.
            argv += ['--skiff.cluster.ports', ','.join(str(p) for _, (_, p) in sorted(self.nodes.items()))]
        if 'listeners' not in self.config:
            argv += ['--listeners', f'PLAINTEXT://127.0.0.1:{port}']
        if 'log.dirs' not in self.config:
            argv += ['--log.dirs', str(self.data_dir)]
        if 'skiff.http.listeners' not in self.config:
            argv += ['--skiff.http.listeners', 'http://127.0.0.1:0']
        return argv + config_args(self.config) + self.args

    def start(self, port=0, timeout=START_TIMEOUT):
        """Starts skiff and waits for its listening line; returns self."""
        assert not self.running, 'already running'
        self._log_offset = len(self.log)
        self._stop_requested = False
        with open(self.log_path, 'a') as log:
            self.proc = subprocess.Popen(self.argv(port), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=broker_env(self.env),
                                         preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while True:
            log = self.run_log
            m = LISTENING.search(log)
            if m and 'started:' in log:
                self.host, self.port = m.group(1).strip('[]'), int(m.group(2))
                self.nodes = {}
                for n in LISTENING_NODE.finditer(log):
                    self.nodes.setdefault(int(n.group(4)), (n.group(1).strip('[]'), int(n.group(2))))
                h = HTTP_AT.search(log)
                self.http_url = h.group(1) if h else None
                return self
            rc = self.proc.poll()
            if rc is not None:
                raise BrokerError(f'skiff exited with status {rc} before it started:\n{self.run_log}')
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise BrokerError(f'no "listening on" and "started" lines within {timeout}s:\n{self.run_log}')
            time.sleep(0.02)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT, expect=0):
        """Sends `sig` and waits for the exit; returns the exit status (negative:
        killed by that signal). Raises unless the status is `expect` (None: any)."""
        if self.proc is None:
            return None
        self._stop_requested = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise BrokerError(f'skiff did not exit within {timeout}s of signal {sig}:\n{self.run_log}')
        rc = self.proc.returncode
        if expect is not None and rc != expect:
            raise BrokerError(f'skiff exited with status {rc}, expected {expect}:\n{self.run_log}')
        return rc

    def restart(self, **stop_kw):
        """Stops the broker (SIGTERM, status 0) and starts it again on the same
        port and data directory."""
        self.stop(**stop_kw)
        return self.start(port=self.port)

    def finish(self):
        """End-of-test checks: stops a running broker with SIGTERM (status 0
        expected), fails if it had exited on its own, or if a sanitizer spoke."""
        if self.proc is not None:
            if self.running:
                self.stop()
            elif not self._stop_requested:
                raise BrokerError(f'skiff exited on its own with status {self.proc.returncode}:\n'
                                  f'{self.run_log}')
        self.check_sanitizers()

    def check_sanitizers(self):
        bad = sanitizer_lines(self.log)
        if bad:
            raise BrokerError('sanitizer report in the skiff log:\n' + '\n'.join(bad[:20]))
