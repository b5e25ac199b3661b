"""Availability against hand-built status timelines: boundaries, overlaps, exclusions,
open intervals, offline time."""

from datetime import UTC, datetime, timedelta

import pytest

from chargestream.domain.availability import (
    Exclusion,
    Span,
    Totals,
    availability_report,
    merge,
    port_availability,
)
from chargestream.domain.records import StatusInterval

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PERIOD = Span(T0, T0 + timedelta(hours=10))


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def timeline(
    cp: str, connector: int, *steps: tuple[float, str], end: float | None = None
) -> list[StatusInterval]:
    """Consecutive intervals from (start hour, status) steps; the last is open unless ``end``."""
    intervals = []
    for index, (start, status) in enumerate(steps):
        stop = steps[index + 1][0] if index + 1 < len(steps) else end
        intervals.append(
            StatusInterval(cp, connector, at(start), status, end=None if stop is None else at(stop))
        )
    return intervals


def test_time_in_each_status_clipped_to_the_period_with_the_open_interval_to_its_end() -> None:
    intervals = timeline(
        "CP-1", 1, (-2, "Available"), (1, "Charging"), (3, "Faulted"), (4, "Available")
    )
    port = port_availability("CP-1", 1, intervals, PERIOD, [])
    assert port.seconds_by_status == {
        "Available": 7 * 3600,
        "Charging": 2 * 3600,
        "Faulted": 3600,
    }
    assert port.totals == Totals(10 * 3600, 3600, 0)
    assert port.totals.uptime_percent == 90.0


def test_offline_counts_as_down_and_time_before_the_first_status_is_not_observed() -> None:
    intervals = timeline("CP-1", 1, (5, "Available"), (6, "Offline"), (8, "Available"), end=9)
    port = port_availability("CP-1", 1, intervals, PERIOD, [])
    assert port.totals == Totals(4 * 3600, 2 * 3600, 0)
    assert port.totals.uptime_percent == 50.0


def test_exclusions_remove_only_down_time_they_overlap_and_count_overlaps_once() -> None:
    intervals = timeline("CP-1", 1, (0, "Available"), (2, "Unavailable"), (6, "Available"))
    windows = merge([Span(at(1), at(3)), Span(at(2.5), at(4)), Span(at(9), at(11))])
    assert windows == [Span(at(1), at(4)), Span(at(9), at(11))]
    port = port_availability("CP-1", 1, intervals, PERIOD, windows)
    assert port.totals == Totals(10 * 3600, 4 * 3600, 2 * 3600)  # 2 h of the 4 h down excluded
    assert port.totals.uptime_percent == 80.0


def test_nothing_observed_has_no_uptime() -> None:
    port = port_availability("CP-1", 1, timeline("CP-1", 1, (12, "Available")), PERIOD, [])
    assert port.totals.uptime_percent is None


def test_interval_ending_exactly_at_the_period_start_is_outside() -> None:
    intervals = timeline("CP-1", 1, (-3, "Faulted"), (0, "Available"))
    port = port_availability("CP-1", 1, intervals, PERIOD, [])
    assert port.seconds_by_status == {"Available": 10 * 3600}


def test_report_totals_per_charge_point_site_and_fleet_with_scoped_exclusions() -> None:
    intervals = [
        *timeline("CP-1", 0, (0, "Unavailable")),  # the charge point as a whole: not a port
        *timeline("CP-1", 1, (0, "Faulted"), (5, "Available")),
        *timeline("CP-1", 2, (0, "Available")),
        *timeline("CP-2", 1, (0, "Offline"), (1, "Available")),
        *timeline("CP-3", 1, (0, "Unavailable"), (2, "Available")),
    ]
    exclusions = [
        Exclusion(Span(at(0), at(1)), site_id="depot"),  # CP-1 and CP-2
        Exclusion(Span(at(1), at(2)), charge_point_id="CP-3"),
        Exclusion(Span(at(4), at(5))),  # the fleet
    ]
    site_of = {"CP-1": "depot", "CP-2": "depot"}
    report = availability_report(intervals, PERIOD, exclusions, site_of)
    assert [(p.charge_point_id, p.connector_id) for p in report.ports] == [
        ("CP-1", 1),
        ("CP-1", 2),
        ("CP-2", 1),
        ("CP-3", 1),
    ]
    hour = 3600
    assert report.charge_points["CP-1"] == Totals(20 * hour, 5 * hour, 2 * hour)
    assert report.charge_points["CP-2"] == Totals(10 * hour, hour, hour)
    assert report.charge_points["CP-3"] == Totals(10 * hour, 2 * hour, hour)
    assert report.sites == {"depot": Totals(30 * hour, 6 * hour, 3 * hour)}
    assert report.fleet == Totals(40 * hour, 8 * hour, 4 * hour)
    assert report.fleet.uptime_percent == 90.0
    assert report.charge_points["CP-1"].uptime_percent == pytest.approx(85.0)
