"""The differential corpus: for every API skiff serves, requests covering
each version it advertises, happy paths and error paths. A case is a function
(side, version) -> answer (a decoded response, or a dict of the answers of a
few steps); both brokers run the same cases in the same order, so state
built by one case (offsets, groups, transactions) is the same on both.

setup(side) creates the topics and records the cases read, and waits until
each broker serves them (Kafka may answer NOT_LEADER_OR_FOLLOWER for a moment
after CreateTopics, and COORDINATOR_NOT_AVAILABLE while it creates its
internal topics).
"""

import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'integration'))

from test_produce_fetch_wire import crc32c, record  # noqa: E402

BASE_TS = 1_700_000_000_000
T1, T3 = 'cf-one', 'cf-three'              # 1 and 3 partitions, read-only after setup
T_FETCH, T_PRODUCE, T_DEL, T_TXN = 'cf-fetch', 'cf-produce', 'cf-delete-records', 'cf-txn'
SETUP_TOPICS = {T1: 1, T3: 3, T_FETCH: 1, T_PRODUCE: 1, T_DEL: 1, T_TXN: 5}
SETUP_TOPICS.update({f'cf-partitions-{v}': 1 for v in range(4)})
MISSING = 'cf-missing'
SIMPLE_GROUP = 'cf-simple-group'
LATEST, EARLIEST, MAX_TIMESTAMP = -1, -2, -3
BROKER, TOPIC = 4, 2


def batch(n, producer_id=-1, epoch=-1, sequence=-1, transactional=False, base_ts=BASE_TS):
    """An uncompressed batch of `n` records k<i>/v<i>, timestamps base_ts+i."""
    recs = b''.join(record(i, i, b'k%d' % i, b'v%d' % i) for i in range(n))
    attributes = 0x10 if transactional else 0
    after_crc = struct.pack('>hiqqqhii', attributes, n - 1, base_ts, base_ts + n - 1, producer_id, epoch,
                            sequence, n) + recs
    after_length = struct.pack('>ibI', 0, 2, crc32c(after_crc)) + after_crc
    return struct.pack('>qi', 0, len(after_length)) + after_length


def produce_body(topic, partition, records, acks=-1, transactional_id=None):
    return {'transactional_id': transactional_id, 'acks': acks, 'timeout_ms': 10000,
            'topic_data': [{'name': topic, 'partition_data': [{'index': partition, 'records': records}]}]}


def wait_for(fn, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out waiting for {what}')
        time.sleep(0.1)


def settled(side, api, version, body, polls=3, timeout=10.0):
    """The answer once it stops changing (`polls` equal answers in a row):
    Kafka applies config changes to its metadata cache a moment after it
    answers the alter request."""
    deadline = time.monotonic() + timeout
    last, same = None, 0
    while same < polls and time.monotonic() < deadline:
        r = side.call(api, version, body)
        same = same + 1 if r == last else 1
        last = r
        if same < polls:
            time.sleep(0.1)
    return last


def setup(side):
    r = side.call(19, 7, {'topics': [{'name': n, 'num_partitions': p, 'replication_factor': 1}
                                     for n, p in SETUP_TOPICS.items()], 'timeout_ms': 30000})
    assert all(t['error_code'] == 0 for t in r['topics']), r

    def served(topic, partitions):
        def check():
            r = side.call(2, 7, {'replica_id': -1, 'topics': [{'name': topic, 'partitions': [
                {'partition_index': p, 'timestamp': LATEST} for p in range(partitions)]}]})
            return all(p['error_code'] == 0 for t in r['topics'] for p in t['partitions'])
        return check

    for name, partitions in SETUP_TOPICS.items():
        wait_for(served(name, partitions), f'{side.name}: {name} served')
        side.topic_id(name)
    for topic, n in ((T_FETCH, 3), (T_FETCH, 2), (T_DEL, 5), (T1, 4)):
        r = side.call(0, 9, produce_body(topic, 0, batch(n)))
        assert r['responses'][0]['partition_responses'][0]['error_code'] == 0, r
    for key_type, key in ((0, SIMPLE_GROUP), (1, 'cf-txn-warmup')):
        wait_for(lambda: side.call(10, 3, {'key': key, 'key_type': key_type})['error_code'] == 0,
                 f'{side.name}: coordinator for {key}')
    for tid in (None, 'cf-txn-warmup'):
        wait_for(lambda: side.call(22, 4, {'transactional_id': tid, 'transaction_timeout_ms': 60000})
                 ['error_code'] == 0, f'{side.name}: InitProducerId({tid})')
    r = side.call(8, 8, {'group_id': SIMPLE_GROUP, 'generation_id_or_member_epoch': -1, 'member_id': '',
                         'topics': [{'name': T1, 'partitions': [{'partition_index': 0, 'committed_offset': 2,
                                                                 'committed_metadata': 'm'}]}]})
    assert r['topics'][0]['partitions'][0]['error_code'] == 0, r


# ---- Cases, by API --------------------------------------------------------

CASES = []


def case(name, api, versions=None):
    """Registers a case for `api` at `versions` (default: every version skiff serves)."""
    def register(fn):
        CASES.append((name, api, versions, fn))
        return fn
    return register


# Produce (0): v0-2 close the connection on both (message formats v0/v1 are gone).
@case('produce', 0)
def produce_ok(side, v):
    return side.call(0, v, produce_body(T_PRODUCE, 0, batch(2)))


@case('produce-errors', 0, range(3, 13))
def produce_errors(side, v):
    bad_crc = bytearray(batch(1))
    bad_crc[30] ^= 1
    return {
        'unknown-partition': side.call(0, v, produce_body(T_PRODUCE, 7, batch(1))),
        'acks-2': side.call(0, v, produce_body(T_PRODUCE, 0, batch(1), acks=2)),
        'bad-crc': side.call(0, v, produce_body(T_PRODUCE, 0, bytes(bad_crc))),
        'base-offset-not-0': side.call(0, v, produce_body(T_PRODUCE, 0, b'\0\0\0\0\0\0\0\x05' + batch(1)[8:])),
    }


# Fetch (1).
def fetch_body(side, v, topic, offset, partition=0, **kw):
    t = {'topic': topic, 'topic_id': side.topic_id(topic),
         'partitions': [{'partition': partition, 'fetch_offset': offset, 'partition_max_bytes': 1 << 20}]}
    return {'max_wait_ms': 0, 'min_bytes': 1, 'max_bytes': 1 << 20, 'topics': [t], **kw}


@case('fetch', 1)
def fetch(side, v):
    return {
        'from-0': side.call(1, v, fetch_body(side, v, T_FETCH, 0)),
        'from-4': side.call(1, v, fetch_body(side, v, T_FETCH, 4)),
        'at-end': side.call(1, v, fetch_body(side, v, T_FETCH, 5)),
        'out-of-range': side.call(1, v, fetch_body(side, v, T_FETCH, 100)),
        'unknown-partition': side.call(1, v, fetch_body(side, v, T_FETCH, 0, partition=9)),
        'read-committed': side.call(1, v, fetch_body(side, v, T_FETCH, 0, isolation_level=1)),
    }


# ListOffsets (2).
@case('list-offsets', 2)
def list_offsets(side, v):
    stamps = [EARLIEST, LATEST, BASE_TS + 1, BASE_TS + 99] + ([MAX_TIMESTAMP] if v >= 7 else [])
    parts = [{'partition_index': 0, 'timestamp': ts} for ts in stamps[:1]]
    out = {}
    for ts in stamps:
        parts = [{'partition_index': 0, 'timestamp': ts}]
        out[str(ts)] = side.call(2, v, {'replica_id': -1, 'topics': [{'name': T_FETCH, 'partitions': parts}],
                                        'timeout_ms': 5000})
    out['unknown-partition'] = side.call(2, v, {'replica_id': -1, 'timeout_ms': 5000, 'topics': [
        {'name': T_FETCH, 'partitions': [{'partition_index': 5, 'timestamp': LATEST}]}]})
    return out


# Metadata (3).
@case('metadata', 3)
def metadata(side, v):
    out = {'known': side.call(3, v, {'topics': [{'name': T3}], 'allow_auto_topic_creation': False})}
    if v >= 4:
        out['unknown'] = side.call(3, v, {'topics': [{'name': MISSING}], 'allow_auto_topic_creation': False})
        out['invalid-name'] = side.call(3, v, {'topics': [{'name': 'bad/name'}], 'allow_auto_topic_creation': False})
    if v >= 1:
        out['no-topics'] = side.call(3, v, {'topics': [], 'allow_auto_topic_creation': False})
    return out


# OffsetCommit (8) and OffsetFetch (9) for a group without members.
@case('offset-commit', 8)
def offset_commit(side, v):
    parts = [{'partition_index': 0, 'committed_offset': 3, 'committed_metadata': f'v{v}'}]
    return {
        'simple': side.call(8, v, {'group_id': SIMPLE_GROUP, 'generation_id_or_member_epoch': -1, 'member_id': '',
                                   'topics': [{'name': T1, 'partitions': parts}]}),
        'unknown-topic': side.call(8, v, {'group_id': SIMPLE_GROUP, 'generation_id_or_member_epoch': -1,
                                          'member_id': '', 'topics': [{'name': MISSING, 'partitions': parts}]}),
        'unknown-member': side.call(8, v, {'group_id': SIMPLE_GROUP, 'generation_id_or_member_epoch': 5,
                                           'member_id': 'nobody', 'topics': [{'name': T1, 'partitions': parts}]}),
    }


@case('offset-fetch', 9)
def offset_fetch(side, v):
    def body(group, topics):
        if v >= 8:
            return {'groups': [{'group_id': group, 'topics': None if topics is None else [
                {'name': n, 'partition_indexes': p} for n, p in topics]}]}
        return {'group_id': group, 'topics': None if topics is None else [
            {'name': n, 'partition_indexes': p} for n, p in topics]}
    out = {'known': side.call(9, v, body(SIMPLE_GROUP, [(T1, [0]), (MISSING, [0])])),
           'unknown-group': side.call(9, v, body('cf-no-group', [(T1, [0])]))}
    if v >= 2:
        out['all'] = side.call(9, v, body(SIMPLE_GROUP, None))
    return out


# FindCoordinator (10).
@case('find-coordinator', 10)
def find_coordinator(side, v):
    if v >= 4:
        return {'group': side.call(10, v, {'key_type': 0, 'coordinator_keys': [SIMPLE_GROUP, 'other']}),
                'bad-type': side.call(10, v, {'key_type': 5, 'coordinator_keys': ['x']})}
    out = {'group': side.call(10, v, {'key': SIMPLE_GROUP})}
    if v >= 1:
        out['txn'] = side.call(10, v, {'key': 'cf-txn-warmup', 'key_type': 1})
    return out


# The classic group protocol (11-14): one member joins, syncs, heartbeats and
# leaves, with JoinGroup at each version and the others at the nearest one.
def join(side, v, group, member_id='', instance=None):
    return side.call(11, v, {'group_id': group, 'session_timeout_ms': 10000, 'rebalance_timeout_ms': 10000,
                             'member_id': member_id, 'group_instance_id': instance, 'protocol_type': 'consumer',
                             'protocols': [{'name': 'range', 'metadata': b'\x00\x01'}]})


@case('group-flow', 11)
def group_flow(side, v):
    group = f'cf-group-{v}'
    out = {'join': join(side, v, group)}
    member = out['join']['member_id']
    if out['join']['error_code'] == 79:          # MEMBER_ID_REQUIRED (v4+)
        out['rejoin'] = join(side, v, group, member)
        member = out['rejoin']['member_id']
    gen = (out.get('rejoin') or out['join'])['generation_id']
    sv, hv, lv = min(v, 5), min(v, 4), min(v, 5)
    out['sync'] = side.call(14, sv, {'group_id': group, 'generation_id': gen, 'member_id': member,
                                     'protocol_type': 'consumer', 'protocol_name': 'range',
                                     'assignments': [{'member_id': member, 'assignment': b'\x00\x01\x02'}]})
    out['heartbeat'] = side.call(12, hv, {'group_id': group, 'generation_id': gen, 'member_id': member})
    out['heartbeat-old-generation'] = side.call(12, hv, {'group_id': group, 'generation_id': gen + 5,
                                                         'member_id': member})
    out['heartbeat-unknown-member'] = side.call(12, hv, {'group_id': group, 'generation_id': gen,
                                                         'member_id': 'nobody'})
    out['sync-unknown-member'] = side.call(14, sv, {'group_id': group, 'generation_id': gen, 'member_id': 'x',
                                                    'assignments': []})
    out['describe'] = side.call(15, min(v, 5), {'groups': [group]})
    out['delete-non-empty'] = side.call(42, min(v, 2), {'groups_names': [group]})
    out['leave'] = side.call(13, lv, {'group_id': group, 'member_id': member,
                                      'members': [{'member_id': member}]})
    out['delete'] = side.call(42, min(v, 2), {'groups_names': [group]})
    return out


@case('join-group-errors', 11)
def join_errors(side, v):
    out = {'unknown-member': join(side, v, 'cf-group-errors', 'nobody'),
           'bad-session-timeout': side.call(11, v, {
               'group_id': 'cf-group-errors', 'session_timeout_ms': 1, 'rebalance_timeout_ms': 1000,
               'member_id': '', 'protocol_type': 'consumer', 'protocols': [{'name': 'range', 'metadata': b''}]}),
           'empty-group-id': join(side, v, '')}
    return out


@case('describe-groups', 15)
def describe_groups(side, v):
    return side.call(15, v, {'groups': [SIMPLE_GROUP, 'cf-no-group'], 'include_authorized_operations': False})


@case('list-groups', 16)
def list_groups(side, v):
    out = {'all': side.call(16, v, {})}
    if v >= 4:
        out['stable'] = side.call(16, v, {'states_filter': ['Stable']})
        out['empty'] = side.call(16, v, {'states_filter': ['Empty']})
    if v >= 5:
        out['classic'] = side.call(16, v, {'types_filter': ['classic']})
    return out


# ApiVersions (18): the ranges are compared key by key in test_api_versions;
# here the rest of the answer.
@case('api-versions', 18)
def api_versions(side, v):
    r = side.call(18, v, {'client_software_name': 'skiff-conformance', 'client_software_version': '1.0'})
    r.pop('api_keys', None)
    return r


# CreateTopics (19) and DeleteTopics (20).
@case('create-topics', 19)
def create_topics(side, v):
    def create(name, partitions=1, rf=1, configs=(), validate_only=False):
        return side.call(19, v, {'topics': [{'name': name, 'num_partitions': partitions, 'replication_factor': rf,
                                             'configs': [{'name': k, 'value': x} for k, x in configs]}],
                                 'timeout_ms': 30000, 'validate_only': validate_only})
    return {
        'new': create(f'cf-created-{v}', 2, 1, [('cleanup.policy', 'compact')]),
        'exists': create(T1),
        'validate-only': create(f'cf-never-{v}', validate_only=True),
        'bad-config': create(f'cf-bad-config-{v}', configs=[('cleanup.policy', 'sideways')]),
        'unknown-config': create(f'cf-unknown-config-{v}', configs=[('no.such.config', '1')]),
        'bad-partitions': create(f'cf-bad-partitions-{v}', partitions=0),
        'bad-replication': create(f'cf-bad-rf-{v}', rf=3),
        'bad-name': create('bad/name'),
        'default-partitions': create(f'cf-defaults-{v}', partitions=-1, rf=-1),
    }


@case('delete-topics', 20)
def delete_topics(side, v):
    name = f'cf-created-{min(v + 1, 7)}'
    if v >= 6:
        return {'by-name': side.call(20, v, {'topics': [{'name': name}], 'timeout_ms': 30000}),
                'unknown': side.call(20, v, {'topics': [{'name': MISSING}], 'timeout_ms': 30000})}
    return {'by-name': side.call(20, v, {'topic_names': [name], 'timeout_ms': 30000}),
            'unknown': side.call(20, v, {'topic_names': [MISSING], 'timeout_ms': 30000})}


# DeleteRecords (21).
@case('delete-records', 21)
def delete_records(side, v):
    def body(offset, partition=0):
        return {'topics': [{'name': T_DEL, 'partitions': [{'partition_index': partition, 'offset': offset}]}],
                'timeout_ms': 10000}
    return {'to-1': side.call(21, v, body(v + 1)), 'beyond-end': side.call(21, v, body(100)),
            'unknown-partition': side.call(21, v, body(1, partition=4))}


# InitProducerId (22).
@case('init-producer-id', 22)
def init_producer_id(side, v):
    out = {'idempotent': side.call(22, v, {'transactional_id': None, 'transaction_timeout_ms': 60000}),
           'transactional': side.call(22, v, {'transactional_id': f'cf-tid-{v}', 'transaction_timeout_ms': 60000}),
           'bad-timeout': side.call(22, v, {'transactional_id': f'cf-tid-bad-{v}',
                                            'transaction_timeout_ms': 1 << 30})}
    if v >= 3:
        t = out['transactional']
        out['bump'] = side.call(22, v, {'transactional_id': f'cf-tid-{v}', 'transaction_timeout_ms': 60000,
                                        'producer_id': t['producer_id'], 'producer_epoch': t['producer_epoch']})
    return out


# OffsetForLeaderEpoch (23).
@case('offset-for-leader-epoch', 23)
def offset_for_leader_epoch(side, v):
    def body(epoch, partition=0):
        return {'replica_id': -1, 'topics': [{'topic': T_FETCH, 'partitions': [
            {'partition': partition, 'current_leader_epoch': -1, 'leader_epoch': epoch}]}]}
    return {'epoch-0': side.call(23, v, body(0)), 'epoch-5': side.call(23, v, body(5)),
            'unknown-partition': side.call(23, v, body(0, partition=3))}


# Transactions (24-26, 28): a transaction with records and offsets, committed.
@case('transaction-flow', 26)
def transaction_flow(side, v):
    tid = f'cf-txn-flow-{v}'
    out = {'init': side.call(22, 3, {'transactional_id': tid, 'transaction_timeout_ms': 60000})}
    pid, epoch = out['init']['producer_id'], out['init']['producer_epoch']
    av = min(v, 3)
    # One partition per flow: Kafka writes the markers of a committed
    # transaction after EndTxn answers, so the next flow's offsets would race them.
    out['add-partitions'] = side.call(24, av, {
        'v3_and_below_transactional_id': tid, 'v3_and_below_producer_id': pid,
        'v3_and_below_producer_epoch': epoch, 'v3_and_below_topics': [{'name': T_TXN, 'partitions': [v]}]})
    out['produce'] = side.call(0, 9, produce_body(T_TXN, v, batch(2, pid, epoch, 0, transactional=True),
                                                  transactional_id=tid))
    out['add-offsets'] = side.call(25, min(v, 3), {'transactional_id': tid, 'producer_id': pid,
                                                   'producer_epoch': epoch, 'group_id': f'cf-txn-group-{v}'})
    out['txn-offset-commit'] = side.call(28, min(v, 3), {
        'transactional_id': tid, 'group_id': f'cf-txn-group-{v}', 'producer_id': pid, 'producer_epoch': epoch,
        'topics': [{'name': T_TXN, 'partitions': [{'partition_index': v, 'committed_offset': 1,
                                                    'committed_metadata': ''}]}]})
    out['describe'] = side.call(65, 0, {'transactional_ids': [tid]})
    out['end'] = side.call(26, v, {'transactional_id': tid, 'producer_id': pid, 'producer_epoch': epoch,
                                   'committed': True})
    out['end-again-wrong-epoch'] = side.call(26, v, {'transactional_id': tid, 'producer_id': pid,
                                                     'producer_epoch': epoch - 1 if epoch > 0 else 5,
                                                     'committed': True})
    out['unknown-txn'] = side.call(26, v, {'transactional_id': 'cf-no-txn', 'producer_id': 1,
                                           'producer_epoch': 0, 'committed': False})
    return out


@case('add-partitions-to-txn-errors', 24, range(0, 4))
def add_partitions_errors(side, v):
    return side.call(24, v, {'v3_and_below_transactional_id': 'cf-no-txn', 'v3_and_below_producer_id': 77,
                             'v3_and_below_producer_epoch': 0,
                             'v3_and_below_topics': [{'name': T_TXN, 'partitions': [0]}]})


@case('txn-offset-commit-errors', 28)
def txn_offset_commit_errors(side, v):
    return side.call(28, v, {'transactional_id': 'cf-no-txn', 'group_id': 'g', 'producer_id': 77,
                             'producer_epoch': 0, 'topics': [{'name': T_TXN, 'partitions': [
                                 {'partition_index': 0, 'committed_offset': 1, 'committed_metadata': ''}]}]})


@case('add-offsets-to-txn-errors', 25)
def add_offsets_errors(side, v):
    return side.call(25, v, {'transactional_id': 'cf-no-txn', 'producer_id': 77, 'producer_epoch': 0,
                             'group_id': 'g'})


# ACLs (29-31): neither broker has an authorizer: SECURITY_DISABLED.
@case('describe-acls', 29)
def describe_acls(side, v):
    return side.call(29, v, {'resource_type_filter': 1, 'resource_name_filter': None, 'pattern_type_filter': 1,
                             'principal_filter': None, 'host_filter': None, 'operation': 1,
                             'permission_type': 1})


@case('create-acls', 30)
def create_acls(side, v):
    return side.call(30, v, {'creations': [{'resource_type': 2, 'resource_name': T1, 'resource_pattern_type': 3,
                                            'principal': 'User:alice', 'host': '*', 'operation': 3,
                                            'permission_type': 3}]})


@case('delete-acls', 31)
def delete_acls(side, v):
    return side.call(31, v, {'filters': [{'resource_type_filter': 2, 'resource_name_filter': T1,
                                          'pattern_type_filter': 3, 'principal_filter': None, 'host_filter': None,
                                          'operation': 1, 'permission_type': 1}]})


# Configs (32, 33, 44).
TOPIC_KEYS = ['cleanup.policy', 'retention.ms', 'compression.type', 'segment.bytes', 'min.insync.replicas',
              'message.timestamp.type', 'max.message.bytes']


@case('describe-configs', 32)
def describe_configs(side, v):
    def body(rtype, name, keys):
        return {'resources': [{'resource_type': rtype, 'resource_name': name, 'configuration_keys': keys}],
                'include_synonyms': True, 'include_documentation': False}
    return {'topic': side.call(32, v, body(TOPIC, T1, TOPIC_KEYS)),
            'topic-all-names': sorted(c['name'] for c in side.call(32, v, body(TOPIC, T1, None))['results'][0]
                                      ['configs']),
            'unknown-topic': side.call(32, v, body(TOPIC, MISSING, None)),
            'broker': side.call(32, v, body(BROKER, '1', ['log.cleaner.threads',
                                                          'sasl.kerberos.min.time.before.relogin'])),
            'other-broker': side.call(32, v, body(BROKER, '7', None)),
            'bad-type': side.call(32, v, body(99, 'x', None))}


@case('alter-configs', 33)
def alter_configs(side, v):
    def body(rtype, name, configs, validate_only=False):
        return {'resources': [{'resource_type': rtype, 'resource_name': name,
                               'configs': [{'name': k, 'value': x} for k, x in configs]}],
                'validate_only': validate_only}
    return {'topic': side.call(33, v, body(TOPIC, T3, [('retention.ms', str(3600000 + v))])),
            'bad-value': side.call(33, v, body(TOPIC, T3, [('retention.ms', 'soon')])),
            'unknown-topic': side.call(33, v, body(TOPIC, MISSING, [('retention.ms', '1')])),
            'broker-dynamic': side.call(33, v, body(BROKER, '1', [('log.cleaner.threads', str(2 + v))])),
            'broker-static': side.call(33, v, body(BROKER, '1', [('num.partitions', '2')])),
            'validate-only': side.call(33, v, body(TOPIC, T3, [('retention.ms', '5')], True)),
            'check': settled(side, 32, 4, {'resources': [{'resource_type': TOPIC, 'resource_name': T3,
                                                           'configuration_keys': ['retention.ms']}]})}


@case('incremental-alter-configs', 44)
def incremental_alter_configs(side, v):
    def body(rtype, name, ops, validate_only=False):
        return {'resources': [{'resource_type': rtype, 'resource_name': name, 'configs': [
            {'name': k, 'config_operation': op, 'value': x} for k, op, x in ops]}], 'validate_only': validate_only}
    out = {'set': side.call(44, v, body(TOPIC, T3, [('retention.ms', 0, str(7200000 + v))])),
           'append': side.call(44, v, body(TOPIC, T3, [('cleanup.policy', 2, 'compact')])),
           'subtract': side.call(44, v, body(TOPIC, T3, [('cleanup.policy', 3, 'delete')])),
           'append-non-list': side.call(44, v, body(TOPIC, T3, [('retention.ms', 2, '1')])),
           'delete': side.call(44, v, body(TOPIC, T3, [('retention.ms', 1, None)])),
           'bad-op': side.call(44, v, body(TOPIC, T3, [('retention.ms', 9, '1')])),
           'duplicate-key': side.call(44, v, body(TOPIC, T3, [('retention.ms', 0, '1'), ('retention.ms', 0, '2')])),
           'broker-per-broker': side.call(44, v, body(BROKER, '1', [
               ('sasl.kerberos.min.time.before.relogin', 0, str(61000 + v))])),
           'broker-default': side.call(44, v, body(BROKER, '', [('log.cleaner.threads', 0, '4')])),
           'broker-per-broker-at-default': side.call(44, v, body(BROKER, '', [
               ('sasl.kerberos.min.time.before.relogin', 0, '1')])),
           'broker-bad-value': side.call(44, v, body(BROKER, '1', [('log.cleaner.threads', 0, 'many')])),
           'logger': side.call(44, v, body(8, '1', [('kafka', 0, 'INFO')]))}
    out['check'] = settled(side, 32, 4, {'resources': [
        {'resource_type': TOPIC, 'resource_name': T3, 'configuration_keys': ['retention.ms', 'cleanup.policy']},
        {'resource_type': BROKER, 'resource_name': '1',
         'configuration_keys': ['log.cleaner.threads', 'sasl.kerberos.min.time.before.relogin']},
        {'resource_type': BROKER, 'resource_name': '', 'configuration_keys': ['log.cleaner.threads']}],
        'include_synonyms': True})
    return out


# DescribeLogDirs (35).
@case('describe-log-dirs', 35)
def describe_log_dirs(side, v):
    return side.call(35, v, {'topics': [{'topic': T_FETCH, 'partitions': [0]}, {'topic': MISSING, 'partitions': [0]}]})


# CreatePartitions (37).
@case('create-partitions', 37)
def create_partitions(side, v):
    def body(name, count, validate_only=False):
        return {'topics': [{'name': name, 'count': count, 'assignments': None}], 'timeout_ms': 30000,
                'validate_only': validate_only}
    return {'grow': side.call(37, v, body(f'cf-partitions-{v}', 3)),
            'validate-only': side.call(37, v, body(T1, 4, True)),
            'shrink': side.call(37, v, body(T3, 2)),
            'same': side.call(37, v, body(T3, 3)),
            'unknown': side.call(37, v, body(MISSING, 2))}


# DeleteGroups (42).
@case('delete-groups', 42)
def delete_groups(side, v):
    return side.call(42, v, {'groups_names': ['cf-no-group', SIMPLE_GROUP if v == 2 else 'cf-no-group-2']})


# ElectLeaders (43).
@case('elect-leaders', 43)
def elect_leaders(side, v):
    return {'preferred': side.call(43, v, {'election_type': 0, 'timeout_ms': 10000,
                                           'topic_partitions': [{'topic': T1, 'partitions': [0]}]}),
            'unknown': side.call(43, v, {'election_type': 0, 'timeout_ms': 10000,
                                         'topic_partitions': [{'topic': MISSING, 'partitions': [0]}]})}


# AlterPartitionReassignments (45): one node, so the only valid target is
# [1] (no change); the refusals and a cancel with nothing in progress.
@case('alter-partition-reassignments', 45)
def alter_partition_reassignments(side, v):
    def alter(topic, parts, allow=True):
        return side.call(45, v, {'timeout_ms': 10000, 'allow_replication_factor_change': allow, 'topics': [
            {'name': topic, 'partitions': [{'partition_index': p, 'replicas': r} for p, r in parts]}]})
    return {'same': alter(T3, [(0, [1])], allow=False),
            'cancel-none': alter(T3, [(1, None)]),
            'errors': alter(T3, [(7, [1]), (2, [2]), (2, []), (2, [1, 1])]),
            'unknown-topic': alter(MISSING, [(0, [1])])}


# ListPartitionReassignments (46): none in progress, named or not.
@case('list-partition-reassignments', 46)
def list_partition_reassignments(side, v):
    return {'all': side.call(46, v, {'timeout_ms': 10000, 'topics': None}),
            'named': side.call(46, v, {'timeout_ms': 10000, 'topics': [
                {'name': T3, 'partition_indexes': [0, 9]}, {'name': MISSING, 'partition_indexes': [0]}]})}


# OffsetDelete (47).
@case('offset-delete', 47)
def offset_delete(side, v):
    return {'committed': side.call(47, v, {'group_id': SIMPLE_GROUP, 'topics': [{'name': T1, 'partitions': [
        {'partition_index': 0}]}]}),
        'unknown-group': side.call(47, v, {'group_id': 'cf-no-group', 'topics': [{'name': T1, 'partitions': [
            {'partition_index': 0}]}]})}


# DescribeCluster (60), DescribeProducers (61), DescribeTransactions (65),
# ListTransactions (66), DescribeTopicPartitions (75).
@case('describe-cluster', 60)
def describe_cluster(side, v):
    return {'broker': side.call(60, v, {'include_cluster_authorized_operations': False}),
            **({'controller': side.call(60, v, {'endpoint_type': 2})} if v >= 1 else {})}


@case('describe-producers', 61)
def describe_producers(side, v):
    r = side.call(22, 4, {'transactional_id': None, 'transaction_timeout_ms': 60000})
    side.call(0, 9, produce_body(T_PRODUCE, 0, batch(1, r['producer_id'], r['producer_epoch'], 0)))
    return side.call(61, v, {'topics': [{'name': T_PRODUCE, 'partition_indexes': [0, 5]},
                                        {'name': MISSING, 'partition_indexes': [0]}]})


@case('describe-transactions', 65)
def describe_transactions(side, v):
    return side.call(65, v, {'transactional_ids': ['cf-txn-flow-0', 'cf-no-txn']})


@case('list-transactions', 66)
def list_transactions(side, v):
    return {'all': side.call(66, v, {}),
            'complete': side.call(66, v, {'state_filters': ['CompleteCommit']}),
            **({'long-running': side.call(66, v, {'duration_filter': 1 << 40})} if v >= 1 else {})}


@case('describe-topic-partitions', 75)
def describe_topic_partitions(side, v):
    return {'known': side.call(75, v, {'topics': [{'name': T3}, {'name': MISSING}]}),
            'limit': side.call(75, v, {'topics': [{'name': T3}], 'response_partition_limit': 2})}


# ConsumerGroupHeartbeat (68) and ConsumerGroupDescribe (69), KIP-848: one
# member joins a group on T3, heartbeats with the assignment it got, is
# fenced with a wrong epoch, commits with its member epoch, is described and
# listed, and leaves; then the request errors.
def cg_heartbeat(side, v, group, member, epoch, **kw):
    body = {'group_id': group, 'member_id': member, 'member_epoch': epoch}
    body.update(kw)
    return side.call(68, v, body)


def owned(answer):
    a = answer.get('assignment') or {'topic_partitions': []}
    return [{'topic_id': tp['topic_id'], 'partitions': tp['partitions']} for tp in a['topic_partitions']]


@case('consumer-group-flow', 68)
def consumer_group_flow(side, v):
    side.topic_id(T3)
    group, member = f'cf-cg-{v}', '' if v == 0 else f'cf-cg-member-{v}'
    out = {'join': cg_heartbeat(side, v, group, member, 0, rebalance_timeout_ms=30000,
                                subscribed_topic_names=[T3], topic_partitions=[])}
    member, epoch = out['join']['member_id'], out['join']['member_epoch']
    out['heartbeat'] = cg_heartbeat(side, v, group, member, epoch)
    out['full-heartbeat'] = cg_heartbeat(side, v, group, member, epoch, rebalance_timeout_ms=30000,
                                         subscribed_topic_names=[T3], topic_partitions=owned(out['join']))
    out['fenced-ahead'] = cg_heartbeat(side, v, group, member, epoch + 5)
    out['fenced-behind'] = cg_heartbeat(side, v, group, member, epoch - 1, topic_partitions=owned(out['join']))
    out['unknown-member'] = cg_heartbeat(side, v, group, 'nobody', 1)
    out['unknown-group'] = cg_heartbeat(side, v, 'cf-cg-none', 'nobody', 1)
    commit = {'group_id': group, 'member_id': member,
              'topics': [{'name': T3, 'partitions': [{'partition_index': 0, 'committed_offset': 1}]}]}
    out['commit'] = side.call(8, 9, dict(commit, generation_id_or_member_epoch=epoch))
    out['commit-stale'] = side.call(8, 9, dict(commit, generation_id_or_member_epoch=epoch + 1))
    out['commit-unknown'] = side.call(8, 9, dict(commit, member_id='nobody', generation_id_or_member_epoch=epoch))
    fetch = {'groups': [{'group_id': group, 'member_id': member, 'member_epoch': epoch, 'topics': None}]}
    out['fetch'] = side.call(9, 9, fetch)
    fetch['groups'][0]['member_epoch'] = epoch + 1
    out['fetch-stale'] = side.call(9, 9, fetch)
    # a second member: the first must revoke before the second gets its share
    other = '' if v == 0 else f'cf-cg-other-{v}'
    out['join-b'] = cg_heartbeat(side, v, group, other, 0, rebalance_timeout_ms=30000,
                                 subscribed_topic_names=[T3], topic_partitions=[])
    other, epoch_b = out['join-b']['member_id'], out['join-b']['member_epoch']
    out['a-revokes'] = cg_heartbeat(side, v, group, member, epoch, topic_partitions=owned(out['join']))
    out['a-acks'] = cg_heartbeat(side, v, group, member, epoch, topic_partitions=owned(out['a-revokes']))
    epoch = out['a-acks']['member_epoch']
    out['b-gets'] = cg_heartbeat(side, v, group, other, epoch_b, topic_partitions=[])
    out['b-leave'] = cg_heartbeat(side, v, group, other, -1)
    offset_delete = {'group_id': group, 'topics': [{'name': T3, 'partitions': [{'partition_index': 0}]}]}
    out['offset-delete-subscribed'] = side.call(47, 0, offset_delete)
    out['list'] = side.call(16, 5, {'types_filter': ['consumer']})
    out['describe-classic'] = side.call(15, 5, {'groups': [group]})
    out['delete-non-empty'] = side.call(42, 2, {'groups_names': [group]})
    out['leave'] = cg_heartbeat(side, v, group, member, -1)
    out['leave-again'] = cg_heartbeat(side, v, group, member, -1)
    out['list-after'] = side.call(16, 5, {'types_filter': ['consumer'], 'states_filter': ['Empty']})
    out['offset-delete'] = side.call(47, 0, offset_delete)
    out['delete'] = side.call(42, 2, {'groups_names': [group]})
    return out


@case('consumer-group-heartbeat-errors', 68)
def consumer_group_heartbeat_errors(side, v):
    join = {'rebalance_timeout_ms': 30000, 'subscribed_topic_names': [T3], 'topic_partitions': []}
    out = {
        'empty-group': cg_heartbeat(side, v, '', 'm', 0, **join),
        'no-rebalance-timeout': cg_heartbeat(side, v, 'cf-cg-e', 'm', 0, subscribed_topic_names=[T3],
                                             topic_partitions=[]),
        'owned-at-join': cg_heartbeat(side, v, 'cf-cg-e', 'm', 0, **dict(join, topic_partitions=[
            {'topic_id': side.topic_id(T3), 'partitions': [0]}])),
        'no-subscription': cg_heartbeat(side, v, 'cf-cg-e', 'm', 0, rebalance_timeout_ms=30000,
                                        topic_partitions=[]),
        'bad-epoch': cg_heartbeat(side, v, 'cf-cg-e', 'm', -3),
        'static-leave-no-instance': cg_heartbeat(side, v, 'cf-cg-e', 'm', -2),
        'empty-instance': cg_heartbeat(side, v, 'cf-cg-e', 'm', 1, instance_id=''),
        'bad-assignor': cg_heartbeat(side, v, 'cf-cg-e', 'm', 0, server_assignor='sticky', **join),
    }
    if v >= 1:
        out['bad-regex'] = cg_heartbeat(side, v, 'cf-cg-e', 'm', 0, rebalance_timeout_ms=30000,
                                        subscribed_topic_regex='cf-(', topic_partitions=[])
        out['empty-member'] = cg_heartbeat(side, v, 'cf-cg-e', '', 0, **join)
    return out


@case('consumer-group-describe', 69)
def consumer_group_describe(side, v):
    side.topic_id(T3)
    group = f'cf-cgd-{v}'
    j = cg_heartbeat(side, 1, group, f'cf-cgd-member-{v}', 0, rebalance_timeout_ms=30000,
                     subscribed_topic_names=[T3], topic_partitions=[], rack_id='r1', instance_id=f'i{v}')
    out = {'join-error': j['error_code'],
           'describe': side.call(69, v, {'group_ids': [group, SIMPLE_GROUP, 'cf-no-group'],
                                         'include_authorized_operations': True})}
    for m in out['describe']['groups'][0]['members']:
        m['client_host'] = '<client host>'   # the address each broker saw
    cg_heartbeat(side, 1, group, f'cf-cgd-member-{v}', -1, instance_id=f'i{v}')
    return out
