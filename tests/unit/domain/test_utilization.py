"""Utilization from hand-built sessions and status timelines."""

from datetime import UTC, datetime, timedelta

from chargestream.domain.availability import Span
from chargestream.domain.records import Session, StatusInterval
from chargestream.domain.utilization import Grouping, UtilizationRow, utilization

T0 = datetime(2026, 3, 1, 22, tzinfo=UTC)
PERIOD = Span(T0, T0 + timedelta(hours=4))  # 22:00 to 02:00 the next day


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


INTERVALS = [
    StatusInterval("CP-1", 1, at(-1), "Available", end=at(1.5)),
    StatusInterval("CP-1", 1, at(1.5), "Preparing", end=at(2)),
    StatusInterval("CP-1", 1, at(2), "Charging", end=at(3)),
    StatusInterval("CP-1", 1, at(3), "SuspendedEV"),  # open: to the period's end
    StatusInterval("CP-2", 1, at(0), "Charging", end=at(0.5)),
]
SESSIONS = [
    Session(1, "CP-1", 1, "TAG-A", at(1.5), energy_kwh=12.5),
    Session(2, "CP-2", 1, None, at(0), stop_time=at(0.5), energy_kwh=3.0),
    Session(3, "CP-2", 1, "TAG-A", at(-2), stop_time=at(-1), energy_kwh=9.0),  # before
]
SITES = {"CP-1": "depot"}


def rows(grouping: Grouping) -> list[UtilizationRow]:
    return utilization(SESSIONS, INTERVALS, PERIOD, grouping, SITES)


def test_by_hour_of_day_splits_at_hour_boundaries() -> None:
    assert rows(Grouping.HOUR_OF_DAY) == [
        UtilizationRow("00", 0, 0.0, 1.0, 0.0),
        UtilizationRow("01", 0, 0.0, 0.0, 1.0),
        UtilizationRow("22", 1, 3.0, 0.5, 0.0),
        UtilizationRow("23", 1, 12.5, 0.0, 0.5),  # sessions count where they start
    ]


def test_by_day() -> None:
    assert rows(Grouping.DAY) == [
        UtilizationRow("2026-03-01", 2, 15.5, 0.5, 0.5),
        UtilizationRow("2026-03-02", 0, 0.0, 1.0, 1.0),
    ]


def test_by_charge_point_and_site() -> None:
    assert rows(Grouping.CHARGE_POINT) == [
        UtilizationRow("CP-1", 1, 12.5, 1.0, 1.5),
        UtilizationRow("CP-2", 1, 3.0, 0.5, 0.0),
    ]
    assert rows(Grouping.SITE) == [UtilizationRow("depot", 1, 12.5, 1.0, 1.5)]


def test_by_id_tag_attributes_time_while_the_session_ran() -> None:
    assert rows(Grouping.ID_TAG) == [
        UtilizationRow("", 1, 3.0, 0.5, 0.0),
        UtilizationRow("TAG-A", 1, 12.5, 1.0, 1.5),
    ]
