"""TLS and SASL listeners (docs/security.md), driven by real clients:
confluent-kafka-python and kcat (librdkafka), kafka-python, kafkajs.

One broker serves PLAINTEXT, SSL, SASL_PLAINTEXT and SASL_SSL listeners at
once, each on its own ephemeral port; Metadata must advertise the endpoint
of the listener a client connected to. Certificates are made at test time
with scripts/dev-certs.sh (never committed). Failure cases (wrong password,
unknown user, wrong mechanism, plaintext bytes to a TLS port, a TLS hello
to a plaintext port, a truncated handshake, requests before authentication)
must each be refused with the client's expected error and a log line, and
leave the broker serving other connections."""

import os
import re
import socket
import ssl
import struct
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r'listening on (\S+):(\d+) \((\S+)\), protocol (\S+)')
PLAIN_JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
              'username="admin" password="admin-secret" user_alice="alice-secret" user_admin="admin-secret";')
SCRAM_USERS = ('SCRAM-SHA-256=[name=bob,password=bob-secret];'
               'SCRAM-SHA-512=[name=carol,password=carol-secret,iterations=8192]')


@pytest.fixture(scope='module')
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp('certs')
    subprocess.run([str(ROOT / 'scripts' / 'dev-certs.sh'), str(d)], check=True, capture_output=True)
    return d


def security_config(certs, **extra):
    cfg = {
        'listeners': 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': str(certs / 'server.pem'),
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': PLAIN_JAAS,
        'listener.name.sasl_ssl.plain.sasl.jaas.config': PLAIN_JAAS,
        'skiff.scram.users': SCRAM_USERS,
    }
    cfg.update(extra)
    return cfg


def listener_ports(b):
    """{listener name: port} from the broker's "listening on" lines."""
    return {m.group(3): int(m.group(2)) for m in LISTENING.finditer(b.log)}


def client_conf(certs, ports, listener, mechanism=None, user=None, password=None, client_cert=False):
    conf = {'bootstrap.servers': f'127.0.0.1:{ports[listener]}', 'security.protocol': listener}
    if 'SSL' in listener:
        conf['ssl.ca.location'] = str(certs / 'ca.pem')
        if client_cert:
            conf['ssl.certificate.location'] = str(certs / 'client.crt')
            conf['ssl.key.location'] = str(certs / 'client.key')
    if mechanism:
        conf.update({'sasl.mechanism': mechanism, 'sasl.username': user, 'sasl.password': password})
    return conf


def metadata_broker(conf):
    md = AdminClient(conf).list_topics(timeout=15)
    return [(b.host, b.port) for b in md.brokers.values()]


def auth_error(conf):
    """The error a client gets connecting with `conf`, as librdkafka reports it."""
    errors = []
    p = Producer(dict(conf, error_cb=lambda e: errors.append(e)))
    deadline = time.time() + 15
    while not errors and time.time() < deadline:
        p.poll(0.2)
    assert errors, 'the connection was not refused'
    return errors[0]


def produce(conf, topic, values, keyed=False):
    p = Producer(conf)
    for i, v in enumerate(values):
        p.produce(topic, v, key=str(i).encode() if keyed else None)
    assert p.flush(30) == 0


def consume_group(conf, topic, n, group):
    c = Consumer(dict(conf, **{'group.id': group, 'auto.offset.reset': 'earliest', 'enable.auto.commit': False}))
    c.subscribe([topic])
    got = []
    deadline = time.time() + 60
    while len(got) < n and time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        assert m.error() is None, m.error()
        got.append((m.partition(), m.offset(), m.value()))
    c.commit(asynchronous=False)
    committed = c.committed([tp for tp in c.assignment()], timeout=15)
    c.close()
    return got, committed


def test_four_listeners_each_advertises_itself(start_broker, certs):
    b = start_broker(config=security_config(certs))
    ports = listener_ports(b)
    assert set(ports) == {'PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'}
    assert len(set(ports.values())) == 4
    cases = [('PLAINTEXT', None, None, None), ('SSL', None, None, None),
             ('SASL_PLAINTEXT', 'PLAIN', 'alice', 'alice-secret'),
             ('SASL_SSL', 'SCRAM-SHA-256', 'bob', 'bob-secret')]
    for listener, mech, user, pw in cases:
        conf = client_conf(certs, ports, listener, mech, user, pw)
        assert metadata_broker(conf) == [('127.0.0.1', ports[listener])], listener
    for listener in ('SSL', 'SASL_PLAINTEXT', 'SASL_SSL'):
        assert re.search(rf'listening on 127\.0\.0\.1:{ports[listener]} \({listener}\), protocol {listener}', b.log)


def test_custom_listener_names_through_the_protocol_map(start_broker, certs):
    b = start_broker(config=security_config(
        certs, listeners='CLIENT://127.0.0.1:0,SECURE://127.0.0.1:0',
        **{'listener.security.protocol.map': 'CLIENT:PLAINTEXT,SECURE:SASL_SSL',
           'listener.name.secure.plain.sasl.jaas.config': PLAIN_JAAS,
           'listener.name.secure.sasl.enabled.mechanisms': 'PLAIN'}))
    ports = {m.group(3): (int(m.group(2)), m.group(4)) for m in LISTENING.finditer(b.log)}
    assert {k: v[1] for k, v in ports.items()} == {'CLIENT': 'PLAINTEXT', 'SECURE': 'SASL_SSL'}
    conf = {'bootstrap.servers': f'127.0.0.1:{ports["SECURE"][0]}', 'security.protocol': 'SASL_SSL',
            'ssl.ca.location': str(certs / 'ca.pem'), 'sasl.mechanism': 'PLAIN', 'sasl.username': 'admin',
            'sasl.password': 'admin-secret'}
    assert metadata_broker(conf) == [('127.0.0.1', ports['SECURE'][0])]
    # Only PLAIN is enabled on SECURE: SCRAM is refused with the enabled list.
    err = auth_error(dict(conf, **{'sasl.mechanism': 'SCRAM-SHA-256'}))
    assert 'SCRAM-SHA-256' in err.str() and 'PLAIN' in err.str(), err.str()
    assert 'Unsupported SASL mechanism SCRAM-SHA-256' in b.log


@pytest.mark.parametrize('listener,mech,user,pw', [
    ('SSL', None, None, None),
    ('SASL_PLAINTEXT', 'SCRAM-SHA-512', 'carol', 'carol-secret'),
    ('SASL_SSL', 'PLAIN', 'alice', 'alice-secret'),
    ('SASL_SSL', 'SCRAM-SHA-512', 'carol', 'carol-secret'),
])
def test_produce_consume_group_admin_over_each_protocol(start_broker, certs, listener, mech, user, pw):
    b = start_broker(config=security_config(certs))
    conf = client_conf(certs, listener_ports(b), listener, mech, user, pw)
    topic = f'sec-{uuid.uuid4().hex[:8]}'
    admin = AdminClient(conf)
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(15)
    values = [f'v{i}'.encode() * (i + 1) for i in range(200)]
    produce(conf, topic, values, keyed=True)
    got, committed = consume_group(conf, topic, 200, f'g-{topic}')
    assert sorted(v for _, _, v in got) == sorted(values)
    for p in (0, 1):
        offsets = [o for part, o, _ in got if part == p]
        assert offsets and offsets == list(range(len(offsets)))
    assert sorted((tp.partition, tp.offset) for tp in committed) == sorted(
        (p, len([1 for part, _, _ in got if part == p])) for p in (0, 1))


def test_large_fetch_over_tls_matches_plaintext(start_broker, certs):
    """Record data goes through the TLS copy path, not sendfile: a fetch of
    several MB reads back byte for byte what PLAINTEXT reads."""
    b = start_broker(config=security_config(certs))
    ports = listener_ports(b)
    plain = client_conf(certs, ports, 'PLAINTEXT')
    tls = client_conf(certs, ports, 'SSL')
    topic = 'big'
    values = [os.urandom(64 * 1024) for _ in range(80)]
    produce(dict(plain, **{'linger.ms': 50}), topic, values)
    got_tls, _ = consume_group(dict(tls, **{'fetch.max.bytes': 8 << 20}), topic, 80, 'g-tls')
    got_plain, _ = consume_group(plain, topic, 80, 'g-plain')
    assert [v for _, _, v in got_tls] == values
    assert got_tls == got_plain


def test_ssl_client_auth_required_and_principal_mapping(start_broker, certs):
    b = start_broker(config=security_config(
        certs, **{'ssl.client.auth': 'required', 'ssl.truststore.type': 'PEM',
                  'ssl.truststore.location': str(certs / 'ca.pem'),
                  'ssl.principal.mapping.rules': 'RULE:^CN=(.*?),OU=dev,O=skiff$/$1/U,DEFAULT',
                  'log.level': 'debug'}))
    ports = listener_ports(b)
    with_cert = client_conf(certs, ports, 'SSL', client_cert=True)
    assert metadata_broker(with_cert) == [('127.0.0.1', ports['SSL'])]
    assert re.search(r'on listener SSL: TLSv1\.3 \S+, principal User:CLIENT', b.log)
    err = auth_error(client_conf(certs, ports, 'SSL'))
    assert 'SSL' in err.str() or 'handshake' in err.str().lower(), err.str()
    assert re.search(r'on SSL listener SSL: TLS handshake failed: peer did not return a certificate', b.log)
    # The PLAINTEXT listener is unaffected.
    assert metadata_broker(client_conf(certs, ports, 'PLAINTEXT')) == [('127.0.0.1', ports['PLAINTEXT'])]


def test_tls12_only_and_cipher_suite(start_broker, certs):
    b = start_broker(config=security_config(
        certs, **{'ssl.enabled.protocols': 'TLSv1.2',
                  'ssl.cipher.suites': 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'log.level': 'debug'}))
    ports = listener_ports(b)
    assert metadata_broker(client_conf(certs, ports, 'SSL')) == [('127.0.0.1', ports['SSL'])]
    assert re.search(r'on listener SSL: TLSv1\.2 ECDHE-RSA-AES128-GCM-SHA256, principal User:ANONYMOUS', b.log)
    ctx = ssl.create_default_context(cafile=str(certs / 'ca.pem'))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    with socket.create_connection(('127.0.0.1', ports['SSL'])) as s:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(s, server_hostname='localhost')


@pytest.mark.parametrize('mech,user,pw,message', [
    ('PLAIN', 'alice', 'wrong', 'Authentication failed: Invalid username or password'),
    ('PLAIN', 'mallory', 'alice-secret', 'Authentication failed: Invalid username or password'),
    ('SCRAM-SHA-256', 'bob', 'wrong', 'Authentication failed during authentication due to invalid credentials '
                                      'with SASL mechanism SCRAM-SHA-256'),
    ('SCRAM-SHA-512', 'bob', 'bob-secret', 'Authentication failed during authentication due to invalid '
                                           'credentials with SASL mechanism SCRAM-SHA-512'),
])
def test_sasl_refusals(start_broker, certs, mech, user, pw, message):
    b = start_broker(config=security_config(certs))
    ports = listener_ports(b)
    for listener in ('SASL_PLAINTEXT', 'SASL_SSL'):
        err = auth_error(client_conf(certs, ports, listener, mech, user, pw))
        assert message in err.str(), err.str()
        assert re.search(rf'on listener {listener}: authentication of principal User:{user} with {mech} failed',
                         b.log)
    ok = client_conf(certs, ports, 'SASL_SSL', 'SCRAM-SHA-256', 'bob', 'bob-secret')
    assert metadata_broker(ok) == [('127.0.0.1', ports['SASL_SSL'])]


def kafka_request(api_key, version, body=b'', correlation_id=1):
    hdr = struct.pack('>hhih', api_key, version, correlation_id, 4) + b'test'
    return struct.pack('>i', len(hdr) + len(body)) + hdr + body


def read_response(s):
    size = s.recv(4)
    if len(size) < 4:
        return None
    n = struct.unpack('>i', size)[0]
    data = b''
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def closed(s):
    s.settimeout(10)
    try:
        return s.recv(1) == b''
    except ConnectionResetError:
        return True


def test_untrusted_client_certificate_gets_kafkas_alert(start_broker, certs, tmp_path):
    """A client certificate from another CA is refused with the alert
    bad_certificate (42), as Kafka's broker (Java's TLS) sends it, not
    OpenSSL's unknown_ca (48): librdkafka's test 0097 checks the number."""
    other = tmp_path / 'other'
    subprocess.run([str(ROOT / 'scripts' / 'dev-certs.sh'), str(other)], check=True, capture_output=True)
    b = start_broker(config=security_config(certs, **{
        'listener.name.ssl.ssl.client.auth': 'required', 'ssl.truststore.location': str(certs / 'ca.pem')}))
    ctx = ssl.create_default_context(cafile=str(certs / 'ca.pem'))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # the refusal comes inside the handshake
    ctx.load_cert_chain(str(other / 'client.crt'), str(other / 'client.key'))
    with socket.create_connection(('127.0.0.1', listener_ports(b)['SSL']), timeout=10) as s:
        with pytest.raises(ssl.SSLError) as e:
            ctx.wrap_socket(s, server_hostname='localhost')
    assert e.value.reason == 'SSLV3_ALERT_BAD_CERTIFICATE'
    ctx.load_cert_chain(str(certs / 'client.crt'), str(certs / 'client.key'))
    with socket.create_connection(('127.0.0.1', listener_ports(b)['SSL']), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname='localhost') as t:
            t.send(kafka_request(18, 0, correlation_id=7))
            assert struct.unpack('>i', read_response(t)[:4])[0] == 7


def test_tls_small_records_pipelined(start_broker, certs):
    """Requests each in its own TLS record, 300 sent before any answer is
    read (more than the 256 a connection may owe): the broker reads ahead
    many records per read (src/security/tls.c) and must answer every one,
    in order, across its pauses for back-pressure (a short output limit
    here), during which records wait inside OpenSSL."""
    b = start_broker(config=security_config(certs, **{'skiff.connection.output.max.bytes': '4096'}))
    ctx = ssl.create_default_context(cafile=str(certs / 'ca.pem'))
    got = []
    with socket.create_connection(('127.0.0.1', listener_ports(b)['SSL']), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname='localhost') as s:
            for batch in range(10):
                for i in range(300):
                    s.send(kafka_request(18, 0, correlation_id=batch * 300 + i))
                for _ in range(300):
                    got.append(struct.unpack('>i', read_response(s)[:4])[0])
    assert got == list(range(3000))


def test_wire_refusals_leave_the_broker_serving(start_broker, certs):
    b = start_broker(config=security_config(certs, **{'connection.failed.authentication.delay.ms': '0'}))
    ports = listener_ports(b)
    # Plaintext ApiVersions to the TLS port.
    with socket.create_connection(('127.0.0.1', ports['SSL'])) as s:
        s.sendall(kafka_request(18, 0))
        assert closed(s)
    # A TLS hello to the plaintext port.
    ctx = ssl.create_default_context(cafile=str(certs / 'ca.pem'))
    with socket.create_connection(('127.0.0.1', ports['PLAINTEXT'])) as s:
        with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
            ctx.wrap_socket(s, server_hostname='localhost')
    # A truncated TLS handshake: half a ClientHello, then the client goes away.
    with socket.create_connection(('127.0.0.1', ports['SSL'])) as s:
        s.sendall(bytes.fromhex('160301020001') + b'\x03\x03' + os.urandom(20))
    # Metadata before SASL authentication: closed without an answer.
    with socket.create_connection(('127.0.0.1', ports['SASL_PLAINTEXT'])) as s:
        s.sendall(kafka_request(3, 1, struct.pack('>i', -1)))
        assert closed(s)
    # SaslHandshake for an unknown mechanism: UNSUPPORTED_SASL_MECHANISM (33) with the enabled list.
    with socket.create_connection(('127.0.0.1', ports['SASL_PLAINTEXT'])) as s:
        s.sendall(kafka_request(17, 1, struct.pack('>h', 6) + b'GSSAPI'))
        resp = read_response(s)
        err, n = struct.unpack('>hi', resp[4:10])
        assert err == 33
        names, pos = [], 10
        for _ in range(n):
            ln = struct.unpack('>h', resp[pos:pos + 2])[0]
            names.append(resp[pos + 2:pos + 2 + ln].decode())
            pos += 2 + ln
        assert names == ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']
        assert closed(s)
    # After SaslHandshake v1, Metadata gets ILLEGAL_SASL_STATE (34), then the connection closes.
    with socket.create_connection(('127.0.0.1', ports['SASL_PLAINTEXT'])) as s:
        s.sendall(kafka_request(17, 1, struct.pack('>h', 5) + b'PLAIN'))
        assert struct.unpack('>h', read_response(s)[4:6])[0] == 0
        s.sendall(kafka_request(3, 4, struct.pack('>ib', 0, 0), correlation_id=2))
        resp = read_response(s)
        assert resp is not None and struct.unpack('>i', resp[:4])[0] == 2
        assert closed(s)
    # SaslHandshake on a PLAINTEXT listener: ILLEGAL_SASL_STATE, as Kafka's KafkaApis answers.
    with socket.create_connection(('127.0.0.1', ports['PLAINTEXT'])) as s:
        s.sendall(kafka_request(17, 1, struct.pack('>h', 5) + b'PLAIN'))
        assert struct.unpack('>h', read_response(s)[4:6])[0] == 34
    truncated = r'TLS handshake failed: (unexpected eof while reading|the client closed during the handshake)'
    deadline = time.time() + 10
    while not re.search(truncated, b.log) and time.time() < deadline:
        time.sleep(0.1)
    log = b.log
    assert re.search(r'on SSL listener SSL: TLS handshake failed: (wrong version number|packet length too long|'
                     r'http request|record layer failure)', log), log
    assert 'a TLS handshake on PLAINTEXT listener PLAINTEXT' in log
    assert re.search(truncated, log)
    assert 'on listener SASL_PLAINTEXT: Metadata before SASL authentication; closing' in log
    assert 'Metadata during SASL authentication; answering ILLEGAL_SASL_STATE and closing' in log
    for listener, mech, user, pw in [('PLAINTEXT', None, None, None), ('SSL', None, None, None),
                                     ('SASL_PLAINTEXT', 'PLAIN', 'alice', 'alice-secret')]:
        conf = client_conf(certs, listener_ports(b), listener, mech, user, pw)
        assert metadata_broker(conf) == [('127.0.0.1', ports[listener])]


def scram_raw_v0(port, user, password):
    """SCRAM-SHA-256 after SaslHandshake v0: bare size-prefixed tokens."""
    import base64
    import hashlib
    import hmac
    with socket.create_connection(('127.0.0.1', port)) as s:
        s.sendall(kafka_request(17, 0, struct.pack('>h', 13) + b'SCRAM-SHA-256'))
        assert struct.unpack('>h', read_response(s)[4:6])[0] == 0
        bare = f'n={user},r=abcdefghijklmnop'
        tok = f'n,,{bare}'.encode()
        s.sendall(struct.pack('>i', len(tok)) + tok)
        first = read_response(s)
        if first is None:
            return None
        first = first.decode()
        attrs = dict(kv.split('=', 1) for kv in first.split(','))
        salted = hashlib.pbkdf2_hmac('sha256', password.encode(), base64.b64decode(attrs['s']), int(attrs['i']))
        ck = hmac.new(salted, b'Client Key', 'sha256').digest()
        without = 'c=biws,r=' + attrs['r']
        sig = hmac.new(hashlib.sha256(ck).digest(), f'{bare},{first},{without}'.encode(), 'sha256').digest()
        final = f'{without},p={base64.b64encode(bytes(a ^ b for a, b in zip(ck, sig))).decode()}'.encode()
        s.sendall(struct.pack('>i', len(final)) + final)
        last = read_response(s)
        if last is None:
            return None
        sk = hmac.new(salted, b'Server Key', 'sha256').digest()
        expect = 'v=' + base64.b64encode(hmac.new(sk, f'{bare},{first},{without}'.encode(), 'sha256').digest()).decode()
        assert last.decode() == expect
        s.sendall(kafka_request(18, 0))
        return read_response(s)


def test_sasl_handshake_v0_bare_tokens(start_broker, certs):
    b = start_broker(config=security_config(certs, **{'connection.failed.authentication.delay.ms': '0'}))
    port = listener_ports(b)['SASL_PLAINTEXT']
    resp = scram_raw_v0(port, 'bob', 'bob-secret')
    assert resp is not None and struct.unpack('>ih', resp[:6]) == (1, 0)
    assert scram_raw_v0(port, 'bob', 'wrong') is None


def test_scram_users_survive_restart_and_are_salted(start_broker, certs):
    b = start_broker(config=security_config(certs))
    text = (Path(b.data_dir) / 'scram-credentials').read_text()
    assert 'bob-secret' not in text and 'carol-secret' not in text
    lines = [l.split() for l in text.splitlines() if not l.startswith('#')]
    assert sorted((l[0], l[2]) for l in lines) == [('SCRAM-SHA-256', '4096'), ('SCRAM-SHA-512', '8192')]
    b.restart()
    assert (Path(b.data_dir) / 'scram-credentials').read_text() == text, 'restart must not re-salt'
    conf = client_conf(certs, listener_ports(b), 'SASL_SSL', 'SCRAM-SHA-512', 'carol', 'carol-secret')
    assert metadata_broker(conf)


@pytest.mark.librdkafka
def test_reauthentication_session_lifetime(start_broker, certs):
    """KIP-368: with connections.max.reauth.ms the broker tells the client the
    session lifetime. librdkafka 2.2+ re-authenticates before it ends and
    keeps working on the same connection; an older one (Debian's 2.0.2) does
    not, so the broker closes its connection at the first request after the
    session ended, as Kafka does, and the client reconnects."""
    from confluent_kafka import libversion
    b = start_broker(config=security_config(certs, **{
        'listener.name.sasl_plaintext.scram-sha-256.connections.max.reauth.ms': '3000', 'log.level': 'debug'}))
    conf = client_conf(certs, listener_ports(b), 'SASL_PLAINTEXT', 'SCRAM-SHA-256', 'bob', 'bob-secret')
    topic = 'reauth'
    p = Producer(conf)
    for i in range(8):
        p.produce(topic, f'{i}'.encode())
        p.flush(10)
        time.sleep(0.6)
    assert p.flush(10) == 0
    assert len(re.findall(r'listener SASL_PLAINTEXT: authenticated User:bob with SCRAM-SHA-256', b.log)) >= 2
    expired = 'Produce after the SASL session expired (connections.max.reauth.ms); closing'
    if libversion()[1] >= 0x02020000:
        assert expired not in b.log
    else:
        assert expired in b.log
    got, _ = consume_group(conf, topic, 8, 'g-reauth')
    assert [v for _, _, v in got] == [f'{i}'.encode() for i in range(8)]


# ---- kafka-python -----------------------------------------------------------

def kafka_python_conf(certs, ports, listener, mech=None, user=None, pw=None):
    conf = {'bootstrap_servers': f'127.0.0.1:{ports[listener]}', 'security_protocol': listener}
    if 'SSL' in listener:
        conf.update(ssl_cafile=str(certs / 'ca.pem'), ssl_check_hostname=True)
    if mech:
        conf.update(sasl_mechanism=mech, sasl_plain_username=user, sasl_plain_password=pw)
    return conf


@pytest.mark.parametrize('listener,mech,user,pw', [
    ('SSL', None, None, None),
    ('SASL_PLAINTEXT', 'PLAIN', 'alice', 'alice-secret'),
    ('SASL_PLAINTEXT', 'SCRAM-SHA-256', 'bob', 'bob-secret'),
    ('SASL_SSL', 'SCRAM-SHA-512', 'carol', 'carol-secret'),
])
def test_kafka_python(start_broker, certs, listener, mech, user, pw):
    from kafka import KafkaConsumer, KafkaProducer
    b = start_broker(config=security_config(certs))
    conf = kafka_python_conf(certs, listener_ports(b), listener, mech, user, pw)
    p = KafkaProducer(**conf)
    for i in range(20):
        p.send('kp', f'm{i}'.encode())
    p.flush(30)
    p.close()
    c = KafkaConsumer('kp', group_id='kpg', auto_offset_reset='earliest', consumer_timeout_ms=15000, **conf)
    got = []
    for m in c:
        got.append((m.offset, m.value))
        if len(got) == 20:
            break
    c.commit()
    c.close()
    assert got == [(i, f'm{i}'.encode()) for i in range(20)]


# ---- OAUTHBEARER with unsecured tokens ---------------------------------------

OAUTH = {'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER'}


def oauth_conf(certs, ports, listener, principal, scope='kafka'):
    conf = client_conf(certs, ports, listener)
    conf.update({'sasl.mechanism': 'OAUTHBEARER', 'enable.sasl.oauthbearer.unsecure.jwt': True,
                 'sasl.oauthbearer.config': f'principal={principal} scope={scope} lifeSeconds=3600'})
    return conf


def test_oauthbearer_unsecured_tokens(start_broker, certs):
    jaas = ('org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required '
            'unsecuredValidatorRequiredScope="kafka";')
    b = start_broker(config=security_config(certs, **OAUTH, **{
        'listener.name.sasl_ssl.oauthbearer.sasl.jaas.config': jaas,
        'listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config': jaas, 'log.level': 'debug'}))
    ports = listener_ports(b)
    for listener in ('SASL_PLAINTEXT', 'SASL_SSL'):
        conf = oauth_conf(certs, ports, listener, 'olive')
        produce(conf, f'oauth-{listener}', [b'a', b'b'])
        got, _ = consume_group(conf, f'oauth-{listener}', 2, f'g-{listener}')
        assert [v for _, _, v in got] == [b'a', b'b']
        assert f'listener {listener}: authenticated User:olive with OAUTHBEARER' in b.log
    # A token without the required scope: the error challenge's text comes back.
    err = auth_error(oauth_conf(certs, ports, 'SASL_SSL', 'olive', scope='other'))
    assert '{"status":"insufficient_scope"}' in err.str(), err.str()
    assert re.search(r'on listener SASL_SSL: authentication of principal User:olive with OAUTHBEARER failed: '
                     r'the token lacks the required scope kafka', b.log)


def test_kafka_python_wrong_password(start_broker, certs):
    from kafka import KafkaProducer
    from kafka.errors import KafkaError
    from kp import timeouts
    b = start_broker(config=security_config(certs))
    conf = kafka_python_conf(certs, listener_ports(b), 'SASL_PLAINTEXT', 'SCRAM-SHA-256', 'bob', 'nope')
    with pytest.raises(KafkaError):
        KafkaProducer(**conf, **timeouts(5000), max_block_ms=5000).send('x', b'1').get(5)
    assert 'authentication of principal User:bob with SCRAM-SHA-256 failed' in b.log


# ---- kafkajs -----------------------------------------------------------------

JS_DIR = ROOT / 'integration' / 'js'


@pytest.mark.parametrize('listener,mech,user,pw', [
    ('SSL', None, None, None),
    ('SASL_PLAINTEXT', 'plain', 'alice', 'alice-secret'),
    ('SASL_SSL', 'scram-sha-256', 'bob', 'bob-secret'),
    ('SASL_SSL', 'scram-sha-512', 'carol', 'carol-secret'),
    ('SASL_PLAINTEXT', 'oauthbearer', 'olive', ''),
])
def test_kafkajs(start_broker, certs, listener, mech, user, pw):
    if not (JS_DIR / 'node_modules' / 'kafkajs').is_dir():
        pytest.fail('kafkajs is not installed: run `npm ci` in integration/js (scripts/test.sh does)')
    b = start_broker(config=security_config(certs, **OAUTH))
    port = listener_ports(b)[listener]
    env = dict(os.environ, KAFKAJS_NO_PARTITIONER_WARNING='1', BROKER=f'127.0.0.1:{port}',
               CA=str(certs / 'ca.pem') if 'SSL' in listener else '', MECH=mech or '', USER=user or '',
               PASS=pw or '')
    res = subprocess.run(['node', str(JS_DIR / 'security.js')], capture_output=True, text=True, timeout=120,
                         env=env, cwd=JS_DIR)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ['created', 'produced:10', 'consumed:0-9'], res.stdout


# ---- SCRAM credentials through librdkafka 2.15's admin API --------------------

@pytest.fixture(scope='module')
def scram_admin(tmp_path_factory):
    """integration/c/scram_admin.c built against librdkafka 2.15 (scripts/test.sh
    builds it in build/librdkafka-2.15; SKIFF_LIBRDKAFKA_DIR names another)."""
    lib = Path(os.environ.get('SKIFF_LIBRDKAFKA_DIR', ROOT / 'build' / 'librdkafka-2.15'))
    if not (lib / 'include' / 'librdkafka' / 'rdkafka.h').is_file():
        pytest.skip(f'librdkafka 2.15 is not built in {lib} (scripts/build-librdkafka.sh)')
    exe = tmp_path_factory.mktemp('c') / 'scram_admin'
    subprocess.run(['cc', '-o', str(exe), str(ROOT / 'integration' / 'c' / 'scram_admin.c'), f'-I{lib}/include',
                    f'-L{lib}/lib', '-lrdkafka', f'-Wl,-rpath,{lib}/lib'], check=True, capture_output=True)

    def run(bootstrap, *command, conf=()):
        res = subprocess.run([str(exe), bootstrap, *conf, '--', *command], capture_output=True, text=True,
                             timeout=60)
        assert res.returncode == 0, res.stderr
        # librdkafka 2.15 shows a description's error message with the byte that
        # follows it on the wire (the compact count of credential_infos, 0x01).
        return sorted(line.rstrip('\x01') for line in res.stdout.splitlines())
    return run


def test_user_scram_credentials_admin(start_broker, certs, scram_admin):
    b = start_broker(config=security_config(certs))
    ports = listener_ports(b)
    plain = f'127.0.0.1:{ports["PLAINTEXT"]}'
    assert scram_admin(plain, 'describe') == ['bob 256:4096', 'carol 512:8192']
    assert scram_admin(plain, 'upsert', 'dave', '256', '4096', 'dave-pw', '+', 'upsert', 'dave', '512', '16384',
                       'x') == ['dave DUPLICATE_RESOURCE A user credential cannot be altered twice in the same '
                                'request']
    assert scram_admin(plain, 'upsert', 'dave', '256', '8192', 'dave-pw', '+', 'upsert', 'erin', '512', '100', 'x',
                       '+', 'upsert', 'fay', '512', '20000', 'x', '+', 'delete', 'bob', '512', '+',
                       'delete', 'carol', '512') == [
        'bob RESOURCE_NOT_FOUND Attempt to delete a user credential that does not exist',
        'carol ok', 'dave ok', 'erin UNACCEPTABLE_CREDENTIAL Too few iterations',
        'fay UNACCEPTABLE_CREDENTIAL Too many iterations']
    assert scram_admin(plain, 'describe', 'dave', 'zed') == [
        'dave 256:8192', 'zed RESOURCE_NOT_FOUND Attempt to describe a user credential that does not exist']
    # Over SASL_SSL, as the new user; and the credential survives a restart.
    sasl = ['security.protocol=SASL_SSL', f'ssl.ca.location={certs / "ca.pem"}', 'sasl.mechanism=SCRAM-SHA-256',
            'sasl.username=dave', 'sasl.password=dave-pw']
    assert scram_admin(f'127.0.0.1:{ports["SASL_SSL"]}', 'describe', 'dave', conf=sasl) == ['dave 256:8192']
    text = (Path(b.data_dir) / 'scram-credentials').read_text()
    assert 'dave-pw' not in text
    b.restart()
    ports = listener_ports(b)
    conf = client_conf(certs, ports, 'SASL_SSL', 'SCRAM-SHA-256', 'dave', 'dave-pw')
    assert metadata_broker(conf) == [('127.0.0.1', ports['SASL_SSL'])]
    err = auth_error(client_conf(certs, ports, 'SASL_SSL', 'SCRAM-SHA-256', 'dave', 'wrong'))
    assert 'invalid credentials with SASL mechanism SCRAM-SHA-256' in err.str()


@pytest.mark.parametrize('prefix', ['SKIFF', 'KAFKA'])
def test_security_keys_from_the_environment(start_broker, certs, prefix):
    """The security keys as SKIFF_* variables (the keys' rule, and
    SKIFF_LISTENER_NAME_<LISTENER>_<MECHANISM>_<KEY>) and as apache/kafka's
    KAFKA_* variables; a SKIFF_ variable wins over a KAFKA_ one."""
    listener_jaas = {'SKIFF': 'SKIFF_LISTENER_NAME_SASL_SSL_PLAIN_SASL_JAAS_CONFIG',
                     'KAFKA': 'KAFKA_LISTENER_NAME_SASL__SSL_PLAIN_SASL_JAAS_CONFIG'}[prefix]
    env = {f'{prefix}_SSL_KEYSTORE_LOCATION': str(certs / 'server.pem'),
           f'{prefix}_SASL_ENABLED_MECHANISMS': 'PLAIN,SCRAM-SHA-512',
           listener_jaas: PLAIN_JAAS,
           f'{prefix}_SKIFF_SCRAM_USERS': 'SCRAM-SHA-512=[name=carol,password=carol-secret]',
           f'{prefix}_AUTHORIZER_CLASS_NAME': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
           f'{prefix}_SUPER_USERS': 'User:alice;User:carol'}
    if prefix == 'SKIFF':
        env['KAFKA_SASL_ENABLED_MECHANISMS'] = 'SCRAM-SHA-256'
    b = start_broker(config={'listeners': 'SASL_SSL://127.0.0.1:0'}, env=env)
    assert 'listener SASL_SSL: SASL_SSL, ssl.client.auth=none, mechanisms PLAIN,SCRAM-SHA-512' in b.log
    assert 'ACLs enforced, super.users User:alice;User:carol' in b.log
    ports = listener_ports(b)
    alice = client_conf(certs, ports, 'SASL_SSL', 'PLAIN', 'alice', 'alice-secret')
    produce(alice, 'env-t', [b'a', b'b'])
    carol = client_conf(certs, ports, 'SASL_SSL', 'SCRAM-SHA-512', 'carol', 'carol-secret')
    got, _ = consume_group(carol, 'env-t', 2, 'env-g')
    assert got == [(0, 0, b'a'), (0, 1, b'b')]
    err = auth_error(client_conf(certs, ports, 'SASL_SSL', 'PLAIN', 'alice', 'wrong'))
    assert 'Invalid username or password' in err.str()


def test_describe_configs_lists_the_security_keys(start_broker, certs):
    """A broker's DescribeConfigs lists its TLS, SASL and authentication keys
    as Kafka's does (librdkafka's test 0142 reads connections.max.reauth.ms
    this way), passwords as sensitive with no value."""
    from confluent_kafka.admin import ConfigResource
    b = start_broker(config=security_config(certs, **{'connections.max.reauth.ms': '5000',
                                                      'ssl.key.password': 'not-shown'}))
    a = AdminClient(client_conf(certs, listener_ports(b), 'PLAINTEXT'))
    (f,) = a.describe_configs([ConfigResource(ConfigResource.Type.BROKER, '1')]).values()
    got = f.result(15)
    assert (got['connections.max.reauth.ms'].value, got['connections.max.reauth.ms'].source) == ('5000', 4)
    assert (got['connection.failed.authentication.delay.ms'].value,
            got['connection.failed.authentication.delay.ms'].source) == ('100', 5)
    assert got['sasl.enabled.mechanisms'].value == 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512'
    assert got['ssl.keystore.location'].value == str(certs / 'server.pem')
    assert got['ssl.client.auth'].value == 'none'
    assert (got['ssl.key.password'].value, got['ssl.key.password'].is_sensitive) == (None, True)


def test_advertised_listeners_per_name_and_requested_client_auth(start_broker, certs):
    """advertised.listeners gives each listener its own endpoint; with
    ssl.client.auth=requested a client without a certificate is
    User:ANONYMOUS and one with a certificate is named by it."""
    b = start_broker(config=security_config(certs, **{
        'ssl.client.auth': 'requested', 'ssl.truststore.location': str(certs / 'ca.pem'), 'log.level': 'debug'}))
    ports = listener_ports(b)
    b.stop()
    adv = f'PLAINTEXT://plain.example:1111,SSL://localhost:{ports["SSL"]},SASL_SSL://secure.example:2222'
    listeners = ','.join(f'{n}://127.0.0.1:{p}' for n, p in ports.items())
    b = start_broker(config=security_config(certs, listeners=listeners, **{
        'advertised.listeners': adv, 'ssl.client.auth': 'requested',
        'ssl.truststore.location': str(certs / 'ca.pem'), 'log.level': 'debug'}), data_dir=b.data_dir)
    assert metadata_broker(client_conf(certs, ports, 'SSL')) == [('localhost', ports['SSL'])]
    assert metadata_broker(client_conf(certs, ports, 'SSL', client_cert=True)) == [('localhost', ports['SSL'])]
    log = b.log
    assert re.search(r'on listener SSL: TLSv1\.3 \S+, principal User:ANONYMOUS', log)
    assert re.search(r'on listener SSL: TLSv1\.3 \S+, principal User:CN=client,OU=dev,O=skiff', log)
    # The SASL_PLAINTEXT listener has no advertised entry: the address the client connected to.
    conf = client_conf(certs, ports, 'SASL_PLAINTEXT', 'PLAIN', 'alice', 'alice-secret')
    assert metadata_broker(conf) == [('127.0.0.1', ports['SASL_PLAINTEXT'])]


def test_kcat_over_sasl_ssl_and_ssl_with_client_certificate(start_broker, certs):
    b = start_broker(config=security_config(certs, **{
        'listener.name.ssl.ssl.client.auth': 'required', 'ssl.truststore.location': str(certs / 'ca.pem')}))
    ports = listener_ports(b)
    sasl = ['-X', 'security.protocol=SASL_SSL', '-X', f'ssl.ca.location={certs / "ca.pem"}',
            '-X', 'sasl.mechanism=SCRAM-SHA-512', '-X', 'sasl.username=carol', '-X', 'sasl.password=carol-secret']
    tls = ['-X', 'security.protocol=SSL', '-X', f'ssl.ca.location={certs / "ca.pem"}',
           '-X', f'ssl.certificate.location={certs / "client.crt"}', '-X', f'ssl.key.location={certs / "client.key"}']
    subprocess.run(['kcat', '-b', f'127.0.0.1:{ports["SASL_SSL"]}', *sasl, '-P', '-t', 'kc'],
                   input=b'one\ntwo\nthree\n', check=True, timeout=60)
    out = subprocess.run(['kcat', '-b', f'127.0.0.1:{ports["SSL"]}', *tls, '-C', '-t', 'kc', '-o', 'beginning', '-e',
                          '-f', '%o:%s\n'], capture_output=True, check=True, timeout=60).stdout
    assert out.decode().split() == ['0:one', '1:two', '2:three']
    # ssl.client.auth=required on the SSL listener only: without a certificate kcat fails.
    res = subprocess.run(['kcat', '-b', f'127.0.0.1:{ports["SSL"]}', *tls[:4], '-L', '-m', '3'],
                         capture_output=True, timeout=60)
    assert res.returncode != 0
    assert 'peer did not return a certificate' in b.log


@pytest.mark.parametrize('extra,message', [
    ({}, 'listener SSL: TLS needs a keystore: ssl.keystore.location (PEM key and certificates), or '
         'ssl.keystore.key and ssl.keystore.certificate.chain'),
    ({'ssl.keystore.location': '/nonexistent.pem'}, 'listener SSL: cannot read ssl.keystore.location /nonexistent.pem'),
    ({'ssl.keystore.type': 'JKS', 'ssl.keystore.location': 'x'}, 'listener SSL: ssl.keystore.type JKS is not supported'),
    ({'ssl.client.auth': 'sometimes'}, 'listener SSL: ssl.client.auth must be none, requested or required'),
    ({'ssl.client.auth': 'required'}, 'listener SSL: ssl.client.auth needs a truststore'),
    ({'ssl.enabled.protocols': 'TLSv1.1'}, 'listener SSL: ssl.enabled.protocols: "TLSv1.1" is not TLSv1.2 or TLSv1.3'),
    ({'ssl.cipher.suites': 'TLS_NOPE'}, 'listener SSL: ssl.cipher.suites: TLS_NOPE is not a suite this OpenSSL offers'),
    ({'ssl.principal.mapping.rules': 'RULE:x'}, 'ssl.principal.mapping.rules: a RULE needs the form'),
    ({'sasl.enabled.mechanisms': 'GSSAPI'}, 'sasl.enabled.mechanisms: GSSAPI is not served'),
    ({'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'PlainLoginModule required user_a="b"'},
     "PLAIN sasl.jaas.config: missing ';' at the end of the entry"),
    ({'skiff.scram.users': 'SCRAM-SHA-256=[name=a,password=b,iterations=5]'},
     'skiff.scram.users: iterations must be from 4096 to 16384'),
])
def test_unusable_security_settings_stop_start_up(tmp_path, certs, extra, message):
    from harness import run_skiff
    ssl_keys = {} if 'ssl.keystore.location' in extra or not extra or 'ssl.keystore.type' in extra else {
        'ssl.keystore.location': str(certs / 'server.pem')}
    args = ['--listeners', 'SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0', '--log.dirs', str(tmp_path / 'd'),
            '--skiff.http.listeners', '']
    for k, v in {**ssl_keys, **extra}.items():
        args += [f'--{k}={v}']
    res = run_skiff(*args)
    assert res.returncode == 2, res.stderr
    assert message in res.stderr, res.stderr
