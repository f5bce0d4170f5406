"""Group offset administration through each client's admin API (issue 7).

- kafkajs 2.2.4 (integration/js/group_admin.js): fetchOffsets, setOffsets
  (the group must be empty: kafkajs checks with DescribeGroups, then joins
  with a consumer of its own and commits with its generation), resetOffsets
  (earliest -2, latest -1, resolved with fetchOffsets' resolveOffsets),
  describeGroups, listGroups, deleteGroups (NON_EMPTY_GROUP 68,
  GROUP_ID_NOT_FOUND 69); a consumer started afterwards reads from the
  offsets set.
- kafka-python's KafkaAdminClient (2.0.2: list_consumer_group_offsets,
  describe_consumer_groups, delete_consumer_groups; 3.0.12: list_group_offsets,
  describe_groups, delete_groups, through kp.py) on a kafkajs group. 2.0.2 has
  no alter_consumer_group_offsets (that came with kafka-python 2.1), so
  offsets are altered the way its users do it: a KafkaConsumer with assign()
  commits with generation -1, which an active group refuses.
- confluent-kafka-python's AdminClient list_groups (1.7 has nothing newer).
  Its list/alter/delete consumer group offsets and delete_consumer_groups
  came in 1.9 and 2.0; offsets are altered with Consumer.commit after assign().
- OffsetCommit without a generation on the wire, as Kafka's classic group
  coordinator (ClassicGroup.validateOffsetCommit) answers it: accepted while
  the group is Empty; UNKNOWN_MEMBER_ID (25) without a member id or with an
  unknown one or an unknown group instance id while it has members,
  ILLEGAL_GENERATION (22) for a known member; REBALANCE_IN_PROGRESS (27) for
  the member's own generation while CompletingRebalance."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from client_versions import LIBRDKAFKA
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from kafka import KafkaAdminClient, KafkaConsumer
from kafka import TopicPartition as KTopicPartition
from kafka.errors import CommitFailedError, GroupIdNotFoundError, NoError, NonEmptyGroupError
from kp import KP3, delete_groups, describe_group, group_offsets, list_groups, offset_and_metadata, timeouts

from test_groups import create_topic, produce
from test_groups_wire import OFFSET_COMMIT, OFFSET_FETCH, Body, call, connect, join, sync
from test_kafkajs_groups import KafkajsConsumers

JS_DIR = Path(__file__).resolve().parent / 'js'
TIMEOUT = 30.0
CLIENT_TIMEOUT_MS = 10000
NONE, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS = 0, 22, 25, 27
NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND = 68, 69
STILL_RUNNING = 'The consumer group must have no running instances, current state: Stable'


def run_group_admin(broker, steps):
    if not (JS_DIR / 'node_modules' / 'kafkajs').is_dir():
        pytest.fail('kafkajs is not installed: run `npm ci` in integration/js (scripts/test.sh does)')
    res = subprocess.run(['node', str(JS_DIR / 'group_admin.js')],
                         input=json.dumps({'brokers': [broker.bootstrap], 'steps': steps}),
                         capture_output=True, text=True, timeout=120, env=dict(os.environ), cwd=JS_DIR)
    assert res.returncode == 0, f'group_admin.js exited {res.returncode}:\n{res.stderr}'
    return json.loads(res.stdout)['results']


def step(op, args=None):
    return {'op': op, 'args': args}


def offsets(result, topic='at'):
    """fetchOffsets' answer as {partition: offset}; every metadata is null."""
    (t,) = result['ok']
    assert t['topic'] == topic
    assert {p['metadata'] for p in t['partitions']} == {None}
    return {p['partition']: int(p['offset']) for p in t['partitions']}


def fetch(group, topic='at', **kw):
    return step('fetchOffsets', {'groupId': group, 'topics': [topic], **kw})


def test_kafkajs_admin_group_offsets(start_broker):
    b = start_broker()
    create_topic(b.bootstrap, 'at', 3)
    produce(b.bootstrap, 'at', 30, 3)
    r = run_group_admin(b, [
        fetch('ga'),                                                                        # 0
        step('setOffsets', {'groupId': 'ga', 'topic': 'at',
                            'partitions': [{'partition': 0, 'offset': '3'}, {'partition': 2, 'offset': '7'}]}),
        fetch('ga'),                                                                        # 2
        step('describeGroups', ['ga']),
        step('listGroups'),                                                                 # 4
        step('consumer.start', {'name': 'c1', 'groupId': 'ga', 'topic': 'at'}),
        step('consumer.wait', {'name': 'c1', 'count': 20}),                                 # 6
        step('describeGroups', ['ga']),
        step('setOffsets', {'groupId': 'ga', 'topic': 'at', 'partitions': [{'partition': 0, 'offset': '1'}]}),
        step('resetOffsets', {'groupId': 'ga', 'topic': 'at'}),                             # 9
        step('deleteGroups', ['ga']),
        step('consumer.stop', {'name': 'c1'}),                                              # 11
        fetch('ga'),
        step('resetOffsets', {'groupId': 'ga', 'topic': 'at', 'earliest': True}),           # 13
        fetch('ga'),
        step('resetOffsets', {'groupId': 'ga', 'topic': 'at'}),                             # 15
        fetch('ga'),
        fetch('ga', resolveOffsets=True),                                                   # 17
        fetch('ga'),
        step('deleteGroups', ['ga', 'nope']),                                               # 19
        step('deleteGroups', ['nope']),
        step('listGroups'),                                                                 # 21
        step('describeGroups', ['ga']),
        fetch('ga'),                                                                        # 23
    ])
    # An unknown group has no offsets (-1), without an error.
    assert offsets(r[0]) == {0: -1, 1: -1, 2: -1}
    assert r[1] == {'ok': None}
    assert offsets(r[2]) == {0: 3, 1: -1, 2: 7}
    # setOffsets' consumer left: an empty consumer group.
    assert r[3] == {'ok': {'groups': [{'errorCode': 0, 'groupId': 'ga', 'state': 'Empty', 'protocolType': 'consumer',
                                       'protocol': '', 'members': []}]}}
    assert r[4] == {'ok': {'groups': [{'groupId': 'ga', 'protocolType': 'consumer'}]}}

    # A consumer of the group reads from the offsets set (partition 1 from
    # the beginning), and the group is Stable with it.
    assert r[5] == {'ok': {'at': [0, 1, 2]}}
    assert r[6] == {'ok': 20}
    (g,) = r[7]['ok']['groups']
    (m,) = g.pop('members')
    assert g == {'errorCode': 0, 'groupId': 'ga', 'state': 'Stable', 'protocolType': 'consumer',
                 'protocol': 'RoundRobinAssigner'}
    assert (m['clientId'], m['clientHost'], m['memberAssignment']) == \
        ('skiff-it-group-admin', '/127.0.0.1', {'at': [0, 1, 2]})
    assert m['memberId'].startswith('skiff-it-group-admin-')
    assert (m['memberMetadata']['version'], m['memberMetadata']['topics']) == (0, ['at'])

    # While it runs: kafkajs refuses to set or reset offsets, and the broker
    # refuses to delete the group.
    assert r[8] == {'error': {'name': 'KafkaJSNonRetriableError', 'message': STILL_RUNNING}}
    assert r[9] == {'error': {'name': 'KafkaJSNonRetriableError', 'message': STILL_RUNNING}}
    assert r[10] == {'error': {'name': 'KafkaJSDeleteGroupsError', 'message': 'Error in DeleteGroups',
                               'groups': [{'groupId': 'ga', 'errorCode': NON_EMPTY_GROUP, 'type': 'NON_EMPTY_GROUP'}]}}
    assert r[11] == {'ok': {'0': list(range(3, 10)), '1': list(range(10)), '2': list(range(7, 10))}}
    assert offsets(r[12]) == {0: 10, 1: 10, 2: 10}

    # resetOffsets commits Kafka's special offsets; resolveOffsets turns
    # latest (-1) into the high watermarks and commits them.
    assert r[13] == {'ok': None}
    assert offsets(r[14]) == {0: -2, 1: -2, 2: -2}
    assert r[15] == {'ok': None}
    assert offsets(r[16]) == {0: -1, 1: -1, 2: -1}
    assert offsets(r[17]) == {0: 10, 1: 10, 2: 10}
    assert offsets(r[18]) == {0: 10, 1: 10, 2: 10}

    # Deleting: the empty group goes, the unknown one is GROUP_ID_NOT_FOUND.
    not_found = {'error': {'name': 'KafkaJSDeleteGroupsError', 'message': 'Error in DeleteGroups',
                           'groups': [{'groupId': 'nope', 'errorCode': GROUP_ID_NOT_FOUND,
                                       'type': 'GROUP_ID_NOT_FOUND'}]}}
    assert r[19] == not_found
    assert r[20] == not_found
    assert r[21] == {'ok': {'groups': []}}
    assert r[22] == {'ok': {'groups': [{'errorCode': 0, 'groupId': 'ga', 'state': 'Dead', 'protocolType': '',
                                        'protocol': '', 'members': []}]}}
    assert offsets(r[23]) == {0: -1, 1: -1, 2: -1}
    assert 'group ga: deleting it with 3 committed offsets (DeleteGroups)' in b.log


def kp_admin(bootstrap):
    return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=CLIENT_TIMEOUT_MS,
                            **timeouts(CLIENT_TIMEOUT_MS))


def kp_commit(bootstrap, group, offsets):
    """Commits like a kafka-python consumer using assign(): OffsetCommit v2
    with generation -1 and no member id."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                      **timeouts(CLIENT_TIMEOUT_MS))
    try:
        c.assign(list(offsets))
        c.commit({tp: offset_and_metadata(o, '') for tp, o in offsets.items()})
    finally:
        c.close()


def test_kafka_python_admin_on_a_kafkajs_group(start_broker):
    assert KP3 or not hasattr(KafkaAdminClient, 'alter_consumer_group_offsets')  # kafka-python 2.0.2
    b = start_broker()
    create_topic(b.bootstrap, 'kt', 2)
    produce(b.bootstrap, 'kt', 10, 2)
    tp0, tp1 = KTopicPartition('kt', 0), KTopicPartition('kt', 1)
    admin = kp_admin(b.bootstrap)
    js = KafkajsConsumers(b)
    try:
        js.start('c1', 'kj', ['kt'])
        js.wait_messages('c1', 10)
        js.wait_committed('c1', {('kt', 0): 5, ('kt', 1): 5})

        assert ('kj', 'consumer') in list_groups(admin)
        info = describe_group(admin, 'kj')
        assert (info.group, info.state, info.protocol_type, info.protocol) == \
            ('kj', 'Stable', 'consumer', 'RoundRobinAssigner')
        (member,) = info.members
        assert (member.member_id, member.client_id, member.client_host) == \
            (js.of('c1', 'join')[0]['memberId'], 'skiff-it-c1', '/127.0.0.1')
        assert member.subscription == ['kt']
        assert [(t, sorted(ps)) for t, ps in member.assignment] == [('kt', [0, 1])]

        assert group_offsets(admin, 'kj') == {tp0: (5, ''), tp1: (5, '')}
        assert group_offsets(admin, 'kj', partitions=[tp1]) == {tp1: (5, '')}
        assert delete_groups(admin, ['kj']) == [('kj', NonEmptyGroupError)]
        # An assign()-mode commit (generation -1) on the active group: Kafka
        # answers UNKNOWN_MEMBER_ID, which kafka-python reports this way.
        with pytest.raises(CommitFailedError):
            kp_commit(b.bootstrap, 'kj', {tp0: 2})
        js.stop('c1')

        # Empty now: the same commit alters the group's offset.
        kp_commit(b.bootstrap, 'kj', {tp0: 2})
        assert group_offsets(admin, 'kj') == {tp0: (2, ''), tp1: (5, '')}
        # The group's next kafkajs consumer resumes there.
        js.start('c2', 'kj', ['kt'])
        got = js.wait_messages('c2', 3)
        assert sorted((m.partition, m.offset) for m in got) == [(0, 2), (0, 3), (0, 4)]
        js.stop('c2')
    finally:
        js.close()

    assert delete_groups(admin, ['kj', 'never']) == [('kj', NoError), ('never', GroupIdNotFoundError)]
    assert group_offsets(admin, 'kj') == {}
    assert list_groups(admin) == []
    admin.close()


def confluent_commit(bootstrap, group, offsets):
    """Commits like a librdkafka consumer using assign() (generation -1)."""
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False})
    try:
        c.assign([TopicPartition(t, p) for t, p, _ in offsets])
        return c.commit(offsets=[TopicPartition(t, p, o) for t, p, o in offsets], asynchronous=False)
    finally:
        c.close()


def test_confluent_admin_list_groups_and_commits(start_broker):
    if LIBRDKAFKA != 'pypi':        # Debian's confluent-kafka-python 1.7, under either librdkafka
        for api in ('list_consumer_groups', 'describe_consumer_groups', 'delete_consumer_groups',
                    'list_consumer_group_offsets', 'alter_consumer_group_offsets'):
            assert not hasattr(AdminClient, api), api
    b = start_broker()
    create_topic(b.bootstrap, 'ct', 2)
    produce(b.bootstrap, 'ct', 4, 2)
    admin = AdminClient({'bootstrap.servers': b.bootstrap})
    js = KafkajsConsumers(b)
    try:
        js.start('c1', 'cj', ['ct'])
        js.wait_messages('c1', 4)
        # A simple group, made by a commit with generation -1.
        res = confluent_commit(b.bootstrap, 'simple', [('ct', 0, 1)])
        assert [(tp.topic, tp.partition, tp.offset, tp.error) for tp in res] == [('ct', 0, 1, None)]

        groups = {g.id: g for g in admin.list_groups(timeout=TIMEOUT)}
        assert sorted(groups) == ['cj', 'simple']
        cj = groups['cj']
        assert (cj.state, cj.protocol_type, cj.protocol, cj.error) == ('Stable', 'consumer', 'RoundRobinAssigner', None)
        (member,) = cj.members
        assert (member.id, member.client_id, member.client_host) == \
            (js.of('c1', 'join')[0]['memberId'], 'skiff-it-c1', '/127.0.0.1')
        # ConsumerProtocol v0 subscription and assignment, as kafkajs writes them.
        assert member.metadata == b'\x00\x00' + b'\x00\x00\x00\x01\x00\x02ct' + b'\x00\x00\x00\x00'
        assert member.assignment == b'\x00\x00' + b'\x00\x00\x00\x01\x00\x02ct' + \
            b'\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x01' + b'\x00\x00\x00\x00'
        simple = groups['simple']
        assert (simple.state, simple.protocol_type, simple.protocol, simple.members) == ('Empty', '', '', [])
        (one,) = admin.list_groups('cj', timeout=TIMEOUT)
        assert one.id == 'cj'
        assert admin.list_groups('nope', timeout=TIMEOUT) == []

        with pytest.raises(KafkaException) as e:
            confluent_commit(b.bootstrap, 'cj', [('ct', 1, 0)])
        assert e.value.args[0].code() == UNKNOWN_MEMBER_ID
        js.stop('c1')
        res = confluent_commit(b.bootstrap, 'cj', [('ct', 1, 0)])
        assert [(tp.partition, tp.offset, tp.error) for tp in res] == [(1, 0, None)]
        js.start('c2', 'cj', ['ct'])
        assert sorted((m.partition, m.offset) for m in js.wait_messages('c2', 2)) == [(1, 0), (1, 1)]
        js.stop('c2')
    finally:
        js.close()
    (cj,) = admin.list_groups('cj', timeout=TIMEOUT)
    assert (cj.state, cj.members) == ('Empty', [])


def commit(c, version, group, generation, member, instance=None, offset=5):
    """OffsetCommit of partition wt-0; returns its error code."""
    b = Body(OFFSET_COMMIT, version).str(group)
    b.w.i32(generation)
    b.str(member)
    if version >= 7:
        b.str(instance)
    if 2 <= version <= 4:
        b.i64(-1)

    def partition(p):
        b.w.i32(p)
        b.i64(offset)
        if version >= 6:
            b.w.i32(-1)
        b.str('')
    b.array([('wt', [0])], lambda t: (b.str(t[0]), b.array(t[1], partition)))
    r = call(c, OFFSET_COMMIT, version, b.done())
    if version >= 3:
        assert r.r.i32() == 0
    (answer,) = r.array(lambda: (r.str(), r.array(lambda: (r.r.i32(), r.r.i16()))))
    r.done()
    assert answer[0] == 'wt'
    ((_, err),) = answer[1]
    return err


def committed(c, group):
    b = Body(OFFSET_FETCH, 1).str(group)
    b.array([('wt', [0])], lambda t: (b.str(t[0]), b.w.i32(1), b.w.i32(0)))
    r = call(c, OFFSET_FETCH, 1, b.done())
    ((_, ((_, offset, _, err),)),) = r.array(lambda: (r.str(), r.array(lambda: (r.r.i32(), r.i64(), r.str(),
                                                                                  r.r.i16()))))
    r.done()
    assert err == NONE
    return offset


def test_offset_commit_without_generation_follows_kafka(broker):
    with connect(broker) as c:
        c.metadata(4, ['wt'])
        first = join(c, 5, 'wg', '')
        member = join(c, 5, 'wg', first['member_id'])['member_id']
        # CompletingRebalance: the member's own generation waits for the sync.
        assert commit(c, 2, 'wg', 1, member) == REBALANCE_IN_PROGRESS
        assert commit(c, 2, 'wg', -1, '') == UNKNOWN_MEMBER_ID
        assert sync(c, 3, 'wg', 1, member, [(member, b'')])['error_code'] == NONE
        # Stable with a member: a commit without generation and member id
        # (an admin client, an assign() consumer) is refused at every version.
        for version in (2, 5, 7, 8):
            assert commit(c, version, 'wg', -1, '') == UNKNOWN_MEMBER_ID, version
        assert commit(c, 8, 'wg', -1, 'ghost') == UNKNOWN_MEMBER_ID
        assert commit(c, 8, 'wg', -1, '', instance='nobody') == UNKNOWN_MEMBER_ID
        assert commit(c, 8, 'wg', -1, member) == ILLEGAL_GENERATION
        assert committed(c, 'wg') == -1
        assert commit(c, 8, 'wg', 1, member, offset=3) == NONE
        assert committed(c, 'wg') == 3
        # Once the member has left, the group is Empty and takes it.
        b = Body(13, 1).str('wg').str(member)
        r = call(c, 13, 1, b.done())
        assert (r.r.i32(), r.r.i16()) == (0, NONE)
        r.done()
        assert commit(c, 2, 'wg', -1, '', offset=9) == NONE
        assert committed(c, 'wg') == 9
        # Deleting: the empty group goes, then it is unknown.
        for err in (NONE, GROUP_ID_NOT_FOUND):
            r = call(c, 42, 1, Body(42, 1).strings(['wg']).done())
            assert r.r.i32() == 0
            assert r.array(lambda: (r.str(), r.r.i16())) == [('wg', err)]
            r.done()
