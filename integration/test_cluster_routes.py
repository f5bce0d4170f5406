"""The cluster fixture's routing state (docs/cluster.md) beyond leader moves:
it survives a restart (replicas, leaders, leader epochs, replication
factors; brokers that were down come back up), and it is placed as asked:
manual replica assignments in CreateTopics and CreatePartitions with Kafka's
validation, rack-aware assignment, and partition reassignment
(AlterPartitionReassignments / ListPartitionReassignments)."""

import pytest
from confluent_kafka.admin import AdminClient

import kfs
from control import Control
from test_cluster import FENCED_LEADER_EPOCH, NONE, create, move, route, wire
from harness import config_args, run_skiff
from test_produce_fetch import TIMEOUT
from test_produce_fetch_wire import record_batch

pytestmark = pytest.mark.librdkafka

CLUSTER = {'skiff.cluster.brokers': 3, 'default.replication.factor': 3, 'offsets.topic.num.partitions': 6,
           'transaction.state.log.num.partitions': 6, 'broker.rack': 'ra,rb,rc'}


@pytest.fixture
def cluster(start_broker):
    return start_broker(config=CLUSTER)


def produce(cluster, topic, partition, leader, values):
    req = {'acks': -1, 'timeout_ms': 5000, 'topic_data': [{'name': topic, 'partition_data': [
        {'index': partition, 'records': record_batch([(b'k', v, []) for v in values])}]}]}
    with wire(cluster, leader) as c:
        p = kfs.call(c, 0, 11, req)['responses'][0]['partition_responses'][0]
    assert p['error_code'] == NONE, p
    return p['base_offset']


def offsets_for_epochs(cluster, topic, partition, leader, current, epochs):
    """OffsetForLeaderEpoch v4 at the leader: (error, epoch, end offset) per epoch asked."""
    req = {'replica_id': -1, 'topics': [{'topic': topic, 'partitions': [
        {'partition': partition, 'current_leader_epoch': current, 'leader_epoch': e} for e in epochs]}]}
    with wire(cluster, leader) as c:
        parts = kfs.call(c, 23, 4, req)['topics'][0]['partitions']
    return [(x['error_code'], x['leader_epoch'], x['end_offset']) for x in parts]


def metadata_routes(cluster, node, topic):
    """(leader, leader epoch, replicas, isr) per partition from Metadata v12 at `node`."""
    with wire(cluster, node) as c:
        t = kfs.call(c, 3, 12, {'topics': [{'name': topic}]})['topics'][0]
    assert t['error_code'] == NONE, t
    return {p['partition_index']: (p['leader_id'], p['leader_epoch'], p['replica_nodes'], sorted(p['isr_nodes']))
            for p in t['partitions']}


def test_routes_survive_a_restart(cluster):
    ctl = Control(cluster.http_url)
    create(cluster.bootstrap, 'kept', 3)
    create(cluster.bootstrap, 'two', 4, rf=2)
    for p in range(3):
        produce(cluster, 'kept', p, route(ctl, 'kept', p)['leader'], [b'a', b'b'])
    # Partition 0 moves once, 1 twice (with records in each epoch), 2 is
    # left without a leader; then broker 3 goes down (its partitions move).
    r0 = route(ctl, 'kept', 0)
    move(ctl, 'kept', 0, next(n for n in r0['replicas'] if n != r0['leader']))
    for _ in range(2):
        r1 = move(ctl, 'kept', 1)
        produce(cluster, 'kept', 1, r1['leader'], [b'c'])
    assert ctl.post('/v1/cluster/topics/kept/partitions/2/leaderless', {'duration_ms': 600000})[0] == 200
    assert ctl.post('/v1/cluster/brokers/3/down')[0] == 200
    for p in (0, 1):
        produce(cluster, 'kept', p, route(ctl, 'kept', p)['leader'], [b'd'])
    before = {p: route(ctl, 'kept', p) for p in range(3)}
    assert before[2]['leader'] == -1 and before[1]['leader_epoch'] >= 2
    two_before = metadata_routes(cluster, 1, 'two')
    assert all(len(reps) == 2 for _, _, reps, _ in two_before.values())
    answers = {p: offsets_for_epochs(cluster, 'kept', p, before[p]['leader'], before[p]['leader_epoch'],
                                     range(before[p]['leader_epoch'] + 2)) for p in (0, 1)}
    assert answers[1][0] == (NONE, 0, 2) and answers[1][1] == (NONE, 1, 3)

    cluster.restart()
    assert sorted(cluster.nodes) == [1, 2, 3]
    after = metadata_routes(cluster, 3, 'kept')  # broker 3 is up again
    for p in (0, 1):
        b = before[p]
        assert after[p] == (b['leader'], b['leader_epoch'], b['replicas'], sorted(b['replicas']))
        # The same epoch history: the same answers.
        assert offsets_for_epochs(cluster, 'kept', p, b['leader'], b['leader_epoch'],
                                  range(b['leader_epoch'] + 2)) == answers[p]
        # An older epoch is still fenced: epochs did not start again at 0.
        if b['leader_epoch'] > 0:
            assert offsets_for_epochs(cluster, 'kept', p, b['leader'], b['leader_epoch'] - 1, [0])[0][0] == \
                FENCED_LEADER_EPOCH
    # The leaderless partition elected its first replica, in a new epoch.
    leader, epoch, reps, _ = after[2]
    assert (leader, epoch, reps) == (before[2]['replicas'][0], before[2]['leader_epoch'] + 1, before[2]['replicas'])
    assert produce(cluster, 'kept', 2, leader, [b'e']) == 2
    assert offsets_for_epochs(cluster, 'kept', 2, leader, epoch, [epoch - 1, epoch]) == \
        [(NONE, epoch - 1, 2), (NONE, epoch, 3)]
    assert metadata_routes(cluster, 2, 'two') == {p: (lead, ep, reps, sorted(reps))
                                                  for p, (lead, ep, reps, _) in two_before.items()}
    # A deleted topic's routes go with it: created again, it starts in epoch 0.
    admin = AdminClient({'bootstrap.servers': cluster.bootstrap})
    admin.delete_topics(['kept'])['kept'].result(timeout=TIMEOUT)
    create(cluster.bootstrap, 'kept', 3)
    cluster.restart()
    assert {e for _, e, _, _ in metadata_routes(cluster, 1, 'kept').values()} == {0}


def test_saved_routes_checked_at_start(start_broker, tmp_path):
    """A malformed cluster-routes.json stops start-up naming the file; saved
    replicas that are no longer brokers (fewer brokers now) are assigned
    afresh in a new epoch."""
    b = start_broker(config=CLUSTER)
    ctl = Control(b.http_url)
    create(b.bootstrap, 'few', 1)
    r = route(ctl, 'few', 0)
    moved = move(ctl, 'few', 0, next(n for n in r['replicas'] if n != r['leader']))
    b.stop()
    saved = b.data_dir / 'cluster-routes.json'
    good = saved.read_text()
    assert '"name":"few"' in good
    saved.write_text(good.replace('"epoch":', '"epoch":"x",', 1))
    res = run_skiff(*config_args({**CLUSTER, 'log.dirs': str(b.data_dir), 'listeners': 'PLAINTEXT://127.0.0.1:0',
                                  'skiff.http.listeners': ''}))
    assert res.returncode != 0
    assert 'cluster-routes.json: malformed' in res.stdout + res.stderr
    saved.write_text(good)
    small = start_broker(config={**CLUSTER, 'skiff.cluster.brokers': 2, 'default.replication.factor': 2,
                                 'broker.rack': 'ra,rb'}, data_dir=b.data_dir)
    leader, epoch, reps, isr = metadata_routes(small, 1, 'few')[0]
    assert sorted(reps) == [1, 2] and isr == [1, 2] and leader == reps[0] and epoch == moved['leader_epoch'] + 1
