"""A Python reader of skiff's protocol schema files (src/proto/schema/*.kfs,
described in their README.md): every API's request and response encoded from
and decoded into plain dicts, field by field, so tests can talk to skiff and to
Apache Kafka through the same raw client (integration/kafka_wire.py frames the
bytes) and compare the answers.

    apis = kfs.load()                        # {api_key: Api}
    body = apis[3].encode_request(12, {'topics': [{'name': 'x'}]})
    resp = apis[3].decode_response(12, reader_bytes)

Encoding fills every field a version has from the dict or, when absent, from
the field's default. Decoding returns every field the version has, tagged
fields included (absent tagged fields get their default); unknown tags are kept
as {'_unknown_tags': {tag: bytes}}. Record data (`records`) stays bytes.
"""

import os
import re
import struct
import uuid as uuidlib

from kafka_wire import Reader, Writer

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'proto', 'schema')

PRIMITIVES = {'bool', 'int8', 'int16', 'int32', 'int64', 'uint16', 'uint32', 'float64',
              'uuid', 'string', 'bytes', 'records'}
FIXED = {'bool': '>?', 'int8': '>b', 'int16': '>h', 'int32': '>i', 'int64': '>q',
         'uint16': '>H', 'uint32': '>I', 'float64': '>d'}
ZERO_UUID = '00000000-0000-0000-0000-000000000000'


class SchemaError(Exception):
    pass


def _range(text):
    """'3+' -> (3, None); '0-2' -> (0, 2); '4' -> (4, 4)."""
    m = re.fullmatch(r'(\d+)(\+|-(\d+))?', text)
    if not m:
        raise SchemaError(f'bad version range {text!r}')
    lo = int(m.group(1))
    if m.group(2) == '+':
        return lo, None
    return lo, int(m.group(3)) if m.group(3) else lo


def _in(rng, v):
    return rng is not None and v >= rng[0] and (rng[1] is None or v <= rng[1])


class Field:
    """One schema field: name, kind ('prim', 'array', 'struct'), elem (the
    primitive type name, or the struct's field list), versions, nullable,
    tag and default (already a Python value)."""

    def __init__(self, name, type_text, versions, nullable, tag, default):
        self.name = name
        self.versions = versions
        self.nullable = nullable
        self.tag = tag
        self.type_text = type_text
        self.default_text = default
        self.fields = None              # struct fields (filled by the parser)
        if type_text.startswith('[]'):
            self.kind, self.elem = 'array', type_text[2:]
        elif type_text.startswith('{'):
            self.kind, self.elem = 'struct', type_text[1:-1]
        else:
            if type_text not in PRIMITIVES:
                raise SchemaError(f'unknown type {type_text}')
            self.kind, self.elem = 'prim', type_text

    def struct_array(self):
        return self.kind == 'array' and self.elem not in PRIMITIVES

    def default(self, version):
        d = self.default_text
        if d == 'null':
            return None
        if self.kind == 'array':
            return []
        if self.kind == 'struct':
            return defaults(self.fields, version)
        t = self.elem
        if d is None:
            return {'bool': False, 'uuid': ZERO_UUID, 'string': '', 'bytes': b'',
                    'records': b'', 'float64': 0.0}.get(t, 0)
        if t == 'bool':
            return d == 'true'
        if t == 'string':
            return ''
        if t == 'float64':
            return float(d)
        return int(d)


def defaults(fields, version):
    return {f.name: f.default(version) for f in fields if _in(f.versions, version)}


class Api:
    def __init__(self, key, name, versions, flexible):
        self.key, self.name, self.versions, self.flexible = key, name, versions, flexible
        self.request = []
        self.response = []

    def is_flexible(self, version):
        return self.flexible is not None and version >= self.flexible

    def encode_request(self, version, value):
        w = Writer()
        _encode_struct(w, self.request, value or {}, version, self.is_flexible(version))
        return bytes(w.buf)

    def decode_response(self, version, data):
        return self._decode(self.response, version, data)

    def decode_request(self, version, data):
        return self._decode(self.request, version, data)

    def _decode(self, fields, version, data):
        r = Reader(data)
        out = _decode_struct(r, fields, version, self.is_flexible(version))
        if r.pos != len(r.data):
            raise SchemaError(f'{self.name} v{version}: {len(r.data) - r.pos} trailing bytes')
        return out


def parse(path):
    """Parses one .kfs file into an Api."""
    api = None
    section = None
    stack = []              # (indent, field list)
    structs = {}            # per message: struct name -> field list
    with open(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.split('#', 1)[0].rstrip()
            if not line.strip():
                continue
            indent = len(line) - len(line.lstrip(' '))
            words = line.split()
            if words[0] == 'api':
                lo, hi = _range(words[4])
                flex = None if words[6] == 'none' else int(words[6].rstrip('+'))
                api = Api(int(words[1]), words[2], (lo, hi), flex)
                continue
            if indent == 0 and words[0] in ('request', 'response'):
                section = getattr(api, words[0])
                stack = [(0, section)]
                structs = {}
                continue
            name, type_text, versions = words[0], words[1], _range(words[2])
            opts = dict(zip(words[3::2], words[4::2]))
            fld = Field(name, type_text, versions,
                        _range(opts['nullable']) if 'nullable' in opts else None,
                        int(opts['tag']) if 'tag' in opts else None,
                        opts.get('default'))
            while stack and indent <= stack[-1][0]:
                stack.pop()
            if not stack:
                raise SchemaError(f'{path}:{lineno}: bad indentation')
            stack[-1][1].append(fld)
            if fld.kind == 'struct' or fld.struct_array():
                if fld.elem in structs:
                    fld.fields = structs[fld.elem]
                    stack.append((indent, []))   # a repeated definition is identical: ignore it
                else:
                    fld.fields = structs[fld.elem] = []
                    stack.append((indent, fld.fields))
    return api


def load(schema_dir=SCHEMA_DIR):
    """Every API of the schema directory: {api_key: Api} (the record_*.kfs
    files describe internal-topic records, not APIs: skipped)."""
    apis = {}
    for name in sorted(os.listdir(schema_dir)):
        if name.endswith('.kfs') and not name.startswith('record_'):
            api = parse(os.path.join(schema_dir, name))
            apis[api.key] = api
    return apis


# Wire primitives: kafka_wire's Writer (buf, uvarint) and Reader (data, pos,
# take, uvarint; a short read raises DecodeError).

def _len_prefix(w, n, flexible, wide):
    """Writes a length (n = -1 for null): compact uvarint n+1, else int16/int32."""
    if flexible:
        w.uvarint(n + 1)
    else:
        w.buf += struct.pack('>i' if wide else '>h', n)


def _read_len(r, flexible, wide):
    if flexible:
        return r.uvarint() - 1
    return struct.unpack('>i' if wide else '>h', r.take(4 if wide else 2))[0]


def _encode_prim(w, t, v, flexible):
    if t in FIXED:
        w.buf += struct.pack(FIXED[t], v)
    elif t == 'uuid':
        w.buf += uuidlib.UUID(v).bytes
    elif t == 'string':
        if v is None:
            _len_prefix(w, -1, flexible, False)
        else:
            b = v.encode()
            _len_prefix(w, len(b), flexible, False)
            w.buf += b
    else:                               # bytes, records
        if v is None:
            _len_prefix(w, -1, flexible, True)
        else:
            _len_prefix(w, len(v), flexible, True)
            w.buf += v


def _decode_prim(r, t, flexible):
    if t in FIXED:
        fmt = FIXED[t]
        return struct.unpack(fmt, r.take(struct.calcsize(fmt)))[0]
    if t == 'uuid':
        return str(uuidlib.UUID(bytes=r.take(16)))
    if t == 'string':
        n = _read_len(r, flexible, False)
        return None if n < 0 else r.take(n).decode('utf-8', 'replace')
    n = _read_len(r, flexible, True)
    return None if n < 0 else r.take(n)


def _encode_value(w, f, v, version, flexible):
    if f.kind == 'prim':
        _encode_prim(w, f.elem, v, flexible)
    elif f.kind == 'array':
        if v is None:
            _len_prefix(w, -1, flexible, True)
            return
        _len_prefix(w, len(v), flexible, True)
        for item in v:
            if f.struct_array():
                _encode_struct(w, f.fields, item, version, flexible)
            else:
                _encode_prim(w, f.elem, item, flexible)
    else:
        if f.nullable is not None:
            if v is None:
                w.buf += b'\xff'
                return
            w.buf += b'\x01'
        _encode_struct(w, f.fields, v or {}, version, flexible)


def _decode_value(r, f, version, flexible):
    if f.kind == 'prim':
        return _decode_prim(r, f.elem, flexible)
    if f.kind == 'array':
        n = _read_len(r, flexible, True)
        if n < 0:
            return None
        if n > len(r.data) - r.pos:
            raise SchemaError(f'{f.name}: array of {n} with {len(r.data) - r.pos} bytes left')
        if f.struct_array():
            return [_decode_struct(r, f.fields, version, flexible) for _ in range(n)]
        return [_decode_prim(r, f.elem, flexible) for _ in range(n)]
    if f.nullable is not None and struct.unpack('>b', r.take(1))[0] < 0:
        return None
    return _decode_struct(r, f.fields, version, flexible)


def _encode_struct(w, fields, value, version, flexible):
    tagged = []
    for f in fields:
        if not _in(f.versions, version):
            continue
        v = value.get(f.name, f.default(version)) if isinstance(value, dict) else f.default(version)
        if f.tag is not None:
            if v != f.default(version):
                tw = Writer()
                if f.kind == 'struct' and f.nullable is not None:
                    tw.uvarint(0 if v is None else 1)
                    if v is not None:
                        _encode_struct(tw, f.fields, v, version, flexible)
                else:
                    _encode_value(tw, f, v, version, flexible)
                tagged.append((f.tag, bytes(tw.buf)))
            continue
        _encode_value(w, f, v, version, flexible)
    if flexible:
        w.uvarint(len(tagged))
        for tag, data in tagged:
            w.uvarint(tag)
            w.uvarint(len(data))
            w.buf += data


def _decode_struct(r, fields, version, flexible):
    out = {}
    tags = {}
    for f in fields:
        if not _in(f.versions, version):
            continue
        if f.tag is not None:
            tags[f.tag] = f
            out[f.name] = f.default(version)
            continue
        out[f.name] = _decode_value(r, f, version, flexible)
    if flexible:
        unknown = {}
        for _ in range(r.uvarint()):
            tag, size = r.uvarint(), r.uvarint()
            data = r.take(size)
            f = tags.get(tag)
            if f is None:
                unknown[tag] = data
                continue
            sub = Reader(data)
            if f.kind == 'struct' and f.nullable is not None:
                out[f.name] = _decode_struct(sub, f.fields, version, flexible) if sub.uvarint() else None
            else:
                out[f.name] = _decode_value(sub, f, version, flexible)
        if unknown:
            out['_unknown_tags'] = unknown
    return out


APIS = None


def apis():
    """The schema's APIs, loaded once."""
    global APIS
    if APIS is None:
        APIS = load()
    return APIS


def call(conn, api_key, version, value=None, client_id='skiff-it'):
    """Sends one request on `conn` (a kafka_wire.Connection) and returns the
    decoded response body. The response header is v1 (tagged fields) when the
    version is flexible, except for ApiVersions (always v0)."""
    api = apis()[api_key]
    flexible = api.is_flexible(version)
    cid = conn.send(api_key, version, api.encode_request(version, value), flexible=flexible,
                    client_id=client_id)
    return decode_frame(api, version, cid, conn.recv_frame())


def decode_frame(api, version, correlation_id, data):
    r = Reader(data)
    got = struct.unpack('>i', r.take(4))[0]
    if got != correlation_id:
        raise SchemaError(f'correlation id {got}, expected {correlation_id}')
    if api.is_flexible(version) and api.key != 18:
        for _ in range(r.uvarint()):
            r.uvarint()
            r.take(r.uvarint())
    return api.decode_response(version, r.data[r.pos:])
