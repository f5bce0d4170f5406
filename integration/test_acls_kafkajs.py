"""ACLs through kafkajs 2.2.4's admin client (createAcls, describeAcls,
deleteAcls) and producer, on a PLAINTEXT listener where every client is
User:ANONYMOUS, with allow.everyone.if.no.acl.found=true: a DENY created
through kafkajs refuses its produce with TOPIC_AUTHORIZATION_FAILED while
another topic stays open, describeAcls finds it by a MATCH filter, and
deleteAcls lifts it.

integration/js/node_modules must hold the pinned kafkajs: `npm ci` in
integration/js (scripts/test.sh runs it)."""

from test_admin_kafkajs import error_types, run_admin, step

STANDARD = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'
TOPIC, LITERAL, MATCH, ANY = 2, 3, 2, 1
WRITE, DENY = 4, 2
DENY_WRITE = {'resourceType': TOPIC, 'resourceName': 'locked', 'resourcePatternType': LITERAL,
              'principal': 'User:ANONYMOUS', 'host': '*', 'operation': WRITE, 'permissionType': DENY}
MATCH_LOCKED = {'resourceType': TOPIC, 'resourceName': 'locked', 'resourcePatternType': MATCH,
                'principal': 'User:ANONYMOUS', 'host': '*', 'operation': ANY, 'permissionType': ANY}


def test_kafkajs_acls(start_broker):
    b = start_broker(config={'authorizer.class.name': STANDARD, 'allow.everyone.if.no.acl.found': 'true'})
    results = run_admin(b, [
        step('createTopics', topics=[{'topic': 'locked'}, {'topic': 'open'}], waitForLeaders=True),
        step('createAcls', acl=[DENY_WRITE]),
        step('produce', topic='open', messages=[{'value': 'a'}]),
        step('produce', topic='locked', messages=[{'value': 'b'}]),
        step('describeAcls', **MATCH_LOCKED),
        step('deleteAcls', filters=[MATCH_LOCKED]),
        step('produce', topic='locked', messages=[{'value': 'c'}]),
    ])
    created, acls, open_sent, refused, described, deleted, sent = results
    assert created == {'ok': True}
    assert acls == {'ok': True}  # kafkajs throws on a creation error
    assert open_sent['ok'][0]['errorCode'] == 0
    assert error_types(refused) == ['TOPIC_AUTHORIZATION_FAILED'], refused
    assert described['ok']['resources'] == [{
        'resourceType': TOPIC, 'resourceName': 'locked', 'resourcePatternType': LITERAL,
        'acls': [{'principal': 'User:ANONYMOUS', 'host': '*', 'operation': WRITE, 'permissionType': DENY}]}]
    (response,) = deleted['ok']['filterResponses']
    assert len(response['matchingAcls']) == 1, deleted
    assert sent['ok'][0]['errorCode'] == 0
