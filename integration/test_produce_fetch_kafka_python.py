"""Produce and Fetch through kafka-python 2.0.2 (Produce v7, Fetch v4,
ListOffsets v1): the round trip of every record shape, ListOffsets through
its offset helpers, and records crossing between kafka-python and librdkafka
in both directions. Manual assignment only (consumer groups are another
issue). Helpers and the record shapes come from test_produce_fetch.py."""

import time

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTopicPartition
from kp import timeouts

from test_produce_fetch import (BASE_TS, BIG_MAX_BYTES, TIMEOUT, Msg, assert_contiguous, assert_same,
                                big_specs, by_partition, consume_confluent, headers_tuple, in_log_order,
                                produce_confluent, sample_specs)

TIMEOUT_MS = int(TIMEOUT * 1000)


def kafka_python_specs(partitions):
    """kafka-python cannot write a header with a null value, nor a record
    whose key and value are both null."""
    return sample_specs(partitions, null_header_values=False, null_key_and_value=False)


def kp_msg(r):
    return Msg(r.partition, r.offset, r.key, r.value, headers_tuple(r.headers),
               ('create' if r.timestamp_type == 0 else 'append', r.timestamp))


def produce_kafka_python(bootstrap, topic, specs):
    """Produces `specs` in order with kafka-python and waits for every ack;
    returns the records as written (partition, offset and timestamp from
    the producer's RecordMetadata)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', linger_ms=5,
                             max_request_size=BIG_MAX_BYTES, request_timeout_ms=TIMEOUT_MS,
                             **timeouts(TIMEOUT_MS), max_block_ms=TIMEOUT_MS)
    try:
        futures = [producer.send(topic, value=s['value'], key=s['key'], headers=s['headers'],
                                 partition=s['partition'], timestamp_ms=s['timestamp']) for s in specs]
        producer.flush(TIMEOUT)
        out = []
        for s, f in zip(specs, futures):
            md = f.get(timeout=TIMEOUT)
            if s['timestamp'] is not None:
                assert md.timestamp == s['timestamp']
            out.append(Msg(md.partition, md.offset, s['key'], s['value'], headers_tuple(s['headers']),
                           ('create', md.timestamp)))
        return out
    finally:
        producer.close(timeout=5)


def kafka_python_consumer(bootstrap):
    return KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         auto_offset_reset='none', fetch_max_wait_ms=100,
                         **timeouts(TIMEOUT_MS), request_timeout_ms=TIMEOUT_MS + 1000)


def consume_kafka_python(bootstrap, topic, partitions, count):
    consumer = kafka_python_consumer(bootstrap)
    try:
        consumer.assign([KafkaTopicPartition(topic, p) for p in partitions])
        consumer.seek_to_beginning()
        got = []
        deadline = time.monotonic() + TIMEOUT
        while len(got) < count and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                got += [kp_msg(r) for r in records]
        return got
    finally:
        consumer.close()


def test_kafka_python_round_trip_every_record_shape(start_broker):
    b = start_broker(num_partitions=12, message_max_bytes=BIG_MAX_BYTES)
    sent = produce_kafka_python(b.bootstrap, 'kp', kafka_python_specs(12) + big_specs(7))
    assert_contiguous(sorted(sent, key=lambda m: m.offset))
    got = consume_kafka_python(b.bootstrap, 'kp', range(12), len(sent))
    assert_contiguous(got)
    assert_same(in_log_order(got), in_log_order(sent))
    assert {p: [m.value for m in ms] for p, ms in by_partition(got).items()} == \
        {p: [m.value for m in ms] for p, ms in by_partition(sent).items()}


def test_kafka_python_offsets(start_broker):
    b = start_broker(num_partitions=2)
    specs = [{'partition': p, 'key': None, 'value': b'%d' % i, 'headers': None,
              'timestamp': BASE_TS + i * 1000} for p in range(2) for i in range(5 + p)]
    produce_kafka_python(b.bootstrap, 'kpo', specs)
    consumer = kafka_python_consumer(b.bootstrap)
    try:
        tps = [KafkaTopicPartition('kpo', p) for p in range(2)]
        assert consumer.partitions_for_topic('kpo') == {0, 1}
        assert consumer.beginning_offsets(tps) == {tps[0]: 0, tps[1]: 0}
        assert consumer.end_offsets(tps) == {tps[0]: 5, tps[1]: 6}
        found = consumer.offsets_for_times({tps[0]: BASE_TS + 2500, tps[1]: BASE_TS + 5000})
        assert {tp: (o.offset, o.timestamp) for tp, o in found.items()} == \
            {tps[0]: (3, BASE_TS + 3000), tps[1]: (5, BASE_TS + 5000)}
        assert consumer.offsets_for_times({tps[0]: BASE_TS + 10_000}) == {tps[0]: None}
    finally:
        consumer.close()


@pytest.mark.librdkafka
def test_librdkafka_writes_kafka_python_reads(start_broker):
    b = start_broker(num_partitions=12, message_max_bytes=BIG_MAX_BYTES)
    sent = produce_confluent(b.bootstrap, 'cross', sample_specs(12, null_header_values=True) + big_specs(3),
                             message_max_bytes=BIG_MAX_BYTES)
    got = consume_kafka_python(b.bootstrap, 'cross', range(12), len(sent))
    assert_contiguous(got)
    assert_same(in_log_order(got), in_log_order(sent))


@pytest.mark.librdkafka
def test_kafka_python_writes_librdkafka_reads(start_broker):
    b = start_broker(num_partitions=12, message_max_bytes=BIG_MAX_BYTES)
    sent = produce_kafka_python(b.bootstrap, 'cross', kafka_python_specs(12) + big_specs(3))
    got = consume_confluent(b.bootstrap, 'cross', range(12), len(sent), settle=0.5)
    assert_contiguous(got)
    assert_same(in_log_order(got), in_log_order(sent))
