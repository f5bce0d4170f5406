"""Topic administration through confluent-kafka-python's AdminClient
(librdkafka 2.0.2: CreateTopics v4, DeleteTopics v1, CreatePartitions v0,
DescribeConfigs v1, AlterConfigs v0, Metadata v4): create with configs,
list, describe configs with sources and synonyms, alter, grow, delete, every
error case with Kafka's error code and message, and a restart that keeps
every topic, config and topic id."""

import signal

import pytest
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

from kafka_wire import Connection

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
TOPIC_AUTHORIZATION_FAILED = 29
TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
INVALID_REPLICATION_FACTOR = 38
INVALID_REPLICA_ASSIGNMENT = 39
INVALID_CONFIG = 40
INVALID_REQUEST = 42

# DescribeConfigs config sources.
DYNAMIC_TOPIC_CONFIG = 1
STATIC_BROKER_CONFIG = 4
DEFAULT_CONFIG = 5


def admin(broker):
    return AdminClient({'bootstrap.servers': broker.bootstrap})


def outcome(futures):
    """{name: None | (error code, message)} of a dict of futures."""
    out = {}
    for key, f in futures.items():
        try:
            f.result(timeout=15)
            out[key] = None
        except KafkaException as e:
            err = e.args[0]
            out[key] = (err.code(), err.str())
    return out


def create(a, *topics, **kw):
    return outcome(a.create_topics(list(topics), request_timeout=15, **kw))


def partition_counts(a):
    md = a.list_topics(timeout=10)
    return {name: len(t.partitions) for name, t in md.topics.items() if not name.startswith('__')}


def topic_configs(a, name):
    res = ConfigResource('topic', name)
    return a.describe_configs([res], request_timeout=15)[res].result(timeout=15)


def topic_ids(broker):
    with Connection(broker.host, broker.port) as c:
        md = c.metadata(12)
    return {t['name']: t['topic_id'] for t in md['topics']}


def test_create_list_describe_alter_grow_delete(broker):
    a = admin(broker)
    assert create(a, NewTopic('orders', 3, 1, config={'retention.ms': '60000', 'cleanup.policy': 'compact'}),
                  NewTopic('events', 1, 1)) == {'orders': None, 'events': None}
    assert partition_counts(a) == {'orders': 3, 'events': 1}

    cfg = topic_configs(a, 'orders')
    assert cfg['retention.ms'].value == '60000'
    assert cfg['retention.ms'].source == DYNAMIC_TOPIC_CONFIG
    assert not cfg['retention.ms'].is_default
    assert cfg['cleanup.policy'].value == 'compact'
    assert cfg['segment.bytes'].value == '1073741824'
    assert cfg['segment.bytes'].source == DEFAULT_CONFIG
    assert cfg['segment.bytes'].is_default
    assert not cfg['segment.bytes'].is_read_only
    assert cfg['message.timestamp.after.max.ms'].value == '3600000'
    assert cfg['compression.type'].value == 'producer'
    assert 'message.downconversion.enable' not in cfg
    assert len(cfg) == 37
    syn = cfg['retention.ms'].synonyms
    assert (syn['retention.ms'].value, syn['retention.ms'].source) == ('60000', DYNAMIC_TOPIC_CONFIG)
    assert 'log.retention.hours' not in syn       # Kafka 4.4: only beside a broker value

    # AlterConfigs replaces every override of the topic.
    res = ConfigResource('topic', 'orders', set_config={'retention.ms': ' 1000 ', 'max.message.bytes': '2048'})
    assert outcome(a.alter_configs([res], request_timeout=15)) == {res: None}
    cfg = topic_configs(a, 'orders')
    assert cfg['retention.ms'].value == '1000'
    assert cfg['max.message.bytes'].value == '2048'
    assert cfg['cleanup.policy'].value == 'delete'
    assert cfg['cleanup.policy'].source == DEFAULT_CONFIG

    assert outcome(a.create_partitions([NewPartitions('orders', 5)], request_timeout=15)) == {'orders': None}
    assert partition_counts(a)['orders'] == 5

    assert outcome(a.delete_topics(['events'], request_timeout=15)) == {'events': None}
    assert partition_counts(a) == {'orders': 5}
    assert not list(broker.data_dir.glob('events-0'))


def test_max_message_bytes_applies_live(broker):
    a = admin(broker)
    assert create(a, NewTopic('small', 1, 1)) == {'small': None}
    res = ConfigResource('topic', 'small', set_config={'max.message.bytes': '200'})
    assert outcome(a.alter_configs([res], request_timeout=15)) == {res: None}
    p = Producer({'bootstrap.servers': broker.bootstrap, 'message.max.bytes': 100000})
    errors = []
    p.produce('small', b'x' * 1000, partition=0, on_delivery=lambda err, msg: errors.append(err))
    p.flush(15)
    p.produce('small', b'y', partition=0, on_delivery=lambda err, msg: errors.append(err))
    p.flush(15)
    assert errors[0] is not None and errors[0].str().startswith('Broker: Message size too large')
    assert errors[1] is None


def test_create_errors(broker):
    a = admin(broker)
    n = max(len(broker.nodes), 1)  # brokers (SKIFF_TEST_BROKERS): a factor of n + 2 and broker n + 1 are refused
    assert create(a, NewTopic('taken', 1, 1), NewTopic('a.b', 1, 1)) == {'taken': None, 'a.b': None}
    got = create(a, NewTopic('taken', 1, 1), NewTopic('bad/name', 1, 1), NewTopic('x' * 250, 1, 1),
                 NewTopic('a_b', 1, 1), NewTopic('rf3', 1, n + 2), NewTopic('zero', 0, 1),
                 NewTopic('badcfg', 1, 1, config={'retention.ms': 'soon'}),
                 NewTopic('unknowncfg', 1, 1, config={'retention.mins': '1'}),
                 NewTopic('small.segments', 1, 1, config={'segment.bytes': '1000'}),
                 NewTopic('assign', 2, replica_assignment=[[1], [n + 1]]),
                 NewTopic('assign2', 1, replica_assignment=[[1, 1]]))
    assert got == {
        'taken': (TOPIC_ALREADY_EXISTS, "Topic 'taken' already exists."),
        'bad/name': (INVALID_TOPIC_EXCEPTION, "Topic name is invalid: 'bad/name' contains one or more characters "
                                              "other than ASCII alphanumerics, '.', '_' and '-'"),
        'x' * 250: (INVALID_TOPIC_EXCEPTION, f"Topic name is invalid: the length of '{'x' * 250}' is longer than "
                                             "the max allowed length 249"),
        'a_b': (INVALID_TOPIC_EXCEPTION, "Topic 'a_b' collides with existing topic: a.b"),
        'rf3': (INVALID_REPLICATION_FACTOR, f'Unable to replicate the partition {n + 2} time(s): The target '
                                            f'replication factor of {n + 2} cannot be reached because only {n} '
                                            'broker(s) are registered or some brokers have all their log '
                                            'directories cordoned.'),
        'zero': (INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.'),
        'badcfg': (INVALID_CONFIG, 'Invalid value soon for configuration retention.ms: Not a number of type LONG'),
        'unknowncfg': (INVALID_CONFIG, 'Unknown topic config name: retention.mins'),
        'small.segments': (INVALID_CONFIG,
                           'Invalid value 1000 for configuration segment.bytes: Value must be at least 1048576'),
        'assign': (INVALID_REPLICA_ASSIGNMENT,
                   f'The manual partition assignment includes broker {n + 1}, but no such broker is registered.'),
        'assign2': (INVALID_REPLICA_ASSIGNMENT,
                    'The manual partition assignment includes the broker 1 more than once.'),
    }
    assert partition_counts(a) == {'taken': 1, 'a.b': 1}


def test_create_defaults_assignment_and_validate_only(start_broker):
    b = start_broker(num_partitions=4)
    a = admin(b)
    assert create(a, NewTopic('dflt', -1, -1), NewTopic('manual', 2, replica_assignment=[[1], [1]])) == \
        {'dflt': None, 'manual': None}
    assert create(a, NewTopic('dry', 2, 1), validate_only=True) == {'dry': None}
    assert create(a, NewTopic('dflt', 1, 1), validate_only=True)['dflt'][0] == TOPIC_ALREADY_EXISTS
    assert partition_counts(a) == {'dflt': 4, 'manual': 2}


def test_create_partitions_errors(broker):
    a = admin(broker)
    assert create(a, NewTopic('grow', 2, 1)) == {'grow': None}
    got = outcome(a.create_partitions([NewPartitions('grow', 2)], request_timeout=15))
    assert got == {'grow': (INVALID_PARTITIONS, 'Topic already has 2 partition(s).')}
    got = outcome(a.create_partitions([NewPartitions('grow', 1)], request_timeout=15))
    assert got == {'grow': (INVALID_PARTITIONS, 'The topic grow currently has 2 partition(s); 1 would not be an '
                                                'increase.')}
    got = outcome(a.create_partitions([NewPartitions('nope', 3)], request_timeout=15))
    assert got['nope'][0] == UNKNOWN_TOPIC_OR_PARTITION
    got = outcome(a.create_partitions([NewPartitions('grow', 4, [[1]])], request_timeout=15))
    assert got == {'grow': (INVALID_REPLICA_ASSIGNMENT, 'Attempted to add 2 additional partition(s), but only 1 '
                                                        'assignment(s) were specified.')}
    got = outcome(a.create_partitions([NewPartitions('grow', 3)], validate_only=True, request_timeout=15))
    assert got == {'grow': None}
    assert partition_counts(a) == {'grow': 2}
    got = outcome(a.create_partitions([NewPartitions('grow', 4, [[1], [1]])], request_timeout=15))
    assert got == {'grow': None}
    assert partition_counts(a) == {'grow': 4}


def test_delete_errors_and_internal_topics(broker):
    a = admin(broker)
    got = outcome(a.delete_topics(['nope'], request_timeout=15))
    assert got['nope'][0] == UNKNOWN_TOPIC_OR_PARTITION
    internal = [name for name in a.list_topics(timeout=10).topics if name.startswith('__')]
    if not internal:
        assert create(a, NewTopic('__consumer_offsets', 1, 1, config={'cleanup.policy': 'compact'})) == \
            {'__consumer_offsets': None}
        internal = ['__consumer_offsets']
    got = outcome(a.delete_topics(internal[:1], request_timeout=15))
    assert got[internal[0]][0] == TOPIC_AUTHORIZATION_FAILED
    assert internal[0] in a.list_topics(timeout=10).topics
    got = outcome(a.create_partitions([NewPartitions(internal[0], 5)], request_timeout=15))
    assert got[internal[0]][0] == TOPIC_AUTHORIZATION_FAILED


def test_alter_and_describe_errors(start_broker):
    b = start_broker(log_retention_ms=120000)
    a = admin(b)
    assert create(a, NewTopic('t', 1, 1)) == {'t': None}
    res = ConfigResource('topic', 't', set_config={'retention.ms': '-5'})
    assert outcome(a.alter_configs([res], request_timeout=15)) == {
        res: (INVALID_CONFIG, 'Invalid value -5 for configuration retention.ms: Value must be at least -1')}
    res = ConfigResource('topic', 't', set_config={'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5'})
    assert outcome(a.alter_configs([res], request_timeout=15)) == {
        res: (INVALID_CONFIG, 'conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)')}
    res = ConfigResource('topic', 'missing', set_config={'retention.ms': '1'})
    assert outcome(a.alter_configs([res], request_timeout=15)) == {
        res: (UNKNOWN_TOPIC_OR_PARTITION, "The topic 'missing' does not exist.")}
    res = ConfigResource('topic', 'missing')
    got = outcome(a.describe_configs([res], request_timeout=15))
    assert got[res][0] == UNKNOWN_TOPIC_OR_PARTITION

    # The broker's keys: the one set on the command line is STATIC_BROKER_CONFIG;
    # only the keys Kafka can change dynamically are not read-only.
    res = ConfigResource('broker', '1')
    cfg = a.describe_configs([res], request_timeout=15)[res].result(timeout=15)
    assert (cfg['log.retention.ms'].value, cfg['log.retention.ms'].source) == ('120000', STATIC_BROKER_CONFIG)
    assert not cfg['log.retention.ms'].is_read_only
    assert (cfg['num.partitions'].value, cfg['num.partitions'].source) == ('1', DEFAULT_CONFIG)
    assert cfg['num.partitions'].is_read_only
    # ... which a topic inherits.
    t = topic_configs(a, 't')['retention.ms']
    assert (t.value, t.source) == ('120000', STATIC_BROKER_CONFIG)
    res = ConfigResource('broker', '1', set_config={'num.partitions': '5'})
    assert outcome(a.alter_configs([res], request_timeout=15)) == {
        res: (INVALID_REQUEST, 'Cannot update these configs dynamically: [num.partitions]')}


def test_restart_keeps_topics_configs_and_ids(broker):
    a = admin(broker)
    assert create(a, NewTopic('keep', 2, 1, config={'retention.bytes': '123456789'})) == {'keep': None}
    assert create(a, NewTopic('gone', 1, 1)) == {'gone': None}
    assert outcome(a.create_partitions([NewPartitions('keep', 3)], request_timeout=15)) == {'keep': None}
    assert outcome(a.delete_topics(['gone'], request_timeout=15)) == {'gone': None}
    ids = topic_ids(broker)
    broker.restart()
    a = admin(broker)
    assert partition_counts(a) == {'keep': 3}
    assert topic_ids(broker) == ids
    cfg = topic_configs(a, 'keep')['retention.bytes']
    assert (cfg.value, cfg.source) == ('123456789', DYNAMIC_TOPIC_CONFIG)


def test_crash_keeps_topics_configs_and_ids(broker):
    a = admin(broker)
    assert create(a, NewTopic('durable', 2, 1, config={'cleanup.policy': 'compact'})) == {'durable': None}
    res = ConfigResource('topic', 'durable', set_config={'cleanup.policy': 'compact', 'segment.ms': '3600000'})
    assert outcome(a.alter_configs([res], request_timeout=15)) == {res: None}
    assert create(a, NewTopic('dropped', 1, 1)) == {'dropped': None}
    assert outcome(a.delete_topics(['dropped'], request_timeout=15)) == {'dropped': None}
    ids = topic_ids(broker)
    broker.stop(sig=signal.SIGKILL, expect=None)
    broker.start(port=broker.port)
    a = admin(broker)
    assert partition_counts(a) == {'durable': 2}
    assert topic_ids(broker) == ids
    cfg = topic_configs(a, 'durable')
    assert (cfg['cleanup.policy'].value, cfg['segment.ms'].value) == ('compact', '3600000')
