"""The admin APIs at the byte level, through raw requests (kafka_wire): the
versions and fields no installed client reaches (CreateTopics v7 topic ids
and configs, DeleteTopics v6 by topic id, DescribeConfigs v4 types and
documentation, IncrementalAlterConfigs, DescribeCluster, DescribeLogDirs,
OffsetForLeaderEpoch, ElectLeaders, DeleteRecords), the request-size limit,
and what Produce, Fetch and ListOffsets answer for a deleted topic."""

import struct

import pytest

from kafka_wire import Connection, Reader, Writer

NONE = 0
OFFSET_OUT_OF_RANGE = 1
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
INVALID_CONFIG = 40
INVALID_REQUEST = 42
POLICY_VIOLATION = 44
FENCED_LEADER_EPOCH = 74
UNKNOWN_LEADER_EPOCH = 75
ELECTION_NOT_NEEDED = 84
UNKNOWN_TOPIC_ID = 100
MISMATCHED_ENDPOINT_TYPE = 114
UNSUPPORTED_ENDPOINT_TYPE = 115

CREATE_TOPICS, DELETE_TOPICS, DELETE_RECORDS, OFFSET_FOR_LEADER_EPOCH = 19, 20, 21, 23
DESCRIBE_CONFIGS, ALTER_CONFIGS, DESCRIBE_LOG_DIRS, CREATE_PARTITIONS = 32, 33, 35, 37
ELECT_LEADERS, INCREMENTAL_ALTER_CONFIGS, DESCRIBE_CLUSTER = 43, 44, 60
PRODUCE, FETCH, LIST_OFFSETS = 0, 1, 2
DESCRIBE_ACLS, CREATE_ACLS, DELETE_ACLS = 29, 30, 31
FIRST_FLEXIBLE = {CREATE_TOPICS: 5, DELETE_TOPICS: 4, DELETE_RECORDS: 2, OFFSET_FOR_LEADER_EPOCH: 4,
                  DESCRIBE_CONFIGS: 4, ALTER_CONFIGS: 2, DESCRIBE_LOG_DIRS: 2, CREATE_PARTITIONS: 2,
                  ELECT_LEADERS: 2, INCREMENTAL_ALTER_CONFIGS: 1, DESCRIBE_CLUSTER: 0, PRODUCE: 9, FETCH: 12,
                  LIST_OFFSETS: 6, DESCRIBE_ACLS: 2, CREATE_ACLS: 2, DELETE_ACLS: 2}
TOPIC, BROKER, BROKER_LOGGER = 2, 4, 8
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


class W(Writer):
    """A Writer that knows whether the version is flexible."""

    def __init__(self, flex):
        super().__init__()
        self.flex = flex

    def i64(self, v):
        return self.raw(struct.pack('>q', v))

    def s(self, v):
        return self.string(v, self.flex)

    def arr(self, items, write):
        self.array_len(None if items is None else len(items), self.flex)
        for item in items or []:
            write(item)
        return self

    def tags(self):
        return self.empty_tags() if self.flex else self


class R(Reader):
    """A Reader that knows whether the version is flexible."""

    def __init__(self, data, flex):
        super().__init__(data)
        self.flex = flex

    def i64(self):
        return struct.unpack('>q', self.take(8))[0]

    def s(self, nullable=False):
        return self.string(self.flex, nullable)

    def arr(self, read, nullable=False):
        return self.array(read, self.flex, nullable)

    def end(self):
        if self.flex:
            self.tags()


def call(broker, api, version, write_body):
    """Sends one request (body written by write_body(W)); returns an R on the
    response body, its header already read."""
    flex = version >= FIRST_FLEXIBLE[api]
    w = W(flex)
    write_body(w)
    with Connection(broker.host, broker.port) as c:
        cid = c.send(api, version, w.bytes(), flexible=flex)
        r = R(c.recv_frame(), flex)
    assert r.i32() == cid
    if flex:
        r.tags()
    return r


# ---- CreateTopics ----------------------------------------------------------

def create_topics(broker, version, topics, validate_only=False):
    """topics: [(name, partitions, rf, {config: value}, assignments)]."""
    def body(w):
        def topic(t):
            name, parts, rf, configs, assignments = t
            w.s(name).i32(parts).i16(rf)
            w.arr(assignments, lambda a: w.i32(a[0]).arr(a[1], w.i32).tags())
            w.arr(list(configs.items()), lambda kv: w.s(kv[0]).s(kv[1]).tags())
            w.tags()
        w.arr(topics, topic).i32(30000).bool(validate_only)
        w.tags()

    r = call(broker, CREATE_TOPICS, version, body)
    assert r.i32() == 0

    def result():
        out = {'name': r.s()}
        if version >= 7:
            out['topic_id'] = r.uuid()
        out['error_code'] = r.i16()
        out['error_message'] = r.s(nullable=True)
        if version >= 5:
            out['num_partitions'] = r.i32()
            out['replication_factor'] = r.i16()

            def cfg():
                c = (r.s(), r.s(nullable=True), r.bool(), r.i8(), r.bool())
                r.end()
                return c
            out['configs'] = r.arr(cfg, nullable=True)
            out['tags'] = r.tags()
        return out
    topics_out = r.arr(result)
    r.end()
    r.done()
    return {t['name']: t for t in topics_out}


def test_create_topics_v7_answers_id_partitions_and_configs(broker):
    got = create_topics(broker, 7, [('v7', 2, -1, {'retention.ms': '1234', 'cleanup.policy': 'compact, delete'}, [])])
    t = got['v7']
    assert (t['error_code'], t['error_message'], t['num_partitions'], t['replication_factor']) == (NONE, None, 2, 1)
    assert t['topic_id'] != bytes(16)
    configs = {c[0]: c[1:] for c in t['configs']}
    assert len(configs) == 37
    assert configs['retention.ms'] == ('1234', False, 1, False)
    assert configs['cleanup.policy'] == ('compact,delete', False, 1, False)
    assert configs['segment.ms'] == ('604800000', False, 5, False)
    assert [c[0] for c in t['configs']] == sorted(configs)
    with Connection(broker.host, broker.port) as c:
        (md,) = c.metadata(12, ['v7'])['topics']
    assert md['topic_id'] == t['topic_id']


@pytest.mark.parametrize('version', range(2, 8))
def test_create_topics_every_version(broker, version):
    got = create_topics(broker, version, [(f'cv{version}', 1, 1, {}, []), (f'cv{version}', 1, 1, {}, []),
                                          (f'ok{version}', 3, -1, {}, [])])
    assert set(got) == {f'cv{version}', f'ok{version}'}
    assert got[f'cv{version}']['error_code'] == INVALID_REQUEST
    assert got[f'ok{version}']['error_code'] == NONE
    assert got[f'cv{version}']['error_message'] == 'Duplicate topic name.'
    if version >= 5:
        assert got[f'cv{version}']['num_partitions'] == -1
        assert got[f'ok{version}']['num_partitions'] == 3


def test_create_topics_validate_only_and_errors(broker):
    got = create_topics(broker, 5, [('dry', 2, 1, {'segment.bytes': '2097152'}, [])], validate_only=True)
    assert got['dry']['error_code'] == NONE
    assert ('segment.bytes', '2097152', False, 1, False) in got['dry']['configs']
    got = create_topics(broker, 5, [('dry', 1, 1, {}, [])])
    assert got['dry']['error_code'] == NONE
    got = create_topics(broker, 4, [('dry', 1, 1, {}, []), ('__cluster_metadata', 1, 1, {}, []),
                                    ('.', 1, 1, {}, []), ('nullcfg', 1, 1, {'a': None, 'b': None}, []),
                                    ('assign', 1, -1, {}, [(0, [1])]), ('gap', -1, -1, {}, [(0, [1]), (2, [1])]),
                                    ('twice', -1, -1, {}, [(0, [1]), (0, [1])]), ('rf0', 1, 0, {}, []),
                                    ('p', -2, 1, {}, []), ('tiered', 1, 1, {'remote.storage.enable': 'true'}, [])])
    msgs = {name: (t['error_code'], t['error_message']) for name, t in got.items()}
    assert msgs == {
        'dry': (TOPIC_ALREADY_EXISTS, "Topic 'dry' already exists."),
        '__cluster_metadata': (INVALID_REQUEST, 'Creation of internal topic __cluster_metadata is prohibited.'),
        '.': (INVALID_TOPIC_EXCEPTION, "Topic name is invalid: '.' is not allowed"),
        'nullcfg': (INVALID_CONFIG, 'Null value not supported for topic configs: a,b'),
        'assign': (INVALID_REQUEST, 'A manual partition assignment was specified, but numPartitions was not set '
                                    'to -1.'),
        'gap': (39, 'partitions should be a consecutive 0-based integer sequence'),
        'twice': (39, 'Found multiple manual partition assignments for partition 0'),
        'rf0': (38, 'Replication factor must be larger than 0, or -1 to use the default value.'),
        'p': (INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.'),
        'tiered': (INVALID_CONFIG, 'Tiered Storage functionality is disabled in the broker. Topic cannot be '
                                   'configured with remote log storage.'),
    }


def test_too_many_partitions_in_one_request(broker):
    got = create_topics(broker, 5, [('huge', 10000, 1, {}, []), ('small', 1, 1, {}, [])])
    assert {n: (t['error_code'], t['error_message']) for n, t in got.items()} == {
        'huge': (POLICY_VIOLATION, 'Unable to perform excessively large batch operation.'),
        'small': (POLICY_VIOLATION, 'Unable to perform excessively large batch operation.')}
    # One record per topic, config and partition: 10000 is the limit.
    got = create_topics(broker, 5, [('big', 9998, 1, {'retention.ms': '1'}, [])], validate_only=True)
    assert got['big']['error_code'] == NONE
    got = create_topics(broker, 5, [('big', 9999, 1, {'retention.ms': '1'}, [])], validate_only=True)
    assert got['big']['error_code'] == POLICY_VIOLATION


# ---- DeleteTopics ----------------------------------------------------------

def delete_topics(broker, version, entries):
    """entries: names (v1-5) or (name, topic_id) pairs (v6)."""
    def body(w):
        if version >= 6:
            w.arr(entries, lambda e: w.s(e[0]).uuid(e[1]).tags())
        else:
            w.arr(entries, w.s)
        w.i32(30000).tags()

    r = call(broker, DELETE_TOPICS, version, body)
    assert r.i32() == 0

    def result():
        out = (r.s(nullable=version >= 6), r.uuid() if version >= 6 else None, r.i16(),
               r.s(nullable=True) if version >= 5 else None)
        r.end()
        return out
    res = r.arr(result)
    r.end()
    r.done()
    return res


def internal_topic(broker):
    """An internal topic of the broker: one its coordinators created, else
    __consumer_offsets created the way the group coordinator creates it."""
    with Connection(broker.host, broker.port) as c:
        internal = [t['name'] for t in c.metadata(4)['topics'] if t['is_internal']]
    if internal:
        return internal[0]
    got = create_topics(broker, 5, [('__consumer_offsets', 1, 1, {'cleanup.policy': 'compact'}, [])])
    assert got['__consumer_offsets']['error_code'] == NONE
    return '__consumer_offsets'


def topic_id(broker, name):
    with Connection(broker.host, broker.port) as c:
        (md,) = c.metadata(12, [name], allow_auto_topic_creation=False)['topics']
    return md['topic_id']


def test_delete_topics_v6_by_id_and_errors(broker):
    for name in ('byid', 'byname'):
        assert create_topics(broker, 7, [(name, 1, 1, {}, [])])[name]['error_code'] == NONE
    byid = topic_id(broker, 'byid')
    unknown = bytes(range(1, 17))
    got = delete_topics(broker, 6, [(None, byid), ('byname', bytes(16)), (None, unknown), ('nope', bytes(16)),
                                    (None, bytes(16)), ('both', unknown), ('dup', bytes(16)), ('dup', bytes(16))])
    assert got == [
        ('byid', byid, NONE, None),
        ('byname', got[1][1], NONE, None),
        (None, unknown, UNKNOWN_TOPIC_ID, None),
        ('nope', bytes(16), UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.'),
        (None, bytes(16), INVALID_REQUEST, 'Neither topic name nor id were specified.'),
        ('both', unknown, INVALID_REQUEST, 'You may not specify both topic name and topic id.'),
        ('dup', bytes(16), INVALID_REQUEST, 'Duplicate topic name.'),
    ]
    assert got[1][1] != bytes(16)
    with Connection(broker.host, broker.port) as c:
        names = {t['name'] for t in c.metadata(4)['topics']}
    assert not names & {'byid', 'byname'}


@pytest.mark.parametrize('version', range(1, 6))
def test_delete_topics_by_name_every_version(broker, version):
    name = f'del{version}'
    assert create_topics(broker, 4, [(name, 2, 1, {}, [])])[name]['error_code'] == NONE
    got = delete_topics(broker, version, [name, 'missing'])
    assert [(g[0], g[2]) for g in got] == [(name, NONE), ('missing', UNKNOWN_TOPIC_OR_PARTITION)]
    # Kafka's default message from v5 (the first with error_message).
    msg = 'This server does not host this topic-partition.' if version >= 5 else None
    assert delete_topics(broker, version, [name]) == [(name, None, UNKNOWN_TOPIC_OR_PARTITION, msg)]


def test_deleted_topic_is_unknown_to_produce_fetch_and_list_offsets(start_broker):
    b = start_broker(auto_create_topics_enable=False)
    assert create_topics(b, 7, [('doomed', 1, 1, {}, [])])['doomed']['error_code'] == NONE
    tid = topic_id(b, 'doomed')
    assert delete_topics(b, 6, [(None, tid)])[0][2] == NONE

    # Produce v3: the topic is looked up before the records are read.
    def produce(w):
        w.s(None).i16(1).i32(1000)
        w.arr(['doomed'], lambda t: w.s(t).arr([0], lambda p: w.i32(p).i32(3).raw(b'xyz')))
    r = call(b, PRODUCE, 3, produce)
    (topic,) = r.arr(lambda: (r.s(), r.arr(lambda: (r.i32(), r.i16(), r.i64(), r.i64()))))
    assert topic == ('doomed', [(0, UNKNOWN_TOPIC_OR_PARTITION, -1, -1)])

    # Fetch v4 by name.
    def fetch4(w):
        w.i32(-1).i32(0).i32(0).i32(1 << 20).i8(0)
        w.arr(['doomed'], lambda t: w.s(t).arr([0], lambda p: w.i32(p).i64(0).i32(1 << 20)))
    r = call(b, FETCH, 4, fetch4)
    r.i32()

    def fetch_part():
        out = (r.i32(), r.i16(), r.i64(), r.i64())
        r.arr(lambda: (r.i64(), r.i64()), nullable=True)
        n = r.i32()
        r.take(max(n, 0))
        return out
    got = r.arr(lambda: (r.s(), r.arr(fetch_part)))
    r.done()
    assert got == [('doomed', [(0, UNKNOWN_TOPIC_OR_PARTITION, -1, -1)])]

    # Fetch v13 by topic id.
    def fetch13(w):
        w.i32(-1).i32(0).i32(0).i32(1 << 20).i8(0).i32(0).i32(-1)
        w.arr([tid], lambda t: w.uuid(t).arr([0], lambda p: w.i32(p).i32(-1).i64(0).i32(-1).i64(-1)
                                              .i32(1 << 20).tags()).tags())
        w.arr([], None).s('').tags()
    r = call(b, FETCH, 13, fetch13)
    assert (r.i32(), r.i16(), r.i32()) == (0, NONE, 0)
    assert r.uvarint() == 2  # one topic
    assert r.uuid() == tid
    assert r.uvarint() == 2  # one partition
    assert (r.i32(), r.i16()) == (0, UNKNOWN_TOPIC_ID)

    # ListOffsets v1.
    def list_offsets(w):
        w.i32(-1).arr(['doomed'], lambda t: w.s(t).arr([0], lambda p: w.i32(p).i64(-1)))
    r = call(b, LIST_OFFSETS, 1, list_offsets)
    got = r.arr(lambda: (r.s(), r.arr(lambda: (r.i32(), r.i16(), r.i64(), r.i64()))))
    assert got == [('doomed', [(0, UNKNOWN_TOPIC_OR_PARTITION, -1, -1)])]


# ---- DescribeConfigs and IncrementalAlterConfigs ---------------------------

def describe_configs(broker, version, resources, synonyms=False, documentation=False):
    """resources: [(type, name, keys or None)] -> [(error, message, type, name, {config: entry})]."""
    def body(w):
        w.arr(resources, lambda res: w.i8(res[0]).s(res[1]).arr(res[2], w.s).tags())
        w.bool(synonyms)
        if version >= 3:
            w.bool(documentation)
        w.tags()

    r = call(broker, DESCRIBE_CONFIGS, version, body)
    assert r.i32() == 0

    def entry():
        e = {'name': r.s(), 'value': r.s(nullable=True), 'read_only': r.bool(), 'source': r.i8(),
             'sensitive': r.bool()}

        def syn():
            s = (r.s(), r.s(nullable=True), r.i8())
            r.end()
            return s
        e['synonyms'] = r.arr(syn)
        if version >= 3:
            e['type'] = r.i8()
            e['doc'] = r.s(nullable=True)
        r.end()
        return e

    def result():
        out = (r.i16(), r.s(nullable=True), r.i8(), r.s(), {e['name']: e for e in r.arr(entry)})
        r.end()
        return out
    res = r.arr(result)
    r.end()
    r.done()
    return res


@pytest.mark.parametrize('version', range(1, 5))
def test_describe_configs_every_version(start_broker, version):
    b = start_broker(log_segment_bytes=2097152)
    assert create_topics(b, 5, [('dc', 1, 1, {'retention.ms': '5000'}, [])])['dc']['error_code'] == NONE
    ((err, msg, rtype, rname, cfg),) = describe_configs(b, version, [(TOPIC, 'dc', None)], synonyms=True,
                                                        documentation=True)
    assert (err, msg, rtype, rname, len(cfg)) == (NONE, '', TOPIC, 'dc', 37)
    ret, seg = cfg['retention.ms'], cfg['segment.bytes']
    assert (ret['value'], seg['value']) == ('5000', '2097152')
    assert (ret['source'], seg['source'], cfg['preallocate']['source']) == (1, 4, 5)
    assert ret['synonyms'] == [('retention.ms', '5000', 1)]      # as Kafka 4.4 lists them
    assert seg['synonyms'] == [('log.segment.bytes', '2097152', 4), ('log.segment.bytes', '1073741824', 5)]
    if version >= 3:
        types = {n: e['type'] for n, e in cfg.items()}
        assert (types['retention.ms'], types['segment.bytes'], types['cleanup.policy'], types['preallocate'],
                types['min.cleanable.dirty.ratio'], types['compression.type']) == (5, 3, 7, 1, 6, 2)
        assert cfg['retention.ms']['doc']


def test_describe_configs_keys_broker_and_logger(broker):
    create_topics(broker, 5, [('k', 1, 1, {}, [])])
    res = describe_configs(broker, 4, [(TOPIC, 'k', ['segment.ms', 'nonsense']), (TOPIC, 'k', []),
                                       (TOPIC, 'missing', None), (TOPIC, 'bad name', None), (BROKER, '1', ['node.id']),
                                       (BROKER, '', None), (BROKER, '2', None), (BROKER, 'x', None),
                                       (BROKER_LOGGER, '1', None), (32, 'group', None), (16, 'metrics', None)])
    assert list(res[0][4]) == ['segment.ms']
    assert res[0][4]['segment.ms']['synonyms'] == []
    assert res[0][4]['segment.ms']['doc'] is None
    assert len(res[1][4]) == 37
    assert res[2][:2] == (UNKNOWN_TOPIC_OR_PARTITION, '')        # Kafka: '' when it has no message
    assert res[3][:2] == (INVALID_TOPIC_EXCEPTION, "Topic name is invalid: 'bad name' contains one or more "
                                                   "characters other than ASCII alphanumerics, '.', '_' and '-'")
    node = res[4][4]['node.id']
    assert (node['value'], node['read_only'], node['source'], node['type']) == ('1', True, 5, 5)
    assert res[5][:2] == (NONE, '') and res[5][4] == {}
    assert res[6][:2] == (INVALID_REQUEST, 'Unexpected broker id, expected 1 or empty string, but received 2')
    assert res[7][:2] == (INVALID_REQUEST, 'Broker id must be an integer, but it is: x')
    assert (res[8][0], res[8][4]['root']['value'], res[8][4]['root']['source']) == (NONE, 'INFO', 6)
    assert res[9][:2] == (NONE, '') and len(res[9][4]) == 21          # KIP-848 group configs
    assert res[10][:2] == (INVALID_REQUEST, 'Unsupported resource type: CLIENT_METRICS')


def incremental_alter(broker, resources, validate_only=False, version=1):
    """resources: [(type, name, [(config, op, value)])] -> [(error, message, type, name)]."""
    def body(w):
        w.arr(resources, lambda res: w.i8(res[0]).s(res[1]).arr(
            res[2], lambda c: w.s(c[0]).i8(c[1]).s(c[2]).tags()).tags())
        w.bool(validate_only).tags()

    r = call(broker, INCREMENTAL_ALTER_CONFIGS, version, body)
    assert r.i32() == 0

    def result():
        out = (r.i16(), r.s(nullable=True), r.i8(), r.s())
        r.end()
        return out
    res = r.arr(result)
    r.end()
    r.done()
    return res


def topic_value(broker, topic, name):
    ((_, _, _, _, cfg),) = describe_configs(broker, 4, [(TOPIC, topic, [name])])
    return cfg[name]['value'], cfg[name]['source']


@pytest.mark.parametrize('version', range(2))
def test_incremental_alter_configs(broker, version):
    create_topics(broker, 5, [('ia', 1, 1, {'retention.ms': '1000', 'segment.ms': '2000'}, [])])
    ok = incremental_alter(broker, [(TOPIC, 'ia', [('retention.ms', SET, '3000'), ('segment.ms', DELETE, None),
                                                   ('cleanup.policy', APPEND, 'compact'),
                                                   ('no.such.config', DELETE, None)])], version=version)
    assert ok == [(NONE, None, TOPIC, 'ia')]
    assert topic_value(broker, 'ia', 'retention.ms') == ('3000', 1)
    assert topic_value(broker, 'ia', 'segment.ms') == ('604800000', 5)
    assert topic_value(broker, 'ia', 'cleanup.policy') == ('delete,compact', 1)
    assert incremental_alter(broker, [(TOPIC, 'ia', [('cleanup.policy', SUBTRACT, 'delete')])],
                             version=version)[0][0] == NONE
    assert topic_value(broker, 'ia', 'cleanup.policy') == ('compact', 1)
    # Validate only changes nothing.
    assert incremental_alter(broker, [(TOPIC, 'ia', [('retention.ms', SET, '1')])], validate_only=True,
                             version=version)[0][0] == NONE
    assert topic_value(broker, 'ia', 'retention.ms') == ('3000', 1)
    errors = incremental_alter(broker, [
        (TOPIC, 'ia', [('retention.ms', APPEND, '1')]),
        (TOPIC, 'ia2', [('retention.ms', SET, 'x')]),
        (TOPIC, 'missing', [('retention.ms', SET, '1')]),
        (TOPIC, '', [('retention.ms', SET, '1')]),
        (TOPIC, 'nul', [('retention.ms', SET, None)]),
        (TOPIC, 'dupkey', [('retention.ms', SET, '1'), ('retention.ms', DELETE, None)]),
        (TOPIC, 'dupres', []), (TOPIC, 'dupres', []),
        (BROKER, '1', [('log.retention.ms', SET, '5'), ('num.partitions', SET, '2')]),
        (BROKER, '', [('log.retention.ms', DELETE, None)]),
        (BROKER_LOGGER, '1', [('kafka.server', SET, 'DEBUG')]),
    ], version=version)
    errors += incremental_alter(broker, [(BROKER_LOGGER, '1', [('root', SET, 'LOUD')])], version=version)
    errors += incremental_alter(broker, [(BROKER_LOGGER, '1', [('root', DELETE, None)])], version=version)
    assert [e[:2] for e in errors] == [
        (INVALID_CONFIG, "Can't APPEND to key retention.ms because its type is not LIST."),
        (INVALID_CONFIG, 'Invalid value x for configuration retention.ms: Not a number of type LONG'),
        (UNKNOWN_TOPIC_OR_PARTITION, "The topic 'missing' does not exist."),
        (INVALID_REQUEST, 'Default topic resources are not allowed.'),
        (INVALID_REQUEST, 'Null value not supported for : retention.ms'),
        (INVALID_REQUEST, 'Error due to duplicate config keys'),
        (INVALID_REQUEST, 'Each resource must appear at most once.'),
        (INVALID_REQUEST, 'Each resource must appear at most once.'),
        (INVALID_REQUEST, 'Cannot update these configs dynamically: [num.partitions]'),  # log.retention.ms is dynamic
        (NONE, None),
        (INVALID_CONFIG, 'Logger kafka.server does not exist!'),
        (INVALID_CONFIG, 'Cannot set the log level of root to LOUD as it is not a supported log level. Valid log '
                         'levels are DEBUG, ERROR, FATAL, INFO, TRACE, WARN'),
        (INVALID_REQUEST, 'Removing the log level of the root logger is not allowed'),
    ]


def test_logger_level_changes_live(broker):
    assert incremental_alter(broker, [(BROKER_LOGGER, '1', [('root', SET, 'DEBUG')])])[0][0] == NONE
    ((_, _, _, _, cfg),) = describe_configs(broker, 4, [(BROKER_LOGGER, '1', None)])
    assert cfg['root']['value'] == 'DEBUG'
    create_topics(broker, 5, [('after.debug', 1, 1, {}, [])])
    assert ' DEBUG ' in broker.log
    assert incremental_alter(broker, [(BROKER_LOGGER, '1', [('root', SET, 'INFO')])])[0][0] == NONE


def test_alter_configs_replaces_every_override(broker):
    create_topics(broker, 5, [('ac', 1, 1, {'retention.ms': '1000', 'segment.ms': '2000'}, [])])

    def body(w):
        w.arr([(TOPIC, 'ac')], lambda res: w.i8(res[0]).s(res[1]).arr(
            [('segment.ms', '3000')], lambda c: w.s(c[0]).s(c[1]).tags()).tags())
        w.bool(False).tags()
    for version in range(3):
        r = call(broker, ALTER_CONFIGS, version, body)
        assert r.i32() == 0
        res = r.arr(lambda: (r.i16(), r.s(nullable=True), r.i8(), r.s(), r.end())[:4])
        r.end()
        r.done()
        assert res == [(NONE, None, TOPIC, 'ac')]
    assert topic_value(broker, 'ac', 'retention.ms') == ('604800000', 5)
    assert topic_value(broker, 'ac', 'segment.ms') == ('3000', 1)


# ---- DeleteRecords ---------------------------------------------------------

def produce_values(broker, topic, n):
    from confluent_kafka import Producer
    p = Producer({'bootstrap.servers': broker.bootstrap})
    for i in range(n):
        p.produce(topic, b'v%d' % i, partition=0)
        p.flush(10)


def delete_records(broker, version, topic, offsets):
    def body(w):
        w.arr([topic], lambda t: w.s(t).arr(offsets, lambda po: w.i32(po[0]).i64(po[1]).tags()).tags())
        w.i32(1000).tags()
    r = call(broker, DELETE_RECORDS, version, body)
    assert r.i32() == 0

    def part():
        out = (r.i32(), r.i64(), r.i16())
        r.end()
        return out

    def top():
        out = (r.s(), r.arr(part))
        r.end()
        return out
    res = r.arr(top)
    r.end()
    r.done()
    return res[0][1]


@pytest.mark.parametrize('version', range(3))
def test_delete_records(broker, version):
    create_topics(broker, 5, [('dr', 2, 1, {}, []), ('compacted', 1, 1, {'cleanup.policy': 'compact'}, [])])
    produce_values(broker, 'dr', 5)
    assert delete_records(broker, version, 'dr', [(0, 2), (1, 0), (7, 0)]) == [
        (0, 2, NONE), (1, 0, NONE), (7, -1, UNKNOWN_TOPIC_OR_PARTITION)]
    assert delete_records(broker, version, 'dr', [(0, 1)]) == [(0, 2, NONE)]
    assert delete_records(broker, version, 'dr', [(0, 6), (1, -2)]) == [
        (0, -1, OFFSET_OUT_OF_RANGE), (1, -1, OFFSET_OUT_OF_RANGE)]
    assert delete_records(broker, version, 'dr', [(0, -1)]) == [(0, 5, NONE)]
    assert delete_records(broker, version, 'compacted', [(0, 0)]) == [(0, -1, POLICY_VIOLATION)]
    assert delete_records(broker, version, internal_topic(broker), [(0, 0)]) == [(0, -1, INVALID_TOPIC_EXCEPTION)]
    assert delete_records(broker, version, 'missing', [(0, 0)]) == [(0, -1, UNKNOWN_TOPIC_OR_PARTITION)]


# ---- Cluster APIs ----------------------------------------------------------

@pytest.mark.parametrize('version', range(2))
def test_describe_cluster(broker, version):
    def body(endpoint):
        def write(w):
            w.bool(True)
            if version >= 1:
                w.i8(endpoint)
            w.tags()
        return write

    def decode(r):
        out = {'throttle': r.i32(), 'error_code': r.i16(), 'error_message': r.s(nullable=True)}
        if version >= 1:
            out['endpoint_type'] = r.i8()
        out['cluster_id'] = r.s()
        out['controller_id'] = r.i32()

        def brk():
            out = (r.i32(), r.s(), r.i32(), r.s(nullable=True))
            r.end()
            return out
        out['brokers'] = r.arr(brk)
        out['ops'] = r.i32()
        r.end()
        r.done()
        return out

    d = decode(call(broker, DESCRIBE_CLUSTER, version, body(1)))
    with Connection(broker.host, broker.port) as c:
        cluster_id = c.metadata(4)['cluster_id']
    assert (d['error_code'], d['cluster_id'], d['controller_id']) == (NONE, cluster_id, 1)
    assert d['brokers'] == [(1, '127.0.0.1', broker.port, None)]
    assert d['ops'] == 0b1111110100000
    if version >= 1:
        d = decode(call(broker, DESCRIBE_CLUSTER, version, body(2)))
        assert (d['error_code'], d['error_message']) == (
            MISMATCHED_ENDPOINT_TYPE, 'The request was sent to an endpoint of type BROKER, but we wanted an '
                                      'endpoint of type CONTROLLER')
        d = decode(call(broker, DESCRIBE_CLUSTER, version, body(7)))
        assert (d['error_code'], d['error_message']) == (UNSUPPORTED_ENDPOINT_TYPE, 'Unsupported endpoint type 7')


@pytest.mark.parametrize('version', range(1, 5))
def test_describe_log_dirs(broker, version):
    create_topics(broker, 5, [('ld', 2, 1, {}, [])])
    produce_values(broker, 'ld', 3)

    def body(topics):
        def write(w):
            w.arr(topics, lambda t: w.s(t[0]).arr(t[1], w.i32).tags())
            w.tags()
        return write

    def decode(r):
        assert r.i32() == 0
        if version >= 3:
            assert r.i16() == NONE

        def part():
            out = (r.i32(), r.i64(), r.i64(), r.bool())
            r.end()
            return out

        def topic():
            out = (r.s(), r.arr(part))
            r.end()
            return out

        def result():
            out = {'error_code': r.i16(), 'log_dir': r.s(), 'topics': dict(r.arr(topic))}
            if version >= 4:
                out['total'], out['usable'] = r.i64(), r.i64()
            r.end()
            return out
        (res,) = r.arr(result)
        r.end()
        r.done()
        return res

    res = decode(call(broker, DESCRIBE_LOG_DIRS, version, body(None)))
    assert res['error_code'] == NONE
    assert res['log_dir'] == str(broker.data_dir.resolve())
    (p0, p1) = sorted(res['topics']['ld'])
    assert p0[0] == 0 and p0[1] > 0 and p0[2:] == (0, False)
    assert p1 == (1, 0, 0, False)
    if version >= 4:
        assert res['total'] >= res['usable'] > 0
    res = decode(call(broker, DESCRIBE_LOG_DIRS, version, body([('ld', [1, 5]), ('missing', [0])])))
    assert res['topics'] == {'ld': [(1, 0, 0, False)]}


@pytest.mark.parametrize('version', range(2, 5))
def test_offset_for_leader_epoch(broker, version):
    create_topics(broker, 5, [('ep', 1, 1, {}, [])])
    produce_values(broker, 'ep', 4)
    delete_records(broker, 2, 'ep', [(0, 1)])

    def body(parts):
        def write(w):
            if version >= 3:
                w.i32(-1)
            w.arr([('ep', parts), ('missing', [(0, -1, 0)])], lambda t: w.s(t[0]).arr(
                t[1], lambda p: (w.i32(p[0]), w.i32(p[1]), w.i32(p[2]), w.tags())).tags())
            w.tags()
        return write

    parts = [(0, -1, 0), (0, -1, 5), (0, -1, -3), (0, -1, -1), (3, -1, 0), (0, 0, 0), (0, 1, 0)]
    r = call(broker, OFFSET_FOR_LEADER_EPOCH, version, body(parts))
    assert r.i32() == 0

    def part():
        out = (r.i16(), r.i32(), r.i32(), r.i64())
        r.end()
        return out

    def topic():
        out = (r.s(), r.arr(part))
        r.end()
        return out
    got = dict(r.arr(topic))
    r.end()
    r.done()
    want = [(NONE, 0, 0, 4), (NONE, 0, -1, -1), (NONE, 0, -3, 1), (NONE, 0, -1, -1),
            (UNKNOWN_TOPIC_OR_PARTITION, 3, -1, -1), (NONE, 0, 0, 4), (UNKNOWN_LEADER_EPOCH, 0, -1, -1)]
    assert got == {'ep': want, 'missing': [(UNKNOWN_TOPIC_OR_PARTITION, 0, -1, -1)]}


@pytest.mark.parametrize('version', range(3))
def test_elect_leaders(broker, version):
    create_topics(broker, 5, [('el', 2, 1, {}, [])])

    def body(topics, election_type=0):
        def write(w):
            if version >= 1:
                w.i8(election_type)
            w.arr(topics, lambda t: w.s(t[0]).arr(t[1], w.i32).tags())
            w.i32(1000).tags()
        return write

    def decode(r):
        assert r.i32() == 0
        top = r.i16() if version >= 1 else None

        def part():
            out = (r.i32(), r.i16(), r.s(nullable=True))
            r.end()
            return out

        def topic():
            out = (r.s(), r.arr(part))
            r.end()
            return out
        res = r.arr(topic)
        r.end()
        r.done()
        return top, res

    top, res = decode(call(broker, ELECT_LEADERS, version, body([('el', [0, 1, 2]), ('missing', [0])])))
    assert top in (None, NONE)
    assert res == [('el', [(0, ELECTION_NOT_NEEDED, 'Leader election not needed for topic partition.'),
                           (1, ELECTION_NOT_NEEDED, 'Leader election not needed for topic partition.'),
                           (2, UNKNOWN_TOPIC_OR_PARTITION, 'No such partition as el-2')]),
                   ('missing', [(0, UNKNOWN_TOPIC_OR_PARTITION, 'No such topic as missing')])]
    top, res = decode(call(broker, ELECT_LEADERS, version, body(None)))
    res = dict(res)
    assert res['el'] == []
    assert all(parts == [] for parts in res.values())
    if version >= 1:
        top, res = decode(call(broker, ELECT_LEADERS, version, body([('el', [0])], election_type=5)))
        assert (top, res) == (INVALID_REQUEST, [('el', [(0, INVALID_REQUEST, 'Unknown election type 5')])])


@pytest.mark.parametrize('api,version', [(LIST_OFFSETS, 0), (CREATE_TOPICS, 0), (CREATE_TOPICS, 1),
                                         (DELETE_TOPICS, 0), (OFFSET_FOR_LEADER_EPOCH, 0),
                                         (OFFSET_FOR_LEADER_EPOCH, 1), (DESCRIBE_CONFIGS, 0),
                                         (DESCRIBE_LOG_DIRS, 0), (8, 0), (8, 1), (9, 0)])
def test_versions_kafka_4_removed_close_the_connection(broker, api, version):
    """KIP-896: Kafka 4 refuses these versions (the request is not enabled:
    the connection is closed), so a client that still sends them fails here
    as it would against Kafka."""
    with Connection(broker.host, broker.port) as c:
        c.send(api, version, b'')
        assert c.wait_closed()
    with Connection(broker.host, broker.port) as c:
        assert c.api_versions(3)['error_code'] == NONE


def test_api_versions_advertise_the_admin_apis(broker):
    with Connection(broker.host, broker.port) as c:
        keys = c.api_versions(3)['api_keys']
    assert {k: keys[k] for k in (19, 20, 21, 23, 32, 33, 35, 37, 43, 44, 60)} == {
        19: (2, 7), 20: (1, 6), 21: (0, 2), 23: (2, 4), 32: (1, 4), 33: (0, 2), 35: (1, 4), 37: (0, 3),
        43: (0, 2), 44: (0, 1), 60: (0, 1)}
