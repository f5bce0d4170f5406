"""Consumer groups through kafka-python (2.0.2: JoinGroup v2, SyncGroup v1,
OffsetCommit v2, OffsetFetch v1; 3.0.12 from PyPI: newer versions): KafkaConsumer joins a group, consumes,
commits with metadata and reads it back with committed(); a second consumer
splits the partitions with it; KafkaAdminClient lists, describes, reads the
offsets of and deletes groups (NON_EMPTY_GROUP while members remain). Offsets
committed by librdkafka are read by kafka-python and the other way round."""

import threading
import time

from confluent_kafka import Consumer
from confluent_kafka import TopicPartition as CTopicPartition
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import GroupIdNotFoundError, NoError, NonEmptyGroupError
from kp import delete_groups, describe_group, group_offsets, list_groups, offset_and_metadata, timeouts

from test_groups import TIMEOUT, create_topic, produce

CLIENT_TIMEOUT_MS = 10000


def kp_consumer(bootstrap, group, topic):
    """A consumer subscribed to `topic` whose metadata knows the topic before
    it joins. kafka-python 3.0.12 may otherwise lead the first generation
    with no partitions, rejoin at once, and sometimes never apply the second
    generation's SyncGroup answer (seen here: the answer arrives and is
    logged, the assignment stays empty and heartbeats stop)."""
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, client_id='kp',
                      auto_offset_reset='earliest', enable_auto_commit=False, session_timeout_ms=6000,
                      heartbeat_interval_ms=300, request_timeout_ms=CLIENT_TIMEOUT_MS + 1000,
                      **timeouts(CLIENT_TIMEOUT_MS), metadata_max_age_ms=1000)
    assert c.partitions_for_topic(topic)
    return c


def poll_until(consumers, cond, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    got = []
    while time.monotonic() < deadline:
        for c in consumers:
            for recs in c.poll(timeout_ms=50).values():
                got.extend(recs)
        if cond(got):
            return got
    raise AssertionError(f'{what}: {[c.assignment() for c in consumers]}')


class Poller(threading.Thread):
    """Polls a KafkaConsumer in its own thread: kafka-python rejoins a group
    only inside poll(), which blocks while its own JoinGroup is parked."""

    def __init__(self, consumer):
        super().__init__(daemon=True)
        self.consumer = consumer
        self.stop = threading.Event()
        self.start()

    def run(self):
        while not self.stop.is_set():
            self.consumer.poll(timeout_ms=50)

    def close(self):
        self.stop.set()
        self.join(TIMEOUT)
        self.consumer.close()


def wait_for(cond, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(what)


def admin_client(bootstrap):
    return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=CLIENT_TIMEOUT_MS,
                            **timeouts(CLIENT_TIMEOUT_MS))


def test_kafka_python_group_consume_commit_committed(start_broker):
    b = start_broker()
    create_topic(b.bootstrap, 'kt', 4)
    produce(b.bootstrap, 'kt', 40, 4)
    c1 = kp_consumer(b.bootstrap, 'kp', 'kt')
    try:
        got = poll_until([c1], lambda got: len(got) >= 40, 'one consumer reads everything')
        assert sorted(int(r.value) for r in got) == list(range(40))
        assert c1.assignment() == {TopicPartition('kt', p) for p in range(4)}
        c1.commit({TopicPartition('kt', 0): offset_and_metadata(10, 'kp-meta'),
                   TopicPartition('kt', 1): offset_and_metadata(3, None)})
        assert c1.committed(TopicPartition('kt', 0)) == 10
        assert c1.committed(TopicPartition('kt', 1)) == 3
        assert c1.committed(TopicPartition('kt', 2)) is None

    finally:
        c1.close()

    # Two members, each polled in its own thread: two partitions each.
    p1 = Poller(kp_consumer(b.bootstrap, 'kp', 'kt'))
    p2 = Poller(kp_consumer(b.bootstrap, 'kp', 'kt'))
    try:
        a1, a2 = p1.consumer.assignment, p2.consumer.assignment
        wait_for(lambda: len(a1()) == 2 and len(a2()) == 2 and a1() | a2() == {TopicPartition('kt', p) for p in range(4)},
                 'two members, two partitions each')
    finally:
        p1.close()
        p2.close()

    # librdkafka reads what kafka-python committed, metadata included.
    c = Consumer({'bootstrap.servers': b.bootstrap, 'group.id': 'kp'})
    try:
        tps = c.committed([CTopicPartition('kt', p) for p in range(2)], timeout=TIMEOUT)
        assert [tp.offset for tp in tps] == [10, 3]
        c.commit(offsets=[CTopicPartition('kt', 3, 33)], asynchronous=False)
    finally:
        c.close()
    c = kp_consumer(b.bootstrap, 'kp', 'kt')
    try:
        assert c.committed(TopicPartition('kt', 3)) == 33
    finally:
        c.close()


def test_kafka_python_admin_groups(start_broker):
    b = start_broker()
    create_topic(b.bootstrap, 'at', 2)
    produce(b.bootstrap, 'at', 4, 2)
    admin = admin_client(b.bootstrap)
    c = kp_consumer(b.bootstrap, 'ag', 'at')
    try:
        poll_until([c], lambda got: len(got) >= 4, 'the member reads')
        c.commit({TopicPartition('at', 0): offset_and_metadata(2, 'm0'), TopicPartition('at', 1): offset_and_metadata(1, '')})

        assert ('ag', 'consumer') in list_groups(admin)
        info = describe_group(admin, 'ag')
        assert (info.group, info.state, info.protocol_type, info.protocol) == ('ag', 'Stable', 'consumer', 'range')
        (member,) = info.members
        assert (member.client_id, member.client_host) == ('kp', '/127.0.0.1')
        assert member.member_id.startswith('kp-')
        assert sorted(member.subscription) == ['at']
        assert [(t, sorted(ps)) for t, ps in member.assignment] == [('at', [0, 1])]

        assert group_offsets(admin, 'ag') == {TopicPartition('at', 0): (2, 'm0'), TopicPartition('at', 1): (1, '')}
        assert delete_groups(admin, ['ag']) == [('ag', NonEmptyGroupError)]
    finally:
        c.close()

    info = describe_group(admin, 'ag')
    assert (info.state, info.members) == ('Empty', [])
    assert delete_groups(admin, ['ag', 'never']) == [('ag', NoError), ('never', GroupIdNotFoundError)]
    assert 'ag' not in [g for g, _ in list_groups(admin)]
    assert group_offsets(admin, 'ag') == {}
    assert describe_group(admin, 'ag').state == 'Dead'
    admin.close()
