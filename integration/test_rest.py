"""The HTTP produce/consume API (a subset of Confluent's REST Proxy v3,
docs/rest.md): records produced over HTTP in each format are read back
byte for byte by librdkafka (confluent_kafka) and kcat, keyed records land
where Kafka's default partitioner puts them, several records in one body
get one result line each, errors carry Confluent's error code and the
Kafka error, and the lag a group reports is its committed offsets' lag."""

import base64
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition, libversion

from control import Control
from test_groups import create_topic

TIMEOUT = 30


class Rest(Control):
    def __init__(self, broker):
        super().__init__(broker.http_url)
        status, body = self.get('/v3/clusters')
        assert status == 200 and len(body['data']) == 1
        self.cluster = body['data'][0]['cluster_id']
        self.base = f'/v3/clusters/{self.cluster}'

    def produce(self, topic, *records, raw=None):
        """(status, one parsed object) for one record, (status, text) for several."""
        body = raw if raw is not None else ''.join(json.dumps(r) + '\n' for r in records).encode()
        req = urllib.request.Request(f'{self.url}{self.base}/topics/{topic}/records', data=body, method='POST')
        req.add_header('Content-Type', 'application/json')
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        lines = text.splitlines()
        return status, json.loads(text) if len(lines) == 1 else text

    def lines(self, topic, *records):
        status, text = self.produce(topic, *records)
        assert status == 200, text
        return [text] if isinstance(text, dict) else [json.loads(line) for line in text.splitlines()]


def read_back(bootstrap, topic, partition, offset, n):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'rest-check', 'enable.auto.commit': False})
    c.assign([TopicPartition(topic, partition, offset)])
    out = []
    deadline = time.time() + TIMEOUT
    while len(out) < n and time.time() < deadline:
        m = c.poll(1)
        if m is not None and not m.error():
            out.append(m)
    c.close()
    assert len(out) == n
    return out


def b64(b):
    return base64.b64encode(b).decode()


def test_lists_clusters_topics_and_partitions(broker):
    rest = Rest(broker)
    create_topic(broker.bootstrap, 'listed', 3)
    status, c = rest.get(rest.base)
    assert status == 200 and c['kind'] == 'KafkaCluster' and c['cluster_id'] == rest.cluster
    status, topics = rest.get(f'{rest.base}/topics')
    assert status == 200 and topics['kind'] == 'KafkaTopicList'
    t = [x for x in topics['data'] if x['topic_name'] == 'listed']
    assert len(t) == 1 and t[0]['partitions_count'] == 3 and t[0]['is_internal'] is False
    assert t[0]['partitions']['related'] == f'{rest.base}/topics/listed/partitions'
    status, parts = rest.get(f'{rest.base}/topics/listed/partitions')
    assert status == 200 and [p['partition_id'] for p in parts['data']] == [0, 1, 2]
    assert rest.get(f'{rest.base}/topics/listed/partitions/2')[1]['partition_id'] == 2
    status, err = rest.get(f'{rest.base}/topics/listed/partitions/3')
    assert status == 404 and err['error_code'] == 40402 and err['kafka_error_code'] == 3
    status, err = rest.get('/v3/clusters/nope/topics')
    assert status == 404 and err['error_code'] == 404
    # Every link of the cluster and a partition leads somewhere.
    for link in ('controller', 'brokers', 'topics', 'consumer_groups'):
        assert rest.get(c[link]['related'])[0] == 200, link
    leader = rest.get(rest.get(f'{rest.base}/topics/listed/partitions/0')[1]['leader']['related'])[1]
    assert leader['kind'] == 'KafkaBroker' and leader['broker_id'] == 1
    assert f"{leader['host']}:{leader['port']}" == broker.bootstrap
    assert rest.get(f'{rest.base}/brokers/2')[0] == 404


def test_produce_each_format_reads_back_byte_for_byte(broker):
    rest = Rest(broker)
    create_topic(broker.bootstrap, 'fmt', 2)
    binary = bytes(range(256))
    doc = {'b': [1, 2.5, None, True], 'a': 'x\u00e9'}
    records = [
        {'partition_id': 1, 'key': {'type': 'BINARY', 'data': b64(b'\x00\xffk')},
         'value': {'type': 'BINARY', 'data': b64(binary)},
         'headers': [{'name': 'h1', 'value': b64(b'\x01\x02')}, {'name': 'h2', 'value': None}],
         'timestamp': '2026-01-02T03:04:05.678Z'},
        {'partition_id': 1, 'key': {'type': 'STRING', 'data': 'k\u00e9'}, 'value': {'type': 'STRING', 'data': 'hello \u2603'}},
        {'partition_id': 1, 'key': {'type': 'JSON', 'data': 7}, 'value': {'type': 'JSON', 'data': doc}},
        {'partition_id': 1, 'value': {'data': 'default type is JSON'}},
        {'partition_id': 1, 'key': {'type': 'JSON', 'data': None}},
    ]
    lines = rest.lines('fmt', *records)
    assert [x['error_code'] for x in lines] == [200] * 5
    assert [x['offset'] for x in lines] == [0, 1, 2, 3, 4]
    assert lines[0]['timestamp'] == '2026-01-02T03:04:05.678Z'
    assert lines[0]['key'] == {'type': 'BINARY', 'size': 3} and lines[0]['value'] == {'type': 'BINARY', 'size': 256}
    assert lines[4]['key'] is None and lines[4]['value'] is None
    got = read_back(broker.bootstrap, 'fmt', 1, 0, 5)
    assert [m.offset() for m in got] == [0, 1, 2, 3, 4]
    assert got[0].key() == b'\x00\xffk' and got[0].value() == binary
    assert got[0].headers() == [('h1', b'\x01\x02'), ('h2', None)]
    assert got[0].timestamp()[1] == 1767323045678
    assert got[1].key() == 'k\u00e9'.encode() and got[1].value() == 'hello \u2603'.encode()
    assert got[2].key() == b'7' and json.loads(got[2].value()) == doc
    assert got[2].value() == json.dumps(doc, separators=(',', ':'), ensure_ascii=False).encode()
    assert got[3].value() == b'"default type is JSON"'
    assert got[4].key() is None and got[4].value() is None
    # kcat reads the same bytes.
    out = subprocess.run(['kcat', '-C', '-b', broker.bootstrap, '-t', 'fmt', '-p', '1', '-o', '0', '-c', '1', '-e',
                          '-f', '%k|%s'], capture_output=True, timeout=TIMEOUT)
    assert out.returncode == 0 and out.stdout == b'\x00\xffk|' + binary


def test_curl_produces_each_format_and_kcat_reads_it_back(broker):
    """curl as the README shows it: one record, then several streamed
    (Transfer-Encoding: chunked) to a topic the produce creates; kcat reads
    every key, value and header back byte for byte."""
    rest = Rest(broker)
    url = f'{broker.http_url}{rest.base}/topics/bycurl/records'
    binary = bytes(range(256))
    one = json.dumps({'key': {'type': 'STRING', 'data': 'order-1'}, 'value': {'type': 'JSON', 'data': {'qty': 2}}})
    out = subprocess.run(['curl', '-sS', '-X', 'POST', url, '-H', 'Content-Type: application/json', '-d', one],
                         capture_output=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)['error_code'] == 200 and json.loads(out.stdout)['offset'] == 0
    several = ''.join(json.dumps(r) + '\n' for r in [
        {'key': {'type': 'BINARY', 'data': b64(b'\x00k')}, 'value': {'type': 'BINARY', 'data': b64(binary)},
         'headers': [{'name': 'h', 'value': b64(b'\xfe\x01')}]},
        {'key': {'type': 'STRING', 'data': 'k\u00e9'}, 'value': {'type': 'STRING', 'data': 'snow \u2603'}}])
    out = subprocess.run(['curl', '-sS', '-X', 'POST', url, '-H', 'Content-Type: application/json',
                          '-H', 'Transfer-Encoding: chunked', '--data-binary', '@-'],
                         input=several.encode(), capture_output=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr
    assert [(x['error_code'], x['offset']) for x in map(json.loads, out.stdout.splitlines())] == [(200, 1), (200, 2)]
    got = subprocess.run(['kcat', '-C', '-b', broker.bootstrap, '-t', 'bycurl', '-p', '0', '-o', '0', '-c', '3', '-e',
                          '-f', '%k|%s|%h\n---\n'], capture_output=True, timeout=TIMEOUT)
    assert got.returncode == 0, got.stderr
    assert got.stdout.split(b'\n---\n')[:3] == [b'order-1|{"qty":2}|', b'\x00k|' + binary + b'|h=\xfe\x01',
                                                   'k\u00e9|snow \u2603|'.encode()]


def test_keyed_records_land_where_kafkas_partitioner_puts_them(broker):
    rest = Rest(broker)
    create_topic(broker.bootstrap, 'keyed', 7)
    keys = [f'key-{i}' for i in range(40)]
    lines = rest.lines('keyed', *({'key': {'type': 'STRING', 'data': k}, 'value': {'type': 'STRING', 'data': k}}
                                  for k in keys))
    p = Producer({'bootstrap.servers': broker.bootstrap, 'partitioner': 'murmur2_random'})
    placed = {}
    for k in keys:
        p.produce('keyed', key=k, value=k, on_delivery=lambda err, m: placed.__setitem__(m.key().decode(), m.partition()))
    assert p.flush(TIMEOUT) == 0
    assert [x['partition_id'] for x in lines] == [placed[k] for k in keys]
    assert len(set(placed.values())) > 1


def test_several_records_one_result_line_each_in_order(broker):
    rest = Rest(broker)
    create_topic(broker.bootstrap, 'stream', 2)
    body = (b'{"partition_id":0,"value":{"type":"STRING","data":"a"}}'
            b'{"partition_id":1,"value":{"type":"STRING","data":"b"}} \n'
            b'{"partition_id":0,"value":{"type":"STRING","data":"c"}}\n'
            b'{"partition_id":5,"value":{"type":"STRING","data":"d"}}\n'
            b'{"partition_id":0,"value":{"type":"TEXT","data":"e"}}\n'
            b'{"partition_id":0,"value":{"type":"STRING","data":"f"}}\n'
            b'{"partition_id":0, "value": ')
    status, text = rest.produce('stream', raw=body)
    assert status == 200
    lines = [json.loads(x) for x in text.splitlines()]
    assert [x['error_code'] for x in lines] == [200, 200, 200, 40403, 400, 200, 400]
    assert [(x['partition_id'], x['offset']) for x in lines if x['error_code'] == 200] == [(0, 0), (1, 0), (0, 1), (0, 2)]
    assert lines[3]['kafka_error_code'] == 3 and lines[3]['kafka_error'] == 'UNKNOWN_TOPIC_OR_PARTITION'
    assert 'type must be' in lines[4]['message'] and 'malformed JSON' in lines[6]['message']
    assert [m.value() for m in read_back(broker.bootstrap, 'stream', 0, 0, 3)] == [b'a', b'c', b'f']


def test_records_over_max_message_bytes_go_in_several_batches(broker):
    rest = Rest(broker)
    status, _ = rest.post(f'{rest.base}/topics', {'topic_name': 'split', 'partitions_count': 1,
                                                   'configs': [{'name': 'max.message.bytes', 'value': '2000'}]})
    assert status == 201
    values = [bytes([65 + i]) * 700 for i in range(6)]
    lines = rest.lines('split', *({'value': {'type': 'BINARY', 'data': b64(v)}} for v in values))
    assert [x['offset'] for x in lines] == list(range(6))
    assert [m.value() for m in read_back(broker.bootstrap, 'split', 0, 0, 6)] == values


def raw_http(broker, head, chunks=()):
    """Sends a request (its body as the given chunks, chunked) on a socket
    of its own; returns (status, headers, the answer's chunks as sent)."""
    host, port = broker.http_url.rsplit('/', 1)[1].split(':')
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as s:
        s.sendall(head.encode())
        for chunk in chunks:
            s.sendall(b'%x\r\n%s\r\n' % (len(chunk), chunk))
        if chunks:
            s.sendall(b'0\r\n\r\n')
        f = s.makefile('rb')
        status = int(f.readline().split()[1])
        headers = {}
        for line in iter(f.readline, b'\r\n'):
            k, v = line.decode().split(':', 1)
            headers[k.strip().lower()] = v.strip()
        if headers.get('transfer-encoding') != 'chunked':
            return status, headers, [f.read(int(headers.get('content-length', 0)))]
        out = []
        while (size := int(f.readline(), 16)):
            out.append(f.read(size))
            assert f.read(2) == b'\r\n'
        return status, headers, out


def test_streaming_answers_one_chunk_per_acknowledged_produce(broker):
    """Transfer-Encoding: chunked (Confluent's streaming mode): 200 at once,
    then the result lines of each Kafka Produce as a chunk of its own as soon
    as it is answered, in record order; a bad record's error line goes first,
    before anything is produced. max.message.bytes=2000 makes three Produce
    requests of two 700-byte records each."""
    rest = Rest(broker)
    status, _ = rest.post(f'{rest.base}/topics', {'topic_name': 'streamed', 'partitions_count': 1,
                                                   'configs': [{'name': 'max.message.bytes', 'value': '2000'}]})
    assert status == 201
    values = [bytes([65 + i]) * 700 for i in range(6)]
    records = [b'{"value": {"type": "TEXT", "data": "x"}}\n'] + [
        json.dumps({'value': {'type': 'BINARY', 'data': b64(v)}}).encode() + b'\n' for v in values]
    head = (f'POST {rest.base}/topics/streamed/records HTTP/1.1\r\nHost: x\r\n'
            'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')
    status, headers, chunks = raw_http(broker, head, records)
    assert status == 200 and headers['content-type'] == 'application/json'
    lines = [[json.loads(x) for x in c.decode().splitlines()] for c in chunks]
    assert [len(c) for c in lines] == [1, 2, 2, 2]
    assert lines[0][0]['error_code'] == 400 and 'type must be' in lines[0][0]['message']
    assert [[(x['error_code'], x['offset']) for x in c] for c in lines[1:]] == [
        [(200, 0), (200, 1)], [(200, 2), (200, 3)], [(200, 4), (200, 5)]]
    assert [m.value() for m in read_back(broker.bootstrap, 'streamed', 0, 0, 6)] == values
    # One record streamed is a line with 200 too, even when Kafka refuses it.
    status, _, chunks = raw_http(broker, head, [
        json.dumps({'partition_id': 3, 'value': None}).encode()])
    err = json.loads(chunks[0])
    assert status == 200 and len(chunks) == 1 and err['error_code'] == 40403 and err['kafka_error_code'] == 3


def test_produce_creates_a_missing_topic_as_a_kafka_producer_would(start_broker):
    """A produce to a missing topic asks Metadata for it, as a producer does:
    with auto.create.topics.enable (the default) Kafka's Metadata creates it
    with num.partitions; without, 404 and error_code 40403; a name Kafka
    refuses is 400 with INVALID_TOPIC_EXCEPTION."""
    b = start_broker(num_partitions=3)
    rest = Rest(b)
    status, report = rest.produce('made', {'partition_id': 2, 'value': {'type': 'STRING', 'data': 'first'}})
    assert status == 200 and (report['partition_id'], report['offset']) == (2, 0), report
    status, topic = rest.get(f'{rest.base}/topics/made')
    assert status == 200 and topic['partitions_count'] == 3
    assert read_back(b.bootstrap, 'made', 2, 0, 1)[0].value() == b'first'
    status, err = rest.produce('bad%2Aname', {'value': None})  # bad*name
    assert status == 400 and err['error_code'] == 40002 and err['kafka_error'] == 'INVALID_TOPIC_EXCEPTION'
    off = start_broker(auto_create_topics_enable=False)
    rest = Rest(off)
    status, err = rest.produce('missing', {'value': {'type': 'STRING', 'data': 'x'}})
    assert status == 404 and err['error_code'] == 40403 and err['kafka_error_code'] == 3
    assert rest.get(f'{rest.base}/topics/missing')[0] == 404


def test_fault_rules_act_on_kafka_clients_not_on_the_http_api(broker):
    """A Produce fault rule fails a librdkafka producer's records; the same
    records produced over HTTP are stored, and the rule does not count them."""
    rest = Rest(broker)
    create_topic(broker.bootstrap, 'faulty', 1)
    rule = rest.fault(api='Produce', topic='faulty', error='INVALID_RECORD')
    status, report = rest.produce('faulty', {'value': {'type': 'STRING', 'data': 'over http'}})
    assert status == 200 and report['offset'] == 0
    assert rest.fault_get(rule['id'])['matched'] == 0
    p = Producer({'bootstrap.servers': broker.bootstrap, 'retries': 0})
    errors = []
    p.produce('faulty', b'over kafka', on_delivery=lambda err, msg: errors.append(err))
    p.flush(TIMEOUT)
    assert [e.name() for e in errors] == ['INVALID_RECORD']
    assert rest.fault_get(rule['id'])['fired'] == 1
    page = rest.get(f'{rest.base}/topics/faulty/partitions/0/records')[1]
    assert page['high_watermark'] == 1 and base64.b64decode(page['records'][0]['value']['data']) == b'over http'


def test_head_and_wrong_methods(broker):
    """HEAD is GET without the body (same status, type and length); a known
    path with another method is 405 with Allow; OPTIONS is 204 with Allow."""
    rest = Rest(broker)
    for path in ('/v3/clusters', f'{rest.base}/topics', '/console/', '/v3/nope'):
        got = raw_http(broker, f'GET {path} HTTP/1.1\r\nHost: x\r\n\r\n')
        status, headers, body = raw_http(broker, f'HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        assert (status, headers['content-type']) == (got[0], got[1]['content-type'])
        assert int(headers['content-length']) == len(got[2][0]) > 0 and body == [b'']
    status, headers, body = raw_http(broker, f'PATCH {rest.base}/topics HTTP/1.1\r\nHost: x\r\n'
                                             'Content-Length: 0\r\n\r\n')
    assert status == 405 and headers['allow'] == 'GET, HEAD, POST'
    assert json.loads(body[0])['error'] == 'method_not_allowed'
    status, headers, _ = raw_http(broker, f'GET {rest.base}/topics/t/records HTTP/1.1\r\nHost: x\r\n\r\n')
    assert status == 405 and headers['allow'] == 'POST'
    status, headers, _ = raw_http(broker, f'DELETE /v3/clusters HTTP/1.1\r\nHost: x\r\n\r\n')
    assert status == 405 and headers['allow'] == 'GET, HEAD'
    status, headers, _ = raw_http(broker, f'OPTIONS {rest.base}/topics/t HTTP/1.1\r\nHost: x\r\n\r\n')
    assert status == 204 and headers['allow'] == 'GET, HEAD, DELETE'


def test_errors_have_status_confluent_code_and_kafka_error(broker):
    rest = Rest(broker)
    create_topic(broker.bootstrap, 'errs', 1)
    status, err = rest.produce('errs', raw=b'{"value": {"type": "STRING", "data": "x"')
    assert status == 400 and err['error_code'] == 400 and 'malformed JSON' in err['message']
    status, err = rest.produce('errs', raw=b'')
    assert status == 400 and err['error_code'] == 400
    status, err = rest.produce('errs', {'value': {'type': 'BINARY', 'data': 'not base64!'}})
    assert status == 400 and 'base64' in err['message']
    status, err = rest.produce('errs', {'valeu': {}})
    assert status == 400 and err['message'] == 'unknown field "valeu"'
    # Kafka's own size check (max.message.bytes, default 1048588): MESSAGE_TOO_LARGE.
    big = {'value': {'type': 'BINARY', 'data': b64(b'x' * 1100000)}}
    status, err = rest.produce('errs', big)
    assert status == 413 and err['error_code'] == 41301 and err['kafka_error_code'] == 10
    assert err['kafka_error'] == 'MESSAGE_TOO_LARGE'
    status, err = rest.post(f'{rest.base}/topics', {'topic_name': 'errs', 'partitions_count': 1})
    assert status == 400 and err['kafka_error'] == 'TOPIC_ALREADY_EXISTS'
    assert read_back(broker.bootstrap, 'errs', 0, 0, 0) == []


def test_compression_type_of_the_topic_applies(broker):
    rest = Rest(broker)
    status, _ = rest.post(f'{rest.base}/topics', {'topic_name': 'gz', 'partitions_count': 1,
                                                   'configs': [{'name': 'compression.type', 'value': 'gzip'}]})
    assert status == 201
    lines = rest.lines('gz', *({'value': {'type': 'STRING', 'data': 'v%d' % i * 50}} for i in range(5)))
    assert [x['offset'] for x in lines] == list(range(5))
    assert [m.value() for m in read_back(broker.bootstrap, 'gz', 0, 0, 5)] == [b'v%d' % i * 50 for i in range(5)]
    status, page = rest.get(f'{rest.base}/topics/gz/partitions/0/records?offset=2&max_count=2')
    assert status == 200 and [base64.b64decode(r['value']['data']) for r in page['records']] == [b'v2' * 50, b'v3' * 50]
    assert page['next_offset'] == 4


def test_read_endpoint_from_offset_timestamp_and_newest(broker):
    rest = Rest(broker)
    create_topic(broker.bootstrap, 'rd', 1)
    recs = [{'key': {'type': 'STRING', 'data': f'k{i}'}, 'value': {'type': 'STRING', 'data': f'v{i}'},
             'headers': [{'name': 'n', 'value': b64(b'%d' % i)}],
             'timestamp': f'2026-03-01T00:00:{i:02d}.000Z'} for i in range(10)]
    rest.lines('rd', *recs)
    url = f'{rest.base}/topics/rd/partitions/0/records'
    page = rest.get(f'{url}?offset=3&max_count=4')[1]
    assert [r['offset'] for r in page['records']] == [3, 4, 5, 6] and page['next_offset'] == 7
    r = page['records'][0]
    assert base64.b64decode(r['key']['data']) == b'k3' and base64.b64decode(r['value']['data']) == b'v3'
    assert r['headers'] == [{'name': 'n', 'value': b64(b'3')}] and r['timestamp'] == '2026-03-01T00:00:03.000Z'
    assert r['timestamp_ms'] == 1772323203000 and r['timestamp_type'] == 'CREATE_TIME'
    page = rest.get(f'{url}?timestamp=1772323207000')[1]
    assert [r['offset'] for r in page['records']] == [7, 8, 9]
    page = rest.get(f'{url}?newest=2')[1]
    assert [r['offset'] for r in page['records']] == [8, 9] and page['high_watermark'] == 10
    page = rest.get(f'{url}?max_bytes=1')[1]
    assert [r['offset'] for r in page['records']] == list(range(10))  # one batch: always whole
    status, err = rest.get(f'{url}?offset=11')
    assert status == 416 and err['kafka_error'] == 'OFFSET_OUT_OF_RANGE'
    status, err = rest.get(f'{url}?offset=1&newest=3')
    assert status == 400 and err['error_code'] == 400
    status, err = rest.get(f'{url}?max_count=0')
    assert status == 400 and err['message'] == 'query parameter "max_count" must be an integer from 1 to 10000'
    status, err = rest.get(f'{rest.base}/topics/rd/partitions/1/records')
    assert status == 404 and err['error_code'] == 40403


def test_topic_configs_and_delete(broker):
    rest = Rest(broker)
    assert rest.post(f'{rest.base}/topics', {'topic_name': 'cfg', 'partitions_count': 2})[0] == 201
    status, _ = rest.post(f'{rest.base}/topics/cfg/configs:alter',
                          {'data': [{'name': 'retention.ms', 'value': '12345'}]})
    assert status == 204
    cfgs = {c['name']: c for c in rest.get(f'{rest.base}/topics/cfg/configs')[1]['data']}
    assert cfgs['retention.ms']['value'] == '12345' and cfgs['retention.ms']['source'] == 'DYNAMIC_TOPIC_CONFIG'
    assert cfgs['cleanup.policy']['is_default'] is True
    status, err = rest.post(f'{rest.base}/topics/cfg/configs:alter', {'data': [{'name': 'retention.ms', 'value': 'x'}]})
    assert status == 400 and err['kafka_error'] == 'INVALID_CONFIG'
    assert rest.post(f'{rest.base}/topics/cfg/configs:alter',
                     {'data': [{'name': 'retention.ms', 'operation': 'DELETE'}]})[0] == 204
    cfgs = {c['name']: c for c in rest.get(f'{rest.base}/topics/cfg/configs')[1]['data']}
    assert cfgs['retention.ms']['source'] != 'DYNAMIC_TOPIC_CONFIG'
    assert rest.delete(f'{rest.base}/topics/cfg')[0] == 204
    status, err = rest.get(f'{rest.base}/topics/cfg')
    assert status == 404 and err['kafka_error_code'] == 3


def test_group_lag_reset_and_delete(broker):
    rest = Rest(broker)
    create_topic(broker.bootstrap, 'lagged', 2)
    rest.lines('lagged', *({'partition_id': i % 2, 'value': {'type': 'STRING', 'data': str(i)}} for i in range(10)))
    c = Consumer({'bootstrap.servers': broker.bootstrap, 'group.id': 'lg', 'client.id': 'lag-client',
                  'enable.auto.commit': False, 'auto.offset.reset': 'earliest'})
    c.subscribe(['lagged'])
    seen = 0
    deadline = time.time() + TIMEOUT
    while seen < 3 and time.time() < deadline:
        m = c.poll(1)
        if m is not None and not m.error():
            seen += 1
            if seen == 3:
                c.commit(message=m, asynchronous=False)
    assert seen == 3
    # Internal topics refuse client writes, as in Kafka.
    status, err = rest.produce('__consumer_offsets', {'value': {'data': 1}})
    assert status == 400 and err['kafka_error'] == 'INVALID_TOPIC_EXCEPTION'
    committed = {tp.partition: tp.offset for tp in c.committed([TopicPartition('lagged', 0), TopicPartition('lagged', 1)])}
    status, lags = rest.get(f'{rest.base}/consumer-groups/lg/lags')
    assert status == 200
    got = {x['partition_id']: x for x in lags['data']}
    assert {p: x['current_offset'] for p, x in got.items()} == {p: o for p, o in committed.items() if o >= 0}
    for p, x in got.items():
        assert x['log_end_offset'] == 5 and x['lag'] == 5 - x['current_offset'] and x['client_id'] == 'lag-client'
    status, summary = rest.get(f'{rest.base}/consumer-groups/lg/lag-summary')
    assert summary['total_lag'] == sum(x['lag'] for x in got.values())
    assert summary['max_lag'] == max(x['lag'] for x in got.values())
    groups = rest.get(f'{rest.base}/consumer-groups')[1]['data']
    assert [(g['consumer_group_id'], g['state']) for g in groups] == [('lg', 'Stable')]
    consumers = rest.get(f'{rest.base}/consumer-groups/lg/consumers')[1]['data']
    assert [x['client_id'] for x in consumers] == ['lag-client']
    # A group with members refuses a reset, as kafka-consumer-groups does.
    status, err = rest.post('/v1/groups/lg/offsets/reset', {'to': 'earliest'})
    assert status == 409 and err['kafka_error'] == 'NON_EMPTY_GROUP'
    c.close()
    Control(broker.http_url).wait('group', group_id='lg', state='Empty')
    status, body = rest.post('/v1/groups/lg/offsets/reset', {'to': 'latest', 'topic': 'lagged'})
    assert status == 200 and len(body['partitions']) == 2
    assert rest.get(f'{rest.base}/consumer-groups/lg/lag-summary')[1]['total_lag'] == 0
    status, body = rest.post('/v1/groups/lg/offsets/reset', {'to': 'offset', 'offset': 1})
    lags = {x['partition_id']: x['lag'] for x in rest.get(f'{rest.base}/consumer-groups/lg/lags')[1]['data']}
    assert lags == {0: 4, 1: 4}
    assert rest.delete('/v1/groups/lg')[0] == 204
    status, err = rest.get(f'{rest.base}/consumer-groups/lg')
    assert status == 404 and err['error_code'] == 40403


@pytest.mark.parametrize('path', ['/console/', '/console/app.js', '/console/app.css'])
def test_console_files_are_served_with_a_strict_policy(broker, path):
    status, text = Control(broker.http_url).get(path)
    assert status == 200 and len(text) > 100


def test_answers_match_the_openapi_schemas(broker):
    from test_control_openapi import check
    rest = Rest(broker)
    check('TopicCreate', {'topic_name': 'oa', 'partitions_count': 2, 'configs': [{'name': 'retention.ms', 'value': '1000'}]})
    status, topic = rest.post(f'{rest.base}/topics', {'topic_name': 'oa', 'partitions_count': 2})
    check('KafkaTopic', topic)
    check('KafkaClusterList', rest.get('/v3/clusters')[1])
    check('KafkaCluster', rest.get(rest.base)[1])
    check('KafkaBrokerList', rest.get(f'{rest.base}/brokers')[1])
    check('KafkaTopicList', rest.get(f'{rest.base}/topics')[1])
    check('KafkaPartitionList', rest.get(f'{rest.base}/topics/oa/partitions')[1])
    check('KafkaTopicConfigList', rest.get(f'{rest.base}/topics/oa/configs')[1])
    record = {'partition_id': 0, 'key': {'type': 'STRING', 'data': 'k'}, 'value': {'type': 'JSON', 'data': [1]},
              'headers': [{'name': 'h', 'value': None}], 'timestamp': '2026-01-01T00:00:00Z'}
    check('ProduceRecord', record)
    status, report = rest.produce('oa', record)
    assert status == 200
    check('DeliveryReport', report)
    check('RestError', rest.produce('oa', {'partition_id': 9})[1])
    check('PartitionRecords', rest.get(f'{rest.base}/topics/oa/partitions/0/records')[1])
    check('Overview', rest.get('/v1/overview')[1])
    check('TopicSummaryList', rest.get('/v1/topics')[1])
    check('OffsetReset', {'to': 'earliest', 'topic': 'oa'})
    check('OffsetResetResult', rest.post('/v1/groups/g/offsets/reset', {'to': 'earliest', 'topic': 'oa'})[1])
    check('KafkaConsumerGroupList', rest.get(f'{rest.base}/consumer-groups')[1])
    check('KafkaConsumerGroup', rest.get(f'{rest.base}/consumer-groups/g')[1])
    check('KafkaConsumerList', rest.get(f'{rest.base}/consumer-groups/g/consumers')[1])
    check('KafkaConsumerLagList', rest.get(f'{rest.base}/consumer-groups/g/lags')[1])
    check('KafkaConsumerGroupLagSummary', rest.get(f'{rest.base}/consumer-groups/g/lag-summary')[1])
    check('KafkaResponse', rest.get('/v1/transactions')[1])
    check('KafkaResponse', rest.get('/v1/topics/oa/producers')[1])


def test_with_a_token_console_files_are_open_and_the_api_is_not(start_broker):
    b = start_broker(config={'skiff.http.token': 's3cret'})
    assert Control(b.http_url).get('/console/')[0] == 200
    assert Control(b.http_url).get('/v3/clusters')[0] == 401
    assert Control(b.http_url).get('/v1/overview')[0] == 401
    assert Control(b.http_url, token='s3cret').get('/v3/clusters')[0] == 200


def test_body_limits(broker):
    rest = Rest(broker)
    create_topic(broker.bootstrap, 'limits', 1)
    # A produce body may be larger than a control body (64 KiB) ...
    value = b64(b'v' * 200000)
    assert rest.produce('limits', {'value': {'type': 'BINARY', 'data': value}})[0] == 200
    # ... up to 8 MiB; evhttp refuses more from its Content-Length, before the body.
    host, port = broker.http_url.rsplit('/', 1)[1].split(':')
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as s:
        s.sendall(f'POST {rest.base}/topics/limits/records HTTP/1.1\r\nHost: x\r\n'
                  f'Content-Length: {9 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n'.encode())
        assert s.recv(100).startswith(b'HTTP/1.1 413 ')
    # Control routes keep their 64 KiB, answered in their JSON shape.
    status, err = rest.post('/v1/groups/g/offsets/reset', {'to': 'earliest', 'topic': 'x' * (70 * 1024)})
    assert status == 413 and err['error'] == 'too_large'
    assert rest.get('/healthz')[0] == 200


def test_reset_to_a_timestamp(broker):
    rest = Rest(broker)
    create_topic(broker.bootstrap, 'ts', 1)
    rest.lines('ts', *({'value': {'type': 'STRING', 'data': str(i)}, 'timestamp': f'2026-05-01T00:00:0{i}.000Z'}
                       for i in range(5)))
    ms = 1777593603000  # 2026-05-01T00:00:03Z: offset 3
    status, body = rest.post('/v1/groups/tsg/offsets/reset', {'to': 'timestamp', 'timestamp': ms, 'topic': 'ts'})
    assert status == 200 and body == {'partitions': [{'topic': 'ts', 'partition': 0, 'error': 'NONE'}]}
    lags = rest.get(f'{rest.base}/consumer-groups/tsg/lags')[1]['data']
    assert [(x['current_offset'], x['lag']) for x in lags] == [(3, 2)]
    rest.post('/v1/groups/tsg/offsets/reset', {'to': 'timestamp', 'timestamp': ms * 2})
    assert rest.get(f'{rest.base}/consumer-groups/tsg/lags')[1]['data'][0]['current_offset'] == 5
    status, err = rest.post('/v1/groups/tsg/offsets/reset', {'to': 'timestamp'})
    assert status == 400 and err['error_code'] == 400


def test_client_gone_while_its_produce_waits_for_the_fsync(broker):
    """flush.messages=1 parks the answer until the fsync; clients that hang
    up meanwhile leave the broker serving and the records stored."""
    rest = Rest(broker)
    assert rest.post(f'{rest.base}/topics', {'topic_name': 'gone', 'partitions_count': 1,
                                             'configs': [{'name': 'flush.messages', 'value': '1'}]})[0] == 201
    host, port = broker.http_url.rsplit('/', 1)[1].split(':')
    body = b''.join(json.dumps({'value': {'type': 'STRING', 'data': 'x' * 1000}}).encode() for _ in range(50))
    for _ in range(20):
        with socket.create_connection((host, int(port)), timeout=TIMEOUT) as s:
            s.sendall(f'POST {rest.base}/topics/gone/records HTTP/1.1\r\nHost: x\r\n'
                      f'Content-Length: {len(body)}\r\n\r\n'.encode() + body)
    status, report = rest.produce('gone', {'value': {'type': 'STRING', 'data': 'last'}})
    assert status == 200 and report['offset'] % 50 == 0  # each request's records are appended together
    Control(broker.http_url).wait('partition', topic='gone', partition=0, high_watermark=20 * 50 + 1)
    page = rest.get(f'{rest.base}/topics/gone/partitions/0/records?max_count=2000&max_bytes=16000000')[1]
    values = [base64.b64decode(r['value']['data']) for r in page['records']]
    assert len(values) == 1001 and values.index(b'last') == report['offset'] and values.count(b'x' * 1000) == 1000


def test_produce_and_groups_with_several_brokers(start_broker):
    """With skiff.cluster.brokers=3 the HTTP API acts for the whole cluster:
    it produces to partitions whichever broker leads them, and lists and
    resets groups whichever broker coordinates them."""
    b = start_broker(config={'skiff.cluster.brokers': 3, 'offsets.topic.num.partitions': 6, 'broker.rack': 'a,b,c'})
    rest = Rest(b)
    brokers = rest.get(f'{rest.base}/brokers')[1]['data']
    assert [(x['broker_id'], x['host'], x['port'], x['rack']) for x in brokers] == \
        [(n, h, p, r) for (n, (h, p)), r in zip(sorted(b.nodes.items()), 'abc')]
    assert rest.get(f'{rest.base}/brokers/3')[1]['port'] == b.nodes[3][1]
    assert rest.get(rest.base)[1]['controller']['related'].endswith('/brokers/1')
    create_topic(b.bootstrap, 'spread', 3)
    lines = rest.lines('spread', *({'partition_id': p, 'value': {'type': 'STRING', 'data': 'v%d' % p}}
                                   for p in range(3)))
    assert [(x['error_code'], x['partition_id'], x['offset']) for x in lines] == [(200, p, 0) for p in range(3)]
    for p in range(3):
        assert read_back(b.bootstrap_all, 'spread', p, 0, 1)[0].value() == b'v%d' % p
    groups = ['g%d' % i for i in range(6)]
    for g in groups:
        c = Consumer({'bootstrap.servers': b.bootstrap_all, 'group.id': g, 'enable.auto.commit': False})
        c.commit(offsets=[TopicPartition('spread', 0, 1)], asynchronous=False)
        c.close()
    status, body = rest.get(f'{rest.base}/consumer-groups')
    assert status == 200, body
    assert sorted(x['consumer_group_id'] for x in body['data']) == groups


@pytest.mark.librdkafka
@pytest.mark.skipif(libversion()[1] < 0x020c0000,
                    reason=f'librdkafka {libversion()[0]} has no KIP-848 consumer protocol (2.12+)')
def test_a_consumer_protocol_group_as_the_console_sees_it(broker):
    """A KIP-848 group (librdkafka, group.protocol=consumer) through the
    endpoints the console's group page reads: its type, state, epoch,
    server assignor, members with client id, host and assignment; lag per
    partition with the member that owns it; no offset reset while it has
    members; reset and delete once it has none."""
    rest = Rest(broker)
    create_topic(broker.bootstrap, 'k848', 2)
    rest.lines('k848', *({'partition_id': i % 2, 'value': {'type': 'STRING', 'data': str(i)}} for i in range(10)))
    c = Consumer({'bootstrap.servers': broker.bootstrap, 'group.id': 'g848', 'group.protocol': 'consumer',
                  'client.id': 'kip848-client', 'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
    c.subscribe(['k848'])
    got = []
    deadline = time.time() + TIMEOUT
    while len(got) < 10 and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got.append(m)
    assert len(got) == 10
    c.commit(offsets=[TopicPartition('k848', 0, 3), TopicPartition('k848', 1, 5)], asynchronous=False)
    from test_control_openapi import check
    status, g = rest.get('/v1/groups/g848')
    assert status == 200, g
    check('GroupState', g)
    assert (g['type'], g['state'], g['protocol_type'], g['protocol'], g['member_count']) == \
        ('consumer', 'Stable', 'consumer', 'uniform', 1)
    assert g['generation_id'] >= 1
    [m] = g['members']
    assert m['client_id'] == 'kip848-client' and m['client_host'].endswith('127.0.0.1')
    assert m['assignment'] == {'k848': [0, 1]}
    check('KafkaConsumerList', rest.get(f'{rest.base}/consumer-groups/g848/consumers')[1])
    consumers = rest.get(f'{rest.base}/consumer-groups/g848/consumers')[1]['data']
    assert [(x['consumer_id'], x['client_id']) for x in consumers] == [(m['member_id'], 'kip848-client')]
    lags = rest.get(f'{rest.base}/consumer-groups/g848/lags')[1]['data']
    assert [(x['partition_id'], x['current_offset'], x['lag'], x['consumer_id']) for x in lags] == \
        [(0, 3, 2, m['member_id']), (1, 5, 0, m['member_id'])]
    status, err = rest.post('/v1/groups/g848/offsets/reset', {'to': 'earliest'})
    assert status == 409 and err['error_code'] == 40903 and 'Stable' in err['message']
    c.close()
    deadline = time.time() + TIMEOUT
    while rest.get('/v1/groups/g848')[1]['state'] != 'Empty' and time.time() < deadline:
        time.sleep(0.1)
    status, body = rest.post('/v1/groups/g848/offsets/reset', {'to': 'earliest'})
    assert status == 200, body
    assert [(x['partition_id'], x['current_offset']) for x in rest.get(f'{rest.base}/consumer-groups/g848/lags')[1]['data']] == \
        [(0, 0), (1, 0)]
    assert rest.delete('/v1/groups/g848')[0] == 204
    assert rest.get(f'{rest.base}/consumer-groups/g848')[0] == 404
