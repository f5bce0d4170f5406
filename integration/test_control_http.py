"""The HTTP control plane itself: health and readiness, the JSON error
shape, unknown fields, body limits, routing errors, and the listener
settings (skiff.http.listeners: empty turns it off; a configured address
that is taken stops start-up; the default address only warns)."""

import json
import socket

from control import Control
from harness import run_skiff


def test_health_and_ready(broker):
    c = Control(broker.http_url)
    assert c.get('/healthz') == (200, {'status': 'ok'})
    status, body = c.get('/readyz')
    assert status == 200
    assert body == {'ready': True, 'listening': True, 'stores_loaded': True, 'stopping': False}
    status, body = c.get('/v1/broker')
    assert status == 200
    assert body['node_id'] == 1 and body['paused'] is False and body['refusing_connections'] is False
    assert body['connections'] == 0


def test_errors_have_one_shape(broker):
    c = Control(broker.http_url)
    assert c.get('/nope') == (404, {'error': 'not_found', 'detail': 'no endpoint /nope (see GET /openapi.json)'})
    assert c.request('PUT', '/healthz') == (405, {'error': 'method_not_allowed',
                                                  'detail': '/healthz takes GET, HEAD'})
    assert c.post('/v1/faults', raw=b'{"api": "Produce",') == (
        400, {'error': 'bad_request', 'detail': 'the body must be one JSON object'})
    assert c.post('/v1/faults', raw=b'[1, 2]')[0] == 400
    assert c.post('/v1/faults', raw=b'{"api": "Produce"} {}')[0] == 400
    status, body = c.post('/v1/faults', {'api': 'Produce', 'error': 'NOT_LEADER_OR_FOLLOWER', 'tiems': 3})
    assert (status, body) == (400, {'error': 'bad_rule', 'detail': 'unknown field "tiems"'})
    status, body = c.post('/v1/waits/group', {'group_id': 'g', 'state': 'Stable', 'member': 3})
    assert (status, body) == (400, {'error': 'bad_request', 'detail': 'unknown field "member"'})
    # Nothing was added by the refused rules.
    assert c.get('/v1/faults') == (200, {'rules': []})


def test_body_limit(broker):
    c = Control(broker.http_url)
    big = json.dumps({'api': 'Produce', 'client_id': 'x' * (70 * 1024), 'error': 6}).encode()
    status, _ = c.post('/v1/faults', raw=big)
    assert status == 413
    assert c.get('/v1/faults') == (200, {'rules': []})
    assert c.get('/healthz')[0] == 200


def test_openapi_served(broker):
    status, body = Control(broker.http_url).get('/openapi.json')
    assert status == 200
    assert body['openapi'].startswith('3.')


def test_http_off_when_empty(start_broker):
    b = start_broker(config={'skiff.http.listeners': ''})
    assert b.http_url is None
    assert 'http control plane' not in b.run_log


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    return s, s.getsockname()[1]


def test_configured_address_taken_stops_start_up(tmp_path):
    holder, port = free_port()
    holder.listen(1)
    try:
        res = run_skiff('--listeners', 'PLAINTEXT://127.0.0.1:0', '--log.dirs', tmp_path,
                        '--skiff.http.listeners', f'http://127.0.0.1:{port}')
    finally:
        holder.close()
    assert res.returncode == 1
    assert f'cannot listen on http://127.0.0.1:{port} (skiff.http.listeners): Address already in use' in res.stderr


def test_bad_address_is_a_config_error(tmp_path):
    res = run_skiff('--log.dirs', tmp_path, '--skiff.http.listeners', 'ftp://127.0.0.1:1')
    assert res.returncode == 2
    assert 'skiff.http.listeners' in res.stderr and 'expected http://host:port' in res.stderr


def test_default_address_taken_only_warns(start_broker):
    # Hold 9644 on every address localhost has (skiff binds the first); one
    # that someone else holds already makes the same situation.
    holders = []
    for family, kind, proto, _, addr in socket.getaddrinfo('localhost', 9644, type=socket.SOCK_STREAM):
        s = socket.socket(family, kind, proto)
        try:
            s.bind(addr)
            s.listen(1)
            holders.append(s)
        except OSError:
            s.close()
    try:
        b = start_broker(config={'skiff.http.listeners': 'http://localhost:9644'})
        assert b.http_url is None
        assert 'running without the HTTP control plane' in b.run_log
    finally:
        for s in holders:
            s.close()


def test_bearer_token(start_broker):
    b = start_broker(config={'skiff.http.token': 's3cret'})
    assert Control(b.http_url).get('/v1/faults') == (
        401, {'error': 'unauthorized', 'detail': 'this skiff requires Authorization: Bearer <skiff.http.token>'})
    assert Control(b.http_url, token='wrong').get('/v1/broker')[0] == 401
    assert Control(b.http_url).get('/healthz') == (200, {'status': 'ok'})
    assert Control(b.http_url).get('/readyz')[0] == 200
    assert Control(b.http_url, token='s3cret').get('/v1/faults') == (200, {'rules': []})


def test_malformed_http_keeps_serving(broker):
    host, port = broker.http_url[len('http://'):].rsplit(':', 1)
    bad = [b'GARBAGE\r\n\r\n', b'GET /healthz HTTP/9.9\r\n\r\n',
           b'GET /healthz HTTP/1.1\r\nHost: x\r\nX: ' + b'a' * 20000 + b'\r\n\r\n',
           b'POST /v1/faults HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
           b'POST /v1/faults HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
           b'\x00\xff' * 100]
    for raw in bad:
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
    c = Control(broker.http_url)
    assert c.get('/healthz') == (200, {'status': 'ok'})
    assert c.get('/v1/faults') == (200, {'rules': []})
