"""Produce and Fetch at the byte level, through integration/kafka_wire.py and
the small encoders below: a record batch written with Produce v3 comes back
from Fetch v4 with the same bytes; the error codes real clients rely on
(UNKNOWN_TOPIC_OR_PARTITION, OFFSET_OUT_OF_RANGE); the connection closes on
Produce v0-v2 (message formats v0/v1, gone in Kafka 4); a Fetch with
max_wait_ms parks until its wait ends, or until a produce satisfies it.

Layouts: Apache Kafka's ProduceRequest/Response.json, FetchRequest/Response.json
and the record batch v2 format (KIP-98); CRC-32C as in RFC 3720.
"""

import struct
import threading
import time
import zlib

import pytest

from kafka_wire import Connection, Reader, Writer

API_PRODUCE = 0
API_FETCH = 1

NONE = 0
OFFSET_OUT_OF_RANGE = 1
UNKNOWN_TOPIC_OR_PARTITION = 3
LEADER_NOT_AVAILABLE = 5

BASE_TS = 1_700_000_000_000


# CRC-32C (Castagnoli), reflected polynomial 0x82F63B78.
def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = CRC32C_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def test_crc32c_check_value():
    assert crc32c(b'123456789') == 0xE3069283


# Record batch v2.

def varint(v):
    """A zigzag varint (signed)."""
    return Writer().uvarint((v << 1) ^ (v >> 63)).bytes()


def varbytes(b):
    return varint(-1) if b is None else varint(len(b)) + b


def record(offset_delta, ts_delta, key, value, headers=()):
    body = b'\x00' + varint(ts_delta) + varint(offset_delta) + varbytes(key) + varbytes(value)
    body += varint(len(headers))
    for k, v in headers:
        body += varbytes(k.encode()) + varbytes(v)
    return varint(len(body)) + body


def record_batch(records, base_ts=BASE_TS):
    """An uncompressed, non-transactional batch of (key, value, headers)
    records with timestamps base_ts, base_ts+1, ...; base offset 0."""
    n = len(records)
    after_crc = struct.pack('>hiqqqhii', 0, n - 1, base_ts, base_ts + n - 1, -1, -1, -1, n)
    after_crc += b''.join(record(i, i, k, v, h) for i, (k, v, h) in enumerate(records))
    after_length = struct.pack('>ibI', -1, 2, crc32c(after_crc)) + after_crc
    return struct.pack('>qi', 0, len(after_length)) + after_length


def decode_batch(b):
    """The records of one uncompressed batch: (offset, timestamp, key, value, headers)."""
    r = Reader(b)
    base_offset = struct.unpack('>q', r.take(8))[0]
    length = r.i32()
    assert length == len(b) - 12
    r.i32()                                  # partition leader epoch
    assert r.i8() == 2
    crc = struct.unpack('>I', r.take(4))[0]
    assert crc == crc32c(b[21:]), 'batch CRC'
    attributes, _, base_ts, _, _, _, _, count = struct.unpack('>hiqqqhii', r.take(40))
    assert attributes & 0x07 == 0, 'compressed'

    def svarint():
        u = r.uvarint()
        return (u >> 1) ^ -(u & 1)

    def vbytes():
        n = svarint()
        return None if n < 0 else r.take(n)

    out = []
    for _ in range(count):
        end = svarint() + r.pos
        r.i8()
        ts = base_ts + svarint()
        offset = base_offset + svarint()
        key, value = vbytes(), vbytes()
        headers = tuple((vbytes().decode(), vbytes()) for _ in range(svarint()))
        assert r.pos == end
        out.append((offset, ts, key, value, headers))
    r.done()
    return out


# Produce (key 0).

def produce_request(version, topic, partition, records_bytes, acks=-1, timeout_ms=10000):
    w = Writer()
    if version >= 3:
        w.string(None)                       # transactional_id
    w.i16(acks).i32(timeout_ms)
    w.array_len(1).string(topic).array_len(1).i32(partition)
    w.i32(len(records_bytes)).raw(records_bytes)
    return w.bytes()


def decode_produce_v3(r):
    def partition():
        p = {'index': r.i32(), 'error_code': r.i16()}
        p['base_offset'], p['log_append_time_ms'] = struct.unpack('>qq', r.take(16))
        return p

    responses = r.array(lambda: (r.string(), r.array(partition)))
    throttle = r.i32()
    r.done()
    assert throttle == 0
    return responses


def message_set_v1(key, value, ts=BASE_TS):
    """One legacy message (magic 1, pre-KIP-98) in a message set."""
    body = struct.pack('>bbq', 1, 0, ts) + struct.pack('>i', len(key)) + key + struct.pack('>i', len(value)) + value
    msg = struct.pack('>I', zlib.crc32(body)) + body
    return struct.pack('>qi', 0, len(msg)) + msg


# Fetch (key 1).

def fetch_request_v4(topic, partition, offset, max_wait_ms=0, min_bytes=1, max_bytes=1 << 20):
    w = Writer().i32(-1).i32(max_wait_ms).i32(min_bytes).i32(50 << 20).i8(0)
    w.array_len(1).string(topic).array_len(1).i32(partition)
    w.raw(struct.pack('>q', offset)).i32(max_bytes)
    return w.bytes()


def decode_fetch_v4(r):
    def aborted():
        return struct.unpack('>qq', r.take(16))

    def partition():
        p = {'partition_index': r.i32(), 'error_code': r.i16()}
        p['high_watermark'], p['last_stable_offset'] = struct.unpack('>qq', r.take(16))
        p['aborted_transactions'] = r.array(aborted, nullable=True)
        n = r.i32()
        p['records'] = None if n < 0 else r.take(n)
        return p

    assert r.i32() == 0                      # throttle_time_ms
    responses = r.array(lambda: (r.string(), r.array(partition)))
    r.done()
    return responses


def fetch(conn, topic, partition, offset, **kw):
    ((name, (p,)),) = decode_fetch_v4(conn.request(API_FETCH, 4, fetch_request_v4(topic, partition, offset, **kw)))
    assert (name, p['partition_index']) == (topic, partition)
    return p


def create_topic(b, topic):
    """Auto-creates `topic` with a Metadata request; waits until it has a leader."""
    with Connection(b.host, b.port) as c:
        for _ in range(100):
            (t,) = c.metadata(4, [topic])['topics']
            if t['error_code'] != LEADER_NOT_AVAILABLE:
                break
            time.sleep(0.05)
    assert t['error_code'] == NONE
    return t


def produce(conn, topic, partition, batch, version=3):
    ((name, (p,)),) = decode_produce_v3(conn.request(API_PRODUCE, version,
                                                     produce_request(version, topic, partition, batch)))
    assert (name, p['index']) == (topic, partition)
    return p


RECORDS = [(b'k0', b'v0', ()), (None, b'', (('h', b'x'), ('h', b''))), (b'', None, (('n', None),))]


def test_produce_v3_then_fetch_v4_returns_the_same_bytes(start_broker):
    b = start_broker(num_partitions=1)
    create_topic(b, 'raw')
    batch = record_batch(RECORDS)
    with Connection(b.host, b.port) as c:
        assert produce(c, 'raw', 0, batch) == {'index': 0, 'error_code': NONE, 'base_offset': 0,
                                               'log_append_time_ms': -1}
        assert produce(c, 'raw', 0, batch)['base_offset'] == 3
        p = fetch(c, 'raw', 0, 0)
    assert (p['error_code'], p['high_watermark'], p['last_stable_offset']) == (NONE, 6, 6)
    assert p['aborted_transactions'] in (None, [])
    # One segment: Kafka rolls on time by the new batch's timestamp minus the
    # segment's first (LogSegment.timeWaitedForRoll), and these are old (2023).
    assert [f.name for f in (b.data_dir / 'raw-0').glob('*.log')] == ['00000000000000000000.log']
    # Two batches, bytes unchanged from the attributes on (what the CRC covers),
    # base offsets 0 and 3.
    first, second = p['records'][:len(batch)], p['records'][len(batch):]
    assert len(second) == len(batch)
    assert first[21:] == batch[21:] and second[21:] == batch[21:]
    assert first[16:21] == batch[16:21]       # magic and CRC
    assert struct.unpack('>q', second[:8])[0] == 3
    assert decode_batch(first) + decode_batch(second) == [
        (base + i, BASE_TS + i, k, v, h) for base in (0, 3) for i, (k, v, h) in enumerate(RECORDS)]


def test_produce_to_unknown_topic_is_unknown_topic_or_partition(start_broker):
    b = start_broker(auto_create_topics_enable=False)
    with Connection(b.host, b.port) as c:
        p = produce(c, 'nowhere', 0, record_batch(RECORDS))
        assert p['error_code'] == UNKNOWN_TOPIC_OR_PARTITION
        assert c.metadata(4, ['nowhere'])['topics'][0]['error_code'] == UNKNOWN_TOPIC_OR_PARTITION


def test_produce_to_unknown_partition_is_unknown_topic_or_partition(start_broker):
    b = start_broker(num_partitions=2)
    create_topic(b, 'two')
    with Connection(b.host, b.port) as c:
        assert produce(c, 'two', 2, record_batch(RECORDS))['error_code'] == UNKNOWN_TOPIC_OR_PARTITION
        assert fetch(c, 'two', 2, 0)['error_code'] == UNKNOWN_TOPIC_OR_PARTITION


def test_fetch_out_of_range(start_broker):
    b = start_broker(num_partitions=1)
    create_topic(b, 'oor')
    with Connection(b.host, b.port) as c:
        produce(c, 'oor', 0, record_batch(RECORDS))
        at_end = fetch(c, 'oor', 0, 3)
        past = fetch(c, 'oor', 0, 4)
        negative = fetch(c, 'oor', 0, -5)
    assert (at_end['error_code'], at_end['high_watermark'], at_end['records'] or b'') == (NONE, 3, b'')
    # As Kafka: a partition read error reports no offsets (high watermark -1).
    assert (past['error_code'], past['high_watermark'], past['records'] or b'') == (OFFSET_OUT_OF_RANGE, -1, b'')
    assert negative['error_code'] == OFFSET_OUT_OF_RANGE


@pytest.mark.parametrize('version', [0, 1, 2])
def test_produce_v0_to_v2_closes_the_connection(start_broker, version):
    b = start_broker(num_partitions=1)
    create_topic(b, 'old')
    with Connection(b.host, b.port) as c:
        c.send(API_PRODUCE, version, produce_request(version, 'old', 0, message_set_v1(b'k', b'v')))
        assert c.wait_closed()
    # Nothing was written, and the broker serves everyone else.
    with Connection(b.host, b.port) as c:
        p = fetch(c, 'old', 0, 0)
    assert (p['error_code'], p['high_watermark']) == (NONE, 0)


def test_fetch_waits_max_wait_ms_when_there_is_nothing(start_broker):
    b = start_broker(num_partitions=1)
    create_topic(b, 'idle')
    with Connection(b.host, b.port, timeout=10) as c:
        started = time.monotonic()
        p = fetch(c, 'idle', 0, 0, max_wait_ms=1500)
        waited = time.monotonic() - started
    assert (p['error_code'], p['high_watermark'], p['records'] or b'') == (NONE, 0, b'')
    assert waited >= 1.4, f'answered after {waited:.2f} s of a 1.5 s wait'


def test_parked_fetch_is_answered_by_a_produce(start_broker):
    b = start_broker(num_partitions=1)
    create_topic(b, 'wake')
    batch = record_batch(RECORDS[:1])
    result = {}

    def consume():
        with Connection(b.host, b.port, timeout=30) as c:
            result['started'] = time.monotonic()
            result['fetch'] = fetch(c, 'wake', 0, 0, max_wait_ms=20000)
            result['done'] = time.monotonic()

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(1.0)
    with Connection(b.host, b.port) as c:
        produced = time.monotonic()
        assert produce(c, 'wake', 0, batch)['error_code'] == NONE
    t.join(30)
    assert not t.is_alive()
    p = result['fetch']
    assert (p['error_code'], p['high_watermark']) == (NONE, 1)
    assert p['records'][21:] == batch[21:]
    assert result['done'] - produced < 8.0, 'the Fetch waited for its 20 s max_wait_ms'
