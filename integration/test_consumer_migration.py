"""A mixed classic/consumer group (KIP-848's online migration,
group.consumer.migration.policy=bidirectional, Kafka's default).

Two classic members (Debian's librdkafka 2.0.2, the range assignor) share a
four-partition topic; a third member with group.protocol=consumer
(librdkafka 2.15, loaded in its own process: two librdkafka versions cannot
share one) joins, and the broker converts the group to a consumer group
(the online upgrade): the classic members keep their partitions until they
rejoin, then give up what the new member gets. The consumer member leaves
and the group is a classic group again (the online downgrade), the two
classic members sharing the partitions as before. Every member runs in a
process of its own and reports the partitions it owns; no partition is
ever owned by two members, and every partition is always owned by one
member once the group settles."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

import kafka_wire
import kfs

ROOT = Path(__file__).resolve().parent.parent
LIB_DIR = Path(os.environ.get('SKIFF_LIBRDKAFKA_DIR', ROOT / 'build' / 'librdkafka-2.15'))
TIMEOUT = 40.0
PARTS = {0, 1, 2, 3}

pytestmark = pytest.mark.skipif(not (LIB_DIR / 'lib').is_dir(),
                                reason=f'no librdkafka 2.15 in {LIB_DIR} (scripts/build-librdkafka.sh)')

CHILD = r'''
import json, os, signal, sys
from confluent_kafka import Consumer, libversion
conf = json.loads(sys.argv[1])
path = sys.argv[2]
c = Consumer(conf)
owned = set()
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
def write():
    with open(path + '.tmp', 'w') as f:
        json.dump({'version': libversion()[0], 'owned': sorted(owned)}, f)
    os.replace(path + '.tmp', path)
def on_assign(consumer, parts):
    owned.update(p.partition for p in parts)
    write()
def on_revoke(consumer, parts):
    owned.difference_update(p.partition for p in parts)
    write()
c.subscribe(['m'], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
write()
while not stop:
    c.poll(0.1)
c.close()
owned.clear()
write()
'''


class Child:
    """A consumer in a process of its own; `owned()` is what it reported last."""

    def __init__(self, bootstrap, tmp_path, name, consumer_protocol):
        conf = {'bootstrap.servers': bootstrap, 'group.id': 'mixed', 'auto.offset.reset': 'earliest',
                'enable.auto.commit': False}
        env = dict(os.environ)
        env.pop('LD_LIBRARY_PATH', None)
        if consumer_protocol:
            conf['group.protocol'] = 'consumer'
            env['LD_LIBRARY_PATH'] = str(LIB_DIR / 'lib')
        else:
            conf.update({'partition.assignment.strategy': 'range', 'session.timeout.ms': 6000,
                         'heartbeat.interval.ms': 300})
        self.path = tmp_path / f'{name}.json'
        self.proc = subprocess.Popen([sys.executable, '-c', CHILD, json.dumps(conf), str(self.path)], env=env)

    def report(self):
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def owned(self):
        r = self.report()
        return set(r['owned']) if r else set()

    def leave(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(TIMEOUT) == 0

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_for(children, cond, what):
    """Polls the reports until cond(owned sets) holds; no partition is ever
    reported by two members."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        got = [c.owned() for c in children]
        seen = set()
        for s in got:
            assert not (s & seen), f'a partition owned twice: {got}'
            seen |= s
        if cond(got):
            return got
        time.sleep(0.05)
    raise AssertionError(f'{what}: {[sorted(c.owned()) for c in children]}')


def group_type(b):
    """The group's type in ListGroups v5 ('classic' or 'consumer')."""
    with kafka_wire.Connection(b.host, b.port) as conn:
        r = kfs.call(conn, 16, 5, {})
    return {g['group_id']: g['group_type'] for g in r['groups']}.get('mixed')


def test_classic_group_upgrades_and_downgrades_with_its_members(start_broker, tmp_path):
    b = start_broker(config={'group.consumer.heartbeat.interval.ms': 300})
    admin = AdminClient({'bootstrap.servers': b.bootstrap})
    admin.create_topics([NewTopic('m', 4, 1)])['m'].result(timeout=TIMEOUT)
    a = Child(b.bootstrap, tmp_path, 'a', False)
    c = None
    try:
        wait_for([a], lambda got: got[0] == PARTS, 'the first classic member takes every partition')
        bb = Child(b.bootstrap, tmp_path, 'b', False)
        # range over two members: one gets 0-1, the other 2-3
        got = wait_for([a, bb], lambda got: sorted(map(sorted, got)) == [[0, 1], [2, 3]], 'two classic members')
        assert group_type(b) == 'classic'
        before = got

        # The upgrade: the classic members keep their partitions as their
        # target; the uniform assignor balances 2-2-0 by moving partitions
        # from the end: partition 3 goes to the consumer member.
        c = Child(b.bootstrap, tmp_path, 'c', True)
        got = wait_for([a, bb, c], lambda got: set().union(*got) == PARTS and len(got[2]) == 1,
                       'the consumer member joins the classic members')
        assert group_type(b) == 'consumer'
        assert c.report()['version'].startswith('2.15'), c.report()
        assert a.report()['version'].startswith('2.0.2'), a.report()
        assert got == [before[0] - {3}, before[1] - {3}, {3}], (before, got)
        assert 'upgraded from classic to consumer group at epoch 2 with 2 members' in b.log

        # The downgrade: the consumer member leaves, the classic members
        # rebalance in a classic group again.
        c.leave()
        got = wait_for([a, bb], lambda got: sorted(map(sorted, got)) == [[0, 1], [2, 3]],
                       'the classic members after the consumer member left')
        assert group_type(b) == 'classic'
        assert 'downgraded from consumer to classic group' in b.log
    finally:
        for x in (a, locals().get('bb'), c):
            if x:
                x.kill()
