"""Per-record errors of a refused batch (KIP-467): Produce v8+ names the
records LogValidator rejects one by one (record_errors: batch index and
Kafka's message) and gives the exception's message (error_message): keyless
records in a compacted topic (INVALID_RECORD), CreateTime timestamps out of
range (INVALID_TIMESTAMP, which wins over key errors in other records), in
uncompressed and compressed batches. Nothing of a refused batch is stored.
librdkafka 2.15 fails only the named records with INVALID_RECORD and the
rest of their batch with _INVALID_DIFFERENT_RECORD."""

import gzip
import struct
import time

import pytest
from confluent_kafka import KafkaError, Producer, libversion

from kafka_wire import Connection
from test_compression import create
from test_produce_fetch import consume_confluent
from test_produce_fetch_wire import API_PRODUCE, crc32c, produce_request, record

INVALID_RECORD = 87
INVALID_TIMESTAMP = 32
KEY_MESSAGE = 'Compacted topic cannot accept message without key in topic partition %s-0.'


def batch(records, base_ts, codec=0, deltas=None):
    """A batch of (key, value, timestamp) records, compressed with gzip
    when codec is 1; base offset 0; offset deltas 0..n-1 unless given."""
    n = len(records)
    deltas = deltas or range(n)
    body = b''.join(record(d, ts - base_ts, k, v) for d, (k, v, ts) in zip(deltas, records))
    if codec == 1:
        body = gzip.compress(body)
    max_ts = max(ts for _, _, ts in records)
    after_crc = struct.pack('>hiqqqhii', codec, n - 1, base_ts, max_ts, -1, -1, -1, n) + body
    after_length = struct.pack('>ibI', -1, 2, crc32c(after_crc)) + after_crc
    return struct.pack('>qi', 0, len(after_length)) + after_length


def produce_v8(b, topic, records_bytes):
    """Produce v8 of one batch to partition 0; returns the partition's answer."""
    with Connection(b.host, b.port) as c:
        r = c.request(API_PRODUCE, 8, produce_request(8, topic, 0, records_bytes))

    def partition():
        p = {'index': r.i32(), 'error_code': r.i16()}
        p['base_offset'], p['log_append_time_ms'], p['log_start_offset'] = struct.unpack('>qqq', r.take(24))
        p['record_errors'] = r.array(lambda: (r.i32(), r.string(nullable=True)))
        p['error_message'] = r.string(nullable=True)
        return p

    ((name, (p,)),) = r.array(lambda: (r.string(), r.array(partition)))
    assert r.i32() == 0
    r.done()
    assert name == topic
    return p


def stored(b, topic, expect):
    """The values of partition 0 (waiting for `expect`, then a moment for more)."""
    return [m.value for m in consume_confluent(b.bootstrap, topic, [0], expect, settle=0.3)]


@pytest.mark.parametrize('codec', [0, 1])
def test_keyless_records_in_a_compacted_topic(broker, codec):
    topic = f'compact-{codec}'
    create(broker.bootstrap, topic, {'cleanup.policy': 'compact'})
    now = int(time.time() * 1000)
    recs = [(None if i in (1, 3, 4) else b'k%d' % i, b'v%d' % i, now) for i in range(6)]
    p = produce_v8(broker, topic, batch(recs, now, codec))
    msg = KEY_MESSAGE % topic
    assert (p['error_code'], p['base_offset']) == (INVALID_RECORD, -1)
    assert p['record_errors'] == [(1, msg), (3, msg), (4, msg)]
    assert p['error_message'] == (
        'One or more records have been rejected due to 3 record errors in total, and only showing the first '
        "three errors at most: [RecordError(batchIndex=1, message='%s'), RecordError(batchIndex=3, "
        "message='%s'), RecordError(batchIndex=4, message='%s')]" % (msg, msg, msg))
    # The batch with keys only is taken; the refused one left nothing behind.
    ok = produce_v8(broker, topic, batch([(b'k', b'good', now)], now, codec))
    assert (ok['error_code'], ok['base_offset'], ok['record_errors'], ok['error_message']) == (0, 0, [], None)
    assert stored(broker, topic, 1) == [b'good']


def test_a_malformed_batch_names_no_record(broker):
    """A batch refused for its structure (offset deltas not 0..n-1) is
    INVALID_RECORD with no record named, as Kafka's InvalidRecordException,
    even when it also holds a keyless record for a compacted topic."""
    create(broker.bootstrap, 'shape', {'cleanup.policy': 'compact'})
    now = int(time.time() * 1000)
    p = produce_v8(broker, 'shape', batch([(b'a', b'0', now), (None, b'1', now)], now, deltas=[0, 5]))
    assert (p['error_code'], p['record_errors'], p['error_message']) == (INVALID_RECORD, [], None)


def test_timestamps_out_of_range(start_broker):
    b = start_broker(log_message_timestamp_after_max_ms=60000)
    create(b.bootstrap, 'ts', {'cleanup.policy': 'compact'})
    now = int(time.time() * 1000)
    late = now + 3_600_000
    recs = [(b'a', b'0', now), (None, b'1', now), (b'c', b'2', late)]
    p = produce_v8(b, 'ts', batch(recs, now))
    assert p['error_code'] == INVALID_TIMESTAMP
    assert p['error_message'] == 'One or more records have been rejected due to invalid timestamp'
    ((i1, m1), (i2, m2)) = p['record_errors']
    assert (i1, m1) == (1, KEY_MESSAGE % 'ts')
    assert i2 == 2 and m2.startswith('Timestamp %d of message with offset 2 is out of range. '
                                     'The timestamp should be within [' % late)
    lo, hi = map(int, m2[m2.index('[') + 1:-1].split(', '))
    # [now - message.timestamp.before.max.ms (Kafka's default: Long.MAX_VALUE), now + 60000]
    assert hi - lo == 60000 + 2**63 - 1
    assert 0 <= hi - (now + 60000) < 5000
    assert stored(b, 'ts', 0) == []


@pytest.mark.librdkafka
def test_librdkafka_fails_only_the_named_records(broker):
    """librdkafka's own test 0011 (single partition record fail): 100
    messages, every tenth without a key, to a compacted topic. The client
    may split them into several batches: a batch holding a keyless message
    is refused, one without is stored."""
    create(broker.bootstrap, 'rdk', {'cleanup.policy': 'compact'})
    p = Producer({'bootstrap.servers': broker.bootstrap, 'linger.ms': 1000})
    errors = {}
    for i in range(100):
        p.produce('rdk', b'm%d' % i, key=None if i % 10 == 0 else b'k%d' % i, partition=0,
                  on_delivery=lambda err, msg: errors.__setitem__(int(msg.value()[1:]), err and err.code()))
    assert p.flush(30) == 0
    assert len(errors) == 100
    assert {errors[i] for i in range(0, 100, 10)} == {KafkaError.INVALID_RECORD}
    if libversion()[1] >= 0x02040000:  # reads record_errors (KIP-467, librdkafka 2.4)
        refused_with_them = KafkaError._INVALID_DIFFERENT_RECORD
    else:                              # fails a refused batch alike
        refused_with_them = KafkaError.INVALID_RECORD
    keyed = {i: e for i, e in errors.items() if i % 10}
    assert set(keyed.values()) <= {None, refused_with_them}
    assert refused_with_them in keyed.values()
    stored_ok = [b'm%d' % i for i in sorted(keyed) if keyed[i] is None]
    assert stored(broker, 'rdk', len(stored_ok)) == stored_ok
