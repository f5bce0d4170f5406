#!/usr/bin/python3
"""Capture compressed record batches written by real Kafka clients.

Runs a fake single-node broker on 127.0.0.1 (an ephemeral port) that answers
ApiVersions (Produce 0-7, Fetch 0-11, Metadata 0-5, FindCoordinator 0-2,
ApiVersions 0-3: enough for librdkafka 2.0.2 to enable every codec, zstd
included, and for kafka-python 2.0.2 to pick Produce v7), Metadata (itself as node 0, the
asked-for topics with one partition led by it) and Produce (success), and
keeps the records bytes of the first partition of each Produce request.

Each client then produces the same four records (see RECORDS and
MANIFEST.txt) to partition 0 with one codec, and the batch it wrote is saved
as OUTDIR/<client>_<codec>.bin. Fuzzer seeds made from them go to
OUTDIR/fuzz_seeds (see write_fuzz_seeds).

Clients: librdkafka 2.0.2 through confluent-kafka-python 1.7.0 and
kafka-python 2.0.2, each with gzip, snappy, lz4 and zstd (kafka-python's
snappy, lz4 and zstd need Debian's python3-snappy, python3-lz4 and
python3-zstandard). kafkajs is not installed on these machines and is
skipped.

Usage: /usr/bin/python3 capture.py [OUTDIR]   (default: this directory)
"""
import os
import socketserver
import struct
import sys
import threading
import time

TOPIC = "codec-test"
BASE_TS = 1700000000000
BIG = b"value-3:" + b"abcdefghijklmnopqrstuvwxyz" * 80  # 2088 bytes

# (key, value, timestamp ms, headers): the records every client produces.
RECORDS = [
    (b"key-0", b"value-0", BASE_TS, [("h1", b"v1")]),
    (None, b"value-1", BASE_TS + 1, []),
    (b"key-2", None, BASE_TS + 2, []),
    (b"key-3", BIG, BASE_TS + 3, [("h-a", b"A"), ("h-b", b"BB")]),
]

# librdkafka 2.0.2 enables lz4 only when FindCoordinator v0 is advertised,
# and zstd only with Produce 7 and Fetch 10 (rdkafka_feature.c).
ADVERTISED = [(0, 0, 7), (1, 0, 11), (3, 0, 5), (10, 0, 2), (18, 0, 3)]


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def kstr(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def uvarint(self):
        shift = value = 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value


def api_versions(version):
    body = struct.pack(">h", 0)
    if version >= 3:
        body += uvarint(len(ADVERTISED) + 1)
        for key, lo, hi in ADVERTISED:
            body += struct.pack(">hhh", key, lo, hi) + b"\x00"
        return body + struct.pack(">i", 0) + b"\x00"
    body += struct.pack(">i", len(ADVERTISED))
    for key, lo, hi in ADVERTISED:
        body += struct.pack(">hhh", key, lo, hi)
    if version >= 1:
        body += struct.pack(">i", 0)
    return body


def metadata(version, r, port):
    n = r.i32()
    topics = [r.string() for _ in range(max(n, 0))] or [TOPIC]
    body = struct.pack(">i", 0) if version >= 3 else b""
    body += struct.pack(">i", 1) + struct.pack(">i", 0) + kstr("127.0.0.1") + struct.pack(">i", port)
    if version >= 1:
        body += struct.pack(">h", -1)  # rack: null
    if version >= 2:
        body += kstr("skiff-capture")
    if version >= 1:
        body += struct.pack(">i", 0)  # controller id
    body += struct.pack(">i", len(topics))
    for t in topics:
        body += struct.pack(">h", 0) + kstr(t)
        if version >= 1:
            body += b"\x00"  # is_internal
        body += struct.pack(">i", 1)
        body += struct.pack(">hii", 0, 0, 0)  # error, partition 0, leader 0
        body += struct.pack(">ii", 1, 0) + struct.pack(">ii", 1, 0)  # replicas, isr
        if version >= 5:
            body += struct.pack(">i", 0)  # offline replicas
    return body


def produce(version, r, sink):
    r.string()  # transactional id
    r.i16()  # acks
    r.i32()  # timeout
    reply = []
    for _ in range(r.i32()):
        topic = r.string()
        parts = []
        for _ in range(r.i32()):
            partition = r.i32()
            size = r.i32()
            records = r.take(size) if size >= 0 else b""
            sink.append(records)
            parts.append(partition)
        reply.append((topic, parts))
    body = struct.pack(">i", len(reply))
    for topic, parts in reply:
        body += kstr(topic) + struct.pack(">i", len(parts))
        for p in parts:
            body += struct.pack(">ihq", p, 0, 0)
            if version >= 2:
                body += struct.pack(">q", -1)
            if version >= 5:
                body += struct.pack(">q", 0)
    return body + struct.pack(">i", 0)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        buf = b""
        while True:
            while len(buf) < 4 or len(buf) < 4 + struct.unpack(">i", buf[:4])[0]:
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
            size = struct.unpack(">i", buf[:4])[0]
            frame, buf = buf[4:4 + size], buf[4 + size:]
            r = Reader(frame)
            key, version, corr = r.i16(), r.i16(), r.i32()
            r.string()  # client id
            if key == 18 and version >= 3:
                r.uvarint()  # header tagged fields
            if key == 18:
                body = api_versions(version)
            elif key == 3:
                body = metadata(version, r, self.server.server_address[1])
            elif key == 0:
                body = produce(version, r, self.server.captured)
            else:
                continue
            resp = struct.pack(">i", corr) + body
            sock.sendall(struct.pack(">i", len(resp)) + resp)


def run_librdkafka(port, codec):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": "127.0.0.1:%d" % port, "compression.type": codec,
                  "linger.ms": 200, "acks": 1, "api.version.request": True})
    for key, value, ts, headers in RECORDS:
        p.produce(TOPIC, value=value, key=key, partition=0, timestamp=ts, headers=headers or None)
    p.flush(10)


def run_kafka_python(port, codec):
    from kafka import KafkaProducer
    p = KafkaProducer(bootstrap_servers="127.0.0.1:%d" % port, compression_type=codec,
                      linger_ms=200, acks=1)
    for key, value, ts, headers in RECORDS:
        p.send(TOPIC, value=value, key=key, partition=0, timestamp_ms=ts, headers=headers)
    p.flush(10)
    p.close(5)


def write_fuzz_seeds(outdir):
    """Seeds for tests/fuzz/fuzz_decompress.c, in OUTDIR/fuzz_seeds: the record
    area of each batch behind the target's first byte (codec in bits 0-2),
    in stream mode, in batch mode (count byte 3: 4 records; rebuilt to the
    next codec) and in batch mode with keys required."""
    seeds = os.path.join(outdir, "fuzz_seeds")
    os.makedirs(seeds, exist_ok=True)
    for name in sorted(os.listdir(outdir)):
        if not name.endswith(".bin"):
            continue
        with open(os.path.join(outdir, name), "rb") as f:
            batch = f.read()
        codec, area = batch[22] & 7, batch[61:]
        modes = {"stream": bytes([codec]),
                 "batch": bytes([codec | 0x80 | ((codec + 1) % 5) << 3, 3]),
                 "batch_keys": bytes([codec | 0xC0, 3])}
        for mode, head in modes.items():
            with open(os.path.join(seeds, "%s_%s" % (name[:-4], mode)), "wb") as f:
                f.write(head + area)


CLIENTS = [
    ("librdkafka", run_librdkafka, ["gzip", "snappy", "lz4", "zstd"]),
    ("kafka_python", run_kafka_python, ["gzip", "snappy", "lz4", "zstd"]),
]


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    srv.captured = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    for name, run, codecs in CLIENTS:
        for codec in codecs:
            srv.captured.clear()
            run(port, codec)
            deadline = time.monotonic() + 10
            while not srv.captured and time.monotonic() < deadline:
                time.sleep(0.05)
            if not srv.captured:
                sys.exit("%s %s: no Produce request received" % (name, codec))
            records = srv.captured[0]
            path = os.path.join(outdir, "%s_%s.bin" % (name, codec))
            with open(path, "wb") as f:
                f.write(records)
            print("saved %s (%d bytes, attributes 0x%04x)"
                  % (path, len(records), struct.unpack(">h", records[21:23])[0]), flush=True)
    srv.shutdown()
    write_fuzz_seeds(outdir)


if __name__ == "__main__":
    main()
