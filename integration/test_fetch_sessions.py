"""Fetch sessions (KIP-227) through raw Fetch v7 requests: a full fetch opens
a session, incremental fetches carry only what changed and answer only the
partitions with news, forgotten partitions drop out, bad ids and epochs get
Kafka's error codes, and epoch -1 closes the session."""

import struct

from confluent_kafka import Producer

from kafka_wire import Connection, Writer, Reader

API_FETCH = 1
FETCH_SESSION_ID_NOT_FOUND = 70
INVALID_FETCH_SESSION_EPOCH = 71


def produce(bootstrap, topic, values):
    p = Producer({'bootstrap.servers': bootstrap})
    for v in values:
        p.produce(topic, v, partition=0)
    assert p.flush(10) == 0


def fetch_v7(session_id, epoch, parts, forgotten=(), max_bytes=1 << 20):
    """parts: [(topic, partition, fetch_offset)]; forgotten: [(topic, [partitions])]."""
    w = Writer().i32(-1).i32(0).i32(0).i32(max_bytes).i8(0).i32(session_id).i32(epoch)
    by_topic = {}
    for t, p, off in parts:
        by_topic.setdefault(t, []).append((p, off))
    w.i32(len(by_topic))
    for t, ps in by_topic.items():
        w.string(t).i32(len(ps))
        for p, off in ps:
            w.i32(p).raw(struct.pack('>qq', off, -1)).i32(1 << 20)
    w.i32(len(forgotten))
    for t, ps in forgotten:
        w.string(t).i32(len(ps))
        for p in ps:
            w.i32(p)
    return w.bytes()


def i64(r):
    return struct.unpack('>q', r.take(8))[0]


def record_count(records):
    """Sum of the record counts of the batches in `records`."""
    n, pos = 0, 0
    while pos + 61 <= len(records):
        (length,) = struct.unpack_from('>i', records, pos + 8)
        (count,) = struct.unpack_from('>i', records, pos + 57)
        n += count
        pos += 12 + length
    return n


def decode(r, bases=None):
    """Fetch v7 response -> (error_code, session_id, {(topic, partition): (error, hw, records)}).
    With `bases` (a dict), also sets bases[(topic, partition)] to the base
    offset of the first batch returned."""
    r.i32()  # throttle_time_ms
    error, session = r.i16(), r.i32()
    out = {}
    for _ in range(r.i32()):
        topic = r.string()
        for _ in range(r.i32()):
            p, err, hw = r.i32(), r.i16(), i64(r)
            i64(r)  # last_stable_offset
            i64(r)  # log_start_offset
            n_aborted = r.i32()
            for _ in range(max(n_aborted, 0)):
                r.take(16)
            size = r.i32()
            records = r.take(size) if size > 0 else b''
            out[(topic, p)] = (err, hw, record_count(records))
            if bases is not None and records:
                bases[(topic, p)] = i64(Reader(records[:8]))
    r.done()
    return error, session, out


def test_fetch_session_lifecycle(broker):
    produce(broker.bootstrap, 'fs', [b'a', b'b', b'c'])
    produce(broker.bootstrap, 'fs2', [b'x'])
    with Connection(broker.host, broker.port) as c:
        # A full fetch with epoch 0 opens a session and answers every partition.
        err, sid, parts = decode(c.request(API_FETCH, 7, fetch_v7(0, 0, [('fs', 0, 0), ('fs2', 0, 0)])))
        assert err == 0 and sid > 0
        assert parts == {('fs', 0): (0, 3, 3), ('fs2', 0): (0, 1, 1)}

        # Incremental: the client moves both offsets to the end; nothing is new.
        err, got_sid, parts = decode(c.request(API_FETCH, 7, fetch_v7(sid, 1, [('fs', 0, 3), ('fs2', 0, 1)])))
        assert (err, got_sid, parts) == (0, sid, {})

        # New data on fs only: an incremental fetch listing nothing answers fs alone.
        produce(broker.bootstrap, 'fs', [b'd'])
        err, got_sid, parts = decode(c.request(API_FETCH, 7, fetch_v7(sid, 2, [])))
        assert (err, got_sid, parts) == (0, sid, {('fs', 0): (0, 4, 1)})

        # The same epoch again is stale; an unknown id is not found.
        err, _, parts = decode(c.request(API_FETCH, 7, fetch_v7(sid, 2, [])))
        assert (err, parts) == (INVALID_FETCH_SESSION_EPOCH, {})
        err, _, parts = decode(c.request(API_FETCH, 7, fetch_v7(sid + 1000, 1, [])))
        assert (err, parts) == (FETCH_SESSION_ID_NOT_FOUND, {})

        # Forget fs2 (and move fs to its end): news on fs2 is no longer reported.
        err, _, parts = decode(c.request(API_FETCH, 7, fetch_v7(sid, 3, [('fs', 0, 4)], forgotten=[('fs2', [0])])))
        assert (err, parts) == (0, {})
        produce(broker.bootstrap, 'fs2', [b'y'])
        err, _, parts = decode(c.request(API_FETCH, 7, fetch_v7(sid, 4, [])))
        assert (err, parts) == (0, {})

        # Epoch -1 closes the session and fetches in full without one.
        err, got_sid, parts = decode(c.request(API_FETCH, 7, fetch_v7(sid, -1, [('fs2', 0, 0)])))
        assert (err, got_sid, parts) == (0, 0, {('fs2', 0): (0, 2, 2)})
        err, _, _ = decode(c.request(API_FETCH, 7, fetch_v7(sid, 5, [])))
        assert err == FETCH_SESSION_ID_NOT_FOUND


def test_session_keeps_offsets_of_partitions_without_news(broker):
    """A partition the session-opening fetch found with nothing new keeps its
    fetch offset in the session: a later incremental fetch that does not list
    it reads on from there, not from the log's start. (franz-go consumers
    stalled on this: they were sent the batch at offset 0 over and over.)"""
    produce(broker.bootstrap, 'quiet', [b'a', b'b', b'c'])
    produce(broker.bootstrap, 'busy', [b'x'])
    with Connection(broker.host, broker.port) as c:
        err, sid, parts = decode(c.request(API_FETCH, 7, fetch_v7(0, 0, [('quiet', 0, 3), ('busy', 0, 0)])))
        assert (err, parts) == (0, {('quiet', 0): (0, 3, 0), ('busy', 0): (0, 1, 1)})

        produce(broker.bootstrap, 'quiet', [b'd', b'e'])
        bases = {}
        err, _, parts = decode(c.request(API_FETCH, 7, fetch_v7(sid, 1, [('busy', 0, 1)])), bases)
        assert (err, parts, bases) == (0, {('quiet', 0): (0, 5, 2)}, {('quiet', 0): 3})


def test_incremental_fetch_rotates_partitions_that_returned_records(broker):
    """Under a response max_bytes that one batch fills, an incremental fetch
    serves the session's partitions in turn: a partition that returned records
    goes to the end of the session's order, as in Kafka."""
    for v in (b'1', b'2', b'3'):
        produce(broker.bootstrap, 'rot0', [v])
    for v in (b'4', b'5'):
        produce(broker.bootstrap, 'rot1', [v])
    with Connection(broker.host, broker.port) as c:
        bases = {}
        err, sid, parts = decode(c.request(API_FETCH, 7, fetch_v7(0, 0, [('rot0', 0, 0), ('rot1', 0, 0)], max_bytes=1)),
                                 bases)
        assert (err, parts, bases) == (0, {('rot0', 0): (0, 3, 1), ('rot1', 0): (0, 2, 0)}, {('rot0', 0): 0})

        # rot0 is still first: it returns its next batch, then goes last.
        bases = {}
        err, _, parts = decode(c.request(API_FETCH, 7, fetch_v7(sid, 1, [('rot0', 0, 1)], max_bytes=1)), bases)
        assert (err, parts, bases) == (0, {('rot0', 0): (0, 3, 1)}, {('rot0', 0): 1})

        # Now rot1 comes first, though rot0 has a batch left.
        bases = {}
        err, _, parts = decode(c.request(API_FETCH, 7, fetch_v7(sid, 2, [('rot0', 0, 2)], max_bytes=1)), bases)
        assert (err, parts, bases) == (0, {('rot1', 0): (0, 2, 1)}, {('rot1', 0): 0})

        bases = {}
        err, _, parts = decode(c.request(API_FETCH, 7, fetch_v7(sid, 3, [('rot1', 0, 1)], max_bytes=1)), bases)
        assert (err, parts, bases) == (0, {('rot0', 0): (0, 3, 1)}, {('rot0', 0): 2})


def test_sessionless_fetch_of_unknown_topic(broker):
    with Connection(broker.host, broker.port) as c:
        err, sid, parts = decode(c.request(API_FETCH, 7, fetch_v7(0, -1, [('nope', 0, 0)])))
        assert (err, sid, parts) == (0, 0, {('nope', 0): (3, -1, 0)})
