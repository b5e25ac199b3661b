"""Dividing a site's limit among its charging sessions: pure arithmetic, no I/O.

The rule (docs/operations.md, "Site load management"): every session gets an equal share,
never more than its connector can take; what a capped session leaves is shared by the
others; no session gets less than the site's minimum. When the minimums of all sessions
together exceed the limit, the newest sessions are paused (0) until the rest fit. Limits
are rounded down (0.1 A, 1 W), so the shares never add up to more than the limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from chargestream.domain.records import MeterValue, Site

AMPERE_STEP = 0.1  # OCPP limits carry one decimal
WATT_STEP = 1.0
POWER = "Power.Active.Import"


@dataclass(frozen=True, slots=True)
class SiteSession:
    """An open session at a site, with what its connector can take (None: unknown)."""

    charge_point_id: str
    connector_id: int
    transaction_id: int
    start_time: datetime | None
    max_current_a: float | None = None
    phases: int | None = None
    station_transaction_id: str | None = None  # OCPP 2.0.1: the station's own id


@dataclass(frozen=True, slots=True)
class Share:
    """The limit a session is given: ``limit_a`` per phase, ``limit_w`` in all."""

    session: SiteSession
    limit_a: float
    limit_w: float
    phases: int


def unit_of(site: Site) -> str:
    """The unit the site's limit is divided (and sent) in: "A" or "W"."""
    return "A" if site.max_current_a is not None else "W"


def allocate(site: Site, sessions: Sequence[SiteSession]) -> list[Share]:
    """Each session's share of the site's limit, in the order given."""
    amperes = unit_of(site) == "A"
    phases = [session.phases or site.phases for session in sessions]
    volts = [site.nominal_voltage * count for count in phases]  # W per A per phase
    if amperes:
        limit = float(site.max_current_a or 0)
        minimums = [site.min_current_a for _ in sessions]
        capacities = [session.max_current_a for session in sessions]
    else:
        limit = float(site.max_power_w or 0)
        minimums = [site.min_current_a * v for v in volts]
        capacities = [
            None if session.max_current_a is None else session.max_current_a * v
            for session, v in zip(sessions, volts, strict=True)
        ]
    oldest_first = sorted(range(len(sessions)), key=lambda i: _age_key(sessions[i]))
    values = divide(limit, minimums, capacities, oldest_first)
    step = AMPERE_STEP if amperes else WATT_STEP
    shares = []
    for i, session in enumerate(sessions):
        value = round_down(values[i], step)
        limit_a = value if amperes else round_down(value / volts[i], AMPERE_STEP)
        limit_w = round_down(value * volts[i], WATT_STEP) if amperes else value
        shares.append(Share(session, limit_a, limit_w, phases[i]))
    return shares


def divide(
    limit: float,
    minimums: Sequence[float],
    capacities: Sequence[float | None],
    oldest_first: Sequence[int],
) -> list[float]:
    """Water-filling: one level for all, each clamped to [minimum, capacity]; the sum is the
    limit unless every session is at its capacity. The newest sessions get 0 while the
    minimums do not fit (a capacity below the minimum is the minimum)."""
    floors = [
        minimum if capacity is None else min(minimum, capacity)
        for minimum, capacity in zip(minimums, capacities, strict=True)
    ]
    admitted = list(oldest_first)
    while admitted and sum(floors[i] for i in admitted) > limit:
        admitted.pop()  # the newest waits
    values = [0.0 for _ in minimums]
    level = _level(limit, [(floors[i], capacities[i]) for i in admitted])
    for i in admitted:
        capacity = capacities[i]
        values[i] = max(floors[i], level if capacity is None else min(level, capacity))
    return values


def _level(limit: float, bounds: Sequence[tuple[float, float | None]]) -> float:
    """The level at which the clamped values add up to ``limit`` (inf: all at capacity)."""

    def total(level: float) -> float:
        return sum(max(lo, level if hi is None else min(level, hi)) for lo, hi in bounds)

    points = sorted({lo for lo, _ in bounds} | {hi for _, hi in bounds if hi is not None})
    if not points:
        return math.inf
    below = points[0]  # total(below) = the floors' sum, which fits the limit
    if total(below) >= limit:
        return below
    for point in points[1:]:
        if total(point) >= limit:
            return below + (limit - total(below)) / _free(bounds, below, point)
        below = point
    unbounded = sum(1 for _, hi in bounds if hi is None)
    if unbounded == 0:
        return math.inf
    return below + (limit - total(below)) / unbounded


def _free(bounds: Sequence[tuple[float, float | None]], low: float, high: float) -> int:
    """How many values rise with the level between two adjacent breakpoints."""
    return sum(1 for lo, hi in bounds if lo <= low and (hi is None or hi >= high))


def round_down(value: float, step: float) -> float:
    if math.isinf(value):
        raise ValueError("no finite limit")
    return round(math.floor(value / step + 1e-9) * step, 6)


def _age_key(session: SiteSession) -> tuple[bool, datetime | None, int]:
    """Oldest first; a session whose start is unknown counts as the oldest."""
    return (session.start_time is not None, session.start_time, session.transaction_id)


def measured_power_w(values: Sequence[MeterValue]) -> float | None:
    """The latest active import power of a session in W: the total if the charge point sent
    one, else the sum of its phases; None without any."""
    power = [v for v in values if v.measurand == POWER and v.unit in _WATTS]
    if not power:
        return None
    latest = max(v.timestamp for v in power)
    now = [v for v in power if v.timestamp == latest]
    totals = [v for v in now if v.phase is None]
    return sum(v.value * _WATTS[v.unit] for v in (totals[-1:] or now))


_WATTS = {"W": 1.0, "kW": 1000.0}
