"""Differences from Apache Kafka 4.4 found by running it beside skiff (issue
16), each checked against the real broker first (scripts/kafka-oracle.sh):

- Fetch below v10 of a compression.type=zstd topic serves the zstd batches as
  stored (Kafka 4 dropped the refusal with down-conversion, KAFKA-18269);
  Produce below v7 with a zstd batch is still UNSUPPORTED_COMPRESSION_TYPE
  (ProduceRequest.validateRecords).
- An LZ4 batch whose frame descriptor lacks the block-independence flag (lz4js
  writes such frames) is UNKNOWN_SERVER_ERROR, as Kafka's
  Lz4BlockOutputStream.FLG.validate throws "Dependent block stream is
  unsupported"; with a bad CRC it is CORRUPT_MESSAGE (checked first).

Batches are the captured librdkafka ones of tests/data/compressed/ sent
through the schema-driven raw client (integration/kfs.py).
"""

import pathlib
import struct

import pytest

import kfs
from kafka_wire import Connection
from test_produce_fetch_wire import crc32c

DATA = pathlib.Path(__file__).resolve().parent.parent / 'tests' / 'data' / 'compressed'
LZ4_BATCH = (DATA / 'librdkafka_lz4.bin').read_bytes()
ZSTD_BATCH = (DATA / 'librdkafka_zstd.bin').read_bytes()

NONE = 0
UNKNOWN_SERVER_ERROR = -1
CORRUPT_MESSAGE = 2
UNSUPPORTED_COMPRESSION_TYPE = 76

RECORDS_AT = 61          # a batch's record area (its LZ4 frame) starts here
FLG_INDEPENDENT = 0x20


def xxh32(data, seed=0):
    """XXH32 of fewer than 16 bytes (the short path is all the LZ4 frame
    descriptor checksum needs)."""
    assert len(data) < 16
    p1, p2, p3, p4, p5, m = 2654435761, 2246822519, 3266489917, 668265263, 374761393, 0xFFFFFFFF

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & m

    h, i = (seed + p5 + len(data)) & m, 0
    while i + 4 <= len(data):
        h = (rotl((h + struct.unpack_from('<I', data, i)[0] * p3) & m, 17) * p4) & m
        i += 4
    for byte in data[i:]:
        h = (rotl((h + byte * p5) & m, 11) * p1) & m
    h ^= h >> 15
    h = (h * p2) & m
    h ^= h >> 13
    h = (h * p3) & m
    return h ^ (h >> 16)


def test_xxh32_check_values():
    assert xxh32(b'') == 0x02CC5D05
    assert xxh32(b'a') == 0x550D7456
    # librdkafka's frame descriptor (FLG 0x60, BD 0x40) carries HC 0x82.
    assert LZ4_BATCH[RECORDS_AT + 4:RECORDS_AT + 7] == b'\x60\x40\x82'
    assert (xxh32(b'\x60\x40') >> 8) & 0xFF == 0x82


def with_descriptor(batch, flg, bd):
    """`batch` (one LZ4 frame) with another FLG/BD, a matching header
    checksum and a new CRC: a valid frame liblz4 still reads."""
    b = bytearray(batch)
    b[RECORDS_AT + 4] = flg
    b[RECORDS_AT + 5] = bd
    b[RECORDS_AT + 6] = (xxh32(bytes([flg, bd])) >> 8) & 0xFF
    b[17:21] = struct.pack('>I', crc32c(bytes(b[21:])))
    return bytes(b)


DEPENDENT = with_descriptor(LZ4_BATCH, 0x60 & ~FLG_INDEPENDENT, 0x40)


def create_topic(conn, name, **configs):
    r = kfs.call(conn, 19, 7, {
        'topics': [{'name': name, 'num_partitions': 1, 'replication_factor': 1,
                    'configs': [{'name': k.replace('_', '.'), 'value': v} for k, v in configs.items()]}],
        'timeout_ms': 10000})
    assert r['topics'][0]['error_code'] == NONE, r


def produce(conn, version, topic, records):
    r = kfs.call(conn, 0, version, {
        'acks': -1, 'timeout_ms': 10000,
        'topic_data': [{'name': topic, 'partition_data': [{'index': 0, 'records': records}]}]})
    return r['responses'][0]['partition_responses'][0]


def fetch(conn, version, topic):
    r = kfs.call(conn, 1, version, {
        'max_wait_ms': 0, 'min_bytes': 1,
        'topics': [{'topic': topic, 'partitions': [{'partition': 0, 'fetch_offset': 0,
                                                      'partition_max_bytes': 1 << 20}]}]})
    return r['responses'][0]['partitions'][0]


@pytest.mark.parametrize('version', [4, 9, 10])
def test_fetch_below_v10_serves_a_zstd_topic_as_stored(broker, version):
    with Connection(broker.host, broker.port) as c:
        create_topic(c, 'z', compression_type='zstd')
        assert produce(c, 7, 'z', ZSTD_BATCH)['error_code'] == NONE
        p = fetch(c, version, 'z')
    assert p['error_code'] == NONE
    assert p['high_watermark'] == 4
    # The stored batch as the client sent it (offset 0, leader epoch 0).
    assert p['records'] == ZSTD_BATCH


@pytest.mark.parametrize('version,error', [(3, UNSUPPORTED_COMPRESSION_TYPE), (6, UNSUPPORTED_COMPRESSION_TYPE),
                                           (7, NONE)])
def test_produce_zstd_needs_v7(broker, version, error):
    with Connection(broker.host, broker.port) as c:
        create_topic(c, 'p')
        assert produce(c, version, 'p', ZSTD_BATCH)['error_code'] == error


@pytest.mark.parametrize('compression', ['producer', 'zstd'])
def test_lz4_dependent_blocks_are_unknown_server_error(broker, compression):
    """Refused whether the batch would be kept (producer) or recompressed
    (zstd); the independent frame it was made from is accepted."""
    with Connection(broker.host, broker.port) as c:
        create_topic(c, 't', compression_type=compression)
        assert produce(c, 3, 't', DEPENDENT)['error_code'] == UNKNOWN_SERVER_ERROR
        assert produce(c, 3, 't', LZ4_BATCH)['error_code'] == NONE
        p = fetch(c, 4, 't')
    assert (p['error_code'], p['high_watermark']) == (NONE, 4)


@pytest.mark.parametrize('flg,bd', [(0x60 | 0x01, 0x40),    # FLG reserved bit
                                    (0xA0, 0x40),           # version 2
                                    (0x60, 0x40 | 0x01),    # BD reserved bit
                                    (0x60, 0x30)])          # block size id 3
def test_lz4_descriptors_kafka_refuses(broker, flg, bd):
    with Connection(broker.host, broker.port) as c:
        create_topic(c, 't')
        assert produce(c, 3, 't', with_descriptor(LZ4_BATCH, flg, bd))['error_code'] == UNKNOWN_SERVER_ERROR


def test_lz4_dependent_blocks_with_a_bad_crc_are_corrupt_message(broker):
    bad = bytearray(DEPENDENT)
    bad[30] ^= 1                     # base timestamp: covered by the CRC
    with Connection(broker.host, broker.port) as c:
        create_topic(c, 't')
        assert produce(c, 3, 't', bytes(bad))['error_code'] == CORRUPT_MESSAGE
