"""franz-go 1.22.3 with its KIP-848 opt-in (kgo.ConsumerGroup plus
kgo.ServerSideBalancer: ConsumerGroupHeartbeat v1, the broker assigns with
`uniform` for franz-go's cooperative-sticky balancer) against skiff.

integration/franz_go_848 (a Go program; modules from the Go module proxy,
pinned in its go.sum) runs three members on a six-partition topic: each gets
two partitions; after every member commits, the first leaves and the other
two take over its partitions without giving up any of theirs; records
produced then are consumed by the survivors from the committed offsets: every
record is consumed exactly once and the committed offsets end at 20.

Needs Go 1.26+ (/usr/local/go or PATH) and the module proxy or a warm module
cache; skipped without a Go toolchain."""

import json
import os
import shutil
import subprocess

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

import kafka_wire
import kfs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, 'integration', 'franz_go_848')
GO = shutil.which('go') or ('/usr/local/go/bin/go' if os.path.exists('/usr/local/go/bin/go') else None)
BROKER = {'group.consumer.heartbeat.interval.ms': 300, 'group.consumer.session.timeout.ms': 6000}

pytestmark = pytest.mark.skipif(GO is None, reason='no Go toolchain (franz-go needs Go 1.26+)')


@pytest.fixture(scope='module')
def program():
    out = os.path.join(ROOT, 'build', 'franz-go-848', 'franz_go_848')
    env = dict(os.environ, GOTOOLCHAIN='local', GOFLAGS='-mod=readonly')
    r = subprocess.run([GO, 'build', '-o', out, '.'], cwd=SRC, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    return out


def test_three_members_one_leaves_commits_resume(start_broker, program):
    b = start_broker(config=BROKER)
    admin = AdminClient({'bootstrap.servers': b.bootstrap})
    admin.create_topics([NewTopic('t848', 6, 1)])['t848'].result(timeout=30)
    p = Producer({'bootstrap.servers': b.bootstrap})
    for i in range(60):
        p.produce('t848', value=b'%d' % (i // 6), partition=i % 6)
    assert p.flush(30) == 0

    r = subprocess.run([program, b.bootstrap, 't848', 'g848', '6'], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)

    phase1, phase2 = out['phase1'], out['phase2']
    assert [len(a) for a in phase1] == [2, 2, 2]
    assert sorted(sum(phase1, [])) == list(range(6))
    assert [len(a) for a in phase2] == [3, 3]
    assert sorted(sum(phase2, [])) == list(range(6))
    # The survivors (members 1 and 2) kept what they had: only additions.
    assert set(phase1[1]) <= set(phase2[0]) and set(phase1[2]) <= set(phase2[1])
    assert out['revoked'] == [[], []] and out['lost'] == [[], []]
    # Every record exactly once: partitions that moved (while members joined,
    # and from the leaver) resumed at the offsets committed before they moved.
    seen = [(part, off) for _, part, off in out['consumed']]
    assert sorted(seen) == [(part, off) for part in range(6) for off in range(20)]
    # After the leave, the leaver's partitions were read by the survivors only.
    assert {part for m, part, off in out['consumed'] if off >= 10} == set(range(6))
    assert all(m != 0 for m, part, off in out['consumed'] if off >= 10)
    with kafka_wire.Connection(b.host, b.port) as c:
        fetched = kfs.call(c, 9, 9, {'groups': [{'group_id': 'g848', 'member_id': None, 'member_epoch': -1,
                                                   'topics': None}]})
    (g,) = fetched['groups']
    (t,) = g['topics']
    assert sorted((q['partition_index'], q['committed_offset'], q['error_code']) for q in t['partitions']) == [
        (part, 20, 0) for part in range(6)]
