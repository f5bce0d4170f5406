"""kafkajs (gzip) and kafka-python write overwrites to a compacted topic; the
cleaner leaves the newest value per key at its original offset, read back by
confluent-kafka-python."""

from kafka import KafkaProducer

from test_compaction import CLEANER, TOPIC, create_topic, fillers, latest, produce, wait_for
from test_produce_fetch_kafkajs import b64, run_kafkajs

TIMEOUT = 30.0


def kafkajs_send(bootstrap, items):
    calls = [{'op': 'send', 'topic': TOPIC, 'compression': 'gzip',
              'messages': [{'key': b64(k), 'value': b64(v), 'partition': 0, 'timestamp': None, 'headers': None}
                           for k, v in items]}]
    (result,) = run_kafkajs(bootstrap, calls)
    (md,) = result
    assert md['errorCode'] == 0
    base = int(md['baseOffset'])
    return [(k, base + i, v) for i, (k, v) in enumerate(items)]


def kafka_python_send(bootstrap, items):
    p = KafkaProducer(bootstrap_servers=bootstrap, acks='all', batch_size=4096, linger_ms=5)
    try:
        futures = [p.send(TOPIC, key=k, value=v, partition=0) for k, v in items]
        return [(k, f.get(TIMEOUT).offset, v) for (k, v), f in zip(items, futures)]
    finally:
        p.close()


def test_compaction_kafkajs_and_kafka_python(start_broker):
    b = start_broker(config=CLEANER)
    create_topic(b.bootstrap, TOPIC, {'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.01'})
    keys = [b'k-%02d' % i for i in range(60)]
    written = []
    for r in range(3):
        written += kafkajs_send(b.bootstrap, [(k, b'js-%d-%s' % (r, k)) for k in keys])
        written += kafka_python_send(b.bootstrap, [(k, b'kp-%d-%s' % (r, k)) for k in keys[::2]])
    written += kafka_python_send(b.bootstrap, [(k, None) for k in keys[50:]])
    written += produce(b.bootstrap, fillers(120, b'z'))
    assert [off for _, off, _ in written] == list(range(len(written)))
    wait_for(b.bootstrap, latest(written), 'kafkajs and kafka-python overwrites')
