"""pytest set-up for the differential conformance tests (test_differential.py):
the modules of integration/ (kfs, kafka_wire, harness) are importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'integration'))
