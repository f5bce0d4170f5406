"""Consumer groups through librdkafka (confluent-kafka-python), each through
its ordinary API: three consumers share a six-partition topic two partitions
each with the range, roundrobin and cooperative-sticky assignors; the others
take over the partitions of one that closes, and of one killed with SIGKILL
once its session times out; static members come back without a rebalance,
also after a broker restart; every message is consumed exactly once across
rebalances; offsets committed with commit() are read back with committed()
and survive a restart; AdminClient.list_groups describes the group. Marked
librdkafka: scripts/test.sh runs them again under librdkafka 2.15.

Consumers poll in this one thread, round robin, except those that commit
synchronously: a commit waits behind its consumer's own JoinGroup on the
coordinator connection (in Kafka too), so each of them polls in its own
thread. A member's partitions are tracked from its rebalance callbacks
(incremental ones for cooperative-sticky)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT = 30.0      # seconds any one step may take
SESSION_MS = 6000   # session.timeout.ms of the consumers (the broker's minimum)
ASSIGNORS = ['range', 'roundrobin', 'cooperative-sticky']

# Also run under librdkafka 2.15 (SKIFF_LIBRDKAFKA=recent, scripts/test.sh):
# OffsetCommit v9, OffsetFetch v9, flexible DescribeGroups and ListGroups.
pytestmark = pytest.mark.librdkafka


def create_topic(bootstrap, name, partitions):
    admin = AdminClient({'bootstrap.servers': bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(timeout=TIMEOUT)


def produce(bootstrap, topic, n, partitions):
    """n records, value b'<i>', round robin over the partitions."""
    p = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 5, 'acks': 'all'})
    for i in range(n):
        p.produce(topic, value=b'%d' % i, partition=i % partitions)
        p.poll(0)
    assert p.flush(TIMEOUT) == 0


def consumer_conf(bootstrap, group, assignor='range', **extra):
    conf = {'bootstrap.servers': bootstrap, 'group.id': group, 'partition.assignment.strategy': assignor,
            'session.timeout.ms': SESSION_MS, 'heartbeat.interval.ms': 300, 'enable.auto.commit': False,
            'auto.offset.reset': 'earliest', 'fetch.wait.max.ms': 100, 'topic.metadata.refresh.interval.ms': 1000}
    conf.update({k.replace('_', '.'): v for k, v in extra.items()})
    return conf


class Member:
    """A group consumer; `assigned` follows its rebalance callbacks. With
    `commit_each`, every record is committed before the next poll."""

    def __init__(self, bootstrap, group, topic, assignor='range', commit_each=False, **extra):
        self.consumer = Consumer(consumer_conf(bootstrap, group, assignor, **extra))
        self.incremental = assignor == 'cooperative-sticky'
        self.assigned = set()
        self.assigns = 0
        self.revokes = 0
        self.records = []
        self.uncommitted = []   # values whose commit a rebalance refused
        self.commit_each = commit_each
        self.consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke)

    def _on_assign(self, consumer, parts):
        got = {p.partition for p in parts}
        self.assigns += 1
        self.assigned = self.assigned | got if self.incremental else got

    def _on_revoke(self, consumer, parts):
        self.revokes += 1
        self.assigned = self.assigned - {p.partition for p in parts} if self.incremental else set()

    def poll(self):
        m = self.consumer.poll(0.05)
        if m is None:
            return
        if m.error():
            assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
            return
        self.records.append((m.partition(), m.offset(), m.value()))
        if self.commit_each:
            self._commit(m)

    def _commit(self, m):
        # A commit that lands during a rebalance is refused by Kafka too:
        # REBALANCE_IN_PROGRESS between JoinGroup and SyncGroup,
        # ILLEGAL_GENERATION when it crossed the JoinGroup answer. The client
        # must poll to complete the rebalance (a retry loop without polling
        # deadlocks it), so the record stays uncommitted and may be consumed
        # again by the partition's next owner.
        try:
            self.consumer.commit(message=m, asynchronous=False)
        except KafkaException as e:
            if e.args[0].code() not in (KafkaError.REBALANCE_IN_PROGRESS, KafkaError.ILLEGAL_GENERATION):
                raise
            self.uncommitted.append(m.value())

    def close(self):
        self.consumer.close()


class ThreadedMember(Member):
    """A Member polling in its own thread until closed."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            super().poll()

    def poll(self):
        time.sleep(0.01)

    def close(self):
        self.stop.set()
        self.thread.join(TIMEOUT)
        super().close()


def poll_until(members, cond, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in members:
            m.poll()
        if cond():
            return
    raise AssertionError(f'{what}: assignments {[sorted(m.assigned) for m in members]}')


def balanced(members, each, partitions=6):
    """Every member has `each` partitions and together they cover all."""
    def cond():
        got = [m.assigned for m in members]
        return all(len(a) == each for a in got) and set().union(*got) == set(range(partitions))
    return cond


@pytest.mark.parametrize('assignor', ASSIGNORS)
def test_three_consumers_share_then_one_closes(start_broker, assignor):
    b = start_broker()
    create_topic(b.bootstrap, 't', 6)
    group = f'g-{assignor}'
    members = [Member(b.bootstrap, group, 't', assignor) for _ in range(3)]
    try:
        poll_until(members, balanced(members, 2), 'three members, two partitions each')
        # The assignment holds: nothing moves while everyone heartbeats.
        before = [set(m.assigned) for m in members]
        end = time.monotonic() + 2
        while time.monotonic() < end:
            for m in members:
                m.poll()
        assert [m.assigned for m in members] == before
        members.pop().close()
        poll_until(members, balanced(members, 3), 'two members take over the third one\'s partitions')
    finally:
        for m in members:
            m.close()
    assert 'group g-%s: Stable -> PreparingRebalance' % assignor in b.log


CHILD = r'''
import json, os, sys
from confluent_kafka import Consumer
conf = json.loads(sys.argv[1])
path = sys.argv[2]
c = Consumer(conf)
def on_assign(consumer, parts):
    with open(path + '.tmp', 'w') as f:
        json.dump(sorted(p.partition for p in parts), f)
    os.replace(path + '.tmp', path)
c.subscribe(['t'], on_assign=on_assign)
while True:
    c.poll(0.1)
'''


def test_killed_consumer_is_evicted_after_session_timeout(start_broker, tmp_path):
    b = start_broker()
    create_topic(b.bootstrap, 't', 6)
    members = [Member(b.bootstrap, 'gk', 't') for _ in range(2)]
    path = tmp_path / 'child-assignment.json'
    child = subprocess.Popen([sys.executable, '-c', CHILD, json.dumps(consumer_conf(b.bootstrap, 'gk')), str(path)])
    try:
        def three_ways():
            theirs = set(json.loads(path.read_text())) if path.exists() else set()
            ours = [m.assigned for m in members]
            return all(len(a) == 2 for a in ours + [theirs]) and set().union(theirs, *ours) == set(range(6))
        poll_until(members, three_ways, 'three members, two partitions each')
        child.send_signal(signal.SIGKILL)
        child.wait(TIMEOUT)
        killed = time.monotonic()
        poll_until(members, balanced(members, 3), 'the killed member\'s partitions move')
        took = time.monotonic() - killed
        # The broker waits for the session to expire (less the time since
        # the last heartbeat), then the others rejoin within a heartbeat.
        assert SESSION_MS / 1000 - 1.0 <= took <= SESSION_MS / 1000 + 5.0, took
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for m in members:
            m.close()
    assert f'(session timeout {SESSION_MS} ms), removing it' in b.log


@pytest.mark.parametrize('assignor', ['range', 'cooperative-sticky'])
def test_every_message_consumed_exactly_once_across_rebalances(start_broker, assignor):
    b = start_broker()
    create_topic(b.bootstrap, 't', 6)
    n = 600
    produce(b.bootstrap, 't', n, 6)
    members = [ThreadedMember(b.bootstrap, 'gx', 't', assignor, commit_each=True) for _ in range(2)]
    everyone = list(members)

    def consumed(k):
        return lambda: sum(len(m.records) for m in everyone) >= k

    try:
        poll_until(members, consumed(150), '150 records')
        members.append(ThreadedMember(b.bootstrap, 'gx', 't', assignor, commit_each=True))
        everyone.append(members[-1])
        poll_until(members, consumed(300), '300 records')
        members.pop(0).close()
        poll_until(members, consumed(n), f'{n} records')
        end = time.monotonic() + 2
        while time.monotonic() < end:
            for m in members:
                m.poll()
    finally:
        for m in members:
            m.close()
    values = sorted(int(v) for m in everyone for _, _, v in m.records)
    # Exactly once, but for records whose commit a rebalance refused.
    again = {int(v) for m in everyone for v in m.uncommitted}
    assert sorted(set(values)) == list(range(n))
    assert {v for v in values if values.count(v) > 1} <= again
    c = Consumer(consumer_conf(b.bootstrap, 'gx'))
    try:
        committed = c.committed([TopicPartition('t', p) for p in range(6)], timeout=TIMEOUT)
        assert [tp.offset for tp in committed] == [n // 6] * 6
    finally:
        c.close()


def test_commit_and_committed_survive_restart(start_broker):
    b = start_broker()
    create_topic(b.bootstrap, 't', 3)
    c = Consumer(consumer_conf(b.bootstrap, 'gc'))
    try:
        unknown = c.committed([TopicPartition('t', 0)], timeout=TIMEOUT)
        assert [(tp.partition, tp.offset) for tp in unknown] == [(0, -1001)]
        res = c.commit(offsets=[TopicPartition('t', 0, 5), TopicPartition('t', 2, 9)], asynchronous=False)
        assert [(tp.partition, tp.offset, tp.error) for tp in res] == [(0, 5, None), (2, 9, None)]
        got = c.committed([TopicPartition('t', p) for p in range(3)], timeout=TIMEOUT)
        assert [(tp.partition, tp.offset) for tp in got] == [(0, 5), (1, -1001), (2, 9)]
        # An unknown topic's partition is refused per partition.
        with pytest.raises(Exception) as e:
            c.commit(offsets=[TopicPartition('nope', 0, 1)], asynchronous=False)
        assert 'UNKNOWN_TOPIC_OR_PART' in str(e.value)
    finally:
        c.close()
    b.restart()
    c = Consumer(consumer_conf(b.bootstrap, 'gc'))
    try:
        got = c.committed([TopicPartition('t', p) for p in range(3)], timeout=TIMEOUT)
        assert [(tp.partition, tp.offset) for tp in got] == [(0, 5), (1, -1001), (2, 9)]
    finally:
        c.close()


def test_deleted_topic_takes_its_committed_offsets_along(start_broker):
    """Deleting a topic removes every group's offsets of it, with tombstones
    (Kafka's onPartitionsDeleted): a topic created again under the name
    starts without them, also after a restart; other topics keep theirs."""
    b = start_broker()
    create_topic(b.bootstrap, 'gone', 2)
    create_topic(b.bootstrap, 'kept', 1)
    for group in ('gd1', 'gd2'):
        c = Consumer(consumer_conf(b.bootstrap, group))
        try:
            offsets = [TopicPartition('gone', 0, 7), TopicPartition('gone', 1, 3), TopicPartition('kept', 0, 4)]
            assert all(tp.error is None for tp in c.commit(offsets=offsets, asynchronous=False))
        finally:
            c.close()
    admin = AdminClient({'bootstrap.servers': b.bootstrap})
    admin.delete_topics(['gone'])['gone'].result(timeout=TIMEOUT)
    create_topic(b.bootstrap, 'gone', 2)

    def committed(group):
        c = Consumer(consumer_conf(b.bootstrap, group))
        try:
            got = c.committed([TopicPartition('gone', 0), TopicPartition('gone', 1), TopicPartition('kept', 0)],
                              timeout=TIMEOUT)
            return [(tp.topic, tp.partition, tp.offset) for tp in got]
        finally:
            c.close()

    want = [('gone', 0, -1001), ('gone', 1, -1001), ('kept', 0, 4)]
    assert committed('gd1') == want and committed('gd2') == want
    b.restart()
    assert committed('gd1') == want and committed('gd2') == want


def test_consumer_resumes_where_it_committed_after_restart(start_broker):
    b = start_broker()
    create_topic(b.bootstrap, 't', 2)
    produce(b.bootstrap, 't', 20, 2)
    m = ThreadedMember(b.bootstrap, 'gr', 't', commit_each=True)
    try:
        poll_until([m], lambda: len(m.records) >= 20, '20 records')
    finally:
        m.close()
    b.restart()
    produce(b.bootstrap, 't', 10, 2)
    m = ThreadedMember(b.bootstrap, 'gr', 't', commit_each=True)
    try:
        poll_until([m], lambda: len(m.records) >= 10, '10 new records')
        end = time.monotonic() + 1
        while time.monotonic() < end:
            m.poll()
    finally:
        m.close()
    assert sorted(int(v) for _, _, v in m.records) == list(range(10))
    assert sorted(o for _, o, _ in m.records) == sorted([10, 11, 12, 13, 14] * 2)


def test_static_members_return_without_rebalance(start_broker):
    b = start_broker()
    create_topic(b.bootstrap, 't', 6)
    s1 = Member(b.bootstrap, 'gs', 't', group_instance_id='s1')
    s2 = Member(b.bootstrap, 'gs', 't', group_instance_id='s2')
    try:
        poll_until([s1, s2], balanced([s1, s2], 3), 'two static members')
        mine = set(s2.assigned)
        revokes = s1.revokes
        # A static member closes without LeaveGroup (KIP-345) and comes back
        # within its session: same partitions, and the other one notices nothing.
        s2.close()
        s2 = Member(b.bootstrap, 'gs', 't', group_instance_id='s2')
        poll_until([s1, s2], lambda: s2.assigned == mine, 's2 gets its partitions back')
        end = time.monotonic() + 2
        while time.monotonic() < end:
            s1.poll()
            s2.poll()
        assert s1.revokes == revokes
    finally:
        s1.close()
        s2.close()
    assert 'static member s2 rejoins in Stable' in b.log
    # After a broker restart the static members are still known.
    b.restart()
    s1 = Member(b.bootstrap, 'gs', 't', group_instance_id='s1')
    try:
        poll_until([s1], lambda: len(s1.assigned) == 3, 's1 after a restart')
    finally:
        s1.close()
    assert 'loaded 1 groups with 2 members' in b.run_log
    assert 'PreparingRebalance' not in b.run_log


def test_admin_list_groups(start_broker):
    b = start_broker()
    create_topic(b.bootstrap, 't', 2)
    m = Member(b.bootstrap, 'ga', 't', client_id='lister')
    try:
        poll_until([m], lambda: len(m.assigned) == 2, 'one member')
        admin = AdminClient({'bootstrap.servers': b.bootstrap})
        groups = {g.id: g for g in admin.list_groups(timeout=TIMEOUT)}
        g = groups['ga']
        assert (g.state, g.protocol_type, g.protocol) == ('Stable', 'consumer', 'range')
        (member,) = g.members
        assert member.client_id == 'lister'
        assert member.client_host == '/127.0.0.1'
        assert member.id.startswith('lister-')
        (one,) = admin.list_groups('ga', timeout=TIMEOUT)
        assert one.id == 'ga'
    finally:
        m.close()
    (gone,) = AdminClient({'bootstrap.servers': b.bootstrap}).list_groups('ga', timeout=TIMEOUT)
    assert (gone.state, gone.members) == ('Empty', [])
