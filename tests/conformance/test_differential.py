"""Differential conformance: every case of corpus.py, at every version skiff
advertises, sent to skiff and to Apache Kafka 4.4.0 (oracle.py); the decoded
answers must be equal after the allow-list of differential.py, except for the
differences documented in KNOWN below (each explained in
docs/compatibility.md). ApiVersions is compared key by key.

The report (per API and version: identical, documented or differs, with each
difference) is written to build/conformance/report.md.

Run: SKIFF_BIN=build/skiff python3 -m pytest tests/conformance -q
(scripts/kafka-oracle.sh resolves Kafka's jars with Maven on first use).
"""

import fnmatch
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'integration'))

import corpus  # noqa: E402
import kfs  # noqa: E402
from differential import Side, compare, normalize  # noqa: E402
from harness import Broker  # noqa: E402
from oracle import KafkaOracle  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REPORT = Path(os.environ.get('SKIFF_CONFORMANCE_REPORT', ROOT / 'build' / 'conformance' / 'report.md'))

# Documented differences: (case, version pattern, field path pattern) -> the
# entry of docs/compatibility.md ("Known differences") that explains it.
# Patterns are fnmatch patterns ('[[]' matches a literal '[').
MIN_INSYNC = 'min.insync.replicas is a cluster default on Kafka'
CG_EPOCHS = 'Consumer group epochs and when a new target is computed'
KNOWN = {
    ('describe-configs', '*', '*configs[[]name=min.insync.replicas]*'): MIN_INSYNC,
    ('create-topics', '*', '*configs[[]name=min.insync.replicas]*'): MIN_INSYNC,
    ('incremental-alter-configs', '*', 'bad-op.*.error_code'): 'unknown IncrementalAlterConfigs operation',
    ('incremental-alter-configs', '*', 'logger.*.error_code'): 'loggers other than root',
    ('api-versions', '*', '*features*'): 'feature flags',
    ('consumer-group-flow', '*', '*heartbeat_interval_ms'): 'group.consumer.heartbeat.interval.ms',
    ('consumer-group-flow', '*', '*member_epoch'): CG_EPOCHS,
    ('consumer-group-flow', '*', 'fenced-behind.error_code'): CG_EPOCHS,
    ('consumer-group-flow', '*', 'a-revokes.assignment'): CG_EPOCHS,
    ('consumer-group-flow', '*', 'b-gets.assignment'): CG_EPOCHS,
    ('consumer-group-describe', '*', '*epoch'): CG_EPOCHS,
}

RESULTS = []          # (api, case, version, verdict, [differences])


def known(case_name, version, path):
    for (c, vpat, ppat), why in KNOWN.items():
        if c == case_name and fnmatch.fnmatch(str(version), vpat) and fnmatch.fnmatch(path, ppat):
            return why
    return None


@pytest.fixture(scope='session')
def sides(tmp_path_factory):
    work = tmp_path_factory.mktemp('conformance')
    skiff = Broker(work, 'skiff', {'node.id': 1}).start()
    kafka = KafkaOracle(work).start()
    pair = (Side('skiff', skiff.host, skiff.port), Side('kafka', kafka.host, kafka.port))
    try:
        for side in pair:
            corpus.setup(side)
        yield pair
    finally:
        for side in pair:
            side.conn.close()
        kafka.stop()
        skiff.finish()
        write_report()


def params():
    apis = kfs.apis()
    out = []
    for name, api, versions, fn in corpus.CASES:
        lo, hi = apis[api].versions
        for v in versions if versions is not None else range(lo, hi + 1):
            out.append(pytest.param(name, api, v, fn, id=f'{name}-v{v}'))
    return out


@pytest.mark.parametrize('name,api,version,fn', params())
def test_case(sides, name, api, version, fn):
    skiff, kafka = sides
    served = kafka.state.setdefault('versions', kafka_versions(kafka))
    lo, hi = served.get(api, (None, None))
    if lo is None or not lo <= version <= hi:
        RESULTS.append((api, name, version, 'kafka does not serve this version', []))
        pytest.skip(f'Kafka 4.4 does not serve {kfs.apis()[api].name} v{version}')
    a = normalize(skiff, fn(skiff, version))
    b = normalize(kafka, fn(kafka, version))
    diffs = compare(a, b)
    hard = [d for d in diffs if not d[3] and not known(name, version, d[0])]
    documented = [d for d in diffs if not d[3] and known(name, version, d[0])]
    verdict = 'differs' if hard else 'documented' if documented else 'messages differ' if diffs else 'identical'
    RESULTS.append((api, name, version, verdict, diffs))
    assert not hard, '\n'.join(f'{p}: skiff {x!r} / kafka {y!r}' for p, x, y, _ in hard)


def kafka_versions(side):
    r = side.call(18, 3, {'client_software_name': 'skiff-conformance', 'client_software_version': '1'})
    return {k['api_key']: (k['min_version'], k['max_version']) for k in r['api_keys']}


def test_api_versions(sides):
    """skiff's range for each key it serves, against Kafka 4.4's: skiff may
    stop below Kafka's newest version (listed in the report and in
    docs/compatibility.md) but never advertise a version Kafka does not."""
    skiff, kafka = sides
    mine, theirs = kafka_versions(skiff), kafka_versions(kafka)
    rows, bad = [], []
    for key in sorted(set(mine) | set(theirs)):
        m, t = mine.get(key), theirs.get(key)
        name = kfs.apis()[key].name if key in kfs.apis() else f'key {key}'
        rows.append((key, name, m, t))
        if m and (not t or m[1] > t[1] or (m[0] < t[0] and key != 0)):
            bad.append(f'{name}: skiff {m}, kafka {t}')
    RESULTS.append((18, 'api-versions-ranges', '-', 'differs' if bad else 'identical', [
        (f'{n} ({k})', m, t, False) for k, n, m, t in rows if m != t]))
    assert not bad, bad


def write_report():
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    apis = kfs.apis()
    lines = ['# Differential report: skiff vs Apache Kafka 4.4.0', '',
             '| API | case | version | verdict |', '|---|---|---|---|']
    for api, name, version, verdict, _ in RESULTS:
        lines.append(f'| {apis[api].name if api in apis else api} ({api}) | {name} | {version} | {verdict} |')
    lines += ['', '## Differences', '']
    for api, name, version, verdict, diffs in RESULTS:
        if not diffs:
            continue
        lines.append(f'### {name} v{version} ({verdict})')
        for p, x, y, soft in diffs:
            why = known(name, version, p)
            tag = ' (message)' if soft else f' (documented: {why})' if why else ''
            lines.append(f'- `{p}`: skiff `{x!r}`, kafka `{y!r}`{tag}')
        lines.append('')
    REPORT.write_text('\n'.join(lines) + '\n')
