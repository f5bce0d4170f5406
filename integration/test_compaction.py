"""The log cleaner with real clients (confluent-kafka-python / librdkafka):
keyed records with many overwrites, tombstones, lz4-compressed batches and
committed and aborted transactions go to a topic whose cleanup.policy is
switched from delete to compact with AlterConfigs (no restart); the broker's
log.segment.bytes is small so the data lies in closed segments. Waiting is
bounded polling of what a read_uncommitted consumer from offset 0 sees, until
it is exactly the newest value per key at its original offset (no aborted
record, no older value). Tombstones stay until delete.retention.ms and then
go. A SIGKILL right after more overwrites, a restart, and the same result;
a SIGKILL inside a (throttled) pass leaves the log as it was.
__consumer_offsets shrinks under thousands of commits and the group resumes
at its last commit after a restart."""

import json
import signal
import subprocess
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from control import Control
from harness import SKIFF_BIN, broker_env
from test_produce_fetch import TIMEOUT, consumer_conf, producer_conf

WAIT = 90.0                  # seconds the cleaner may take to reach a state
TOPIC = 'compacted'
CLEANER = {'log.segment.bytes': 16384, 'log.cleaner.backoff.ms': 100}


def admin(bootstrap):
    return AdminClient({'bootstrap.servers': bootstrap})


def create_topic(bootstrap, name, config):
    a = admin(bootstrap)
    a.create_topics([NewTopic(name, 1, 1, config=config)])[name].result(TIMEOUT)


def alter_topic(bootstrap, name, config):
    a = admin(bootstrap)
    futures = a.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, name, set_config=config)])
    for f in futures.values():
        f.result(TIMEOUT)


def produce(bootstrap, items, transactional_id=None, abort=False, **conf):
    """Produces (key, value) pairs; returns {key: (offset, value)} of what was
    written, in order. In a transaction when `transactional_id` is set."""
    extra = {'batch.size': 4096}   # requests stay below log.segment.bytes
    extra.update(conf)
    if transactional_id:
        extra['transactional.id'] = transactional_id
    p = Producer(producer_conf(bootstrap, **extra))
    offsets = [None] * len(items)

    def delivered(i):
        def cb(err, msg):
            assert err is None, f'delivery failed: {err}'
            offsets[i] = msg.offset()
        return cb

    if transactional_id:
        p.init_transactions(TIMEOUT)
        p.begin_transaction()
    for i, (k, v) in enumerate(items):
        p.produce(TOPIC, key=k, value=v, partition=0, on_delivery=delivered(i))
        p.poll(0)
    assert p.flush(TIMEOUT) == 0
    if transactional_id:
        if abort:
            p.abort_transaction(TIMEOUT)
        else:
            p.commit_transaction(TIMEOUT)
    return [(k, off, v) for (k, v), off in zip(items, offsets)]


def read_all(bootstrap):
    """Every record of partition 0, read_uncommitted, as (offset, key, value)."""
    c = Consumer(consumer_conf(bootstrap, isolation_level='read_uncommitted'))
    try:
        low, high = c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=TIMEOUT)
        c.assign([TopicPartition(TOPIC, 0, low)])
        got = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if got and got[-1][0] >= high - 1:
                break
            m = c.poll(0.2)
            if m is None:
                continue
            assert m.error() is None, f'consumer error: {m.error()}'
            got.append((m.offset(), m.key(), m.value()))
        return got
    finally:
        c.close()


def latest(written):
    """{key: (offset, value)}: the newest committed write of each key."""
    out = {}
    for k, off, v in written:
        out[k] = (off, v)
    return out


def wait_for(bootstrap, state, what, tick=None):
    """Polls until the log reads as exactly `state` ({key: (offset, value)});
    `tick()` (optional) writes more records each round (passes need new dirty
    segments) and returns them, added to `state`. Fails with the difference
    after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    got = want = None
    while time.monotonic() < deadline:
        got, want = read_all(bootstrap), expected(state)
        if got == want:
            return
        if tick:
            state.update(latest(tick()))
        time.sleep(0.3)
    extra = [r for r in got if r not in want][:10]
    missing = [r for r in want if r not in got][:10]
    raise AssertionError(f'{what}: log never became the expected one; extra {extra}, missing {missing}')


def expected(state):
    return sorted((off, k, v) for k, (off, v) in state.items())


def fillers(n, tag):
    """Unique keys that push the test data out of the active segment."""
    return [(b'filler-%s-%d' % (tag, i), b'x' * 200) for i in range(n)]


@pytest.mark.smoke
def test_compaction_newest_value_per_key(start_broker):
    b = start_broker(config=CLEANER)
    create_topic(b.bootstrap, TOPIC, {'cleanup.policy': 'delete'})
    keys = [b'key-%03d' % i for i in range(150)]
    written = []
    for r in range(6):
        written += produce(b.bootstrap, [(k, b'plain-%d-%s' % (r, k)) for k in keys])
    for r in range(6, 10):
        written += produce(b.bootstrap, [(k, b'lz4-%d-%s' % (r, k)) for k in keys], compression_type='lz4')
    written += produce(b.bootstrap, [(k, b'committed-%s' % k) for k in keys[:50]], transactional_id='tx-c')
    aborted = produce(b.bootstrap, [(k, b'ABORTED') for k in keys[50:100]], transactional_id='tx-a', abort=True)
    assert all(off is not None for _, off, _ in aborted)
    written += produce(b.bootstrap, [(k, None) for k in keys[140:]])       # tombstones
    written += produce(b.bootstrap, fillers(120, b'a'))
    everything = len(read_all(b.bootstrap))
    assert everything >= len(written) + len(aborted)

    # Not compacted under cleanup.policy=delete; switched live.
    time.sleep(1.0)
    assert len(read_all(b.bootstrap)) == everything
    alter_topic(b.bootstrap, TOPIC, {'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.01',
                                     'delete.retention.ms': '86400000'})
    state = latest(written)
    assert [state[k][1] for k in keys[140:]] == [None] * 10               # tombstones kept for now
    # One pass over the closed segments leaves the newest value per key.
    wait_for(b.bootstrap, state, 'after switching to compact')
    assert b'ABORTED' not in [v for _, _, v in read_all(b.bootstrap)]

    # With delete.retention.ms 0, new tombstones get a horizon of "now" at
    # their first cleaning and go at the next pass, with the older values of
    # their keys; the earlier tombstones keep their one-day horizon.
    alter_topic(b.bootstrap, TOPIC, {'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.01',
                                     'delete.retention.ms': '0'})
    state.update(latest(produce(b.bootstrap, [(k, None) for k in keys[130:140]])))
    state.update(latest(produce(b.bootstrap, fillers(120, b'b'))))
    for k in keys[130:140]:
        del state[k]
    rounds = iter(range(1000))
    wait_for(b.bootstrap, state, 'after delete.retention.ms',
             tick=lambda: produce(b.bootstrap, fillers(80, b'tick-%d' % next(rounds))))

    # More overwrites, SIGKILL at once (the cleaner may be mid-pass), restart:
    # the same result, offsets unchanged.
    state.update(latest(produce(b.bootstrap, [(k, b'final-%s' % k) for k in keys[:30]])))
    last = produce(b.bootstrap, fillers(120, b'c'))
    state.update(latest(last))
    b.stop(signal.SIGKILL, expect=-signal.SIGKILL)
    b.start(port=b.port)
    wait_for(b.bootstrap, state, 'after SIGKILL and restart')
    b.restart()
    assert read_all(b.bootstrap) == expected(state)
    produced = produce(b.bootstrap, [(b'new', b'after')])
    assert produced[0][1] == last[-1][1] + 1


def test_compact_now_through_the_control_plane(start_broker):
    """POST /v1/topics/T/compact runs the cleaner over the topic now and
    answers once the passes are done: no sleeping for the background
    cleaner, whose checks here are an hour apart."""
    b = start_broker(config={'log.segment.bytes': 16384, 'log.cleaner.backoff.ms': 3600000})
    ctl = Control(b.http_url)
    create_topic(b.bootstrap, TOPIC, {'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.99'})
    create_topic(b.bootstrap, 'plain', {'cleanup.policy': 'delete'})
    keys = [b'key-%03d' % i for i in range(100)]
    written = []
    for r in range(4):
        written += produce(b.bootstrap, [(k, b'round-%d-%s' % (r, k)) for k in keys])
    state = latest(written)
    assert len(read_all(b.bootstrap)) == len(written)
    # The active segment is never cleaned: roll it, so every record is in a
    # closed segment.
    assert ctl.post(f'/v1/topics/{TOPIC}/roll')[0] == 200

    status, body = ctl.post(f'/v1/topics/{TOPIC}/compact', {'timeout_ms': 60000})
    assert status == 200 and body['met'] is True, body
    assert body['state']['passes'] == 1 and body['state']['running'] is False
    assert body['state']['records_removed'] == 300
    assert read_all(b.bootstrap) == expected(state)

    # The same from the command line: nothing left to clean, done at once.
    res = subprocess.run([SKIFF_BIN, 'ctl', '--json', 'topic', 'compact', TOPIC, '--timeout', '30s'],
                         env=broker_env({'SKIFF_HTTP_URL': b.http_url}), capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)['state']['passes'] == 1

    assert ctl.post('/v1/topics/plain/compact')[0] == 409
    assert ctl.post('/v1/topics/nope/compact')[0] == 404
    assert ctl.post(f'/v1/topics/{TOPIC}/partitions/3/compact')[0] == 404
    assert ctl.post(f'/v1/topics/{TOPIC}/compact', {'nope': 1})[0] == 400
    metrics = ctl.get('/metrics')[1]
    passes = [line for line in metrics.splitlines() if line.startswith('skiff_log_cleaner_passes_total ')]
    assert passes and int(passes[0].split()[1]) >= 1


def test_sigkill_during_a_pass(start_broker):
    """The pass is slowed by log.cleaner.io.max.bytes.per.second so the kill
    lands in it (after its start line, before its end line): after the
    restart the log reads exactly as before, its .cleaned files are gone,
    and the next passes reach the cleaned state."""
    b = start_broker(config=dict(CLEANER, **{'log.cleaner.io.max.bytes.per.second': 20000}))
    create_topic(b.bootstrap, TOPIC, {'cleanup.policy': 'delete'})
    keys = [b'key-%02d' % i for i in range(40)]
    written = []
    for r in range(5):
        written += produce(b.bootstrap, [(k, b'v-%d-%s' % (r, k)) for k in keys])
    written += produce(b.bootstrap, fillers(80, b'a'))
    before = read_all(b.bootstrap)
    alter_topic(b.bootstrap, TOPIC, {'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.01'})
    deadline = time.monotonic() + WAIT
    while 'cleaning offsets' not in b.log and time.monotonic() < deadline:
        time.sleep(0.05)
    assert 'cleaning offsets' in b.log
    assert 'cleaned offsets' not in b.log
    b.stop(signal.SIGKILL, expect=-signal.SIGKILL)
    b.start(port=b.port)
    # Nothing is swapped in before the pass ends: the log is as it was.
    assert read_all(b.bootstrap) == before
    wait_for(b.bootstrap, latest(written), 'after SIGKILL in a pass')
    assert not [p.name for p in (b.data_dir / f'{TOPIC}-0').iterdir() if p.name.endswith(('.cleaned', '.swap'))]


def offsets_log_bytes(b):
    total = 0
    for f in (b.data_dir / '__consumer_offsets-0').glob('*.log'):
        try:
            total += f.stat().st_size
        except FileNotFoundError:
            pass  # the cleaner swapped the segment out between the listing and the stat
    return total


def test_consumer_offsets_shrink_and_group_resumes(start_broker):
    b = start_broker(config={'log.segment.bytes': 65536, 'log.cleaner.backoff.ms': 100})
    create_topic(b.bootstrap, TOPIC, {'cleanup.policy': 'compact'})
    produce(b.bootstrap, [(b'k', b'v')])
    c = Consumer({'bootstrap.servers': b.bootstrap, 'group.id': 'many-commits', 'enable.auto.commit': False})
    commits = 100000
    try:
        c.assign([TopicPartition(TOPIC, 0)])
        for i in range(1, commits + 1):
            c.commit(offsets=[TopicPartition(TOPIC, 0, i)], asynchronous=i % 500 != 0)
            if i % 100 == 0:
                c.poll(0)
    finally:
        c.close()
    # Every commit is a record of about 100 bytes: well over 1 MiB written.
    deadline = time.monotonic() + WAIT
    size = offsets_log_bytes(b)
    while size > 3 * 65536 and time.monotonic() < deadline:
        time.sleep(0.3)
        size = offsets_log_bytes(b)
    assert size <= 3 * 65536, f'__consumer_offsets still holds {size} bytes'
    b.restart()
    c = Consumer({'bootstrap.servers': b.bootstrap, 'group.id': 'many-commits', 'enable.auto.commit': False})
    try:
        (tp,) = c.committed([TopicPartition(TOPIC, 0)], timeout=TIMEOUT)
        assert tp.offset == commits
    finally:
        c.close()
