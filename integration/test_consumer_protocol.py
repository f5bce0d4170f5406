"""The KIP-848 consumer group protocol through librdkafka 2.15
(confluent-kafka-python with group.protocol=consumer): the broker assigns
(uniform by default, range on request), members reconcile incrementally
(revoke before assign: a partition is never owned by two members at once).

Three members share a six-partition topic two each; one leaves and one is
SIGKILLed and two new members replace them, and no member ever gives up a
partition it ends with; committed offsets (OffsetCommit/OffsetFetch v9 with
member epochs) resume after the consumers restart and after skiff
restarts; members keep their assignment across a skiff restart (the group
is replayed from __consumer_offsets); a static member (group.instance.id)
that closes comes back to the same partitions; AdminClient lists and
describes the group as a consumer group (ListGroups v5, ConsumerGroupDescribe,
through the raw client).

Marked librdkafka: scripts/test.sh runs these in its librdkafka 2.15 stage;
under Debian's librdkafka 2.0.2, which has no KIP-848, they are skipped."""

import json
import signal
import subprocess
import sys
import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition, libversion
from confluent_kafka.admin import AdminClient, NewTopic

import kafka_wire
import kfs
from control import Control

TIMEOUT = 30.0
SESSION_MS = 3000   # the broker's group.consumer.session.timeout.ms in these tests
BROKER = {'group.consumer.session.timeout.ms': SESSION_MS, 'group.consumer.heartbeat.interval.ms': 300}

pytestmark = [
    pytest.mark.librdkafka,
    pytest.mark.skipif(libversion()[1] < 0x020c0000,
                       reason=f'librdkafka {libversion()[0]} has no KIP-848 consumer protocol (2.12+)'),
]


def create_topic(bootstrap, name, partitions):
    admin = AdminClient({'bootstrap.servers': bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(timeout=TIMEOUT)


def produce(bootstrap, topic, n, partitions):
    """n records, value b'<i>', round robin over the partitions."""
    p = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 5})
    for i in range(n):
        p.produce(topic, value=b'%d' % i, partition=i % partitions)
    assert p.flush(TIMEOUT) == 0


def conf(bootstrap, group, **extra):
    c = {'bootstrap.servers': bootstrap, 'group.id': group, 'group.protocol': 'consumer',
         'enable.auto.commit': False, 'auto.offset.reset': 'earliest', 'fetch.wait.max.ms': 100}
    c.update({k.replace('_', '.'): v for k, v in extra.items()})
    return c


class Member:
    """A consumer-protocol member polled by the test's thread; `assigned`
    follows its (incremental) rebalance callbacks, `revoked` collects every
    partition it ever gave up."""

    def __init__(self, bootstrap, group, topic='t', **extra):
        self.consumer = Consumer(conf(bootstrap, group, **extra))
        self.assigned = set()
        self.revoked = set()
        self.records = []
        self.consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke,
                                on_lost=self._on_revoke)

    def _on_assign(self, consumer, parts):
        self.assigned |= {p.partition for p in parts}

    def _on_revoke(self, consumer, parts):
        gone = {p.partition for p in parts}
        self.assigned -= gone
        self.revoked |= gone

    def poll(self):
        m = self.consumer.poll(0.05)
        if m is not None and not m.error():
            self.records.append(m)
        elif m is not None:
            assert m.error().code() == KafkaError._PARTITION_EOF, m.error()

    def close(self):
        self.consumer.close()


def poll_until(members, cond, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in members:
            m.poll()
            exclusive(members)
        if cond():
            return
    raise AssertionError(f'{what}: assignments {[sorted(m.assigned) for m in members]}')


def exclusive(members):
    """No partition is owned by two members at once."""
    seen = set()
    for m in members:
        assert not (m.assigned & seen), [sorted(x.assigned) for x in members]
        seen |= m.assigned


def settled(members):
    """Forgets the revocations of the group's formation (the first member
    takes every partition, then gives some up to the next ones)."""
    for m in members:
        m.revoked = set()


def balanced(members, each, partitions=6, extra=lambda: []):
    def cond():
        got = [m.assigned for m in members] + extra()
        return all(len(a) == each for a in got) and set().union(*got) == set(range(partitions))
    return cond


CHILD = r'''
import json, os, sys
from confluent_kafka import Consumer
conf = json.loads(sys.argv[1])
path = sys.argv[2]
c = Consumer(conf)
owned = set()
def write():
    with open(path + '.tmp', 'w') as f:
        json.dump(sorted(owned), f)
    os.replace(path + '.tmp', path)
def on_assign(consumer, parts):
    owned.update(p.partition for p in parts)
    write()
def on_revoke(consumer, parts):
    owned.difference_update(p.partition for p in parts)
    write()
c.subscribe(['t'], on_assign=on_assign, on_revoke=on_revoke)
while True:
    c.poll(0.1)
'''


def test_three_members_leave_kill_and_replacements(start_broker, tmp_path):
    b = start_broker(config=BROKER)
    create_topic(b.bootstrap, 't', 6)
    path = tmp_path / 'child.json'
    child = subprocess.Popen([sys.executable, '-c', CHILD, json.dumps(conf(b.bootstrap, 'g3')), str(path)])
    members = [Member(b.bootstrap, 'g3') for _ in range(2)]
    everyone = list(members)

    def theirs():
        return [set(json.loads(path.read_text())) if path.exists() else set()]

    try:
        poll_until(members, balanced(members, 2, extra=theirs), 'three members, two partitions each')
        settled(members)
        killed = theirs()[0]
        for m in members:
            assert not (m.assigned & killed)
        # Nothing moves while everyone heartbeats.
        before = [set(m.assigned) for m in members]
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            for m in members:
                m.poll()
        assert [m.assigned for m in members] == before
        assert not any(m.revoked for m in members)

        # One leaves (epoch -1), one is killed (its session expires), two replace them.
        members.pop().close()
        child.send_signal(signal.SIGKILL)
        child.wait(TIMEOUT)
        members += [Member(b.bootstrap, 'g3') for _ in range(2)]
        everyone += members[1:]
        poll_until(members, balanced(members, 2), 'the survivor and two new members, two partitions each')
        # No member gave up a partition it ends with (incremental: no churn).
        for m in members:
            assert not (m.revoked & m.assigned), (sorted(m.revoked), sorted(m.assigned))
        # The killed member's partitions moved only once its session expired.
        assert 'removed: session timeout expired' in b.log
        assert 'left the group' in b.log
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for m in members:
            m.close()


def test_range_assignor(start_broker):
    """group.remote.assignor=range: the broker runs its range assignor (how
    ranges fall when members join one by one is unit-tested)."""
    b = start_broker(config=BROKER)
    create_topic(b.bootstrap, 't', 6)
    members = [Member(b.bootstrap, 'gr', group_remote_assignor='range') for _ in range(3)]
    try:
        poll_until(members, balanced(members, 2), 'three members, two partitions each')
        with kafka_wire.Connection(b.host, b.port) as conn:
            (g,) = kfs.call(conn, 69, 1, {'group_ids': ['gr']})['groups']
            assert (g['error_code'], g['assignor_name']) == (0, 'range')
    finally:
        for m in members:
            m.close()


def test_regex_subscription_picks_up_a_later_topic(start_broker):
    """subscribe(['^rx.*']) sends SubscribedTopicRegex (v1); the broker
    matches whole topic names (RE2/J's matches()) on every heartbeat, so a
    topic created later joins the assignment, and 'rxa' alone is not 'rx'."""
    b = start_broker(config=BROKER)
    create_topic(b.bootstrap, 'rx1', 2)
    create_topic(b.bootstrap, 'other', 2)
    m = Member(b.bootstrap, 'gx', topic='^rx.*')
    seen = set()

    def assigned_topics():
        seen.update(m.consumer.assignment())
        return {(tp.topic, tp.partition) for tp in m.consumer.assignment()}

    try:
        poll_until([m], lambda: assigned_topics() == {('rx1', 0), ('rx1', 1)}, 'rx1 assigned')
        create_topic(b.bootstrap, 'rx2', 1)
        poll_until([m], lambda: assigned_topics() == {('rx1', 0), ('rx1', 1), ('rx2', 0)}, 'rx2 assigned too')
        assert not any(tp.topic == 'other' for tp in seen)
        with kafka_wire.Connection(b.host, b.port) as conn:
            (g,) = kfs.call(conn, 69, 1, {'group_ids': ['gx']})['groups']
            (mem,) = g['members']
            # librdkafka joins its patterns as (p1)|(p2)
            assert (mem['subscribed_topic_regex'], mem['subscribed_topic_names']) == ('(^rx.*)', [])
    finally:
        m.close()


def consume_committing(member, n, timeout=TIMEOUT):
    """Polls until n records; commits each synchronously (OffsetCommit v9
    with the member epoch). Returns their values."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        m = member.consumer.poll(0.1)
        if m is None or m.error():
            continue
        member.consumer.commit(message=m, asynchronous=False)
        got.append(int(m.value()))
    assert len(got) == n, got
    return got


def test_commits_resume_after_consumer_and_broker_restart(start_broker):
    b = start_broker(config=BROKER)
    create_topic(b.bootstrap, 't', 2)
    produce(b.bootstrap, 't', 40, 2)
    seen = []
    m = Member(b.bootstrap, 'gc')
    try:
        seen += consume_committing(m, 10)
    finally:
        m.close()
    m = Member(b.bootstrap, 'gc')
    try:
        seen += consume_committing(m, 10)
        committed = m.consumer.committed([TopicPartition('t', p) for p in range(2)], timeout=TIMEOUT)
        assert sum(max(tp.offset, 0) for tp in committed) == 20
    finally:
        m.close()
    b.restart()
    m = Member(b.bootstrap, 'gc')
    try:
        seen += consume_committing(m, 20)
    finally:
        m.close()
    assert sorted(seen) == list(range(40))


def test_members_keep_assignment_across_broker_restart(start_broker):
    b = start_broker(config=BROKER)
    create_topic(b.bootstrap, 't', 6)
    members = [Member(b.bootstrap, 'gp') for _ in range(2)]
    try:
        poll_until(members, balanced(members, 3), 'two members, three partitions each')
        settled(members)
        before = [set(m.assigned) for m in members]
        b.restart()
        end = time.monotonic() + 3
        while time.monotonic() < end:
            for m in members:
                m.poll()
        assert [m.assigned for m in members] == before
        assert not any(m.revoked for m in members)
        assert 'loaded 1 groups with 2 members' in b.log
    finally:
        for m in members:
            m.close()


def test_static_member_comes_back_to_its_partitions(start_broker):
    b = start_broker(config=BROKER)
    create_topic(b.bootstrap, 't', 6)
    members = [Member(b.bootstrap, 'gs', group_instance_id=f'i{k}') for k in range(2)]
    try:
        poll_until(members, balanced(members, 3), 'two static members, three partitions each')
        settled(members)
        mine = set(members[1].assigned)
        members.pop().close()   # static leave: epoch -2, the partitions stay its
        end = time.monotonic() + 1
        while time.monotonic() < end:
            members[0].poll()
        assert len(members[0].assigned) == 3
        members.append(Member(b.bootstrap, 'gs', group_instance_id='i1'))
        poll_until(members, balanced(members, 3), 'the static member is back')
        assert members[1].assigned == mine
        assert not members[0].revoked
        assert 'static member with instance id i1 rejoins' in b.log
    finally:
        for m in members:
            m.close()


def test_list_and_describe_consumer_group(start_broker):
    """ListGroups v5 with the type filter and ConsumerGroupDescribe v1, through
    the schema-driven raw client (Debian's confluent-kafka-python 1.7 has no
    admin call for them)."""
    b = start_broker(config=BROKER)
    create_topic(b.bootstrap, 't', 6)
    members = [Member(b.bootstrap, 'gd') for _ in range(2)]
    try:
        poll_until(members, balanced(members, 3), 'two members, three partitions each')
        with kafka_wire.Connection(b.host, b.port) as conn:
            r = kfs.call(conn, 16, 5, {'types_filter': ['Consumer']})
            assert [(g['group_id'], g['protocol_type'], g['group_state'], g['group_type']) for g in r['groups']] == \
                [('gd', 'consumer', 'Stable', 'consumer')]
            assert kfs.call(conn, 16, 5, {'types_filter': ['classic']})['groups'] == []
            r = kfs.call(conn, 69, 1, {'group_ids': ['gd', 'nope'], 'include_authorized_operations': True})
            gd, nope = r['groups']
            assert (gd['error_code'], gd['group_state'], gd['assignor_name']) == (0, 'Stable', 'uniform')
            assert gd['group_epoch'] == gd['assignment_epoch'] == 2
            # READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS, as Kafka 4.4 answers
            assert gd['authorized_operations'] == (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11)
            got = []
            for mem in gd['members']:
                assert mem['member_epoch'] == 2 and mem['member_type'] == 1
                assert mem['subscribed_topic_names'] == ['t']
                assert mem['assignment'] == mem['target_assignment']
                (tp,) = mem['assignment']['topic_partitions']
                assert tp['topic_name'] == 't'
                got.append(sorted(tp['partitions']))
            assert sorted(got) == sorted(sorted(m.assigned) for m in members)
            assert (nope['error_code'], nope['group_state']) == (69, '')  # GROUP_ID_NOT_FOUND, as Kafka
            assert nope['error_message'] == 'Group nope not found.'
            # DescribeGroups v5 describes it as Kafka does below v6: Dead, no members.
            (dg,) = kfs.call(conn, 15, 5, {'groups': ['gd']})['groups']
            assert (dg['error_code'], dg['group_state'], dg['members']) == (0, 'Dead', [])
    finally:
        for m in members:
            m.close()


def test_consumer_group_on_three_brokers_and_a_coordinator_move(start_broker):
    """With skiff.cluster.brokers=3 the group's heartbeats go to its
    coordinator (another broker gets NOT_COORDINATOR); after the coordinator
    moves, the members find the new one and the group stays as it was."""
    b = start_broker(config=dict(BROKER, **{'skiff.cluster.brokers': 3, 'offsets.topic.num.partitions': 6}))
    create_topic(b.bootstrap, 't', 6)
    produce(b.bootstrap, 't', 60, 6)
    members = [Member(b.bootstrap_all, 'g-cluster') for _ in range(3)]
    try:
        poll_until(members, balanced(members, 2), 'three members on three brokers, two partitions each')
        host, port = b.nodes[1]
        with kafka_wire.Connection(host, port) as c:
            found = kfs.call(c, 10, 4, {'key_type': 0, 'coordinator_keys': ['g-cluster']})['coordinators'][0]
        coordinator = found['node_id']
        other = next(n for n in (1, 2, 3) if n != coordinator)
        hb = {'group_id': 'g-cluster', 'member_id': 'm', 'member_epoch': 0, 'rebalance_timeout_ms': 5000,
              'subscribed_topic_names': ['t'], 'topic_partitions': []}
        host, port = b.nodes[other]
        with kafka_wire.Connection(host, port) as c:
            assert kfs.call(c, 68, 0, hb)['error_code'] == 16  # NOT_COORDINATOR
        settled(members)
        before = [set(m.assigned) for m in members]
        status, body = Control(b.http_url).post('/v1/cluster/groups/g-cluster/coordinator', {'node_id': other})
        assert status == 200, body
        poll_until(members, lambda: sum(len(m.records) for m in members) >= 60, 'every record consumed')
        assert [m.assigned for m in members] == before
        assert all(not m.revoked for m in members)
    finally:
        for m in members:
            m.close()
