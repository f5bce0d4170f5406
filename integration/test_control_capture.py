"""Request capture through the HTTP control plane: the versions each real
client uses and what it sent (librdkafka 2.0.2's OffsetCommit v7 carrying the
committed offset, kafkajs's and kafka-python 2.0.2's Produce v7; the newer
versions of the PyPI run), the bounded
ring, filters (API, client id, since, limit), API selection, bodies off,
clear and stop, and the error codes of answers (injected ones included)."""

import time

from client_versions import KAFKA_PYTHON, LIBRDKAFKA
from confluent_kafka import Consumer
from kafka import KafkaProducer

from control import Control
from kafka_wire import Connection, metadata_request
from test_control_clients import produce_all
from test_control_faults import metadata
from test_groups import create_topic
from test_produce_fetch import TIMEOUT
from test_produce_fetch_kafkajs import run_kafkajs


def versions(entries):
    out = {}
    for e in entries:
        out.setdefault((e['client_id'], e['api']), set()).add(e['api_version'])
    return out


# The versions each client library sends (client_versions.py names the run's).
RDK_VERSIONS = {'debian': {'OffsetCommit': 7, 'JoinGroup': 5, 'Fetch': 11},
                'pypi': {'OffsetCommit': 9, 'JoinGroup': 5, 'Fetch': 16}}
KAFKA_PYTHON_PRODUCE = {'debian': 7, 'pypi': 9}


def test_client_versions_and_commit_contents(broker):
    ctl = Control(broker.http_url)
    assert ctl.post('/v1/capture')[1] == {'enabled': True, 'capacity': 1000, 'entries': []}
    create_topic(broker.bootstrap, 'cap', 1)
    produce_all(broker.bootstrap, 'cap', 3, 1)
    run_kafkajs(broker.bootstrap, [{'op': 'send', 'topic': 'cap', 'messages': [
        {'key': None, 'value': 'YQ==', 'partition': 0, 'timestamp': None, 'headers': None}]}])
    kp = KafkaProducer(bootstrap_servers=broker.bootstrap, client_id='kafka-python')
    kp.send('cap', b'x', partition=0).get(TIMEOUT)
    kp.close()
    c = Consumer({'bootstrap.servers': broker.bootstrap, 'group.id': 'cap-g', 'auto.offset.reset': 'earliest',
                  'enable.auto.commit': False, 'client.id': 'rdk'})
    try:
        c.subscribe(['cap'])
        n, deadline = 0, time.monotonic() + TIMEOUT
        while n < 5 and time.monotonic() < deadline:
            m = c.poll(0.2)
            n += m is not None and m.error() is None
        c.commit(asynchronous=False)
    finally:
        c.close()
    status, body = ctl.get('/v1/capture')
    assert status == 200
    seen = versions(body['entries'])
    rdk = RDK_VERSIONS[LIBRDKAFKA]
    assert {api: seen[('rdk', api)] for api in rdk} == {api: {v} for api, v in rdk.items()}
    assert seen[('skiff-it-kafkajs', 'Produce')] == {7}
    assert seen[('kafka-python', 'Produce')] == {KAFKA_PYTHON_PRODUCE[KAFKA_PYTHON]}
    status, body = ctl.get('/v1/capture?api=OffsetCommit&client_id=rdk')
    [commit] = body['entries']
    assert commit['request']['group_id'] == 'cap-g'
    [topic] = commit['request']['topics']
    assert topic['name'] == 'cap' and [p['committed_offset'] for p in topic['partitions']] == [5]
    assert commit['response']['topics'][0]['partitions'][0]['error_code'] == 0
    assert commit['outcome'] == 'response' and commit['error_codes'] == []
    assert commit['arrival_ms'] <= commit['response_ms']


def test_ring_filters_and_settings(broker):
    ctl = Control(broker.http_url)
    assert ctl.post('/v1/capture', {'capacity': 3, 'apis': ['Metadata'], 'bodies': False})[0] == 200
    with Connection(broker.host, broker.port) as c:
        c.api_versions(3)
        for i in range(5):
            metadata(c, [f't{i}'], client_id=f'c{i % 2}')
    entries = ctl.get('/v1/capture')[1]['entries']
    assert [e['api'] for e in entries] == ['Metadata'] * 3  # ApiVersions not selected; oldest two dropped
    assert [e['correlation_id'] for e in entries] == [4, 5, 6]
    assert all('request' not in e and 'response' not in e for e in entries)
    assert [e['error_codes'] for e in entries] == [[3]] * 3  # UNKNOWN_TOPIC_OR_PARTITION
    first = entries[0]['id']
    assert [e['client_id'] for e in ctl.get('/v1/capture?client_id=c0')[1]['entries']] == ['c0', 'c0']
    assert [e['id'] for e in ctl.get(f'/v1/capture?since={first}')[1]['entries']] == [first + 1, first + 2]
    assert len(ctl.get('/v1/capture?limit=1')[1]['entries']) == 1
    assert ctl.get('/v1/capture?api=Nope')[0] == 400
    assert ctl.get('/v1/capture?limit=0')[0] == 400
    assert ctl.delete('/v1/capture')[1]['entries'] == []
    assert ctl.post('/v1/capture/stop')[1]['enabled'] is False
    with Connection(broker.host, broker.port) as c:
        metadata(c, ['after-stop'])
    assert ctl.get('/v1/capture')[1]['entries'] == []
    assert ctl.post('/v1/capture', {'apis': ['Nope']}) == (
        400, {'error': 'bad_request', 'detail': 'field "apis": unknown API "Nope"'})


def test_injected_errors_and_closes_are_captured(broker):
    ctl = Control(broker.http_url)
    ctl.post('/v1/capture', {'apis': ['Metadata']})
    ctl.fault(api='Metadata', error='LEADER_NOT_AVAILABLE', once=True)
    ctl.fault(api='Metadata', close='before', once=True)
    with Connection(broker.host, broker.port) as c:
        metadata(c, ['x'])
        c.send(3, 12, metadata_request(12, ['y']))
        assert c.wait_closed()
    entries = ctl.get('/v1/capture')[1]['entries']
    assert [(e['outcome'], e['error_codes']) for e in entries] == [('response', [5]), ('no response', [])]
    assert entries[1]['request']['topics'][0]['name'] == 'y' and 'response' not in entries[1]
    assert [r['fired'] for r in ctl.get('/v1/faults')[1]['rules']] == [1, 1]
