"""kafkajs 2.2.4 producing gzip, its one built-in codec (issue 5):
producer.send and producer.sendBatch with CompressionTypes.GZIP through
integration/js/produce.js. The partition logs hold one gzip batch (codec 1 in
the attributes at bytes 21-22 of the batch header) per partition and call,
with the right base offsets and record counts; confluent-kafka-python,
kafka-python (Fetch v4) and a kafkajs group consumer read the exact keys,
values, headers and timestamps back. A topic with compression.type=lz4
stores kafkajs's gzip batches as lz4, still read byte for byte; a compacted
topic refuses a gzip batch with a record without a key (INVALID_RECORD).
segment.ms rolls by the records' own timestamps, as in Kafka, so batches
stamped long ago do not each get a segment.

integration/js/node_modules must hold the pinned kafkajs: `npm ci` in
integration/js (scripts/test.sh runs it)."""

import json
import struct
import subprocess

from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer
from kafka import TopicPartition as KTopicPartition
from kp import timeouts

from test_kafkajs_groups import KafkajsConsumers, normalized
from test_produce_fetch import (BASE_TS, Msg, assert_same, consume_confluent, headers_tuple, in_log_order,
                                payload)
from test_produce_fetch_kafkajs import JS_DIR, Expect, js_message, run_kafkajs

GZIP, LZ4 = 1, 3


def create(bootstrap, topic, partitions, config=None):
    admin = AdminClient({'bootstrap.servers': bootstrap})
    fs = admin.create_topics([NewTopic(topic, partitions, 1, config=config or {})])
    assert fs[topic].result(10) is None


def stored_batches(data_dir, topic, partition):
    """(base offset, record count, codec) of each batch in the partition's
    segments, in offset order; every batch must be magic 2."""
    out = []
    for segment in sorted((data_dir / f'{topic}-{partition}').glob('*.log')):
        data, pos = segment.read_bytes(), 0
        while pos < len(data):
            base_offset, length = struct.unpack_from('>qi', data, pos)
            magic = data[pos + 16]
            (attributes,) = struct.unpack_from('>h', data, pos + 21)
            (count,) = struct.unpack_from('>i', data, pos + 57)
            assert magic == 2
            out.append((base_offset, count, attributes & 7))
            pos += 12 + length
        assert pos == len(data)
    return out


def specs(partitions, count, start=0):
    """Compressible records over the partitions: plain and null keys, empty
    and large values, no, one, repeated and binary headers (no null header
    values: confluent-kafka-python 1.7.0 mishandles them)."""
    out = []
    for i in range(start, start + count):
        headers = [None, [('trace', b'%d' % i)], [('dup', b'a'), ('dup', b'b'), ('bin', bytes([0, 1, 255]))]][i % 3]
        value = b'' if i % 9 == 0 else (b'value-%d|' % i) * (1 + i % 50) + payload(i)
        out.append({'partition': i % partitions, 'key': None if i % 7 == 0 else b'key-%d' % i, 'value': value,
                    'headers': headers, 'timestamp': BASE_TS + i})
    return out


def consume_kafka_python(bootstrap, topic, partitions, count):
    c = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=3000, enable_auto_commit=False,
                      **timeouts(10000))
    try:
        c.assign([KTopicPartition(topic, p) for p in range(partitions)])
        c.seek_to_beginning()
        got = [Msg(m.partition, m.offset, m.key, m.value, headers_tuple(m.headers), ('create', m.timestamp))
               for m in c]
    finally:
        c.close()
    assert len(got) == count
    return in_log_order(got)


def test_kafkajs_gzip_send_and_send_batch(start_broker):
    b = start_broker()
    create(b.bootstrap, 'gz', 3)
    create(b.bootstrap, 'gz2', 1)
    expect = Expect(3)
    one, two, other = specs(3, 60), specs(3, 45, start=60), specs(1, 20)
    results = run_kafkajs(b.bootstrap, [
        {'op': 'send', 'topic': 'gz', 'compression': 'gzip', 'messages': [js_message(s) for s in one]},
        {'op': 'sendBatch', 'compression': 'gzip',
         'topicMessages': [{'topic': 'gz', 'messages': [js_message(s) for s in two]},
                           {'topic': 'gz2', 'messages': [js_message(s) for s in other]}]},
    ])
    assert sorted((md['topicName'], md['partition'], md['errorCode'], md['baseOffset']) for md in results[0]) == \
        [('gz', p, 0, '0') for p in range(3)]
    assert sorted((md['topicName'], md['partition'], md['errorCode'], md['baseOffset']) for md in results[1]) == \
        [('gz', p, 0, '20') for p in range(3)] + [('gz2', 0, 0, '0')]
    expect.add('gz', one + two)
    expect.add('gz2', other)

    # One gzip batch per partition and call.
    for p in range(3):
        assert stored_batches(b.data_dir, 'gz', p) == [(0, 20, GZIP), (20, 15, GZIP)]
    assert stored_batches(b.data_dir, 'gz2', 0) == [(0, 20, GZIP)]

    for topic, partitions in (('gz', 3), ('gz2', 1)):
        want = in_log_order(expect.records[topic])
        got = consume_confluent(b.bootstrap, topic, range(partitions), len(want), settle=0.5)
        assert_same(in_log_order(got), want)
        assert_same(consume_kafka_python(b.bootstrap, topic, partitions, len(want)), want)

    # kafkajs reads its own gzip batches too.
    js = KafkajsConsumers(b)
    try:
        js.start('c', 'gzg', ['gz'])
        assert normalized(js.wait_messages('c', 105)) == normalized(expect.records['gz'])
    finally:
        js.close()


def test_topic_codec_recompresses_kafkajs_gzip(start_broker):
    b = start_broker()
    create(b.bootstrap, 'l4', 1, {'compression.type': 'lz4'})
    records = specs(1, 40)
    run_kafkajs(b.bootstrap, [{'op': 'send', 'topic': 'l4', 'compression': 'gzip',
                               'messages': [js_message(s) for s in records]}])
    assert stored_batches(b.data_dir, 'l4', 0) == [(0, 40, LZ4)]
    want = [Msg(0, i, s['key'], s['value'], headers_tuple(s['headers']), ('create', s['timestamp']))
            for i, s in enumerate(records)]
    assert_same(consume_confluent(b.bootstrap, 'l4', [0], 40, settle=0.5), want)
    assert_same(consume_kafka_python(b.bootstrap, 'l4', 1, 40), want)


def test_compacted_topic_refuses_kafkajs_gzip_record_without_key(start_broker):
    b = start_broker()
    create(b.bootstrap, 'cmp', 1, {'cleanup.policy': 'compact'})
    keyed = [{'partition': 0, 'key': b'k', 'value': b'v', 'headers': None, 'timestamp': BASE_TS}]
    run_kafkajs(b.bootstrap, [{'op': 'send', 'topic': 'cmp', 'compression': 'gzip',
                               'messages': [js_message(s) for s in keyed]}])
    unkeyed = keyed + [{'partition': 0, 'key': None, 'value': b'no key', 'headers': None, 'timestamp': BASE_TS}]
    res = subprocess.run(['node', str(JS_DIR / 'produce.js')], capture_output=True, text=True, timeout=120,
                         cwd=JS_DIR, input=json.dumps({
                             'brokers': [b.bootstrap],
                             'calls': [{'op': 'send', 'topic': 'cmp', 'compression': 'gzip',
                                        'messages': [js_message(s) for s in unkeyed]}]}))
    assert res.returncode == 1
    assert 'KafkaJSProtocolError' in res.stderr and 'This record has failed the validation on broker' in res.stderr
    assert stored_batches(b.data_dir, 'cmp', 0) == [(0, 1, GZIP)]


def test_segment_ms_counts_from_the_first_batch_timestamp(start_broker):
    """Kafka rolls a segment by time when the new batch's max timestamp is
    segment.ms past the max timestamp of the segment's first batch
    (LogSegment.timeWaitedForRoll), not the wall clock: records stamped in
    2023 share a segment until their own timestamps are segment.ms apart."""
    b = start_broker()
    create(b.bootstrap, 'seg', 1, {'segment.ms': '60000'})

    def send(first_ts):
        records = [{'partition': 0, 'key': b'k%d' % i, 'value': b'v' * 100, 'headers': None,
                    'timestamp': first_ts + i} for i in range(10)]
        run_kafkajs(b.bootstrap, [{'op': 'send', 'topic': 'seg', 'compression': 'gzip',
                                   'messages': [js_message(s) for s in records]}])

    send(BASE_TS)
    send(BASE_TS + 1000)
    send(BASE_TS + 59000)
    send(BASE_TS + 70000)   # 70009 - 9 > 60000: a new segment from offset 30
    send(BASE_TS + 71000)
    segments = sorted(p.name for p in (b.data_dir / 'seg-0').glob('*.log'))
    assert segments == ['%020d.log' % 0, '%020d.log' % 30]
    assert stored_batches(b.data_dir, 'seg', 0) == [(o, 10, GZIP) for o in range(0, 50, 10)]
