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


# Dynamic broker configs (KIP-226): what Kafka 4.4's DynamicBrokerConfig
# accepts per broker ("1") and as the cluster default (""), and how
# DescribeConfigs then reports each key's sources.

BROKER = 4
INVALID_CONFIG = 40
INVALID_REQUEST = 42
DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG = 2, 3, 4, 5
RELOGIN = 'sasl.kerberos.min.time.before.relogin'       # per broker only, LONG, default 60000
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


def incremental(conn, resource, ops, validate_only=False):
    r = kfs.call(conn, 44, 1, {'resources': [{
        'resource_type': BROKER, 'resource_name': resource,
        'configs': [{'name': k, 'config_operation': op, 'value': v} for k, op, v in ops]}],
        'validate_only': validate_only})
    (res,) = r['responses']
    return res['error_code'], res['error_message']


def alter(conn, resource, configs):
    r = kfs.call(conn, 33, 2, {'resources': [{'resource_type': BROKER, 'resource_name': resource,
                                              'configs': [{'name': k, 'value': v} for k, v in configs]}]})
    (res,) = r['responses']
    return res['error_code'], res['error_message']


def describe(conn, resource, keys=None):
    """{name: (value, read_only, source, [(synonym, value, source)])}"""
    r = kfs.call(conn, 32, 4, {'resources': [{'resource_type': BROKER, 'resource_name': resource,
                                              'configuration_keys': keys}], 'include_synonyms': True})
    (res,) = r['results']
    assert res['error_code'] == NONE, res
    return {e['name']: (e['value'], e['read_only'], e['config_source'],
                        [(s['name'], s['value'], s['source']) for s in e['synonyms']]) for e in res['configs']}


def test_dynamic_broker_configs_per_broker_and_cluster_default(start_broker):
    b = start_broker(node_id=1)
    with Connection(b.host, b.port) as c:
        assert describe(c, '1', [RELOGIN]) == {RELOGIN: ('60000', False, DEFAULT_CONFIG,
                                                         [(RELOGIN, '60000', DEFAULT_CONFIG)])}
        assert incremental(c, '1', [(RELOGIN, SET, '61000')]) == (NONE, None)
        assert incremental(c, '', [('log.cleaner.threads', SET, '3')]) == (NONE, None)
        assert incremental(c, '1', [('log.cleaner.threads', SET, '2')]) == (NONE, None)
        want = {
            RELOGIN: ('61000', False, DYNAMIC_BROKER_CONFIG,
                      [(RELOGIN, '61000', DYNAMIC_BROKER_CONFIG), (RELOGIN, '60000', DEFAULT_CONFIG)]),
            'log.cleaner.threads': ('2', False, DYNAMIC_BROKER_CONFIG,
                                    [('log.cleaner.threads', '2', DYNAMIC_BROKER_CONFIG),
                                     ('log.cleaner.threads', '3', DYNAMIC_DEFAULT_BROKER_CONFIG),
                                     ('log.cleaner.threads', '1', DEFAULT_CONFIG)]),
        }
        assert describe(c, '1', [RELOGIN, 'log.cleaner.threads']) == want
        assert describe(c, '') == {'log.cleaner.threads': ('3', False, DYNAMIC_DEFAULT_BROKER_CONFIG,
                                                           [('log.cleaner.threads', '3',
                                                             DYNAMIC_DEFAULT_BROKER_CONFIG)])}
    b.stop()
    b.restart()
    with Connection(b.host, b.port) as c:
        assert describe(c, '1', [RELOGIN, 'log.cleaner.threads']) == want
        # DELETE falls back to the cluster default, then to Kafka's default.
        assert incremental(c, '1', [('log.cleaner.threads', DELETE, None)]) == (NONE, None)
        assert describe(c, '1', ['log.cleaner.threads'])['log.cleaner.threads'][:3] == \
            ('3', False, DYNAMIC_DEFAULT_BROKER_CONFIG)
        # AlterConfigs replaces the whole per-broker set.
        assert alter(c, '1', [('num.io.threads', '4')]) == (NONE, None)
        got = describe(c, '1', [RELOGIN, 'num.io.threads'])
        assert got[RELOGIN][:3] == ('60000', False, DEFAULT_CONFIG)
        assert got['num.io.threads'][:3] == ('4', False, DYNAMIC_BROKER_CONFIG)


def test_dynamic_broker_config_refusals(start_broker):
    b = start_broker(node_id=1)
    with Connection(b.host, b.port) as c:
        assert incremental(c, '', [(RELOGIN, SET, '61000')]) == (
            INVALID_REQUEST, 'Cannot update these configs at default cluster level, broker id must be specified: '
                             f'[{RELOGIN}]')
        assert incremental(c, '', [('listener.name.plaintext.ssl.keystore.type', SET, 'PKCS12')])[0] == \
            INVALID_REQUEST
        assert incremental(c, '1', [('num.partitions', SET, '3')]) == (
            INVALID_REQUEST, 'Cannot update these configs dynamically: [num.partitions]')
        assert incremental(c, '1', [(RELOGIN, SET, 'abc')]) == (
            INVALID_REQUEST, f'Invalid value abc for configuration {RELOGIN}: Not a number of type LONG')
        assert incremental(c, '1', [(RELOGIN, APPEND, '1')]) == (
            INVALID_CONFIG, f'Config value append is not allowed for config key: {RELOGIN}')
        assert incremental(c, '7', [(RELOGIN, SET, '1')]) == (
            INVALID_REQUEST, 'Unexpected broker id, expected 1, but received 7')
        assert incremental(c, '1', [(RELOGIN, SET, '61000')], validate_only=True) == (NONE, None)
        assert describe(c, '1', [RELOGIN])[RELOGIN][2] == DEFAULT_CONFIG
        # Keys neither Kafka nor skiff knows are kept as custom configs.
        assert incremental(c, '1', [('custom.key', SET, 'x')]) == (NONE, None)


def test_dynamic_broker_list_config_append_subtract(start_broker):
    b = start_broker(node_id=1)
    key = 'ssl.cipher.suites'
    with Connection(b.host, b.port) as c:
        assert incremental(c, '1', [(key, APPEND, 'A')]) == (NONE, None)
        assert incremental(c, '1', [(key, APPEND, 'B,A')]) == (NONE, None)
        assert describe(c, '1', [key])[key][0] == 'A,B'
        assert incremental(c, '1', [(key, SUBTRACT, 'A')]) == (NONE, None)
        assert describe(c, '1', [key])[key][0] == 'B'
