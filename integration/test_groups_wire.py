"""The group APIs on the wire, byte for byte, at versions the clients on
this machine do not send: ApiVersions ranges, FindCoordinator v0-v6 (the
"NONE" error message of v1-3, batched keys from v4, unknown key types),
the JoinGroup v4+ MEMBER_ID_REQUIRED round and a v9 answer, SyncGroup v5
protocol checks, Heartbeat v4, LeaveGroup v5 batches, OffsetCommit v8 and
OffsetFetch v8 with several groups, ListGroups v5 filters, DescribeGroups v5
and DeleteGroups v2. Every decoder consumes the whole frame."""

import struct
import time

from kafka_wire import Connection, Reader, Writer

FIND_COORDINATOR, JOIN_GROUP, HEARTBEAT, LEAVE_GROUP, SYNC_GROUP = 10, 11, 12, 13, 14
OFFSET_COMMIT, OFFSET_FETCH, DESCRIBE_GROUPS, LIST_GROUPS, DELETE_GROUPS = 8, 9, 15, 16, 42
FIRST_FLEXIBLE = {OFFSET_COMMIT: 8, OFFSET_FETCH: 6, FIND_COORDINATOR: 3, JOIN_GROUP: 6, HEARTBEAT: 4,
                  LEAVE_GROUP: 4, SYNC_GROUP: 4, DESCRIBE_GROUPS: 5, LIST_GROUPS: 3, DELETE_GROUPS: 2}

NONE, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, INCONSISTENT_GROUP_PROTOCOL = 0, 25, 27, 23
INVALID_REQUEST, MEMBER_ID_REQUIRED, NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND = 42, 79, 68, 69


class Body:
    """A request body at one version: compact encodings when flexible."""

    def __init__(self, key, version):
        self.flex = version >= FIRST_FLEXIBLE[key]
        self.w = Writer()

    def str(self, s):
        self.w.string(s, compact=self.flex)
        return self

    def array(self, items, write):
        self.w.array_len(None if items is None else len(items), compact=self.flex)
        for it in items or []:
            write(it)
            self.tags()
        return self

    def strings(self, items):
        self.w.array_len(len(items), compact=self.flex)
        for s in items:
            self.str(s)
        return self

    def blob(self, b):
        if self.flex:
            self.w.uvarint(len(b) + 1)
        else:
            self.w.i32(len(b))
        self.w.raw(b)
        return self

    def i64(self, v):
        self.w.raw(struct.pack('>q', v))
        return self

    def tags(self):
        if self.flex:
            self.w.empty_tags()
        return self

    def done(self):
        return self.tags().w.bytes()


class Resp:
    """Reads a response body at one version."""

    def __init__(self, r, flex):
        self.r, self.flex = r, flex

    def str(self, nullable=False):
        return self.r.string(compact=self.flex, nullable=nullable)

    def blob(self):
        n = self.r.uvarint() - 1 if self.flex else self.r.i32()
        return self.r.take(n)

    def i64(self):
        return struct.unpack('>q', self.r.take(8))[0]

    def array(self, read):
        def item():
            v = read()
            self.tags()
            return v
        return self.r.array(item, compact=self.flex)

    def tags(self):
        if self.flex:
            assert self.r.tags() == {}

    def done(self):
        self.tags()
        self.r.done()


def call(conn, key, version, body=b''):
    flex = version >= FIRST_FLEXIBLE.get(key, 1 << 15)
    cid = conn.send(key, version, body, flexible=flex)
    r = Reader(conn.recv_frame())
    assert r.i32() == cid
    if flex:
        assert r.tags() == {}
    return Resp(r, flex)


def connect(b):
    return Connection(b.host, b.port)


def test_api_versions_advertise_the_group_apis(broker):
    with connect(broker) as c:
        keys = c.api_versions(3)['api_keys']
    assert {k: keys[k] for k in (8, 9, 10, 11, 12, 13, 14, 15, 16, 42, 47)} == {
        8: (2, 9), 9: (1, 9), 10: (0, 6), 11: (0, 9), 12: (0, 4), 13: (0, 5), 14: (0, 5), 15: (0, 5), 16: (0, 5),
        42: (0, 2), 47: (0, 0)}


def test_find_coordinator_every_version(broker):
    with connect(broker) as c:
        for v in range(4):
            b = Body(FIND_COORDINATOR, v).str('g')
            if v >= 1:
                b.w.i8(0)
            r = call(c, FIND_COORDINATOR, v, b.done())
            if v >= 1:
                assert r.r.i32() == 0
            assert r.r.i16() == NONE
            if v >= 1:
                assert r.str(nullable=True) == 'NONE'
            assert (r.r.i32(), r.str(), r.r.i32()) == (1, '127.0.0.1', broker.port)
            r.done()
        # Unknown key types are INVALID_REQUEST with Kafka's "no node".
        r = call(c, FIND_COORDINATOR, 2, Writer().string('g').i8(3).bytes())
        assert r.r.i32() == 0
        assert r.r.i16() == INVALID_REQUEST
        r.str(nullable=True)
        assert (r.r.i32(), r.str(), r.r.i32()) == (-1, '', -1)
        r.done()
        for v in (4, 6):
            for key_type, keys, err in ((0, ['a', 'b'], NONE), (1, ['txn'], NONE), (2, ['g:t:0'], INVALID_REQUEST)):
                b = Body(FIND_COORDINATOR, v)
                b.w.i8(key_type)
                r = call(c, FIND_COORDINATOR, v, b.strings(keys).done())
                assert r.r.i32() == 0

                def coordinator():
                    return (r.str(), r.r.i32(), r.str(), r.r.i32(), r.r.i16(), r.str(nullable=True))
                got = r.array(coordinator)
                r.done()
                node = (1, '127.0.0.1', broker.port) if err == NONE else (-1, '', -1)
                assert got == [(k, *node, err, '' if err == NONE else got[0][5]) for k in keys]  # Kafka: ''


def join(c, version, group, member_id, protocol=b'meta', instance=None, reason=None):
    b = Body(JOIN_GROUP, version).str(group)
    b.w.i32(10000)
    if version >= 1:
        b.w.i32(30000)
    b.str(member_id)
    if version >= 5:
        b.str(instance)
    b.str('consumer')
    b.array([('range', protocol)], lambda p: b.str(p[0]).blob(p[1]))
    if version >= 8:
        b.str(reason)
    r = call(c, JOIN_GROUP, version, b.done())
    if version >= 2:
        assert r.r.i32() == 0
    out = {'error_code': r.r.i16(), 'generation_id': r.r.i32()}
    if version >= 7:
        out['protocol_type'] = r.str(nullable=True)
    out['protocol_name'] = r.str(nullable=version >= 7)
    out['leader'] = r.str()
    if version >= 9:
        out['skip_assignment'] = r.r.bool()
    out['member_id'] = r.str()

    def member():
        m = (r.str(),)
        if version >= 5:
            m += (r.str(nullable=True),)
        return m + (r.blob(),)
    out['members'] = r.array(member)
    r.done()
    return out


def sync(c, version, group, generation, member_id, assignments, protocol=('consumer', 'range')):
    b = Body(SYNC_GROUP, version).str(group)
    b.w.i32(generation)
    b.str(member_id)
    if version >= 3:
        b.str(None)
    if version >= 5:
        b.str(protocol[0]).str(protocol[1])
    b.array(assignments, lambda a: b.str(a[0]).blob(a[1]))
    r = call(c, SYNC_GROUP, version, b.done())
    assert r.r.i32() == 0
    out = {'error_code': r.r.i16()}
    if version >= 5:
        out['protocol_type'] = r.str(nullable=True)
        out['protocol_name'] = r.str(nullable=True)
    out['assignment'] = r.blob()
    r.done()
    return out


def heartbeat(c, version, group, generation, member_id):
    b = Body(HEARTBEAT, version).str(group)
    b.w.i32(generation)
    b.str(member_id)
    if version >= 3:
        b.str(None)
    r = call(c, HEARTBEAT, version, b.done())
    if version >= 1:
        assert r.r.i32() == 0
    err = r.r.i16()
    r.done()
    return err


def test_join_sync_heartbeat_leave(broker):
    with connect(broker) as c:
        first = join(c, 9, 'wg', '', reason='starting')
        assert first['error_code'] == MEMBER_ID_REQUIRED
        member = first['member_id']
        assert member.startswith('skiff-it-') and len(member) == len('skiff-it-') + 36
        assert (first['generation_id'], first['members'], first['protocol_type']) == (-1, [], None)
        j = join(c, 9, 'wg', member, reason='starting')
        assert j == {'error_code': NONE, 'generation_id': 1, 'protocol_type': 'consumer', 'protocol_name': 'range',
                     'leader': member, 'skip_assignment': False, 'member_id': member,
                     'members': [(member, None, b'meta')]}
        assert sync(c, 5, 'wg', 1, member, [(member, b'parts')], protocol=('consumer', 'roundrobin')) == {
            'error_code': INCONSISTENT_GROUP_PROTOCOL, 'protocol_type': None, 'protocol_name': None,
            'assignment': b''}
        assert sync(c, 5, 'wg', 1, member, [(member, b'parts')]) == {
            'error_code': NONE, 'protocol_type': 'consumer', 'protocol_name': 'range', 'assignment': b'parts'}
        assert heartbeat(c, 4, 'wg', 1, member) == NONE
        assert heartbeat(c, 0, 'wg', 2, member) == 22  # ILLEGAL_GENERATION
        assert heartbeat(c, 4, 'wg', 1, 'nobody') == UNKNOWN_MEMBER_ID

        # v0 joins at once (no member id round) and rebalances: the leader
        # rejoins and the group moves on to generation 2.
        with connect(broker) as c2:
            c2.send(JOIN_GROUP, 0, join_v0_body('wg'), flexible=False)
            deadline = time.monotonic() + 10
            while heartbeat(c, 4, 'wg', 1, member) != REBALANCE_IN_PROGRESS:
                assert time.monotonic() < deadline, 'the v0 join did not start a rebalance'
            again = join(c, 5, 'wg', member)
            assert again['generation_id'] == 2
            assert len(again['members']) == 2
            r = Resp(Reader(c2.recv_frame()), False)
            r.r.i32()
            assert (r.r.i16(), r.r.i32(), r.str(), r.str()) == (NONE, 2, 'range', member)
            other = r.str()
            assert r.array(lambda: (r.str(), r.blob())) == []
            r.done()

        # LeaveGroup v5: both at once, one unknown.
        b = Body(LEAVE_GROUP, 5).str('wg')
        b.array([(member, None, 'done'), (other, None, None), ('ghost', None, None)],
                lambda m: b.str(m[0]).str(m[1]).str(m[2]))
        r = call(c, LEAVE_GROUP, 5, b.done())
        assert (r.r.i32(), r.r.i16()) == (0, NONE)
        assert r.array(lambda: (r.str(), r.str(nullable=True), r.r.i16())) == [
            (member, None, NONE), (other, None, NONE), ('ghost', None, UNKNOWN_MEMBER_ID)]
        r.done()
        # v0-2 carry the member's error at the top level.
        r = call(c, LEAVE_GROUP, 1, Body(LEAVE_GROUP, 1).str('wg').str('ghost').done())
        assert (r.r.i32(), r.r.i16()) == (0, UNKNOWN_MEMBER_ID)
        r.done()
    assert "group wg: Empty -> PreparingRebalance: adding new member" in broker.log
    assert 'client reason: starting' in broker.log


def join_v0_body(group):
    w = Writer().string(group).i32(10000).string('').string('consumer').i32(1).string('range').i32(2)
    return w.raw(b'm2').bytes()


def test_offset_commit_v8_and_fetch_v8_several_groups(broker):
    with connect(broker) as c:
        # Auto-create the topic through Metadata v4, then commit with generation -1.
        c.metadata(4, ['ot'])
        b = Body(OFFSET_COMMIT, 8).str('og')
        b.w.i32(-1)
        b.str('').str(None)
        b.array([('ot', [(0, 17, 'md'), (99, 1, None)]), ('missing', [(0, 1, None)])],
                lambda t: b.str(t[0]).array(t[1], lambda p: (b.w.i32(p[0]), b.i64(p[1]), b.w.i32(-1), b.str(p[2]))))
        r = call(c, OFFSET_COMMIT, 8, b.done())
        assert r.r.i32() == 0
        got = r.array(lambda: (r.str(), r.array(lambda: (r.r.i32(), r.r.i16()))))
        r.done()
        assert got == [('ot', [(0, NONE), (99, 3)]), ('missing', [(0, 3)])]

        b = Body(OFFSET_FETCH, 8)
        b.array([('og', [('ot', [0, 1])]), ('og', None), ('nobody', None)],
                lambda g: (b.str(g[0]), b.array(g[1], lambda t: (b.str(t[0]), b.w.array_len(len(t[1]), True),
                                                                 [b.w.i32(p) for p in t[1]])))).w.bool(False)
        r = call(c, OFFSET_FETCH, 8, b.done())
        assert r.r.i32() == 0

        def partition():
            return (r.r.i32(), r.i64(), r.r.i32(), r.str(nullable=True), r.r.i16())

        def group():
            return (r.str(), r.array(lambda: (r.str(), r.array(partition))), r.r.i16())
        groups = r.array(group)
        r.done()
        assert groups == [('og', [('ot', [(0, 17, -1, 'md', NONE), (1, -1, -1, '', NONE)])], NONE),
                          ('og', [('ot', [(0, 17, -1, 'md', NONE)])], NONE),
                          ('nobody', [], NONE)]
        # v1: one group at the top level, no top-level error code.
        b = Body(OFFSET_FETCH, 1).str('og')
        b.array([('ot', [0])], lambda t: (b.str(t[0]), b.w.i32(1), b.w.i32(0)))
        r = call(c, OFFSET_FETCH, 1, b.done())
        assert r.array(lambda: (r.str(), r.array(lambda: (r.r.i32(), r.i64(), r.str(), r.r.i16())))) == [
            ('ot', [(0, 17, 'md', NONE)])]
        r.done()


def test_list_describe_delete(broker):
    with connect(broker) as c:
        first = join(c, 4, 'lg', '')
        member = join(c, 4, 'lg', first['member_id'])['member_id']
        sync(c, 4, 'lg', 1, member, [(member, b'a')])
        c.metadata(4, ['lt'])
        b = Body(OFFSET_COMMIT, 2).str('simple')
        b.w.i32(-1)
        b.str('').i64(-1)
        b.array([('lt', [0])], lambda t: (b.str(t[0]), b.w.i32(1), b.w.i32(0), b.i64(3), b.str('')))
        call(c, OFFSET_COMMIT, 2, b.done())

        def list_groups(states=(), types=()):
            b = Body(LIST_GROUPS, 5).strings(list(states)).strings(list(types))
            r = call(c, LIST_GROUPS, 5, b.done())
            assert (r.r.i32(), r.r.i16()) == (0, NONE)
            got = r.array(lambda: (r.str(), r.str(), r.str(), r.str()))
            r.done()
            return got
        assert list_groups() == [('lg', 'consumer', 'Stable', 'classic'), ('simple', '', 'Empty', 'classic')]
        assert list_groups(states=['empty']) == [('simple', '', 'Empty', 'classic')]
        assert list_groups(types=['consumer']) == []

        b = Body(DESCRIBE_GROUPS, 5).strings(['lg', 'nope'])
        b.w.bool(True)
        r = call(c, DESCRIBE_GROUPS, 5, b.done())
        assert r.r.i32() == 0

        def described():
            g = (r.r.i16(), r.str(), r.str(), r.str(), r.str(),
                 r.array(lambda: (r.str(), r.str(nullable=True), r.str(), r.str(), r.blob(), r.blob())))
            return g + (r.r.i32(),)
        groups = r.array(described)
        r.done()
        # READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS: Kafka 4.4's answer (3400)
        ops = (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11)
        assert groups == [(NONE, 'lg', 'Stable', 'consumer', 'range',
                           [(member, None, 'skiff-it', '/127.0.0.1', b'meta', b'a')], ops),
                          (NONE, 'nope', 'Dead', '', '', [], ops)]

        r = call(c, DELETE_GROUPS, 2, Body(DELETE_GROUPS, 2).strings(['lg', 'simple', 'simple', 'nope']).done())
        assert r.r.i32() == 0
        assert r.array(lambda: (r.str(), r.r.i16())) == [
            ('lg', NON_EMPTY_GROUP), ('simple', NONE), ('nope', GROUP_ID_NOT_FOUND)]
        r.done()
