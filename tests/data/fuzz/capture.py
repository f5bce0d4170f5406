#!/usr/bin/python3
"""Make the seed corpora of the fuzz targets in tests/fuzz from a real broker.

Runs build/skiff (or $SKIFF_BIN) with a fresh data directory, small segments
(log.segment.bytes 4096, an index entry every 256 bytes) and one partition
for __consumer_offsets and __transaction_state, then drives it with
confluent-kafka (librdkafka):
  - an idempotent producer writes keyed and keyless records to topic "fuzz"
    with each codec (none, gzip, snappy, lz4, zstd);
  - a transactional producer commits one transaction and aborts another
    (control batches, a .txnindex entry, __transaction_state records);
  - a consumer group reads "fuzz" and commits offsets (group metadata and
    offset commit records in __consumer_offsets);
  - another group's offsets go to a committed and an aborted transaction
    (transactional batches and markers in __consumer_offsets).
The broker is stopped with SIGTERM (a clean stop: producer snapshots,
checkpoints, trimmed indexes), and seeds are cut from its data directory:

  record_batch/   option byte + the .log bytes of a segment (each target's
                  header comment says what the option bytes mean), and the
                  client batches of tests/data/compressed as Produce records
  coord_records/  option byte + __consumer_offsets and __transaction_state
                  .log bytes, and the same records in the target's
                  length-prefixed framing
  log_files/      option byte + one file (checkpoints, partition.metadata,
                  a producer snapshot, .index, .timeindex, .txnindex), and
                  whole partition directories packed as entries of
                  u8 kind, u16 length, bytes (fuzz_log_files.c)

Each seed is capped at MAX_SEED bytes so the corpora stay small. The files
named regress_* in those directories are regression inputs and are kept.

Usage: /usr/bin/python3 tests/data/fuzz/capture.py
"""
import os
import struct
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
sys.path.insert(0, str(REPO / 'integration'))

from confluent_kafka import Consumer, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from harness import Broker  # noqa: E402

MAX_SEED = 16384
TOPIC = 'fuzz'
CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
CONFIG = {
    'log.segment.bytes': 4096,
    'log.index.interval.bytes': 256,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
}


def zigzag(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_uvarint(b, at):
    shift = value = 0
    while True:
        c = b[at]
        at += 1
        value |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return value, at


def read_varint(b, at):
    v, at = read_uvarint(b, at)
    return (v >> 1) ^ -(v & 1), at


def records_of(log):
    """(key, value) of each record of the uncompressed, non-control batches."""
    out = []
    at = 0
    while at + 61 <= len(log):
        length = struct.unpack_from('>i', log, at + 8)[0]
        attributes = struct.unpack_from('>h', log, at + 21)[0]
        count = struct.unpack_from('>i', log, at + 57)[0]
        end = at + 12 + length
        if attributes & 0x27 == 0:
            pos = at + 61
            for _ in range(count):
                _, pos = read_varint(log, pos)
                pos += 1                                      # attributes
                _, pos = read_varint(log, pos)                # timestamp delta
                _, pos = read_varint(log, pos)                # offset delta
                klen, pos = read_varint(log, pos)
                key = log[pos:pos + klen] if klen >= 0 else None
                pos += max(klen, 0)
                vlen, pos = read_varint(log, pos)
                value = log[pos:pos + vlen] if vlen >= 0 else None
                pos += max(vlen, 0)
                nh, pos = read_varint(log, pos)
                for _ in range(nh):
                    hk, pos = read_varint(log, pos)
                    pos += hk
                    hv, pos = read_varint(log, pos)
                    pos += max(hv, 0)
                out.append((key, value))
        at = end
    return out


def frame(records):
    out = bytearray()
    for key, value in records:
        out += zigzag(len(key)) + key
        out += zigzag(-1) if value is None else zigzag(len(value)) + value
    return bytes(out)


def whole_batches(log, limit):
    """The longest prefix of whole batches within `limit` bytes (at least one)."""
    at = 0
    while at + 61 <= len(log):
        end = at + 12 + struct.unpack_from('>i', log, at + 8)[0]
        if (end > limit or end > len(log)) and at > 0:
            break
        at = end
    return log[:at]


def write_seed(directory, name, data):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data[:MAX_SEED])


def entry(kind, data):
    return struct.pack('>BH', kind, len(data)) + data


def pack_partition(store, part, segments, checkpoints=True):
    """A fuzz_log_files partition container of `part` (first `segments`
    segments; without the checkpoints the target recovers every segment and
    checks that a clean restart keeps the offsets)."""
    out = bytearray()
    logs = sorted(part.glob('*.log'))[:segments]
    for n, log in enumerate(logs):
        base = int(log.stem)
        body = whole_batches(log.read_bytes(), 3000)
        out += entry(0 | n << 4, struct.pack('>q', base) + body)
        for kind, suffix in ((1, '.index'), (2, '.timeindex'), (3, '.txnindex')):
            f = log.with_suffix(suffix)
            if f.exists() and f.stat().st_size:
                out += entry(kind | n << 4, f.read_bytes()[:512])
    for snap in sorted(part.glob('*.snapshot'))[-1:]:
        out += entry(4, struct.pack('>q', int(snap.stem)) + snap.read_bytes()[:2048])
    meta = part / 'partition.metadata'
    if meta.exists():
        out += entry(5, meta.read_bytes())
    name = part.name.rsplit('-', 1)[0]
    for kind, fname in ((6, 'recovery-point-offset-checkpoint'), (7, 'log-start-offset-checkpoint')):
        f = store / fname
        if not checkpoints:
            break
        if f.exists():
            lines = f.read_text().splitlines()
            mine = [ln.replace(name + ' 0 ', 'fuzz 0 ', 1) for ln in lines[2:] if ln.startswith(name + ' 0 ')]
            out += entry(kind, ('0\n%d\n' % len(mine) + ''.join(m + '\n' for m in mine)).encode())
    return bytes(out)


def drive(bootstrap):
    admin = AdminClient({'bootstrap.servers': bootstrap})
    for f in admin.create_topics([NewTopic(TOPIC, 1, 1)]).values():
        f.result(30)
    for codec in CODECS:
        p = Producer({'bootstrap.servers': bootstrap, 'enable.idempotence': True, 'compression.type': codec,
                      'linger.ms': 20})
        for i in range(40):
            key = None if i % 5 == 0 else b'key-%d' % (i % 7)
            p.produce(TOPIC, key=key, value=b'%s value %d ' % (codec.encode(), i) + b'x' * (i % 13),
                      headers=[('h', b'v')] if i % 3 == 0 else None)
        p.flush(30)
    t = Producer({'bootstrap.servers': bootstrap, 'transactional.id': 'fuzz-txn', 'linger.ms': 5})
    t.init_transactions(30)
    for commit in (True, False):
        t.begin_transaction()
        for i in range(5):
            t.produce(TOPIC, key=b'txn-%d' % i, value=b'committed' if commit else b'aborted')
        t.flush(30)
        if commit:
            t.commit_transaction(30)
        else:
            t.abort_transaction(30)
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'fuzz-group', 'auto.offset.reset': 'earliest',
                  'enable.auto.commit': False, 'isolation.level': 'read_committed'})
    c.subscribe([TOPIC])
    got = 0
    while got < 50:
        m = c.poll(10)
        if m is None:
            break
        if not m.error():
            got += 1
            if got % 10 == 0:
                c.commit(m, asynchronous=False)
    c.close()
    # Offsets sent to transactions (transactional batches and markers in
    # __consumer_offsets): one committed, one aborted.
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'fuzz-ctp', 'auto.offset.reset': 'earliest',
                  'enable.auto.commit': False})
    c.subscribe([TOPIC])
    for commit in (True, False):
        t.begin_transaction()
        for _ in range(10):
            m = c.poll(10)
            if m is not None and not m.error():
                t.produce(TOPIC, key=b'ctp', value=m.value())
        t.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 30)
        if commit:
            t.commit_transaction(30)
        else:
            t.abort_transaction(30)
    c.close()


def main():
    with tempfile.TemporaryDirectory() as work:
        broker = Broker(work, 'seeds', config=CONFIG)
        broker.start()
        try:
            drive(broker.bootstrap)
        finally:
            broker.stop()
        store = broker.data_dir
        part = store / f'{TOPIC}-0'
        offsets = store / '__consumer_offsets-0'
        txns = store / '__transaction_state-0'

        rb = HERE / 'record_batch'
        for f in sorted((REPO / 'tests' / 'data' / 'compressed').glob('*.bin')):
            write_seed(rb, f.stem, b'\x00' + f.read_bytes())  # client batches of every codec (MANIFEST.txt)
        for n, log in enumerate(sorted(part.glob('*.log'))[:4]):
            write_seed(rb, f'broker_fuzz_segment{n}', b'\x02' + whole_batches(log.read_bytes(), 4096))

        cr = HERE / 'coord_records'
        for name, d in (('consumer_offsets', offsets), ('transaction_state', txns)):
            logs = sorted(d.glob('*.log'))
            data = b''.join(whole_batches(f.read_bytes(), 8192) for f in logs)[:8192]
            write_seed(cr, f'broker_{name}_log', b'\x01' + whole_batches(data, 8192))
            recs = [r for f in logs for r in records_of(f.read_bytes())]
            write_seed(cr, f'broker_{name}_records', b'\x00' + frame(recs))
            write_seed(cr, f'broker_{name}_records_timers', b'\x02' + frame(recs))

        lf = HERE / 'log_files'
        for name, fname in (('recovery_point', 'recovery-point-offset-checkpoint'),
                            ('log_start', 'log-start-offset-checkpoint')):
            if (store / fname).exists():
                write_seed(lf, f'broker_{name}_checkpoint', b'\x00' + (store / fname).read_bytes())
        write_seed(lf, 'broker_partition_metadata', b'\x01' + (part / 'partition.metadata').read_bytes())
        snaps = sorted(part.glob('*.snapshot'))
        write_seed(lf, 'broker_producer_snapshot', b'\x02' + snaps[-1].read_bytes())
        logs = sorted(part.glob('*.log'))
        seg = logs[0]
        size = seg.stat().st_size
        for mode, suffix in ((3, '.index'), (4, '.timeindex')):
            f = seg.with_suffix(suffix)
            rel = 0xFFFFFFFF if len(logs) < 2 else int(logs[1].stem) - int(seg.stem)
            write_seed(lf, f'broker_{suffix[1:]}', bytes([mode]) + struct.pack('>II', size, rel) + f.read_bytes())
        txnidx = [f for f in part.glob('*.txnindex') if f.stat().st_size]
        if txnidx:
            write_seed(lf, 'broker_txnindex', b'\x05' + txnidx[0].read_bytes())
        for segs in (1, 3):
            # mode 6, closed cleanly and opened again; the recovering seeds without checkpoints
            write_seed(lf, f'broker_partition_{segs}seg_recover', b'\x16' + pack_partition(store, part, segs, False))
            write_seed(lf, f'broker_partition_{segs}seg_clean', b'\x1e' + pack_partition(store, part, segs))
        write_seed(lf, 'broker_txn_state_partition_recover', b'\x16' + pack_partition(store, txns, 2, False))
    print('seeds written under', HERE)


if __name__ == '__main__':
    main()
