"""Produce and Fetch through librdkafka: confluent-kafka-python and kcat write
records with keys, null keys, headers, explicit timestamps, empty and null
values and 1 MiB values, and read them back byte for byte with manual
assignment (consumer groups are another issue); ListOffsets through
offsets_for_times and watermarks; Fetch long polls; bad input.

Every test here runs under the librdkafka that is loaded: Debian's 2.0.2
(Produce v7, Fetch v11) by default, and a second time with
SKIFF_LIBRDKAFKA=recent and LD_LIBRARY_PATH pointing at the 2.15.1 that
scripts/build-librdkafka.sh builds (flexible versions: Produce v10, Fetch v16),
and a third time with the newest confluent-kafka wheel from PyPI
(SKIFF_LIBRDKAFKA=pypi, its bundled librdkafka 2.16.0);
test_client_versions.py keeps those runs honest. The helpers at the top are
shared with test_produce_fetch_*.py and test_restart.py.
"""

import hashlib
import logging
import re
import subprocess
import time
from collections import namedtuple

import pytest
from client_versions import LIBRDKAFKA
from confluent_kafka import (OFFSET_BEGINNING, TIMESTAMP_CREATE_TIME, Consumer, KafkaError,
                             Producer, TopicPartition)

pytestmark = pytest.mark.librdkafka


TIMEOUT = 30.0                       # seconds any one client step may take
BASE_TS = 1_700_000_000_000          # 2023-11-14T22:13:20Z, in ms
MIB = 1 << 20
BIG_MAX_BYTES = 3 * MIB              # message.max.bytes for tests with 1 MiB values

# A record as a client reports it. timestamp is ('create' | 'append', ms);
# headers is a tuple of (str, bytes | None) pairs, () for none.
Msg = namedtuple('Msg', 'partition offset key value headers timestamp')


# Expected records.

def payload(i, size=None):
    """Deterministic bytes (every byte value occurs) for message i."""
    size = (i * 37) % 300 + 1 if size is None else size
    return bytes((i * 31 + j) % 256 for j in range(size))


def big_payload(i):
    """1 MiB of bytes that differ per i and per position."""
    block = hashlib.sha256(b'skiff-%d' % i).digest()
    return (block * (MIB // len(block) + 1))[:MIB]


def sample_specs(partitions, count=240, null_header_values=False, null_key_and_value=True):
    """Records covering every shape: null/empty/plain keys, null/empty/plain
    values, no/one/repeated/empty/binary (optionally null) headers, explicit
    and producer-set timestamps, an explicit partition or the partitioner's
    choice.

    confluent-kafka-python 1.7.0 loses a reference to None for every consumed
    record with a null header value and then aborts at exit (fixed in 1.8.2:
    confluentinc/confluent-kafka-python#1191), so records it consumes carry
    null header values sparingly (see NULL_HEADER)."""
    specs = []
    for i in range(count):
        if i % 3 == 0:
            headers = None
        elif i % 3 == 1:
            headers = [('h', b'v%d' % i)]
        else:
            headers = [('dup', b'1'), ('dup', b'2'), ('empty', b''), ('bin', bytes([0, 255, 10]))]
            if null_header_values:
                headers.append(('null', None))
        specs.append({
            'partition': i // 2 % partitions if i % 2 == 0 else None,
            'key': None if i % 7 == 0 else b'' if i % 13 == 0 else b'key-%d' % (i % 17),
            'value': None if i % 11 == 0 else b'' if i % 5 == 0 else payload(i),
            'headers': headers,
            'timestamp': None if i % 4 == 3 else BASE_TS + i * 1000,
        })
        if not null_key_and_value and specs[-1]['key'] is None and specs[-1]['value'] is None:
            specs[-1]['key'] = b''
    return specs


# One record with a null header value, for the confluent-kafka-python round trips.
NULL_HEADER = {'partition': 0, 'key': b'null-header', 'value': b'v', 'headers': [('n', None), ('e', b'')],
               'timestamp': BASE_TS}


def big_specs(partition, count=3):
    return [{'partition': partition, 'key': b'big-%d' % i, 'value': big_payload(i),
             'headers': [('size', b'%d' % MIB)], 'timestamp': BASE_TS + i} for i in range(count)]


def headers_tuple(headers):
    return tuple((k, v) for k, v in headers or ())


def summarize(msgs):
    """Records with values over 64 bytes shown as (length, sha256 prefix), for readable diffs."""
    def short(v):
        return v if v is None or len(v) <= 64 else (len(v), hashlib.sha256(v).hexdigest()[:16])
    return [m._replace(key=short(m.key), value=short(m.value)) for m in msgs]


def assert_same(got, want):
    if got != want:
        assert summarize(got) == summarize(want)
        assert got == want


def by_partition(msgs):
    out = {}
    for m in msgs:
        out.setdefault(m.partition, []).append(m)
    return out


def assert_contiguous(msgs):
    """Each partition's offsets run 0, 1, 2, ... in the order given."""
    for p, ms in by_partition(msgs).items():
        assert [m.offset for m in ms] == list(range(len(ms))), f'partition {p}'


# confluent-kafka-python.

def producer_conf(bootstrap, **extra):
    """librdkafka producer settings; keys in `extra` may spell dots as underscores."""
    conf = {'bootstrap.servers': bootstrap, 'acks': 'all', 'linger.ms': 5,
            'message.timeout.ms': int(TIMEOUT * 1000)}
    conf.update({k.replace('_', '.'): v for k, v in extra.items()})
    return conf


def consumer_conf(bootstrap, **extra):
    """librdkafka consumer settings; keys in `extra` may spell dots as underscores."""
    # group.id is mandatory in confluent-kafka-python; with assign() and no
    # commits librdkafka only looks the coordinator up and never joins.
    conf = {'bootstrap.servers': bootstrap, 'group.id': 'skiff-it', 'enable.auto.commit': False,
            'enable.auto.offset.store': False, 'check.crcs': True, 'fetch.wait.max.ms': 100,
            'auto.offset.reset': 'error'}
    conf.update({k.replace('_', '.'): v for k, v in extra.items()})
    return conf


def confluent_msg(m):
    kind, ts = m.timestamp()
    return Msg(m.partition(), m.offset(), m.key(), m.value(), headers_tuple(m.headers()),
               ('create' if kind == TIMESTAMP_CREATE_TIME else 'append', ts))


def produce_confluent(bootstrap, topic, specs, **conf):
    """Produces `specs` in order and waits for every delivery; returns the
    records as written (partition, offset and timestamp from the delivery
    reports, in production order)."""
    producer = Producer(producer_conf(bootstrap, **conf))
    reports = [None] * len(specs)

    def delivered(i):
        def cb(err, msg):
            reports[i] = (err, msg.partition(), msg.offset(), msg.timestamp())
        return cb

    for i, s in enumerate(specs):
        kw = {'key': s['key'], 'value': s['value'], 'headers': s['headers'], 'on_delivery': delivered(i)}
        if s.get('partition') is not None:
            kw['partition'] = s['partition']
        if s.get('timestamp') is not None:
            kw['timestamp'] = s['timestamp']
        producer.produce(topic, **kw)
        producer.poll(0)
    assert producer.flush(TIMEOUT) == 0, 'deliveries still outstanding'
    out = []
    for s, (err, partition, offset, (kind, ts)) in zip(specs, reports):
        assert err is None, f'delivery failed: {err}'
        assert kind == TIMESTAMP_CREATE_TIME
        if s.get('timestamp') is not None:
            assert ts == s['timestamp']
        out.append(Msg(partition, offset, s['key'], s['value'], headers_tuple(s['headers']), ('create', ts)))
    return out


def consume_confluent(bootstrap, topic, partitions, count, offset=OFFSET_BEGINNING, settle=0.0, **conf):
    """Assigns `partitions` at `offset` and polls until `count` records came
    (then `settle` more seconds, to catch extras); records in arrival order."""
    consumer = Consumer(consumer_conf(bootstrap, **conf))
    try:
        consumer.assign([TopicPartition(topic, p, offset) for p in partitions])
        got = []
        deadline = time.monotonic() + TIMEOUT
        while len(got) < count and time.monotonic() < deadline:
            m = consumer.poll(0.2)
            if m is None:
                continue
            assert m.error() is None, f'consumer error: {m.error()}'
            got.append(confluent_msg(m))
        end = time.monotonic() + settle
        while time.monotonic() < end:
            m = consumer.poll(0.1)
            if m is not None:
                got.append(confluent_msg(m) if m.error() is None else m.error())
        return got
    finally:
        consumer.close()


def in_log_order(msgs):
    return sorted(msgs, key=lambda m: (m.partition, m.offset))


# kcat.

def kcat(*args, input=None, timeout=TIMEOUT):
    res = subprocess.run(['kcat', *map(str, args)], input=input, capture_output=True, timeout=timeout,
                         stdin=None if input is not None else subprocess.DEVNULL)
    assert res.returncode == 0, f'kcat {args} exited {res.returncode}:\n{res.stderr.decode(errors="replace")}'
    return res.stdout


# What librdkafka sends (see docs/clients.md); the highest version of each request.
REQUEST_VERSIONS = {
    'debian': {'Produce': 7, 'Fetch': 11, 'ListOffsets': 2, 'Metadata': 4},
    'recent': {'Produce': 10, 'Fetch': 16, 'ListOffsets': 7, 'Metadata': 13},
    'pypi': {'Produce': 10, 'Fetch': 16, 'ListOffsets': 7, 'Metadata': 13},
}
SENT = re.compile(r'Sent (\w+)Request \(v(\d+),')


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def versions_sent(lines):
    out = {}
    for line in lines:
        for name, v in SENT.findall(line):
            out[name] = max(out.get(name, 0), int(v))
    return out


def test_librdkafka_request_versions(start_broker):
    b = start_broker()
    handler = Collect()
    log = logging.getLogger(f'librdkafka-{id(handler)}')
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    debug = {'debug': 'protocol', 'logger': log}
    (sent,) = produce_confluent(b.bootstrap, 'versions', [{'key': b'k', 'value': b'v', 'headers': None,
                                                           'partition': 0, 'timestamp': BASE_TS}], **debug)
    assert sent.offset == 0
    consumer = Consumer(consumer_conf(b.bootstrap, **debug))
    try:
        consumer.assign([TopicPartition('versions', 0, OFFSET_BEGINNING)])
        m = None
        deadline = time.monotonic() + TIMEOUT
        while m is None and time.monotonic() < deadline:
            m = consumer.poll(0.2)
        assert m is not None and m.error() is None and m.value() == b'v'
        (tp,) = consumer.offsets_for_times([TopicPartition('versions', 0, BASE_TS)], timeout=TIMEOUT)
        assert tp.offset == 0
    finally:
        consumer.close()
    sent_versions = versions_sent(handler.lines)
    want = REQUEST_VERSIONS[LIBRDKAFKA]
    assert {k: sent_versions.get(k) for k in want} == want


# Round trips.

def test_confluent_round_trip_every_record_shape(start_broker):
    b = start_broker(num_partitions=12, message_max_bytes=BIG_MAX_BYTES)
    specs = sample_specs(12) + [NULL_HEADER] + big_specs(partition=5)
    before = int(time.time() * 1000)
    sent = produce_confluent(b.bootstrap, 'shapes', specs, message_max_bytes=BIG_MAX_BYTES)
    after = int(time.time() * 1000)
    for s, m in zip(specs, sent):
        if s['timestamp'] is None:
            assert before <= m.timestamp[1] <= after
    assert_contiguous(sorted(sent, key=lambda m: m.offset))   # offsets 0.. in every partition, none twice
    assert sorted({m.partition for m in sent}) == list(range(12))

    got = consume_confluent(b.bootstrap, 'shapes', range(12), len(sent), settle=0.5)
    assert_contiguous(got)
    assert_same(in_log_order(got), in_log_order(sent))
    # Within a partition the records come back in the order they were produced.
    assert {p: [(m.key, m.value) for m in ms] for p, ms in by_partition(got).items()} == \
        {p: [(m.key, m.value) for m in ms] for p, ms in by_partition(sent).items()}


def test_confluent_consume_from_an_offset(start_broker):
    b = start_broker(num_partitions=1)
    specs = [{'key': b'%d' % i, 'value': payload(i), 'headers': None, 'partition': 0, 'timestamp': None}
             for i in range(50)]
    sent = produce_confluent(b.bootstrap, 'mid', specs)
    got = consume_confluent(b.bootstrap, 'mid', [0], 20, offset=30, settle=0.5)
    assert_same(got, sent[30:])


def test_confluent_watermarks_offsets_for_times_and_list_topics(start_broker):
    b = start_broker(num_partitions=3)
    specs = [{'partition': p, 'key': None, 'value': b'%d-%d' % (p, i), 'headers': None,
              'timestamp': BASE_TS + p * 100_000 + i * 1000} for p in range(3) for i in range(10 + p)]
    produce_confluent(b.bootstrap, 'times', specs)
    consumer = Consumer(consumer_conf(b.bootstrap))
    try:
        md = consumer.list_topics('times', timeout=TIMEOUT)
        t = md.topics['times']
        assert t.error is None
        assert sorted(t.partitions) == [0, 1, 2]
        nodes = set(b.nodes) or {1}  # one broker: node 1; SKIFF_TEST_BROKERS=3: any, one replica each
        assert all(p.leader in nodes and list(p.replicas) == [p.leader] and list(p.isrs) == [p.leader]
                   for p in t.partitions.values())

        for p in range(3):
            assert consumer.get_watermark_offsets(TopicPartition('times', p), timeout=TIMEOUT) == (0, 10 + p)
        queries = [
            (0, BASE_TS - 1, 0),             # before the first record: the first record
            (0, BASE_TS, 0),                 # exactly the first
            (0, BASE_TS + 4000, 4),          # exactly a record's timestamp
            (0, BASE_TS + 4001, 5),          # between two: the later one
            (1, BASE_TS + 100_000 + 10_000, 10),  # the last record of partition 1
            (2, BASE_TS + 200_000 + 11_500, -1),  # after the last: no offset (-1)
        ]
        # One query per partition and request: a request may name a partition once.
        answers = [consumer.offsets_for_times([TopicPartition('times', p, ts)], timeout=TIMEOUT)
                   for p, ts, _ in queries]
        assert [(tp.partition, tp.offset, tp.error) for (tp,) in answers] == \
            [(p, want, None) for p, _, want in queries]
        # Three partitions in one request.
        tps = consumer.offsets_for_times([TopicPartition('times', p, BASE_TS + p * 100_000 + 3000)
                                          for p in range(3)], timeout=TIMEOUT)
        assert [(tp.partition, tp.offset, tp.error) for tp in tps] == [(p, 3, None) for p in range(3)]
    finally:
        consumer.close()


def test_kcat_round_trip_keys_and_headers(start_broker, tmp_path):
    b = start_broker(num_partitions=1)
    first = b'k1:hello\nk2:world with spaces\nk3:\n:no key\nk5:v:with:colons\n'
    kcat('-b', b.bootstrap, '-P', '-t', 'kc', '-p', 0, '-K:', '-H', 'a=1', '-H', 'b=two', input=first)
    second = tmp_path / 'more.txt'
    second.write_bytes(b''.join(b'key%d:value%d\n' % (i, i) for i in range(100)))
    kcat('-b', b.bootstrap, '-P', '-t', 'kc', '-p', 0, '-K:', '-H', 'file=yes', '-l', second)

    out = kcat('-b', b.bootstrap, '-C', '-t', 'kc', '-p', 0, '-e', '-o', 'beginning', '-f', r'%k|%s|%h|%o\n')
    want = [b'k1|hello|a=1,b=two|0', b'k2|world with spaces|a=1,b=two|1', b'k3||a=1,b=two|2',
            b'|no key|a=1,b=two|3', b'k5|v:with:colons|a=1,b=two|4']
    want += [b'key%d|value%d|file=yes|%d' % (i, i, i + 5) for i in range(100)]
    assert out.splitlines() == want

    # The same records through confluent-kafka-python: keys, values, headers, offsets.
    got = consume_confluent(b.bootstrap, 'kc', [0], 105)
    assert [(m.offset, m.key, m.value, m.headers) for m in got[:5]] == [
        (0, b'k1', b'hello', (('a', b'1'), ('b', b'two'))),
        (1, b'k2', b'world with spaces', (('a', b'1'), ('b', b'two'))),
        (2, b'k3', b'', (('a', b'1'), ('b', b'two'))),
        (3, b'', b'no key', (('a', b'1'), ('b', b'two'))),
        (4, b'k5', b'v:with:colons', (('a', b'1'), ('b', b'two'))),
    ]
    assert [(m.offset, m.key, m.value, m.headers) for m in got[5:]] == \
        [(i + 5, b'key%d' % i, b'value%d' % i, (('file', b'yes'),)) for i in range(100)]

    md = kcat('-b', b.bootstrap, '-L', '-t', 'kc').decode()
    assert '  topic "kc" with 1 partitions:' in md.splitlines()
    assert '    partition 0, leader 1, replicas: 1, isrs: 1' in md.splitlines()


# Long poll.

def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks (proc(5))."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_long_poll_wakes_on_produce_and_idles(start_broker):
    b = start_broker(num_partitions=1)
    produce_confluent(b.bootstrap, 'lp', [{'key': None, 'value': b'first', 'headers': None, 'partition': 0,
                                           'timestamp': None}])
    wait_ms = 20000
    consumer = Consumer(consumer_conf(b.bootstrap, fetch_wait_max_ms=wait_ms))
    try:
        consumer.assign([TopicPartition('lp', 0, 1)])      # at the high watermark: nothing to read
        assert consumer.poll(1.0) is None                  # its first Fetch is now parked in the broker
        ticks = cpu_ticks(b.proc.pid)
        assert consumer.poll(2.0) is None
        idle = cpu_ticks(b.proc.pid) - ticks
        assert idle <= 20, f'the broker used {idle} ticks in 2 s with one parked Fetch'

        # Produced about 3 s into a 20 s wait: arrives at once, not when the wait ends.
        started = time.monotonic()
        (late,) = produce_confluent(b.bootstrap, 'lp', [{'key': b'k', 'value': b'late', 'headers': None,
                                                          'partition': 0, 'timestamp': BASE_TS}])
        m = consumer.poll(TIMEOUT)
        delay = time.monotonic() - started
        assert m is not None and m.error() is None
        assert confluent_msg(m) == late
        assert late.offset == 1
        assert delay < 8.0, f'the parked Fetch answered {delay:.1f} s after the produce'
    finally:
        consumer.close()


# Bad input.

def test_produce_to_unknown_topic_without_auto_create_fails(start_broker):
    b = start_broker(auto_create_topics_enable=False)
    # librdkafka fails queued messages once the topic has been reported
    # missing for topic.metadata.propagation.max.ms (default 30 s).
    producer = Producer(producer_conf(b.bootstrap, message_timeout_ms=20000,
                                      topic_metadata_propagation_max_ms=500))
    errors = []
    producer.produce('nowhere', value=b'x', on_delivery=lambda err, msg: errors.append(err))
    started = time.monotonic()
    assert producer.flush(TIMEOUT) == 0
    assert time.monotonic() - started < 15, 'timed out instead of failing on the Metadata error'
    (err,) = errors
    assert err is not None
    assert err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART, err
    consumer = Consumer(consumer_conf(b.bootstrap))
    try:
        assert 'nowhere' not in consumer.list_topics(timeout=TIMEOUT).topics
    finally:
        consumer.close()


@pytest.mark.parametrize('reset', ['earliest', 'latest'])
def test_fetch_past_the_end_follows_auto_offset_reset(start_broker, reset):
    b = start_broker(num_partitions=1)
    spec = {'key': None, 'headers': None, 'partition': 0, 'timestamp': BASE_TS}
    sent = produce_confluent(b.bootstrap, 'oor', [dict(spec, value=b'old-%d' % i) for i in range(5)])
    consumer = Consumer(consumer_conf(b.bootstrap, auto_offset_reset=reset))
    try:
        consumer.assign([TopicPartition('oor', 0, 100)])   # past the high watermark (5)
        got = []
        deadline = time.monotonic() + (TIMEOUT if reset == 'earliest' else 3.0)
        while len(got) < 5 and time.monotonic() < deadline:
            m = consumer.poll(0.2)
            if m is not None:
                assert m.error() is None, m.error()
                got.append(confluent_msg(m))
        if reset == 'earliest':
            assert got == sent
        else:
            assert got == []
            (new,) = produce_confluent(b.bootstrap, 'oor', [dict(spec, value=b'new')])
            m = consumer.poll(TIMEOUT)
            assert m is not None and m.error() is None
            assert confluent_msg(m) == new
            assert new.offset == 5
    finally:
        consumer.close()


def test_fetch_past_the_end_without_reset_reports_out_of_range(start_broker):
    b = start_broker(num_partitions=1)
    produce_confluent(b.bootstrap, 'oor', [{'key': None, 'value': b'x', 'headers': None, 'partition': 0,
                                            'timestamp': None}])
    consumer = Consumer(consumer_conf(b.bootstrap))
    try:
        consumer.assign([TopicPartition('oor', 0, 7)])
        m = None
        deadline = time.monotonic() + TIMEOUT
        while m is None and time.monotonic() < deadline:
            m = consumer.poll(0.2)
        assert m is not None and m.error() is not None
        assert m.error().code() == KafkaError._AUTO_OFFSET_RESET
        assert 'out of range' in m.error().str().lower()
    finally:
        consumer.close()
