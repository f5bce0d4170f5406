"""DescribeTopicPartitions v0 (key 75, KIP-966) through raw requests
(kafka_wire): paging with a small response_partition_limit and the cursor,
every topic when the list is empty, unknown and invalid names, a cursor
outside the requested topics, the internal flag, and topic ids equal to
Metadata v12's. No installed client sends this API (Java's admin client
does from 3.8), so the bytes are written here from Kafka's
DescribeTopicPartitions{Request,Response}.json; the cursor is a nullable
struct: an int8 marker (-1 null, 1 present), then the struct."""

import pytest

from kafka_wire import Connection, Reader, Writer

pytestmark = pytest.mark.smoke

DESCRIBE_TOPIC_PARTITIONS = 75
CREATE_TOPICS = 19

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
INVALID_REQUEST = 42
ZERO_UUID = bytes(16)
# READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS.
TOPIC_OPERATIONS = sum(1 << op for op in (3, 4, 5, 6, 7, 8, 10, 11))
OPERATIONS_NOT_REQUESTED = -2**31


def send_describe(conn, topics, limit=2000, cursor=None):
    """Sends the request; topics: names, cursor: None or (topic, partition)."""
    w = Writer().array_len(len(topics), compact=True)
    for name in topics:
        w.string(name, compact=True).empty_tags()
    w.i32(limit)
    if cursor is None:
        w.i8(-1)
    else:
        w.i8(1).string(cursor[0], compact=True).i32(cursor[1]).empty_tags()
    return conn.send(DESCRIBE_TOPIC_PARTITIONS, 0, w.empty_tags().bytes(), flexible=True)


def decode_describe(frame, correlation_id):
    """Returns (topics, next_topic_partition); topics as dicts with Kafka's
    field names, next_topic_partition None or (topic, partition)."""
    r = Reader(frame)
    assert r.i32() == correlation_id
    assert r.tags() == {}

    def int32():
        return r.i32()

    def partition():
        p = {'error_code': r.i16(), 'partition_index': r.i32(), 'leader_id': r.i32(),
             'leader_epoch': r.i32(), 'replica_nodes': r.array(int32, True),
             'isr_nodes': r.array(int32, True),
             'eligible_leader_replicas': r.array(int32, True, nullable=True),
             'last_known_elr': r.array(int32, True, nullable=True),
             'offline_replicas': r.array(int32, True)}
        assert r.tags() == {}
        return p

    def topic():
        t = {'error_code': r.i16(), 'name': r.string(True, nullable=True), 'topic_id': r.uuid(),
             'is_internal': r.bool(), 'partitions': r.array(partition, True),
             'topic_authorized_operations': r.i32()}
        assert r.tags() == {}
        return t

    assert r.i32() == 0  # throttle_time_ms
    topics = r.array(topic, True)
    marker = r.i8()
    cursor = None
    if marker >= 0:
        assert marker == 1
        cursor = (r.string(True), r.i32())
        assert r.tags() == {}
    assert r.tags() == {}
    r.done()
    return topics, cursor


def describe(broker, topics, limit=2000, cursor=None):
    with Connection(broker.host, broker.port) as c:
        cid = send_describe(c, topics, limit, cursor)
        return decode_describe(c.recv_frame(), cid)


def pages(topics):
    """{name: [partition indexes]} of one response."""
    return {t['name']: [p['partition_index'] for p in t['partitions']] for t in topics}


def create_topics(broker, topics):
    """CreateTopics v4 (plain encoding): topics {name: partitions}."""
    w = Writer().array_len(len(topics))
    for name, partitions in topics.items():
        w.string(name).i32(partitions).i16(1).array_len(0).array_len(0)
    w.i32(30000).bool(False)
    with Connection(broker.host, broker.port) as c:
        cid = c.send(CREATE_TOPICS, 4, w.bytes(), flexible=False)
        r = Reader(c.recv_frame())
    assert r.i32() == cid
    assert r.i32() == 0

    def result():
        return r.string(), r.i16(), r.string(nullable=True)
    got = r.array(result)
    r.done()
    assert sorted((name, err) for name, err, _ in got) == sorted((name, NONE) for name in topics)


SIZES = {'dtp-a': 2, 'dtp-b': 3, 'dtp-c': 4}


@pytest.fixture
def sized(start_broker):
    """A broker with node id 7 and topics of 2, 3 and 4 partitions."""
    b = start_broker(node_id=7, auto_create_topics_enable=False)
    create_topics(b, SIZES)
    return b


def test_pages_through_topics_with_a_small_limit(sized):
    names = ['dtp-c', 'dtp-a', 'dtp-b']
    topics, cursor = describe(sized, names, limit=4)
    assert [t['name'] for t in topics] == ['dtp-a', 'dtp-b']
    assert pages(topics) == {'dtp-a': [0, 1], 'dtp-b': [0, 1]}
    assert cursor == ('dtp-b', 2)

    topics, cursor = describe(sized, names, limit=4, cursor=cursor)
    assert [t['name'] for t in topics] == ['dtp-b', 'dtp-c']
    assert pages(topics) == {'dtp-b': [2], 'dtp-c': [0, 1, 2]}
    assert cursor == ('dtp-c', 3)

    topics, cursor = describe(sized, names, limit=4, cursor=cursor)
    assert pages(topics) == {'dtp-c': [3]}
    assert cursor is None

    for t in topics:
        assert (t['error_code'], t['is_internal'], t['topic_authorized_operations']) == (
            NONE, False, TOPIC_OPERATIONS)
    assert topics[0]['partitions'][0] == {
        'error_code': NONE, 'partition_index': 3, 'leader_id': 7, 'leader_epoch': 0,
        'replica_nodes': [7], 'isr_nodes': [7], 'eligible_leader_replicas': [], 'last_known_elr': [],
        'offline_replicas': []}


def test_one_page_when_everything_fits(sized):
    topics, cursor = describe(sized, ['dtp-b', 'dtp-a', 'dtp-c'])
    assert pages(topics) == {'dtp-a': [0, 1], 'dtp-b': [0, 1, 2], 'dtp-c': [0, 1, 2, 3]}
    assert [t['name'] for t in topics] == ['dtp-a', 'dtp-b', 'dtp-c']
    assert cursor is None


def test_limit_used_up_at_the_end_of_a_topic_points_at_the_next(sized):
    topics, cursor = describe(sized, ['dtp-a', 'dtp-b', 'dtp-c'], limit=5)
    assert pages(topics) == {'dtp-a': [0, 1], 'dtp-b': [0, 1, 2]}
    assert cursor == ('dtp-c', 0)
    # The next topic need not exist: the cursor names it all the same.
    topics, cursor = describe(sized, ['dtp-a', 'nope'], limit=2)
    assert pages(topics) == {'dtp-a': [0, 1]}
    assert cursor == ('nope', 0)


def test_limit_zero_and_negative(sized):
    assert describe(sized, ['dtp-b', 'dtp-a'], limit=0) == ([], ('dtp-a', 0))
    assert describe(sized, ['dtp-b', 'dtp-a'], limit=-1) == ([], None)


def test_empty_list_is_every_topic_with_metadata_ids(sized):
    topics, cursor = describe(sized, [])
    assert cursor is None
    with Connection(sized.host, sized.port) as c:
        md = c.metadata(12)['topics']
    assert [t['name'] for t in topics] == sorted(t['name'] for t in md)
    assert {n: (t['topic_id'], t['is_internal'], len(t['partitions'])) for n, t in
            ((t['name'], t) for t in topics)} == {
        t['name']: (t['topic_id'], t['is_internal'], len(t['partitions'])) for t in md}
    assert all(t['topic_id'] != ZERO_UUID for t in topics)
    assert {n: len(p) for n, p in pages(topics).items() if n in SIZES} == SIZES

    # With a cursor and no list: from the cursor's topic and partition on.
    topics, cursor = describe(sized, [], limit=3, cursor=('dtp-b', 1))
    assert pages(topics) == {'dtp-b': [1, 2], 'dtp-c': [0]}
    assert cursor == ('dtp-c', 1)


def test_unknown_and_invalid_topics(sized):
    topics, cursor = describe(sized, ['nope', 'dtp-a', 'bad/name', 'dtp-a', 'nope'], limit=3)
    assert cursor is None
    assert [(t['name'], t['error_code']) for t in topics] == [
        ('bad/name', INVALID_TOPIC_EXCEPTION), ('dtp-a', NONE), ('nope', UNKNOWN_TOPIC_OR_PARTITION)]
    for t in (topics[0], topics[2]):
        assert (t['topic_id'], t['is_internal'], t['partitions'], t['topic_authorized_operations']) == (
            ZERO_UUID, False, [], TOPIC_OPERATIONS)
    # An unknown topic takes nothing from the limit.
    topics, cursor = describe(sized, ['dtp-0', 'dtp-b'], limit=3)
    assert pages(topics) == {'dtp-0': [], 'dtp-b': [0, 1, 2]}
    assert cursor is None


def test_cursor_outside_the_requested_topics_is_invalid_request(sized):
    for cursor in (('dtp-c', 0), ('dtp-0', 0)):
        topics, next_cursor = describe(sized, ['dtp-b', 'dtp-a', 'dtp-b'], cursor=cursor)
        assert next_cursor is None
        assert [(t['name'], t['error_code'], t['topic_id'], t['is_internal'], t['partitions'],
                 t['topic_authorized_operations']) for t in topics] == [
            (name, INVALID_REQUEST, ZERO_UUID, False, [], OPERATIONS_NOT_REQUESTED)
            for name in ('dtp-b', 'dtp-a', 'dtp-b')]


def test_cursor_past_the_last_partition(sized):
    topics, cursor = describe(sized, ['dtp-a', 'dtp-b'], cursor=('dtp-a', 9))
    assert pages(topics) == {'dtp-a': [], 'dtp-b': [0, 1, 2]}
    assert cursor is None


def test_internal_topic_and_topic_ids_match_metadata(broker):
    with Connection(broker.host, broker.port) as c:
        internal = [t['name'] for t in c.metadata(12)['topics'] if t['is_internal']]
    if not internal:
        create_topics(broker, {'__consumer_offsets': 1})
        internal = ['__consumer_offsets']
    create_topics(broker, {'plain': 2})
    names = [internal[0], 'plain']
    topics, cursor = describe(broker, names)
    assert cursor is None
    with Connection(broker.host, broker.port) as c:
        md = {t['name']: t for t in c.metadata(12, names)['topics']}
    assert [(t['name'], t['is_internal']) for t in topics] == sorted(
        [(internal[0], True), ('plain', False)])
    for t in topics:
        assert t['topic_id'] == md[t['name']]['topic_id'] != ZERO_UUID
        assert len(t['partitions']) == len(md[t['name']]['partitions'])


def test_unknown_internal_name_is_flagged_internal(broker):
    with Connection(broker.host, broker.port) as c:
        existing = {t['name'] for t in c.metadata(12)['topics']}
    missing = [n for n in ('__consumer_offsets', '__transaction_state') if n not in existing]
    if not missing:
        pytest.skip('both internal topics exist')
    (t,), cursor = describe(broker, missing[:1])
    assert (t['name'], t['error_code'], t['is_internal'], t['topic_id']) == (
        missing[0], UNKNOWN_TOPIC_OR_PARTITION, True, ZERO_UUID)


def test_advertised_in_api_versions(broker):
    with Connection(broker.host, broker.port) as c:
        keys = c.api_versions(3)['api_keys']
    assert keys[DESCRIBE_TOPIC_PARTITIONS] == (0, 0)
