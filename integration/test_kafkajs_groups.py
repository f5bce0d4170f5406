"""Consumer groups through kafkajs 2.2.4 (FindCoordinator v2, JoinGroup v5,
SyncGroup v3, Heartbeat v3, LeaveGroup v3, OffsetCommit v5, OffsetFetch v4,
Fetch v11), its consumers run with node from integration/js/consumer.js.

A consumer (eachMessage or eachBatch) reads exactly the records that
confluent-kafka-python or kafkajs produced to a multi-partition topic, keys,
values, headers and timestamps included; it commits (kafkajs's auto-commit,
or commitOffsets up to an offset) and the next consumer of the group resumes
at the committed offsets: nothing committed comes again, nothing is lost. The
same across a broker restart, both for a consumer started afterwards and for
one that keeps running through it. Two consumers started together split a
4-partition topic 2/2 in one rebalance when the broker waits
group.initial.rebalance.delay.ms (skiff's default 0 gives two quick
generations that end in the same split); when one leaves, the other gets all
four partitions.

integration/js/node_modules must hold the pinned kafkajs: `npm ci` in
integration/js (scripts/test.sh runs it)."""

import base64
import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from test_groups import create_topic
from test_produce_fetch import BASE_TS, Msg, payload, produce_confluent
from test_produce_fetch_kafkajs import Expect, js_message, run_kafkajs

JS_DIR = Path(__file__).resolve().parent / 'js'
TIMEOUT = 30.0   # seconds any one step may take
SETTLE = 1.5     # seconds to wait for records that must not come


def specs(partitions, count, start=0):
    """`count` records spread round robin over the partitions: null and
    plain keys, null, empty and binary values, no, one, repeated and binary
    headers, explicit timestamps."""
    out = []
    for i in range(start, start + count):
        headers = [None, [('h', b'v%d' % i)], [('dup', b'1'), ('dup', b'2'), ('bin', bytes([0, 255, 10]))]][i % 3]
        out.append({'partition': i % partitions, 'key': None if i % 5 == 0 else b'key-%d' % i,
                    'value': None if i % 11 == 0 else b'' if i % 7 == 0 else payload(i),
                    'headers': headers, 'timestamp': BASE_TS + i})
    return out


def produce(bootstrap, topic, partitions, producer, count, start=0, expect=None):
    """Produces with confluent-kafka-python or kafkajs; returns the records
    as written (Msg, in production order)."""
    records = specs(partitions, count, start)
    if producer == 'confluent':
        return produce_confluent(bootstrap, topic, records)
    run_kafkajs(bootstrap, [{'op': 'send', 'topic': topic, 'messages': [js_message(s) for s in records]}])
    expect.add(topic, records)
    return expect.records[topic][-len(records):]


def unb64(s):
    return None if s is None else base64.b64decode(s)


def kafkajs_headers(headers):
    """A Msg's headers as kafkajs hands them over: {name: value | [values]}."""
    out = {}
    for k, v in headers:
        out.setdefault(k, []).append(v)
    return {k: vs[0] if len(vs) == 1 else vs for k, vs in out.items()}


def as_msg(e):
    headers = []
    for k, v in e['headers'].items():
        headers += [(k, unb64(x)) for x in v] if isinstance(v, list) else [(k, unb64(v))]
    return Msg(e['partition'], e['offset'], unb64(e['key']), unb64(e['value']), tuple(headers),
               ('create', e['timestamp']))


def normalized(msgs):
    """Records in log order, repeated headers grouped as kafkajs groups them."""
    return sorted((m._replace(headers=tuple(sorted(kafkajs_headers(m.headers).items()))) for m in msgs),
                  key=lambda m: (m.partition, m.offset))


class KafkajsConsumers:
    """One node process running consumer.js: start/stop consumers by name,
    wait for their events (a reader thread collects them)."""

    def __init__(self, broker):
        if not (JS_DIR / 'node_modules' / 'kafkajs').is_dir():
            pytest.fail('kafkajs is not installed: run `npm ci` in integration/js (scripts/test.sh does)')
        self.broker = broker
        self.events = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(['node', str(JS_DIR / 'consumer.js')], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=JS_DIR,
                                     env=dict(os.environ, KAFKAJS_NO_PARTITIONER_WARNING='1'))
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()
        self.wait(lambda evs: evs, 'consumer.js ready')

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.events.append(json.loads(line))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def send(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + '\n')
        self.proc.stdin.flush()

    def wait(self, cond, what, timeout=TIMEOUT):
        """Waits until cond(events) is true; returns its value."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                errors = [e for e in self.events if e['event'] in ('error', 'crash')]
                assert not errors, f'{what}: {errors}'
                got = cond(self.events)
                if got:
                    return got
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f'{what}: not within {timeout}s; events '
                                         f'{[e for e in self.events if e["event"] != "message"]}; '
                                         f'stderr {"".join(self.stderr)}')
                self.cond.wait(min(left, 0.2))

    def of(self, name, kind):
        with self.cond:
            return [e for e in self.events if e.get('name') == name and e['event'] == kind]

    def start(self, name, group, topics, mode='eachMessage', commit_below=None, wait_join=True):
        self.send(op='start', name=name, brokers=[self.broker.bootstrap], groupId=group, topics=topics,
                  mode=mode, commitBelow=commit_below)
        if wait_join:
            self.wait(lambda evs: any(e['event'] == 'started' and e['name'] == name for e in evs), f'{name} starts')

    def stop(self, name):
        self.send(op='stop', name=name)
        self.wait(lambda evs: any(e['event'] == 'stopped' and e['name'] == name for e in evs), f'{name} stops')

    def messages(self, name):
        return [as_msg(e) for e in self.of(name, 'message')]

    def wait_messages(self, name, count):
        self.wait(lambda evs: sum(1 for e in evs if e['event'] == 'message' and e['name'] == name) >= count,
                  f'{name} receives {count} records')
        time.sleep(SETTLE)
        return self.messages(name)

    def committed(self, name):
        """The last offset `name` committed per (topic, partition)."""
        out = {}
        for e in self.of(name, 'commit'):
            for t in e['topics']:
                for p in t['partitions']:
                    out[(t['topic'], int(p['partition']))] = int(p['offset'])
        return out

    def wait_committed(self, name, want):
        self.wait(lambda evs: self.committed(name) == want, f'{name} commits {want} (has {self.committed(name)})')

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send(op='exit')
                self.proc.stdin.close()
                self.proc.wait(TIMEOUT)
            except (subprocess.TimeoutExpired, BrokenPipeError):
                self.proc.kill()
                self.proc.wait()
        assert self.proc.returncode == 0, f'consumer.js exited {self.proc.returncode}: {"".join(self.stderr)}'


@pytest.fixture
def kafkajs_consumers():
    made = []

    def make(broker):
        made.append(KafkajsConsumers(broker))
        return made[-1]

    yield make
    for c in made:
        c.close()


def committed_confluent(bootstrap, group, topic, partitions):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': group})
    try:
        return [tp.offset for tp in c.committed([TopicPartition(topic, p) for p in range(partitions)],
                                                timeout=TIMEOUT)]
    finally:
        c.close()


def tail(msgs, first):
    """The records at or after offset first[partition] of their partition."""
    return [m for m in msgs if m.offset >= first[m.partition]]


@pytest.mark.parametrize('mode,producer', [('eachMessage', 'confluent'), ('eachMessage', 'kafkajs'),
                                           ('eachBatch', 'confluent'), ('eachBatch', 'kafkajs')])
def test_consumer_resumes_from_committed_offsets(start_broker, kafkajs_consumers, mode, producer):
    b = start_broker()
    create_topic(b.bootstrap, 't', 3)
    expect = Expect(3)
    js = kafkajs_consumers(b)

    # Auto-commit: everything read is committed, offset 10 on each partition.
    first = produce(b.bootstrap, 't', 3, producer, 30, expect=expect)
    js.start('c1', 'g', ['t'], mode)
    assert normalized(js.wait_messages('c1', 30)) == normalized(first)
    js.wait_committed('c1', {('t', p): 10 for p in range(3)})
    js.stop('c1')
    assert committed_confluent(b.bootstrap, 'g', 't', 3) == [10, 10, 10]

    # A new member reads only the new records; it commits up to offset 15.
    second = produce(b.bootstrap, 't', 3, producer, 30, start=30, expect=expect)
    js.start('c2', 'g', ['t'], mode, commit_below=15)
    assert normalized(js.wait_messages('c2', 30)) == normalized(second)
    js.wait_committed('c2', {('t', p): 15 for p in range(3)})
    js.stop('c2')
    assert committed_confluent(b.bootstrap, 'g', 't', 3) == [15, 15, 15]

    # The next one gets again exactly what was read but not committed.
    js.start('c3', 'g', ['t'], mode)
    assert normalized(js.wait_messages('c3', 15)) == normalized(tail(second, {p: 15 for p in range(3)}))
    js.wait_committed('c3', {('t', p): 20 for p in range(3)})
    js.stop('c3')
    assert committed_confluent(b.bootstrap, 'g', 't', 3) == [20, 20, 20]


@pytest.mark.parametrize('mode', ['eachMessage', 'eachBatch'])
def test_group_resumes_after_broker_restart(start_broker, kafkajs_consumers, mode):
    b = start_broker()
    create_topic(b.bootstrap, 't', 4)
    js = kafkajs_consumers(b)
    first = produce(b.bootstrap, 't', 4, 'confluent', 40)
    js.start('c1', 'gr', ['t'], mode, commit_below=7)
    assert normalized(js.wait_messages('c1', 40)) == normalized(first)
    js.wait_committed('c1', {('t', p): 7 for p in range(4)})
    js.stop('c1')

    b.restart()
    assert 'loaded 1 groups with 0 members' in b.run_log
    second = produce(b.bootstrap, 't', 4, 'confluent', 20, start=40)
    js.start('c2', 'gr', ['t'], mode)
    got = js.wait_messages('c2', 32)
    assert normalized(got) == normalized(tail(first, {p: 7 for p in range(4)}) + second)
    js.wait_committed('c2', {('t', p): 15 for p in range(4)})
    js.stop('c2')
    assert committed_confluent(b.bootstrap, 'gr', 't', 4) == [15] * 4


def test_running_consumer_carries_on_across_broker_restart(start_broker, kafkajs_consumers):
    b = start_broker()
    create_topic(b.bootstrap, 't', 2)
    js = kafkajs_consumers(b)
    first = produce(b.bootstrap, 't', 2, 'confluent', 20)
    js.start('c1', 'gk', ['t'])
    assert normalized(js.wait_messages('c1', 20)) == normalized(first)
    js.wait_committed('c1', {('t', 0): 10, ('t', 1): 10})

    b.restart()
    assert 'loaded 1 groups with 1 members' in b.run_log
    second = produce(b.bootstrap, 't', 2, 'confluent', 10, start=20)
    assert normalized(js.wait_messages('c1', 30)) == normalized(first + second)
    js.wait_committed('c1', {('t', 0): 15, ('t', 1): 15})
    # The group came back Stable with its member: no rejoin, no rebalance.
    assert len(js.of('c1', 'join')) == 1
    assert 'PreparingRebalance' not in b.run_log
    js.stop('c1')
    assert committed_confluent(b.bootstrap, 'gk', 't', 2) == [15, 15]


def generations(log, group):
    """(generation, members) of each rebalance the broker completed."""
    pat = re.compile(r'group %s: PreparingRebalance -> CompletingRebalance: generation (\d+) with (\d+) members'
                     % re.escape(group))
    return [(int(g), int(n)) for g, n in pat.findall(log)]


def assignment(join):
    return sorted(join['assignment'].get('t', []))


@pytest.mark.parametrize('delay_ms', [3000, 0])
def test_two_consumers_split_then_one_leaves(start_broker, kafkajs_consumers, delay_ms):
    b = start_broker(group_initial_rebalance_delay_ms=delay_ms)
    create_topic(b.bootstrap, 't', 4)
    js = kafkajs_consumers(b)
    # Without a delay c2 starts once c1 has its generation: two consumers
    # starting together may also land in one generation, as in Kafka.
    js.start('c1', 'g2', ['t'], wait_join=delay_ms == 0)
    js.start('c2', 'g2', ['t'], wait_join=False)

    def split(evs):
        last = {}
        for e in evs:
            if e['event'] == 'join':
                last[e['name']] = assignment(e)
        parts = list(last.values())
        return len(parts) == 2 and all(len(p) == 2 for p in parts) and sorted(sum(parts, [])) == [0, 1, 2, 3]
    js.wait(split, 'c1 and c2 get two partitions each')
    time.sleep(SETTLE)
    joins = {n: [assignment(e) for e in js.of(n, 'join')] for n in ('c1', 'c2')}
    if delay_ms:
        # One rebalance: each member joins once, generation 1 has both.
        assert [len(j) for j in joins.values()] == [1, 1]
        assert generations(b.log, 'g2') == [(1, 2)]
        (leader,) = {e['leaderId'] for n in ('c1', 'c2') for e in js.of(n, 'join')}
        assert sorted(e['memberId'] == leader for n in ('c1', 'c2') for e in js.of(n, 'join')) == [False, True]
    else:
        # c1 completed generation 1 alone; c2's join makes generation 2
        # with both.
        assert generations(b.log, 'g2') == [(1, 1), (2, 2)]

    # Each consumes its own partitions' records.
    produce(b.bootstrap, 't', 4, 'confluent', 40)
    js.wait(lambda evs: sum(1 for e in evs if e['event'] == 'message') >= 40, '40 records between them')
    time.sleep(SETTLE)
    for n in ('c1', 'c2'):
        got = js.messages(n)
        assert sorted({m.partition for m in got}) == joins[n][-1]
        assert len(got) == 20

    # c1 leaves: c2 gets all four partitions in the next generation.
    before = len(generations(b.log, 'g2'))
    js.stop('c1')
    js.wait(lambda evs: assignment(js.of('c2', 'join')[-1]) == [0, 1, 2, 3], 'c2 takes all four partitions')
    assert generations(b.log, 'g2')[before:] == [(before + 1, 1)]
    assert 'group g2: member %s leaves' % js.of('c1', 'join')[-1]['memberId'] in b.log
    produce(b.bootstrap, 't', 4, 'confluent', 8, start=40)
    js.wait(lambda evs: len(js.of('c2', 'message')) >= 28, 'c2 reads the new records')
    time.sleep(SETTLE)
    # Its own partitions from 0, c1's from where c1 committed.
    offsets = {p: [m.offset for m in js.messages('c2') if m.partition == p] for p in range(4)}
    assert offsets == {p: list(range(12)) if p in joins['c2'][-1] else [10, 11] for p in range(4)}
