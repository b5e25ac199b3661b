"""The pure parts of the fault study: scenario selection, recovery from samples, verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import pipeline
from benchmarks.faults import (
    AFTER_RECOVERY,
    IDLE_SECONDS,
    QUICK,
    SCENARIOS,
    SESSION_MINUTES,
    _notable,
    fault_window_end,
    latency_between,
    load_plan,
    markdown,
    probe_windows,
    recovery,
    select,
    storm_summary,
    storm_verdict,
    verdict,
)
from benchmarks.storm import ProbeResult, StormResult
from chargestream.simulator.stats import Histogram


def test_select_defaults_to_every_scenario() -> None:
    assert select(None) == list(SCENARIOS)
    assert select("") == list(SCENARIOS)


def test_select_keeps_the_canonical_order_and_drops_repeats() -> None:
    assert select("reconnect-storm, kafka-stop,kafka-stop") == ["kafka-stop", "reconnect-storm"]


def test_select_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="kafka-kill"):
        select("kafka-kill,worker-kill")


def sample(t: float, log_end: int | None, committed: int | None, connected: int = 10) -> dict:
    return {"t": t, "log_end": log_end, "committed": committed, "sim_connected": connected}


def outage() -> list[dict[str, Any]]:
    """Lag about 50 before a fault at 20 s; Kafka silent until 40 s; caught up at 55 s."""
    return [
        sample(5, 100, 60),
        sample(10, 200, 150),
        sample(15, 300, 260),
        sample(20, 320, 300),
        sample(25, None, None, connected=6),
        sample(35, None, None, connected=0),
        sample(41, 320, 300, connected=4),
        sample(45, 400, 300, connected=10),
        sample(50, 500, 350),
        sample(55, 560, 500),
        sample(60, 660, 620),
    ]


def test_recovery_finds_each_milestone_after_the_restore() -> None:
    result = recovery(outage(), fault=20, restored=40, stations=10)
    assert result["lag_limit"] == 100  # twice the largest lag before the fault (50)
    assert result["logging_s"] == 25  # 45 s: the log grew again
    assert result["consuming_s"] == 30  # 50 s: the group committed again
    assert result["recovered_s"] == 35  # 55 s: all connected, lag 60 <= 100


def test_recovery_requires_every_charge_point_back() -> None:
    samples = [*outage()[:-2], sample(55, 560, 500, connected=9), sample(60, 660, 620, 9)]
    assert recovery(samples, fault=20, restored=40, stations=10)["recovered_s"] is None


def test_no_recovery_without_a_restore() -> None:
    result = recovery(outage(), fault=20, restored=None, stations=10)
    assert result["recovered_s"] is None and result["consuming_s"] is None


def histogram(*millis: float) -> Histogram:
    h = Histogram()
    for value in millis:
        h.add(int(value * 1000))
    return h


def test_latency_between_counts_only_the_answers_in_the_window() -> None:
    first = histogram(1, 1)
    second = histogram(1, 1, 100, 200)
    third = histogram(1, 1, 100, 200, 5)
    window = latency_between([(10, first), (20, second), (30, third)], start=12, end=20)
    assert window["calls"] == 2
    assert 90 < window["p50"] < 110
    assert 190 < window["max"] < 210
    assert latency_between([(10, first)], start=12, end=20) == {}


def test_the_fault_window_runs_past_the_recovery() -> None:
    assert fault_window_end(fault=20, recovered=15, last=300) == 35 + AFTER_RECOVERY
    assert fault_window_end(fault=20, recovered=15, last=50) == 50  # the load ended first
    assert fault_window_end(fault=20, recovered=None, last=300) == 300
    assert f"fault→recovery+{AFTER_RECOVERY:.0f} s" in markdown({"runs": []})


def test_the_fault_fleet_has_short_sessions(tmp_path: Path) -> None:
    plan = load_plan("worker-kill", QUICK)
    fleet = pipeline.fleet_config(plan, "ws://127.0.0.1:1/ocpp", tmp_path / "ledger.jsonl")
    assert (fleet.session_minutes, fleet.idle_seconds) == (SESSION_MINUTES, IDLE_SECONDS)
    assert (SESSION_MINUTES, IDLE_SECONDS) != (pipeline.SESSION_MINUTES, pipeline.IDLE_SECONDS)


def result_row(**sessions: int) -> dict[str, Any]:
    counts = dict.fromkeys(("lost", "doubled", "mismatched", "unlisted", "extra", "open"), 0)
    return {
        "crashes": [],
        "recovery": {"recovered_s": 12.0},
        "simulator": {"sessions_started": 10, "sessions_completed": 9},
        "reconciliation": {
            "sessions": counts | sessions,
            "store": {"frames_missing": 0, "rows_extra": 0},
        },
    }


def test_verdict_holds_when_everything_reconciles() -> None:
    assert verdict(result_row()) == {"holds": True, "reasons": []}


def test_verdict_names_every_failure() -> None:
    row = result_row(lost=2, doubled=1)
    row["crashes"] = [{"process": "worker-1", "returncode": 1, "t": 50.0}]
    row["recovery"]["recovered_s"] = None
    reasons = verdict(row)["reasons"]
    assert reasons == [
        "worker-1 exited (1) at 50.0 s",
        "did not recover while the load ran",
        "2 sessions lost",
        "1 sessions doubled",
    ]


def test_open_sessions_count_only_beyond_those_the_simulator_left_open() -> None:
    assert verdict(result_row(open=1))["holds"]
    assert verdict(result_row(open=2))["reasons"] == ["2 sessions open (1 unfinished)"]


def test_verdict_without_reconciliation() -> None:
    row = result_row()
    row["reconciliation"] = None
    assert verdict(row)["reasons"] == ["lag not drained: nothing reconciled"]


def test_storm_summary_and_verdict() -> None:
    storm = StormResult(booted=[1.0, 2.0, 70.0], ready=[1.1, 2.1, 70.5], attempts=5)
    summary = storm_summary(storm, registered=3)
    assert summary["all_booted_s"] == 70.0
    assert summary["not_registered"] == 0
    row = {"stations": 3, "registered_before": 3, "storm": summary}
    assert storm_verdict(row)["reasons"] == ["all registered again after 70.0 s > 60"]
    missing = storm_summary(StormResult(booted=[1.0], ready=[1.0]), registered=3)
    assert missing["all_booted_s"] is None
    assert storm_verdict({**row, "storm": missing})["reasons"] == ["2 not registered again"]


def test_probe_windows_split_at_the_storm() -> None:
    probe = ProbeResult(calls=[(99.0, 0.010), (100.5, 0.500), (103.0, 0.020)])
    windows = probe_windows(probe, at=100.0, all_back=2.0)
    assert windows["before"]["max"] == 10.0
    assert windows["during"]["max"] == 500.0
    assert windows["after"]["max"] == 20.0


@pytest.mark.parametrize(
    ("line", "event"),
    [
        ('{"level":"error","event":"frame_not_stored","cp":"CP-1"}', "frame_not_stored"),
        ('{"level":"info","event":"connected"}', None),
        (
            "[2026-11-27 16:59:21,166] [1] [ERROR] Unable connect to node 1: refused",
            "Unable connect to node 1",
        ),
        ("%3|1795798761.786|FAIL|rdkafka#consumer-2| [thrd:main]: refused", "librdkafka FAIL"),
        ("%6|1795798761.786|FAIL|rdkafka#consumer-2| [thrd:main]: closed", None),
        ("Traceback (most recent call last):", "traceback"),
    ],
)
def test_notable_log_lines(line: str, event: str | None) -> None:
    assert _notable(line) == event
