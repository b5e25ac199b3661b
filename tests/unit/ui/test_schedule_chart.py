"""The composite schedule's step chart data (ui/charts.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargestream.ui.charts import schedule_chart, schedule_frame

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_periods_become_steps_closed_at_the_schedules_end() -> None:
    frame = schedule_frame(
        [{"startPeriod": 0, "limit": 16}, {"startPeriod": 600, "limit": 8.5}], START, 3600
    )
    assert frame["time"].tolist() == [
        START,
        START + timedelta(seconds=600),
        START + timedelta(hours=1),
    ]
    assert frame["limit"].tolist() == [16.0, 8.5, 8.5]
    assert schedule_chart(frame, "A").to_dict()["mark"]["interpolate"] == "step-after"


def test_malformed_periods_are_skipped_and_no_duration_adds_no_end() -> None:
    frame = schedule_frame(
        [
            {"startPeriod": "0", "limit": 1},
            {"startPeriod": 0, "limit": None},
            {"startPeriod": 5, "limit": 2},
        ],
        START,
        None,
    )
    assert frame["limit"].tolist() == [2.0]
    assert schedule_frame([], START, 60).empty
