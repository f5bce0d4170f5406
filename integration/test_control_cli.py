"""`skiff ctl` end to end against a running skiff: each command family,
human and --json output, and the exit statuses (0 done, 1 refused, 2 bad
usage, 3 wait timed out, 4 skiff unreachable)."""

import json
import re
import subprocess

from harness import SKIFF_BIN, broker_env
from kafka_wire import Connection

from test_control_faults import metadata
from test_groups import create_topic


def ctl(broker, *args, url=None, timeout=60, env=None):
    env = broker_env(dict({'SKIFF_HTTP_URL': url or broker.http_url}, **(env or {})))
    return subprocess.run([SKIFF_BIN, 'ctl', *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_faults_from_the_command_line(broker):
    res = ctl(broker, 'fault', 'add', '--api', 'Metadata', '--error', 'LEADER_NOT_AVAILABLE', '--times', 2,
              '--topic', 'cli-t')
    assert res.returncode == 0, res.stderr
    assert res.stdout == ('rule 1: api Metadata (key 3) error=LEADER_NOT_AVAILABLE times=2 topic=cli-t; '
                          'matched 0, fired 0\n')
    with Connection(broker.host, broker.port) as c:
        assert metadata(c, ['cli-t'])['topics'][0]['error_code'] == 5
    res = ctl(broker, '--json', 'fault', 'show', 1)
    assert res.returncode == 0
    assert json.loads(res.stdout)['fired'] == 1
    assert ctl(broker, 'fault', 'list').stdout.endswith('matched 1, fired 1\n')
    assert ctl(broker, 'fault', 'rm', 1).returncode == 0
    res = ctl(broker, 'fault', 'rm', 1)
    assert (res.returncode, res.stderr) == (1, 'skiff ctl: not_found (HTTP 404): no fault rule 1\n')
    assert ctl(broker, 'fault', 'list').stdout == 'no fault rules\n'
    ctl(broker, 'fault', 'add', '--api', 'Fetch', '--delay', '2s', '--once')
    assert json.loads(ctl(broker, '--json', 'fault', 'list').stdout)['rules'][0]['delay_ms'] == 2000
    assert json.loads(ctl(broker, '--json', 'fault', 'clear').stdout) == {'removed': 1}


def test_bad_rule_and_usage(broker):
    res = ctl(broker, 'fault', 'add', '--api', 'Produce', '--error', 'NOPE')
    assert res.returncode == 1 and 'unknown Kafka error "NOPE"' in res.stderr
    assert ctl(broker, 'fault', 'add', '--colour', 'red').returncode == 2
    assert ctl(broker, 'frobnicate').returncode == 2
    res = ctl(broker, 'wait', 'group')
    assert res.returncode == 2 and res.stderr.startswith('usage: skiff ctl wait group GROUP')
    assert ctl(broker, '--help').returncode == 0


def test_wait_exit_statuses(broker):
    res = ctl(broker, 'wait', 'topic', 'cli-w', '--timeout', '100ms')
    assert res.returncode == 3
    assert res.stderr.startswith('skiff ctl: timeout (HTTP 408): topic cli-w: not met within 100 ms\nstate seen:\n')
    assert '  exists: false\n' in res.stderr
    create_topic(broker.bootstrap, 'cli-w', 1)
    res = ctl(broker, 'wait', 'topic', 'cli-w', '--partitions', 1, '--timeout', '5s')
    assert res.returncode == 0 and res.stdout.startswith('condition met\n')
    res = ctl(broker, '--json', 'wait', 'partition', 'cli-w', 0, '--high-watermark', 0)
    assert res.returncode == 0 and json.loads(res.stdout)['state']['high_watermark'] == 0
    res = ctl(broker, 'wait', 'group', 'nobody', '--state', 'Stable', '--timeout', '0')
    assert res.returncode == 3


def test_unreachable(broker):
    res = ctl(broker, 'broker', url='http://127.0.0.1:1')
    assert res.returncode == 4 and 'cannot reach skiff at http://127.0.0.1:1' in res.stderr


def test_broker_group_topic_capture(broker):
    assert 'paused: true' in ctl(broker, 'broker', 'pause', '--for', '50ms').stdout
    assert 'refusing_connections: false' in ctl(broker, 'broker', 'accept').stdout
    assert ctl(broker, 'group', 'describe', 'none').returncode == 1
    assert ctl(broker, 'capture', 'start', '--api', 'Metadata', '--capacity', 10).returncode == 0
    create_topic(broker.bootstrap, 'cap-t', 1)
    with Connection(broker.host, broker.port) as c:
        metadata(c, ['cap-t'], client_id='cli-client')
    res = ctl(broker, 'capture', 'list', '--client-id', 'cli-client')
    assert res.returncode == 0
    assert re.fullmatch(r'capture on, 1 entries shown\n\d+ conn \d+ Metadata v12 client cli-client '
                        r'correlation 1: response, errors \[\]\n', res.stdout), res.stdout
    assert ctl(broker, 'topic', 'describe', 'cap-t').returncode == 0
    assert 'partitions' in ctl(broker, 'topic', 'roll', 'cap-t').stdout
    assert 'segments_deleted: 0' in ctl(broker, 'retention').stdout


def test_token(start_broker):
    b = start_broker(config={'skiff.http.token': 't0k'})
    res = ctl(b, 'fault', 'list')
    assert res.returncode == 1 and 'unauthorized (HTTP 401)' in res.stderr
    assert ctl(b, '--token', 't0k', 'fault', 'list').stdout == 'no fault rules\n'
    assert ctl(b, 'fault', 'list', env={'SKIFF_HTTP_TOKEN': 't0k'}).returncode == 0
