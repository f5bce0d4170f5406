"""The web console in a real browser: integration/console/console.test.js
drives Debian's chromium through playwright-core against a real skiff (see
that file for the steps) and saves a screenshot of each page under
build/console-screenshots/ (test artifacts; docs/images/ holds copies)."""

import os
import shutil
import subprocess

import pytest

from harness import REPO

CHROMIUM = os.environ.get('SKIFF_CHROMIUM', '/usr/bin/chromium')
SCRIPT = REPO / 'integration' / 'console' / 'console.test.js'


@pytest.mark.timeout(420)
def test_console_in_chromium(start_broker):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f'{CHROMIUM} is missing: install Debian\'s chromium (scripts/install-deps.sh)')
    assert (REPO / 'integration' / 'console' / 'node_modules' / 'playwright-core').is_dir(), \
        'run npm ci in integration/console (scripts/test.sh does)'
    assert (REPO / 'integration' / 'js' / 'node_modules' / 'kafkajs').is_dir(), \
        'run npm ci in integration/js (scripts/test.sh does): the test consumes with kafkajs'
    assert shutil.which('node'), 'node is missing (scripts/install-deps.sh)'
    broker = start_broker()
    out = REPO / 'build' / 'console-screenshots'
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SKIFF_HTTP=broker.http_url, SKIFF_BOOTSTRAP=broker.bootstrap, OUT=str(out),
               CHROMIUM=CHROMIUM)
    res = subprocess.run(['node', str(SCRIPT)], cwd=SCRIPT.parent, env=env, capture_output=True, text=True,
                         timeout=400)
    print(res.stdout)  # steps, timings and axe-core's findings (pytest -s, or the report of a failure)
    assert res.returncode == 0, res.stdout + res.stderr
    assert 'console test passed' in res.stdout
    for name in ('overview', 'topics', 'topic', 'messages', 'group', 'group-reset', 'groups', 'transactions', 'faults'):
        assert (out / f'{name}.png').stat().st_size > 0
