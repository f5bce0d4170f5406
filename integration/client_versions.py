"""Which client library versions a test run must load.

scripts/test.sh runs the integration tests with Debian's clients, then the
tests marked `librdkafka` with librdkafka 2.15.1 (SKIFF_LIBRDKAFKA=recent,
LD_LIBRARY_PATH), then the tests marked `librdkafka` or `kafka_python` with
the newest PyPI wheels from integration/requirements-pypi.txt
(SKIFF_LIBRDKAFKA=pypi, SKIFF_KAFKA_PYTHON=pypi, scripts/pypi-clients.sh's
virtual environment). test_client_versions.py checks that each run loaded
what it names.
"""

import os

# SKIFF_LIBRDKAFKA: the librdkafka that confluent_kafka must load, and the one
# kcat is linked with in that run (kcat is always Debian's, so the PyPI wheel's
# bundled librdkafka is not its).
LIBRDKAFKA = os.environ.get('SKIFF_LIBRDKAFKA', 'debian')
LIBRDKAFKA_VERSIONS = {'debian': '2.0.2', 'recent': '2.15.1', 'pypi': '2.16.0'}
KCAT_LIBRDKAFKA_VERSIONS = {'debian': '2.0.2', 'recent': '2.15.1', 'pypi': '2.0.2'}

# SKIFF_KAFKA_PYTHON: the kafka-python that `import kafka` must load.
KAFKA_PYTHON = os.environ.get('SKIFF_KAFKA_PYTHON', 'debian')
KAFKA_PYTHON_VERSIONS = {'debian': '2.0.2', 'pypi': '3.0.12'}
