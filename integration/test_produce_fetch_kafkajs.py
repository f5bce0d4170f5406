"""Produce through kafkajs 2.2.4 (Produce v7, Metadata v6): producer.send and
producer.sendBatch, uncompressed and gzip, run with node from
integration/js/produce.js; what they wrote is read back with
confluent-kafka-python and kcat. kafkajs consumers are always consumer-group
members, so reading with kafkajs is left to the consumer-group tests.

integration/js/node_modules must hold the pinned kafkajs: `npm ci` in
integration/js (scripts/test.sh runs it)."""

import base64
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from kafka.partitioner.default import murmur2

from test_produce_fetch import (BASE_TS, Msg, assert_contiguous, assert_same, consume_confluent,
                                headers_tuple, in_log_order, kcat, payload, sample_specs)

JS_DIR = Path(__file__).resolve().parent / 'js'


def b64(b):
    return None if b is None else base64.b64encode(b).decode()


def js_message(spec):
    """A spec (see test_produce_fetch.sample_specs) as produce.js reads it;
    repeated header names must be adjacent (kafkajs takes an object)."""
    headers = None
    if spec['headers']:
        headers = {}
        for k, v in spec['headers']:
            headers.setdefault(k, []).append(b64(v))
        headers = {k: vs[0] if len(vs) == 1 else vs for k, vs in headers.items()}
    ts = spec['timestamp']
    return {'key': b64(spec['key']), 'value': b64(spec['value']), 'partition': spec['partition'],
            'timestamp': None if ts is None else str(ts), 'headers': headers}


def run_kafkajs(bootstrap, calls):
    if not (JS_DIR / 'node_modules' / 'kafkajs').is_dir():
        pytest.fail('kafkajs is not installed: run `npm ci` in integration/js (scripts/test.sh does)')
    env = dict(os.environ, KAFKAJS_NO_PARTITIONER_WARNING='1')
    res = subprocess.run(['node', str(JS_DIR / 'produce.js')], input=json.dumps({'brokers': [bootstrap], 'calls': calls}),
                         capture_output=True, text=True, timeout=120, env=env, cwd=JS_DIR)
    assert res.returncode == 0, f'produce.js exited {res.returncode}:\n{res.stderr}'
    return json.loads(res.stdout)['results']


class Expect:
    """Where kafkajs puts each record: the given partition, else the Java
    default partitioner's murmur2 of the key; offsets in production order."""

    def __init__(self, partitions):
        self.partitions = partitions
        self.next_offset = {}
        self.records = {}

    def add(self, topic, specs):
        """Records `specs`; returns {partition: first offset} for this call."""
        first = {}
        for s in specs:
            p = s['partition']
            if p is None:
                p = (murmur2(s['key']) & 0x7FFFFFFF) % self.partitions
            offset = self.next_offset.get((topic, p), 0)
            self.next_offset[(topic, p)] = offset + 1
            first.setdefault(p, offset)
            ts = ('create', s['timestamp'])
            self.records.setdefault(topic, []).append(
                Msg(p, offset, s['key'], s['value'], headers_tuple(s['headers']), ts))
        return first


def metadata_by_partition(result, topic):
    out = {}
    for md in result:
        if md['topicName'] == topic:
            assert md['errorCode'] == 0
            out[md['partition']] = int(md['baseOffset'])
    return out


def fill_timestamps(want, got, before, after):
    """Takes kafkajs's own timestamps (Date.now()) for records sent without one."""
    stamped = {(m.partition, m.offset): m.timestamp for m in got}
    out = []
    for m in want:
        if m.timestamp[1] is None:
            kind, ts = stamped.get((m.partition, m.offset), ('create', None))
            assert kind == 'create' and ts is not None and before <= ts <= after, (m, ts)
            m = m._replace(timestamp=(kind, ts))
        out.append(m)
    return out


def kafkajs_specs(partitions, count):
    """sample_specs with a partition for every record that has no key
    (kafkajs spreads those round-robin from a random start), and without null
    header values (confluent-kafka-python 1.7.0, which reads them back,
    mishandles them: see sample_specs)."""
    specs = sample_specs(partitions, count, null_header_values=False)
    for i, s in enumerate(specs):
        if s['key'] is None and s['partition'] is None:
            s['partition'] = i % partitions
    return specs


def test_kafkajs_send_and_send_batch(start_broker):
    b = start_broker(num_partitions=12)
    expect = Expect(12)
    specs = kafkajs_specs(12, 240)
    one, two, other = specs[:100], specs[100:], kafkajs_specs(12, 60)
    calls = [
        {'op': 'send', 'topic': 'js', 'messages': [js_message(s) for s in one]},
        {'op': 'sendBatch', 'topicMessages': [{'topic': 'js', 'messages': [js_message(s) for s in two]},
                                              {'topic': 'js2', 'messages': [js_message(s) for s in other]}]},
    ]
    before = int(time.time() * 1000)
    results = run_kafkajs(b.bootstrap, calls)
    after = int(time.time() * 1000)
    assert metadata_by_partition(results[0], 'js') == expect.add('js', one)
    assert metadata_by_partition(results[1], 'js') == expect.add('js', two)
    assert metadata_by_partition(results[1], 'js2') == expect.add('js2', other)

    for topic in ('js', 'js2'):
        want = expect.records[topic]
        got = consume_confluent(b.bootstrap, topic, range(12), len(want), settle=0.5)
        assert_contiguous(got)
        assert_same(in_log_order(got), in_log_order(fill_timestamps(want, got, before, after)))


@pytest.mark.parametrize('compression', ['none', 'gzip'])
def test_kafkajs_send_read_by_kcat(start_broker, compression):
    b = start_broker(num_partitions=1)
    specs = [{'partition': None, 'key': b'key-%d' % i, 'value': b'value %d' % i,
              'headers': [('trace', b'%d' % i), ('src', b'kafkajs')], 'timestamp': BASE_TS + i}
             for i in range(30)]
    specs.append({'partition': 0, 'key': None, 'value': payload(1, 5000), 'headers': None, 'timestamp': BASE_TS})
    (result,) = run_kafkajs(b.bootstrap, [{'op': 'send', 'topic': 'jk', 'compression': compression,
                                           'messages': [js_message(s) for s in specs]}])
    assert [(md['partition'], md['errorCode'], md['baseOffset']) for md in result] == [(0, 0, '0')]

    out = kcat('-b', b.bootstrap, '-C', '-t', 'jk', '-p', 0, '-e', '-o', 'beginning', '-f', r'%k|%h|%o|%T\n')
    assert out.splitlines() == [b'key-%d|trace=%d,src=kafkajs|%d|%d' % (i, i, i, BASE_TS + i) for i in range(30)] + \
        [b'||30|%d' % BASE_TS]

    got = consume_confluent(b.bootstrap, 'jk', [0], len(specs), settle=0.5)
    assert got == [Msg(0, i, s['key'], s['value'], headers_tuple(s['headers']), ('create', s['timestamp']))
                   for i, s in enumerate(specs)]
