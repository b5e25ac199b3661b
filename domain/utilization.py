"""Utilization and energy over a period: sessions, kWh, hours charging and plugged-in idle.

Sessions count (with their energy) in the group of their start; charging and idle hours come
from the status timelines, split at hour boundaries (UTC) for the time groups and attributed
to a session's id tag while it ran on that port. Pure: the caller gives the period's end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chargestream.domain.availability import Span, clipped_intervals
from chargestream.domain.records import Session, StatusInterval

CHARGING_STATUSES = frozenset({"Charging"})
IDLE_STATUSES = frozenset(
    {"Preparing", "SuspendedEV", "SuspendedEVSE", "Finishing", "Occupied", "EVConnected"}
)
"""Plugged in but not charging (OCPP 1.6 and 2.0.1)."""

HOUR = timedelta(hours=1)
NO_GROUP = ""  # time on a port outside any session, in the id tag grouping


class Grouping(StrEnum):
    HOUR_OF_DAY = "hour_of_day"
    DAY = "day"
    CHARGE_POINT = "charge_point"
    SITE = "site"
    ID_TAG = "id_tag"


@dataclass(slots=True)
class UtilizationRow:
    group: str
    sessions: int = 0
    energy_kwh: float = 0.0
    charging_h: float = 0.0
    idle_h: float = 0.0


@dataclass(frozen=True, slots=True)
class _Piece:
    """Part of a status interval, with what it is grouped by."""

    charge_point_id: str
    connector_id: int
    span: Span
    charging: bool


def _split_hours(span: Span) -> Iterator[Span]:
    cursor = span.start
    while cursor < span.end:
        next_hour = cursor.replace(minute=0, second=0, microsecond=0) + HOUR
        yield Span(cursor, min(next_hour, span.end))
        cursor = next_hour


def _pieces(intervals: Iterable[StatusInterval], period: Span) -> Iterator[_Piece]:
    for interval, part in clipped_intervals(intervals, period):
        charging = interval.status in CHARGING_STATUSES
        if charging or interval.status in IDLE_STATUSES:
            yield _Piece(interval.charge_point_id, interval.connector_id, part, charging)


def _time_key(grouping: Grouping) -> Callable[[datetime], str]:
    if grouping is Grouping.HOUR_OF_DAY:
        return lambda at: f"{at.hour:02d}"
    return lambda at: at.date().isoformat()


def _session_span(session: Session, period: Span) -> Span | None:
    if session.start_time is None:
        return None
    return Span(session.start_time, session.stop_time or period.end).clip(period)


def utilization(
    sessions: Sequence[Session],
    intervals: Iterable[StatusInterval],
    period: Span,
    grouping: Grouping,
    site_of: Mapping[str, str],
) -> list[UtilizationRow]:
    """Rows by group, in group order (sessions that started inside the period)."""
    rows: dict[str, UtilizationRow] = {}

    def row(group: str) -> UtilizationRow:
        return rows.setdefault(group, UtilizationRow(group))

    def add_time(group: str, piece: _Piece, seconds: float) -> None:
        hours = seconds / 3600
        if piece.charging:
            row(group).charging_h += hours
        else:
            row(group).idle_h += hours

    started = [
        s
        for s in sessions
        if s.start_time is not None and period.start <= s.start_time < period.end
    ]
    group_of_session: Callable[[Session], str | None]
    if grouping in (Grouping.HOUR_OF_DAY, Grouping.DAY):
        key = _time_key(grouping)
        for piece in _pieces(intervals, period):
            for hour in _split_hours(piece.span):
                add_time(key(hour.start), piece, hour.seconds())
        group_of_session = lambda s: key(s.start_time) if s.start_time else None  # noqa: E731
    elif grouping is Grouping.ID_TAG:
        by_port: dict[tuple[str, int | None], list[Session]] = {}
        for session in sessions:
            by_port.setdefault((session.charge_point_id, session.connector_id), []).append(session)
        for piece in _pieces(intervals, period):
            rest = piece.span.seconds()
            for session in by_port.get((piece.charge_point_id, piece.connector_id), ()):
                ran = _session_span(session, period)
                part = ran.clip(piece.span) if ran is not None else None
                if part is not None:
                    add_time(session.id_tag or NO_GROUP, piece, part.seconds())
                    rest -= part.seconds()
            if rest > 1e-6:
                add_time(NO_GROUP, piece, rest)
        group_of_session = lambda s: s.id_tag or NO_GROUP  # noqa: E731
    else:
        by_site = grouping is Grouping.SITE

        def place(charge_point_id: str) -> str | None:
            return site_of.get(charge_point_id) if by_site else charge_point_id

        for piece in _pieces(intervals, period):
            if (group := place(piece.charge_point_id)) is not None:
                add_time(group, piece, piece.span.seconds())
        group_of_session = lambda s: place(s.charge_point_id)  # noqa: E731
    for session in started:
        if (group := group_of_session(session)) is not None:
            target = row(group)
            target.sessions += 1
            target.energy_kwh += session.energy_kwh or 0.0
    return [_rounded(rows[g]) for g in sorted(rows)]


def _rounded(row: UtilizationRow) -> UtilizationRow:
    return UtilizationRow(
        row.group,
        row.sessions,
        round(row.energy_kwh, 3),
        round(row.charging_h, 3),
        round(row.idle_h, 3),
    )
