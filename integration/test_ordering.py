"""Responses leave a connection in request order, also when one is parked
(a long-poll Fetch), and a client that does not read is back-pressured
rather than buffered without bound."""

import socket
import struct
import time

from kafka_wire import Connection, Writer, API_METADATA, metadata_request

API_FETCH = 1


def fetch_v4(topic, offset, max_wait_ms, min_bytes):
    w = Writer().i32(-1).i32(max_wait_ms).i32(min_bytes).i32(1 << 20).i8(0).i32(1)
    w.string(topic).i32(1).i32(0).raw(struct.pack('>q', offset)).i32(1 << 20)
    return w.bytes()


def test_parked_fetch_holds_back_later_responses(start_broker):
    broker = start_broker(num_partitions=1)
    with Connection(broker.host, broker.port) as c:
        c.metadata(4, ['lp'])  # creates the topic
        t0 = time.monotonic()
        fetch_id = c.send(API_FETCH, 4, fetch_v4('lp', 0, 800, 1))
        meta_id = c.send(API_METADATA, 4, metadata_request(4, ['lp']))
        r = c.recv(API_FETCH, 4, fetch_id)  # the fetch must come first, after its wait
        waited = time.monotonic() - t0
        c.recv(API_METADATA, 4, meta_id)
    assert r.left() > 0
    assert waited >= 0.7, f'fetch answered after {waited:.3f}s, before its max_wait_ms'


def test_unread_responses_pause_reading_without_loss(start_broker):
    # A tiny output bound: the broker must stop reading this client's
    # requests while its responses are unsent, then resume, losing nothing.
    broker = start_broker(config={'skiff.connection.output.max.bytes': 4096, 'log.level': 'debug'})
    n = 2000
    with Connection(broker.host, broker.port, timeout=30) as c:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        ids = [c.send(API_METADATA, 1, metadata_request(1, None)) for _ in range(n)]
        for cid in ids:
            c.recv(API_METADATA, 1, cid)
    with Connection(broker.host, broker.port) as c:  # and the broker still serves others
        c.metadata(1)
    assert 'reads paused' in broker.run_log
