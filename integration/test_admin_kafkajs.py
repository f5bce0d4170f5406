"""Topic administration through kafkajs 2.2.4's admin client (CreateTopics
v3, DeleteTopics v1, CreatePartitions v1, DescribeConfigs v2, AlterConfigs
v1, DeleteRecords v1, Metadata v6), run with node from integration/js/admin.js:
createTopics, fetchTopicMetadata, describeConfigs, alterConfigs,
createPartitions, deleteTopicRecords, fetchTopicOffsets, describeCluster,
deleteTopics, and the errors kafkajs reports with Kafka's types.

integration/js/node_modules must hold the pinned kafkajs: `npm ci` in
integration/js (scripts/test.sh runs it)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).resolve().parent / 'js'
TOPIC, BROKER = 2, 4


def run_admin(broker, steps):
    if not (JS_DIR / 'node_modules' / 'kafkajs').is_dir():
        pytest.fail('kafkajs is not installed: run `npm ci` in integration/js (scripts/test.sh does)')
    res = subprocess.run(['node', str(JS_DIR / 'admin.js')],
                         input=json.dumps({'brokers': [broker.bootstrap], 'steps': steps}),
                         capture_output=True, text=True, timeout=120, env=dict(os.environ), cwd=JS_DIR)
    assert res.returncode == 0, f'admin.js exited {res.returncode}:\n{res.stderr}'
    return json.loads(res.stdout)['results']


def user_topics(names):
    return sorted(n for n in names if not n.startswith('__'))


def step(op, **args):
    return {'op': op, 'args': args}


def error_types(result):
    """The Kafka error types of a failed step (nested errors flattened)."""
    err = result['error']
    if err.get('errors'):
        return sorted(e['type'] for e in err['errors'])
    while err.get('cause'):
        err = err['cause']
    return [err['type']]


def test_admin_round_trip(broker):
    results = run_admin(broker, [
        step('createTopics', topics=[{'topic': 'js1', 'numPartitions': 2,
                                      'configEntries': [{'name': 'retention.ms', 'value': '120000'}]},
                                     {'topic': 'js2'}]),
        step('createTopics', topics=[{'topic': 'js1', 'numPartitions': 2}]),
        step('fetchTopicMetadata', topics=['js1', 'js2']),
        step('describeConfigs', includeSynonyms=True,
             resources=[{'type': TOPIC, 'name': 'js1', 'configNames': ['retention.ms', 'cleanup.policy']}]),
        step('alterConfigs', resources=[{'type': TOPIC, 'name': 'js1',
                                         'configEntries': [{'name': 'retention.ms', 'value': '60000'}]}]),
        step('describeConfigs', resources=[{'type': TOPIC, 'name': 'js1', 'configNames': ['retention.ms']}]),
        step('createPartitions', topicPartitions=[{'topic': 'js1', 'count': 3}]),
        step('produce', topic='js1', messages=[{'value': 'a', 'partition': 0}, {'value': 'b', 'partition': 0},
                                               {'value': 'c', 'partition': 0}]),
        step('deleteTopicRecords', topic='js1', partitions=[{'partition': 0, 'offset': '2'}]),
        step('describeCluster'),
        step('deleteTopics', topics=['js2']),
        step('listTopics'),
    ])
    assert results[0] == {'ok': True}
    assert results[1] == {'ok': False}  # kafkajs: TOPIC_ALREADY_EXISTS only
    md = {t['name']: len(t['partitions']) for t in results[2]['ok']['topics']}
    assert md == {'js1': 2, 'js2': 1}
    (res,) = results[3]['ok']['resources']
    assert res['errorCode'] == 0
    entries = {e['configName']: e for e in res['configEntries']}
    assert (entries['retention.ms']['configValue'], entries['retention.ms']['configSource']) == ('120000', 1)
    assert entries['retention.ms']['configSynonyms'] == [
        {'configName': 'retention.ms', 'configValue': '120000', 'configSource': 1}]
    assert (entries['cleanup.policy']['configValue'], entries['cleanup.policy']['isDefault']) == ('delete', True)
    assert results[4]['ok']['resources'][0]['errorCode'] == 0
    assert results[5]['ok']['resources'][0]['configEntries'][0]['configValue'] == '60000'
    assert results[6] == {'ok': None}
    assert 'ok' in results[7]
    assert results[8] == {'ok': None}
    cluster = results[9]['ok']
    assert (cluster['controller'], [b['nodeId'] for b in cluster['brokers']]) == (1, [1])
    assert results[10] == {'ok': None}
    assert user_topics(results[11]['ok']) == ['js1']

    (offsets,) = run_admin(broker, [{'op': 'fetchTopicOffsets', 'args': 'js1'}])
    by_partition = {o['partition']: (o['low'], o['high']) for o in offsets['ok']}
    assert by_partition == {0: ('2', '3'), 1: ('0', '0'), 2: ('0', '0')}


def test_admin_errors(broker):
    results = run_admin(broker, [
        step('createTopics', topics=[{'topic': 'bad name'}]),
        step('createTopics', topics=[{'topic': 'rf', 'replicationFactor': 3}]),
        step('createTopics', topics=[{'topic': 'cfg', 'configEntries': [{'name': 'flush.ms', 'value': '-1'}]}]),
        step('createTopics', topics=[{'topic': 'ok', 'numPartitions': 2}]),
        step('createPartitions', topicPartitions=[{'topic': 'ok', 'count': 1}]),
        step('alterConfigs', resources=[{'type': TOPIC, 'name': 'ok',
                                         'configEntries': [{'name': 'cleanup.policy', 'value': 'compact,nope'}]}]),
        step('alterConfigs', resources=[{'type': BROKER, 'name': '1',
                                         'configEntries': [{'name': 'num.partitions', 'value': '1'}]}]),
        step('produce', topic='ok', messages=[{'value': 'x', 'partition': 0}]),
        step('deleteTopicRecords', topic='ok', partitions=[{'partition': 0, 'offset': '5'}]),
        step('deleteTopics', topics=['never-created']),
        step('createTopics', validateOnly=True, waitForLeaders=False, topics=[{'topic': 'dry'}]),
        step('listTopics'),
    ])
    assert error_types(results[0]) == ['INVALID_TOPIC_EXCEPTION']
    assert error_types(results[1]) == ['INVALID_REPLICATION_FACTOR']
    assert error_types(results[2]) == ['INVALID_CONFIG']
    assert results[3] == {'ok': True}
    assert error_types(results[4]) == ['INVALID_PARTITIONS']
    assert error_types(results[5]) == ['INVALID_CONFIG']
    assert error_types(results[6]) == ['INVALID_REQUEST']
    assert 'ok' in results[7]
    assert 'error' in results[8]
    assert error_types(results[9]) == ['UNKNOWN_TOPIC_OR_PARTITION']
    assert results[10] == {'ok': True}
    assert user_topics(results[11]['ok']) == ['ok']
