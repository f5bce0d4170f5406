"""Transactions across a broker restart (SIGTERM, and SIGKILL with every
append fsynced): the coordinator replays __transaction_state and the logs
rebuild their producer state, so a transaction open at the restart can
still be committed by its producer, or is aborted once its timeout passes
(read_committed consumers then get past it); committed data and offsets
committed with send_offsets_to_transaction survive, and so do offsets sent
to a transaction still open at the restart (written to __consumer_offsets
in the producer's transactional batch, pending until its marker)."""

import signal
import time

import pytest
from confluent_kafka import OFFSET_BEGINNING, OFFSET_INVALID, Consumer, Producer, TopicPartition

from test_produce_fetch import TIMEOUT, consumer_conf
from test_txn import committed, describe_transactions, transform, txn_producer, values

pytestmark = pytest.mark.librdkafka


def restart(b, how):
    if how == 'term':
        b.restart()
    else:
        b.stop(signal.SIGKILL, expect=-signal.SIGKILL)
        b.start(port=b.port)


@pytest.mark.parametrize('how', ['term', 'kill'])
def test_open_transaction_commits_after_restart(start_broker, how):
    b = start_broker(num_partitions=2, log_flush_interval_messages=1)
    p = txn_producer(b.bootstrap, 'survivor')
    p.begin_transaction()
    for i in range(10):
        p.produce('rt', value=b'r%d' % i, partition=i % 2)
    assert p.flush(TIMEOUT) == 0
    restart(b, how)
    assert describe_transactions(b, ['survivor'])[0]['state'] == 'Ongoing'
    p.commit_transaction(TIMEOUT)
    assert values(b.bootstrap, 'rt', range(2), 10, 'read_committed') == sorted(b'r%d' % i for i in range(10))


@pytest.mark.parametrize('how', ['term', 'kill'])
def test_open_transaction_aborted_on_timeout_after_restart(start_broker, how):
    b = start_broker(log_flush_interval_messages=1)
    p = txn_producer(b.bootstrap, 'orphan', transaction_timeout_ms=4000)
    p.begin_transaction()
    for i in range(5):
        p.produce('ro', value=b'orphan%d' % i)
    assert p.flush(TIMEOUT) == 0
    started = time.monotonic()
    restart(b, how)
    plain = Producer({'bootstrap.servers': b.bootstrap, 'enable.idempotence': True})
    for i in range(5):
        plain.produce('ro', value=b'after%d' % i)
    assert plain.flush(TIMEOUT) == 0
    c = Consumer(consumer_conf(b.bootstrap, isolation_level='read_committed'))
    try:
        c.assign([TopicPartition('ro', 0, OFFSET_BEGINNING)])
        got = []
        while len(got) < 5 and time.monotonic() < started + TIMEOUT:
            m = c.poll(0.1)
            if m is not None and m.error() is None:
                got.append(m.value())
    finally:
        c.close()
    assert sorted(got) == sorted(b'after%d' % i for i in range(5))
    assert time.monotonic() - started < 15
    state = describe_transactions(b, ['orphan'])[0]
    assert (state['state'], state['producer_epoch']) == ('CompleteAbort', 1)


@pytest.mark.parametrize('how', ['term', 'kill'])
def test_committed_data_and_offsets_survive_restart(start_broker, how):
    b = start_broker(num_partitions=2, log_flush_interval_messages=1)
    plain = Producer({'bootstrap.servers': b.bootstrap})
    for i in range(20):
        plain.produce('in', value=b'v%02d' % i, partition=i % 2)
    assert plain.flush(TIMEOUT) == 0
    p = txn_producer(b.bootstrap, 'etl')
    assert transform(b, 'etl-group', p, 20, commit=True) == [(0, 10), (1, 10)]
    restart(b, how)
    assert committed(b.bootstrap, 'etl-group', 'in', [0, 1]) == [10, 10]
    assert values(b.bootstrap, 'out', range(2), 20, 'read_committed') == sorted(b'V%02d' % i for i in range(20))
    # The producer goes on after the restart, fenced by no one.
    p.begin_transaction()
    p.produce('out', value=b'late', partition=0)
    p.commit_transaction(TIMEOUT)
    assert b'late' in values(b.bootstrap, 'out', range(2), 21, 'read_committed')


def produce_input(b, count):
    plain = Producer({'bootstrap.servers': b.bootstrap})
    for i in range(count):
        plain.produce('in', value=b'v%02d' % i, partition=i % 2)
    assert plain.flush(TIMEOUT) == 0


@pytest.mark.parametrize('how', ['term', 'kill'])
def test_offsets_of_an_open_transaction_commit_after_restart(start_broker, how):
    b = start_broker(num_partitions=2, log_flush_interval_messages=1)
    produce_input(b, 20)
    p = txn_producer(b.bootstrap, 'mid')
    assert transform(b, 'mid-group', p, 20, commit=None) == [(0, 10), (1, 10)]
    restart(b, how)
    assert describe_transactions(b, ['mid'])[0]['state'] == 'Ongoing'
    p.commit_transaction(TIMEOUT)
    assert committed(b.bootstrap, 'mid-group', 'in', [0, 1]) == [10, 10]
    assert values(b.bootstrap, 'out', range(2), 20, 'read_committed') == sorted(b'V%02d' % i for i in range(20))
    # And once more: the commit itself survives a restart.
    restart(b, how)
    assert committed(b.bootstrap, 'mid-group', 'in', [0, 1]) == [10, 10]


@pytest.mark.parametrize('how', ['term', 'kill'])
def test_offsets_of_an_open_transaction_dropped_by_abort_after_restart(start_broker, how):
    b = start_broker(num_partitions=2, log_flush_interval_messages=1)
    produce_input(b, 20)
    p = txn_producer(b.bootstrap, 'mid-abort')
    transform(b, 'abort-group', p, 20, commit=None)
    restart(b, how)
    p.abort_transaction(TIMEOUT)
    assert committed(b.bootstrap, 'abort-group', 'in', [0, 1]) == [OFFSET_INVALID, OFFSET_INVALID]
    restart(b, how)
    assert committed(b.bootstrap, 'abort-group', 'in', [0, 1]) == [OFFSET_INVALID, OFFSET_INVALID]
    assert values(b.bootstrap, 'out', range(2), 0, 'read_committed', settle=1.0) == []
