"""pytest fixtures for the skiff integration tests.

`start_broker(**config)` starts a real skiff (SKIFF_BIN, default
<repo>/build/skiff) on an ephemeral 127.0.0.1 port with a fresh data
directory and returns a harness.Broker (host, port, bootstrap, data_dir, log,
stop(sig), restart()). Config keys are Kafka's, given as keyword arguments with
dots spelled as underscores (num_partitions=3) or as a dict (config={...});
`args`, `env`, `data_dir` and `config_file` (a dict written as JSON and passed
with --config) are also accepted. `broker` is one broker with the defaults.

At the end of each test every broker still running gets SIGTERM and must exit
with status 0, none may have died on its own, and no log may carry a sanitizer
report. When a test fails, the brokers' logs are attached to its report.
"""

import json
import sys

import pytest

from harness import Broker, BrokerError


def pytest_collection_modifyitems(items):
    """Marks `kafka_python` every test of a module that imports kafka-python,
    so the PyPI client run (scripts/test.sh) picks them up."""
    kafka = sys.modules.get('kafka')
    for item in items:
        module = getattr(item, 'module', None)
        if kafka is not None and module is not None and any(
                v is kafka or getattr(v, '__module__', '').split('.')[0] == 'kafka' for v in vars(module).values()):
            item.add_marker(pytest.mark.kafka_python)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for b in getattr(item, 'skiff_brokers', []):
            rep.sections.append((f'skiff log ({b.name}, {b.log_path})', b.log_tail()))


@pytest.fixture
def start_broker(request, tmp_path):
    brokers = []
    request.node.skiff_brokers = brokers

    def start(*, config=None, args=(), env=None, data_dir=None, config_file=None, **kw):
        cfg = {k.replace('_', '.'): v for k, v in kw.items()}
        cfg.update(config or {})
        name = f'skiff{len(brokers)}'
        args = list(args)
        if config_file is not None:
            path = tmp_path / f'{name}.json'
            path.write_text(json.dumps(config_file, indent=2))
            args = ['--config', str(path)] + args
        b = Broker(tmp_path, name, cfg, args, env, data_dir)
        brokers.append(b)
        return b.start()

    yield start

    errors = []
    for b in brokers:
        try:
            b.finish()
        except BrokerError as e:
            errors.append(f'{b.name}: {e}')
    if errors:
        pytest.fail('\n\n'.join(errors), pytrace=False)


@pytest.fixture
def broker(start_broker):
    return start_broker()
