#!/usr/bin/env python3
"""Capture the first request frames a Kafka client sends.

Listens on 127.0.0.1:PORT, accepts connections for SECONDS and writes every
request frame it receives (the bytes after the 4-byte size: request header
and body) to OUTDIR/PREFIX_<api>_v<version>.bin (a numeric suffix is added
when a name repeats). ApiVersions requests are answered with a minimal
ApiVersions response (ApiVersions 0-3, Metadata 0-12, at the version asked
for) so that librdkafka goes on to send its Metadata request; nothing else is
answered.

Usage: capture.py PORT OUTDIR PREFIX [SECONDS]
Example (run the client while this waits):
  capture.py 19092 . kcat 5 & kcat -b 127.0.0.1:19092 -L -m 2
"""
import os
import select
import socket
import struct
import sys
import time

API_NAMES = {0: "produce", 1: "fetch", 2: "list_offsets", 3: "metadata",
             18: "api_versions"}
ADVERTISED = [(18, 0, 3), (3, 0, 12)]


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def api_versions_response(version, correlation_id):
    """ApiVersions response; the header is always v0 (correlation id only)."""
    body = struct.pack(">h", 0)
    if version >= 3:
        body += uvarint(len(ADVERTISED) + 1)
        for key, lo, hi in ADVERTISED:
            body += struct.pack(">hhh", key, lo, hi) + b"\x00"
        body += struct.pack(">i", 0) + b"\x00"
    else:
        body += struct.pack(">i", len(ADVERTISED))
        for key, lo, hi in ADVERTISED:
            body += struct.pack(">hhh", key, lo, hi)
        if version >= 1:
            body += struct.pack(">i", 0)
    frame = struct.pack(">i", correlation_id) + body
    return struct.pack(">i", len(frame)) + frame


def save(outdir, prefix, frame, seen):
    key, version = struct.unpack(">hh", frame[:4])
    name = "%s_%s_v%d" % (prefix, API_NAMES.get(key, "key%d" % key), version)
    seen[name] = seen.get(name, 0) + 1
    if seen[name] > 1:
        name += "_%d" % seen[name]
    path = os.path.join(outdir, name + ".bin")
    with open(path, "wb") as f:
        f.write(frame)
    print("saved %s (%d bytes)" % (path, len(frame)), flush=True)
    return key, version


def main():
    port, outdir, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(8)
    conns = {}  # socket -> buffered bytes
    seen = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([srv] + list(conns), [], [], 0.1)
        for s in ready:
            if s is srv:
                c, _ = srv.accept()
                conns[c] = b""
                continue
            data = s.recv(65536)
            if not data:
                del conns[s]
                s.close()
                continue
            buf = conns[s] + data
            while len(buf) >= 4:
                size = struct.unpack(">i", buf[:4])[0]
                if len(buf) < 4 + size:
                    break
                frame, buf = buf[4:4 + size], buf[4 + size:]
                key, version = save(outdir, prefix, frame, seen)
                if key == 18:
                    corr = struct.unpack(">i", frame[4:8])[0]
                    s.sendall(api_versions_response(version, corr))
            conns[s] = buf
    for s in conns:
        s.close()
    srv.close()


if __name__ == "__main__":
    main()
