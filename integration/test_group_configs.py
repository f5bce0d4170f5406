"""Per-group configs (KIP-848): DescribeConfigs, IncrementalAlterConfigs and
AlterConfigs on the GROUP resource (ConfigResource type 32), as Kafka 4.4
answers them (the names, types, sources and messages were taken from Kafka
4.4.0 with the same requests: tests/conformance's oracle). The consumer
group protocol applies consumer.heartbeat.interval.ms and
consumer.session.timeout.ms: the next ConsumerGroupHeartbeat answer carries
the group's interval, and a member silent for the group's session timeout is
removed although the broker's is far longer. Overrides survive a restart.

The raw requests go through kfs (skiff's schema files); the AdminClient test
uses confluent-kafka-python (describe_configs and, where the binding has it,
incremental_alter_configs with ResourceType.GROUP)."""

import time
import uuid

import pytest
import confluent_kafka.admin
from confluent_kafka import libversion
from confluent_kafka.admin import AdminClient, ConfigResource

import kafka_wire
import kfs

GROUP = 32
INVALID_CONFIG, INVALID_REQUEST = 40, 42
DEFAULT_CONFIG, STATIC_BROKER_CONFIG, GROUP_CONFIG = 5, 4, 8
BROKER = {'group.consumer.session.timeout.ms': 30000, 'group.consumer.heartbeat.interval.ms': 300}

# What Kafka 4.4.0 describes for a group, in its order: name -> (type, broker synonym)
KAFKA_KEYS = [
    ('consumer.session.timeout.ms', 3, 'group.consumer.session.timeout.ms'),
    ('streams.assignor.name', 2, 'group.streams.assignors'),
    ('consumer.assignment.interval.ms', 3, 'group.consumer.assignment.interval.ms'),
    ('errors.deadletterqueue.copy.record.enable', 1, None),
    ('share.auto.offset.reset', 2, None),
    ('streams.rack.aware.assignment.tags', 7, 'group.streams.rack.aware.assignment.tags'),
    ('share.renew.acknowledge.enable', 1, None),
    ('streams.initial.rebalance.delay.ms', 3, 'group.streams.initial.rebalance.delay.ms'),
    ('share.session.timeout.ms', 3, 'group.share.session.timeout.ms'),
    ('streams.assignment.interval.ms', 3, 'group.streams.assignment.interval.ms'),
    ('share.heartbeat.interval.ms', 3, 'group.share.heartbeat.interval.ms'),
    ('streams.heartbeat.interval.ms', 3, 'group.streams.heartbeat.interval.ms'),
    ('share.delivery.count.limit', 3, 'group.share.delivery.count.limit'),
    ('errors.deadletterqueue.topic.name', 2, None),
    ('consumer.heartbeat.interval.ms', 3, 'group.consumer.heartbeat.interval.ms'),
    ('share.record.lock.duration.ms', 3, 'group.share.record.lock.duration.ms'),
    ('share.assignment.interval.ms', 3, 'group.share.assignment.interval.ms'),
    ('share.isolation.level', 2, None),
    ('streams.session.timeout.ms', 3, 'group.streams.session.timeout.ms'),
    ('share.partition.max.record.locks', 3, 'group.share.partition.max.record.locks'),
    ('streams.num.standby.replicas', 3, 'group.streams.num.standby.replicas'),
]


def call(b, api, version, body):
    with kafka_wire.Connection(b.host, b.port) as c:
        return kfs.call(c, api, version, body)


def describe(b, group, keys=None):
    r = call(b, 32, 4, {'resources': [{'resource_type': GROUP, 'resource_name': group, 'configuration_keys': keys}],
                        'include_synonyms': True})
    (res,) = r['results']
    return res


def incremental(b, group, ops, validate_only=False):
    r = call(b, 44, 1, {'resources': [{'resource_type': GROUP, 'resource_name': group,
                                       'configs': [{'name': n, 'config_operation': op, 'value': v}
                                                   for n, op, v in ops]}],
                        'validate_only': validate_only})
    (res,) = r['responses']
    return res['error_code'], res['error_message']


def alter(b, group, configs):
    r = call(b, 33, 2, {'resources': [{'resource_type': GROUP, 'resource_name': group,
                                       'configs': [{'name': n, 'value': v} for n, v in configs]}]})
    (res,) = r['responses']
    return res['error_code'], res['error_message']


def entry(res, name):
    (e,) = [c for c in res['configs'] if c['name'] == name]
    return e['value'], e['config_source'], [(s['name'], s['value'], s['source']) for s in e['synonyms']]


def heartbeat(b, group, member, epoch=0):
    body = {'group_id': group, 'member_id': member, 'member_epoch': epoch, 'rebalance_timeout_ms': 5000,
            'subscribed_topic_names': ['t'], 'topic_partitions': []}
    if epoch:
        body.update(rebalance_timeout_ms=-1, subscribed_topic_names=None, topic_partitions=None)
    r = call(b, 68, 1, body)
    assert r['error_code'] == 0, r
    return r


def test_describe_lists_kafkas_group_configs(start_broker):
    b = start_broker(config=BROKER)
    res = describe(b, 'no-such-group')
    assert (res['error_code'], res['error_message']) == (0, '')
    assert [(c['name'], c['config_type']) for c in res['configs']] == [(n, t) for n, t, _ in KAFKA_KEYS]
    assert all(not c['read_only'] and not c['is_sensitive'] for c in res['configs'])
    for name, _, syn in KAFKA_KEYS:
        value, source, synonyms = entry(res, name)
        assert synonyms[0][0] == (syn or name)
    # The broker's settings (given on the command line: static) and defaults.
    assert entry(res, 'consumer.heartbeat.interval.ms') == (
        '300', STATIC_BROKER_CONFIG, [('group.consumer.heartbeat.interval.ms', '300', STATIC_BROKER_CONFIG),
                                      ('group.consumer.heartbeat.interval.ms', '500', DEFAULT_CONFIG)])
    assert entry(res, 'share.isolation.level') == (
        'read_uncommitted', DEFAULT_CONFIG, [('share.isolation.level', 'read_uncommitted', DEFAULT_CONFIG)])
    assert entry(res, 'consumer.assignment.interval.ms') == (
        '1000', DEFAULT_CONFIG, [('group.consumer.assignment.interval.ms', '1000', DEFAULT_CONFIG)])
    # Asked-for keys come in the table's order; unknown ones are left out.
    res = describe(b, 'g', ['consumer.heartbeat.interval.ms', 'bogus', 'consumer.session.timeout.ms'])
    assert [c['name'] for c in res['configs']] == ['consumer.session.timeout.ms', 'consumer.heartbeat.interval.ms']
    res = describe(b, '')
    assert (res['error_code'], res['error_message'], res['configs']) == (
        INVALID_REQUEST, 'Group name must not be empty', [])


def test_alter_checks_as_kafka_does(start_broker):
    b = start_broker(config=dict(BROKER, **{'group.consumer.max.heartbeat.interval.ms': 2000}))
    assert incremental(b, 'g', [('consumer.heartbeat.interval.ms', 0, '2001')]) == (
        INVALID_CONFIG, 'consumer.heartbeat.interval.ms must be in the range 100 to 2000 inclusive.')
    assert incremental(b, 'g', [('consumer.session.timeout.ms', 0, '999')]) == (
        INVALID_CONFIG, 'consumer.session.timeout.ms must be in the range 1000 to 60000 inclusive.')
    assert incremental(b, 'g', [('consumer.heartbeat.interval.ms', 0, '0')]) == (
        INVALID_CONFIG, 'Invalid value 0 for configuration consumer.heartbeat.interval.ms: Value must be at least 1')
    assert incremental(b, 'g', [('consumer.heartbeat.interval.ms', 0, 'abc')]) == (
        INVALID_CONFIG, 'Invalid value abc for configuration consumer.heartbeat.interval.ms: Not a number of type INT')
    assert incremental(b, 'g', [('consumer.session.timeout.ms', 0, '1500'),
                                ('consumer.heartbeat.interval.ms', 0, '1500')]) == (
        INVALID_CONFIG, 'consumer.session.timeout.ms must be greater than consumer.heartbeat.interval.ms')
    assert incremental(b, 'g', [('group.consumer.session.timeout.ms', 0, '5000')]) == (
        INVALID_CONFIG, 'Unknown group config name: group.consumer.session.timeout.ms')
    assert incremental(b, 'g', [('consumer.session.timeout.ms', 2, '5000')]) == (
        INVALID_CONFIG, "Can't APPEND to key consumer.session.timeout.ms because its type is not LIST.")
    assert incremental(b, 'g', [('share.delivery.count.limit', 0, '11')]) == (
        INVALID_CONFIG, 'share.delivery.count.limit must be in the range 2 to 10 inclusive.')
    assert incremental(b, 'g', [('share.auto.offset.reset', 0, 'by_duration:PT1H')]) == (0, None)
    assert incremental(b, '', [('consumer.session.timeout.ms', 0, '5000')]) == (
        INVALID_REQUEST, 'Default group resources are not allowed.')
    # validate_only changes nothing; nothing failed was kept.
    assert incremental(b, 'g', [('consumer.session.timeout.ms', 0, '5000')], validate_only=True) == (0, None)
    value, source, _ = entry(describe(b, 'g'), 'consumer.session.timeout.ms')
    assert (value, source) == ('30000', STATIC_BROKER_CONFIG)
    assert entry(describe(b, 'g'), 'share.auto.offset.reset')[:2] == ('by_duration:PT1H', GROUP_CONFIG)


def test_heartbeat_interval_and_session_timeout_apply_and_persist(start_broker):
    b = start_broker(config=BROKER)
    member = uuid.uuid4().hex
    assert heartbeat(b, 'g', member)['heartbeat_interval_ms'] == 300
    assert incremental(b, 'g', [('consumer.heartbeat.interval.ms', 0, '1200')]) == (0, None)
    assert entry(describe(b, 'g'), 'consumer.heartbeat.interval.ms') == (
        '1200', GROUP_CONFIG, [('consumer.heartbeat.interval.ms', '1200', GROUP_CONFIG),
                               ('group.consumer.heartbeat.interval.ms', '300', STATIC_BROKER_CONFIG),
                               ('group.consumer.heartbeat.interval.ms', '500', DEFAULT_CONFIG)])
    assert heartbeat(b, 'g', member, 1)['heartbeat_interval_ms'] == 1200
    assert heartbeat(b, 'other', uuid.uuid4().hex)['heartbeat_interval_ms'] == 300

    b.restart()
    assert entry(describe(b, 'g'), 'consumer.heartbeat.interval.ms')[:2] == ('1200', GROUP_CONFIG)
    assert heartbeat(b, 'g', uuid.uuid4().hex)['heartbeat_interval_ms'] == 1200

    # AlterConfigs replaces the whole set; DELETE falls back to the broker's.
    assert alter(b, 'g', [('consumer.session.timeout.ms', '1000')]) == (0, None)
    assert entry(describe(b, 'g'), 'consumer.heartbeat.interval.ms')[:2] == ('300', STATIC_BROKER_CONFIG)
    assert entry(describe(b, 'g'), 'consumer.session.timeout.ms')[:2] == ('1000', GROUP_CONFIG)

    # A member silent for the group's 1 s session timeout is removed (the
    # broker's is 30 s).
    member = uuid.uuid4().hex
    heartbeat(b, 'g2', member)
    assert incremental(b, 'g2', [('consumer.session.timeout.ms', 0, '1000')]) == (0, None)
    heartbeat(b, 'g2', member, 1)
    deadline = time.monotonic() + 15
    while True:
        (g,) = call(b, 69, 1, {'group_ids': ['g2']})['groups']
        if not g['members'] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert g['members'] == [], 'the member outlived the group session timeout'
    assert incremental(b, 'g', [('consumer.session.timeout.ms', 1, None)]) == (0, None)
    assert entry(describe(b, 'g'), 'consumer.session.timeout.ms')[:2] == ('30000', STATIC_BROKER_CONFIG)


@pytest.mark.librdkafka
@pytest.mark.skipif(libversion()[1] < 0x020a0000,
                    reason=f'librdkafka {libversion()[0]} sends GROUP as type 3 (2.10+ maps it to 32)')
def test_admin_client_group_configs(start_broker):
    """confluent-kafka-python's AdminClient with ResourceType.GROUP (librdkafka
    2.10+ maps it to ConfigResource type 32)."""
    b = start_broker(config=BROKER)
    admin = AdminClient({'bootstrap.servers': b.bootstrap})
    # ResourceType (confluent-kafka 1.8+), ConfigResource.Type before.
    group = getattr(confluent_kafka.admin, 'ResourceType', ConfigResource.Type).GROUP
    if hasattr(admin, 'incremental_alter_configs'):
        from confluent_kafka.admin import AlterConfigOpType, ConfigEntry
        res = ConfigResource(group, 'ga', incremental_configs=[
            ConfigEntry('consumer.heartbeat.interval.ms', '700',
                        incremental_operation=AlterConfigOpType.SET)])
        admin.incremental_alter_configs([res])[res].result(timeout=30)
    else:
        assert incremental(b, 'ga', [('consumer.heartbeat.interval.ms', 0, '700')]) == (0, None)
    res = ConfigResource(group, 'ga')
    configs = admin.describe_configs([res])[res].result(timeout=30)
    assert sorted(configs) == sorted(n for n, _, _ in KAFKA_KEYS)
    assert configs['consumer.heartbeat.interval.ms'].value == '700'
    assert configs['consumer.session.timeout.ms'].value == '30000'
    assert heartbeat(b, 'ga', uuid.uuid4().hex)['heartbeat_interval_ms'] == 700
