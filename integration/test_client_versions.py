"""Each client run loads the library versions it names (client_versions.py),
so a run that claims librdkafka 2.16 or kafka-python 3 really used them."""

import subprocess

import kafka
import pytest
from confluent_kafka import libversion

from client_versions import (KAFKA_PYTHON, KAFKA_PYTHON_VERSIONS, KCAT_LIBRDKAFKA_VERSIONS, LIBRDKAFKA,
                             LIBRDKAFKA_VERSIONS)


@pytest.mark.librdkafka
def test_librdkafka_is_the_requested_one():
    assert LIBRDKAFKA in LIBRDKAFKA_VERSIONS, f'SKIFF_LIBRDKAFKA={LIBRDKAFKA}: use one of {sorted(LIBRDKAFKA_VERSIONS)}'
    assert libversion()[0] == LIBRDKAFKA_VERSIONS[LIBRDKAFKA]
    out = subprocess.run(['kcat', '-V'], capture_output=True, text=True, timeout=10).stdout
    assert f'librdkafka {KCAT_LIBRDKAFKA_VERSIONS[LIBRDKAFKA]}' in out


@pytest.mark.kafka_python
def test_kafka_python_is_the_requested_one():
    assert KAFKA_PYTHON in KAFKA_PYTHON_VERSIONS, \
        f'SKIFF_KAFKA_PYTHON={KAFKA_PYTHON}: use one of {sorted(KAFKA_PYTHON_VERSIONS)}'
    assert kafka.__version__ == KAFKA_PYTHON_VERSIONS[KAFKA_PYTHON]
