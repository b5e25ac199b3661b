"""Reading reports from a SQLite store: sessions paged across equal start times, bounds."""

from datetime import UTC, datetime, timedelta

import pytest

from chargestream.domain.availability import Span
from chargestream.domain.records import MeterValue, Session
from chargestream.domain.utilization import Grouping
from chargestream.storage.sqlite import SqliteStore
from chargestream.streams import reports
from chargestream.streams.reports import ReportRefused, read_utilization, report_period

T0 = datetime(2026, 3, 1, tzinfo=UTC)


async def test_sessions_straddling_pages_with_equal_start_times_are_all_counted(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports, "SESSION_PAGE", 4)
    starts = [T0 + timedelta(minutes=m) for m in (1, 2, 3, 3, 3, 3, 3, 4, 5, 6)]
    await store.upsert(
        [Session(i, "CP-1", 1, "TAG", start, energy_kwh=1.0) for i, start in enumerate(starts, 1)]
    )
    period = Span(T0, T0 + timedelta(hours=1))
    [row] = await read_utilization(store, period, Grouping.CHARGE_POINT)
    assert (row.group, row.sessions, row.energy_kwh) == ("CP-1", 10, 10.0)


def test_periods_are_bounded_and_end_at_now() -> None:
    now = T0 + timedelta(days=1)
    assert report_period(T0, T0 + timedelta(days=5), now) == Span(T0, now)
    with pytest.raises(ReportRefused, match="400 days"):
        report_period(T0, T0 + timedelta(days=401), now)
    with pytest.raises(ReportRefused, match="after"):
        report_period(T0, T0, now)


async def test_a_running_session_counts_the_energy_it_has_charged_so_far(
    store: SqliteStore,
) -> None:
    running = Session(1, "CP-1", 1, "TAG", T0 + timedelta(minutes=1), meter_start=1000)
    register = "Energy.Active.Import.Register"
    await store.upsert(
        [
            running,
            MeterValue("CP-1", 1, T0 + timedelta(minutes=5), register, 2500.0, "Wh", 1),
            MeterValue("CP-1", 1, T0 + timedelta(minutes=9), register, 4000.0, "Wh", 1),
        ]
    )
    period = Span(T0, T0 + timedelta(hours=1))
    [row] = await read_utilization(store, period, Grouping.CHARGE_POINT)
    assert (row.sessions, row.energy_kwh) == (1, 3.0)
