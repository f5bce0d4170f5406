"""Idempotent producers (KIP-98, KIP-360): InitProducerId at every version,
the log's sequence checks on the wire (a retried batch answered with its
first offsets and written once, gaps, a new epoch from sequence 0, fenced
epochs), the producer state surviving a clean restart and a SIGKILL, and
confluent-kafka-python with enable.idempotence=true writing every record
exactly once while a proxy loses some of its Produce responses (the broker
appended the batch, the client never heard back and retried it)."""

import collections
import signal
import socket
import struct
import threading
import time

import pytest
from confluent_kafka import Producer

from kafka_wire import Connection, Reader, Writer
from test_produce_fetch import TIMEOUT, consume_confluent
from test_produce_fetch_wire import (API_PRODUCE, create_topic, crc32c, decode_batch, decode_produce_v3,
                                     fetch, produce_request, record)

pytestmark = pytest.mark.librdkafka

API_INIT_PRODUCER_ID = 22

NONE = 0
INVALID_REQUEST = 42
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
INVALID_PRODUCER_EPOCH = 47


def producer_batch(pid, epoch, seq, values, transactional=False):
    """An uncompressed batch of `values` (null keys) from producer `pid` at
    `epoch`, first sequence `seq`; base offset 0, timestamps from now (a
    partition forgets a producer whose newest batch timestamp is
    producer.id.expiration.ms old, as Kafka does)."""
    n = len(values)
    attributes = 0x10 if transactional else 0
    ts = int(time.time() * 1000)
    after_crc = struct.pack('>hiqqqhii', attributes, n - 1, ts, ts + n - 1, pid, epoch, seq, n)
    after_crc += b''.join(record(i, i, None, v) for i, v in enumerate(values))
    after_length = struct.pack('>ibI', -1, 2, crc32c(after_crc)) + after_crc
    return struct.pack('>qi', 0, len(after_length)) + after_length


def request(conn, api_key, version, body, flexible):
    """Sends a request (header v2 when `flexible`) and returns a Reader on
    the response body (header tags skipped)."""
    cid = conn.send(api_key, version, body, flexible=flexible)
    r = Reader(conn.recv_frame())
    assert r.i32() == cid
    if flexible:
        assert r.tags() == {}
    return r


def init_producer_id(conn, version, txn_id=None, timeout_ms=60000, pid=-1, epoch=-1):
    """InitProducerId; returns (error_code, producer_id, producer_epoch)."""
    flexible = version >= 2
    w = Writer().string(txn_id, compact=flexible).i32(timeout_ms)
    if version >= 3:
        w.raw(struct.pack('>qh', pid, epoch))
    if flexible:
        w.empty_tags()
    r = request(conn, API_INIT_PRODUCER_ID, version, w.bytes(), flexible)
    throttle, error, out_pid, out_epoch = struct.unpack('>ihqh', r.take(16))
    if flexible:
        r.tags()
    r.done()
    assert throttle == 0
    return error, out_pid, out_epoch


def produce(conn, topic, partition, batch):
    """Produce v3; returns (error_code, base_offset)."""
    ((name, (p,)),) = decode_produce_v3(conn.request(API_PRODUCE, 3, produce_request(3, topic, partition, batch)))
    assert name == topic
    return p['error_code'], p['base_offset']


def values_in_log(conn, topic):
    """Every value of partition 0, fetching segment by segment."""
    out, offset = [], 0
    while True:
        p = fetch(conn, topic, 0, offset)
        data = p['records']
        if not data:
            return out
        while data:
            size = struct.unpack('>i', data[8:12])[0] + 12
            records = decode_batch(data[:size])
            out += [v for (_, _, _, v, _) in records]
            offset = records[-1][0] + 1
            data = data[size:]


def test_init_producer_id_every_version(broker):
    with Connection(broker.host, broker.port) as c:
        seen = set()
        for v in range(6):
            err, pid, epoch = init_producer_id(c, v)
            assert (err, epoch) == (NONE, 0)
            assert pid not in seen
            seen.add(pid)
        # KIP-360 (v3+): an idempotent producer naming its id and epoch gets a
        # fresh id, as from Kafka; an id without an epoch is malformed.
        err, pid, epoch = init_producer_id(c, 4, pid=0, epoch=3)
        assert (err, epoch) == (NONE, 0) and pid not in seen
        assert init_producer_id(c, 3, pid=5, epoch=-1) == (INVALID_REQUEST, -1, -1)
        assert init_producer_id(c, 5, pid=-1, epoch=2) == (INVALID_REQUEST, -1, -1)


def test_sequences_on_the_wire(broker):
    create_topic(broker, 'seq')
    with Connection(broker.host, broker.port) as c:
        err, pid, epoch = init_producer_id(c, 0)
        assert err == NONE
        assert produce(c, 'seq', 0, producer_batch(pid, 0, 0, [b'a', b'b', b'c'])) == (NONE, 0)
        assert produce(c, 'seq', 0, producer_batch(pid, 0, 3, [b'd', b'e'])) == (NONE, 3)
        # Retries of stored batches: success with their offsets, nothing written.
        assert produce(c, 'seq', 0, producer_batch(pid, 0, 0, [b'a', b'b', b'c'])) == (NONE, 0)
        assert produce(c, 'seq', 0, producer_batch(pid, 0, 3, [b'd', b'e'])) == (NONE, 3)
        # A gap, and a new epoch that does not start at 0.
        assert produce(c, 'seq', 0, producer_batch(pid, 0, 9, [b'x']))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
        assert produce(c, 'seq', 0, producer_batch(pid, 1, 5, [b'x']))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
        # The bumped epoch starts at 0 and fences the old one.
        assert produce(c, 'seq', 0, producer_batch(pid, 1, 0, [b'f'])) == (NONE, 5)
        assert produce(c, 'seq', 0, producer_batch(pid, 0, 5, [b'x']))[0] == INVALID_PRODUCER_EPOCH
        assert values_in_log(c, 'seq') == [b'a', b'b', b'c', b'd', b'e', b'f']


@pytest.mark.parametrize('how', ['clean', 'kill'])
def test_producer_state_survives_restart(start_broker, how):
    b = start_broker(log_flush_interval_messages=1)
    create_topic(b, 'st')
    with Connection(b.host, b.port) as c:
        _, pid, _ = init_producer_id(c, 0)
        assert produce(c, 'st', 0, producer_batch(pid, 0, 0, [b'a'])) == (NONE, 0)
        assert produce(c, 'st', 0, producer_batch(pid, 0, 1, [b'b', b'c'])) == (NONE, 1)
    if how == 'clean':
        b.restart()
    else:
        b.stop(signal.SIGKILL, expect=-signal.SIGKILL)
        b.start(port=b.port)
    with Connection(b.host, b.port) as c:
        assert produce(c, 'st', 0, producer_batch(pid, 0, 1, [b'b', b'c'])) == (NONE, 1)
        assert produce(c, 'st', 0, producer_batch(pid, 0, 4, [b'x']))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
        assert produce(c, 'st', 0, producer_batch(pid, 0, 3, [b'd'])) == (NONE, 3)
        # Producer ids are never handed out twice, across restarts too.
        _, pid2, _ = init_producer_id(c, 0)
        assert pid2 > pid
        assert values_in_log(c, 'st') == [b'a', b'b', b'c', b'd']


class LossyProxy:
    """A TCP proxy in front of the broker that loses some Produce responses:
    it forwards the request, then closes both connections instead of
    forwarding the answer, as a network failure after the append would."""

    def __init__(self, lose_every, lose_max):
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.port = self.listener.getsockname()[1]
        self.target = None
        self.lose_every, self.lose_max = lose_every, lose_max
        self.produce_responses = 0
        self.lost = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.listener.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    @staticmethod
    def _frame(sock):
        def exact(n):
            out = b''
            while len(out) < n:
                chunk = sock.recv(n - len(out))
                if not chunk:
                    raise OSError('closed')
                out += chunk
            return out
        head = exact(4)
        return head + exact(struct.unpack('>i', head)[0])

    def _lose(self):
        with self.lock:
            self.produce_responses += 1
            if self.lost < self.lose_max and self.produce_responses % self.lose_every == 0:
                self.lost += 1
                return True
            return False

    def _serve(self, client):
        try:
            upstream = socket.create_connection(('127.0.0.1', self.target))
        except OSError:
            client.close()
            return
        keys = collections.deque()

        def requests():
            try:
                while True:
                    f = self._frame(client)
                    keys.append(struct.unpack('>h', f[4:6])[0])
                    upstream.sendall(f)
            except OSError:
                pass
            client.close()
            upstream.close()

        threading.Thread(target=requests, daemon=True).start()
        try:
            while True:
                f = self._frame(upstream)
                if keys.popleft() == API_PRODUCE and self._lose():
                    break
                client.sendall(f)
        except (OSError, IndexError):
            pass
        # shutdown() first: close() alone sends no FIN while the request
        # thread is still blocked reading the same socket, and the client
        # would wait for an answer until its timeout.
        for sock in (client, upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def test_confluent_idempotent_producer_exactly_once_with_retries(start_broker):
    proxy = LossyProxy(lose_every=7, lose_max=5)
    try:
        b = start_broker(num_partitions=3, advertised_listeners=f'PLAINTEXT://127.0.0.1:{proxy.port}')
        proxy.target = b.port
        p = Producer({'bootstrap.servers': f'127.0.0.1:{proxy.port}', 'enable.idempotence': True,
                      'linger.ms': 2, 'batch.num.messages': 20, 'reconnect.backoff.ms': 10,
                      'retry.backoff.ms': 10, 'message.timeout.ms': int(TIMEOUT * 1000)})
        errors = []
        for i in range(600):
            p.produce('exactly', key=b'k%d' % (i % 7), value=b'%d' % i, partition=i % 3,
                      on_delivery=lambda err, msg: err and errors.append(err))
            if i % 50 == 49:
                p.poll(0.05)
        assert p.flush(TIMEOUT) == 0
        assert errors == []
        assert proxy.lost >= 3, 'the proxy lost too few responses to test retries'
        # The broker advertises the proxy: read through it too.
        got = consume_confluent(b.bootstrap, 'exactly', range(3), 600, settle=0.5)
    finally:
        proxy.close()
    for q in range(3):
        assert [int(m.value) for m in got if m.partition == q] == list(range(q, 600, 3))
        assert [m.offset for m in got if m.partition == q] == list(range(200))


def test_idle_producer_expires_and_goes_on(start_broker):
    """producer.id.expiration.ms: the partition forgets an idle producer
    (DescribeProducers no longer lists it); the same producer's next batch,
    at its next sequence, is accepted as a new producer's."""
    from test_txn import describe_producers
    b = start_broker(producer_id_expiration_ms=1500, producer_id_expiration_check_interval_ms=200)
    p = Producer({'bootstrap.servers': b.bootstrap, 'enable.idempotence': True, 'linger.ms': 0})
    errors = []
    for i in range(5):
        p.produce('idle', value=b'%d' % i, partition=0, on_delivery=lambda err, msg: err and errors.append(err))
    assert p.flush(TIMEOUT) == 0
    (before,) = describe_producers(b, 'idle', [0])
    assert len(before['producers']) == 1
    pid = before['producers'][0]['producer_id']
    assert before['producers'][0]['last_sequence'] == 4
    deadline = time.monotonic() + TIMEOUT
    while describe_producers(b, 'idle', [0])[0]['producers'] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert describe_producers(b, 'idle', [0])[0]['producers'] == []
    for i in range(5, 10):
        p.produce('idle', value=b'%d' % i, partition=0, on_delivery=lambda err, msg: err and errors.append(err))
    assert p.flush(TIMEOUT) == 0
    assert errors == []
    ((after,),) = [d['producers'] for d in describe_producers(b, 'idle', [0])]
    assert (after['producer_id'], after['last_sequence']) == (pid, 9)
    got = consume_confluent(b.bootstrap, 'idle', [0], 10, settle=0.5)
    assert [(m.offset, m.value) for m in got] == [(i, b'%d' % i) for i in range(10)]
