"""The differential engine: one Side per broker (skiff, Apache Kafka) sends
the same requests through the same raw client (integration/kfs.py over
kafka_wire), and compare() tells where the decoded answers differ.

Before comparing, each answer is normalized by the allow-list below, the only
fields allowed to differ between the two brokers (docs/compatibility.md):

- throttle_time_ms: dropped (quota state, not protocol behaviour);
- cluster_id: '<cluster>' (each broker has its own);
- host and port equal to the broker's own listener: '<host>', '<port>';
- UUIDs: a topic id becomes '<id of TOPIC>' (each broker gives its topics
  their own ids; the mapping itself is checked), any other non-zero UUID '<uuid>';
- wall-clock times (transaction_start_time_ms): '<time>'; log directory
  paths (log_dir): '<log dir>';
- member ids and producer ids a broker generated: '<member N>', '<producer N>'
  in order of first appearance (their format is the broker's own);
- arrays: compared as sets (sorted), since Kafka's own order of topics,
  partitions, groups, configs... is a map's order, which clients do not rely on;
- error_message: compared, but a difference in the message alone is reported
  as "message", not as a failure (clients branch on codes, show messages).
"""

import json
import re

import kfs
from kafka_wire import ConnectionClosed, Connection, DecodeError

UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
ZERO_UUID = '00000000-0000-0000-0000-000000000000'
DROPPED = {'throttle_time_ms'}
MEMBER_FIELDS = {'member_id', 'leader'}
PRODUCER_FIELDS = {'producer_id'}
SOFT = {'error_message'}
TIMES = {'transaction_start_time_ms'}


class Side:
    """One broker under test: its connection, the topic ids it gave, the
    placeholders of the ids it generated, and scenario state."""

    def __init__(self, name, host, port):
        self.name, self.host, self.port = name, host, port
        self.conn = Connection(host, port, timeout=30.0)
        self.topic_ids = {}          # topic name -> uuid string
        self.labels = {}             # (kind, value) -> placeholder
        self.counts = {}             # kind -> how many placeholders so far
        self.state = {}              # scenario state (member ids, producer ids...)

    def reconnect(self):
        self.conn.close()
        self.conn = Connection(self.host, self.port, timeout=30.0)

    def call(self, api, version, body):
        """The decoded answer, or {'_closed': True} when the broker closed the
        connection (then reconnects)."""
        try:
            return kfs.call(self.conn, api, version, body)
        except (ConnectionClosed, ConnectionResetError, BrokenPipeError):
            self.reconnect()
            return {'_closed': True}

    def label(self, kind, value):
        key = (kind, value)
        if key not in self.labels:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.labels[key] = f'<{kind} {self.counts[kind]}>'
        return self.labels[key]

    def topic_id(self, name):
        """This broker's id of topic `name` (learnt with Metadata v12)."""
        if name not in self.topic_ids:
            r = kfs.call(self.conn, 3, 12, {'topics': [{'name': name}], 'allow_auto_topic_creation': False})
            for t in r['topics']:
                if t['error_code'] == 0:
                    self.topic_ids[t['name']] = t['topic_id']
        return self.topic_ids.get(name, ZERO_UUID)


def normalize(side, value, key=None):
    if isinstance(value, dict):
        return {k: normalize(side, v, k) for k, v in value.items() if k not in DROPPED}
    if isinstance(value, list):
        items = [normalize(side, v, key) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=repr))
    if key == 'cluster_id' and value is not None:
        return '<cluster>'
    if key in TIMES and isinstance(value, int) and value > 0:
        return '<time>'
    if key == 'log_dir':
        return '<log dir>'
    if key == 'host' and value == side.host:
        return '<host>'
    if key == 'port' and value == side.port:
        return '<port>'
    if isinstance(value, str) and UUID_RE.match(value) and value != ZERO_UUID:
        for name, tid in side.topic_ids.items():
            if tid == value:
                return f'<id of {name}>'
        return '<uuid>'
    if key in MEMBER_FIELDS and isinstance(value, str) and value:
        return side.label('member', value)
    if key in PRODUCER_FIELDS and isinstance(value, int) and value >= 0:
        return side.label('producer', value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def compare(a, b, path=''):
    """Differences between two normalized answers: [(path, a, b, soft)]."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            p = f'{path}{k}' if str(k).startswith('[') else f'{path}.{k}' if path else str(k)
            if k not in a or k not in b:
                out.append((p, a.get(k, '<absent>'), b.get(k, '<absent>'), False))
            else:
                out += compare(a[k], b[k], p)
        return out
    if isinstance(a, list) and isinstance(b, list):
        key = _id_key(a, b)
        if key:
            return compare({f'[{key}={x[key]}]': x for x in a}, {f'[{key}={y[key]}]': y for y in b}, path)
        if len(a) == len(b):
            out = []
            for i, (x, y) in enumerate(zip(a, b)):
                out += compare(x, y, f'{path}[{i}]')
            return out
    if a != b:
        return [(path, a, b, path.rsplit('.', 1)[-1] in SOFT)]
    return []


ID_KEYS = ('name', 'topic', 'partition_index', 'partition', 'group_id', 'api_key', 'transactional_id', 'key',
           'node_id', 'broker_id', 'resource_name')


def _id_key(a, b):
    """The field that identifies each element of two arrays of structs, unique
    within each (the arrays are then compared as maps), or None."""
    items = a + b
    if not items or not all(isinstance(x, dict) for x in items):
        return None
    for k in ID_KEYS:
        if all(k in x for x in items) and all(len({repr(x[k]) for x in arr}) == len(arr) for arr in (a, b)):
            return k
    return None


def decode_error(e):
    return {'_decode_error': str(e)}


__all__ = ['Side', 'normalize', 'compare', 'decode_error', 'DecodeError', 'ZERO_UUID']
