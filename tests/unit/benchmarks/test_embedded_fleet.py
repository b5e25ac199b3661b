"""The embedded fleet benchmark's pure parts: the verdict, CPU per frame, merging, tables."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson

from benchmarks import embedded_fleet
from benchmarks.pipeline import SESSION_COUNTS, SIMULATOR_ERRORS, merge


def row(stations: int = 10_000, **changes: Any) -> dict[str, Any]:
    """A result row as embedded_fleet.run_plan returns it, for a run that holds."""
    result: dict[str, Any] = {
        "stations": stations,
        "meter_interval": 10.0,
        "quick": False,
        "v201_percent": 0,
        "derivation": "process",
        "rates": {"frames_in_per_s": 1900.0, "log_events_per_s": 1900.0},
        "call_latency_ms": {"p50": 3.0, "p99": 30.0, "p99.9": 60.0, "max": 90.0},
        "lag": {
            "max_events_hold": 3800,
            "max_events_run": 4000,
            "end_of_hold_events": 1900,  # 1 s of input
            "max_seconds_hold": 2.0,
            "drain_s": 1.0,
        },
        "components": {
            "csms": {"cpu_pct": 95.0, "rss_mb": 600},
            "gateway": {"cpu_pct": 45.0, "rss_mb": 400},
            "derivation": {"cpu_pct": 50.0, "rss_mb": 200},
            "simulator": {"cpu_pct": 40.0, "rss_mb": 300},
            "benchmark": {"cpu_pct": 1.0, "rss_mb": 50},
            "machine": {"cpu_pct": 140.0, "rss_mb": 0},
            "other": {"cpu_pct": 4.0, "rss_mb": 0},
        },
        "simulator": dict.fromkeys(SIMULATOR_ERRORS, 0),
        "sessions": {"ledger": 5000, "open": 0} | dict.fromkeys(SESSION_COUNTS, 0),
        "csms_ms_cpu_per_frame": 0.5,
        "gateway_gc_pct_of_cpu": 2.0,
        "load_average": {"start": [1.5, 1.2, 1.0], "end": [1.8, 1.4, 1.1]},
        "io_stalled_pct": 3.0,
    }
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target = result
        for name in parents:
            target = target[name]
        target[leaf] = value
    return result


def test_a_run_within_the_target_holds() -> None:
    assert embedded_fleet.verdict(row()) == {"holds": True, "reasons": []}


def test_call_p99_at_or_over_50_ms_fails() -> None:
    found = embedded_fleet.verdict(row(call_latency_ms__p99=50.0))
    assert found["reasons"] == ["CALL→CALLRESULT p99 50.0 ms ≥ 50"]
    assert not embedded_fleet.verdict(row(call_latency_ms__p99=None))["holds"]


def test_lag_is_bounded_by_ten_seconds_of_input_at_the_end_of_the_hold() -> None:
    assert embedded_fleet.verdict(row(lag__end_of_hold_events=19_000))["holds"]
    found = embedded_fleet.verdict(row(lag__end_of_hold_events=19_001 + 1900))
    assert found["reasons"] == ["lag at the end of the hold 11 s of input"]


def test_an_undrained_log_or_a_lost_session_or_a_simulator_error_fails() -> None:
    undrained = embedded_fleet.verdict(row(sessions=None))
    assert undrained["reasons"] == ["lag not drained, nothing reconciled"]
    lost = embedded_fleet.verdict(row(sessions__lost=2, sessions__doubled=1))
    assert lost["reasons"] == ["sessions lost 2, doubled 1"]
    errors = embedded_fleet.verdict(row(simulator__timeouts=1))
    assert errors["reasons"] == ["simulator errors"]


def test_cpu_per_frame_is_cpu_seconds_per_second_over_frames_per_second() -> None:
    assert embedded_fleet.cpu_ms_per_frame(row()) == 0.5  # 95 % of a core over 1,900 frames/s
    assert embedded_fleet.cpu_ms_per_frame(row(), "simulator") == 0.211
    assert embedded_fleet.cpu_ms_per_frame(row(rates__frames_in_per_s=None)) is None


def test_a_new_run_replaces_the_stored_run_of_the_same_configuration(tmp_path: Path) -> None:
    output = tmp_path / "embedded.json"
    older = [row(2000), row(10_000, call_latency_ms__p99=80.0), row(10_000, quick=True)]
    output.write_bytes(orjson.dumps({"runs": older}))
    report = merge(output, [row(10_000)], {"cpus": 2}, embedded_fleet.configuration)
    assert [(r["stations"], r["quick"]) for r in report["runs"]] == [
        (2000, False),
        (10_000, False),
        (10_000, True),
    ]
    assert report["runs"][1]["call_latency_ms"]["p99"] == 30.0
    assert report["machine"] == {"cpus": 2}


def test_markdown_has_a_row_per_run_in_each_table() -> None:
    failing = copy.deepcopy(row(5000, sessions=None, csms_ms_cpu_per_frame=None))
    del failing["io_stalled_pct"]  # a run from before it was measured
    for key in ("derivation", "gateway_gc_pct_of_cpu"):  # and before ADR 0015: one process
        del failing[key]
    del failing["components"]["gateway"], failing["components"]["derivation"]
    failing["csms_gc_pct_of_cpu"] = 2.0
    failing["verdict"] = {"holds": False, "reasons": ["lag not drained, nothing reconciled"]}
    holding = row(10_000) | {"verdict": {"holds": True, "reasons": []}}
    lines = embedded_fleet.markdown({"runs": [failing, holding]}).splitlines()
    assert "| 10,000 | 1,900 | 1,900 | 3.0 / 30 / 60 | 3,800 (2.0 s) | 1,900 | 1 s | yes |" in lines
    assert "| 10,000 | 95 (45 + 50) | 0.50 | 2 | 400 | 40 | 140 | 1.8 | 3 |" in lines
    assert "| 10,000 | 5,000 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |" in lines
    assert "| 5,000 (inline) | 95 (95 + 0) | — | 2 | 600 | 40 | 140 | 1.8 | — |" in lines
    assert "| 5,000 (inline) | — | — | — | — | — | — | — | 0 |" in lines
