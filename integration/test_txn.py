"""Transactions (KIP-98) through confluent-kafka-python (librdkafka), each
through its ordinary API: a transaction over several partitions committed is
read exactly once by a read_committed consumer; an aborted one is invisible
to read_committed and visible to read_uncommitted; consume-transform-produce
with send_offsets_to_transaction moves the group's committed offsets with
the output (and not when aborted); a second producer with the same
transactional.id fences the first; a producer that stops mid-transaction is
aborted after transaction.timeout.ms and read_committed consumers get past
it. The introspection APIs (DescribeTransactions, ListTransactions,
DescribeProducers), which confluent-kafka-python 1.7 lacks, are checked on
the wire. Marked librdkafka: scripts/test.sh runs them again under
librdkafka 2.15."""

import struct
import time

import pytest
from confluent_kafka import OFFSET_BEGINNING, OFFSET_INVALID, Consumer, KafkaException, Producer, TopicPartition

from kafka_wire import Connection, Writer
from test_idempotence import init_producer_id, producer_batch, request
from test_produce_fetch import TIMEOUT, consume_confluent, consumer_conf
from test_produce_fetch_wire import create_topic, decode_fetch_v4, decode_produce_v3

pytestmark = pytest.mark.librdkafka

API_DESCRIBE_PRODUCERS = 61
API_DESCRIBE_TRANSACTIONS = 65
API_LIST_TRANSACTIONS = 66


def txn_producer(bootstrap, txn_id, **conf):
    c = {'bootstrap.servers': bootstrap, 'transactional.id': txn_id, 'linger.ms': 5}
    c.update({k.replace('_', '.'): v for k, v in conf.items()})
    p = Producer(c)
    p.init_transactions(TIMEOUT)
    return p


def values(bootstrap, topic, partitions, expect, isolation, settle=1.0):
    """The values a consumer of `isolation` reads (waiting for `expect` of
    them, then `settle` seconds for more), sorted."""
    got = consume_confluent(bootstrap, topic, partitions, expect, settle=settle, isolation_level=isolation)
    return sorted(m.value for m in got)


def committed(bootstrap, group, topic, partitions):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False})
    try:
        return [tp.offset for tp in c.committed([TopicPartition(topic, p) for p in partitions], timeout=TIMEOUT)]
    finally:
        c.close()


def test_commit_over_partitions_seen_exactly_once(start_broker):
    b = start_broker(num_partitions=4)
    p = txn_producer(b.bootstrap, 'multi')
    p.begin_transaction()
    for i in range(100):
        p.produce('tc', value=b'm%03d' % i, partition=i % 4)
    p.commit_transaction(TIMEOUT)
    want = sorted(b'm%03d' % i for i in range(100))
    assert values(b.bootstrap, 'tc', range(4), 100, 'read_committed') == want
    assert values(b.bootstrap, 'tc', range(4), 100, 'read_uncommitted') == want


def test_aborted_transaction_only_read_uncommitted(start_broker):
    b = start_broker(num_partitions=2)
    p = txn_producer(b.bootstrap, 'ab')
    for name, commit in (('c', True), ('a', False), ('d', True)):
        p.begin_transaction()
        for i in range(10):
            p.produce('ta', value=b'%s%d' % (name.encode(), i), partition=i % 2)
        if commit:
            p.commit_transaction(TIMEOUT)
        else:
            assert p.flush(TIMEOUT) == 0  # written before the abort
            p.abort_transaction(TIMEOUT)
    committed_values = sorted(b'%s%d' % (n, i) for n in (b'c', b'd') for i in range(10))
    assert values(b.bootstrap, 'ta', range(2), 20, 'read_committed') == committed_values
    assert values(b.bootstrap, 'ta', range(2), 30, 'read_uncommitted') == \
        sorted(committed_values + [b'a%d' % i for i in range(10)])


def transform(b, group, producer, count, commit):
    """Consumes `count` records of 'in' in group `group`, produces them
    upper-cased to 'out' and their offsets in one transaction, then commits
    it, aborts it (commit False) or leaves it open (commit None); returns
    the positions sent."""
    c = Consumer({'bootstrap.servers': b.bootstrap, 'group.id': group, 'auto.offset.reset': 'earliest',
                  'enable.auto.commit': False, 'isolation.level': 'read_committed'})
    try:
        c.subscribe(['in'])
        producer.begin_transaction()
        n, deadline = 0, time.monotonic() + TIMEOUT
        while n < count and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            producer.produce('out', key=m.key(), value=m.value().upper(), partition=m.partition())
            n += 1
        assert n == count
        positions = c.position(c.assignment())
        producer.send_offsets_to_transaction(positions, c.consumer_group_metadata(), TIMEOUT)
        if commit:
            producer.commit_transaction(TIMEOUT)
        else:
            assert producer.flush(TIMEOUT) == 0
            if commit is False:
                producer.abort_transaction(TIMEOUT)
        return sorted((tp.partition, tp.offset) for tp in positions)
    finally:
        c.close()


def test_consume_transform_produce(start_broker):
    b = start_broker(num_partitions=2)
    plain = Producer({'bootstrap.servers': b.bootstrap})
    for i in range(30):
        plain.produce('in', key=b'k%d' % i, value=b'v%02d' % i, partition=i % 2)
    assert plain.flush(TIMEOUT) == 0
    p = txn_producer(b.bootstrap, 'ctp')

    # Aborted: neither the output nor the offsets count.
    transform(b, 'g', p, 30, commit=False)
    assert committed(b.bootstrap, 'g', 'in', [0, 1]) == [OFFSET_INVALID, OFFSET_INVALID]
    assert values(b.bootstrap, 'out', range(2), 0, 'read_committed', settle=1.0) == []

    # Committed: both at once, the output exactly once.
    positions = transform(b, 'g', p, 30, commit=True)
    assert positions == [(0, 15), (1, 15)]
    assert committed(b.bootstrap, 'g', 'in', [0, 1]) == [15, 15]
    assert values(b.bootstrap, 'out', range(2), 30, 'read_committed') == sorted(b'V%02d' % i for i in range(30))
    assert len(values(b.bootstrap, 'out', range(2), 60, 'read_uncommitted')) == 60


def test_second_producer_fences_the_first(start_broker):
    b = start_broker()
    first = txn_producer(b.bootstrap, 'same')
    first.begin_transaction()
    for i in range(5):
        first.produce('tf', value=b'old%d' % i)
    assert first.flush(TIMEOUT) == 0

    second = txn_producer(b.bootstrap, 'same')  # aborts the first one's transaction
    second.begin_transaction()
    for i in range(5):
        second.produce('tf', value=b'new%d' % i)
    second.commit_transaction(TIMEOUT)

    with pytest.raises(KafkaException) as exc:
        first.produce('tf', value=b'zombie')
        first.commit_transaction(TIMEOUT)
    assert exc.value.args[0].fatal(), exc.value
    assert values(b.bootstrap, 'tf', [0], 5, 'read_committed') == sorted(b'new%d' % i for i in range(5))
    assert len(values(b.bootstrap, 'tf', [0], 10, 'read_uncommitted', settle=0.5)) == 10  # no zombie record


def test_stuck_transaction_is_aborted_after_its_timeout(start_broker):
    b = start_broker()
    stuck = txn_producer(b.bootstrap, 'stuck', transaction_timeout_ms=3000)
    stuck.begin_transaction()
    for i in range(5):
        stuck.produce('ts', value=b'stuck%d' % i)
    assert stuck.flush(TIMEOUT) == 0
    started = time.monotonic()
    plain = Producer({'bootstrap.servers': b.bootstrap, 'enable.idempotence': True})
    for i in range(5):
        plain.produce('ts', value=b'after%d' % i)
    assert plain.flush(TIMEOUT) == 0
    # Records after the open transaction wait behind it for read_committed
    # consumers, until the coordinator aborts it (3 s), not longer.
    c = Consumer(consumer_conf(b.bootstrap, isolation_level='read_committed'))
    try:
        c.assign([TopicPartition('ts', 0, OFFSET_BEGINNING)])
        got, first_seen = [], None
        while len(got) < 5 and time.monotonic() < started + TIMEOUT:
            m = c.poll(0.1)
            if m is not None and m.error() is None:
                got.append(m.value())
                first_seen = first_seen or time.monotonic()
    finally:
        c.close()
    assert sorted(got) == sorted(b'after%d' % i for i in range(5))
    assert 1.5 < first_seen - started < 10
    state = describe_transactions(b, ['stuck'])[0]
    assert (state['error_code'], state['state'], state['producer_epoch']) == (0, 'CompleteAbort', 1)
    with pytest.raises(KafkaException):
        stuck.commit_transaction(TIMEOUT)


# ---- Introspection on the wire (flexible v0 APIs) ----

def describe_transactions(b, ids):
    w = Writer().array_len(len(ids), compact=True)
    for i in ids:
        w.string(i, compact=True)
    w.empty_tags()
    with Connection(b.host, b.port) as c:
        r = request(c, API_DESCRIBE_TRANSACTIONS, 0, w.bytes(), True)

    def topic():
        t = (r.string(compact=True), r.array(r.i32, compact=True))
        r.tags()
        return t

    def state():
        s = {'error_code': r.i16(), 'transactional_id': r.string(compact=True),
             'state': r.string(compact=True), 'timeout_ms': r.i32()}
        s['start_ms'], s['producer_id'] = struct.unpack('>qq', r.take(16))
        s['producer_epoch'] = r.i16()
        s['topics'] = r.array(topic, compact=True)
        r.tags()
        return s

    assert r.i32() == 0
    states = r.array(state, compact=True)
    r.tags()
    r.done()
    return states


def list_transactions(b, states=(), producer_ids=(), duration=None):
    version = 0 if duration is None else 1
    w = Writer().array_len(len(states), compact=True)
    for s in states:
        w.string(s, compact=True)
    w.array_len(len(producer_ids), compact=True)
    for pid in producer_ids:
        w.raw(struct.pack('>q', pid))
    if duration is not None:
        w.raw(struct.pack('>q', duration))
    w.empty_tags()
    with Connection(b.host, b.port) as c:
        r = request(c, API_LIST_TRANSACTIONS, version, w.bytes(), True)

    def state():
        s = (r.string(compact=True), struct.unpack('>q', r.take(8))[0], r.string(compact=True))
        r.tags()
        return s

    assert r.i32() == 0
    error = r.i16()
    unknown = r.array(lambda: r.string(compact=True), compact=True)
    txns = r.array(state, compact=True)
    r.tags()
    r.done()
    return error, unknown, sorted(txns)


def describe_producers(b, topic, partitions):
    w = Writer().array_len(1, compact=True).string(topic, compact=True).array_len(len(partitions), compact=True)
    for p in partitions:
        w.i32(p)
    w.empty_tags().empty_tags()
    with Connection(b.host, b.port) as c:
        r = request(c, API_DESCRIBE_PRODUCERS, 0, w.bytes(), True)

    def producer():
        pid, epoch, seq, ts, coord, start = struct.unpack('>qiiqiq', r.take(36))
        r.tags()
        return {'producer_id': pid, 'epoch': epoch, 'last_sequence': seq, 'coordinator_epoch': coord,
                'txn_start_offset': start}

    def partition():
        p = {'partition': r.i32(), 'error_code': r.i16(), 'message': r.string(compact=True, nullable=True)}
        p['producers'] = r.array(producer, compact=True)
        r.tags()
        return p

    def topic_():
        t = (r.string(compact=True), r.array(partition, compact=True))
        r.tags()
        return t

    assert r.i32() == 0
    ((name, parts),) = r.array(topic_, compact=True)
    r.tags()
    r.done()
    assert name == topic
    return parts


def test_describe_and_list_transactions_and_producers(start_broker):
    b = start_broker(num_partitions=2)
    done = txn_producer(b.bootstrap, 'done')
    done.begin_transaction()
    done.produce('ti', value=b'x', partition=0)
    done.commit_transaction(TIMEOUT)
    open_ = txn_producer(b.bootstrap, 'open', transaction_timeout_ms=60000)
    open_.begin_transaction()
    open_.produce('ti', value=b'y', partition=1)
    assert open_.flush(TIMEOUT) == 0

    d, o, missing = describe_transactions(b, ['done', 'open', 'missing'])
    assert (d['error_code'], d['state'], d['topics']) == (0, 'CompleteCommit', [])
    assert (o['error_code'], o['state'], o['timeout_ms'], o['topics']) == (0, 'Ongoing', 60000, [('ti', [1])])
    assert o['start_ms'] > 0
    assert missing['error_code'] == 105  # TRANSACTIONAL_ID_NOT_FOUND

    assert list_transactions(b) == (0, [], sorted([('done', d['producer_id'], 'CompleteCommit'),
                                                   ('open', o['producer_id'], 'Ongoing')]))
    assert list_transactions(b, states=['Ongoing', 'Bogus']) == (0, ['Bogus'], [('open', o['producer_id'], 'Ongoing')])
    assert list_transactions(b, producer_ids=[d['producer_id']])[2] == [('done', d['producer_id'], 'CompleteCommit')]
    assert list_transactions(b, states=['Ongoing'], duration=3_600_000)[2] == []

    p0, p1, p9 = describe_producers(b, 'ti', [0, 1, 9])
    assert p0['error_code'] == 0 and p1['error_code'] == 0
    assert p9['error_code'] == 3  # UNKNOWN_TOPIC_OR_PARTITION
    (done_state,) = p0['producers']
    assert (done_state['producer_id'], done_state['txn_start_offset']) == (d['producer_id'], -1)
    (open_state,) = p1['producers']
    assert (open_state['producer_id'], open_state['epoch'], open_state['last_sequence'],
            open_state['txn_start_offset']) == (o['producer_id'], 0, 0, 0)
    open_.abort_transaction(TIMEOUT)


def test_api_versions_advertise_the_transaction_apis(broker):
    with Connection(broker.host, broker.port) as c:
        keys = c.api_versions(3)['api_keys']
    assert {k: keys[k] for k in (22, 24, 25, 26, 28, 61, 65, 66)} == {
        22: (0, 5), 24: (0, 4), 25: (0, 3), 26: (0, 4), 28: (0, 3), 61: (0, 0), 65: (0, 0), 66: (0, 1)}


# ---- A transaction on the wire: AddPartitionsToTxn, EndTxn, read_committed Fetch v4 ----

def add_partitions_v(conn, version, txn_id, pid, epoch, topics):
    w = Writer().string(txn_id).raw(struct.pack('>qh', pid, epoch)).array_len(len(topics))
    for name, parts in topics:
        w.string(name).array_len(len(parts))
        for p in parts:
            w.i32(p)
    r = conn.request(24, version, w.bytes())
    assert r.i32() == 0
    out = r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i16()))))
    r.done()
    return out


def end_txn_v1(conn, txn_id, pid, epoch, commit):
    r = conn.request(26, 1, Writer().string(txn_id).raw(struct.pack('>qh', pid, epoch)).bool(commit).bytes())
    assert r.i32() == 0
    err = r.i16()
    r.done()
    return err


def produce_txn(conn, txn_id, topic, batch):
    w = Writer().string(txn_id).i16(-1).i32(10000).array_len(1).string(topic).array_len(1).i32(0)
    w.i32(len(batch)).raw(batch)
    ((_, (p,)),) = decode_produce_v3(conn.request(0, 3, w.bytes()))
    return p['error_code'], p['base_offset']


def fetch_isolated(conn, topic, offset, isolation):
    w = Writer().i32(-1).i32(0).i32(1).i32(1 << 20).i8(isolation)
    w.array_len(1).string(topic).array_len(1).i32(0).raw(struct.pack('>q', offset)).i32(1 << 20)
    ((_, (p,)),) = decode_fetch_v4(conn.request(1, 4, w.bytes()))
    return p


def latest_offset(conn, topic, isolation):
    """ListOffsets v2 latest (-1) of partition 0 at `isolation`."""
    w = Writer().i32(-1).i8(isolation).array_len(1).string(topic).array_len(1).i32(0).raw(struct.pack('>q', -1))
    r = conn.request(2, 2, w.bytes())
    assert r.i32() == 0
    ((_, ((partition, error, _ts, offset),)),) = r.array(
        lambda: (r.string(), r.array(lambda: (r.i32(), r.i16()) + struct.unpack('>qq', r.take(16)))))
    r.done()
    assert (partition, error) == (0, 0)
    return offset


def test_transaction_on_the_wire(start_broker):
    b = start_broker()
    create_topic(b, 'tw')
    with Connection(b.host, b.port) as c:
        err, pid, epoch = init_producer_id(c, 1, txn_id='w')
        assert (err, epoch) == (0, 0)
        batch = producer_batch(pid, 0, 0, [b'x', b'y', b'z'], transactional=True)
        # KIP-890 verification: the partition was not added yet.
        assert produce_txn(c, 'w', 'tw', batch)[0] == 48  # INVALID_TXN_STATE
        # An unknown topic: nothing added, the others not attempted.
        assert add_partitions_v(c, 1, 'w', pid, 0, [('tw', [0]), ('nope', [0])]) == \
            [('tw', [(0, 55)]), ('nope', [(0, 3)])]
        assert add_partitions_v(c, 1, 'w', pid, 0, [('tw', [0])]) == [('tw', [(0, 0)])]
        assert produce_txn(c, 'w', 'tw', batch) == (0, 0)
        p = fetch_isolated(c, 'tw', 0, 1)
        assert (p['high_watermark'], p['last_stable_offset'], p['records'], p['aborted_transactions']) == \
            (3, 0, b'', [])
        assert fetch_isolated(c, 'tw', 0, 0)['aborted_transactions'] is None
        # ListOffsets latest: the last stable offset for read_committed.
        assert (latest_offset(c, 'tw', 1), latest_offset(c, 'tw', 0)) == (0, 3)
        assert end_txn_v1(c, 'w', pid, 0, False) == 0
        assert end_txn_v1(c, 'w', pid, 0, False) == 0   # a retry
        assert end_txn_v1(c, 'w', pid, 0, True) == 48   # INVALID_TXN_STATE
        p = fetch_isolated(c, 'tw', 0, 1)
        assert (p['high_watermark'], p['last_stable_offset'], p['aborted_transactions']) == (4, 4, [(pid, 0)])
        assert latest_offset(c, 'tw', 1) == 4
        # A new producer fences the old epoch: INVALID_PRODUCER_EPOCH before v2, PRODUCER_FENCED from v2.
        assert init_producer_id(c, 1, txn_id='w')[2] == 1
        assert add_partitions_v(c, 1, 'w', pid, 0, [('tw', [0])]) == [('tw', [(0, 47)])]
        assert add_partitions_v(c, 2, 'w', pid, 0, [('tw', [0])]) == [('tw', [(0, 90)])]
        assert produce_txn(c, 'w', 'tw', producer_batch(pid, 0, 3, [b'late'], transactional=True))[0] == 47


def test_parked_read_committed_fetch_wakes_when_the_transaction_ends(start_broker):
    b = start_broker()
    create_topic(b, 'tp')
    with Connection(b.host, b.port) as c, Connection(b.host, b.port, timeout=15) as f:
        _, pid, _ = init_producer_id(c, 1, txn_id='park')
        assert add_partitions_v(c, 1, 'park', pid, 0, [('tp', [0])]) == [('tp', [(0, 0)])]
        assert produce_txn(c, 'park', 'tp', producer_batch(pid, 0, 0, [b'p'], transactional=True)) == (0, 0)
        # A read_committed long poll: nothing is stable yet, so it parks ...
        w = Writer().i32(-1).i32(10000).i32(1).i32(1 << 20).i8(1)
        w.array_len(1).string('tp').array_len(1).i32(0).raw(struct.pack('>q', 0)).i32(1 << 20)
        cid = f.send(1, 4, w.bytes())
        time.sleep(0.3)
        started = time.monotonic()
        # ... and the COMMIT marker (an append) moves the last stable offset and wakes it.
        assert end_txn_v1(c, 'park', pid, 0, True) == 0
        ((_, (p,)),) = decode_fetch_v4(f.recv(1, 4, cid))
        assert time.monotonic() - started < 5
        assert (p['high_watermark'], p['last_stable_offset'], p['aborted_transactions']) == (2, 2, [])
        assert len(p['records']) > 0
