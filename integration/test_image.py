"""The container image, as users run it: built from the Dockerfile by
scripts/build-image.sh (buildah, a Debian base made by debootstrap, no
registry), then started with `buildah run --isolation chroot`, as its
non-root user, with the image's own entrypoint, environment and working
directory, and driven over loopback by real clients (kcat, kafkajs).

- the image: under 12 MB uncompressed, only skiff, the libraries ldd names
  for it and busybox; non-root user, exec-form entrypoint, SIGTERM, a
  /var/lib/skiff volume, a health check that needs no shell;
- produce and consume with kcat and a kafkajs consumer group, then a restart
  that keeps the data and the group's offsets in the volume;
- Testcontainers' start sequences replayed exactly as its Kafka modules for
  Java (org.testcontainers.kafka.KafkaContainer), Go, Python and Node do
  them: command or entrypoint override, start script copied in, advertised
  listeners exported, the wait for Kafka's readiness log line or the port;
- apache/kafka's documented single-node environment, with and without
  KAFKA_LISTENERS, and Kafka 4.x's shipped server.properties mounted where
  that image reads it.

chroot isolation shares the host's network, so every port is picked free
here instead of Kafka's fixed 9092-9094. Skipped unless SKIFF_IMAGE_TAG names the
built image (scripts/test.sh's image stage sets it; SKIFF_IMAGE_STORE is
buildah's storage, default build/image)."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import types
import uuid
from pathlib import Path

import pytest

import kafka_env
from harness import REPO, free_port
from kafka_wire import Connection
from test_kafkajs_groups import KafkajsConsumers

IMAGE = os.environ.get('SKIFF_IMAGE_TAG')
STORE = Path(os.environ.get('SKIFF_IMAGE_STORE') or REPO / 'build' / 'image')
SIZE_LIMIT = 12_000_000  # bytes, uncompressed (TLS brought OpenSSL's code in: docs/docker.md)
TIMEOUT = 30.0
READY = re.compile(r'.*Transitioning from RECOVERY to RUNNING.*')  # Testcontainers' wait (Java, Go)

pytestmark = pytest.mark.skipif(not IMAGE, reason='SKIFF_IMAGE_TAG unset: scripts/test.sh builds the image')


BUILDAH = ['buildah', '--root', str(STORE / 'storage'), '--runroot', str(STORE / 'run'), '--storage-driver', 'vfs']


def buildah(*args, check=True, timeout=120):
    cmd = [*BUILDAH, *map(str, args)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check:
        assert res.returncode == 0, f'{" ".join(cmd)} exited {res.returncode}:\n{res.stderr}'
    return res


def image_config():
    return json.loads(buildah('inspect', '--type', 'image', IMAGE).stdout)['Docker']['config']


def kcat(*args, input=None, timeout=60):
    res = subprocess.run(['kcat', *args], capture_output=True, text=True, timeout=timeout, input=input,
                         stdin=None if input is not None else subprocess.DEVNULL)
    assert res.returncode == 0, f'kcat {args} exited {res.returncode}:\n{res.stderr}'
    return res.stdout


def produce_consume(bootstrap, topic, values):
    """kcat produces `values` to `topic` and reads the whole topic back."""
    kcat('-b', bootstrap, '-P', '-t', topic, '-p', '0', input=''.join(v + '\n' for v in values))
    out = kcat('-b', bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-f', '%o:%s\n')
    return out.splitlines()


def advertised(port, host='127.0.0.1'):
    """(host, port) of every broker in a Metadata answer from host:port."""
    with Connection(host, port) as c:
        md = c.metadata(4, [])
    return sorted((b['host'], b['port']) for b in md['brokers'])


def refused(port):
    with socket.socket() as s:
        return s.connect_ex(('127.0.0.1', port)) != 0


class Run:
    """One `buildah run` of a command in a container; its output goes to a
    log file. The broker inside is the descendant process named skiff."""

    def __init__(self, proc, log_path):
        self.proc = proc
        self.log_path = log_path

    @property
    def log(self):
        return self.log_path.read_text(errors='replace')

    def wait_line(self, regex, timeout=TIMEOUT):
        """Waits for a log line matching `regex` as a whole (as Testcontainers'
        log wait strategy does); returns it."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log.splitlines():
                if regex.fullmatch(line):
                    return line
            assert self.proc.poll() is None, f'exited {self.proc.returncode} before {regex.pattern}:\n{self.log}'
            assert time.monotonic() < deadline, f'no line {regex.pattern} within {timeout}s:\n{self.log}'
            time.sleep(0.05)

    def descendants(self):
        """(pid, command name) of every process under this buildah run
        (buildah run -> chroot runtime -> exec -> maybe a shell -> skiff)."""
        children = {}
        for d in Path('/proc').iterdir():
            if d.name.isdigit():
                try:
                    stat = (d / 'stat').read_text()
                except OSError:
                    continue
                comm = stat[stat.index('(') + 1:stat.rindex(')')]
                ppid = int(stat[stat.rindex(')') + 2:].split()[1])
                children.setdefault(ppid, []).append((int(d.name), comm))
        found, todo = [], [self.proc.pid]
        while todo:
            for pid, comm in children.get(todo.pop(), []):
                found.append((pid, comm))
                todo.append(pid)
        return found

    def skiff_pid(self):
        for pid, comm in self.descendants():
            if comm == 'skiff':
                return pid
        raise AssertionError(f'no skiff process under buildah run {self.proc.pid}:\n{self.log}')

    def stop(self):
        """SIGTERM to skiff, as `docker stop` sends the image's STOPSIGNAL;
        returns the run's exit status."""
        os.kill(self.skiff_pid(), signal.SIGTERM)
        return self.proc.wait(TIMEOUT)

    def kill(self):
        """SIGKILL to everything the run started (killing buildah alone
        would leave them running), then to buildah."""
        if self.proc.poll() is None:
            for pid, _ in self.descendants():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.kill()
            self.proc.wait()


class Container:
    """A working container of the image. start() runs the image as a
    container engine would: the image's entrypoint followed by the command,
    as the image's user, with its environment plus `env`, and a host name
    that /etc/hosts resolves (to 127.0.0.1: the network is the host's)."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.name = f'skiff-test-{uuid.uuid4().hex[:12]}'
        buildah('from', '--pull-never', '--name', self.name, '--add-host', f'{self.name}:127.0.0.1', IMAGE)
        self.config = image_config()
        self.runs = []

    def options(self, env):
        opts = ['--isolation', 'chroot', '--user', self.config['User'], '--hostname', self.name]
        for k, v in (env or {}).items():
            opts += ['--env', f'{k}={v}']
        return opts

    def start(self, command=(), env=None, volumes=(), entrypoint=None):
        argv = list(self.config['Entrypoint'] if entrypoint is None else entrypoint) + list(command)
        opts = self.options(env)
        for v in volumes:
            opts += ['--volume', v]
        log_path = self.tmp_path / f'{self.name}-{len(self.runs)}.log'
        with open(log_path, 'w') as log:
            proc = subprocess.Popen([*BUILDAH, 'run', *opts, self.name, '--', *argv],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.runs.append(Run(proc, log_path))
        return self.runs[-1]

    def exec(self, *argv, env=None):
        """Runs a command to completion in the container (docker exec)."""
        return buildah('run', *self.options(env), self.name, '--', *argv, check=False)

    def copy(self, text, dest, mode='0777'):
        """Puts a file in the running container, as Testcontainers'
        copyFileToContainer does (owned by root, `mode`)."""
        src = self.tmp_path / f'{self.name}-copy'
        src.write_text(text)
        buildah('copy', '--chmod', mode, self.name, src, dest)

    def remove(self):
        for r in self.runs:
            r.kill()
        buildah('rm', self.name, check=False)


@pytest.fixture
def container(tmp_path):
    made = []

    def make():
        made.append(Container(tmp_path))
        return made[-1]

    yield make
    for c in made:
        c.remove()


def test_image_size_and_contents(container):
    c = container()
    mnt = buildah('mount', c.name).stdout.strip()
    try:
        root = Path(mnt)
        size = sum(p.lstat().st_size for p in root.rglob('*'))
        assert size < SIZE_LIMIT, f'image is {size} bytes'
        files = sorted(str(p.relative_to(root)) for p in root.rglob('*') if p.is_file() and not p.is_symlink())
    finally:
        buildah('umount', c.name)
    # skiff, exactly the shared libraries its loader resolves, busybox.
    libs = c.exec('/lib64/ld-linux-x86-64.so.2', '--list', '/usr/local/bin/skiff').stdout
    resolved = sorted({p.lstrip('/') for p in re.findall(r'(/\S+) \(0x', libs)})
    binaries = [f for f in files if f.startswith(('lib', 'usr/', 'bin/'))]
    assert binaries == sorted(resolved + ['bin/bash', 'bin/busybox', 'usr/local/bin/skiff'])
    cfg = c.config
    assert cfg['User'] == '10001:10001'
    assert cfg['Entrypoint'] == ['/usr/local/bin/skiff']
    assert cfg['StopSignal'] == 'SIGTERM'
    assert list(cfg['Volumes']) == ['/var/lib/skiff']
    assert cfg['WorkingDir'] == '/var/lib/skiff'
    assert cfg['Healthcheck']['Test'] == ['CMD', '/usr/local/bin/skiff', 'healthcheck']
    # The shells Testcontainers' scripts name.
    res = c.exec('/bin/bash', '-c', 'echo "$(id -u):$(id -g)"; sh -c "echo sh"')
    assert res.stdout == '10001:10001\nsh\n', res.stderr


def test_run_produce_consume_group_restart(container, tmp_path):
    """The entrypoint as the non-root user, data in a bind-mounted volume:
    kcat and a kafkajs consumer group, the health check, then a restart that
    keeps records and committed offsets."""
    data = tmp_path / 'volume'
    data.mkdir()
    os.chown(data, 10001, 10001)
    port = free_port()
    env = {'KAFKA_ADVERTISED_LISTENERS': f'PLAINTEXT://127.0.0.1:{port}', 'KAFKA_NUM_PARTITIONS': '1'}
    c = container()
    run = c.start(env=env, volumes=[f'{data}:/var/lib/skiff'])
    run.wait_line(READY)
    assert f'listening on 0.0.0.0:{port} (PLAINTEXT)' in run.log
    bootstrap = f'127.0.0.1:{port}'
    assert advertised(port) == [('127.0.0.1', port)]
    assert produce_consume(bootstrap, 'orders', ['a', 'b', 'c']) == ['0:a', '1:b', '2:c']

    health = c.exec('/usr/local/bin/skiff', 'healthcheck', env=env)
    assert health.returncode == 0 and health.stdout.startswith(f'healthy: 127.0.0.1:{port} '), health

    broker = types.SimpleNamespace(bootstrap=bootstrap)
    js = KafkajsConsumers(broker)
    try:
        js.start('c1', 'billing', ['orders'])
        got = js.wait_messages('c1', 3)
        assert [(m.offset, m.value) for m in got] == [(0, b'a'), (1, b'b'), (2, b'c')]
        js.wait_committed('c1', {('orders', 0): 3})
        js.stop('c1')
    finally:
        js.close()

    assert run.stop() == 0
    assert 'stopped' in run.log
    assert c.exec('/usr/local/bin/skiff', 'healthcheck', env=env).returncode == 1
    assert (data / 'orders-0').is_dir() and (data / 'meta.properties').is_file()

    run = c.start(env=env, volumes=[f'{data}:/var/lib/skiff'])
    run.wait_line(READY)
    kcat('-b', bootstrap, '-P', '-t', 'orders', '-p', '0', input='d\n')
    out = kcat('-b', bootstrap, '-C', '-t', 'orders', '-p', '0', '-o', 'beginning', '-e', '-f', '%o:%s\n')
    assert out.splitlines() == ['0:a', '1:b', '2:c', '3:d']
    js = KafkajsConsumers(broker)
    try:
        js.start('c2', 'billing', ['orders'])
        got = js.wait_messages('c2', 1)
        assert [(m.offset, m.value) for m in got] == [(3, b'd')]
    finally:
        js.close()
    assert run.stop() == 0


def test_testcontainers_java_sequence(container):
    """org.testcontainers.kafka.KafkaContainer with apache/kafka: its
    environment (KafkaHelper.envVars), the command override that waits for
    the start script, the script it copies in (#!/bin/bash, exports
    KAFKA_ADVERTISED_LISTENERS, runs /etc/kafka/docker/run), the log wait."""
    plain, broker_port, controller = free_port(), free_port(), free_port()
    starter = '/tmp/testcontainers_start.sh'
    env = kafka_env.testcontainers_java(plain, broker_port, controller)
    c = container()
    run = c.start(command=['sh', '-c', f'while [ ! -f {starter} ]; do sleep 0.1; done; {starter}'], env=env)
    hostname = c.name  # Java reads the container's host name from docker inspect
    c.copy(f'#!/bin/bash\nexport KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:{plain},'
           f'BROKER://{hostname}:{broker_port}\n/etc/kafka/docker/run \n', starter)
    run.wait_line(READY)

    assert advertised(plain) == [('127.0.0.1', plain)]
    assert advertised(broker_port) == [(hostname, broker_port)]
    assert refused(controller)
    assert produce_consume(f'127.0.0.1:{plain}', 'tc', ['x', 'y']) == ['0:x', '1:y']
    with Connection('127.0.0.1', plain) as conn:
        assert conn.metadata(4, [])['cluster_id'] == '4L6g3nShT-eMCtK--X86sw'
    assert 'Kafka keys accepted and ignored' in run.log
    assert run.stop() == 0


def test_testcontainers_go_sequence(container):
    """testcontainers-go's kafka module (written for Confluent's images):
    entrypoint sh, the loop waiting for /usr/sbin/testcontainers_start.sh,
    a script that sources and edits /etc/confluent/docker files, then runs
    their configure and launch steps; the same log wait."""
    plain, broker_port, controller = free_port(), free_port(), free_port()
    starter = '/usr/sbin/testcontainers_start.sh'
    env = kafka_env.testcontainers_go(plain, broker_port, controller)
    c = container()
    run = c.start(entrypoint=['sh'], command=['-c', f'while [ ! -f {starter} ]; do sleep 0.1; done; bash {starter}'],
                  env=env)
    hostname = c.name
    c.copy('#!/bin/bash\n'
           'source /etc/confluent/docker/bash-config\n'
           f'export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:{plain},BROKER://{hostname}:{broker_port}\n'
           'echo Starting Kafka KRaft mode\n'
           "sed -i '/KAFKA_ZOOKEEPER_CONNECT/d' /etc/confluent/docker/configure\n"
           "echo 'kafka-storage format --ignore-formatted -t \"$(kafka-storage random-uuid)\" "
           "-c /etc/kafka/kafka.properties' >> /etc/confluent/docker/configure\n"
           "echo '' > /etc/confluent/docker/ensure\n"
           '/etc/confluent/docker/configure\n'
           '/etc/confluent/docker/launch', starter, mode='0755')
    run.wait_line(READY)
    assert advertised(plain) == [('127.0.0.1', plain)]
    assert refused(controller)
    assert produce_consume(f'127.0.0.1:{plain}', 'tc-go', ['1', '2', '3']) == ['0:1', '1:2', '2:3']
    assert run.stop() == 0


PYTHON_ZOOKEEPER_BOOT = ("echo 'clientPort=2181' > zookeeper.properties\n"
                         "echo 'dataDir=/var/lib/zookeeper/data' >> zookeeper.properties\n"
                         "echo 'dataLogDir=/var/lib/zookeeper/log' >> zookeeper.properties\n"
                         'zookeeper-server-start zookeeper.properties &\n'
                         "export KAFKA_ZOOKEEPER_CONNECT='localhost:2181'\n")
PYTHON_KRAFT_BOOT = ("sed -i '/KAFKA_ZOOKEEPER_CONNECT/d' /etc/confluent/docker/configure\n"
                     "echo 'kafka-storage format --ignore-formatted -t MkU3OEVBNTcwNTJENDM2Qk "
                     "-c /etc/kafka/kafka.properties' >> /etc/confluent/docker/configure\n")


@pytest.mark.parametrize('kraft', [False, True], ids=['default', 'with_kraft'])
def test_testcontainers_python_sequence(container, kraft):
    """testcontainers-python's KafkaContainer (written for Confluent's
    images), in its default mode and with .with_kraft(): the command (a
    string docker-py splits), the script put at /tc-start.sh (its boot
    commands: a ZooKeeper the image does not have, or edits of Confluent's
    configure; the advertised listeners with $(hostname -i); Confluent's
    steps), the wait for "[KafkaServer id=N] started" or "Kafka Server
    started"."""
    plain, broker_port, controller = free_port(), free_port(), free_port()
    env = kafka_env.testcontainers_python(plain, broker_port, controller if kraft else None)
    c = container()
    run = c.start(command=['sh', '-c', 'while [ ! -f /tc-start.sh ]; do sleep 0.1; done; sh /tc-start.sh'], env=env)
    c.copy('#!/bin/bash\n' + (PYTHON_KRAFT_BOOT if kraft else PYTHON_ZOOKEEPER_BOOT) +
           f'export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:{plain},BROKER://$(hostname -i):{broker_port}\n'
           '. /etc/confluent/docker/bash-config\n'
           '/etc/confluent/docker/configure\n'
           '/etc/confluent/docker/launch', '/tc-start.sh', mode='0644')
    run.wait_line(re.compile(r'.*Kafka Server started.*' if kraft else r'.*\[KafkaServer id=\d+\] started.*'))
    assert advertised(plain) == [('127.0.0.1', plain)]
    assert advertised(broker_port) == [('127.0.0.1', broker_port)]
    if kraft:
        assert refused(controller)
    assert produce_consume(f'127.0.0.1:{plain}', 'tc-py', ['z']) == ['0:z']
    assert run.stop() == 0


def test_testcontainers_node_sequence(container):
    """testcontainers-node's KafkaContainer in KRaft mode (a Confluent tag
    >= 8.0.0, or withKraft()): entrypoint sh, a command that logs "Waiting
    for script..." then waits for the script, the script exporting the
    advertised listeners and running /etc/confluent/docker/run, then the
    default wait: the port answers from outside, and one of the in-container
    checks (/proc/net/tcp with awk and grep, nc, bash's /dev/tcp) succeeds."""
    plain, broker_port, controller = free_port(), free_port(), free_port()
    env = kafka_env.testcontainers_node_kraft(plain, broker_port, controller)
    starter = '/tmp/testcontainers_start.sh'
    c = container()
    run = c.start(entrypoint=['sh'], env=env, command=[
        '-c', f"echo 'Waiting for script...'; while [ ! -f {starter} ]; do sleep 0.1; done; {starter}"])
    run.wait_line(re.compile('Waiting for script...'))
    c.copy(f'#!/bin/bash\nexport KAFKA_ADVERTISED_LISTENERS=BROKER://{c.name}:{broker_port},'
           f'PLAINTEXT://127.0.0.1:{plain}\n/etc/confluent/docker/run \n', starter)
    deadline = time.monotonic() + TIMEOUT
    while refused(plain):
        assert time.monotonic() < deadline and run.proc.poll() is None, run.log
        time.sleep(0.05)
    checks = [['/bin/sh', '-c', f"cat /proc/net/tcp* | awk '{{print $2}}' | grep -i :{plain:04x}"],
              ['/bin/sh', '-c', f'nc -vz -w 1 localhost {plain}'],
              ['/bin/bash', '-c', f'</dev/tcp/localhost/{plain}']]
    # One passing is enough for the module: busybox's awk and grep do;
    # its nc has no -z and its ash no /dev/tcp.
    assert [c.exec(*cmd).returncode for cmd in checks] == [0, 1, 1]
    assert advertised(plain) == [('127.0.0.1', plain)]
    assert advertised(broker_port) == [(c.name, broker_port)]
    assert refused(controller)
    assert produce_consume(f'127.0.0.1:{plain}', 'tc-node', ['n']) == ['0:n']
    assert run.stop() == 0


@pytest.mark.parametrize('with_listeners', [True, False], ids=['KAFKA_LISTENERS', 'derived'])
def test_apache_kafka_single_node_env(container, with_listeners):
    """apache/kafka's single-node plaintext example (docker/examples), with
    its KAFKA_LISTENERS and without it (then derived from the advertised
    listeners on 0.0.0.0, as that image does)."""
    host_port, internal, controller = free_port(), free_port(), free_port()
    env = kafka_env.apache_kafka_single_node(host_port, internal, controller, with_listeners)
    c = container()
    run = c.start(env=env)
    run.wait_line(READY)
    assert f':{host_port} (PLAINTEXT_HOST)' in run.log and f':{internal} (PLAINTEXT)' in run.log
    assert 'log dir /tmp/kraft-combined-logs' in run.log
    assert advertised(host_port) == [('localhost', host_port)]
    assert advertised(internal) == [('broker', internal)]
    assert refused(controller)
    assert produce_consume(f'127.0.0.1:{host_port}', 'test', ['hello']) == ['0:hello']
    assert run.stop() == 0


def test_kafka_server_properties(container, tmp_path):
    """Kafka 4.x's shipped config/server.properties (tests/data/kafka), in
    /mnt/shared/config where apache/kafka reads a mounted one, with only its
    ports changed; started by the image's entrypoint and, as Testcontainers'
    scripts do, by /etc/kafka/docker/run."""
    client, controller = free_port(), free_port()
    text = (REPO / 'tests' / 'data' / 'kafka' / 'server.properties').read_text()
    assert ':9092' in text and ':9093' in text
    mounted = tmp_path / 'config'
    mounted.mkdir()
    (mounted / 'server.properties').write_text(text.replace(':9092', f':{client}').replace(':9093', f':{controller}'))
    c = container()
    for how in (['--config', '/mnt/shared/config/server.properties'], None):
        run = c.start(command=how or [], entrypoint=None if how else ['/etc/kafka/docker/run'],
                      volumes=[f'{mounted}:/mnt/shared/config:ro'])
        run.wait_line(READY)
        assert 'log dir /tmp/kraft-combined-logs' in run.log
        assert re.search(r'Kafka keys accepted and ignored \(they mean nothing to one skiff node\): '
                         r'process\.roles \(KRaft\), controller\.quorum\.bootstrap\.servers \(KRaft\)', run.log)
        assert f'CONTROLLER://:{controller} is a KRaft controller listener' in run.log
        assert refused(controller)
        assert advertised(client) == [('localhost', client)]
        if how:
            assert produce_consume(f'127.0.0.1:{client}', 'props', ['p']) == ['0:p']
        else:  # the same log dir, so the record written by the first run
            out = kcat('-b', f'127.0.0.1:{client}', '-C', '-t', 'props', '-o', 'beginning', '-e', '-f', '%o:%s\n')
            assert out.splitlines() == ['0:p']
        assert run.stop() == 0


def test_shell_free_healthcheck_fails_on_closed_port(container):
    c = container()
    res = c.exec('/usr/local/bin/skiff', 'healthcheck', env={'KAFKA_LISTENERS': f'PLAINTEXT://:{free_port()}'})
    assert res.returncode == 1
    assert res.stdout.startswith('unhealthy: 127.0.0.1:') and 'Connection refused' in res.stdout
