"""ACLs enforced (authorizer.class.name = Kafka's StandardAuthorizer,
docs/security.md), driven by confluent-kafka-python and kafka-python over
SASL_PLAINTEXT with PLAIN users: User:admin is a super user, alice and bob
get ACLs from the admin's CreateAcls. Each test checks what a principal may
and may not do, with the error the client reports: producing without
consuming, one group but not another, transactional ids, prefixed ACLs,
Metadata leaving out topics the principal may not describe,
allow.everyone.if.no.acl.found, and ACLs that survive a restart.

The ACLs are created with kafka-python's admin client (Debian's 2.0.2 and
3 from PyPI both have it); the ACL APIs of confluent-kafka's admin client
(2.x: Debian's 1.7 has none) are tested where that client has them, in
the PyPI run of scripts/test.sh (this module is marked librdkafka)."""

import re
import uuid

import confluent_kafka.admin as ck_admin
import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaAdminClient
from kafka.admin import ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern
from kafka.admin import ResourceType as KResourceType

from test_admin_wire import CREATE_ACLS, DELETE_ACLS, DESCRIBE_ACLS, call

pytestmark = pytest.mark.librdkafka
HAS_CK_ACLS = hasattr(ck_admin, 'AclBinding')
if HAS_CK_ACLS:
    from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType,
                                       ResourcePatternType, ResourceType)

PLAIN_JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
              'user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret";')
LISTENING = re.compile(r'listening on (\S+):(\d+) \((\S+)\), protocol (\S+)')
STANDARD = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'


def acl_config(**extra):
    cfg = {
        'listeners': 'SASL_PLAINTEXT://127.0.0.1:0',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': PLAIN_JAAS,
        'authorizer.class.name': STANDARD,
        'super.users': 'User:admin',
    }
    cfg.update(extra)
    return cfg


def port_of(b):
    """The SASL listener's port: the last "listening on" line (a restart picks a new one)."""
    return int(LISTENING.findall(b.log)[-1][1])


def conf(b, user):
    port = port_of(b)
    return {'bootstrap.servers': f'127.0.0.1:{port}', 'security.protocol': 'SASL_PLAINTEXT',
            'sasl.mechanism': 'PLAIN', 'sasl.username': user, 'sasl.password': f'{user}-secret'}


def admin(b, user='admin'):
    return AdminClient(conf(b, user))


def allow(rtype, name, principal, op, pattern='LITERAL', permission='ALLOW'):
    """A binding as Kafka's enum names, for either client."""
    return (rtype, name, pattern, principal, op, permission)


def ck_binding(spec):
    rtype, name, pattern, principal, op, permission = spec
    rtype = 'BROKER' if rtype == 'CLUSTER' else rtype  # confluent-kafka's name of the CLUSTER type
    return AclBinding(ResourceType[rtype], name, ResourcePatternType[pattern], principal, '*', AclOperation[op],
                      AclPermissionType[permission])


def create_acls(b, specs):
    """Creates the bindings as User:admin with kafka-python's admin client."""
    port = port_of(b)
    a = KafkaAdminClient(bootstrap_servers=f'127.0.0.1:{port}', security_protocol='SASL_PLAINTEXT',
                         sasl_mechanism='PLAIN', sasl_plain_username='admin', sasl_plain_password='admin-secret')
    try:
        acls = [ACL(principal=principal, host='*', operation=ACLOperation[op],
                    permission_type=ACLPermissionType[permission],
                    resource_pattern=ResourcePattern(KResourceType[rtype], name, ACLResourcePatternType[pattern]))
                for rtype, name, pattern, principal, op, permission in specs]
        result = a.create_acls(acls)
        assert result['failed'] == []
        assert len(result['succeeded']) == len(acls)
    finally:
        a.close()


def create_topics(b, *names):
    a = admin(b)
    for f in a.create_topics([NewTopic(n, 1, 1) for n in names], operation_timeout=15).values():
        assert f.result() is None


def produce(b, user, topic, value=b'v', **extra):
    """Delivers one message; returns the delivery error code (None on success)."""
    p = Producer({**conf(b, user), 'message.timeout.ms': 10000, **extra})
    errors = []
    p.produce(topic, value, on_delivery=lambda err, msg: errors.append(err))
    p.flush(15)
    assert len(errors) == 1
    return errors[0].code() if errors[0] else None


def consume_error(b, user, topic, group):
    """Subscribes in `group` and returns (first error code, values read)."""
    c = Consumer({**conf(b, user), 'group.id': group, 'auto.offset.reset': 'earliest',
                  'enable.auto.commit': False})
    c.subscribe([topic])
    values = []
    try:
        for _ in range(60):
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                return m.error().code(), values
            values.append(m.value())
            return None, values
    finally:
        c.close()
    return 'timeout', values


@pytest.mark.skipif(not HAS_CK_ACLS, reason="this confluent-kafka has no ACL admin API (PyPI run has)")
def test_acl_apis_create_describe_delete(start_broker):
    b = start_broker(config=acl_config())
    a = admin(b)
    bindings = [ck_binding(x) for x in [
        allow('TOPIC', 'orders', 'User:alice', 'WRITE'),
        allow('TOPIC', 'logs-', 'User:bob', 'READ', 'PREFIXED'),
        allow('GROUP', 'g1', 'User:bob', 'READ'),
        allow('TOPIC', '*', 'User:bob', 'DESCRIBE', permission='DENY'),
    ]]
    for f in a.create_acls(bindings, request_timeout=15).values():
        assert f.result() is None
    ok = ck_binding(allow('CLUSTER', 'kafka-cluster', 'User:alice', 'DESCRIBE'))
    assert a.create_acls([ok], request_timeout=15)[ok].result() is None

    def describe(f):
        return sorted(str(x) for x in a.describe_acls(f, request_timeout=15).result())

    everything = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                                  AclPermissionType.ANY)
    assert describe(everything) == sorted(str(x) for x in bindings + [ok])
    # MATCH: what applies to topic logs-a: the prefixed ACL and the wildcard DENY
    match = AclBindingFilter(ResourceType.TOPIC, 'logs-a', ResourcePatternType.MATCH, None, None, AclOperation.ANY,
                             AclPermissionType.ANY)
    assert describe(match) == sorted(str(x) for x in [bindings[1], bindings[3]])
    by_principal = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, 'User:bob', '*',
                                    AclOperation.ANY, AclPermissionType.ALLOW)
    assert describe(by_principal) == sorted(str(x) for x in [bindings[1], bindings[2]])

    # alice may describe ACLs (DESCRIBE on the cluster) but not create them
    alice, bob = admin(b, 'alice'), admin(b, 'bob')
    assert len(alice.describe_acls(everything, request_timeout=15).result()) == 5
    f = alice.create_acls([bindings[0]], request_timeout=15)[bindings[0]]
    with pytest.raises(KafkaException) as e:
        f.result()
    assert e.value.args[0].code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED
    # bob may not: CLUSTER_AUTHORIZATION_FAILED, which librdkafka's DescribeAcls drops (an empty
    # list, as against Kafka); the code itself is checked on the wire below
    assert bob.describe_acls(everything, request_timeout=15).result() == []

    prefixed = AclBindingFilter(ResourceType.TOPIC, None, ResourcePatternType.PREFIXED, None, None,
                                AclOperation.ANY, AclPermissionType.ANY)
    deleted = a.delete_acls([prefixed], request_timeout=15)[prefixed].result()
    assert [str(x) for x in deleted] == [str(bindings[1])]
    assert describe(everything) == sorted(str(x) for x in [bindings[0], bindings[2], bindings[3], ok])

    # the ACLs survive a restart
    b.restart()
    assert describe_after_restart(b, everything) == sorted(str(x) for x in [bindings[0], bindings[2], bindings[3], ok])


def describe_after_restart(b, f):
    a = admin(b)
    return sorted(str(x) for x in a.describe_acls(f, request_timeout=15).result())


def test_produce_but_not_consume_and_groups(start_broker):
    b = start_broker(config=acl_config())
    create_topics(b, 'orders', 'secret')
    create_acls(b, [
        allow('TOPIC', 'orders', 'User:alice', 'WRITE'),
        allow('GROUP', 'g-alice', 'User:alice', 'READ'),
        allow('TOPIC', 'orders', 'User:bob', 'READ'),
        allow('GROUP', 'g-bob', 'User:bob', 'READ'),
    ])
    assert produce(b, 'alice', 'orders', b'one') is None
    assert produce(b, 'bob', 'orders') == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert produce(b, 'alice', 'secret') == KafkaError.TOPIC_AUTHORIZATION_FAILED
    # alice may write but not read orders
    assert consume_error(b, 'alice', 'orders', 'g-alice')[0] == KafkaError.TOPIC_AUTHORIZATION_FAILED
    # bob reads orders in his group, not in another
    assert consume_error(b, 'bob', 'orders', 'g-bob') == (None, [b'one'])
    assert consume_error(b, 'bob', 'orders', 'g-other')[0] == KafkaError.GROUP_AUTHORIZATION_FAILED
    # the super user may do everything
    assert produce(b, 'admin', 'secret') is None
    assert consume_error(b, 'admin', 'secret', 'any-group') == (None, [b'v'])
    # ListGroups: only the groups the principal may describe (no DESCRIBE on the cluster)
    alice, root = admin(b, 'alice'), admin(b)
    assert sorted(g.id for g in alice.list_groups(timeout=15)) == ['g-alice']
    assert sorted(g.id for g in root.list_groups(timeout=15)) == ['any-group', 'g-alice', 'g-bob']


def test_metadata_hides_topics(start_broker):
    b = start_broker(config=acl_config())
    create_topics(b, 'pub-a', 'pub-b', 'hidden')
    create_acls(b, [allow('TOPIC', 'pub-', 'User:alice', 'READ', 'PREFIXED')])
    md = admin(b, 'alice').list_topics(timeout=15)
    assert sorted(md.topics) == ['pub-a', 'pub-b']
    md = admin(b, 'alice').list_topics('hidden', timeout=15)
    assert md.topics['hidden'].error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert {'pub-a', 'pub-b', 'hidden'} <= set(admin(b).list_topics(timeout=15).topics)
    # bob has no ACL at all: no topic, and no auto-creation
    md = admin(b, 'bob').list_topics(timeout=15)
    assert sorted(md.topics) == []


def test_transactional_ids(start_broker):
    b = start_broker(config=acl_config())
    create_topics(b, 'tx-topic')
    create_acls(b, [
        allow('TRANSACTIONAL_ID', 'app-', 'User:alice', 'WRITE', 'PREFIXED'),
        allow('TOPIC', 'tx-topic', 'User:alice', 'WRITE'),
    ])
    p = Producer({**conf(b, 'alice'), 'transactional.id': f'app-{uuid.uuid4().hex}'})
    p.init_transactions(15)
    p.begin_transaction()
    p.produce('tx-topic', b'in-tx')
    p.commit_transaction(15)

    p = Producer({**conf(b, 'alice'), 'transactional.id': 'other-app'})
    with pytest.raises(KafkaException) as e:
        p.init_transactions(15)
    assert e.value.args[0].code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED

    # idempotence without a transactional id needs IDEMPOTENT_WRITE on the cluster or WRITE on a topic
    assert produce(b, 'alice', 'tx-topic', **{'enable.idempotence': True}) is None
    c = Consumer({**conf(b, 'admin'), 'group.id': 'check', 'isolation.level': 'read_committed'})
    lo, hi = c.get_watermark_offsets(TopicPartition('tx-topic', 0), timeout=15)
    c.close()
    assert hi >= 3  # the transactional record, its commit marker, the idempotent record


def test_allow_everyone_if_no_acl_found(start_broker):
    b = start_broker(config=acl_config(**{'allow.everyone.if.no.acl.found': 'true'}))
    create_topics(b, 'open', 'closed')
    create_acls(b, [allow('TOPIC', 'closed', 'User:bob', 'WRITE')])
    assert produce(b, 'alice', 'open') is None  # no ACL on the topic: everyone
    assert produce(b, 'alice', 'closed') == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert produce(b, 'bob', 'closed') is None


INVALID_REQUEST, CLUSTER_AUTHORIZATION_FAILED = 42, 31


@pytest.mark.parametrize('version', [1, 3])
def test_create_acls_validation_wire(start_broker, version):
    """Kafka's validation of CreateAcls (AclControlManager, AclApis):
    INVALID_REQUEST with its message per creation, the valid ones created;
    DeleteAcls filters with UNKNOWN codes; no super user: CLUSTER_AUTHORIZATION_FAILED."""
    b = start_broker(config={'authorizer.class.name': STANDARD, 'super.users': 'User:ANONYMOUS'})
    creations = [
        (2, 't', 2, 'User:a', '*', 3, 3),            # MATCH
        (2, 't', 1, 'User:a', '*', 3, 3),            # ANY
        (1, 't', 3, 'User:a', '*', 3, 3),            # resource ANY
        (2, 't', 3, 'User:a', '*', 99, 3),           # unknown operation
        (2, 't', 3, 'User:a', '*', 3, 1),            # permission ANY
        (4, 'c', 3, 'User:a', '*', 7, 3),            # CLUSTER named otherwise
        (2, '', 3, 'User:a', '*', 3, 3),             # empty name
        (2, 't', 3, 'alice', '*', 3, 3),             # no principal type
        (2, 't', 4, 'User:a', '*', 3, 3),            # fine: PREFIXED
    ]

    def body(w):
        w.arr(creations, lambda c: (w.i8(c[0]).s(c[1]).i8(c[2]).s(c[3]).s(c[4]).i8(c[5]).i8(c[6]), w.tags())).tags()

    r = call(b, CREATE_ACLS, version, body)
    assert r.i32() == 0

    def result():
        out = (r.i16(), r.s(nullable=True))
        r.end()
        return out
    assert r.arr(result) == [
        (INVALID_REQUEST, 'Invalid patternType MATCH'), (INVALID_REQUEST, 'Invalid patternType ANY'),
        (INVALID_REQUEST, 'Invalid resourceType ANY'), (INVALID_REQUEST, 'Invalid operation UNKNOWN'),
        (INVALID_REQUEST, 'Invalid permissionType ANY'),
        (INVALID_REQUEST, 'The only valid name for the CLUSTER resource is kafka-cluster'),
        (INVALID_REQUEST, 'Invalid empty resource name'),
        (INVALID_REQUEST, 'Could not parse principal from `alice` (no colon is present separating the principal '
                          'type from the principal name)'),
        (0, None)]
    r.end()
    r.done()

    def describe_all(w):
        w.i8(1).s(None).i8(1).s(None).s(None).i8(1).i8(1).tags()
    r = call(b, DESCRIBE_ACLS, version, describe_all)
    assert (r.i32(), r.i16(), r.s(nullable=True)) == (0, 0, None)

    def acl():
        out = (r.s(), r.s(), r.i8(), r.i8())
        r.end()
        return out

    def resource():
        out = (r.i8(), r.s(), r.i8(), r.arr(acl))
        r.end()
        return out
    assert r.arr(resource) == [(2, 't', 4, [('User:a', '*', 3, 3)])]

    def delete_filters(w):
        w.arr([0, 1], lambda op: (w.i8(2).s(None).i8(1).s(None).s(None).i8(op).i8(1), w.tags())).tags()
    r = call(b, DELETE_ACLS, version, delete_filters)
    assert r.i32() == 0

    def matching():
        out = (r.i16(), r.s(nullable=True), r.i8(), r.s(), r.i8(), r.s(), r.s(), r.i8(), r.i8())
        r.end()
        return out

    def filter_result():
        out = (r.i16(), r.s(nullable=True), r.arr(matching))
        r.end()
        return out
    assert r.arr(filter_result) == [(INVALID_REQUEST, 'Unknown entryFilter.', []),
                                    (0, None, [(0, None, 2, 't', 4, 'User:a', '*', 3, 3)])]


def test_acl_apis_need_cluster_permissions_wire(start_broker):
    b = start_broker(config={'authorizer.class.name': STANDARD})
    r = call(b, DESCRIBE_ACLS, 1, lambda w: w.i8(1).s(None).i8(1).s(None).s(None).i8(1).i8(1))
    assert (r.i32(), r.i16(), r.s(nullable=True), r.arr(lambda: None)) == (0, CLUSTER_AUTHORIZATION_FAILED, None, [])
    r = call(b, CREATE_ACLS, 1, lambda w: w.arr([0], lambda _: w.i8(2).s('t').i8(3).s('User:a').s('*').i8(3).i8(3)))
    assert r.i32() == 0
    assert r.arr(lambda: (r.i16(), r.s(nullable=True))) == [(CLUSTER_AUTHORIZATION_FAILED, None)]


def test_admin_operations(start_broker):
    """DescribeConfigs (ALTER_CONFIGS implies DESCRIBE_CONFIGS), CreateTopics
    with a prefixed CREATE, DeleteTopics without DELETE: the refused
    resources get TOPIC_AUTHORIZATION_FAILED in the same response as the
    allowed ones."""
    from confluent_kafka.admin import ConfigResource
    b = start_broker(config=acl_config())
    create_topics(b, 'conf-a', 'conf-b')
    create_acls(b, [allow('TOPIC', 'conf-a', 'User:alice', 'ALTER_CONFIGS'),
                    allow('TOPIC', 'new-', 'User:alice', 'CREATE', 'PREFIXED')])
    a = admin(b, 'alice')
    res_a, res_b = ConfigResource('topic', 'conf-a'), ConfigResource('topic', 'conf-b')
    fs = a.describe_configs([res_a, res_b], request_timeout=15)
    assert fs[res_a].result()['cleanup.policy'].value == 'delete'
    with pytest.raises(KafkaException) as e:
        fs[res_b].result()
    assert e.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED

    fs = a.create_topics([NewTopic('new-1', 1, 1), NewTopic('other', 1, 1)], operation_timeout=15)
    assert fs['new-1'].result() is None
    with pytest.raises(KafkaException) as e:
        fs['other'].result()
    assert e.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert 'other' not in admin(b).list_topics(timeout=15).topics

    fs = a.delete_topics(['conf-a'], operation_timeout=15)
    with pytest.raises(KafkaException) as e:
        fs['conf-a'].result()
    assert e.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


@pytest.mark.skipif(not HAS_CK_ACLS, reason="this confluent-kafka cannot ask for authorized operations")
def test_authorized_operations(start_broker):
    from confluent_kafka import TopicCollection
    b = start_broker(config=acl_config())
    create_topics(b, 'ops')
    create_acls(b, [allow('TOPIC', 'ops', 'User:alice', 'ALTER_CONFIGS'),
                    allow('TOPIC', 'ops', 'User:alice', 'READ'),
                    allow('CLUSTER', 'kafka-cluster', 'User:alice', 'DESCRIBE')])
    a, root = admin(b, 'alice'), admin(b)
    cluster = a.describe_cluster(include_authorized_operations=True, request_timeout=15).result()
    assert sorted(op.name for op in cluster.authorized_operations) == ['DESCRIBE']
    cluster = root.describe_cluster(include_authorized_operations=True, request_timeout=15).result()
    assert sorted(op.name for op in cluster.authorized_operations) == sorted(
        ['CREATE', 'ALTER', 'DESCRIBE', 'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE'])
    topics = a.describe_topics(TopicCollection(['ops']), include_authorized_operations=True, request_timeout=15)
    assert sorted(op.name for op in topics['ops'].result().authorized_operations) == [
        'ALTER_CONFIGS', 'DESCRIBE', 'DESCRIBE_CONFIGS', 'READ']


@pytest.mark.parametrize('extra, content, message', [
    ({'authorizer.class.name': 'com.example.MyAuthorizer'}, None,
     'authorizer.class.name: com.example.MyAuthorizer is not served'),
    ({'allow.everyone.if.no.acl.found': 'maybe'}, None, 'allow.everyone.if.no.acl.found: "maybe" is not true or false'),
    ({}, '# skiff ACLs v1\nTOPIC LITERAL READ ALLOW dA== VXNlcjph\n', 'acls: malformed ACL on line 2 (not 7 fields)'),
    ({}, 'TOPIC MATCH READ ALLOW dA== VXNlcjph Kg==\n', 'acls: malformed ACL on line 1 (invalid binding)'),
    ({}, 'TOPIC LITERAL READ ALLOW !!!! VXNlcjph Kg==\n', 'acls: malformed ACL on line 1 (bad base64)'),
])
def test_bad_authorizer_settings_or_acl_file_stop_start_up(tmp_path, extra, content, message):
    """A setting that cannot be used, or an ACL file that cannot be read,
    stops start-up (exit status 2) with a line naming it: ACLs are never
    dropped silently."""
    from harness import run_skiff
    data = tmp_path / 'd'
    data.mkdir()
    if content is not None:
        (data / 'acls').write_text(content)
    args = ['--listeners', 'PLAINTEXT://127.0.0.1:0', '--log.dirs', str(data), '--skiff.http.listeners', '',
            f'--authorizer.class.name={STANDARD}']
    args += [f'--{k}={v}' for k, v in extra.items()]
    res = run_skiff(*args)
    assert res.returncode == 2, res.stderr
    assert message in res.stderr, res.stderr


def test_http_api_requests_are_not_checked(start_broker):
    """The console and REST API act for the operator: with an authorizer and
    no ACL at all, a REST produce is stored, while a Kafka client without
    ACLs is refused."""
    import json
    import urllib.request
    b = start_broker(config=acl_config())
    with urllib.request.urlopen(f'{b.http_url}/v3/clusters', timeout=30) as r:
        cluster = json.load(r)['data'][0]['cluster_id']
    req = urllib.request.Request(f'{b.http_url}/v3/clusters/{cluster}/topics', method='POST',
                                 data=json.dumps({'topic_name': 'ops', 'partitions_count': 1}).encode(),
                                 headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 201
    req = urllib.request.Request(f'{b.http_url}/v3/clusters/{cluster}/topics/ops/records', method='POST',
                                 data=json.dumps({'value': {'type': 'STRING', 'data': 'v'}}).encode(),
                                 headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert (r.status, json.load(r)['offset']) == (200, 0)
    assert produce(b, 'bob', 'ops') == KafkaError.TOPIC_AUTHORIZATION_FAILED
