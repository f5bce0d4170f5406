"""Records survive a restart: after SIGTERM (a clean stop, exit status 0),
after SIGKILL with every acknowledged message fsynced
(log.flush.interval.messages=1), and after SIGKILL in the middle of a heavy
produce, where the log must come back as a valid prefix of what was sent.
In every case the broker serves the same bytes, keys, headers, timestamps and
offsets as before, and new records continue at the high watermark with no
gap and no duplicate."""

import select
import signal
import subprocess
import sys
import time

from confluent_kafka import Consumer, TopicPartition

from test_produce_fetch import (BASE_TS, TIMEOUT, assert_contiguous, assert_same, consume_confluent, consumer_conf,
                                in_log_order, produce_confluent, sample_specs)


def watermarks(bootstrap, topic, partitions):
    consumer = Consumer(consumer_conf(bootstrap))
    try:
        return [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT) for p in partitions]
    finally:
        consumer.close()


def offset_for_time(bootstrap, topic, partition, ts):
    consumer = Consumer(consumer_conf(bootstrap))
    try:
        (tp,) = consumer.offsets_for_times([TopicPartition(topic, partition, ts)], timeout=TIMEOUT)
        assert tp.error is None
        return tp.offset
    finally:
        consumer.close()


def more(n, start):
    return [{'partition': i % 4, 'key': b'more-%d' % i, 'value': b'after restart %d' % i,
             'headers': [('restart', b'1')], 'timestamp': BASE_TS + 10_000_000 + i} for i in range(start, start + n)]


def assert_survives(b, sent, start=0, partitions=4):
    """Everything in `sent` reads back identically, and new records get the
    next offsets; returns `sent` plus the new records."""
    high = {p: 0 for p in range(partitions)}
    for m in sent:
        high[m.partition] = max(high[m.partition], m.offset + 1)
    assert watermarks(b.bootstrap, 'r', range(partitions)) == [(0, high[p]) for p in range(partitions)]
    got = consume_confluent(b.bootstrap, 'r', range(partitions), len(sent), settle=0.5)
    assert_contiguous(got)
    assert_same(in_log_order(got), in_log_order(sent))

    extra = produce_confluent(b.bootstrap, 'r', more(2 * partitions, start))
    assert sorted((m.partition, m.offset) for m in extra) == \
        sorted((p, high[p] + k) for p in range(partitions) for k in range(2))
    got = consume_confluent(b.bootstrap, 'r', range(partitions), len(sent) + len(extra), settle=0.5)
    assert_contiguous(got)
    assert_same(in_log_order(got), in_log_order(sent + extra))
    return sent + extra


def first_offset_at(sent, partition, ts):
    """ListOffsets by time: the first offset whose timestamp is >= ts, else -1."""
    return min((m.offset for m in sent if m.partition == partition and m.timestamp[1] >= ts), default=-1)


def test_records_survive_sigterm(start_broker):
    b = start_broker(num_partitions=4)
    sent = produce_confluent(b.bootstrap, 'r', sample_specs(4, 200))
    queries = [(p, BASE_TS + ms) for p in range(4) for ms in (0, 50_500, 100_000, 199_000, 10**12)]
    answers = [first_offset_at(sent, p, ts) for p, ts in queries]
    assert [offset_for_time(b.bootstrap, 'r', p, ts) for p, ts in queries] == answers

    b.restart()                                  # SIGTERM, exit status 0, same port and data dir
    assert [offset_for_time(b.bootstrap, 'r', p, ts) for p, ts in queries] == answers
    sent = assert_survives(b, sent)

    b.restart()
    assert_survives(b, sent, start=100)


def test_acknowledged_records_survive_sigkill(start_broker):
    b = start_broker(num_partitions=4, log_flush_interval_messages=1)
    sent = []
    for _ in range(2):
        sent += produce_confluent(b.bootstrap, 'r', sample_specs(4, 100))
        assert b.stop(signal.SIGKILL, expect=-signal.SIGKILL) == -signal.SIGKILL
        b.start(port=b.port)
    assert_contiguous(in_log_order(sent))        # the second round continued the first
    sent = assert_survives(b, sent)

    b.stop(signal.SIGKILL, expect=-signal.SIGKILL)
    b.start(port=b.port)
    assert_survives(b, sent, start=100)


# Produces "0", "1", ... to partition 0 of topic r as fast as it can with
# acks=1; prints "producing" once the first record is acknowledged.
HEAVY_PRODUCER = r'''
import sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1], 'acks': 1, 'linger.ms': 1,
              'queue.buffering.max.messages': 100000, 'message.timeout.ms': 60000})
acked = []


def delivered(err, msg):
    if err is None and not acked:
        acked.append(msg.offset())
        print('producing', flush=True)


i = 0
while True:
    try:
        p.produce('r', value=b'%d' % i, partition=0, on_delivery=delivered)
        i += 1
    except BufferError:
        p.poll(0.01)
    p.poll(0)
'''


def test_sigkill_during_heavy_produce_leaves_a_valid_prefix(start_broker):
    b = start_broker(num_partitions=1)
    producer = subprocess.Popen([sys.executable, '-c', HEAVY_PRODUCER, b.bootstrap], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
    try:
        ready, _, _ = select.select([producer.stdout], [], [], TIMEOUT)
        assert ready and producer.stdout.readline() == 'producing\n', 'the producer never got an ack'
        time.sleep(1.0)
        b.stop(signal.SIGKILL, expect=-signal.SIGKILL)
    finally:
        producer.kill()
        producer.wait()

    b.start(port=b.port)
    ((low, high),) = watermarks(b.bootstrap, 'r', [0])
    assert low == 0 and high > 0
    got = consume_confluent(b.bootstrap, 'r', [0], high, settle=0.5)
    # Every offset once, in order, each holding the record sent as number `offset`.
    assert [m.offset for m in got] == list(range(high))
    assert [m.value for m in got] == [b'%d' % i for i in range(high)]

    (new,) = produce_confluent(b.bootstrap, 'r', [{'partition': 0, 'key': None, 'value': b'new', 'headers': None,
                                                   'timestamp': None}])
    assert new.offset == high
