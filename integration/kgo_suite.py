"""Runs franz-go's kgo package tests (a prebuilt `go test -c` binary) against
skiff and writes the results as JUnit XML for scripts/test.sh.

Each run gets a fresh skiff (integration/harness.py: its own port and data
directory) configured as the suite expects (KGO_SEEDS, KGO_TEST_RF=1,
KGO_TEST_RECORDS=50000). The runs: the consumer-group ETL tests
(TestGroupETL, TestTxnEtl) beside the tests that create and delete topics
around them (TestConsumeRegex, TestIssue523), `--etl-runs` times, then, with
`--whole`, the whole package once. Every top-level Go test is one test case;
a run that hangs or crashes is a failed case naming the tests that were
running; each run's broker must stop cleanly with no sanitizer report and no
ERROR line in its log. Tests that need what skiff lacks (share groups,
KIP-848, SASL) skip by themselves.

Usage: kgo_suite.py --skiff BIN --test-bin KGO_TEST --package-dir DIR --junit OUT
                    [--etl-runs N] [--whole | --etl]
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ETL_PATTERN = 'TestGroupETL|TestTxnEtl|TestConsumeRegex|TestIssue523'
RESULT = re.compile(r'^--- (PASS|FAIL|SKIP): (\S+) \(([\d.]+)s\)', re.M)
GO_TIMEOUT_S = {'etl': 120, 'whole': 420}


def running_tests(output):
    """The 'running tests:' block Go prints when -test.timeout fires."""
    m = re.search(r'running tests:\n((?:\t\t.*\n)+)', output)
    return ' '.join(line.strip() for line in m.group(1).splitlines()) if m else ''


def one_run(args, label, pattern, kind):
    """Runs the kgo binary once against a fresh skiff; returns test cases as
    (name, seconds, status, detail) with status 'pass', 'fail' or 'skip'."""
    cases = []
    with tempfile.TemporaryDirectory(prefix=f'kgo-{label}-') as tmp:
        broker = harness.Broker(tmp, 'skiff').start()
        argv = [args.test_bin, '-test.v', f'-test.timeout={GO_TIMEOUT_S[kind]}s']
        if pattern:
            argv.append(f'-test.run={pattern}')
        env = harness.broker_env({'KGO_SEEDS': broker.bootstrap, 'KGO_TEST_RF': '1',
                                  'KGO_TEST_RECORDS': '50000'})
        started = time.monotonic()
        try:
            res = subprocess.run(argv, cwd=args.package_dir, env=env, stdin=subprocess.DEVNULL,
                                 capture_output=True, text=True, errors='replace',
                                 timeout=GO_TIMEOUT_S[kind] + 60)
            output, rc = res.stdout + res.stderr, res.returncode
        except subprocess.TimeoutExpired as e:
            output = (e.stdout or b'').decode(errors='replace') if isinstance(e.stdout, bytes) else (e.stdout or '')
            rc = None
        took = time.monotonic() - started
        (Path(args.junit).parent / f'kgo-{label}.log').write_text(output)

        for status, name, secs in RESULT.findall(output):
            detail = ''
            if status == 'FAIL':
                # The failing test's own lines, for the report.
                detail = '\n'.join(line for line in output.splitlines() if name in line)[-4000:]
            cases.append((f'{label}::{name}', float(secs), status.lower(), detail))
        if rc != 0 and not any(c[2] == 'fail' for c in cases):
            still = running_tests(output)
            why = f'exit status {rc}' if rc is not None else 'killed after the outer timeout'
            cases.append((f'{label}::run', took, 'fail',
                          f'{why}; still running: {still or "?"}\n' + output[-4000:]))

        log_errors = []
        try:
            broker.finish()
        except harness.BrokerError as e:
            log_errors.append(str(e)[:4000])
        log_errors += [line for line in broker.log.splitlines() if ' ERROR ' in line][:20]
        cases.append((f'{label}::broker', 0.0, 'fail' if log_errors else 'pass', '\n'.join(log_errors)))
    summary = {s: sum(1 for c in cases if c[2] == s) for s in ('pass', 'fail', 'skip')}
    print(f'franz-go {label}: {summary["pass"]} passed, {summary["fail"]} failed, '
          f'{summary["skip"]} skipped in {took:.0f}s', flush=True)
    for name, _, status, detail in cases:
        if status == 'fail':
            print(f'  FAILED {name}: {detail.splitlines()[0] if detail else ""}', flush=True)
    return cases


def write_junit(path, cases):
    suite = ET.Element('testsuite', name='franz-go', tests=str(len(cases)))
    for name, secs, status, detail in cases:
        run, _, test = name.partition('::')
        tc = ET.SubElement(suite, 'testcase', classname=f'franz-go.{run}', name=test, time=f'{secs:.2f}')
        if status == 'fail':
            ET.SubElement(tc, 'failure', message=detail.splitlines()[0] if detail else 'failed').text = detail
        elif status == 'skip':
            ET.SubElement(tc, 'skipped')
    ET.ElementTree(suite).write(path, encoding='unicode', xml_declaration=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--skiff', required=True)
    ap.add_argument('--test-bin', required=True)
    ap.add_argument('--package-dir', required=True)
    ap.add_argument('--junit', required=True)
    ap.add_argument('--etl-runs', type=int, default=3)
    ap.add_argument('--whole', action='store_true')
    ap.add_argument('--etl', dest='whole', action='store_false')
    args = ap.parse_args()
    harness.SKIFF_BIN = args.skiff

    cases = []
    for i in range(1, args.etl_runs + 1):
        cases += one_run(args, f'etl{i}', ETL_PATTERN, 'etl')
    if args.whole:
        cases += one_run(args, 'whole', None, 'whole')
    write_junit(args.junit, cases)
    return 1 if any(c[2] == 'fail' for c in cases) else 0


if __name__ == '__main__':
    sys.exit(main())
