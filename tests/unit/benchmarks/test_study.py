"""The scale study's pure parts: the climb, the service levels, the tables and the plots."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import orjson
import pytest

from benchmarks import pipeline, plots, study

ROLES = ("gateway", "worker", "api", "kafka", "cassandra", "simulator")


def row(stations: int, **changes: Any) -> dict[str, Any]:
    """A result row as pipeline.run_plan returns it, for a step that holds."""
    result: dict[str, Any] = {
        "stations": stations,
        "gateways": 1,
        "workers": 1,
        "quick": True,
        "connected": {"min": stations, "max": stations},
        "rates": {"frames_in_per_s": stations * 0.18, "log_events_per_s": stations * 0.36},
        "call_latency_ms": {"p50": 7.0, "p99": 20.0, "p99.9": 40.0, "max": 60.0},
        "calls_in_hold": stations * 8,
        "gateway_call_ms": {"p50_le": 5.0, "p99_le": 20.0, "over_50ms": 1, "answers": 8 * stations},
        "lag": {
            "max_events_hold": 100,
            "max_events_run": 120,
            "end_of_hold_events": round(stations * 0.36 * 2),  # 2 s of input
            "max_seconds_hold": 3.0,
            "drain_s": 2.0,
        },
        "components": {name: {"cpu_pct": 10.0, "rss_mb": 100} for name in ROLES}
        | {"machine": {"cpu_pct": 70.0, "rss_mb": 0}, "other": {"cpu_pct": 0.0, "rss_mb": 0}},
        "simulator": {
            "connect_failures": 0,
            "disconnects": 0,
            "call_errors": 0,
            "timeouts": 0,
            "protocol_errors": 0,
            "errors": 0,
            "calls_answered": stations * 10,
        },
        "reconciliation": {
            "sessions": dict.fromkeys(
                ("lost", "doubled", "mismatched", "extra", "unlisted", "open"), 0
            )
            | {"ledger": stations * 2},
            "store": {
                "frames": 100,
                "rows_expected": 800,
                "rows_found": 800,
                "frames_missing": 0,
                "rows_extra": 0,
                "meter_delay_ms": {"p50": 50.0, "p99": 150.0, "max": 300.0},
            },
            "acknowledged": {
                "answered": stations * 10,
                "in_kafka": stations * 10,
                "events": stations * 10,
                "missing": 0,
            },
        },
    }
    for path, value in changes.items():
        target = result
        *parents, last = path.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    result["verdict"] = study.study_verdict(result)
    return result


def report(steps: list[dict[str, Any]], scale_out: list[dict[str, Any]] | None = None) -> dict:
    return {
        "date": "2026-11-27T12:00:00+00:00",
        "mode": "quick",
        "machine": {"nproc": 2, "ram_gb": 23.5, "commit": "abc1234"},
        "service_levels": study.levels_dict(study.LEVELS),
        "steps": steps,
        "scale_out": scale_out or [],
    }


# -- the climb


def test_climb_stops_after_the_first_step_that_breaks() -> None:
    ran: list[int] = []

    def run(stations: int) -> dict[str, Any]:
        ran.append(stations)
        return row(stations, call_latency_ms__p99=80.0) if stations == 160 else row(stations)

    rows = list(study.climb(study.ALL_STEPS, run))
    assert ran == [10, 20, 40, 80, 160]
    assert [r["verdict"]["holds"] for r in rows] == [True] * 4 + [False]
    assert study.highest_held(rows) == 80


def test_climb_through_runs_every_step_and_still_reports_the_highest_held() -> None:
    def run(stations: int) -> dict[str, Any]:
        return row(stations, call_latency_ms__p99=80.0) if stations == 40 else row(stations)

    rows = list(study.climb((10, 40, 160), run, through=True))
    assert [r["stations"] for r in rows] == [10, 40, 160]
    assert study.highest_held(rows) == 160


def test_climb_runs_every_step_that_holds() -> None:
    rows = list(study.climb((10, 40), row))
    assert study.highest_held(rows) == 40
    assert study.highest_held([row(10, call_latency_ms__p99=90.0)]) is None


def test_modes_and_overrides() -> None:
    quick = study._mode(study.parse_args([]))
    assert quick.name == "quick" and quick.steps == (10, 40, 160, 1_000)
    full = study._mode(study.parse_args(["--full"]))
    assert full.steps == study.ALL_STEPS
    assert (full.hold_for(160), full.hold_for(1_000)) == (300, 600)
    custom = study._mode(study.parse_args(["--full", "--steps", "10,20", "--hold", "30"]))
    assert custom.steps == (10, 20) and custom.hold_for(20_000) == 30
    plan = study.step_plan(full, 5_000, gateways=2, workers=2)
    assert (plan.ramp_up, plan.hold, plan.gateways, plan.quick) == (5_000 / 150, 600, 2, False)
    assert (plan.session_minutes, plan.idle_seconds) == (
        pipeline.SESSION_MINUTES,
        pipeline.IDLE_SECONDS,
    )
    with pytest.raises(SystemExit):
        study.parse_args(["--quick", "--full"])


def test_scale_out_size() -> None:
    rows = [row(10), row(40), row(160, call_latency_ms__p99=60.0)]
    assert study.scale_out_size(study.QUICK, rows) == 1_000
    assert study.scale_out_size(study.FULL, rows) == 40
    assert study.scale_out_size(study.FULL, rows[2:]) is None
    no_scale_out = study._mode(study.parse_args(["--scale-out", "0"]))
    assert study.scale_out_size(no_scale_out, rows) == 0


def test_durations() -> None:
    assert 8 * 60 < study.estimate_s(study.QUICK) < 15 * 60
    assert 1.5 * 3600 < study.estimate_s(study.FULL) < 2.5 * 3600  # if every step holds


# -- service levels


def test_a_clean_step_holds() -> None:
    assert row(1_000)["verdict"] == {"holds": True, "reasons": []}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"call_latency_ms__p99": 50.0}, "CALL→CALLRESULT p99 50.0 ms ≥ 50"),
        ({"call_latency_ms__p99": None}, "CALL→CALLRESULT p99 None ms ≥ 50"),
        (
            {"reconciliation__store__meter_delay_ms__p99": 1_000.0},
            "receive→Cassandra p99 1000.0 ms ≥ 1000",
        ),
        ({"lag__end_of_hold_events": 3_960}, "lag at the end of the hold 11 s of input"),
        ({"reconciliation": None}, "lag not drained, nothing reconciled"),
        ({"simulator__disconnects": 1}, "simulator errors"),
        ({"reconciliation__sessions__open": 3}, "sessions open 3"),
        ({"reconciliation__sessions__lost": 1}, "sessions lost 1"),
        ({"reconciliation__store__frames_missing": 1}, "meter value rows missing or extra"),
        (
            {"reconciliation__acknowledged__missing": 2},
            "2 acknowledged CALLs not in Kafka",
        ),
    ],
)
def test_each_service_level_can_break_a_step(changes: dict[str, Any], reason: str) -> None:
    verdict = row(1_000, **changes)["verdict"]
    assert verdict == {"holds": False, "reasons": [reason]}


def test_stack_cpu_target_at_160() -> None:
    # gateway, worker, api, kafka, cassandra at 10 % of one core each: 50 % of 200 %
    assert study.cpu_check([row(10), row(160)], cores=2) == {
        "stations": 160,
        "max_pct_of_machine": 25.0,
        "stack_pct_of_machine": 25.0,
        "met": False,
    }
    light = row(160, components__cassandra={"cpu_pct": 9.0, "rss_mb": 100})
    assert study.cpu_check([light], cores=2)["met"] is True
    assert study.cpu_check([row(10)], cores=2)["met"] is None


def test_gateway_call_histogram_between_two_scrapes() -> None:
    before = {0.005: 10.0, 0.01: 10.0, 0.05: 10.0, 0.1: 10.0, math.inf: 10.0}
    after = {0.005: 60.0, 0.01: 100.0, 0.05: 107.0, 0.1: 109.0, math.inf: 110.0}
    assert pipeline.bucket_quantiles(before, after) == {
        "p50_le": 5.0,
        "p99_le": 100.0,
        "over_50ms": 3,
        "answers": 100,
    }
    restarted = dict.fromkeys(after, 1.0)
    assert pipeline.bucket_quantiles(after, restarted) is None
    assert pipeline.bucket_quantiles(None, after) is None


# -- tables and figures


def test_sima_table_puts_the_papers_numbers_beside_ours() -> None:
    text = study.sima_table(report([row(10), row(160)]))
    lines = text.splitlines()
    assert lines[2].startswith("| 10 | 17 / 96 | 12 / 94 | 14 / 96 | 25.0 | 500 (2 %) | 1.8 |")
    assert lines[3] == "| 20 | 17 / 95 | 13 / 94 | 15 / 96 | not run | — | — |"
    assert lines[6].startswith("| 160 | 30 / 96 | 22 / 95 | 26 / 95 | 25.0 |")
    assert "figures 9 (CPU) and 10 (memory)" in text


def test_markdown_reports_the_climb_scale_out_and_failures() -> None:
    broken = row(1_000, reconciliation__store__meter_delay_ms__p99=2_000.0)
    failed = study.failed_row(study.step_plan(study.QUICK, 5_000), RuntimeError("boom"))
    scaled = row(160, gateways=2, workers=2)
    text = study.markdown(report([row(10), row(160), broken, failed], [row(160), scaled]))
    assert "highest step held **160 charge points**" in text
    assert "Stopped at 1,000: receive→Cassandra p99 2000.0 ms ≥ 1000." in text
    assert "stack used 25.0 % of the machine (target under 25 %): NOT met" in text
    assert "| CALL→CALLRESULT p99 (hold) | < 50 ms |" in text
    assert "| 5,000 |" + " — |" * 9 + " no: RuntimeError('boom') |" in text
    assert "| 7.0 / 20 / 40 | 20 (1) |" in text  # CALL latency, in the simulator and gateway
    assert "| 160 charge points | 1 gateway(s) / 1 worker(s) | 2 gateway(s) / 2 worker(s) |" in text
    assert "| 1,600 / 1,600 |" in text  # CALLs answered / in Kafka


def test_plots_render_from_the_json(tmp_path: Path) -> None:
    steps = [row(n) for n in (10, 40, 160)] + [row(1_000, call_latency_ms__p99=70.0)]
    data = report(steps, [row(160), row(160, gateways=2, workers=2)])
    data["cpu_target"] = study.cpu_check(steps, 2)
    paths = plots.render(orjson.loads(orjson.dumps(data)), tmp_path)
    assert sorted(p.name for p in paths) == sorted(plots.FILES.values())
    for path in paths:
        assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 5_000


def test_plot_only_rerenders_figures_and_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = report([row(10), row(40, call_latency_ms__p99=55.0)])
    (tmp_path / "study.json").write_bytes(orjson.dumps(copy.deepcopy(data)))
    assert study.main(["--plot-only", "--output-dir", str(tmp_path)]) == 0
    saved = orjson.loads((tmp_path / "study.json").read_bytes())
    assert saved["highest_held"] == 10
    assert saved["stopped_at"]["stations"] == 40
    assert "highest step held **10 charge points**" in (tmp_path / "study.md").read_text()
    assert "no step held" in study.markdown(report([row(10, call_latency_ms__p99=55.0)]))
    assert (tmp_path / "study.md").read_text() == capsys.readouterr().out
    assert (tmp_path / "study-latency.png").exists()
