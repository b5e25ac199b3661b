"""Availability and utilization reports read from the store's derived views.

The API and the dashboard both read reports through here: the status intervals and sessions
of the period (bounded), the sites and the operator's exclusions, then the pure computation
(``domain/availability.py``, ``domain/utilization.py``) off the event loop. Everything read is
derived from the log or operator data, so a replay gives the same report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chargestream.domain.availability import (
    AvailabilityReport,
    Exclusion,
    Span,
    availability_report,
)
from chargestream.domain.records import AvailabilityExclusion, Session, StatusInterval
from chargestream.domain.utilization import Grouping, UtilizationRow, utilization
from chargestream.storage.base import Store
from chargestream.streams.progress import progress_of

MAX_PERIOD = timedelta(days=400)
MAX_CHARGE_POINTS = 5000  # charge points read for a fleet report
MAX_INTERVALS = 1_000_000  # status intervals read for one report
MAX_SESSIONS = 200_000  # sessions read for one utilization report
SESSION_PAGE = 1000
SESSION_LOOKBACK = timedelta(days=2)  # sessions begun before the period, for id tag time
READ_CONCURRENCY = 16
MICROSECOND = timedelta(microseconds=1)


class ReportRefused(ValueError):
    """The request cannot be answered within the bounds (the message says why)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which charge points a report covers: one, a site's, or the fleet (neither)."""

    charge_point_id: str | None = None
    site_id: str | None = None


@dataclass(frozen=True, slots=True)
class Availability:
    report: AvailabilityReport
    site_of: dict[str, str]
    exclusions: tuple[AvailabilityExclusion, ...]


def report_period(start: datetime, end: datetime, now: datetime) -> Span:
    """[start, min(end, now)); ReportRefused for an empty or too long period."""
    if end <= start:
        raise ReportRefused("'to' must be after 'from'")
    if end - start > MAX_PERIOD:
        raise ReportRefused(f"the period may be at most {MAX_PERIOD.days} days")
    return Span(start, max(start, min(end, now)))


async def _site_of(store: Store) -> dict[str, str]:
    return {cp: site.site_id for site in await store.list_sites() for cp in site.charge_points}


async def _charge_points(store: Store, scope: Scope, site_of: dict[str, str]) -> list[str]:
    if scope.charge_point_id is not None:
        return [scope.charge_point_id]
    if scope.site_id is not None:
        return sorted(cp for cp, site in site_of.items() if site == scope.site_id)
    return [
        state.charge_point_id for state in await store.list_charge_point_states(MAX_CHARGE_POINTS)
    ]


async def _intervals(
    store: Store, charge_points: Sequence[str], period: Span
) -> list[StatusInterval]:
    """The intervals of ``charge_points`` overlapping the period; ReportRefused past the bound."""
    gate = asyncio.Semaphore(READ_CONCURRENCY)

    async def history(charge_point_id: str) -> list[StatusInterval]:
        async with gate:
            return await store.status_history(charge_point_id, period.start, period.end)

    found: list[StatusInterval] = []
    for timeline in await asyncio.gather(*(history(cp) for cp in charge_points)):
        found.extend(timeline)
        if len(found) > MAX_INTERVALS:
            raise ReportRefused("too many status changes in the period: choose a shorter one")
    return found


def _exclusions(
    stored: Sequence[AvailabilityExclusion], period: Span
) -> tuple[AvailabilityExclusion, ...]:
    return tuple(e for e in stored if e.start < period.end and e.end > period.start)


async def read_availability(store: Store, period: Span, scope: Scope) -> Availability:
    site_of = await _site_of(store)
    charge_points = await _charge_points(store, scope, site_of)
    intervals = await _intervals(store, charge_points, period)
    stored = _exclusions(await store.list_exclusions(), period)
    windows = [Exclusion(Span(e.start, e.end), e.charge_point_id, e.site_id) for e in stored]
    report = await asyncio.to_thread(availability_report, intervals, period, windows, site_of)
    return Availability(report, site_of, stored)


def _session_time(session: Session) -> datetime | None:
    return session.start_time or session.stop_time


async def _sessions(store: Store, period: Span) -> list[Session]:
    """Sessions begun before the period's end, back to the lookback before its start.

    The store pages by time only, so equal times may straddle pages: each page starts again
    at the oldest time of the last one, and a page of nothing new (one group of equal times)
    is read again twice as long."""
    oldest_wanted = period.start - SESSION_LOOKBACK
    found: dict[int, Session] = {}
    size, before = SESSION_PAGE, period.end
    while True:
        page = await store.recent_sessions(size, before)
        new = [s for s in page if s.transaction_id not in found]
        found.update((s.transaction_id, s) for s in new)
        if len(found) > MAX_SESSIONS or size > MAX_SESSIONS:
            raise ReportRefused("too many sessions in the period: choose a shorter one")
        oldest = _session_time(page[-1]) if page else None
        if len(page) < size or oldest is None or oldest < oldest_wanted:
            return list(found.values())
        if new:
            before = oldest + MICROSECOND
        else:
            size *= 2


async def read_utilization(store: Store, period: Span, grouping: Grouping) -> list[UtilizationRow]:
    site_of = await _site_of(store)
    charge_points = await _charge_points(store, Scope(), site_of)
    intervals = await _intervals(store, charge_points, period)
    sessions = await _with_energy_so_far(store, await _sessions(store, period), period.end)
    return await asyncio.to_thread(utilization, sessions, intervals, period, grouping, site_of)


async def _with_energy_so_far(
    store: Store, sessions: list[Session], now: datetime
) -> list[Session]:
    """Running sessions with the energy they have charged so far (streams/progress.py)."""
    running = [s for s in sessions if s.active and s.energy_kwh is None]
    so_far = {tx: p.energy_kwh for tx, p in (await progress_of(store, running, now)).items()}
    return [
        replace(s, energy_kwh=so_far[s.transaction_id]) if s.transaction_id in so_far else s
        for s in sessions
    ]
