"""The Kafka wire protocol at the byte level: ApiVersions at every version,
response header layouts, pipelining, and what the broker does with frames it
cannot serve (Kafka closes the connection and keeps serving everyone else)."""

import socket
import struct

import pytest

import kafka_wire as kw
from kafka_wire import API_METADATA, API_VERSIONS, Connection
from test_produce_fetch import consume_confluent

pytestmark = pytest.mark.smoke

# The ranges skiff advertises today (README "Supported APIs"); keep in step.
EXPECTED_RANGES = {API_VERSIONS: (0, 4), API_METADATA: (0, 13)}
UNSUPPORTED_VERSION = 35


def assert_serving(broker):
    """The broker answers a fresh connection."""
    with Connection(broker.host, broker.port) as c:
        assert c.api_versions(3)['error_code'] == 0


@pytest.mark.parametrize('version', [0, 1, 2, 3, 4])
def test_api_versions_every_version(broker, version):
    with Connection(broker.host, broker.port) as c:
        resp = c.api_versions(version)
    assert resp['error_code'] == 0
    for key, expected in EXPECTED_RANGES.items():
        assert resp['api_keys'].get(key) == expected
    for key, (lo, hi) in resp['api_keys'].items():
        assert 0 <= lo <= hi, f'api key {key} advertises {lo}-{hi}'
    if version >= 1:
        assert resp['throttle_time_ms'] == 0


@pytest.mark.parametrize('version', [3, 4])
def test_api_versions_flexible_response_header_has_no_tagged_fields(broker, version):
    with Connection(broker.host, broker.port) as c:
        corr = c.send(API_VERSIONS, version, kw.api_versions_request(version), correlation_id=0x01020304)
        raw = c.recv_frame()
    # Response header v0: the correlation id, then the body's error code at once.
    assert raw[:4] == b'\x01\x02\x03\x04'
    assert corr == 0x01020304
    resp = kw.decode_api_versions(kw.Reader(raw[4:]), version)  # consumes every byte
    assert resp['error_code'] == 0
    assert resp['api_keys'][API_VERSIONS] == EXPECTED_RANGES[API_VERSIONS]
    assert resp['throttle_time_ms'] == 0


def test_api_versions_unsupported_version_answers_v0_body(broker):
    with Connection(broker.host, broker.port) as c:
        corr = c.send(API_VERSIONS, 127, kw.api_versions_request(127))
        raw = c.recv_frame()
        assert raw[:4] == struct.pack('>i', corr)
        resp = kw.decode_api_versions(kw.Reader(raw[4:]), 0)
        assert resp['error_code'] == UNSUPPORTED_VERSION
        assert resp['api_keys'][API_VERSIONS] == EXPECTED_RANGES[API_VERSIONS]
        # The connection stays usable: the client retries with a version it knows.
        assert c.api_versions(3)['error_code'] == 0


def test_pipelined_requests_answered_in_order(broker):
    plan = [(API_VERSIONS, v) for v in range(5)] + [(API_METADATA, v) for v in (0, 1, 4, 9, 12)]
    with Connection(broker.host, broker.port) as c:
        wire = b''
        for i, (key, version) in enumerate(plan):
            body = (kw.api_versions_request(version) if key == API_VERSIONS
                    else kw.metadata_request(version))
            wire += kw.encode_request(key, version, 1000 + i, body)
        c.send_raw(wire)
        for i, (key, version) in enumerate(plan):
            r = c.recv(key, version, 1000 + i)
            if key == API_VERSIONS:
                assert kw.decode_api_versions(r, version)['error_code'] == 0
            else:
                assert kw.decode_metadata(r, version)['brokers'][0]['node_id'] == 1


@pytest.mark.parametrize('chunk', [None, 1000, 65536 + 7])
def test_large_requests_in_pieces_answered_in_order(broker, chunk):
    """Requests of 64 KiB and more are read straight into their frame;
    whatever way the bytes arrive (all at once, or in pieces that split
    size prefixes and frames anywhere), every request is served, in order,
    and the log holds exactly what was sent."""
    from test_produce_fetch_wire import API_PRODUCE, decode_produce_v3, produce_request, record_batch
    topic = f'big-{chunk}'
    values = [b'%d' % i * n for i, n in enumerate([70_000, 10, 200_000, 65_400, 65_600, 500_000, 3])]
    with Connection(broker.host, broker.port) as c:
        wire = b''.join(kw.encode_request(API_PRODUCE, 3, 500 + i,
                                          produce_request(3, topic, 0, record_batch([(None, v, ())])))
                        for i, v in enumerate(values))
        if chunk is None:
            c.send_raw(wire)
        else:
            for at in range(0, len(wire), chunk):
                c.send_raw(wire[at:at + chunk])
        for i in range(len(values)):
            ((_, (p,)),) = decode_produce_v3(c.recv(API_PRODUCE, 3, 500 + i))
            assert (p['error_code'], p['base_offset']) == (0, i)
    got = consume_confluent(broker.bootstrap, topic, [0], len(values))
    assert [m.value for m in got] == values


def test_client_vanishing_mid_large_frame(broker):
    s = socket.create_connection((broker.host, broker.port))
    s.sendall(struct.pack('>i', 1_000_000) + b'\0' * 300_000)
    s.close()
    assert_serving(broker)


def test_request_at_size_limit_is_served(start_broker):
    b = start_broker(socket_request_max_bytes=1000)
    # An ApiVersions v3 request padded (client software name) to exactly 1000 bytes.
    base = len(kw.encode_request(API_VERSIONS, 3, 1, kw.api_versions_request(3, 'a' * 200))) - 4
    body = kw.api_versions_request(3, 'a' * (200 + 1000 - base))
    data = kw.encode_request(API_VERSIONS, 3, 1, body)
    assert struct.unpack('>i', data[:4])[0] == 1000
    with Connection(b.host, b.port) as c:
        c.send_raw(data)
        assert kw.decode_api_versions(c.recv(API_VERSIONS, 3, 1), 3)['error_code'] == 0


@pytest.mark.parametrize('size', [1001, 1 << 30, -1, -(1 << 31)])
def test_bad_frame_size_closes_connection(start_broker, size):
    b = start_broker(socket_request_max_bytes=1000)
    with Connection(b.host, b.port) as c:
        c.send_raw(struct.pack('>i', size) + b'\0' * 64)
        assert c.wait_closed()
    assert_serving(b)


def test_unknown_api_key_closes_connection(broker):
    with Connection(broker.host, broker.port) as c:
        c.send_raw(kw.encode_request(9999, 0, 7, b''))
        assert c.wait_closed()
    assert_serving(broker)


def test_unsupported_metadata_version_closes_connection(broker):
    # Kafka answers only ApiVersions at an unsupported version; any other API closes.
    with Connection(broker.host, broker.port) as c:
        c.send_raw(kw.encode_request(API_METADATA, 14, 7, kw.metadata_request(13)))
        assert c.wait_closed()
    assert_serving(broker)


MALFORMED = {
    # Metadata v1: three topics announced, none present.
    'truncated-array': (API_METADATA, 1, struct.pack('>i', 3)),
    # Metadata v1: one topic whose name is 300 bytes long, 5 bytes present.
    'truncated-string': (API_METADATA, 1, struct.pack('>ih', 1, 300) + b'abcde'),
    # Metadata v4: a topic count far beyond the frame.
    'huge-array': (API_METADATA, 4, struct.pack('>i', 0x7FFFFFFF) + b'\x01'),
    # Metadata v9: an unsigned varint that never ends.
    'endless-varint': (API_METADATA, 9, b'\xff' * 16),
    # Metadata v4: the body stops before allow_auto_topic_creation.
    'missing-field': (API_METADATA, 4, struct.pack('>i', 0)),
}


@pytest.mark.parametrize('case', sorted(MALFORMED))
def test_malformed_metadata_closes_connection(broker, case):
    key, version, body = MALFORMED[case]
    with Connection(broker.host, broker.port) as c:
        c.send_raw(kw.encode_request(key, version, 11, body))
        assert c.wait_closed()
    assert_serving(broker)


@pytest.mark.parametrize('payload', [b'', b'\x00', b'\x00\x03\x00'], ids=['empty', '1-byte', '3-byte'])
def test_truncated_request_header_closes_connection(broker, payload):
    with Connection(broker.host, broker.port) as c:
        c.send_raw(kw.frame(payload))
        assert c.wait_closed()
    assert_serving(broker)


def test_good_responses_before_a_bad_request_are_sent(broker):
    with Connection(broker.host, broker.port) as c:
        c.send_raw(kw.encode_request(API_VERSIONS, 3, 1, kw.api_versions_request(3)) +
                   kw.encode_request(9999, 0, 2, b''))
        assert kw.decode_api_versions(c.recv(API_VERSIONS, 3, 1), 3)['error_code'] == 0
        assert c.wait_closed()


def test_client_vanishing_mid_frame(broker):
    s = socket.create_connection((broker.host, broker.port))
    s.sendall(struct.pack('>i', 100) + b'\0' * 10)
    s.close()
    assert_serving(broker)


def test_many_connections(broker):
    conns = [Connection(broker.host, broker.port) for _ in range(50)]
    try:
        for i, c in enumerate(conns):
            c.send(API_VERSIONS, i % 5, kw.api_versions_request(i % 5), correlation_id=i)
        for i, c in enumerate(conns):
            assert kw.decode_api_versions(c.recv(API_VERSIONS, i % 5, i), i % 5)['error_code'] == 0
    finally:
        for c in conns:
            c.close()
