"""Topics deleted right after they are created, and created again under the
same name: work the broker queued for a deleted partition (its
partition.metadata write, fsyncs) is dropped, never run against the removed
directory or against the directory of the new topic of the same name."""

import base64
import time

from kafka_wire import Connection, Reader, Writer

API_CREATE_TOPICS = 19
API_DELETE_TOPICS = 20


def create_v4(name, partitions):
    w = Writer().i32(1).string(name).i32(partitions).i16(1).i32(0).i32(0)
    return w.i32(30000).i8(0).bytes()


def delete_v3(name):
    return Writer().i32(1).string(name).i32(30000).bytes()


def results(r: Reader, with_message):
    """(name, error_code) of a CreateTopics v4 / DeleteTopics v3 response."""
    r.i32()  # throttle_time_ms
    out = []
    for _ in range(r.i32()):
        name, err = r.string(), r.i16()
        if with_message:
            r.string(nullable=True)
        out.append((name, err))
    r.done()
    return out


def test_topics_deleted_at_once_leave_no_queued_work(broker):
    names = ['churn' if i % 2 else f'churn-{i}' for i in range(30)]
    with Connection(broker.host, broker.port) as c:
        # Pipelined: each delete reaches the broker before the create's
        # background writes could have run.
        sent = []
        for name in names:
            sent.append((c.send(API_CREATE_TOPICS, 4, create_v4(name, 3)), API_CREATE_TOPICS, 4, name))
            sent.append((c.send(API_DELETE_TOPICS, 3, delete_v3(name)), API_DELETE_TOPICS, 3, name))
        for cid, api, version, name in sent:
            got = results(c.recv(api, version, cid), api == API_CREATE_TOPICS)
            assert got == [(name, 0)]

        assert results(c.request(API_CREATE_TOPICS, 4, create_v4('churn', 3)), True) == [('churn', 0)]
        md = c.metadata(12, ['churn'])
        topic_id = md['topics'][0]['topic_id']

    want = f'version: 0\ntopic_id: {uuid_text(topic_id)}'
    deadline = time.monotonic() + 10
    files = [broker.data_dir / f'churn-{p}' / 'partition.metadata' for p in range(3)]
    while not all(f.exists() for f in files) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [f.read_text() for f in files] == [want] * 3

    leftovers = sorted(d.name for d in broker.data_dir.iterdir()
                       if d.name.startswith('churn') and not d.name.endswith('-delete'))
    assert leftovers == ['churn-0', 'churn-1', 'churn-2']
    assert [line for line in broker.run_log.splitlines() if ' ERROR ' in line] == []


def uuid_text(b):
    """Kafka's text form of a topic id: URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(b).decode().rstrip('=')
