"""Compressed record batches (issue 5): librdkafka producing with each codec
is consumed byte-exactly by confluent-kafka-python and kafka-python; a topic
with compression.type=zstd stores lz4 batches as zstd and still serves them
(Fetch below v10 too: test_kafka_parity.py); compacted
topics reject compressed records without a key."""

import struct
import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer
from kafka import TopicPartition as KTopicPartition

CODECS = {'none': 0, 'gzip': 1, 'snappy': 2, 'lz4': 3, 'zstd': 4}


def messages(tag, n=300):
    return [(b'k%d' % i, (b'%s-%d|' % (tag.encode(), i)) * (1 + i % 40)) for i in range(n)]


def produce(bootstrap, topic, msgs, **conf):
    p = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 20, **conf})
    for k, v in msgs:
        p.produce(topic, v, key=k, partition=0, headers=[('h', k)])
    assert p.flush(15) == 0


def consume_confluent(bootstrap, topic, n):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'unused', 'enable.auto.commit': False})
    c.assign([TopicPartition(topic, 0, 0)])
    got, deadline = [], time.monotonic() + 15
    while len(got) < n and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        assert m.error() is None, m.error()
        got.append((m.key(), m.value(), m.headers(), m.offset()))
    c.close()
    return got


def consume_kafka_python(bootstrap, topic):
    c = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=3000)
    c.assign([KTopicPartition(topic, 0)])
    c.seek_to_beginning()
    got = [(m.key, m.value, m.offset) for m in c]
    c.close()
    return got


def stored_codecs(data_dir, topic):
    """Codec ids of the batches in the partition's first segment."""
    data = (data_dir / f'{topic}-0' / ('0' * 20 + '.log')).read_bytes()
    codecs, pos = set(), 0
    while pos + 61 <= len(data):
        (length,) = struct.unpack_from('>i', data, pos + 8)
        (attributes,) = struct.unpack_from('>h', data, pos + 21)
        codecs.add(attributes & 7)
        pos += 12 + length
    return codecs


@pytest.mark.parametrize('codec', ['gzip', 'snappy', 'lz4', 'zstd'])
def test_librdkafka_codec_round_trip(broker, codec):
    topic = f'c-{codec}'
    msgs = messages(codec)
    produce(broker.bootstrap, topic, msgs, **{'compression.type': codec})
    # librdkafka sends a batch uncompressed when compressing would not shrink it.
    stored = stored_codecs(broker.data_dir, topic)
    assert CODECS[codec] in stored and stored <= {0, CODECS[codec]}
    got = consume_confluent(broker.bootstrap, topic, len(msgs))
    assert got == [(k, v, [('h', k)], i) for i, (k, v) in enumerate(msgs)]
    if codec != 'zstd':  # Debian's kafka-python has no zstd library (python3-zstandard)
        assert consume_kafka_python(broker.bootstrap, topic) == [(k, v, i) for i, (k, v) in enumerate(msgs)]


def create(bootstrap, topic, config):
    admin = AdminClient({'bootstrap.servers': bootstrap})
    fs = admin.create_topics([NewTopic(topic, 1, 1, config=config)])
    assert fs[topic].result(10) is None


def test_topic_codec_recompresses(broker):
    create(broker.bootstrap, 'z', {'compression.type': 'zstd'})
    msgs = messages('z', 200)
    produce(broker.bootstrap, 'z', msgs, **{'compression.type': 'lz4'})
    assert stored_codecs(broker.data_dir, 'z') == {CODECS['zstd']}
    got = consume_confluent(broker.bootstrap, 'z', len(msgs))
    assert [(k, v) for k, v, _, _ in got] == msgs


def test_uncompressed_topic_codec_stores_plain_batches(broker):
    create(broker.bootstrap, 'plain', {'compression.type': 'uncompressed'})
    msgs = messages('plain', 50)
    produce(broker.bootstrap, 'plain', msgs, **{'compression.type': 'gzip'})
    assert stored_codecs(broker.data_dir, 'plain') == {CODECS['none']}
    assert [(k, v) for k, v, _, _ in consume_confluent(broker.bootstrap, 'plain', 50)] == msgs


def test_compacted_topic_rejects_compressed_record_without_key(broker):
    create(broker.bootstrap, 'cmp', {'cleanup.policy': 'compact'})
    errors = []
    p = Producer({'bootstrap.servers': broker.bootstrap, 'compression.type': 'lz4', 'linger.ms': 5})
    p.produce('cmp', b'keyed', key=b'k', on_delivery=lambda e, m: errors.append(e))
    p.flush(10)
    p.produce('cmp', b'no key', on_delivery=lambda e, m: errors.append(e))
    p.flush(10)
    assert errors[0] is None
    assert errors[1] is not None and errors[1].code() == KafkaError.INVALID_RECORD
