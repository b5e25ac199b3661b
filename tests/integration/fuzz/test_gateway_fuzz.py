"""The gateway under fuzz, bounded: a few thousand frames and handshakes against a real CSMS.

``benchmarks.fuzz`` starts ``chargestream run`` as its own process and drives it over real
WebSockets (the engine, the oracle and ``make fuzz``'s long run are described there and in
``benchmarks.fuzzcases``). Here the run is short: ``CHARGESTREAM_FUZZ_FRAMES`` frames
(default 4,000) over 4 connections, one of them lenient, with handshake cases between them;
it fails on any finding: a CALL without exactly one right answer, an answer to an answer, a
hang, a wrong close code, a handshake answered 5xx or hanging, a canary Heartbeat not
answered within 10 s, the processors no longer deriving, an ERROR or traceback in the
CSMS's log, a crash, or RSS growing more than 48 MB between the halves of the run.

The seed is fixed (``CHARGESTREAM_FUZZ_SEED`` sets another, "random" a fresh one), so the
suite is repeatable; a failure prints the seed and the ``--replay`` of each failing case.
Inputs behind open findings (``KNOWN_ISSUES``, none at present) are left out here: each
has a strict-xfail reproducer in test_findings.py, and ``make fuzz`` sends them all.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from benchmarks.fuzz import FuzzConfig, run_fuzz
from benchmarks.fuzzcases import KNOWN_ISSUES

FRAMES = int(os.environ.get("CHARGESTREAM_FUZZ_FRAMES", "4000"))


def _seed() -> int:
    chosen = os.environ.get("CHARGESTREAM_FUZZ_SEED", "20261127")
    return secrets.randbelow(2**32) if chosen == "random" else int(chosen)


async def test_gateway_answers_fuzzed_frames_and_handshakes_and_keeps_serving(
    tmp_path: Path,
) -> None:
    config = FuzzConfig(
        frames=FRAMES,
        seed=_seed(),
        workers=4,
        handshakes_per_frame=0.02,
        canary_deadline=10.0,
        answer_deadline=30.0,
        probe_every=2.0,
        derive_deadline=30.0,
        max_growth_mb=48.0,
        progress_every=0,
        avoid=frozenset(KNOWN_ISSUES),
    )
    report = await run_fuzz(config, tmp_path)
    summary = report.summary(config)
    print(summary)
    assert report.frames == FRAMES, summary
    assert report.handshakes == int(FRAMES * config.handshakes_per_frame), summary
    assert report.canary_latencies and report.probe_lags, summary  # both ran, and were served
    assert report.ok, summary
