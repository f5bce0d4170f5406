"""GET /metrics, parsed with the Prometheus client library's own text
parser (Debian's python3-prometheus-client): request counts by API and
version, error counts (injected errors included), latency histograms,
record bytes in and out, connections, topics and partitions, per-partition
log size, segments and offsets, consumer groups by state and their lag, open
transactions."""

import time
import urllib.request

import pytest
from confluent_kafka import Consumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from control import Control
from test_control_clients import produce_all
from test_groups import create_topic
from test_produce_fetch import TIMEOUT, consume_confluent
from test_txn import txn_producer


def scrape(broker):
    with urllib.request.urlopen(broker.http_url + '/metrics', timeout=TIMEOUT) as resp:
        assert resp.headers['Content-Type'].startswith('text/plain; version=0.0.4')
        text = resp.read().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {}
    for f in families.values():
        for s in f.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return families, samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


def test_metrics_parse_and_count(start_broker):
    broker = start_broker(log_flush_interval_messages=1)  # an fsync per append, for the fsync histogram
    ctl = Control(broker.http_url)
    create_topic(broker.bootstrap, 'm', 2)
    ctl.fault(api='Produce', error='NOT_LEADER_OR_FOLLOWER', once=True)
    produce_all(broker.bootstrap, 'm', 10, 2, enable_idempotence=True, retry_backoff_ms=20)
    consume_confluent(broker.bootstrap, 'm', [0, 1], 10)
    c = Consumer({'bootstrap.servers': broker.bootstrap, 'group.id': 'mg', 'enable.auto.commit': False})
    c.commit(offsets=[TopicPartition('m', 0, 2), TopicPartition('m', 1, 5)], asynchronous=False)
    c.close()
    p = txn_producer(broker.bootstrap, 'm-tx')
    p.begin_transaction()
    p.produce('m', value=b'open', partition=0)
    p.flush(TIMEOUT)

    families, samples = scrape(broker)
    assert families['kafka_network_requestmetrics_requests'].type == 'counter'
    assert families['kafka_network_requestmetrics_totaltimems'].type == 'histogram'
    produce_reqs = sum(v for (n, l), v in samples.items()
                       if n == 'kafka_network_requestmetrics_requests_total' and ('request', 'Produce') in l)
    assert produce_reqs >= 3  # the refused one, its retry, the transaction's
    assert value(samples, 'kafka_network_requestmetrics_errors_total', request='Produce',
                 error='NOT_LEADER_OR_FOLLOWER') == 1
    count = value(samples, 'kafka_network_requestmetrics_totaltimems_count', request='Produce')
    assert count == produce_reqs
    assert value(samples, 'kafka_network_requestmetrics_totaltimems_bucket', request='Produce', le='+Inf') == count
    assert samples[('kafka_server_brokertopicmetrics_bytesin_total', ())] > 0
    assert samples[('kafka_server_brokertopicmetrics_bytesout_total', ())] > 0
    assert samples[('kafka_controller_kafkacontroller_globalpartitioncount', ())] >= 2
    hw0 = value(samples, 'kafka_log_log_logendoffset', topic='m', partition='0')
    assert hw0 == 6  # 5 records and the open transaction's
    assert value(samples, 'kafka_log_log_numlogsegments', topic='m', partition='1') == 1
    assert value(samples, 'kafka_log_log_size', topic='m', partition='1') > 0
    assert value(samples, 'kafka_consumergroup_lag', consumergroup='mg', topic='m', partition='1') == 0
    assert value(samples, 'kafka_consumergroup_lag', consumergroup='mg', topic='m', partition='0') == 4
    assert samples[('kafka_coordinator_group_groupmetadatamanager_numgroupsempty', ())] >= 1
    assert samples[('skiff_transactions_open', ())] == 1
    assert samples[('kafka_server_socketservermetrics_connection_count', ())] >= 1
    assert families['kafka_log_logflushstats_logflushrateandtimems'].type == 'histogram'
    fsyncs = samples[('kafka_log_logflushstats_logflushrateandtimems_count', ())]
    assert fsyncs >= 1
    assert value(samples, 'kafka_log_logflushstats_logflushrateandtimems_bucket', le='+Inf') == fsyncs
    p.abort_transaction(TIMEOUT)
