"""Per-broker state of the cluster fixture (docs/cluster.md) as Kafka keeps
it per broker: fetch sessions belong to the broker that opened them and
keep each partition's current leader epoch; requests naming several groups
or transactional ids answer NOT_COORDINATOR for each key another broker
coordinates, and run for the others."""

import pytest

import kfs
from control import Control
from test_cluster import FENCED_LEADER_EPOCH, NONE, NOT_COORDINATOR, cluster, create, move, route, wire  # noqa: F401 (cluster: the fixture)
from test_admin_kafkajs import run_admin, step
from test_cluster_routes import produce

pytestmark = pytest.mark.librdkafka

FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH = 70, 71
GROUP_ID_NOT_FOUND, TRANSACTIONAL_ID_NOT_FOUND = 69, 105


def fetch(cluster, node, session_id, epoch, parts):
    """Fetch v12: (top-level error, session id, [(partition, error, high watermark)])."""
    req = {'replica_id': -1, 'max_wait_ms': 0, 'min_bytes': 0, 'max_bytes': 1 << 20, 'session_id': session_id,
           'session_epoch': epoch, 'topics': [{'topic': t, 'partitions': [
               {'partition': p, 'fetch_offset': 0, 'current_leader_epoch': e, 'partition_max_bytes': 1 << 20}]}
               for t, p, e in parts]}
    with wire(cluster, node) as c:
        r = kfs.call(c, 1, 12, req)
    return r['error_code'], r['session_id'], [(p['partition_index'], p['error_code'], p['high_watermark'])
                                              for t in r['responses'] for p in t['partitions']]


def test_fetch_sessions_are_per_broker_and_keep_leader_epochs(cluster):
    ctl = Control(cluster.http_url)
    create(cluster.bootstrap, 'sess', 1)
    r = route(ctl, 'sess', 0)
    leader, other = r['leader'], next(n for n in r['replicas'] if n != r['leader'])
    produce(cluster, 'sess', 0, leader, [b'a', b'b'])
    err, sid, parts = fetch(cluster, leader, 0, 0, [('sess', 0, r['leader_epoch'])])
    assert (err, parts) == (NONE, [(0, NONE, 2)]) and sid > 0
    # Another broker does not know the session, and cannot close it.
    assert fetch(cluster, other, sid, 1, [])[0] == FETCH_SESSION_ID_NOT_FOUND
    assert fetch(cluster, other, sid, -1, [])[0] == NONE
    assert fetch(cluster, leader, sid, 1, [])[:2] == (NONE, sid)
    assert fetch(cluster, leader, sid, 5, [])[0] == INVALID_FETCH_SESSION_EPOCH
    # A new epoch while the leader stays: the partition the continuation
    # omits is checked against the epoch the session was opened with.
    moved = move(ctl, 'sess', 0, leader)
    assert moved['leader_epoch'] == r['leader_epoch'] + 1
    assert fetch(cluster, leader, sid, 2, []) == (NONE, sid, [(0, FENCED_LEADER_EPOCH, -1)])
    # Listing it again with the new epoch updates the session.
    assert fetch(cluster, leader, sid, 3, [('sess', 0, moved['leader_epoch'])])[0] == NONE
    produce(cluster, 'sess', 0, leader, [b'c'])
    assert fetch(cluster, leader, sid, 4, []) == (NONE, sid, [(0, NONE, 3)])


def coordinators(cluster, key_type, keys):
    with wire(cluster, 1) as c:
        r = kfs.call(c, 10, 4, {'key_type': key_type, 'coordinator_keys': keys})
    assert all(co['error_code'] == NONE for co in r['coordinators'])
    return {co['key']: co['node_id'] for co in r['coordinators']}


def test_several_keys_answered_per_coordinator(cluster):
    groups = coordinators(cluster, 0, ['g%d' % i for i in range(12)])
    txns = coordinators(cluster, 1, ['t%d' % i for i in range(12)])
    assert set(groups.values()) == set(txns.values()) == {1, 2, 3}
    for node in (1, 2, 3):
        with wire(cluster, node) as c:
            dg = kfs.call(c, 15, 5, {'groups': list(groups), 'include_authorized_operations': False})
            assert {g['group_id']: g['error_code'] for g in dg['groups']} == \
                {g: NONE if n == node else NOT_COORDINATOR for g, n in groups.items()}
            assert all(g['group_state'] == ('Dead' if groups[g['group_id']] == node else '')
                       for g in dg['groups'])
            of = kfs.call(c, 9, 8, {'groups': [{'group_id': g, 'topics': None} for g in groups],
                                    'require_stable': False})
            assert {g['group_id']: g['error_code'] for g in of['groups']} == \
                {g: NONE if n == node else NOT_COORDINATOR for g, n in groups.items()}
            cg = kfs.call(c, 69, 0, {'group_ids': list(groups), 'include_authorized_operations': False})
            assert {g['group_id']: g['error_code'] for g in cg['groups']} == \
                {g: GROUP_ID_NOT_FOUND if n == node else NOT_COORDINATOR for g, n in groups.items()}
            dt = kfs.call(c, 65, 0, {'transactional_ids': list(txns)})
            assert {t['transactional_id']: t['error_code'] for t in dt['transaction_states']} == \
                {t: TRANSACTIONAL_ID_NOT_FOUND if n == node else NOT_COORDINATOR for t, n in txns.items()}
            dl = kfs.call(c, 42, 2, {'groups_names': list(groups)})
            assert {g['group_id']: g['error_code'] for g in dl['results']} == \
                {g: GROUP_ID_NOT_FOUND if n == node else NOT_COORDINATOR for g, n in groups.items()}


def test_groups_over_three_coordinators_with_kafkajs(cluster):
    """kafkajs's admin client finds each group's coordinator (FindCoordinator)
    and sends DescribeGroups to each; ListGroups goes to every broker, each
    answering the groups it coordinates: together every group, once."""
    groups = coordinators(cluster, 0, ['kg%d' % i for i in range(9)])
    assert set(groups.values()) == {1, 2, 3}
    create(cluster.bootstrap, 'kt', 1)
    for g, node in groups.items():  # a simple commit (no generation) at each coordinator makes an Empty group
        with wire(cluster, node) as c:
            r = kfs.call(c, 8, 2, {'group_id': g, 'generation_id_or_member_epoch': -1, 'member_id': '',
                                   'retention_time_ms': -1, 'topics': [{'name': 'kt', 'partitions': [
                                       {'partition_index': 0, 'committed_offset': 0, 'committed_metadata': ''}]}]})
        assert r['topics'][0]['partitions'][0]['error_code'] == NONE
    res = run_admin(cluster, [step('listGroups'), {'op': 'describeGroups', 'args': list(groups)}])
    assert all('ok' in r for r in res), res
    assert sorted(g['groupId'] for g in res[-2]['ok']['groups']) == sorted(groups)
    assert sorted((g['groupId'], g['errorCode'], g['state']) for g in res[-1]['ok']['groups']) == \
        [(g, NONE, 'Empty') for g in sorted(groups)]
