"""The ACL APIs (KIP-140, KIP-290) as a Kafka broker without an authorizer
answers them: DescribeAcls is SECURITY_DISABLED with "No Authorizer is
configured on the broker", every creation of CreateAcls and every filter of
DeleteAcls SECURITY_DISABLED with "No Authorizer is configured.", at every
version Kafka 4 serves (1-3; v0 closes the connection, KIP-896)."""

import pytest
from kafka import KafkaAdminClient
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern,
                         ResourcePatternFilter)
from kafka.admin import ResourceType as KResourceType
from kafka.errors import SecurityDisabledError
from kp import KP3

from kafka_wire import Connection
from test_admin_wire import CREATE_ACLS, DELETE_ACLS, DESCRIBE_ACLS, call

SECURITY_DISABLED = 54
TOPIC, ANY_TYPE = 2, 1
LITERAL, ANY_PATTERN = 3, 1
READ, ANY_OP = 3, 1
ALLOW, ANY_PERMISSION = 3, 1


def binding(w, name):
    """An ACL binding (or the filter matching exactly it): topic `name`,
    literal, User:alice from any host may read."""
    w.i8(TOPIC).s(name).i8(LITERAL).s('User:alice').s('*').i8(READ).i8(ALLOW)


@pytest.mark.parametrize('version', [1, 2, 3])
def test_describe_acls(broker, version):
    def body(w):
        w.i8(ANY_TYPE).s(None).i8(ANY_PATTERN).s(None).s(None).i8(ANY_OP).i8(ANY_PERMISSION).tags()

    r = call(broker, DESCRIBE_ACLS, version, body)
    assert (r.i32(), r.i16(), r.s(nullable=True)) == (0, SECURITY_DISABLED, 'No Authorizer is configured on the broker')
    assert r.arr(lambda: None) == []
    r.end()
    r.done()


@pytest.mark.parametrize('version', [1, 2, 3])
def test_create_and_delete_acls(broker, version):
    def creations(w):
        w.arr(['t1', 't2'], lambda name: (binding(w, name), w.tags())).tags()

    r = call(broker, CREATE_ACLS, version, creations)
    assert r.i32() == 0

    def result():
        out = (r.i16(), r.s(nullable=True))
        r.end()
        return out
    assert r.arr(result) == [(SECURITY_DISABLED, 'No Authorizer is configured.')] * 2
    r.end()
    r.done()

    r = call(broker, DELETE_ACLS, version, creations)
    assert r.i32() == 0

    def filter_result():
        out = (r.i16(), r.s(nullable=True), r.arr(lambda: None))
        r.end()
        return out
    assert r.arr(filter_result) == [(SECURITY_DISABLED, 'No Authorizer is configured.', [])] * 2
    r.end()
    r.done()


def test_api_versions_advertise_the_acl_apis(broker):
    with Connection(broker.host, broker.port) as c:
        keys = c.api_versions(3)['api_keys']
    assert {k: keys[k] for k in (DESCRIBE_ACLS, CREATE_ACLS, DELETE_ACLS)} == {29: (1, 3), 30: (1, 3), 31: (1, 3)}
    for api in (DESCRIBE_ACLS, CREATE_ACLS, DELETE_ACLS):
        with Connection(broker.host, broker.port) as c:
            c.send(api, 0, b'')
            assert c.wait_closed()


def test_kafka_python_sees_security_disabled(broker):
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        with pytest.raises(SecurityDisabledError):
            admin.describe_acls(ACLFilter(principal=None, host=None, operation=ACLOperation.ANY,
                                          permission_type=ACLPermissionType.ANY,
                                          resource_pattern=ResourcePatternFilter(KResourceType.ANY, None,
                                                                                 ACLResourcePatternType.ANY)))
        acl = ACL(principal='User:alice', host='*', operation=ACLOperation.READ,
                  permission_type=ACLPermissionType.ALLOW, resource_pattern=ResourcePattern(KResourceType.TOPIC, 't'))
        result = admin.create_acls([acl])
        assert result['succeeded'] == []
        (failed,) = result['failed']
        # kafka-python hands back the class: 2.0.2 beside the ACL, 3 alone.
        assert failed == (SecurityDisabledError if KP3 else (acl, SecurityDisabledError))
    finally:
        admin.close()
