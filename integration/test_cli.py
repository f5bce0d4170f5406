"""The skiff command line: --help and --version, bad and unknown keys,
precedence of config file < SKIFF_ environment < flags (seen through what the
broker does), and a graceful stop on SIGTERM and SIGINT."""

import re
import signal
import time

import pytest

import kafka_wire as kw
from harness import run_skiff
from kafka_wire import API_VERSIONS, Connection

pytestmark = pytest.mark.smoke


def partitions_and_node(broker):
    """(partition count of a freshly auto-created topic, advertised node id)."""
    with Connection(broker.host, broker.port) as c:
        md = c.metadata(4, ['precedence'])
    (t,) = md['topics']
    assert t['error_code'] == 0
    (b,) = md['brokers']
    assert md['controller_id'] == b['node_id']
    return len(t['partitions']), b['node_id']


def test_help():
    res = run_skiff('--help')
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    for key in ('listeners', 'log.dirs', 'num.partitions', 'auto.create.topics.enable'):
        assert key in out


def test_version():
    res = run_skiff('--version')
    assert res.returncode == 0, res.stderr
    assert re.search(r'skiff \d+\.\d+\.\d+', res.stdout + res.stderr)


def listen_args(tmp_path):
    return ['--listeners', 'PLAINTEXT://127.0.0.1:0', '--log.dirs', str(tmp_path / 'data')]


@pytest.mark.parametrize('key,value', [
    ('num.partitions', 'abc'),
    ('num.partitions', '0'),
    ('node.id', '1x'),
    ('auto.create.topics.enable', 'maybe'),
    ('socket.request.max.bytes', '-5'),
    ('listeners', 'http://127.0.0.1:0'),
    ('listeners', 'PLAINTEXT://127.0.0.1:99999'),
    ('log.level', 'loud'),
])
def test_bad_flag_value_exits_2(tmp_path, key, value):
    res = run_skiff(*listen_args(tmp_path), f'--{key}', value)
    assert res.returncode == 2, res.stderr
    assert key in res.stderr


def test_bad_env_value_exits_2(tmp_path):
    res = run_skiff(*listen_args(tmp_path), env={'SKIFF_NUM_PARTITIONS': 'abc'})
    assert res.returncode == 2, res.stderr
    assert 'num.partitions' in res.stderr


def test_bad_config_file_value_exits_2(tmp_path):
    conf = tmp_path / 'skiff.json'
    conf.write_text('{"num.partitions": "abc"}')
    res = run_skiff('--config', conf, *listen_args(tmp_path))
    assert res.returncode == 2, res.stderr
    assert 'num.partitions' in res.stderr


def test_unreadable_config_file_exits_2(tmp_path):
    conf = tmp_path / 'broken.json'
    conf.write_text('{"num.partitions": ')
    assert run_skiff('--config', conf, *listen_args(tmp_path)).returncode == 2
    assert run_skiff('--config', tmp_path / 'missing.json', *listen_args(tmp_path)).returncode == 2


def warning_lines(log, name):
    return [line for line in log.splitlines() if name in line and 'WARN' in line]


def test_unknown_flag_warns_and_starts(start_broker):
    b = start_broker(args=['--no.such.key', '1'])
    assert warning_lines(b.log, 'no.such.key')
    with Connection(b.host, b.port) as c:
        assert c.api_versions(3)['error_code'] == 0


def test_unknown_env_key_warns_and_starts(start_broker):
    b = start_broker(env={'SKIFF_NO_SUCH_KEY': '1'})
    assert warning_lines(b.log, 'no.such.key') or warning_lines(b.log, 'SKIFF_NO_SUCH_KEY')


def test_unknown_config_file_key_warns_and_starts(start_broker):
    b = start_broker(config_file={'no.such.key': 1})
    assert warning_lines(b.log, 'no.such.key')


def precedence_id(value):
    if isinstance(value, set):
        return '+'.join(sorted(value)) or 'defaults'
    return None


@pytest.mark.parametrize('sources,expected', [
    ({}, (1, 1)),
    ({'file'}, (2, 5)),
    ({'env'}, (3, 6)),
    ({'flag'}, (4, 7)),
    ({'file', 'env'}, (3, 6)),
    ({'file', 'flag'}, (4, 7)),
    ({'env', 'flag'}, (4, 7)),
    ({'file', 'env', 'flag'}, (4, 7)),
], ids=precedence_id)
def test_config_precedence(start_broker, sources, expected):
    # Each source sets both keys to its own values: file (2, 5), env (3, 6), flags (4, 7).
    opts = {}
    if 'file' in sources:
        opts['config_file'] = {'num.partitions': 2, 'node.id': 5}
    if 'env' in sources:
        opts['env'] = {'SKIFF_NUM_PARTITIONS': '3', 'SKIFF_NODE_ID': '6'}
    if 'flag' in sources:
        opts['config'] = {'num.partitions': 4, 'node.id': 7}
    b = start_broker(**opts)
    assert partitions_and_node(b) == expected


def test_config_file_accepts_strings_and_comments(start_broker, tmp_path):
    conf = tmp_path / 'commented.json'
    conf.write_text('{\n  // partitions for new topics\n  "num.partitions": "2",\n'
                    '  /* a block comment */ "node.id": 9\n}\n')
    b = start_broker(args=['--config', str(conf)])
    assert partitions_and_node(b) == (2, 9)


def test_flag_equals_form(start_broker):
    b = start_broker(args=['--num.partitions=3', '--node.id=8'])
    assert partitions_and_node(b) == (3, 8)


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT], ids=['SIGTERM', 'SIGINT'])
def test_signal_stops_gracefully(broker, sig):
    with Connection(broker.host, broker.port) as busy, Connection(broker.host, broker.port):
        assert busy.api_versions(3)['error_code'] == 0
        # A request cut in half is pending on `busy`; an idle client holds the other.
        busy.send_raw(kw.encode_request(API_VERSIONS, 3, 99, kw.api_versions_request(3))[:7])
        start = time.monotonic()
        assert broker.stop(sig, timeout=5) == 0
        assert time.monotonic() - start < 5


def test_restart_on_same_port_after_clients(broker):
    port = broker.port
    with Connection(broker.host, broker.port) as c:
        assert c.api_versions(3)['error_code'] == 0
        broker.restart()
    assert broker.port == port
    with Connection(broker.host, broker.port) as c:
        assert c.api_versions(3)['error_code'] == 0
