"""Topic administration through kafka-python 2.0.2's KafkaAdminClient
(CreateTopics v3, DeleteTopics v3, CreatePartitions v1, DescribeConfigs v2,
AlterConfigs v1, Metadata v1-5): create with configs, list, describe, alter,
grow, delete, and the errors it raises with Kafka's codes. kafka-python
2.0.2 has no delete_records."""

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic
from kafka.errors import (InvalidConfigurationError, InvalidPartitionsError, InvalidReplicationFactorError,
                          InvalidRequestError, InvalidTopicError, TopicAlreadyExistsError,
                          UnknownTopicOrPartitionError)


@pytest.fixture
def admin(broker):
    a = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=15000)
    yield a
    a.close()


def topic_errors(resp):
    rows = resp.topic_errors if hasattr(resp, 'topic_errors') else resp.topic_error_codes
    return [(name, code) for name, code, *_ in rows]


def configs(admin, topic):
    (resp,) = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    ((err, _msg, _rtype, _name, entries),) = resp.resources
    assert err == 0
    return {name: (value, source) for name, value, _ro, source, _sensitive, _syn in entries}


def test_create_describe_alter_grow_delete(admin):
    resp = admin.create_topics([NewTopic('kp', 2, 1, topic_configs={'retention.ms': '90000'}),
                                NewTopic('kp2', 1, 1)])
    assert topic_errors(resp) == [('kp', 0), ('kp2', 0)]
    assert {'kp', 'kp2'} <= set(admin.list_topics())
    (meta,) = admin.describe_topics(['kp'])
    assert [p['partition'] for p in meta['partitions']] == [0, 1]

    cfg = configs(admin, 'kp')
    assert cfg['retention.ms'] == ('90000', 1)
    assert cfg['segment.bytes'] == ('1073741824', 5)
    assert len(cfg) == 37

    (resp,) = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, 'kp',
                                                  configs={'retention.ms': '1000', 'cleanup.policy': 'compact'})]),
    assert [r[0] for r in resp.resources] == [0]
    cfg = configs(admin, 'kp')
    assert (cfg['retention.ms'], cfg['cleanup.policy']) == (('1000', 1), ('compact', 1))

    resp = admin.create_partitions({'kp': NewPartitions(4)})
    assert topic_errors(resp) == [('kp', 0)]
    (meta,) = admin.describe_topics(['kp'])
    assert len(meta['partitions']) == 4

    resp = admin.delete_topics(['kp2'])
    assert topic_errors(resp) == [('kp2', 0)]
    assert 'kp2' not in admin.list_topics()


def test_errors(admin):
    admin.create_topics([NewTopic('exists', 1, 1)])
    with pytest.raises(TopicAlreadyExistsError):
        admin.create_topics([NewTopic('exists', 1, 1)])
    with pytest.raises(InvalidTopicError):
        admin.create_topics([NewTopic('no way', 1, 1)])
    with pytest.raises(InvalidReplicationFactorError):
        admin.create_topics([NewTopic('rf2', 1, 2)])
    with pytest.raises(InvalidPartitionsError):
        admin.create_topics([NewTopic('p0', 0, 1)])
    with pytest.raises(InvalidConfigurationError):
        admin.create_topics([NewTopic('cfg', 1, 1, topic_configs={'cleanup.policy': 'shred'})])
    with pytest.raises(InvalidPartitionsError):
        admin.create_partitions({'exists': NewPartitions(1)})
    with pytest.raises(UnknownTopicOrPartitionError):
        admin.delete_topics(['never'])
    # validate_only creates nothing.
    resp = admin.create_topics([NewTopic('dry', 1, 1)], validate_only=True)
    assert topic_errors(resp) == [('dry', 0)]
    assert 'dry' not in admin.list_topics()
    (resp,) = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, 'exists',
                                                  configs={'segment.ms': '0'})]),
    assert resp.resources[0][:2] == (40, 'Invalid value 0 for configuration segment.ms: Value must be at least 1')
    (resp,) = admin.alter_configs([ConfigResource(ConfigResourceType.BROKER, '1', configs={'num.partitions': '3'})]),
    assert resp.resources[0][0] == InvalidRequestError.errno


def test_describe_broker_configs(admin):
    (resp,) = admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, '1')])
    ((err, _msg, _rtype, name, entries),) = resp.resources
    assert (err, name) == (0, '1')
    cfg = {e[0]: e for e in entries}
    assert cfg['auto.create.topics.enable'][1:4] == ('true', True, 5)
