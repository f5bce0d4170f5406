"""Topic checks inside group and transaction APIs under ACLs
(docs/security.md), on the wire, as Kafka 4.4's KafkaApis answers:

- OffsetFetch (v1-7 and v8+): a topic the principal may not DESCRIBE is
  answered after the others with TOPIC_AUTHORIZATION_FAILED and offset -1
  when named, and left out when every topic is asked for;
- ConsumerGroupHeartbeat: one subscribed topic that may not be described
  refuses the heartbeat with TOPIC_AUTHORIZATION_FAILED alone;
- ConsumerGroupDescribe: a group whose assignment holds such a topic is
  answered with TOPIC_AUTHORIZATION_FAILED and Kafka's message, no members;
- a ConsumerGroupHeartbeat's regular expression resolves only to the topics
  the member's principal may DESCRIBE (no error for the others, which are
  simply not assigned), and takes a topic in once DESCRIBE is granted;
- AddPartitionsToTxn v0-3: a topic without WRITE, or an internal topic,
  fails the whole transaction (the others OPERATION_NOT_ATTEMPTED, nothing
  added); v4+ (broker to broker) needs CLUSTER_ACTION on the cluster.

The principal is User:ANONYMOUS on a PLAINTEXT listener; it starts with
ALTER on the cluster (an ACL file written before start) and gives itself
the rest with CreateAcls."""

import base64
import struct
import uuid

import kfs
from kafka_wire import Connection, Reader, Writer
from test_admin_wire import CREATE_ACLS, DELETE_ACLS, call, create_topics, topic_id

STANDARD = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'
NONE, TOPIC_AUTHZ, CLUSTER_AUTHZ, NOT_ATTEMPTED = 0, 29, 31, 55
TOPIC, GROUP, CLUSTER, TXN_ID = 2, 3, 4, 5
LITERAL, ALL, ALLOW, ANY = 3, 2, 3, 1
CREATE, WRITE, ALTER, DESCRIBE = 5, 4, 7, 8
ME = 'User:ANONYMOUS'


def flexible(conn, api, version, body):
    """A request of a flexible version (header v2); a Reader on the response body."""
    cid = conn.send(api, version, body, flexible=True)
    r = Reader(conn.recv_frame())
    assert r.i32() == cid
    r.tags()
    return r


def b64(s):
    return base64.b64encode(s.encode()).decode()


def start(start_broker, tmp_path):
    data = tmp_path / 'data'
    data.mkdir()
    (data / 'acls').write_text(f'# skiff ACLs v1\nCLUSTER LITERAL ALTER ALLOW {b64("kafka-cluster")} {b64(ME)} '
                               f'{b64("*")}\n')
    return start_broker(config={'authorizer.class.name': STANDARD}, data_dir=data)


def grant(b, *acls):
    """CreateAcls v1 for ME: (resource type, name, operation)."""
    r = call(b, CREATE_ACLS, 1, lambda w: w.arr(acls, lambda a: w.i8(a[0]).s(a[1]).i8(LITERAL).s(ME).s('*')
                                                .i8(a[2]).i8(ALLOW)))
    assert r.i32() == 0
    assert r.arr(lambda: (r.i16(), r.s(nullable=True))) == [(NONE, None)] * len(acls)


def revoke_topic(b, name):
    r = call(b, DELETE_ACLS, 1, lambda w: w.arr([name], lambda n: w.i8(TOPIC).s(n).i8(LITERAL).s(None).s(None)
                                                 .i8(ANY).i8(ANY)))
    assert r.i32() == 0

    def matching():
        return r.arr(lambda: (r.i16(), r.s(nullable=True), r.i8(), r.s(), r.i8(), r.s(), r.s(), r.i8(), r.i8()))
    assert r.arr(lambda: (r.i16(), r.s(nullable=True), matching())) == [
        (NONE, None, [(NONE, None, TOPIC, name, LITERAL, ME, '*', ALL, ALLOW)])]


def commit_v2(conn, group, topics):
    w = Writer().string(group).i32(-1).string('').raw(struct.pack('>q', -1)).array_len(len(topics))
    for name, offset in topics:
        w.string(name).array_len(1).i32(0).raw(struct.pack('>q', offset)).string('m')
    r = conn.request(8, 2, w.bytes())
    assert r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i16())))) == [(n, [(0, NONE)]) for n, _ in topics]


def fetch_v5(conn, group, topics):
    """OffsetFetch v5 (one group, topics None: all) -> (topics, error)."""
    w = Writer().string(group)
    if topics is None:
        w.array_len(None)
    else:
        w.array_len(len(topics))
        for t in topics:
            w.string(t).array_len(1).i32(0)
    r = conn.request(9, 5, w.bytes())
    assert r.i32() == 0
    out = r.array(lambda: (r.string(), r.array(lambda: (r.i32(), struct.unpack('>q', r.take(8))[0], r.i32(),
                                                         r.string(), r.i16()))))
    err = r.i16()
    r.done()
    return out, err


def fetch_v8(conn, groups):
    """OffsetFetch v8 (flexible): [(group, topics or None)] -> [(group, topics, error)]."""
    w = Writer().array_len(len(groups), True)
    for g, topics in groups:
        w.string(g, True)
        w.array_len(None if topics is None else len(topics), True)
        for t in topics or []:
            w.string(t, True).array_len(1, True).i32(0).empty_tags()
        w.empty_tags()
    w.bool(False).empty_tags()
    r = flexible(conn, 9, 8, w.bytes())
    assert r.i32() == 0

    def partition():
        out = (r.i32(), struct.unpack('>q', r.take(8))[0], r.i32(), r.string(True, True), r.i16())
        r.tags()
        return out

    def topic():
        out = (r.string(True), r.array(partition, True))
        r.tags()
        return out

    def group():
        out = (r.string(True), r.array(topic, True), r.i16())
        r.tags()
        return out
    got = r.array(group, True)
    r.tags()
    r.done()
    return got


def heartbeat(conn, group, topics):
    """ConsumerGroupHeartbeat v0 joining `group` -> (error, message, member id, epoch, has an assignment)."""
    w = Writer().string(group, True).string('', True).i32(0).string(None, True).string(None, True).i32(30000)
    w.array_len(len(topics), True)
    for t in topics:
        w.string(t, True)
    w.string(None, True).array_len(0, True).empty_tags()
    r = flexible(conn, 68, 0, w.bytes())
    r.i32()
    out = (r.i16(), r.string(True, True), r.string(True, True), r.i32())
    r.i32()
    return out + (r.i8() != -1,)


def describe_group(conn, group):
    """ConsumerGroupDescribe v0 of one group -> (error,) when served, else
    every field of the refused group (members must be empty)."""
    w = Writer().array_len(1, True).string(group, True).bool(False).empty_tags()
    r = flexible(conn, 69, 0, w.bytes())
    r.i32()
    assert r.uvarint() == 2
    err = r.i16()
    if err == NONE:
        return (err,)
    out = (err, r.string(True, True), r.string(True), r.string(True), r.i32(), r.i32(), r.string(True),
           r.array(lambda: None, True), r.i32())
    r.tags()
    r.tags()
    r.done()
    return out


def init_producer_id(conn, txn_id):
    r = conn.request(22, 1, Writer().string(txn_id).i32(60000).bytes())
    r.i32()
    err, pid, epoch = r.i16(), struct.unpack('>q', r.take(8))[0], r.i16()
    assert err == NONE
    return pid, epoch


def add_partitions_v2(conn, txn_id, pid, epoch, topics):
    w = Writer().string(txn_id).raw(struct.pack('>qh', pid, epoch)).array_len(len(topics))
    for t in topics:
        w.string(t).array_len(1).i32(0)
    r = conn.request(24, 2, w.bytes())
    r.i32()
    out = r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i16()))))
    r.done()
    return out


def add_partitions_v4(conn, txn_id, pid, epoch, topic):
    w = Writer().array_len(1, True).string(txn_id, True).raw(struct.pack('>qh', pid, epoch)).bool(True)
    w.array_len(1, True).string(topic, True).array_len(1, True).i32(0).empty_tags().empty_tags().empty_tags()
    r = flexible(conn, 24, 4, w.bytes())
    r.i32()
    out = (r.i16(), r.array(lambda: None, True))
    r.tags()
    r.done()
    return out


def test_offset_fetch_hides_topics_it_may_not_describe(start_broker, tmp_path):
    b = start(start_broker, tmp_path)
    grant(b, (CLUSTER, 'kafka-cluster', CREATE), (TOPIC, 'ok', ALL), (TOPIC, 'secret', ALL), (GROUP, 'g', ALL))
    create_topics(b, 4, [('ok', 1, 1, {}, []), ('secret', 1, 1, {}, [])])
    with Connection(b.host, b.port) as c:
        commit_v2(c, 'g', [('ok', 5), ('secret', 7)])
        assert fetch_v5(c, 'g', ['secret', 'ok']) == ([('secret', [(0, 7, -1, 'm', NONE)]),
                                                       ('ok', [(0, 5, -1, 'm', NONE)])], NONE)
    revoke_topic(b, 'secret')
    with Connection(b.host, b.port) as c:
        # named: after the others, offset -1; all topics: left out
        assert fetch_v5(c, 'g', ['secret', 'ok']) == ([('ok', [(0, 5, -1, 'm', NONE)]),
                                                       ('secret', [(0, -1, -1, '', TOPIC_AUTHZ)])], NONE)
        assert fetch_v5(c, 'g', None) == ([('ok', [(0, 5, -1, 'm', NONE)])], NONE)
        assert fetch_v8(c, [('g', ['secret', 'ok']), ('g', None)]) == [
            ('g', [('ok', [(0, 5, -1, 'm', NONE)]), ('secret', [(0, -1, -1, '', TOPIC_AUTHZ)])], NONE),
            ('g', [('ok', [(0, 5, -1, 'm', NONE)])], NONE)]
    assert 'OffsetFetch: User:ANONYMOUS may not DESCRIBE TOPIC secret' in b.log


def test_consumer_group_heartbeat_and_describe_check_topics(start_broker, tmp_path):
    b = start(start_broker, tmp_path)
    grant(b, (CLUSTER, 'kafka-cluster', CREATE), (TOPIC, 'ok', ALL), (TOPIC, 'secret', ALL), (GROUP, 'cg', ALL),
          (GROUP, 'cg2', ALL))
    create_topics(b, 4, [('ok', 1, 1, {}, []), ('secret', 1, 1, {}, [])])
    with Connection(b.host, b.port) as c:
        err, _, member, epoch, _ = heartbeat(c, 'cg', ['secret'])
        assert (err, epoch) == (NONE, 1) and member
        assert describe_group(c, 'cg') == (NONE,)
    revoke_topic(b, 'secret')
    with Connection(b.host, b.port) as c:
        assert heartbeat(c, 'cg2', ['ok', 'secret']) == (TOPIC_AUTHZ, None, None, 0, False)
        err, _, member, epoch, _ = heartbeat(c, 'cg2', ['ok'])
        assert (err, epoch) == (NONE, 1) and member
        assert describe_group(c, 'cg') == (
            TOPIC_AUTHZ, 'The group has described topic(s) that the client is not authorized to describe.', 'cg',
            '', 0, 0, '', [], -2147483648)
    assert 'ConsumerGroupHeartbeat: User:ANONYMOUS may not DESCRIBE TOPIC secret' in b.log


def test_regex_subscription_resolves_to_describable_topics_only(start_broker, tmp_path):
    b = start(start_broker, tmp_path)
    grant(b, (CLUSTER, 'kafka-cluster', CREATE), (TOPIC, 'rx-a', ALL), (TOPIC, 'rx-b', ALL), (TOPIC, 'rx-hidden', ALL),
          (GROUP, 'crx', ALL))
    create_topics(b, 4, [('rx-a', 2, 1, {}, []), ('rx-b', 1, 1, {}, []), ('rx-hidden', 3, 1, {}, []),
                         ('other', 1, 1, {}, [])])
    ids = {str(uuid.UUID(bytes=topic_id(b, n))): n for n in ('rx-a', 'rx-b', 'rx-hidden')}
    revoke_topic(b, 'rx-hidden')

    def beat(c, member, epoch):
        r = kfs.call(c, 68, 1, {'group_id': 'crx', 'member_id': member, 'member_epoch': epoch,
                                'rebalance_timeout_ms': 30000, 'subscribed_topic_names': [],
                                'subscribed_topic_regex': 'rx-.*', 'topic_partitions': []})
        assert (r['error_code'], r['error_message']) == (NONE, None)
        got = None if r['assignment'] is None else sorted(
            (ids[t['topic_id']], sorted(t['partitions'])) for t in r['assignment']['topic_partitions'])
        return r['member_id'], r['member_epoch'], got

    with Connection(b.host, b.port) as c:
        # the first heartbeat brings the regex (resolved from the next one on, as in Kafka)
        member = str(uuid.uuid4())
        assert beat(c, member, 0) == (member, 1, [])
        # rx-hidden matches but may not be described: not assigned, no error
        assert beat(c, member, 1) == (member, 2, [('rx-a', [0, 1]), ('rx-b', [0])])
        (g,) = kfs.call(c, 69, 1, {'group_ids': ['crx']})['groups']
        assert (g['error_code'], g['group_epoch'], g['assignment_epoch']) == (NONE, 2, 2)
    grant(b, (TOPIC, 'rx-hidden', DESCRIBE))
    with Connection(b.host, b.port) as c:
        assert beat(c, member, 2) == (member, 3, [('rx-a', [0, 1]), ('rx-b', [0]), ('rx-hidden', [0, 1, 2])])


def test_add_partitions_to_txn_checks_topics_and_cluster_action(start_broker, tmp_path):
    b = start(start_broker, tmp_path)
    grant(b, (CLUSTER, 'kafka-cluster', CREATE), (TOPIC, 'ok', ALL), (TXN_ID, 'tx', WRITE))
    create_topics(b, 4, [('ok', 1, 1, {}, []), ('secret', 1, 1, {}, [])])
    with Connection(b.host, b.port) as c:
        pid, epoch = init_producer_id(c, 'tx')
        # one refused topic (no ACL, or internal) fails the transaction: nothing is added
        assert add_partitions_v2(c, 'tx', pid, epoch, ['ok', 'secret', '__consumer_offsets']) == [
            ('ok', [(0, NOT_ATTEMPTED)]), ('secret', [(0, TOPIC_AUTHZ)]), ('__consumer_offsets', [(0, TOPIC_AUTHZ)])]
        # v4 is the brokers': CLUSTER_ACTION on the cluster, the error alone
        assert add_partitions_v4(c, 'tx', pid, epoch, 'ok') == (CLUSTER_AUTHZ, [])
        assert add_partitions_v2(c, 'tx', pid, epoch, ['ok']) == [('ok', [(0, NONE)])]
    assert 'AddPartitionsToTxn: User:ANONYMOUS may not WRITE TOPIC secret' in b.log
