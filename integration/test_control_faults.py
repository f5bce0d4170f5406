"""Fault rules through the HTTP control plane, seen on the wire
(integration/kafka_wire.py): each action (error, delay, close before and
after handling, blackhole, throttle_time_ms), each trigger (once, times,
after, probability with a seed, duration), the matches (version, client id,
topic, partition), rule listing and removal with their counts, bad rules
refused whole, and the broker-level faults (pause reads, refuse
connections). Real clients reacting to the same faults are in
test_control_clients.py."""

import time

import pytest

from control import Control
from kafka_wire import (API_METADATA, API_VERSIONS, Connection, ConnectionClosed, api_versions_request, decode_metadata,
                        metadata_request)

NOT_LEADER = 6
UNKNOWN_TOPIC = 3
REQUEST_TIMED_OUT = 7


@pytest.fixture
def ctl(broker):
    return Control(broker.http_url)


def conn(broker, **kw):
    return Connection(broker.host, broker.port, **kw)


def metadata(c, topics, version=12, client_id='skiff-it'):
    r = c.request(API_METADATA, version, metadata_request(version, topics, allow_auto_topic_creation=False),
                  client_id=client_id)
    return decode_metadata(r, version)


def test_rules_listed_removed_and_counted(broker, ctl):
    a = ctl.fault(api='Metadata', error='LEADER_NOT_AVAILABLE', once=True)
    b = ctl.fault(api=18, delay_ms=1)
    assert a['id'] == 1 and a['api_key'] == 3 and a['fired'] == 0 and a['matched'] == 0 and a['active']
    assert b['id'] == 2 and b['api_key'] == 18
    with conn(broker) as c:
        assert metadata(c, ['nope'])['topics'][0]['error_code'] == 5
        assert metadata(c, ['nope'])['topics'][0]['error_code'] == UNKNOWN_TOPIC
    got = ctl.fault_get(1)
    assert (got['matched'], got['fired'], got['active']) == (2, 1, False)
    status, listed = ctl.get('/v1/faults')
    assert status == 200 and [r['id'] for r in listed['rules']] == [1, 2]
    assert ctl.delete('/v1/faults/1')[1]['id'] == 1
    assert ctl.delete('/v1/faults/1') == (404, {'error': 'not_found', 'detail': 'no fault rule 1'})
    assert ctl.get('/v1/faults/x')[0] == 404
    assert ctl.delete('/v1/faults') == (200, {'removed': 1})
    assert ctl.get('/v1/faults') == (200, {'rules': []})
    assert ctl.fault(api='Fetch', error=6)['id'] == 3  # ids are never reused


@pytest.mark.parametrize('rule, detail', [
    ({'error': 6}, 'field "api" is required'),
    ({'api': 'Prodcue', 'error': 6}, 'field "api": unknown API "Prodcue"'),
    ({'api': 'Produce', 'error': 'NOT_A_CODE'}, 'field "error": unknown Kafka error "NOT_A_CODE"'),
    ({'api': 'Produce', 'error': 0}, 'field "error": unknown Kafka error "0"'),
    ({'api': 'Produce'}, 'no action'),
    ({'api': 'Produce', 'error': 6, 'close': 'before'}, 'give at most one of'),
    ({'api': 'Produce', 'close': 'during'}, 'field "close" must be "before" or "after"'),
    ({'api': 'Produce', 'blackhole': True, 'delay_ms': 5}, '"delay_ms" and "throttle_time_ms" need a response'),
    ({'api': 'Produce', 'error': 6, 'once': True, 'times': 2}, 'give "once" or "times", not both'),
    ({'api': 'Produce', 'error': 6, 'probability': 1.5}, 'field "probability" must be a number from 0 to 1'),
    ({'api': 'Produce', 'error': 6, 'times': 0}, 'field "times" must be an integer'),
    ({'api': 'Produce', 'error': 6, 'partition': -1}, 'field "partition" must be an integer'),
    ({'api': 'Produce', 'error': 6, 'topic': ''}, 'field "topic" must be a non-empty string'),
    ({'api': 'Produce', 'delay_ms': 1.5}, 'field "delay_ms" must be an integer'),
])
def test_bad_rules_refused_whole(ctl, rule, detail):
    status, body = ctl.post('/v1/faults', rule)
    assert status == 400 and body['error'] == 'bad_rule'
    assert body['detail'].startswith(detail), body
    assert ctl.get('/v1/faults') == (200, {'rules': []})


def test_error_where_kafka_puts_it(broker, ctl):
    ctl.fault(api='ApiVersions', error='UNSUPPORTED_VERSION', once=True)
    ctl.fault(api='Metadata', error='TOPIC_AUTHORIZATION_FAILED', once=True)
    with conn(broker) as c:
        assert c.api_versions(3)['error_code'] == 35
        assert c.api_versions(3)['error_code'] == 0
        md = metadata(c, ['a', 'b'])
        assert [(t['name'], t['error_code']) for t in md['topics']] == [('a', 29), ('b', 29)]


def test_matches_version_client_topic_partition(broker, ctl):
    ctl.fault(api='Metadata', version=11, error='LEADER_NOT_AVAILABLE')
    ctl.fault(api='Metadata', client_id='victim', error='NOT_LEADER_OR_FOLLOWER')
    ctl.fault(api='Metadata', topic='only-this', error='INVALID_TOPIC_EXCEPTION')
    with conn(broker) as c:
        assert metadata(c, ['x'], version=11)['topics'][0]['error_code'] == 5
        assert metadata(c, ['x'], version=12)['topics'][0]['error_code'] == UNKNOWN_TOPIC
        assert metadata(c, ['x'], client_id='victim')['topics'][0]['error_code'] == NOT_LEADER
        assert metadata(c, ['only-this'])['topics'][0]['error_code'] == 17
        assert metadata(c, ['other'])['topics'][0]['error_code'] == UNKNOWN_TOPIC
    assert [r['fired'] for r in ctl.get('/v1/faults')[1]['rules']] == [1, 1, 1]


def test_triggers_after_and_times(broker, ctl):
    ctl.fault(api='Metadata', error='REQUEST_TIMED_OUT', after=2, times=2)
    with conn(broker) as c:
        codes = [metadata(c, ['x'])['topics'][0]['error_code'] for _ in range(6)]
    assert codes == [UNKNOWN_TOPIC, UNKNOWN_TOPIC, REQUEST_TIMED_OUT, REQUEST_TIMED_OUT, UNKNOWN_TOPIC,
                     UNKNOWN_TOPIC]
    rule = ctl.fault_get(1)
    assert (rule['matched'], rule['fired'], rule['active']) == (6, 2, False)


def test_probability_is_replayable(broker, ctl):
    def run():
        ctl.fault(api='Metadata', error='REQUEST_TIMED_OUT', probability=0.5, seed=1234)
        with conn(broker) as c:
            pattern = [metadata(c, ['x'])['topics'][0]['error_code'] == REQUEST_TIMED_OUT for _ in range(40)]
        ctl.clear_faults()
        return pattern

    first, second = run(), run()
    assert first == second
    assert 5 < sum(first) < 35


def test_duration(broker, ctl):
    ctl.fault(api='Metadata', error='REQUEST_TIMED_OUT', duration_ms=300)
    with conn(broker) as c:
        assert metadata(c, ['x'])['topics'][0]['error_code'] == REQUEST_TIMED_OUT
        time.sleep(0.4)  # past the deadline
        assert metadata(c, ['x'])['topics'][0]['error_code'] == UNKNOWN_TOPIC
    assert ctl.fault_get(1)['active'] is False


def test_delay_and_throttle(broker, ctl):
    ctl.fault(api='ApiVersions', delay_ms=400, throttle_time_ms=1234, once=True)
    with conn(broker) as c:
        start = time.monotonic()
        first = c.api_versions(3)
        assert time.monotonic() - start >= 0.4
        assert (first['error_code'], first['throttle_time_ms']) == (0, 1234)
        assert c.api_versions(3)['throttle_time_ms'] == 0


def test_delay_keeps_order(broker, ctl):
    ctl.fault(api='ApiVersions', delay_ms=300, once=True)
    with conn(broker) as c:
        first = c.send(API_VERSIONS, 0)
        second = c.send(API_METADATA, 12, metadata_request(12, ['x'], allow_auto_topic_creation=False))
        c.recv(API_VERSIONS, 0, first)  # the delayed answer still comes first
        assert decode_metadata(c.recv(API_METADATA, 12, second), 12)['topics'][0]['error_code'] == UNKNOWN_TOPIC


def test_close_before_and_after(broker, ctl):
    ctl.fault(api='Metadata', close='before', once=True)
    with conn(broker) as c:
        c.send(API_METADATA, 12, metadata_request(12, ['auto-a']))
        with pytest.raises(ConnectionClosed):
            c.recv_frame()
    # Not handled: the topic was not auto-created.
    assert ctl.get('/v1/topics/auto-a')[0] == 404
    ctl.fault(api='Metadata', close='after', once=True)
    with conn(broker) as c:
        md = decode_metadata(c.request(API_METADATA, 12, metadata_request(12, ['auto-b'])), 12)
        assert md['topics'][0]['error_code'] == 0  # handled and answered, then closed
        assert c.wait_closed()
    assert ctl.get('/v1/topics/auto-b')[0] == 200


def test_blackhole_holds_the_connection(broker, ctl):
    ctl.fault(api='ApiVersions', blackhole=True, once=True)
    with conn(broker, timeout=1.0) as c:
        c.send(API_VERSIONS, 3, api_versions_request(3))
        c.send(API_VERSIONS, 3, api_versions_request(3))
        assert not c.wait_closed(timeout=1.0)  # open, and silent
    with conn(broker) as c:
        assert c.api_versions(3)['error_code'] == 0  # other connections are served


def test_pause_and_resume(broker, ctl):
    with conn(broker) as c:
        assert c.api_versions(3)['error_code'] == 0
        status, state = ctl.post('/v1/broker/pause', {'duration_ms': 500})
        assert status == 200 and state['paused'] is True
        start = time.monotonic()
        assert c.api_versions(3)['error_code'] == 0  # answered once the pause ends
        assert time.monotonic() - start >= 0.45
    assert ctl.get('/v1/broker')[1]['paused'] is False
    ctl.post('/v1/broker/pause')  # no duration: until resumed
    with conn(broker, timeout=0.5) as c:
        c.send(API_VERSIONS, 3, api_versions_request(3))
        assert not c.wait_closed(timeout=0.5)
        assert ctl.post('/v1/broker/resume')[1]['paused'] is False
        c.sock.settimeout(5)
        c.recv_frame()


def test_refuse_connections(broker, ctl):
    with conn(broker) as kept:
        status, state = ctl.post('/v1/broker/refuse-connections')
        assert status == 200 and state['refusing_connections'] is True
        with conn(broker) as c:
            assert c.wait_closed(timeout=5.0)
        assert kept.api_versions(3)['error_code'] == 0  # open connections carry on
        ctl.post('/v1/broker/accept-connections')
        with conn(broker) as c:
            assert c.api_versions(3)['error_code'] == 0
    assert ctl.post('/v1/broker/refuse-connections', {'duration': 5})[1]['detail'] == 'unknown field "duration"'
