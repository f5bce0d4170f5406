"""Real clients against injected faults, reacting as they do to the same
condition from Kafka: an idempotent librdkafka producer retries
NOT_LEADER_OR_FOLLOWER and REQUEST_TIMED_OUT without losing or duplicating
a record; a transactional producer aborts after an abortable Produce error
and is fenced (the broker aborts its transaction) after PRODUCER_FENCED on
EndTxn; a kafkajs consumer rejoins its group after REBALANCE_IN_PROGRESS on
a Heartbeat; kafka-python carries on when its connection is dropped
mid-fetch; librdkafka's consumer refetches after NOT_LEADER_OR_FOLLOWER on
Fetch; an OffsetCommit error reaches librdkafka's commit callback."""

import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from kafka import KafkaConsumer

from control import Control
from test_groups import create_topic
from test_kafkajs_groups import kafkajs_consumers  # noqa: F401 (the fixture)
from test_produce_fetch import TIMEOUT, consume_confluent, producer_conf
from test_txn import txn_producer, values

pytestmark = pytest.mark.librdkafka


def produce_all(bootstrap, topic, n, partitions, **conf):
    p = Producer(producer_conf(bootstrap, **conf))
    failed = []
    for i in range(n):
        p.produce(topic, value=b'%d' % i, partition=i % partitions,
                  on_delivery=lambda err, m: err and failed.append(err))
        p.poll(0)
    assert p.flush(TIMEOUT) == 0
    assert failed == []


@pytest.mark.parametrize('error, times', [('NOT_LEADER_OR_FOLLOWER', 3), ('REQUEST_TIMED_OUT', 2)])
def test_idempotent_producer_retries_without_loss_or_duplicates(broker, error, times):
    ctl = Control(broker.http_url)
    create_topic(broker.bootstrap, 'idem', 3)
    rule = ctl.fault(api='Produce', topic='idem', error=error, times=times)
    produce_all(broker.bootstrap, 'idem', 300, 3, enable_idempotence=True, retry_backoff_ms=20)
    assert ctl.fault_get(rule['id'])['fired'] == times
    got = consume_confluent(broker.bootstrap, 'idem', [0, 1, 2], 300, settle=0.5)
    assert len(got) == 300
    for p in range(3):
        assert [int(m.value) for m in got if m.partition == p] == list(range(p, 300, 3))


def test_consumer_refetches_after_fetch_errors(broker):
    ctl = Control(broker.http_url)
    create_topic(broker.bootstrap, 'fe', 2)
    produce_all(broker.bootstrap, 'fe', 40, 2)
    rule = ctl.fault(api='Fetch', topic='fe', error='NOT_LEADER_OR_FOLLOWER', times=3)
    got = consume_confluent(broker.bootstrap, 'fe', [0, 1], 40, settle=0.5)
    assert ctl.fault_get(rule['id'])['fired'] == 3
    assert len(got) == 40
    for p in range(2):
        assert [int(m.value) for m in got if m.partition == p] == list(range(p, 40, 2))


def test_transaction_aborted_after_abortable_produce_error(broker):
    ctl = Control(broker.http_url)
    create_topic(broker.bootstrap, 'txa', 1)
    create_topic(broker.bootstrap, 'txb', 1)
    ctl.fault(api='Produce', topic='txb', error='TOPIC_AUTHORIZATION_FAILED', once=True)
    p = txn_producer(broker.bootstrap, 'tx-1')
    p.begin_transaction()
    for i in range(5):
        p.produce('txa', value=b'lost-%d' % i)
    p.flush(TIMEOUT)
    p.produce('txb', value=b'refused')
    with pytest.raises(KafkaException) as e:
        p.commit_transaction(TIMEOUT)
    assert e.value.args[0].txn_requires_abort()
    p.abort_transaction(TIMEOUT)
    p.begin_transaction()
    p.produce('txa', value=b'kept')
    p.commit_transaction(TIMEOUT)
    assert values(broker.bootstrap, 'txa', [0], 1, 'read_committed') == [b'kept']
    assert len(values(broker.bootstrap, 'txa', [0], 6, 'read_uncommitted')) == 6


def test_fenced_producer_transaction_is_aborted(broker):
    ctl = Control(broker.http_url)
    create_topic(broker.bootstrap, 'txf', 1)
    ctl.fault(api='EndTxn', transactional_id='tx-f', error='PRODUCER_FENCED', once=True)
    p = txn_producer(broker.bootstrap, 'tx-f')
    p.begin_transaction()
    p.produce('txf', value=b'fenced')
    p.flush(TIMEOUT)
    with pytest.raises(KafkaException) as e:
        p.commit_transaction(TIMEOUT)
    assert e.value.args[0].fatal()
    # A new producer with the transactional id aborts what the old one left open.
    q = txn_producer(broker.bootstrap, 'tx-f')
    q.begin_transaction()
    q.produce('txf', value=b'after')
    q.commit_transaction(TIMEOUT)
    assert values(broker.bootstrap, 'txf', [0], 1, 'read_committed') == [b'after']


def test_kafkajs_consumer_rejoins_after_rebalance_in_progress(broker, kafkajs_consumers):
    ctl = Control(broker.http_url)
    create_topic(broker.bootstrap, 'kj', 2)
    js = kafkajs_consumers(broker)
    js.start('c1', 'kj-group', ['kj'])
    js.wait(lambda evs: js.of('c1', 'join'), 'c1 joins')
    rule = ctl.fault(api='Heartbeat', group_id='kj-group', error='REBALANCE_IN_PROGRESS', once=True)
    js.wait(lambda evs: len(js.of('c1', 'join')) >= 2, 'c1 rejoins after REBALANCE_IN_PROGRESS')
    assert ctl.fault_get(rule['id'])['fired'] == 1
    produce_all(broker.bootstrap, 'kj', 10, 2)
    got = js.wait_messages('c1', 10)
    assert sorted(int(m.value) for m in got) == list(range(10))


def test_kafka_python_survives_dropped_connection_mid_fetch(broker):
    ctl = Control(broker.http_url)
    create_topic(broker.bootstrap, 'kp', 1)
    produce_all(broker.bootstrap, 'kp', 50, 1)
    rule = ctl.fault(api='Fetch', topic='kp', close='before', once=True)
    c = KafkaConsumer('kp', bootstrap_servers=broker.bootstrap, auto_offset_reset='earliest',
                      enable_auto_commit=False, group_id=None, fetch_max_wait_ms=100,
                      consumer_timeout_ms=int(TIMEOUT * 1000))
    try:
        got = []
        for m in c:
            got.append(int(m.value))
            if len(got) == 50:
                break
    finally:
        c.close()
    assert got == list(range(50))
    assert ctl.fault_get(rule['id'])['fired'] == 1


def test_offset_commit_error_reaches_commit_callback(broker):
    ctl = Control(broker.http_url)
    create_topic(broker.bootstrap, 'oc', 1)
    produce_all(broker.bootstrap, 'oc', 5, 1)
    results = []
    c = Consumer({'bootstrap.servers': broker.bootstrap, 'group.id': 'oc-group', 'enable.auto.commit': False,
                  'auto.offset.reset': 'earliest', 'on_commit': lambda err, parts: results.append((err, parts))})
    try:
        c.subscribe(['oc'])
        got = []
        deadline = time.monotonic() + TIMEOUT
        while len(got) < 5 and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                got.append(m)
        assert len(got) == 5
        ctl.fault(api='OffsetCommit', group_id='oc-group', error='OFFSET_METADATA_TOO_LARGE', once=True)
        c.commit(asynchronous=True)
        while not results and time.monotonic() < deadline:
            c.poll(0.1)
        err, parts = results[0]
        codes = [p.error.code() if p.error else None for p in parts]
        assert err is not None or codes == [KafkaError.OFFSET_METADATA_TOO_LARGE]
        assert codes == [KafkaError.OFFSET_METADATA_TOO_LARGE]
        c.commit(asynchronous=False)
        assert [tp.offset for tp in c.committed([TopicPartition('oc', 0)], timeout=TIMEOUT)] == [5]
    finally:
        c.close()
