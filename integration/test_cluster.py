"""Several brokers in one process (skiff.cluster.brokers, docs/cluster.md):
what clients see is a Kafka cluster. Metadata and DescribeCluster list every
broker that is up with its own port and rack; partitions have Kafka's
replica assignment with leaders spread; a request at a broker that does not
lead the partition gets NOT_LEADER_OR_FOLLOWER with the leader and its
endpoint (KIP-951); a coordinator request at the wrong broker gets
NOT_COORDINATOR; leader epochs advance on every move and OffsetForLeaderEpoch
answers from their history. Real clients (librdkafka, kafkajs) keep
producing idempotently across random leader moves and brokers going down,
and a consumer group keeps consuming across coordinator moves."""

import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition, libversion
from confluent_kafka.admin import AdminClient, NewTopic

import kfs
from control import Control
from harness import config_args, free_port, run_skiff
from kafka_wire import Connection
from test_produce_fetch import TIMEOUT, consume_confluent, producer_conf
from test_consumer_protocol import Member, balanced, exclusive, poll_until, settled
from test_control_openapi import check as check_schema
from test_produce_fetch_wire import record_batch

NONE, NOT_LEADER, NOT_COORDINATOR = 0, 6, 16
FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH = 74, 75

pytestmark = pytest.mark.librdkafka


CLUSTER = {'skiff.cluster.brokers': 3, 'default.replication.factor': 3, 'offsets.topic.num.partitions': 6,
           'transaction.state.log.num.partitions': 6, 'broker.rack': 'ra,rb,rc'}


@pytest.fixture
def cluster(start_broker):
    return start_broker(config=CLUSTER)


def create(bootstrap, name, partitions, rf=3):
    admin = AdminClient({'bootstrap.servers': bootstrap})
    admin.create_topics([NewTopic(name, partitions, rf)])[name].result(timeout=TIMEOUT)


def route(ctl, topic, p):
    status, body = ctl.get(f'/v1/cluster/topics/{topic}/partitions/{p}')
    assert status == 200, body
    check_schema('PartitionRoute', body)
    return body


def move(ctl, topic, p, node=None):
    status, body = ctl.post(f'/v1/cluster/topics/{topic}/partitions/{p}/leader',
                            {} if node is None else {'node_id': node})
    assert status == 200, body
    return body


def assign(n, rf, partition, start, shift):
    """Kafka's AdminUtils.assignReplicasToBrokersRackUnaware for one partition."""
    first = (partition + start) % n
    s = shift + partition // n
    return [first] + [(first + 1 + (s + j) % (n - 1)) % n for j in range(rf - 1)]


def error_count(ctl, request, error):
    """kafka_network_requestmetrics_errors_total of one API and error."""
    status, text = ctl.get('/metrics')
    assert status == 200
    for line in text.splitlines():
        if line.startswith(f'kafka_network_requestmetrics_errors_total{{request="{request}",error="{error}"}}'):
            return int(line.split()[-1])
    return 0


def wire(broker, node):
    host, port = broker.nodes[node]
    return Connection(host, port)


def test_brokers_ports_racks_and_assignment(cluster):
    assert sorted(cluster.nodes) == [1, 2, 3]
    assert len({p for _, p in cluster.nodes.values()}) == 3
    create(cluster.bootstrap, 'spread', 6)
    for node in (1, 2, 3):  # every broker answers the same cluster
        md = AdminClient({'bootstrap.servers': '%s:%d' % cluster.nodes[node]}).list_topics(timeout=TIMEOUT)
        assert {b.id: (b.host, b.port) for b in md.brokers.values()} == cluster.nodes
        assert md.controller_id == 1
        parts = md.topics['spread'].partitions
        # Kafka's assignment: the replica lists of one start index and shift.
        reps = [parts[i].replicas for i in range(6)]
        fits = [(s, h) for s in range(3) for h in range(3)
                if all([r + 1 for r in assign(3, 3, i, s, h)] == reps[i] for i in range(6))]
        assert len(fits) >= 1, reps
        assert sorted(parts[i].leader for i in range(6)) == [1, 1, 2, 2, 3, 3]
        assert all(parts[i].leader == reps[i][0] and sorted(parts[i].isrs) == [1, 2, 3] for i in range(6))
    with wire(cluster, 2) as c:
        dc = kfs.call(c, 60, 1, {'endpoint_type': 1})
    assert dc['controller_id'] == 1
    assert [(b['broker_id'], b['port'], b['rack']) for b in dc['brokers']] == \
        [(n, cluster.nodes[n][1], r) for n, r in ((1, 'ra'), (2, 'rb'), (3, 'rc'))]


def fetch_request(topic, epoch=-1, rack=''):
    return {'replica_id': -1, 'max_wait_ms': 0, 'min_bytes': 0, 'max_bytes': 1 << 20, 'session_epoch': -1,
            'rack_id': rack,
            'topics': [{'topic': topic, 'partitions': [{'partition': 0, 'fetch_offset': 0, 'current_leader_epoch': epoch,
                                                        'partition_max_bytes': 1 << 20}]}]}


def test_produce_and_fetch_need_the_leader(cluster):
    ctl = Control(cluster.http_url)
    create(cluster.bootstrap, 'lead', 1, rf=1)
    leader = route(ctl, 'lead', 0)['leader']
    other = next(n for n in (1, 2, 3) if n != leader)  # not a replica
    batch = record_batch([(b'k', b'v', [])])
    produce = {'acks': -1, 'timeout_ms': 5000,
               'topic_data': [{'name': 'lead', 'partition_data': [{'index': 0, 'records': batch}]}]}
    with wire(cluster, other) as c:
        r = kfs.call(c, 0, 11, produce)
    p = r['responses'][0]['partition_responses'][0]
    assert p['error_code'] == NOT_LEADER
    assert (p['current_leader']['leader_id'], p['current_leader']['leader_epoch']) == (leader, 0)
    assert [(e['node_id'], e['port'], e['rack']) for e in r['node_endpoints']] == \
        [(leader, cluster.nodes[leader][1], 'r' + 'abc'[leader - 1])]
    with wire(cluster, leader) as c:
        r = kfs.call(c, 0, 11, produce)
    assert r['responses'][0]['partition_responses'][0]['error_code'] == NONE
    assert r['node_endpoints'] == []

    fetch = fetch_request('lead', 0)
    with wire(cluster, other) as c:
        fp = kfs.call(c, 1, 12, fetch)['responses'][0]['partitions'][0]
        assert fp['error_code'] == NOT_LEADER
        assert (fp['current_leader']['leader_id'], fp['current_leader']['leader_epoch']) == (leader, 0)
        # v16 names topics by id and carries the leader's endpoint.
        topic_id = kfs.call(c, 3, 12, {'topics': [{'name': 'lead'}]})['topics'][0]['topic_id']
        by_id = fetch_request('lead', 0)
        by_id['topics'][0]['topic_id'] = topic_id
        r = kfs.call(c, 1, 16, by_id)
    assert r['responses'][0]['partitions'][0]['error_code'] == NOT_LEADER
    assert [(e['node_id'], e['port']) for e in r['node_endpoints']] == [(leader, cluster.nodes[leader][1])]
    with wire(cluster, leader) as c:
        r = kfs.call(c, 1, 12, fetch)
        assert r['responses'][0]['partitions'][0]['error_code'] == NONE
        assert r['responses'][0]['partitions'][0]['high_watermark'] == 1

    # A move bumps the epoch: the old epoch is fenced, a newer one unknown.
    moved = move(ctl, 'lead', 0, other)
    assert (moved['leader'], moved['leader_epoch'], moved['replicas']) == (other, 1, [other])
    with wire(cluster, other) as c:
        assert kfs.call(c, 1, 12, fetch)['responses'][0]['partitions'][0]['error_code'] == FENCED_LEADER_EPOCH
        fetch['topics'][0]['partitions'][0]['current_leader_epoch'] = 2
        assert kfs.call(c, 1, 12, fetch)['responses'][0]['partitions'][0]['error_code'] == UNKNOWN_LEADER_EPOCH
        fetch['topics'][0]['partitions'][0]['current_leader_epoch'] = 1
        assert kfs.call(c, 1, 12, fetch)['responses'][0]['partitions'][0]['error_code'] == NONE
        r = kfs.call(c, 0, 11, produce)  # stamped with epoch 1, at offset 1
        assert r['responses'][0]['partition_responses'][0]['base_offset'] == 1
        # OffsetForLeaderEpoch: epoch 0 ended where epoch 1 began (offset 1).
        ofle = {'replica_id': -1, 'topics': [{'topic': 'lead', 'partitions': [
            {'partition': 0, 'current_leader_epoch': 1, 'leader_epoch': e} for e in (0, 1, 2)]}]}
        parts = kfs.call(c, 23, 4, ofle)['topics'][0]['partitions']
        assert [(x['error_code'], x['leader_epoch'], x['end_offset']) for x in parts] == \
            [(NONE, 0, 1), (NONE, 1, 2), (NONE, -1, -1)]
        # ListOffsets gives the epoch an offset was written in.
        lo = {'replica_id': -1, 'topics': [{'name': 'lead', 'partitions': [
            {'partition_index': 0, 'current_leader_epoch': 1, 'timestamp': ts} for ts in (-2, -1)]}]}
        parts = kfs.call(c, 2, 8, lo)['topics'][0]['partitions']
        assert [(x['error_code'], x['offset'], x['leader_epoch']) for x in parts] == [(NONE, 0, 0), (NONE, 2, 1)]
    with wire(cluster, leader) as c:  # no longer a replica
        parts = kfs.call(c, 23, 4, ofle)['topics'][0]['partitions']
        assert [x['error_code'] for x in parts] == [NOT_LEADER] * 3


def test_delete_records_needs_the_leader(cluster):
    """DeleteRecords at a broker that does not lead the partition:
    NOT_LEADER_OR_FOLLOWER with low watermark -1 (Kafka's
    Partition.deleteRecordsOnLeader); at the leader the log start moves."""
    ctl = Control(cluster.http_url)
    create(cluster.bootstrap, 'dr', 1, rf=1)
    leader = route(ctl, 'dr', 0)['leader']
    other = next(n for n in (1, 2, 3) if n != leader)
    produce = {'acks': -1, 'timeout_ms': 5000, 'topic_data': [{'name': 'dr', 'partition_data': [
        {'index': 0, 'records': record_batch([(b'k', b'%d' % i, []) for i in range(3)])}]}]}
    delete = {'topics': [{'name': 'dr', 'partitions': [{'partition_index': 0, 'offset': 2}]}], 'timeout_ms': 5000}
    with wire(cluster, leader) as c:
        assert kfs.call(c, 0, 11, produce)['responses'][0]['partition_responses'][0]['error_code'] == NONE
    with wire(cluster, other) as c:
        (p,) = kfs.call(c, 21, 2, delete)['topics'][0]['partitions']
    assert (p['error_code'], p['low_watermark']) == (NOT_LEADER, -1)
    with wire(cluster, leader) as c:
        (p,) = kfs.call(c, 21, 2, delete)['topics'][0]['partitions']
    assert (p['error_code'], p['low_watermark']) == (NONE, 2)


def test_followers_serve_consumers_and_rack_aware_selection(start_broker):
    """KIP-392: a follower serves a consumer's Fetch v11+ (not older ones);
    with the rack-aware selector the leader sends a consumer of another
    replica's rack there, and librdkafka with client.rack then fetches from
    that follower."""
    b = start_broker(config={'skiff.cluster.brokers': 3, 'default.replication.factor': 3, 'broker.rack': 'ra,rb,rc',
                             'replica.selector.class': 'org.apache.kafka.common.replica.RackAwareReplicaSelector'})
    ctl = Control(b.http_url)
    create(b.bootstrap, 'ff', 1)
    r = route(ctl, 'ff', 0)
    leader, follower = r['leader'], next(n for n in r['replicas'] if n != r['leader'])
    p = Producer(producer_conf(b.bootstrap_all))
    for i in range(20):
        p.produce('ff', value=b'%d' % i, partition=0)
    assert p.flush(TIMEOUT) == 0
    with wire(b, follower) as c:
        fp = kfs.call(c, 1, 11, fetch_request('ff', 0))['responses'][0]['partitions'][0]
        assert (fp['error_code'], fp['high_watermark'], fp['preferred_read_replica']) == (NONE, 20, -1)
        assert len(fp['records']) > 0
        assert kfs.call(c, 1, 10, fetch_request('ff', 0))['responses'][0]['partitions'][0]['error_code'] == NOT_LEADER
    rack = 'r' + 'abc'[follower - 1]
    with wire(b, leader) as c:
        fp = kfs.call(c, 1, 12, fetch_request('ff', 0, rack))['responses'][0]['partitions'][0]
        assert (fp['error_code'], fp['preferred_read_replica'], fp['high_watermark']) == (NONE, follower, 20)
        assert not fp['records']
        own = kfs.call(c, 1, 12, fetch_request('ff', 0, 'r' + 'abc'[leader - 1]))['responses'][0]['partitions'][0]
        assert own['preferred_read_replica'] == -1 and len(own['records']) > 0
    assert ctl.post('/v1/capture', {'apis': ['Fetch']})[0] in (200, 201)
    got = consume_confluent(b.bootstrap_all, 'ff', [0], 20, client_rack=rack)
    assert [int(m.value) for m in got] == list(range(20))
    status, cap = ctl.get('/v1/capture')
    nodes = {e['node_id'] for e in cap['entries'] if e['api'] == 'Fetch'}
    assert follower in nodes, cap


def test_coordinators_spread_and_not_coordinator(cluster):
    nodes = set()
    for i in range(30):
        with wire(cluster, 1) as c:
            r = kfs.call(c, 10, 4, {'key_type': 0, 'coordinator_keys': ['g%d' % i]})
        co = r['coordinators'][0]
        assert co['error_code'] == NONE
        assert co['port'] == cluster.nodes[co['node_id']][1]
        nodes.add(co['node_id'])
        other = next(n for n in (1, 2, 3) if n != co['node_id'])
        hb = {'group_id': 'g%d' % i, 'generation_id': 1, 'member_id': 'm'}
        with wire(cluster, other) as c:
            assert kfs.call(c, 12, 4, hb)['error_code'] == NOT_COORDINATOR
        with wire(cluster, co['node_id']) as c:
            assert kfs.call(c, 12, 4, hb)['error_code'] != NOT_COORDINATOR
    assert nodes == {1, 2, 3}


def test_broker_down_and_up(cluster):
    ctl = Control(cluster.http_url)
    create(cluster.bootstrap, 'dn', 3)
    before = [route(ctl, 'dn', p) for p in range(3)]
    led = [r['partition'] for r in before if r['leader'] == 2]
    with wire(cluster, 2) as c:
        status, state = ctl.post('/v1/cluster/brokers/2/down')
        assert status == 200 and [b['up'] for b in state['brokers']] == [True, False, True]
        check_schema('ClusterState', state)
        assert [(b['node_id'], b['rack'], b['listeners'][0]['port']) for b in state['brokers']] == \
            [(n, 'r' + 'abc'[n - 1], cluster.nodes[n][1]) for n in (1, 2, 3)]
        c.wait_closed()
    with pytest.raises(OSError):
        with wire(cluster, 2) as c:
            c.api_versions()
    after = [route(ctl, 'dn', p) for p in range(3)]
    for b, a in zip(before, after):
        assert 2 not in a['isr'] and a['replicas'] == b['replicas']
        if b['partition'] in led:  # the next replica in the ISR took over, in a new epoch
            assert a['leader'] == next(n for n in b['replicas'] if n != 2)
            assert a['leader_epoch'] == b['leader_epoch'] + 1
        else:
            assert (a['leader'], a['leader_epoch']) == (b['leader'], b['leader_epoch'])
    md = AdminClient({'bootstrap.servers': cluster.bootstrap}).list_topics(timeout=TIMEOUT)
    assert sorted(md.brokers) == [1, 3]
    assert ctl.post('/v1/cluster/brokers/2/up')[0] == 200
    for n in (1, 2, 3):  # the last broker up cannot go down
        assert ctl.post(f'/v1/cluster/brokers/{n}/down')[0] == (409 if n == 3 else 200)
    for n in (1, 2):
        assert ctl.post(f'/v1/cluster/brokers/{n}/up')[0] == 200
    assert ctl.post('/v1/cluster/brokers/4/down')[0] == 404
    assert ctl.post('/v1/cluster/brokers/2/down', {'bogus': 1})[0] == 400
    with wire(cluster, 2) as c:
        c.api_versions()
    assert all(sorted(route(ctl, 'dn', p)['isr']) == [1, 2, 3] for p in range(3))
    assert sorted(AdminClient({'bootstrap.servers': cluster.bootstrap}).list_topics(timeout=TIMEOUT).brokers) \
        == [1, 2, 3]


def disrupt(ctl, topic, partitions, stop, moves=20, cycles=3, seed=7):
    """20 random leader moves and 3 broker down/up cycles, spread out."""
    rnd = random.Random(seed)
    plan = ['move'] * moves + ['cycle'] * cycles
    rnd.shuffle(plan)
    for step in plan:
        if stop.is_set():
            break
        if step == 'move':
            move(ctl, topic, rnd.randrange(partitions), rnd.choice([1, 2, 3]))
        else:
            node = rnd.choice([1, 2, 3])
            assert ctl.post(f'/v1/cluster/brokers/{node}/down')[0] == 200
            time.sleep(0.3)
            assert ctl.post(f'/v1/cluster/brokers/{node}/up')[0] == 200
        time.sleep(0.1)


def check_exactly_once_in_order(got, acked, partitions):
    for p in range(partitions):
        values = [int(m.value) for m in got if m.partition == p]
        assert len(values) == len(set(values)), f'duplicates in partition {p}'
        assert values == sorted(values), f'out of order in partition {p}'
        mine = sorted(v for q, v in acked if q == p)
        assert values == mine, f'partition {p}: acknowledged {len(mine)}, stored {len(values)}'


def test_idempotent_librdkafka_producer_across_moves_and_broker_loss(cluster):
    ctl = Control(cluster.http_url)
    create(cluster.bootstrap, 'idem', 3)
    acked, failed = [], []
    stop = threading.Event()
    mover = threading.Thread(target=disrupt, args=(ctl, 'idem', 3, stop))
    p = Producer(producer_conf(cluster.bootstrap_all, enable_idempotence=True, linger_ms=2,
                               retry_backoff_ms=20, reconnect_backoff_ms=20, reconnect_backoff_max_ms=200,
                               topic_metadata_refresh_interval_ms=1000))

    def done(err, m):
        if err:
            failed.append(err)
        else:
            acked.append((m.partition(), int(m.value())))

    mover.start()
    i = 0
    try:
        while mover.is_alive():
            p.produce('idem', value=b'%d' % i, partition=i % 3, on_delivery=done)
            p.poll(0.001)
            i += 1
    finally:
        stop.set()
        mover.join()
    assert p.flush(TIMEOUT) == 0
    assert failed == []
    assert len(acked) == i
    got = consume_confluent(cluster.bootstrap_all, 'idem', [0, 1, 2], i, settle=0.5)
    check_exactly_once_in_order(got, acked, 3)
    epochs = [route(ctl, 'idem', q)['leader_epoch'] for q in range(3)]
    assert sum(epochs) >= 20
    assert error_count(ctl, 'Produce', 'NOT_LEADER_OR_FOLLOWER') > 0  # the client did meet the moves


def producer_under_disruption(cluster, tmp_path, topic, argv, env, seed):
    """Runs a producer process (argv + its JSON job: brokers, topic,
    partitions, stopFile) while disrupt() moves leaders and takes brokers
    down; checks that every acknowledged record is in the log exactly once,
    in order, at its acknowledged offset, and that the producer met
    NOT_LEADER_OR_FOLLOWER. Returns the producer's JSON answer."""
    ctl = Control(cluster.http_url)
    create(cluster.bootstrap, topic, 3)
    stop_file = tmp_path / 'stop'
    job = {'brokers': cluster.bootstrap_all.split(','), 'topic': topic, 'partitions': 3,
           'stopFile': str(stop_file)}
    proc = subprocess.Popen(argv + [json.dumps(job)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **env))
    try:
        time.sleep(0.5)
        disrupt(ctl, topic, 3, threading.Event(), seed=seed)
    finally:
        stop_file.write_text('stop')
        out = proc.stdout.read()
        err = proc.stderr.read()
        proc.wait(timeout=150)
    assert proc.returncode == 0, err
    res = json.loads(out)
    assert res['failed'] == []
    assert len(res['acked']) > 30
    acked = [(p, v) for p, v, _ in res['acked']]
    got = consume_confluent(cluster.bootstrap_all, topic, [0, 1, 2], len(acked), settle=0.5)
    check_exactly_once_in_order(got, acked, 3)
    at = {(m.partition, m.offset): int(m.value) for m in got}
    assert all(at[(p, off)] == v for p, v, off in res['acked'])
    assert error_count(ctl, 'Produce', 'NOT_LEADER_OR_FOLLOWER') > 0
    return res


def test_idempotent_kafkajs_producer_across_moves_and_broker_loss(cluster, tmp_path):
    js = Path(__file__).resolve().parent / 'js'
    if not (js / 'node_modules' / 'kafkajs').is_dir() and not os.environ.get('NODE_PATH'):
        pytest.fail('kafkajs is not installed: run `npm ci` in integration/js (scripts/test.sh does)')
    producer_under_disruption(cluster, tmp_path, 'idem-js', ['node', str(js / 'idempotent.js')],
                              {'KAFKAJS_NO_PARTITIONER_WARNING': '1'}, seed=11)


# kafka-python with idempotence (2.1+; Debian's 2.0.2 has none): the PyPI
# clients' environment (scripts/pypi-clients.sh, which scripts/test.sh runs).
PYPI_PYTHON = Path(__file__).resolve().parent.parent / 'build' / 'venv-pypi' / 'bin' / 'python'


def test_idempotent_kafka_python_producer_across_moves_and_broker_loss(cluster, tmp_path):
    """kafka-python 3.0.12 from the PyPI clients' environment."""
    if not PYPI_PYTHON.exists():
        pytest.fail(f'no {PYPI_PYTHON}: run scripts/pypi-clients.sh (scripts/test.sh does)')
    script = Path(__file__).resolve().parent / 'kafka_python_idempotent.py'
    res = producer_under_disruption(cluster, tmp_path, 'idem-kp', [str(PYPI_PYTHON), str(script)], {}, seed=13)
    assert res['version'].startswith('3.')
    assert len(res['acked']) == res['sent']


COORDINATOR_APIS = ('Heartbeat', 'OffsetCommit', 'JoinGroup', 'SyncGroup', 'OffsetFetch', 'ConsumerGroupHeartbeat')


def not_coordinator(ctl):
    """How many group requests have been answered NOT_COORDINATOR."""
    return sum(error_count(ctl, api, 'NOT_COORDINATOR') for api in COORDINATOR_APIS)


def consume_across_coordinator_moves(cluster, group, consumers, check=lambda: None):
    """The group's consumers of topic cg (3 partitions, empty) poll, each
    committing after every 10 records it gets, while 300 records arrive in
    four phases of 75: after each phase is consumed the group's coordinator
    moves (then the next phase is produced once the group has been told
    NOT_COORDINATOR), moves again, then its broker goes down. Every record
    is consumed; records are seen again only after the last committed
    offset; the final commit lands at the last coordinator. `check` runs
    after each poll. Brings the broker back and returns the API names that
    got NOT_COORDINATOR."""
    ctl = Control(cluster.http_url)
    seen = []
    got = [0] * len(consumers)
    events = ['move', 'move', 'down']
    deadline = time.monotonic() + TIMEOUT * 2
    coordinator, told = None, None

    def poll():
        for i, c in enumerate(consumers):
            m = c.poll(0.2 / len(consumers))
            check()
            if m is None or m.error():
                continue
            seen.append(int(m.value()))
            got[i] += 1
            if got[i] % 10 == 0:
                c.commit(asynchronous=False)

    produce_cg(cluster, range(75))
    while len(set(seen)) < 300 and time.monotonic() < deadline:
        poll()
        if told is not None:  # the next phase once the group was told of the move
            if not_coordinator(ctl) > told:
                told = None
                produce_cg(cluster, range(225 - 75 * len(events), 300 - 75 * len(events)))
            continue
        if events and len(set(seen)) == 75 * (4 - len(events)):
            step = events.pop(0)
            with wire(cluster, 1) as w:
                coordinator = kfs.call(w, 10, 4, {'key_type': 0, 'coordinator_keys': [group]})[
                    'coordinators'][0]['node_id']
            if step == 'move':
                told = not_coordinator(ctl)
                target = next(n for n in (1, 2, 3) if n != coordinator)
                status, body = ctl.post(f'/v1/cluster/groups/{group}/coordinator', {'node_id': target})
                assert status == 200 and body['leader'] == target, body
            else:
                assert ctl.post(f'/v1/cluster/brokers/{coordinator}/down')[0] == 200
                produce_cg(cluster, range(225, 300))
    assert sorted(set(seen)) == list(range(300))
    # Duplicates only where offsets were not committed yet: at most the
    # uncommitted tail (under 10 records per consumer) each time.
    assert len(seen) - 300 <= 3 * 30
    assert events == []
    for c in consumers:
        c.commit(offsets=c.position(c.assignment()), asynchronous=False)
    committed = consumers[0].committed([TopicPartition('cg', p) for p in range(3)], timeout=TIMEOUT)
    assert [(tp.partition, tp.offset, tp.error) for tp in committed] == [(p, 100, None) for p in range(3)]
    assert ctl.post(f'/v1/cluster/brokers/{coordinator}/up')[0] == 200
    # Each broker lists the groups it coordinates: the admin client, asking
    # every broker, sees the group once.
    listed = AdminClient({'bootstrap.servers': cluster.bootstrap}).list_groups(timeout=TIMEOUT)
    with wire(cluster, 1) as w:
        now = kfs.call(w, 10, 4, {'key_type': 0, 'coordinator_keys': [group]})['coordinators'][0]['node_id']
    assert now != coordinator  # it moved when its broker went down, and stayed
    assert [(g.id, g.broker.id) for g in listed] == [(group, now)]
    return {api for api in COORDINATOR_APIS if error_count(ctl, api, 'NOT_COORDINATOR') > 0}


def produce_cg(cluster, values):
    """Records b'<i>' on partition i % 3 of topic cg for each i of values."""
    p = Producer(producer_conf(cluster.bootstrap_all))
    for i in values:
        p.produce('cg', value=b'%d' % i, partition=i % 3)
    assert p.flush(TIMEOUT) == 0


def test_consumer_group_across_coordinator_moves(cluster):
    """A classic group (librdkafka) consuming with commits: the coordinator
    moves twice, then its broker goes down; nothing is lost, and records are
    seen again only after the last committed offset."""
    create(cluster.bootstrap, 'cg', 3)
    c = Consumer({'bootstrap.servers': cluster.bootstrap_all, 'group.id': 'grp', 'auto.offset.reset': 'earliest',
                  'enable.auto.commit': False, 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 200,
                  'reconnect.backoff.ms': 20, 'reconnect.backoff.max.ms': 200, 'fetch.wait.max.ms': 100})
    c.subscribe(['cg'])
    try:
        apis = consume_across_coordinator_moves(cluster, 'grp', [c])
    finally:
        c.close()
    assert apis and 'ConsumerGroupHeartbeat' not in apis


@pytest.mark.skipif(libversion()[1] < 0x020c0000,
                    reason=f'librdkafka {libversion()[0]} has no KIP-848 consumer protocol (2.12+)')
def test_consumer_protocol_group_across_coordinator_moves(start_broker):
    """The same with the KIP-848 protocol (librdkafka 2.15,
    group.protocol=consumer), three members: ConsumerGroupHeartbeat at the
    old coordinator gets NOT_COORDINATOR, the members find the new one and
    keep their member epochs and assignments (one partition each, never
    revoked, never owned twice), and nothing is lost."""
    cluster = start_broker(config=dict(CLUSTER, **{'group.consumer.heartbeat.interval.ms': 300}))
    create(cluster.bootstrap, 'cg', 3)
    members = [Member(cluster.bootstrap_all, 'grp848', topic='cg', reconnect_backoff_ms=20,
                      reconnect_backoff_max_ms=200) for _ in range(3)]
    try:
        poll_until(members, balanced(members, 1, partitions=3), 'three members, one partition each')
        before = [set(m.assigned) for m in members]
        settled(members)
        apis = consume_across_coordinator_moves(cluster, 'grp848', [m.consumer for m in members],
                                                check=lambda: exclusive(members))
        assert [m.assigned for m in members] == before
        assert all(not m.revoked for m in members)
    finally:
        for m in members:
            m.close()
    assert 'ConsumerGroupHeartbeat' in apis


def test_ctl_cluster_commands(cluster):
    from test_control_cli import ctl
    import json
    create(cluster.bootstrap, 'cli', 2)
    r = json.loads(ctl(cluster, '--json', 'partition', 'move', 'cli', 1, '--node', 3).stdout)
    assert (r['leader'], r['leader_epoch']) == (3, 1)
    r = json.loads(ctl(cluster, '--json', 'partition', 'route', 'cli', 1).stdout)
    assert (r['leader'], r['leader_epoch']) == (3, 1)
    r = json.loads(ctl(cluster, '--json', 'cluster', 'down', 3, '--leaderless', 'true').stdout)
    assert [b['up'] for b in r['brokers']] == [True, True, False]
    assert json.loads(ctl(cluster, '--json', 'partition', 'route', 'cli', 1).stdout)['leader'] == -1
    md = AdminClient({'bootstrap.servers': cluster.bootstrap}).list_topics('cli', timeout=TIMEOUT)
    assert md.topics['cli'].partitions[1].leader == -1
    assert md.topics['cli'].partitions[1].error.code() == 5  # LEADER_NOT_AVAILABLE
    assert ctl(cluster, 'cluster', 'up', 3).returncode == 0
    r = json.loads(ctl(cluster, '--json', 'partition', 'route', 'cli', 1).stdout)
    assert (r['leader'], r['leader_epoch']) == (3, 3)
    assert json.loads(ctl(cluster, '--json', 'cluster', 'shuffle', '--seed', 5).stdout)['moved'] >= 2
    r = json.loads(ctl(cluster, '--json', 'group', 'move', 'some-group', '--node', 2).stdout)
    assert (r['leader'], r['coordinator_of']) == (2, {'group_id': 'some-group'})
    with wire(cluster, 1) as c:
        co = kfs.call(c, 10, 4, {'key_type': 0, 'coordinator_keys': ['some-group']})['coordinators'][0]
    assert (co['node_id'], co['port']) == (2, cluster.nodes[2][1])
    r = json.loads(ctl(cluster, '--json', 'txn', 'move', 'some-txn', '--node', 3).stdout)
    assert r['topic'] == '__transaction_state' and r['leader'] == 3
    with wire(cluster, 1) as c:
        co = kfs.call(c, 10, 4, {'key_type': 1, 'coordinator_keys': ['some-txn']})['coordinators'][0]
    assert co['node_id'] == 3
    assert ctl(cluster, 'partition', 'move', 'cli', 7).returncode == 1
    # A leaderless spell: LEADER_NOT_AVAILABLE, then the first replica up in the ISR leads again.
    before = json.loads(ctl(cluster, '--json', 'partition', 'route', 'cli', 0).stdout)
    r = json.loads(ctl(cluster, '--json', 'partition', 'leaderless', 'cli', 0, '--for', '300ms').stdout)
    assert (r['leader'], r['leader_epoch']) == (-1, before['leader_epoch'] + 1)
    md = AdminClient({'bootstrap.servers': cluster.bootstrap}).list_topics('cli', timeout=TIMEOUT)
    assert md.topics['cli'].partitions[0].error.code() == 5
    time.sleep(0.4)
    r = json.loads(ctl(cluster, '--json', 'partition', 'route', 'cli', 0).stdout)
    assert (r['leader'], r['leader_epoch']) == (before['replicas'][0], before['leader_epoch'] + 2)
    assert ctl(cluster, 'partition', 'leaderless', 'cli', 0).returncode == 1  # --for is required


def test_transactional_consume_transform_produce_across_coordinator_moves(cluster):
    """librdkafka's exactly-once loop: the transaction coordinator moves
    twice and the group coordinator once mid-stream; every input record is
    in the output exactly once (read_committed), and the group's committed
    offsets end at the input's end."""
    from test_txn import txn_producer
    ctl = Control(cluster.http_url)
    create(cluster.bootstrap, 'tin', 3)
    create(cluster.bootstrap, 'tout', 3)
    p = Producer(producer_conf(cluster.bootstrap_all))
    for i in range(150):
        p.produce('tin', value=b'%d' % i, partition=i % 3)
    assert p.flush(TIMEOUT) == 0
    tx = txn_producer(cluster.bootstrap_all, 'ctp-tx')
    c = Consumer({'bootstrap.servers': cluster.bootstrap_all, 'group.id': 'ctp', 'auto.offset.reset': 'earliest',
                  'enable.auto.commit': False, 'isolation.level': 'read_committed', 'fetch.wait.max.ms': 100})
    c.subscribe(['tin'])
    moves = {3: ('transactions/ctp-tx', 2), 6: ('groups/ctp', 3), 9: ('transactions/ctp-tx', 3)}
    done, txns = 0, 0
    deadline = time.monotonic() + TIMEOUT * 2
    try:
        while done < 150 and time.monotonic() < deadline:
            batch = c.consume(10, 0.5)
            batch = [m for m in batch if m.error() is None]
            if not batch:
                continue
            tx.begin_transaction()
            for m in batch:
                tx.produce('tout', value=b'out-' + m.value(), partition=m.partition())
            tx.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), TIMEOUT)
            tx.commit_transaction(TIMEOUT)
            done += len(batch)
            txns += 1
            if txns in moves:
                what, node = moves.pop(txns)
                with wire(cluster, 1) as w:
                    key_type = 1 if what.startswith('transactions') else 0
                    key = what.split('/')[1]
                    before = kfs.call(w, 10, 4, {'key_type': key_type, 'coordinator_keys': [key]})
                node = next(n for n in (node, node % 3 + 1) if n != before['coordinators'][0]['node_id'])
                status, body = ctl.post(f'/v1/cluster/{what}/coordinator', {'node_id': node})
                assert status == 200 and body['leader'] == node, body
    finally:
        c.close()
    assert moves == {}
    assert done == 150
    got = consume_confluent(cluster.bootstrap_all, 'tout', [0, 1, 2], 150, settle=0.5,
                            isolation_level='read_committed')
    assert sorted(int(m.value[4:]) for m in got) == list(range(150))
    assert error_count(ctl, 'EndTxn', 'NOT_COORDINATOR') + error_count(ctl, 'AddPartitionsToTxn', 'NOT_COORDINATOR') \
        + error_count(ctl, 'AddOffsetsToTxn', 'NOT_COORDINATOR') + error_count(ctl, 'TxnOffsetCommit', 'NOT_COORDINATOR') > 0


def test_elect_leaders(cluster):
    ctl = Control(cluster.http_url)
    create(cluster.bootstrap, 'el', 2)
    pref = [route(ctl, 'el', p)['replicas'][0] for p in range(2)]
    other = next(n for n in (1, 2, 3) if n != pref[0])
    move(ctl, 'el', 0, other)

    def elect(kind, partitions):
        up = [b['node_id'] for b in ctl.get('/v1/cluster')[1]['brokers'] if b['up']]
        with wire(cluster, up[0]) as c:
            r = kfs.call(c, 43, 2, {'election_type': kind, 'topic_partitions': partitions})
        return {(t['topic'], p['partition_id']): p['error_code'] for t in r['replica_election_results']
                for p in t['partition_result']}

    assert elect(0, [{'topic': 'el', 'partitions': [0, 1]}]) == {('el', 0): NONE, ('el', 1): 84}
    assert [route(ctl, 'el', p)['leader'] for p in range(2)] == pref
    assert route(ctl, 'el', 0)['leader_epoch'] == 2
    # The preferred replica down: PREFERRED_LEADER_NOT_AVAILABLE (80).
    move(ctl, 'el', 1, next(n for n in (1, 2, 3) if n != pref[1]))
    assert ctl.post(f'/v1/cluster/brokers/{pref[1]}/down')[0] == 200
    assert elect(0, [{'topic': 'el', 'partitions': [1]}]) == {('el', 1): 80}
    assert ctl.post(f'/v1/cluster/brokers/{pref[1]}/up')[0] == 200
    # All partitions (null): only those that needed an election are listed.
    assert elect(0, None) == {('el', 1): NONE}
    # Unclean: a leaderless partition gets a replica that is up.
    assert ctl.post(f'/v1/cluster/brokers/{pref[0]}/down', {'leaderless': True})[0] == 200
    assert route(ctl, 'el', 0)['leader'] == -1
    assert elect(1, [{'topic': 'el', 'partitions': [0]}]) == {('el', 0): NONE}
    assert route(ctl, 'el', 0)['leader'] not in (-1, pref[0])
    assert ctl.post(f'/v1/cluster/brokers/{pref[0]}/up')[0] == 200


def test_fault_rule_on_one_broker(cluster):
    """A fault rule with node_id acts on that broker's requests only."""
    ctl = Control(cluster.http_url)
    rule = ctl.fault(api='FindCoordinator', node_id=2, error='COORDINATOR_LOAD_IN_PROGRESS')
    codes = {}
    for node in (1, 2, 3):
        with wire(cluster, node) as c:
            r = kfs.call(c, 10, 4, {'key_type': 0, 'coordinator_keys': ['g']})
        codes[node] = r['coordinators'][0]['error_code']
    assert codes == {1: NONE, 2: 14, 3: NONE}
    assert (ctl.fault_get(rule['id'])['matched'], ctl.fault_get(rule['id'])['fired']) == (1, 1)
    assert ctl.post('/v1/faults', {'api': 'Metadata', 'node_id': -1, 'delay_ms': 1})[0] == 400


def consecutive_free_ports(n):
    """A base port with the n ports from it free now."""
    import socket
    for _ in range(50):
        base = free_port()
        socks = []
        try:
            for i in range(n):
                s = socket.socket()
                s.bind(('127.0.0.1', base + i))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    pytest.fail('no run of free ports')


def test_ports_derived_listed_and_advertised(start_broker):
    base = consecutive_free_ports(3)
    b = start_broker(config={'skiff.cluster.brokers': 3, 'listeners': f'PLAINTEXT://127.0.0.1:{base}',
                             'advertised.listeners': 'PLAINTEXT://localhost:19092'})
    assert b.nodes == {1: ('127.0.0.1', base), 2: ('127.0.0.1', base + 1), 3: ('127.0.0.1', base + 2)}
    with wire(b, 3) as c:
        md = kfs.call(c, 3, 12, {'topics': []})
    assert [(x['node_id'], x['host'], x['port']) for x in md['brokers']] == \
        [(1, 'localhost', 19092), (2, 'localhost', 19093), (3, 'localhost', 19094)]
    ports = [free_port() for _ in range(3)]
    b2 = start_broker(config={'skiff.cluster.brokers': 3, 'node.id': 7,
                              'skiff.cluster.ports': ','.join(map(str, ports))})
    assert b2.nodes == {7 + i: ('127.0.0.1', p) for i, p in enumerate(ports)}


@pytest.mark.parametrize('config, message', [
    ({'skiff.cluster.ports': '1,2'}, 'skiff.cluster.ports'),
    ({'broker.rack': 'a,b'}, 'broker.rack'),
    ({'skiff.cluster.brokers': 17}, 'skiff.cluster.brokers'),
])
def test_bad_cluster_settings_stop_start_up(tmp_path, config, message):
    cfg = {'skiff.cluster.brokers': 3, 'listeners': 'PLAINTEXT://127.0.0.1:0', 'log.dirs': str(tmp_path / 'd'),
           'skiff.http.listeners': ''}
    cfg.update(config)
    res = run_skiff(*config_args(cfg))
    assert res.returncode != 0
    assert message in res.stderr + res.stdout


def test_replication_factor_above_the_brokers_stops_start_up(tmp_path):
    res = run_skiff('--default.replication.factor', '2', '--log.dirs', str(tmp_path / 'd'))
    assert res.returncode == 2
    assert 'default.replication.factor (2) must be at most skiff.cluster.brokers (1)' in res.stderr
