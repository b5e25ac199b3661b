"""What the site controller sends: desired allocations against stored ones -> commands.

Pure (no I/O, no clock): ``desired`` turns a site's shares into allocations (one TxProfile
per session, a TxDefaultProfile of 0 per charge point), ``plan`` compares them with what
the charge points confirmed and orders the commands so the site's sum never overshoots:
every decrease first, then the increases, and no increase while a decrease cannot be
delivered (its charge point is not connected). Each command is in the form of its charge
point's OCPP version (``domain/profile_messages.py``): a 2.0.1 TxProfile names the station's
own transaction id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chargestream.domain.profile_messages import (
    ProfileTransaction,
    clear_charging_profile_in,
    set_charging_profile_in,
)
from chargestream.domain.protocols import OcppVersion
from chargestream.domain.records import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    SchedulePeriod,
    Site,
    SiteAllocation,
)
from chargestream.domain.site_limits import Share, unit_of

PROFILE_ID_BASE = 1_000_000_000  # + connector id; below this the profiles library's ids
STACK_LEVEL = 0
DEFAULT_LIMIT = 0.0  # a session starts paused until it is given its share

Key = tuple[str, int]  # (charge point, connector)


@dataclass(frozen=True, slots=True)
class Link:
    """What the registry shows of a charge point: connected, since when, in which version."""

    connected: bool
    connected_since: datetime | None = None
    ocpp_version: OcppVersion = OcppVersion.V16


@dataclass(frozen=True, slots=True)
class Step:
    """One command: ``allocation`` (stored as sent) or, for a clear, the row it ends."""

    allocation: SiteAllocation
    action: str
    payload: dict[str, Any]
    decrease: bool


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...] = ()  # decreases first
    forget: tuple[SiteAllocation, ...] = ()  # rows of ended sessions: nothing to send
    held: int = 0  # increases not sent while a decrease cannot be delivered


def desired(site: Site, shares: Sequence[Share], now: datetime) -> list[SiteAllocation]:
    """The TxDefaultProfile of each charge point of the site and each session's TxProfile."""
    unit = unit_of(site)
    defaults = [
        SiteAllocation(site.site_id, cp, 0, DEFAULT_LIMIT, DEFAULT_LIMIT, unit, site.phases, now)
        for cp in site.charge_points
    ]
    sessions = [
        SiteAllocation(
            site.site_id,
            share.session.charge_point_id,
            share.session.connector_id,
            share.limit_a,
            share.limit_w,
            unit,
            share.phases,
            now,
            transaction_id=share.session.transaction_id,
        )
        for share in shares
    ]
    return defaults + sessions


def plan(
    wanted: Iterable[SiteAllocation],
    stored: Iterable[SiteAllocation],
    members: Iterable[str],
    links: Mapping[str, Link],
    station_ids: Mapping[int, str] | None = None,
) -> Plan:
    """The commands that bring the stored (confirmed) allocations to the wanted ones.

    ``stored`` are the rows of this site; ``members`` the charge points in it now (a row of
    a charge point that left gets its profiles cleared); ``station_ids`` the station's own
    transaction ids of OCPP 2.0.1 sessions, by session id.
    """
    messages = _Messages(links, station_ids or {})
    before = {_key(row): row for row in stored}
    wanted_by_key = {_key(row): row for row in wanted}
    decreases: list[Step] = []
    increases: list[Step] = []
    forget: list[SiteAllocation] = []
    for key, row in wanted_by_key.items():
        current = before.get(key)
        if _holds(row, current, links.get(row.charge_point_id)):
            continue
        if row.limit < _confirmed_limit(row, current, before):
            decreases.append(messages.set(row, decrease=True))
        else:
            increases.append(messages.set(row, decrease=False))
    staying = set(members)
    for key, row in before.items():
        if key in wanted_by_key:
            continue
        if row.charge_point_id in staying:
            forget.append(row)  # its session ended, and its TxProfile with it
        else:
            increases.append(messages.clear(row))
    undeliverable = any(not _connected(links, step) for step in decreases)
    sendable = [step for step in decreases if _connected(links, step)]
    if undeliverable:
        return Plan(tuple(sendable), tuple(forget), held=len(increases))
    sendable += [step for step in increases if _connected(links, step)]
    return Plan(tuple(sendable), tuple(forget))


def _key(row: SiteAllocation) -> Key:
    return (row.charge_point_id, row.connector_id)


def _connected(links: Mapping[str, Link], step: Step) -> bool:
    link = links.get(step.allocation.charge_point_id)
    return link is not None and link.connected


def _holds(row: SiteAllocation, current: SiteAllocation | None, link: Link | None) -> bool:
    """Whether the charge point confirmed this very limit since it last connected."""
    if current is None or not current.confirmed:
        return False
    same = (current.transaction_id, current.unit, current.limit) == (
        row.transaction_id,
        row.unit,
        row.limit,
    )
    reconnected = (
        link is not None
        and link.connected_since is not None
        and current.answered_at is not None
        and link.connected_since > current.answered_at
    )
    return same and not reconnected


def _confirmed_limit(
    row: SiteAllocation, current: SiteAllocation | None, before: Mapping[Key, SiteAllocation]
) -> float:
    """What the connector may draw now: its confirmed profile of the same transaction, else
    (a session not yet given its share) the charge point's confirmed default; without a
    confirmed default, unlimited."""
    if current is not None and current.confirmed and current.transaction_id == row.transaction_id:
        return current.limit
    if row.transaction_id is not None:
        default = before.get((row.charge_point_id, 0))
        if default is not None and default.confirmed:
            return default.limit
    return float("inf")


@dataclass(frozen=True, slots=True)
class _Messages:
    """The site's commands in each charge point's version."""

    links: Mapping[str, Link]
    station_ids: Mapping[int, str]

    def version(self, row: SiteAllocation) -> OcppVersion:
        link = self.links.get(row.charge_point_id)
        return OcppVersion.V16 if link is None else link.ocpp_version

    def set(self, row: SiteAllocation, *, decrease: bool) -> Step:
        """One period from the start: a session's TxProfile, else the TxDefaultProfile."""
        tx = row.transaction_id
        profile = ChargingProfile(
            profile_id=PROFILE_ID_BASE + row.connector_id,
            name=f"site {row.site_id}",
            stack_level=STACK_LEVEL,
            purpose=ChargingProfilePurpose.TX_DEFAULT if tx is None else ChargingProfilePurpose.TX,
            kind=ChargingProfileKind.RELATIVE,
            unit=ChargingRateUnit(row.unit),
            periods=(SchedulePeriod(0, row.limit, row.phases),),
            created_at=row.decided_at,
        )
        transaction = None if tx is None else ProfileTransaction(tx, self.station_ids.get(tx))
        payload = set_charging_profile_in(self.version(row), profile, row.connector_id, transaction)
        return Step(row, "SetChargingProfile", payload, decrease)

    def clear(self, row: SiteAllocation) -> Step:
        payload = clear_charging_profile_in(self.version(row), PROFILE_ID_BASE + row.connector_id)
        return Step(row, "ClearChargingProfile", payload, decrease=False)
