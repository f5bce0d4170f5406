"""The OpenAPI document (docs/openapi.json, served at /openapi.json):
served as written; a well-formed OpenAPI 3.0 document (every $ref resolves,
every path parameter is declared, every operation has a 2xx answer); its
paths and methods are exactly the routes in src/http; and skiff's real
answers validate against its schemas (jsonschema, with OpenAPI's nullable
mapped to JSON Schema), while request bodies the server refuses for unknown
fields are refused by the schemas too."""

import json
import re
from pathlib import Path

import jsonschema
import pytest

from control import Control
from harness import REPO
from test_control_clients import produce_all
from test_groups import create_topic

DOC = json.loads((REPO / 'docs' / 'openapi.json').read_text())
METHODS = {'get', 'post', 'put', 'delete'}


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == '$ref':
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


def as_json_schema(node):
    """OpenAPI 3.0 schema -> JSON Schema: nullable: true adds the null type."""
    if isinstance(node, dict):
        out = {k: as_json_schema(v) for k, v in node.items() if k != 'nullable'}
        if node.get('nullable') and 'type' in out:
            out['type'] = [out['type'], 'null']
        return out
    if isinstance(node, list):
        return [as_json_schema(v) for v in node]
    return node


ROOT = as_json_schema(DOC)


def check(name, instance):
    schema = {'$ref': f'#/components/schemas/{name}'}
    jsonschema.Draft4Validator(schema, resolver=jsonschema.RefResolver.from_schema(ROOT)).validate(instance)


def test_served_as_written(broker):
    assert Control(broker.http_url).get('/openapi.json') == (200, DOC)


def test_well_formed():
    assert re.fullmatch(r'3\.0\.\d+', DOC['openapi'])
    assert DOC['info']['title'] and DOC['info']['version']
    for ref in refs(DOC):
        assert ref.startswith('#/components/schemas/')
        assert ref.rsplit('/', 1)[1] in DOC['components']['schemas'], ref
    for path, item in DOC['paths'].items():
        params = set(re.findall(r'\{(\w+)\}', path))
        for method, op in item.items():
            assert method in METHODS
            declared = {p['name'] for p in op.get('parameters', []) if p['in'] == 'path'}
            assert declared == params, (path, method)
            assert any(code.startswith('2') for code in op['responses']), (path, method)
            assert op['summary'] and op['tags']
    jsonschema.Draft4Validator.check_schema(ROOT['components']['schemas']['FaultRuleSpec'])


def test_paths_are_the_routes():
    routes = set()
    for f in (REPO / 'src' / 'http').glob('*.c'):
        for method, pattern in re.findall(r'\{EVHTTP_REQ_(GET|POST|PUT|DELETE), "([^"]+)"', f.read_text()):
            routes.add((method.lower(), pattern))
    documented = set()
    for path, item in DOC['paths'].items():
        for method in item:
            documented.add((method, re.sub(r'\{\w+\}', '{}', path)))
    assert documented == routes


def test_answers_match_the_schemas(broker):
    ctl = Control(broker.http_url)
    check('Health', ctl.get('/healthz')[1])
    check('Ready', ctl.get('/readyz')[1])
    check('BrokerState', ctl.get('/v1/broker')[1])
    rule = ctl.fault(api='Metadata', error='LEADER_NOT_AVAILABLE', times=2, topic='x', delay_ms=5)
    check('FaultRule', rule)
    check('FaultRules', ctl.get('/v1/faults')[1])
    check('Capture', ctl.post('/v1/capture', {'capacity': 10})[1])
    create_topic(broker.bootstrap, 'oa', 1)
    produce_all(broker.bootstrap, 'oa', 2, 1)
    check('Capture', ctl.get('/v1/capture')[1])
    check('TopicState', ctl.get('/v1/topics/oa')[1])
    check('WaitMet', ctl.post('/v1/waits/partition', {'topic': 'oa', 'partition': 0, 'high_watermark': 2})[1])
    status, timeout = ctl.post('/v1/waits/group', {'group_id': 'g', 'timeout_ms': 0})
    assert status == 408
    check('Error', timeout)
    check('GroupState', timeout['state'])
    check('Retention', ctl.post('/v1/log/retention')[1])
    check('Removed', ctl.delete('/v1/faults')[1])
    check('Error', ctl.get('/v1/transactions/none')[1])


@pytest.mark.parametrize('schema, path, body', [
    ('FaultRuleSpec', '/v1/faults', {'api': 'Produce', 'error': 6, 'tiems': 1}),
    ('GroupWait', '/v1/waits/group', {'group_id': 'g', 'member': 1}),
    ('CaptureSettings', '/v1/capture', {'size': 3}),
    ('TimedFault', '/v1/broker/pause', {'ms': 3}),
])
def test_unknown_fields_refused_by_both(broker, schema, path, body):
    with pytest.raises(jsonschema.ValidationError):
        check(schema, body)
    status, err = Control(broker.http_url).post(path, body)
    assert status == 400 and err['detail'].startswith('unknown field')
