"""Exactly-once under repeated crashes: the broker is killed with SIGKILL and
restarted on the same port and data directory again and again while real
clients work against it.

- An idempotent producer (acks=all, 5 requests in flight) keeps producing:
  afterwards every acknowledged record is in the log exactly once, at the
  offset it was acknowledged with, and nothing is duplicated or reordered.
- A consume-transform-produce loop with transactions and
  send_offsets_to_transaction keeps copying an input topic: afterwards a
  read_committed consumer sees every input record exactly once in the
  output, in partition order, and the group's committed offsets are at the
  end of the input. Once with confluent-kafka-python, once with kafkajs
  (integration/js/crash_copy.js, which needs `npm ci` in integration/js).

Each kill waits until the clients have made progress since the last start,
so it lands in the middle of their work. The clients are paced by a budget
(Budget): they may get STEP records past their progress at the last
restart, so they cannot finish before all KILLS kills have landed, however
fast they run; after the last kill the budget is lifted.
"""

import json
import os
import signal
import subprocess
import threading
import time

import pytest
from client_versions import LIBRDKAFKA
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from test_produce_fetch import TIMEOUT
from test_txn import committed
from test_txn_kafkajs import JS_DIR

pytestmark = pytest.mark.librdkafka

KILLS = 5
DEADLINE = 180.0


class Budget:
    """How far the clients may get (records produced, or copied): `step`
    past their progress at the last restart, unbounded after the last kill.
    A client in another process reads it from `path`."""

    UNBOUNDED = 10 ** 12

    def __init__(self, step, path=None):
        self.step, self.path, self.limit = step, path, 0
        self.allow(0)

    def allow(self, progress):
        self.set(max(self.limit, progress + self.step))

    def set(self, limit):
        self.limit = limit
        if self.path:
            tmp = self.path.with_suffix('.tmp')
            tmp.write_text(str(limit))
            os.replace(tmp, self.path)

    def wait(self, used, idle=lambda: time.sleep(0.01)):
        """Blocks an in-process client until it may go past `used`, calling
        idle() meanwhile."""
        while used >= self.limit:
            idle()


def crash_loop(b, progress, budget, worker_done):
    """Kills and restarts `b` KILLS times, each once progress() has grown
    since the previous start, moving the budget on after each restart and
    lifting it at the end. Returns how many kills happened before the worker
    was done. The caller's thread must stay alive while the broker runs (it
    is the broker's parent for PR_SET_PDEATHSIG)."""
    deadline = time.monotonic() + DEADLINE
    kills = 0
    try:
        for _ in range(KILLS):
            mark = progress()
            while progress() == mark and not worker_done.is_set():
                assert time.monotonic() < deadline, 'the clients made no progress'
                time.sleep(0.02)
            if worker_done.is_set():
                break
            b.stop(signal.SIGKILL, expect=-signal.SIGKILL)
            b.start(port=b.port)
            kills += 1
            budget.allow(progress())
    finally:
        budget.set(Budget.UNBOUNDED)
    return kills


def read_all(bootstrap, topic, partitions, expect, isolation='read_uncommitted'):
    """(offset, value) per partition, waiting until `expect` records came."""
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'crash-check', 'enable.auto.commit': False,
                  'isolation.level': isolation})
    got = {p: [] for p in range(partitions)}
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        deadline = time.monotonic() + TIMEOUT
        while sum(map(len, got.values())) < expect and time.monotonic() < deadline:
            for m in c.consume(1000, 0.5):
                if m.error() is None:
                    got[m.partition()].append((m.offset(), m.value()))
        for m in c.consume(1000, 1.0):  # nothing more may come
            if m.error() is None:
                got[m.partition()].append((m.offset(), m.value()))
    finally:
        c.close()
    return got


PER_PARTITION = 400  # input records per partition of the copy tests (3 partitions)


def seed_input(b):
    p = Producer({'bootstrap.servers': b.bootstrap})
    for part in range(3):
        for i in range(PER_PARTITION):
            p.produce('crash-in', value=b'%d-%05d' % (part, i), partition=part)
    assert p.flush(TIMEOUT) == 0


def check_copy(b, group):
    """crash-out holds crash-in exactly once, read_committed, and `group`
    committed the end of crash-in."""
    got = read_all(b.bootstrap, 'crash-out', 3, 3 * PER_PARTITION, 'read_committed')
    for part in range(3):
        assert [v for _, v in got[part]] == [b'%d-%05d' % (part, i) for i in range(PER_PARTITION)]
    assert committed(b.bootstrap, group, 'crash-in', range(3)) == [PER_PARTITION] * 3


def test_idempotent_producer_survives_kills(start_broker):
    b = start_broker(num_partitions=2)
    n = 60000
    budget = Budget(n // (2 * KILLS))
    acked, failed = {0: [], 1: []}, []

    def on_delivery(err, m):
        if err is None:
            acked[m.partition()].append((m.offset(), m.value()))
        else:
            failed.append(err)

    p = Producer({'bootstrap.servers': b.bootstrap, 'enable.idempotence': True, 'linger.ms': 5,
                  'batch.num.messages': 200, 'message.timeout.ms': int(DEADLINE * 1000)})
    done = threading.Event()

    def produce():
        try:
            for i in range(n):
                budget.wait(i, idle=lambda: p.poll(0.01))  # poll: acknowledgements are progress
                while True:
                    try:
                        p.produce('crash', value=b'%08d' % i, partition=i % 2, on_delivery=on_delivery)
                        break
                    except BufferError:
                        p.poll(0.05)
                p.poll(0)
            p.flush(DEADLINE)
        finally:
            done.set()

    t = threading.Thread(target=produce)
    t.start()
    kills = crash_loop(b, lambda: len(acked[0]) + len(acked[1]), budget, done)
    t.join(DEADLINE)
    assert kills == KILLS
    assert not t.is_alive()
    assert failed == []
    got = read_all(b.bootstrap, 'crash', 2, n)
    for part in range(2):
        assert len(acked[part]) == n // 2
        assert got[part] == sorted(acked[part])
        assert [v for _, v in got[part]] == [b'%08d' % i for i in range(part, n, 2)]


@pytest.mark.skipif(LIBRDKAFKA == 'pypi', reason=(
    "librdkafka 2.16.0 (the PyPI wheel's) re-bootstraps when its only broker is killed, and the decommissioned "
    "broker handle never terminates ('Handle is terminating in state TRY_CONNECT' every millisecond in its debug "
    "log), so send_offsets_to_transaction waits for ever after the first restart; seen outside the test too, "
    "while 2.0.2 and 2.15.1 pass"))
def test_consume_transform_produce_survives_kills(start_broker):
    b = start_broker(num_partitions=3)
    seed_input(b)
    budget = Budget(3 * PER_PARTITION // (2 * KILLS))
    copied_so_far = [0]
    done = threading.Event()
    errors = []

    def transactional_producer():
        pr = Producer({'bootstrap.servers': b.bootstrap, 'transactional.id': 'crash-loop',
                       'transaction.timeout.ms': 20000, 'message.timeout.ms': 20000})
        retried(lambda: pr.init_transactions(TIMEOUT))
        return pr

    def retried(call):
        while True:
            try:
                return call()
            except KafkaException as e:
                if not e.args[0].retriable():
                    raise

    def rewind(c):
        """Seeks to the committed offsets; returns how many records they cover."""
        tps = retried(lambda: c.committed(c.assignment(), TIMEOUT))
        for tp in tps:
            c.seek(TopicPartition(tp.topic, tp.partition, max(tp.offset, 0)))
        return sum(max(tp.offset, 0) for tp in tps)

    def copy():
        try:
            c = Consumer({'bootstrap.servers': b.bootstrap, 'group.id': 'crash-copy', 'enable.auto.commit': False,
                          'auto.offset.reset': 'earliest', 'isolation.level': 'read_committed'})
            c.subscribe(['crash-in'])
            pr = transactional_producer()
            copied = 0
            while copied < 3 * PER_PARTITION:
                budget.wait(copied)
                msgs = [m for m in c.consume(5, 0.5) if m.error() is None]
                if not msgs:
                    continue
                try:
                    pr.begin_transaction()
                    for m in msgs:
                        pr.produce('crash-out', value=m.value(), partition=m.partition())
                    pr.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), TIMEOUT)
                    retried(lambda: pr.commit_transaction(TIMEOUT))
                    copied += len(msgs)
                    copied_so_far[0] = copied
                except KafkaException as e:
                    try:
                        if not e.args[0].txn_requires_abort():
                            raise
                        retried(lambda: pr.abort_transaction(TIMEOUT))
                    except KafkaException:
                        pr = transactional_producer()  # fatal: a new producer fences the old
                    copied = rewind(c)
            c.close()
        except Exception as e:  # reported by the main thread
            errors.append(e)
        finally:
            done.set()

    t = threading.Thread(target=copy)
    t.start()
    kills = crash_loop(b, lambda: copied_so_far[0], budget, done)
    t.join(DEADLINE)
    assert kills == KILLS
    assert not t.is_alive()
    assert errors == []
    check_copy(b, 'crash-copy')


def test_kafkajs_consume_transform_produce_survives_kills(start_broker, tmp_path):
    if not (JS_DIR / 'node_modules' / 'kafkajs').is_dir():
        pytest.fail('kafkajs is not installed: run `npm ci` in integration/js (scripts/test.sh does)')
    b = start_broker(num_partitions=3)
    seed_input(b)
    budget = Budget(3 * PER_PARTITION // (2 * KILLS), tmp_path / 'budget')
    job = {'brokers': [b.bootstrap], 'input': 'crash-in', 'output': 'crash-out', 'groupId': 'crash-js',
           'transactionalId': 'crash-js', 'total': 3 * PER_PARTITION, 'perTransaction': 5,
           'budgetFile': str(budget.path)}
    env = dict(os.environ, KAFKAJS_NO_PARTITIONER_WARNING='1')
    errors = tmp_path / 'crash_copy.err'
    with open(errors, 'w') as err:
        proc = subprocess.Popen(['node', str(JS_DIR / 'crash_copy.js')], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=err, text=True, env=env, cwd=JS_DIR)
    proc.stdin.write(json.dumps(job))
    proc.stdin.close()
    copied, done, lines = [0], threading.Event(), []

    def read_progress():
        for line in proc.stdout:
            lines.append(line)
            if line.startswith('commit '):
                copied[0] = int(line.split()[2])
        done.set()

    reader = threading.Thread(target=read_progress)
    reader.start()
    try:
        kills = crash_loop(b, lambda: copied[0], budget, done)
        rc = proc.wait(DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
        reader.join()
    assert rc == 0, f'crash_copy.js exited {rc}:\n{errors.read_text()}'
    assert lines[-1] == f'done {3 * PER_PARTITION}\n'
    assert kills == KILLS
    check_copy(b, 'crash-js')
