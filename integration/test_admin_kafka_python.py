"""Topic administration through kafka-python's KafkaAdminClient (2.0.2:
CreateTopics v3, DeleteTopics v3, CreatePartitions v1, DescribeConfigs v2,
AlterConfigs v1, Metadata v1-5; 3.0.12 from PyPI: the newest versions skiff
serves): create with configs, list, describe, alter, grow, delete, and the
errors it raises with Kafka's codes. kp.py gives both versions' answers one
shape."""

import pytest
from kafka.admin import ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic
from kafka.errors import (InvalidConfigurationError, InvalidPartitionsError, InvalidReplicationFactorError,
                          InvalidRequestError, InvalidTopicError, TopicAlreadyExistsError,
                          UnknownTopicOrPartitionError)
from kp import alter_configs, partition_ids, topic_errors
from kp import configs as kp_configs


@pytest.fixture
def admin(broker):
    a = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=15000)
    yield a
    a.close()


def configs(admin, topic):
    return {k: (value, source) for k, (value, _ro, source) in kp_configs(admin, ConfigResourceType.TOPIC, topic).items()}


def test_create_describe_alter_grow_delete(admin):
    resp = admin.create_topics([NewTopic('kp', 2, 1, topic_configs={'retention.ms': '90000'}),
                                NewTopic('kp2', 1, 1)])
    assert topic_errors(resp) == [('kp', 0), ('kp2', 0)]
    assert {'kp', 'kp2'} <= set(admin.list_topics())
    (meta,) = admin.describe_topics(['kp'])
    assert partition_ids(meta) == [0, 1]

    cfg = configs(admin, 'kp')
    assert cfg['retention.ms'] == ('90000', 1)
    assert cfg['segment.bytes'] == ('1073741824', 5)
    assert len(cfg) == 37

    assert alter_configs(admin, ConfigResourceType.TOPIC, 'kp',
                         {'retention.ms': '1000', 'cleanup.policy': 'compact'}) == (0, None)
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
    assert alter_configs(admin, ConfigResourceType.TOPIC, 'exists', {'segment.ms': '0'}) == \
        (40, 'Invalid value 0 for configuration segment.ms: Value must be at least 1')
    assert alter_configs(admin, ConfigResourceType.BROKER, '1', {'num.partitions': '3'})[0] == InvalidRequestError.errno


def test_describe_broker_configs(admin):
    cfg = kp_configs(admin, ConfigResourceType.BROKER, '1')
    assert cfg['auto.create.topics.enable'] == ('true', True, 5)
