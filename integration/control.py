"""A small client of skiff's HTTP control plane for the integration tests
(urllib only): faults, waits, capture, state. Every call returns
(status, parsed JSON body)."""

import json
import urllib.error
import urllib.request


class Control:
    def __init__(self, url, token=None):
        assert url, 'the broker has no HTTP control plane'
        self.url = url.rstrip('/')
        self.token = token

    def request(self, method, path, body=None, raw=None, timeout=60):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header('Content-Type', 'application/json')
        if self.token:
            req.add_header('Authorization', f'Bearer {self.token}')
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                text = resp.read().decode()
                status = resp.status
                ctype = resp.headers.get('Content-Type', '')
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors='replace')
            status = e.code
            ctype = e.headers.get('Content-Type', '')
        return status, (json.loads(text) if 'json' in ctype and text else text)

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, body=None, **kw):
        return self.request('POST', path, body if body is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.request('DELETE', path, **kw)

    # Faults.
    def fault(self, **rule):
        status, body = self.post('/v1/faults', rule)
        assert status == 201, (status, body)
        return body

    def fault_get(self, rule_id):
        status, body = self.get(f'/v1/faults/{rule_id}')
        assert status == 200, (status, body)
        return body

    def clear_faults(self):
        return self.delete('/v1/faults')

    # Waits: the body of a met condition; AssertionError with the state otherwise.
    def wait(self, kind, timeout_ms=30000, **cond):
        status, body = self.post(f'/v1/waits/{kind}', dict(cond, timeout_ms=timeout_ms),
                                 timeout=timeout_ms / 1000 + 30)
        assert status == 200, (status, body)
        return body['state']
