"""Apache Kafka's conventions on the command line and in the environment,
against build/skiff (the image runs the same in test_image.py):
`skiff healthcheck` (exit 0 against a broker, 1 against a closed port), a
command given in place of settings runs as given (how Testcontainers'
command override reaches the image's entrypoint), the apache/kafka image's
KAFKA_* variables as Testcontainers sets them (named listeners, the
controller listener not opened, CLUSTER_ID), and Kafka 4.x's own
server.properties."""

import socket
import subprocess

import pytest

import kafka_env
from harness import REPO, SKIFF_BIN, free_port, run_skiff
from kafka_wire import Connection

pytestmark = pytest.mark.smoke


def test_healthcheck(broker):
    listeners = f'PLAINTEXT://127.0.0.1:{broker.port}'
    res = run_skiff('healthcheck', '--listeners', listeners)
    assert (res.returncode, res.stdout) == (0, f'healthy: 127.0.0.1:{broker.port} answered ApiVersions\n')
    # The same settings from the environment, a wildcard host checked on loopback.
    res = run_skiff('healthcheck', env={'KAFKA_LISTENERS': f'PLAINTEXT://0.0.0.0:{broker.port}'})
    assert res.returncode == 0, res.stdout
    broker.stop()
    res = run_skiff('healthcheck', '--listeners', listeners)
    assert res.returncode == 1
    assert res.stdout == f'unhealthy: 127.0.0.1:{broker.port} cannot connect: Connection refused\n'
    assert run_skiff('healthcheck', '--num.partitions', 'x').returncode == 2


def test_command_runs_in_place_of_skiff():
    res = subprocess.run([SKIFF_BIN, 'sh', '-c', 'echo "$0:$1"', 'a', 'b'], capture_output=True, text=True,
                         timeout=15)
    assert (res.returncode, res.stdout) == (0, 'a:b\n')
    res = run_skiff('no-such-program-here')
    assert res.returncode == 127
    assert 'cannot run "no-such-program-here"' in res.stderr


def test_testcontainers_environment(start_broker):
    """KafkaHelper.envVars() of testcontainers-java with free ports, and the
    advertised listeners its start script exports."""
    plain, broker_port, controller = free_port(), free_port(), free_port()
    env = kafka_env.testcontainers_java(plain, broker_port, controller, host='127.0.0.1')
    env['KAFKA_ADVERTISED_LISTENERS'] = f'PLAINTEXT://localhost:{plain},BROKER://tc-host:{broker_port}'
    b = start_broker(config={'listeners': None}, env=env)
    assert b.port == plain
    assert f'listening on 127.0.0.1:{broker_port} (BROKER)' in b.log
    assert ('Kafka keys accepted and ignored (they mean nothing to one skiff node): '
            'inter.broker.listener.name (KRaft), process.roles (KRaft), controller.quorum.voters (KRaft), '
            'offsets.topic.replication.factor (one replica), transaction.state.log.replication.factor '
            '(one replica), transaction.state.log.min.isr (one replica)\n') in b.log
    assert f'CONTROLLER://127.0.0.1:{controller} is a KRaft controller listener' in b.log
    assert '[BrokerServer id=1] Transitioning from RECOVERY to RUNNING' in b.log
    for port, host in ((plain, 'localhost'), (broker_port, 'tc-host')):
        with Connection('127.0.0.1', port) as c:
            md = c.metadata(4, [])
        assert md['cluster_id'] == '4L6g3nShT-eMCtK--X86sw'
        assert [(x['node_id'], x['host'], x['port']) for x in md['brokers']] == [(1, host, port)]
    with socket.socket() as s:
        assert s.connect_ex(('127.0.0.1', controller)) != 0


def test_kafka_server_properties(start_broker, tmp_path):
    """Kafka 4.x's config/server.properties, ports and log dir moved."""
    client, controller = free_port(), free_port()
    text = (REPO / 'tests' / 'data' / 'kafka' / 'server.properties').read_text()
    path = tmp_path / 'server.properties'
    path.write_text(text.replace(':9092', f':{client}').replace(':9093', f':{controller}')
                    .replace('/tmp/kraft-combined-logs', str(tmp_path / 'kraft')))
    b = start_broker(config={'listeners': None, 'log.dirs': None}, args=['--config', str(path)])
    assert b.port == client
    assert (tmp_path / 'kraft' / 'meta.properties').is_file()
    assert 'WARN' not in b.log
    with Connection('127.0.0.1', client) as c:
        md = c.metadata(4, [])
    assert [(x['host'], x['port']) for x in md['brokers']] == [('localhost', client)]
    with socket.socket() as s:
        assert s.connect_ex(('127.0.0.1', controller)) != 0
