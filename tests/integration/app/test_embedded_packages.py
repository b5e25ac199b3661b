"""`make run` installs only the embedded mode's packages: the code it runs must not need the
stack's (a fresh clone's `chargestream run` failed on a Kafka import once)."""

from __future__ import annotations

import subprocess
import sys

STACK_PACKAGES = ("confluent_kafka", "cassandra", "faust", "aiokafka")

PROBE = f"""
import sys
for name in {STACK_PACKAGES!r}:
    sys.modules[name] = None  # importing it raises ImportError
import chargestream.app.embedded
import chargestream.app.derivation_process
"""


def test_the_embedded_mode_imports_none_of_the_stacks_packages() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120
    )
    assert probe.returncode == 0, probe.stderr
