"""Metadata through the raw protocol: the broker list and what it advertises,
the cluster id, topic auto-creation and its switches, topic name validation,
and topic ids that survive a restart."""

import time

import pytest

from kafka_wire import ZERO_UUID, Connection

pytestmark = pytest.mark.smoke

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
LEADER_NOT_AVAILABLE = 5
INVALID_TOPIC_EXCEPTION = 17


def metadata(broker, version, topics=None, host=None, **kw):
    with Connection(host or broker.host, broker.port) as c:
        return c.metadata(version, topics, **kw)


def topic_metadata(broker, name, version=4, **kw):
    """Metadata of one topic, retried while Kafka's 'being created' error lasts."""
    for _ in range(50):
        (t,) = metadata(broker, version, [name], **kw)['topics']
        if t['error_code'] != LEADER_NOT_AVAILABLE:
            return t
        time.sleep(0.1)
    return t


def user_topics(md):
    return sorted(t['name'] for t in md['topics'] if not t['name'].startswith('__'))


@pytest.mark.parametrize('version', range(14))
def test_metadata_every_version_describes_the_broker(broker, version):
    md = metadata(broker, version)
    (b,) = md['brokers']
    assert (b['node_id'], b['host'], b['port']) == (1, '127.0.0.1', broker.port)
    if version >= 1:
        assert b['rack'] is None
        assert md['controller_id'] == 1
    if version >= 2:
        assert md['cluster_id']
    if version >= 3:
        assert md['throttle_time_ms'] == 0
    if version >= 13:
        assert md['error_code'] == NONE
    assert user_topics(md) == []


def test_cluster_id_is_the_same_on_every_version(broker):
    ids = {metadata(broker, v)['cluster_id'] for v in (2, 4, 9, 12, 13)}
    assert len(ids) == 1


def test_advertised_listeners(start_broker):
    b = start_broker(advertised_listeners='PLAINTEXT://advertised.example:19092')
    for version in (0, 4, 12):
        (adv,) = metadata(b, version)['brokers']
        assert (adv['node_id'], adv['host'], adv['port']) == (1, 'advertised.example', 19092)


def test_advertises_the_address_the_client_connected_to(start_broker):
    b = start_broker(listeners='PLAINTEXT://0.0.0.0:0')
    for host in ('127.0.0.1', '127.0.0.2'):
        (adv,) = metadata(b, 4, host=host)['brokers']
        assert (adv['host'], adv['port']) == (host, b.port)


def test_auto_create_uses_num_partitions(start_broker):
    b = start_broker(num_partitions=3)
    t = topic_metadata(b, 'auto', version=4)
    assert (t['error_code'], t['name'], t['is_internal']) == (NONE, 'auto', False)
    parts = sorted(t['partitions'], key=lambda p: p['partition_index'])
    assert [p['partition_index'] for p in parts] == [0, 1, 2]
    for p in parts:
        assert (p['error_code'], p['leader_id'], p['replica_nodes'], p['isr_nodes']) == (NONE, 1, [1], [1])
    assert user_topics(metadata(b, 1)) == ['auto']


@pytest.mark.parametrize('version', [0, 1, 9, 12])
def test_auto_create_at_other_versions(broker, version):
    t = topic_metadata(broker, f'auto-v{version}', version=version)
    assert (t['error_code'], t['name']) == (NONE, f'auto-v{version}')
    assert [p['partition_index'] for p in t['partitions']] == [0]


def test_request_can_forbid_auto_create(broker):
    t = topic_metadata(broker, 'not-created', version=4, allow_auto_topic_creation=False)
    assert (t['error_code'], t['name'], t['partitions']) == (UNKNOWN_TOPIC_OR_PARTITION, 'not-created', [])
    assert user_topics(metadata(broker, 1)) == []


def test_config_can_disable_auto_create(start_broker):
    b = start_broker(auto_create_topics_enable=False)
    for version in (0, 1, 4, 12):
        (t,) = metadata(b, version, ['nope'])['topics']
        assert (t['error_code'], t['name']) == (UNKNOWN_TOPIC_OR_PARTITION, 'nope')
    assert user_topics(metadata(b, 1)) == []


BAD_NAMES = ['bad/name', '..', '.', 'a' * 250, 'with space', 'ü', '']


@pytest.mark.parametrize('allow', [True, False])
@pytest.mark.parametrize('name', BAD_NAMES, ids=['slash', 'dotdot', 'dot', 'len250', 'space', 'non-ascii', 'empty'])
def test_invalid_topic_name(broker, name, allow):
    (t,) = metadata(broker, 4, [name], allow_auto_topic_creation=allow)['topics']
    assert (t['error_code'], t['name'], t['partitions']) == (INVALID_TOPIC_EXCEPTION, name, [])
    assert user_topics(metadata(broker, 1)) == []


@pytest.mark.parametrize('name', ['a' * 249, 'Valid.name_with-every_CHAR.09'])
def test_edge_valid_topic_names(broker, name):
    t = topic_metadata(broker, name)
    assert (t['error_code'], t['name']) == (NONE, name)


def test_topic_ids_are_stable_across_restart(broker):
    t = topic_metadata(broker, 'ids', version=12)
    assert t['error_code'] == NONE
    topic_id = t['topic_id']
    assert len(topic_id) == 16 and topic_id != ZERO_UUID
    assert topic_metadata(broker, 'ids', version=10)['topic_id'] == topic_id
    other = topic_metadata(broker, 'ids2', version=12)['topic_id']
    assert other not in (ZERO_UUID, topic_id)
    cluster_id = metadata(broker, 12)['cluster_id']

    broker.restart()
    md = metadata(broker, 12)
    assert md['cluster_id'] == cluster_id
    assert {t['name']: t['topic_id'] for t in md['topics'] if not t['name'].startswith('__')} == \
        {'ids': topic_id, 'ids2': other}


def test_topics_and_partitions_survive_restart(start_broker):
    b = start_broker(num_partitions=4)
    assert len(topic_metadata(b, 'kept')['partitions']) == 4
    b.restart()
    t = topic_metadata(b, 'kept', allow_auto_topic_creation=False)
    assert t['error_code'] == NONE
    assert sorted(p['partition_index'] for p in t['partitions']) == [0, 1, 2, 3]
