"""The rules of a charging profile (OCPP 1.6 SmartCharging), checked before it is stored or sent.

A profile and its assignment are checked as OCPP describes them, within bounds chosen here so
that no definition grows without limit (docs/operations.md, Charging profiles):

- periods: 1 to ``MAX_PERIODS``; the first starts at 0 and each later one starts later (and,
  with a duration, before its end); limits (and the minimum charging rate) from 0 to
  ``MAX_LIMIT`` in steps of 0.1 (the OCPP schema's); 1 to 3 phases;
- ``Recurring`` needs a recurrency kind and a start schedule, and lasts at most its
  recurrence (a day, a week); only ``Recurring`` has a recurrency kind;
- ``Relative`` has no start schedule (it starts with charging);
- valid from before valid to;
- a ``ChargePointMaxProfile`` goes on connector 0 only; a ``TxProfile`` only to a connector
  (not 0) with a transaction; other purposes take no transaction.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import asdict
from itertools import pairwise
from typing import Any

from chargestream.domain.records import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    SchedulePeriod,
)

MAX_PERIODS = 48
MAX_NAME = 100
MAX_STACK_LEVEL = 100
MAX_LIMIT = 1_000_000.0  # A or W: above any charge point
MAX_PROFILE_ID = 999_999_999  # ids above are the site load manager's
MAX_CONNECTOR_ID = 100
DAY = 86_400
RECURRENCE = {"Daily": DAY, "Weekly": 7 * DAY}
MAX_DURATION = 366 * DAY


class InvalidProfile(ValueError):
    """A profile or an assignment OCPP would refuse; the message lists every problem."""


def problems(profile: ChargingProfile) -> list[str]:
    """Every rule ``profile`` breaks (none: it can be stored)."""
    return [*_header_problems(profile), *_schedule_problems(profile), *_period_problems(profile)]


def check(profile: ChargingProfile) -> None:
    """InvalidProfile unless ``profile`` keeps every rule."""
    found = problems(profile)
    if found:
        raise InvalidProfile("; ".join(found))


def check_assignment(
    profile: ChargingProfile, connector_id: int, transaction_id: int | None
) -> None:
    """InvalidProfile unless ``profile`` may be installed on ``connector_id`` as asked."""
    found = []
    if not 0 <= connector_id <= MAX_CONNECTOR_ID:
        found.append(f"connector_id must be 0 to {MAX_CONNECTOR_ID}")
    purpose = profile.purpose
    if purpose is ChargingProfilePurpose.CHARGE_POINT_MAX and connector_id != 0:
        found.append("a ChargePointMaxProfile goes on connector 0 only")
    if purpose is ChargingProfilePurpose.TX:
        if transaction_id is None:
            found.append("a TxProfile needs a transaction_id")
        if connector_id == 0:
            found.append("a TxProfile needs a connector (not 0)")
    elif transaction_id is not None:
        found.append("only a TxProfile takes a transaction_id")
    if found:
        raise InvalidProfile("; ".join(found))


def in_tenths(value: float) -> bool:
    """A multiple of 0.1, as OCPP's schema wants limits and rates."""
    return abs(value * 10 - round(value * 10)) < 1e-6


def _header_problems(profile: ChargingProfile) -> list[str]:
    found = []
    if not profile.name.strip() or len(profile.name) > MAX_NAME:
        found.append(f"name must be 1 to {MAX_NAME} characters")
    if not 0 <= profile.stack_level <= MAX_STACK_LEVEL:
        found.append(f"stack_level must be 0 to {MAX_STACK_LEVEL}")
    if not 1 <= profile.profile_id <= MAX_PROFILE_ID:
        found.append(f"profile_id must be 1 to {MAX_PROFILE_ID}")
    valid_from, valid_to = profile.valid_from, profile.valid_to
    if valid_from is not None and valid_to is not None and valid_from >= valid_to:
        found.append("valid_from must be before valid_to")
    return found


def _schedule_problems(profile: ChargingProfile) -> list[str]:
    found = []
    kind, recurrency = profile.kind, profile.recurrency_kind
    if kind is ChargingProfileKind.RECURRING:
        if recurrency is None:
            found.append("a Recurring profile needs a recurrency_kind")
        if profile.start_schedule is None:
            found.append("a Recurring profile needs a start_schedule")
    elif recurrency is not None:
        found.append("only a Recurring profile has a recurrency_kind")
    if kind is ChargingProfileKind.RELATIVE and profile.start_schedule is not None:
        found.append("a Relative profile has no start_schedule")
    duration = profile.duration
    if duration is not None:
        longest = MAX_DURATION if recurrency is None else RECURRENCE[recurrency.value]
        if not 1 <= duration <= longest:
            found.append(f"duration must be 1 to {longest} seconds")
    rate = profile.min_charging_rate
    if rate is not None and not (0 <= rate <= MAX_LIMIT and in_tenths(rate)):
        found.append(f"min_charging_rate must be 0 to {MAX_LIMIT:g} in steps of 0.1")
    return found


def _period_problems(profile: ChargingProfile) -> list[str]:
    periods = profile.periods
    if not 1 <= len(periods) <= MAX_PERIODS:
        return [f"a schedule has 1 to {MAX_PERIODS} periods"]
    found = []
    if periods[0].start_period != 0:
        found.append("the first period starts at 0")
    starts = [period.start_period for period in periods]
    if any(later <= earlier for earlier, later in pairwise(starts)):
        found.append("each period starts after the one before")
    if profile.duration is not None and starts[-1] >= profile.duration:
        found.append("every period starts before the schedule's duration ends")
    if any(not 0 <= period.limit <= MAX_LIMIT for period in periods):
        found.append(f"limits must be 0 to {MAX_LIMIT:g}")
    if not all(in_tenths(period.limit) for period in periods):
        found.append("limits are multiples of 0.1")
    if any(p.number_phases is not None and not 1 <= p.number_phases <= 3 for p in periods):
        found.append("number_phases must be 1 to 3")
    return found


def periods_as_dicts(periods: tuple[SchedulePeriod, ...]) -> list[dict[str, Any]]:
    """The periods as plain data (how the stores keep them)."""
    return [asdict(period) for period in periods]


def periods_of(items: list[dict[str, Any]]) -> tuple[SchedulePeriod, ...]:
    return tuple(SchedulePeriod(**item) for item in items)
