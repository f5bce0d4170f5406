"""A tiny Kafka wire-protocol client for the integration tests.

Real clients hide the bytes; these tests need to see them (exact header
layouts, error codes, what happens to malformed frames). This module frames
requests (4-byte size, request header v1 or v2), reads response frames, and
encodes/decodes only what the tests use: ApiVersions v0-v4 and Metadata v0-v13.
Field layouts follow Apache Kafka's message definitions (ApiVersions*.json,
Metadata*.json); every decoder insists that it consumed the whole frame, so a
stray or missing byte anywhere fails the test.
"""

import socket
import struct

API_METADATA = 3
API_VERSIONS = 18

# First flexible version of each API we speak (compact encodings, tagged fields).
FIRST_FLEXIBLE = {API_METADATA: 9, API_VERSIONS: 3}

ZERO_UUID = bytes(16)


class DecodeError(Exception):
    """The response bytes do not match the expected layout."""


class ConnectionClosed(Exception):
    """The broker closed the connection."""


def is_flexible(api_key, version):
    return version >= FIRST_FLEXIBLE.get(api_key, 1 << 15)


class Writer:
    """Appends Kafka primitives to a byte buffer."""

    def __init__(self):
        self.buf = bytearray()

    def raw(self, b):
        self.buf += b
        return self

    def i8(self, v):
        return self.raw(struct.pack('>b', v))

    def bool(self, v):
        return self.i8(1 if v else 0)

    def i16(self, v):
        return self.raw(struct.pack('>h', v))

    def i32(self, v):
        return self.raw(struct.pack('>i', v))

    def uvarint(self, v):
        while v >= 0x80:
            self.buf.append((v & 0x7F) | 0x80)
            v >>= 7
        self.buf.append(v)
        return self

    def uuid(self, b):
        assert len(b) == 16
        return self.raw(b)

    def string(self, s, compact=False):
        """A (nullable) string; None is written as null."""
        if s is None:
            return self.uvarint(0) if compact else self.i16(-1)
        data = s.encode()
        if compact:
            self.uvarint(len(data) + 1)
        else:
            self.i16(len(data))
        return self.raw(data)

    def array_len(self, n, compact=False):
        """An array count; None is a null array."""
        if n is None:
            return self.uvarint(0) if compact else self.i32(-1)
        return self.uvarint(n + 1) if compact else self.i32(n)

    def empty_tags(self):
        return self.uvarint(0)

    def bytes(self):
        return bytes(self.buf)


class Reader:
    """Reads Kafka primitives; any short read raises DecodeError."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError(f'need {n} bytes at offset {self.pos}, frame has {len(self.data)}')
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def i8(self):
        return struct.unpack('>b', self.take(1))[0]

    def bool(self):
        v = self.i8()
        if v not in (0, 1):
            raise DecodeError(f'bad boolean {v} at offset {self.pos - 1}')
        return v == 1

    def i16(self):
        return struct.unpack('>h', self.take(2))[0]

    def i32(self):
        return struct.unpack('>i', self.take(4))[0]

    def uvarint(self):
        v = 0
        for shift in range(0, 35, 7):
            b = self.take(1)[0]
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
        raise DecodeError('unsigned varint longer than 5 bytes')

    def uuid(self):
        return self.take(16)

    def string(self, compact=False, nullable=False):
        n = self.uvarint() - 1 if compact else self.i16()
        if n < 0:
            if not nullable:
                raise DecodeError(f'null in a non-nullable string before offset {self.pos}')
            return None
        return self.take(n).decode()

    def array(self, read_item, compact=False, nullable=False):
        n = self.uvarint() - 1 if compact else self.i32()
        if n < 0:
            if not nullable:
                raise DecodeError(f'null in a non-nullable array before offset {self.pos}')
            return None
        return [read_item() for _ in range(n)]

    def tags(self):
        """Skips a tagged-field section; returns {tag: raw bytes}."""
        out = {}
        for _ in range(self.uvarint()):
            tag = self.uvarint()
            out[tag] = self.take(self.uvarint())
        return out

    def left(self):
        return len(self.data) - self.pos

    def done(self):
        if self.left():
            raise DecodeError(f'{self.left()} trailing bytes at offset {self.pos}')


def request_header(api_key, version, correlation_id, client_id='skiff-it', flexible=None):
    """Request header v1 (v2 when `flexible`, default: the API's rule)."""
    if flexible is None:
        flexible = is_flexible(api_key, version)
    w = Writer().i16(api_key).i16(version).i32(correlation_id).string(client_id)
    if flexible:
        w.empty_tags()
    return w.bytes()


def frame(payload):
    """Prefixes `payload` with its 4-byte size."""
    return struct.pack('>i', len(payload)) + payload


def encode_request(api_key, version, correlation_id, body=b'', client_id='skiff-it', flexible=None):
    return frame(request_header(api_key, version, correlation_id, client_id, flexible) + body)


class Connection:
    """One TCP connection to the broker; a context manager."""

    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.next_correlation_id = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, api_key, version, body=b'', correlation_id=None, **header):
        """Sends one request; returns its correlation id."""
        if correlation_id is None:
            correlation_id = self.next_correlation_id
        self.next_correlation_id = correlation_id + 1
        self.send_raw(encode_request(api_key, version, correlation_id, body, **header))
        return correlation_id

    def _read_exact(self, n):
        out = bytearray()
        while len(out) < n:
            try:
                chunk = self.sock.recv(n - len(out))
            except ConnectionResetError as e:
                raise ConnectionClosed('connection reset by the broker') from e
            if not chunk:
                raise ConnectionClosed(f'connection closed after {len(out)} of {n} bytes')
            out += chunk
        return bytes(out)

    def recv_frame(self):
        """Reads one response frame (without its size prefix)."""
        (size,) = struct.unpack('>i', self._read_exact(4))
        if size < 4:
            raise DecodeError(f'response frame size {size}')
        return self._read_exact(size)

    def recv(self, api_key, version, correlation_id):
        """Reads one response, checks its header and returns a Reader on the body."""
        r = Reader(self.recv_frame())
        got = r.i32()
        if got != correlation_id:
            raise DecodeError(f'correlation id {got}, expected {correlation_id}')
        if is_flexible(api_key, version) and api_key != API_VERSIONS:
            if r.tags():
                raise DecodeError('unexpected tagged fields in the response header')
        return r

    def request(self, api_key, version, body=b'', **header):
        return self.recv(api_key, version, self.send(api_key, version, body, **header))

    def wait_closed(self, timeout=5.0):
        """True when the broker closes the connection within `timeout` seconds
        (any bytes it sends first are discarded); False if it stays open."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    # Typed helpers.
    def api_versions(self, version=3):
        return decode_api_versions(self.request(API_VERSIONS, version, api_versions_request(version)),
                                   version)

    def metadata(self, version, topics=None, **kw):
        return decode_metadata(self.request(API_METADATA, version, metadata_request(version, topics, **kw)),
                               version)


# ApiVersions (key 18).

def api_versions_request(version, software_name='skiff-it', software_version='1.0'):
    if version < 3:
        return b''
    w = Writer().string(software_name, compact=True).string(software_version, compact=True)
    return w.empty_tags().bytes()


def decode_api_versions(r, version):
    """Returns {'error_code', 'api_keys': {key: (min, max)}, 'throttle_time_ms', 'tags'}."""
    flex = version >= 3

    def api():
        key, lo, hi = r.i16(), r.i16(), r.i16()
        if flex:
            r.tags()
        return key, (lo, hi)

    out = {'error_code': r.i16()}
    keys = r.array(api, compact=flex)
    out['api_keys'] = dict(keys)
    if len(out['api_keys']) != len(keys):
        raise DecodeError('an api key is listed twice')
    out['throttle_time_ms'] = r.i32() if version >= 1 else None
    out['tags'] = r.tags() if flex else {}
    r.done()
    return out


# Metadata (key 3).

def metadata_request(version, topics=None, allow_auto_topic_creation=True, topic_ids=None,
                     include_topic_authorized_operations=False):
    """`topics`: None = all topics (v0: an empty array), else a list of names.
    `topic_ids` (v10+): a list of 16-byte ids to ask for by id (name null)."""
    flex = version >= 9
    entries = None
    if topics is not None or topic_ids is not None:
        entries = [(ZERO_UUID, name) for name in topics or []]
        entries += [(tid, None) for tid in topic_ids or []]
    w = Writer()
    if entries is None and version == 0:
        entries = []
    w.array_len(None if entries is None else len(entries), compact=flex)
    for tid, name in entries or []:
        if version >= 10:
            w.uuid(tid)
        w.string(name, compact=flex)
        if flex:
            w.empty_tags()
    if version >= 4:
        w.bool(allow_auto_topic_creation)
    if 8 <= version <= 10:
        w.bool(False)  # include_cluster_authorized_operations
    if version >= 8:
        w.bool(include_topic_authorized_operations)
    if flex:
        w.empty_tags()
    return w.bytes()


def decode_metadata(r, version):
    """Returns a dict with Kafka's field names in snake_case; fields absent
    from `version` are left out."""
    flex = version >= 9

    def int32():
        return r.i32()

    def broker():
        b = {'node_id': r.i32(), 'host': r.string(flex), 'port': r.i32()}
        if version >= 1:
            b['rack'] = r.string(flex, nullable=True)
        if flex:
            r.tags()
        return b

    def partition():
        p = {'error_code': r.i16(), 'partition_index': r.i32(), 'leader_id': r.i32()}
        if version >= 7:
            p['leader_epoch'] = r.i32()
        p['replica_nodes'] = r.array(int32, flex)
        p['isr_nodes'] = r.array(int32, flex)
        if version >= 5:
            p['offline_replicas'] = r.array(int32, flex)
        if flex:
            r.tags()
        return p

    def topic():
        t = {'error_code': r.i16(), 'name': r.string(flex, nullable=version >= 12)}
        if version >= 10:
            t['topic_id'] = r.uuid()
        if version >= 1:
            t['is_internal'] = r.bool()
        t['partitions'] = r.array(partition, flex)
        if version >= 8:
            t['topic_authorized_operations'] = r.i32()
        if flex:
            r.tags()
        return t

    out = {}
    if version >= 3:
        out['throttle_time_ms'] = r.i32()
    out['brokers'] = r.array(broker, flex)
    if version >= 2:
        out['cluster_id'] = r.string(flex, nullable=True)
    if version >= 1:
        out['controller_id'] = r.i32()
    out['topics'] = r.array(topic, flex)
    if 8 <= version <= 10:
        out['cluster_authorized_operations'] = r.i32()
    if version >= 13:
        out['error_code'] = r.i16()
    if flex:
        r.tags()
    r.done()
    return out
