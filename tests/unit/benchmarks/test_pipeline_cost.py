"""The pipeline benchmark's CPU per frame received (issue 14's measure) from a result row."""

from __future__ import annotations

from typing import Any

from benchmarks.measure import Sample
from benchmarks.pipeline import Timeline, cpu_per_frame, cpu_per_frame_table


def row(frames_in_per_s: float | None) -> dict[str, Any]:
    cpu = {"gateway": 40.0, "worker": 50.0, "api": 1.0, "kafka": 10.0, "cassandra": 19.0}
    components = {name: {"cpu_pct": pct, "rss_mb": 100} for name, pct in cpu.items()}
    components["simulator"] = {"cpu_pct": 30.0, "rss_mb": 90}
    return {
        "stations": 5000,
        "gateways": 1,
        "workers": 1,
        "quick": False,
        "rates": {"frames_in_per_s": frames_in_per_s},
        "components": components,
    }


def test_cost_per_frame_is_cpu_seconds_per_second_over_frames_per_second() -> None:
    costs = cpu_per_frame(row(1000.0))
    assert costs is not None
    assert costs["gateway"] == 0.4  # 40 % of a core = 0.4 s/s, over 1,000 frames/s
    assert costs["stack"] == 1.2  # gateway, worker, api, Kafka, Cassandra: not the simulator
    assert costs["simulator"] == 0.3


def test_a_run_without_frame_counts_has_no_cost_and_shows_a_dash() -> None:
    assert cpu_per_frame(row(None)) is None
    table = cpu_per_frame_table([row(None), row(1000.0)])
    assert table[2].endswith("| — | — | — | — | — | — | — |")
    assert "| 0.40 | 0.50 | 0.01 | 0.10 | 0.19 | 1.20 | 0.30 |" in table[3]


def test_a_timeline_row_holds_a_samples_shares_and_the_log_rate_between_rows() -> None:
    timeline = Timeline()
    assert timeline.log_rate() == 0.0
    sample = Sample(at=5.0, span=5.0, cpu={"gateway": 2.5}, rss={"gateway": 3 * 2**20}, machine=4)
    assert timeline.add_sample(sample, t=5.0, log_end=1000) == {"gateway": 50.0}
    assert timeline.log_rate() == 0.0
    timeline.add_sample(sample, t=10.0, log_end=5000)
    assert timeline.rows[-1] == {
        "t": 10.0,
        "log_end": 5000,
        "cpu_pct": {"gateway": 50.0},
        "rss_mb": {"gateway": 3},
    }
    assert timeline.log_rate() == 800.0
