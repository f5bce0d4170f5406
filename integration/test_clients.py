"""Real clients against skiff: kcat (librdkafka), confluent-kafka-python
(librdkafka) and kafka-python, each through its ordinary API."""

import json
import re
import subprocess

import pytest
from client_versions import LIBRDKAFKA
from confluent_kafka.admin import AdminClient
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kp import broker_ids, check_version, timeouts

CLIENT_TIMEOUT_MS = 10000


def auto_create(bootstrap, topic):
    """Has kafka-python's producer ask for `topic`; the broker auto-creates it."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_block_ms=CLIENT_TIMEOUT_MS,
                             **timeouts(CLIENT_TIMEOUT_MS))
    try:
        return producer.partitions_for(topic)
    finally:
        producer.close(timeout=5)


def kcat(*args, timeout=30):
    res = subprocess.run(['kcat', *args], capture_output=True, text=True, timeout=timeout,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 0, f'kcat {args} exited {res.returncode}:\n{res.stderr}'
    return res.stdout


@pytest.mark.smoke
def test_kcat_list(broker):
    out = kcat('-b', broker.bootstrap, '-L', '-m', '10')
    assert ' 1 brokers:' in out.splitlines()
    brokers = [line.strip() for line in out.splitlines() if line.strip().startswith('broker ')]
    assert len(brokers) == 1
    assert re.fullmatch(rf'broker 1 at 127\.0\.0\.1:{broker.port}( \(controller\))?', brokers[0])


def test_kcat_list_json(broker):
    md = json.loads(kcat('-b', broker.bootstrap, '-L', '-J', '-m', '10'))
    assert md['controllerid'] == 1
    assert md['brokers'] == [{'id': 1, 'name': f'127.0.0.1:{broker.port}'}]
    assert md['originating_broker']['id'] == 1
    assert [t['topic'] for t in md['topics'] if not t['topic'].startswith('__')] == []


def test_kcat_sees_auto_created_topic(start_broker):
    b = start_broker(num_partitions=2)
    auto_create(b.bootstrap, 'seen')
    md = json.loads(kcat('-b', b.bootstrap, '-L', '-J', '-t', 'seen', '-m', '10'))
    (t,) = md['topics']
    assert t['topic'] == 'seen'
    assert sorted(p['partition'] for p in t['partitions']) == [0, 1]
    assert all(p['leader'] == 1 for p in t['partitions'])


def list_topics(bootstrap):
    admin = AdminClient({'bootstrap.servers': bootstrap})
    return admin.list_topics(timeout=CLIENT_TIMEOUT_MS / 1000)


@pytest.mark.smoke
def test_confluent_list_topics_and_cluster_id_persisted(broker):
    md = list_topics(broker.bootstrap)
    assert list(md.brokers) == [1]
    b = md.brokers[1]
    assert (b.id, b.host, b.port) == (1, '127.0.0.1', broker.port)
    assert md.controller_id == 1
    # Newer librdkafka (2.15, 2.16) may answer from its bootstrap connection, which has no node id (-1).
    assert md.orig_broker_id in ((1,) if LIBRDKAFKA == 'debian' else (1, -1))
    cluster_id = md.cluster_id
    assert cluster_id

    broker.restart()
    assert list_topics(broker.bootstrap).cluster_id == cluster_id


def test_confluent_list_topics_shows_partitions(start_broker):
    b = start_broker(num_partitions=3)
    auto_create(b.bootstrap, 'ck')
    md = list_topics(b.bootstrap)
    t = md.topics['ck']
    assert t.error is None
    assert sorted(t.partitions) == [0, 1, 2]
    for p in t.partitions.values():
        assert (p.leader, list(p.replicas), list(p.isrs)) == (1, [1], [1])


@pytest.mark.smoke
def test_kafka_python_client_probes_and_connects(broker):
    assert check_version(broker.bootstrap, CLIENT_TIMEOUT_MS) >= (0, 10, 0)


def test_kafka_python_admin_describe_cluster(broker):
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=CLIENT_TIMEOUT_MS,
                             **timeouts(CLIENT_TIMEOUT_MS))
    try:
        cluster = admin.describe_cluster()
        assert cluster['controller_id'] == 1
        assert cluster['cluster_id']
        assert broker_ids(cluster) == [(1, '127.0.0.1', broker.port)]
        assert [t for t in admin.list_topics() if not t.startswith('__')] == []
    finally:
        admin.close()


def test_kafka_python_consumer_topics(broker):
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, **timeouts(CLIENT_TIMEOUT_MS),
                             request_timeout_ms=CLIENT_TIMEOUT_MS + 1000)
    try:
        topics = consumer.topics()
        assert isinstance(topics, set)
        assert {t for t in topics if not t.startswith('__')} == set()
    finally:
        consumer.close()


@pytest.mark.smoke
def test_kafka_python_producer_auto_creates_with_num_partitions(start_broker):
    b = start_broker(num_partitions=3)
    assert auto_create(b.bootstrap, 't') == {0, 1, 2}
