"""Waits and state through the HTTP control plane: long-poll waits on a
topic's partitions, a partition's high watermark and last stable offset, a
transactional id's state and a group's state, members and generation (met:
200 with the state; not met in time: 408 with the state seen); group
description with decoded assignments, a forced rebalance and a member
expired as if its session ended, each followed by real librdkafka consumers;
log controls: roll the active segment, apply retention now."""

import threading
import time

import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from control import Control
from test_control_clients import produce_all
from test_groups import create_topic
from test_produce_fetch import TIMEOUT
from test_txn import txn_producer

pytestmark = pytest.mark.librdkafka


@pytest.fixture
def ctl(broker):
    return Control(broker.http_url)


def in_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault('v', fn()))
    t.start()
    return t, out


def test_wait_topic(broker, ctl):
    t, out = in_thread(lambda: ctl.post('/v1/waits/topic', {'topic': 'late', 'partitions': 3, 'timeout_ms': 20000}))
    create_topic(broker.bootstrap, 'late', 2)  # exists, but not with 3 partitions yet
    status, body = ctl.post('/v1/waits/topic', {'topic': 'late', 'partitions': 3, 'timeout_ms': 100})
    assert status == 408 and body['error'] == 'timeout'
    assert body['detail'] == 'topic late: not met within 100 ms'
    assert (body['state']['exists'], body['state']['partition_count']) == (True, 2)
    admin = AdminClient({'bootstrap.servers': broker.bootstrap})
    admin.create_partitions([NewPartitions('late', 3)])['late'].result(TIMEOUT)
    t.join(TIMEOUT)
    status, body = out['v']
    assert status == 200 and body['met'] is True and body['state']['partition_count'] == 3
    assert [p['partition'] for p in body['state']['partitions']] == [0, 1, 2]


def test_wait_high_watermark(broker, ctl):
    create_topic(broker.bootstrap, 'hw', 1)
    t, out = in_thread(lambda: ctl.wait('partition', topic='hw', partition=0, high_watermark=20))
    produce_all(broker.bootstrap, 'hw', 20, 1)
    t.join(TIMEOUT)
    assert out['v']['high_watermark'] == 20 and out['v']['log_end_offset'] == 20
    status, body = ctl.post('/v1/waits/partition', {'topic': 'hw', 'partition': 0, 'high_watermark': 21,
                                                    'timeout_ms': 50})
    assert status == 408 and body['state']['high_watermark'] == 20
    status, body = ctl.post('/v1/waits/partition', {'topic': 'hw', 'partition': 0, 'timeout_ms': 50})
    assert status == 400


def test_wait_last_stable_offset_and_transaction_state(broker, ctl):
    create_topic(broker.bootstrap, 'lso', 1)
    produce_all(broker.bootstrap, 'lso', 3, 1)
    p = txn_producer(broker.bootstrap, 'tx-w')
    p.begin_transaction()
    p.produce('lso', value=b'in-txn')
    p.flush(TIMEOUT)
    assert ctl.wait('transaction', transactional_id='tx-w', state='Ongoing')['partition_count'] == 1
    status, body = ctl.post('/v1/waits/partition', {'topic': 'lso', 'partition': 0, 'last_stable_offset': 4,
                                                    'timeout_ms': 100})
    assert status == 408
    assert (body['state']['last_stable_offset'], body['state']['high_watermark']) == (3, 4)
    t, out = in_thread(lambda: ctl.wait('partition', topic='lso', partition=0, last_stable_offset=5))
    p.commit_transaction(TIMEOUT)
    t.join(TIMEOUT)
    assert out['v']['last_stable_offset'] == 5  # the record and its commit marker
    assert ctl.wait('transaction', transactional_id='tx-w', state='CompleteCommit')['state'] == 'CompleteCommit'
    status, body = ctl.get('/v1/transactions/tx-w')
    assert status == 200 and body['state'] == 'CompleteCommit'
    assert ctl.get('/v1/transactions/nope')[0] == 404
    assert ctl.post('/v1/waits/transaction', {'transactional_id': 'tx-w', 'state': 'Bogus'})[0] == 400


class PollingConsumer:
    """A librdkafka group consumer polled by a thread until stopped."""

    def __init__(self, bootstrap, group, topic):
        self.c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'auto.offset.reset': 'earliest',
                           'session.timeout.ms': 6000, 'heartbeat.interval.ms': 200,
                           'client.id': 'poller'})
        self.c.subscribe([topic])
        self.stop = threading.Event()
        self.values = []
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def run(self):
        while not self.stop.is_set():
            m = self.c.poll(0.1)
            if m is not None and m.error() is None:
                self.values.append(m.value())

    def close(self):
        self.stop.set()
        self.t.join()
        self.c.close()


def test_group_wait_describe_rebalance_and_expire(broker, ctl):
    create_topic(broker.bootstrap, 'gt', 2)
    status, body = ctl.post('/v1/waits/group', {'group_id': 'gw', 'state': 'Stable', 'timeout_ms': 50})
    assert status == 408 and body['state'] == {'group_id': 'gw', 'type': 'classic', 'state': 'Dead', 'generation_id': -1,
                                               'protocol_type': '', 'protocol': '', 'member_count': 0}
    c = PollingConsumer(broker.bootstrap, 'gw', 'gt')
    try:
        state = ctl.wait('group', group_id='gw', state='Stable', members=1, min_generation=1)
        gen = state['generation_id']
        assert state['protocol_type'] == 'consumer' and state['member_count'] == 1
        status, desc = ctl.get('/v1/groups/gw')
        assert status == 200
        [member] = desc['members']
        assert member['client_id'] == 'poller' and member['assignment'] == {'gt': [0, 1]}

        assert ctl.post('/v1/groups/gw/rebalance')[0] == 200
        state = ctl.wait('group', group_id='gw', state='Stable', members=1, min_generation=gen + 1)
        gen = state['generation_id']

        status, _ = ctl.delete(f'/v1/groups/gw/members/{member["member_id"]}')
        assert status == 200
        state = ctl.wait('group', group_id='gw', state='Stable', members=1, min_generation=gen + 1)
        assert ctl.get('/v1/groups/gw')[1]['members'][0]['member_id'] != member['member_id']
        assert ctl.delete('/v1/groups/gw/members/nobody')[0] == 404
        produce_all(broker.bootstrap, 'gt', 6, 2)
        deadline = time.monotonic() + TIMEOUT
        while len(c.values) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(c.values) == [b'%d' % i for i in range(6)]
    finally:
        c.close()
    state = ctl.wait('group', group_id='gw', state='Empty', members=0)
    assert ctl.post('/v1/groups/gw/rebalance') == (409, {'error': 'conflict',
                                                         'detail': 'group gw is Empty: nothing to rebalance'})
    assert ctl.get('/v1/groups/none')[0] == 404


def test_roll_and_retention_now(broker, ctl):
    admin = AdminClient({'bootstrap.servers': broker.bootstrap})
    admin.create_topics([NewTopic('ret', 1, 1, config={'retention.ms': '200'})])['ret'].result(TIMEOUT)
    produce_all(broker.bootstrap, 'ret', 5, 1)
    status, body = ctl.post('/v1/topics/ret/partitions/0/roll')
    assert status == 200 and body['partitions'][0]['segments'] == 2
    produce_all(broker.bootstrap, 'ret', 5, 1)
    assert ctl.post('/v1/topics/ret/roll')[1]['partitions'][0]['segments'] == 3
    assert ctl.post('/v1/topics/ret/partitions/7/roll')[0] == 404
    assert ctl.post('/v1/topics/nope/roll')[0] == 404
    time.sleep(0.3)  # past retention.ms for every record written
    status, body = ctl.post('/v1/log/retention')
    assert status == 200 and body['segments_deleted'] == 2
    part = ctl.get('/v1/topics/ret')[1]['partitions'][0]
    assert (part['log_start_offset'], part['high_watermark'], part['segments']) == (10, 10, 1)


def test_log_that_cannot_be_loaded(broker):
    """Loading is explicit: after a clean stop logs load on first use; one
    whose directory is gone is left out of the topic's state and the
    metrics, a partition wait reports KAFKA_STORAGE_ERROR, and once the
    directory is back the same calls load it."""
    create_topic(broker.bootstrap, 'gone', 1)
    produce_all(broker.bootstrap, 'gone', 3, 1)
    broker.restart()
    ctl = Control(broker.http_url)
    part, away = broker.data_dir / 'gone-0', broker.data_dir / 'gone-0.away'
    part.rename(away)
    status, body = ctl.get('/v1/topics/gone')
    assert status == 200 and body['partition_count'] == 1 and body['partitions'] == []
    status, body = ctl.post('/v1/waits/partition', {'topic': 'gone', 'partition': 0, 'high_watermark': 1,
                                                    'timeout_ms': 50})
    assert status == 408 and body['state'] == {'partition': 0, 'error': 'KAFKA_STORAGE_ERROR'}
    status, text = ctl.get('/metrics')
    assert status == 200 and 'topic="gone"' not in text
    away.rename(part)
    status, body = ctl.get('/v1/topics/gone')
    assert status == 200 and [(p['partition'], p['high_watermark']) for p in body['partitions']] == [(0, 3)]
    status, text = ctl.get('/metrics')
    assert 'kafka_log_log_logendoffset{topic="gone",partition="0"} 3' in text
