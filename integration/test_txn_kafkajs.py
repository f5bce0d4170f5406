"""Transactions and idempotence through kafkajs 2.2.4 (InitProducerId,
AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn v1), run
with node from integration/js/txn.js: an idempotent producer, a transaction
that sends to two partitions and offsets of a group and commits, and one
that aborts; what they wrote is read back with confluent-kafka-python at
both isolation levels, and the group's committed offsets with committed().

integration/js/node_modules must hold the pinned kafkajs: `npm ci` in
integration/js (scripts/test.sh runs it)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from test_produce_fetch import TIMEOUT
from test_txn import committed, values

JS_DIR = Path(__file__).resolve().parent / 'js'


def run_txn_js(bootstrap, steps):
    if not (JS_DIR / 'node_modules' / 'kafkajs').is_dir():
        pytest.fail('kafkajs is not installed: run `npm ci` in integration/js (scripts/test.sh does)')
    env = dict(os.environ, KAFKAJS_NO_PARTITIONER_WARNING='1')
    res = subprocess.run(['node', str(JS_DIR / 'txn.js')], input=json.dumps({'brokers': [bootstrap], 'steps': steps}),
                         capture_output=True, text=True, timeout=4 * TIMEOUT, env=env, cwd=JS_DIR)
    assert res.returncode == 0, f'txn.js exited {res.returncode}:\n{res.stderr}'
    return json.loads(res.stdout)['results']


def msgs(prefix, n, partitions):
    return [{'key': f'k{i}', 'value': f'{prefix}{i}', 'partition': i % partitions} for i in range(n)]


def test_kafkajs_idempotent_producer(start_broker):
    b = start_broker(num_partitions=2)
    (sent,) = run_txn_js(b.bootstrap, [{'op': 'idempotent', 'topic': 'ki', 'messages': msgs('i', 20, 2)}])
    assert [r['errorCode'] for r in sent] == [0] * 20
    assert sorted((r['partition'], int(r['baseOffset'])) for r in sent) == \
        sorted((p, o) for p in range(2) for o in range(10))
    assert values(b.bootstrap, 'ki', range(2), 20, 'read_uncommitted') == sorted(b'i%d' % i for i in range(20))


def test_kafkajs_transactions(start_broker):
    b = start_broker(num_partitions=2)
    offsets = {'consumerGroupId': 'kg', 'topics': [{'topic': 'src', 'partitions': [
        {'partition': 0, 'offset': '7'}, {'partition': 1, 'offset': '3'}]}]}
    run_txn_js(b.bootstrap, [
        {'op': 'idempotent', 'topic': 'src', 'messages': msgs('s', 2, 2)},  # the group's input topic
        {'op': 'txn', 'transactionalId': 'kt', 'sends': [{'topic': 'kx', 'messages': msgs('c', 10, 2)}],
         'offsets': offsets, 'end': 'commit'},
        {'op': 'txn', 'transactionalId': 'kt', 'sends': [{'topic': 'kx', 'messages': msgs('a', 6, 2)}],
         'offsets': {'consumerGroupId': 'kg', 'topics': [{'topic': 'src', 'partitions': [
             {'partition': 0, 'offset': '99'}]}]}, 'end': 'abort'},
        {'op': 'txn', 'transactionalId': 'kt', 'sends': [{'topic': 'kx', 'messages': msgs('d', 4, 2)}],
         'offsets': None, 'end': 'commit'},
    ])
    want = sorted([b'c%d' % i for i in range(10)] + [b'd%d' % i for i in range(4)])
    assert values(b.bootstrap, 'kx', range(2), 14, 'read_committed') == want
    assert values(b.bootstrap, 'kx', range(2), 20, 'read_uncommitted') == \
        sorted(want + [b'a%d' % i for i in range(6)])
    # The committed transaction's offsets, not the aborted one's.
    assert committed(b.bootstrap, 'kg', 'src', [0, 1]) == [7, 3]
