"""The cluster fixture's routing state (docs/cluster.md) beyond leader moves:
it survives a restart (replicas, leaders, leader epochs, replication
factors; brokers that were down come back up), and it is placed as asked:
manual replica assignments in CreateTopics and CreatePartitions with Kafka's
validation, rack-aware assignment, and partition reassignment
(AlterPartitionReassignments / ListPartitionReassignments)."""

from types import SimpleNamespace

import pytest
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

import kfs
from control import Control
from test_cluster import CLUSTER, FENCED_LEADER_EPOCH, NONE, cluster, create, move, route, wire  # noqa: F401 (cluster: the fixture)
from harness import config_args, run_skiff
from test_admin_kafkajs import run_admin, step
from test_produce_fetch import TIMEOUT
from test_produce_fetch_wire import record_batch

pytestmark = pytest.mark.librdkafka

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


def create_topics_wire(cluster, name, assignments, node=1, validate_only=False):
    body = {'topics': [{'name': name, 'num_partitions': -1, 'replication_factor': -1, 'configs': [],
                        'assignments': [{'partition_index': p, 'broker_ids': ids} for p, ids in assignments]}],
            'timeout_ms': 5000, 'validate_only': validate_only}
    with wire(cluster, node) as c:
        r = kfs.call(c, 19, 7, body)['topics'][0]
    return r['error_code'], r['error_message']


def create_partitions_wire(cluster, name, count, assignments):
    body = {'topics': [{'name': name, 'count': count, 'assignments': [{'broker_ids': ids} for ids in assignments]}],
            'timeout_ms': 5000, 'validate_only': False}
    with wire(cluster, 1) as c:
        r = kfs.call(c, 37, 3, body)['results'][0]
    return r['error_code'], r['error_message']


UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT = 3, 38, 39
NO_REASSIGNMENT_IN_PROGRESS = 85


def test_manual_assignments(cluster):
    """CreateTopics and CreatePartitions place partitions on the replicas
    asked for (a real admin client), with Kafka 4.4's validation (messages
    checked against it: scripts/kafka-oracle.sh); the placement is saved."""
    ctl = Control(cluster.http_url)
    admin = AdminClient({'bootstrap.servers': cluster.bootstrap})
    admin.create_topics([NewTopic('man', 3, replica_assignment=[[3, 1], [2, 3], [1, 2]])])['man'].result(timeout=TIMEOUT)
    want = {0: [3, 1], 1: [2, 3], 2: [1, 2]}
    assert {p: (lead, reps) for p, (lead, _, reps, _) in metadata_routes(cluster, 2, 'man').items()} == \
        {p: (reps[0], reps) for p, reps in want.items()}
    admin.create_partitions([NewPartitions('man', 5, replica_assignment=[[2, 1], [3, 2]])])['man'] \
        .result(timeout=TIMEOUT)
    want.update({3: [2, 1], 4: [3, 2]})
    assert {p: reps for p, (_, _, reps, _) in metadata_routes(cluster, 1, 'man').items()} == want
    # Kafka's refusals, in its order of checks.
    msg = 'The manual partition assignment includes '
    assert create_topics_wire(cluster, 'bad', [(0, [1, 2]), (1, [3])]) == (INVALID_REPLICA_ASSIGNMENT, msg + (
        'a partition with 1 replica(s), but this is not consistent with previous partitions, which have 2 '
        'replica(s).'))
    assert create_topics_wire(cluster, 'bad', [(0, [1, 4])]) == \
        (INVALID_REPLICA_ASSIGNMENT, msg + 'broker 4, but no such broker is registered.')
    assert create_topics_wire(cluster, 'bad', [(0, [3, 2, 3])]) == \
        (INVALID_REPLICA_ASSIGNMENT, msg + 'the broker 3 more than once.')
    assert create_topics_wire(cluster, 'bad', [(0, [])]) == \
        (INVALID_REPLICA_ASSIGNMENT, msg + 'an empty replica list.')
    assert create_topics_wire(cluster, 'bad', [(0, [1]), (2, [2])]) == \
        (INVALID_REPLICA_ASSIGNMENT, 'partitions should be a consecutive 0-based integer sequence')
    assert create_topics_wire(cluster, 'bad', [(0, [1]), (7, [2]), (7, [3])]) == \
        (INVALID_REPLICA_ASSIGNMENT, 'Found multiple manual partition assignments for partition 7')
    assert create_partitions_wire(cluster, 'man', 6, [[1]]) == (INVALID_REPLICA_ASSIGNMENT, msg + (
        'a partition with 1 replica(s), but this is not consistent with previous partitions, which have 2 '
        'replica(s).'))
    assert create_partitions_wire(cluster, 'man', 7, [[1, 2]]) == (INVALID_REPLICA_ASSIGNMENT, (
        'Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.'))
    # A broker that is down is still registered, but cannot hold a partition alone.
    assert ctl.post('/v1/cluster/brokers/2/down')[0] == 200
    assert create_topics_wire(cluster, 'bad', [(0, [1, 3]), (1, [2])], node=1)[1] == msg + (
        'a partition with 1 replica(s), but this is not consistent with previous partitions, which have 2 '
        'replica(s).')
    assert create_topics_wire(cluster, 'bad', [(0, [1]), (1, [2])], node=1) == (INVALID_REPLICA_ASSIGNMENT, (
        'All brokers specified in the manual partition assignment for partition 1 are fenced or in controlled '
        'shutdown.'))
    assert create_topics_wire(cluster, 'down', [(0, [2, 3])], node=1) == (NONE, None)
    assert metadata_routes(cluster, 1, 'down')[0] == (3, 0, [2, 3], [3])
    cluster.restart()
    assert {p: reps for p, (_, _, reps, _) in metadata_routes(cluster, 1, 'man').items()} == want
    assert metadata_routes(cluster, 1, 'down')[0] == (3, 0, [2, 3], [2, 3])


def assign_racks(racks, rf, partition, start, shift):
    """Kafka's rack-aware assignment (AdminUtils) of one partition; racks[i]
    is broker i's rack; returns broker indexes."""
    by_rack = {r: [i for i, x in enumerate(racks) if x == r] for r in sorted(set(racks))}
    order, names = [], sorted(by_rack)
    while len(order) < len(racks):
        for r in names:
            if by_rack[r]:
                order.append(by_rack[r].pop(0))
    n, nracks = len(order), len(names)
    first = (partition + start) % n
    out, k = [order[first]], 0
    s = (shift + partition // n) * nracks
    while len(out) < rf:
        b = order[(first + 1 + (s + k) % (n - 1)) % n]
        k += 1
        used_racks = {racks[x] for x in out}
        if (racks[b] not in used_racks or len(used_racks) == nracks) and (b not in out or len(out) == n):
            out.append(b)
    return out


def test_rack_aware_assignment(start_broker):
    """With broker.rack on every broker, replicas of a partition spread over
    racks as Kafka's rack-aware assignment spreads them."""
    racks = ['east', 'east', 'west', 'west', 'north']
    b = start_broker(config={'skiff.cluster.brokers': 5, 'broker.rack': ','.join(racks)})
    create(b.bootstrap, 'racked', 10, rf=3)
    reps = {p: r for p, (_, _, r, _) in metadata_routes(b, 1, 'racked').items()}
    assert all(len({racks[n - 1] for n in r}) == 3 for r in reps.values()), reps
    fits = [(s, h) for s in range(5) for h in range(5)
            if all([x + 1 for x in assign_racks(racks, 3, p, s, h)] == reps[p] for p in range(10))]
    assert fits, reps
    # Two racks, rf 2: every partition has one replica in each.
    b2 = start_broker(config={'skiff.cluster.brokers': 4, 'broker.rack': 'a,a,b,b'})
    create(b2.bootstrap, 'two_racks', 8, rf=2)
    assert all(sorted('aabb'[n - 1] for n in r) == ['a', 'b']
               for _, _, r, _ in metadata_routes(b2, 1, 'two_racks').values())


def reassign_wire(cluster, topic, parts, allow=True, version=1):
    body = {'timeout_ms': 5000, 'allow_replication_factor_change': allow,
            'topics': [{'name': topic, 'partitions': [{'partition_index': p, 'replicas': r} for p, r in parts]}]}
    with wire(cluster, 1) as c:
        r = kfs.call(c, 45, version, body)
    assert r['error_code'] == NONE
    return [(p['error_code'], p['error_message']) for p in r['responses'][0]['partitions']]


def test_partition_reassignment(cluster):
    """AlterPartitionReassignments and ListPartitionReassignments from
    kafkajs's admin client: a reassignment completes at once when every
    target replica is up (the leader moves when it left, the epoch is bumped
    when a replica left), waits for a target replica that is down (listed
    with its adding and removing replicas) and completes when it is back;
    cancelling reverts it; Kafka's errors."""
    ctl = Control(cluster.http_url)
    with wire(cluster, 2) as c:
        versions = c.api_versions()['api_keys']
    assert (versions[45], versions[46]) == ((0, 1), (0, 0))
    create(cluster.bootstrap, 'moving', 3, rf=2)
    before = metadata_routes(cluster, 1, 'moving')
    lead0, epoch0, reps0, _ = before[0]
    away = [n for n in (1, 2, 3) if n not in reps0] + [n for n in reps0 if n != lead0]  # drops the leader
    grow = before[1][2] + [n for n in (1, 2, 3) if n not in before[1][2]]
    res = run_admin(cluster, [
        step('alterPartitionReassignments', topics=[{'topic': 'moving', 'partitionAssignment': [
            {'partition': 0, 'replicas': away}, {'partition': 1, 'replicas': grow}]}]),
        step('listPartitionReassignments', topics=[{'topic': 'moving', 'partitions': [0, 1, 2]}]),
    ])
    assert 'ok' in res[0], res
    assert res[1] == {'ok': {'topics': []}}
    after = metadata_routes(cluster, 3, 'moving')
    assert after[0] == (away[0], epoch0 + 1, away, sorted(away))  # the leader left: the first target leads
    assert after[1] == (before[1][0], before[1][1], grow, sorted(grow))  # only added: same leader and epoch
    assert produce(cluster, 'moving', 0, away[0], [b'x']) == 0

    # A target replica that is down: the reassignment waits for it.
    lead2, epoch2, reps2, _ = before[2]
    target = [n for n in (1, 2, 3) if n not in reps2] + [lead2]
    assert ctl.post(f'/v1/cluster/brokers/{target[0]}/down')[0] == 200
    up = SimpleNamespace(bootstrap='%s:%d' % cluster.nodes[lead2])
    res = run_admin(up, [
        step('alterPartitionReassignments', topics=[{'topic': 'moving', 'partitionAssignment': [
            {'partition': 2, 'replicas': target}]}]),
        step('listPartitionReassignments', topics=[{'topic': 'moving', 'partitions': [2]}]),
        step('listPartitionReassignments'),
    ])
    leaving = [n for n in reps2 if n not in target]
    ongoing = {'topics': [{'name': 'moving', 'partitions': [
        {'partition': 2, 'replicas': target + leaving, 'addingReplicas': [target[0]],
         'removingReplicas': leaving}]}]}
    assert res[1:] == [{'ok': ongoing}, {'ok': ongoing}], res
    assert metadata_routes(cluster, 2, 'moving')[2] == (lead2, epoch2, target + leaving, sorted(reps2))
    # The control plane's route shows it as ListPartitionReassignments does.
    assert route(ctl, 'moving', 2) == {
        'topic': 'moving', 'partition': 2, 'leader': lead2, 'leader_epoch': epoch2, 'replicas': target + leaving,
        'isr': [n for n in target + leaving if n != target[0]], 'adding_replicas': [target[0]],
        'removing_replicas': leaving}
    assert ctl.post(f'/v1/cluster/brokers/{target[0]}/up')[0] == 200
    assert metadata_routes(cluster, 2, 'moving')[2] == (lead2, epoch2 + 1, target, sorted(target))
    done = route(ctl, 'moving', 2)
    assert (done['replicas'], done['adding_replicas'], done['removing_replicas']) == (target, [], [])
    assert run_admin(cluster, [step('listPartitionReassignments')]) == [{'ok': {'topics': []}}]

    # Cancelling: back to the replicas without those joining; then nothing to cancel.
    now = metadata_routes(cluster, 2, 'moving')[2]
    assert ctl.post(f'/v1/cluster/brokers/{leaving[0]}/down')[0] == 200
    assert reassign_wire(cluster, 'moving', [(2, [leaving[0]] + target)]) == [(NONE, None)]
    assert metadata_routes(cluster, 1, 'moving')[2][2] == [leaving[0]] + target
    assert reassign_wire(cluster, 'moving', [(2, None)]) == [(NONE, None)]
    assert metadata_routes(cluster, 1, 'moving')[2][:3] == now[:3]
    assert reassign_wire(cluster, 'moving', [(2, None)]) == [(NO_REASSIGNMENT_IN_PROGRESS, None)]
    assert ctl.post(f'/v1/cluster/brokers/{leaving[0]}/up')[0] == 200

    # Kafka's refusals.
    assert reassign_wire(cluster, 'moving', [(0, [1]), (9, [1]), (1, [1, 4]), (1, [2, 2]), (1, [])], allow=False) == [
        (INVALID_REPLICATION_FACTOR, 'The replication factor is changed from 2 to 1'),
        (UNKNOWN_TOPIC_OR_PARTITION, 'Unable to find partition moving:9.'),
        (INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes broker 4, but no such broker is '
                                     'registered.'),
        (INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes the broker 2 more than once.'),
        (INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.')]
    assert reassign_wire(cluster, 'gone', [(0, [1])], version=0) == \
        [(UNKNOWN_TOPIC_OR_PARTITION, 'Unable to find a topic named gone.')]
    # The replicas are saved: a restart keeps them.
    final = metadata_routes(cluster, 1, 'moving')
    cluster.restart()
    assert metadata_routes(cluster, 1, 'moving') == final
