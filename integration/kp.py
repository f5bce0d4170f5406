"""kafka-python across the two versions the tests run: Debian's 2.0.2 and
3.0.12 from PyPI (client_versions.py). kafka-python 3 dropped a setting and
the low-level client class, and its admin client answers with dicts of
fields instead of response objects; the helpers here give the tests one
shape for both, so every assertion stays the same.
"""

import re
from collections import namedtuple

import kafka
import kafka.errors as Errors
from kafka.admin import ConfigResource
from kafka.structs import OffsetAndMetadata

KP3 = int(kafka.__version__.split('.')[0]) >= 3

# Kafka's ConfigSource numbers (DescribeConfigs v1+), by kafka-python 3's names.
CONFIG_SOURCES = {'UNKNOWN': 0, 'DYNAMIC_TOPIC_CONFIG': 1, 'DYNAMIC_BROKER_CONFIG': 2,
                  'DYNAMIC_DEFAULT_BROKER_CONFIG': 3, 'STATIC_BROKER_CONFIG': 4, 'DEFAULT_CONFIG': 5,
                  'DYNAMIC_BROKER_LOGGER_CONFIG': 6, 'CLIENT_METRICS_CONFIG': 7, 'GROUP_CONFIG': 8}

_ERROR = re.compile(r'\[Error (\d+)\] \w+: (.*)', re.S)


def timeouts(ms):
    """The probe timeout setting, which kafka-python 3 no longer has (it
    reads the broker's ApiVersions instead of probing)."""
    return {} if KP3 else {'api_version_auto_timeout_ms': ms}


def check_version(bootstrap, timeout_ms):
    """The broker version kafka-python's low-level client settles on."""
    if KP3:
        from kafka.net.compat import KafkaNetClient
        client = KafkaNetClient(bootstrap_servers=bootstrap)
        try:
            return client.check_version(timeout_ms=timeout_ms)
        finally:
            client.close()
    client = kafka.KafkaClient(bootstrap_servers=bootstrap, api_version_auto_timeout_ms=timeout_ms)
    try:
        return client.check_version(timeout=timeout_ms / 1000)
    finally:
        client.close()


def topic_errors(resp):
    """[(topic, error code)] of a CreateTopics, DeleteTopics or
    CreatePartitions answer, as the admin client returns it."""
    if isinstance(resp, dict):
        return [(t['name'], t['error_code']) for t in resp['topics']]
    for attr in ('topic_errors', 'topic_error_codes', 'results'):
        if hasattr(resp, attr):
            rows = getattr(resp, attr)
            break
    if attr == 'results':
        return [(r.name, r.error_code) for r in rows]
    return [(name, code) for name, code, *_ in rows]


def configs(admin, rtype, name):
    """{key: (value, read_only, config_source number)} of one resource, every key."""
    if KP3:
        got = admin.describe_configs([ConfigResource(rtype, name)], config_filter='all')
        ((entries,),) = [v.values() for v in got.values()]
        return {k: (e['value'], e['read_only'], CONFIG_SOURCES[e['config_source']]) for k, e in entries.items()}
    (resp,) = admin.describe_configs([ConfigResource(rtype, name)])
    ((err, _msg, _rtype, got_name, entries),) = resp.resources
    assert (err, got_name) == (0, name)
    return {k: (value, ro, source) for k, value, ro, source, _sensitive, _syn in entries}


def alter_configs(admin, rtype, name, settings):
    """(error code, error message) of an AlterConfigs on one resource; kafka-python
    3 picks IncrementalAlterConfigs and checks keys itself unless told not to."""
    if KP3:
        got = admin.alter_configs([ConfigResource(rtype, name, configs=settings)], incremental=False,
                                  raise_on_unknown=False)
        ((result,),) = [v.values() for v in got.values()]
        if result == 'OK':
            return 0, None
        m = _ERROR.fullmatch(result)
        assert m, result
        return int(m.group(1)), m.group(2)
    (resp,) = admin.alter_configs([ConfigResource(rtype, name, configs=settings)]),
    ((code, msg, *_),) = resp.resources
    return code, msg


def partition_ids(topic):
    """The partition numbers of one describe_topics entry (kafka-python 3
    names the field as the newer Metadata schema does)."""
    return [p['partition_index'] if KP3 else p['partition'] for p in topic['partitions']]


def broker_ids(cluster):
    """[(node id, host, port)] of describe_cluster()."""
    key = 'broker_id' if KP3 else 'node_id'
    return [(b[key], b['host'], b['port']) for b in cluster['brokers']]


def offset_and_metadata(offset, metadata):
    """An OffsetAndMetadata to commit (kafka-python 3 adds the leader epoch)."""
    return OffsetAndMetadata(offset, metadata, -1) if KP3 else OffsetAndMetadata(offset, metadata)


def list_groups(admin):
    """[(group id, protocol type)] of every group."""
    if KP3:
        return [(g['group_id'], g['protocol_type']) for g in admin.list_groups()]
    return admin.list_consumer_groups()


Member = namedtuple('Member', 'member_id client_id client_host subscription assignment')
Group = namedtuple('Group', 'group state protocol_type protocol members')


def describe_group(admin, group):
    """One group as DescribeGroups gives it; a member's assignment is
    [(topic, [partition])]."""
    if KP3:
        g = admin.describe_groups([group])[group]
        members = [Member(m['member_id'], m['client_id'], m['client_host'],
                          (m['member_metadata'] or {}).get('topics'),
                          [(a['topic'], a['partitions'])
                           for a in (m['member_assignment'] or {}).get('assigned_partitions', [])])
                   for m in g['members']]
        return Group(g['group_id'], g['group_state'], g['protocol_type'], g['protocol_data'], members)
    (g,) = admin.describe_consumer_groups([group])
    members = [Member(m.member_id, m.client_id, m.client_host, m.member_metadata.subscription,
                      [(t, list(ps)) for t, ps in m.member_assignment.assignment]) for m in g.members]
    return Group(g.group, g.state, g.protocol_type, g.protocol, members)


def group_offsets(admin, group, partitions=None):
    """{TopicPartition: (offset, metadata)} committed by a group."""
    if KP3:
        got = admin.list_group_offsets({group: partitions})[group]
    else:
        got = admin.list_consumer_group_offsets(group, partitions=partitions)
    return {tp: (o.offset, o.metadata) for tp, o in got.items()}


def delete_groups(admin, groups):
    """[(group id, error class)] of a DeleteGroups (NoError when deleted)."""
    if KP3:
        got = admin.delete_groups(groups)
        return [(g, Errors.NoError if got[g] == 'OK' else getattr(Errors, got[g])) for g in groups]
    return admin.delete_consumer_groups(groups)
