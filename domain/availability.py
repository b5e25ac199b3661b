"""Availability of charging ports over a period, computed from their status timelines.

Uptime follows the NEVI rule (23 CFR 680.116(b)): the share of the period a port was
operative, where outage time the operator documented as excluded (outages outside its
control, planned maintenance) is not held against it:

    uptime % = (T_period - (T_outage - T_excluded)) / T_period * 100

A port is up while its status says it can serve or is serving a vehicle, and down otherwise:
Unavailable, Faulted, and Offline (the charge point disconnected, until it connected again:
the derivation ends each Offline interval at the reconnection). Time before a port's first
known status is not counted (not commissioned yet). Connector 0 (OCPP 1.6's whole charge
point) is not a port. Pure: the caller gives ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from chargestream.domain.records import StatusInterval

UP_STATUSES = frozenset(
    {
        "Available",
        "Preparing",
        "Charging",
        "SuspendedEV",
        "SuspendedEVSE",
        "Finishing",
        "Reserved",
        "Occupied",
        "EVConnected",
    }
)
"""Statuses of a port that can serve or is serving a vehicle (OCPP 1.6 and 2.0.1)."""


class ExclusionKind(StrEnum):
    OUTAGE = "outage"  # outside the operator's control (grid failure, vandalism, disaster)
    MAINTENANCE = "maintenance"  # planned maintenance


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open time window [start, end)."""

    start: datetime
    end: datetime

    def seconds(self) -> float:
        return max(0.0, (self.end - self.start).total_seconds())

    def clip(self, other: Span) -> Span | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Span(start, end) if start < end else None


@dataclass(frozen=True, slots=True)
class Totals:
    """Observed, down and excluded down time (seconds), and the uptime they give."""

    observed_s: float = 0.0
    down_s: float = 0.0
    excluded_s: float = 0.0

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.observed_s + other.observed_s,
            self.down_s + other.down_s,
            self.excluded_s + other.excluded_s,
        )

    @property
    def uptime_percent(self) -> float | None:
        """NEVI uptime; None when nothing was observed."""
        if self.observed_s <= 0:
            return None
        counted_down = self.down_s - self.excluded_s
        return round((self.observed_s - counted_down) / self.observed_s * 100, 3)


@dataclass(frozen=True, slots=True)
class PortAvailability:
    """One port (connector; EVSE for OCPP 2.0.1) over the period."""

    charge_point_id: str
    connector_id: int
    seconds_by_status: Mapping[str, float]
    totals: Totals


@dataclass(frozen=True, slots=True)
class AvailabilityReport:
    period: Span
    ports: tuple[PortAvailability, ...]
    charge_points: Mapping[str, Totals]
    sites: Mapping[str, Totals]
    fleet: Totals = field(default_factory=Totals)


def is_up(status: str) -> bool:
    return status in UP_STATUSES


def merge(spans: Iterable[Span]) -> list[Span]:
    """The union of ``spans`` as disjoint spans, oldest first."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end))
        else:
            merged.append(span)
    return merged


def overlap_seconds(span: Span, windows: Sequence[Span]) -> float:
    """Seconds of ``span`` inside the (disjoint) ``windows``."""
    return sum(clipped.seconds() for w in windows if (clipped := span.clip(w)) is not None)


def clipped_intervals(
    intervals: Iterable[StatusInterval], period: Span
) -> Iterator[tuple[StatusInterval, Span]]:
    """Each interval with the part of it inside ``period`` (open ones last until its end)."""
    for interval in intervals:
        end = interval.end or period.end
        part = Span(interval.start, end).clip(period)
        if part is not None:
            yield interval, part


def port_availability(
    charge_point_id: str,
    connector_id: int,
    intervals: Iterable[StatusInterval],
    period: Span,
    exclusions: Sequence[Span],
) -> PortAvailability:
    """One port's time in each status, and its down time inside the (merged) exclusions."""
    by_status: dict[str, float] = {}
    observed = down = excluded = 0.0
    for interval, part in clipped_intervals(intervals, period):
        seconds = part.seconds()
        by_status[interval.status] = by_status.get(interval.status, 0.0) + seconds
        observed += seconds
        if not is_up(interval.status):
            down += seconds
            excluded += overlap_seconds(part, exclusions)
    return PortAvailability(
        charge_point_id, connector_id, by_status, Totals(observed, down, excluded)
    )


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A window excluded from outage time: of one charge point, of a site, or the fleet."""

    span: Span
    charge_point_id: str | None = None
    site_id: str | None = None

    def covers(self, charge_point_id: str, site_of: Mapping[str, str]) -> bool:
        if self.charge_point_id is not None:
            return self.charge_point_id == charge_point_id
        if self.site_id is not None:
            return site_of.get(charge_point_id) == self.site_id
        return True


def availability_report(
    intervals: Iterable[StatusInterval],
    period: Span,
    exclusions: Sequence[Exclusion],
    site_of: Mapping[str, str],
) -> AvailabilityReport:
    """Ports, charge points, sites (``site_of``: charge point -> site) and fleet totals."""
    by_port: dict[tuple[str, int], list[StatusInterval]] = {}
    for interval in intervals:
        if interval.connector_id > 0:
            by_port.setdefault((interval.charge_point_id, interval.connector_id), []).append(
                interval
            )
    ports: list[PortAvailability] = []
    charge_points: dict[str, Totals] = {}
    sites: dict[str, Totals] = {}
    fleet = Totals()
    for (cp, connector), timeline in sorted(by_port.items()):
        windows = merge(e.span for e in exclusions if e.covers(cp, site_of))
        port = port_availability(cp, connector, timeline, period, windows)
        ports.append(port)
        charge_points[cp] = charge_points.get(cp, Totals()) + port.totals
        if (site := site_of.get(cp)) is not None:
            sites[site] = sites.get(site, Totals()) + port.totals
        fleet += port.totals
    return AvailabilityReport(period, tuple(ports), charge_points, sites, fleet)
