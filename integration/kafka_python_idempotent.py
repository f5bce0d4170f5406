"""An idempotent kafka-python producer for test_cluster.py, run in its own
process with a kafka-python that has idempotence (2.1+; Debian's 2.0.2 has
none): build/venv-pypi/bin/python (scripts/pypi-clients.sh). Takes one JSON job as its
argument, {"brokers": ["h:p", ...], "topic": "t", "partitions": 3,
"stopFile": PATH},
sends records round robin over the partitions until the stop file exists,
flushes, and prints {"version", "acked": [[partition, value, offset], ...],
"failed": [error, ...]} as JSON."""

import json
import os
import sys
import time

import kafka
from kafka import KafkaProducer


def main():
    job = json.loads(sys.argv[1])
    p = KafkaProducer(bootstrap_servers=job['brokers'], enable_idempotence=True, acks='all',
                      linger_ms=2, retry_backoff_ms=20, reconnect_backoff_ms=20, reconnect_backoff_max_ms=200,
                      metadata_max_age_ms=1000, delivery_timeout_ms=120000)
    acked, failed = [], []
    i = 0
    while not os.path.exists(job['stopFile']):
        part = i % job['partitions']
        f = p.send(job['topic'], value=b'%d' % i, partition=part)
        f.add_callback(lambda md, v=i: acked.append([md.partition, v, md.offset]))
        f.add_errback(lambda e, v=i: failed.append(f'{v}: {e!r}'))
        i += 1
        if i % 20 == 0:
            time.sleep(0.002)
    p.flush(120)
    p.close(10)
    json.dump({'version': kafka.__version__, 'sent': i, 'acked': acked, 'failed': failed}, sys.stdout)


if __name__ == '__main__':
    main()
